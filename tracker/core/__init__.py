"""Pages that belong to no feature: home, health check, language switcher."""
