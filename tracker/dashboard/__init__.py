"""Dashboards: completion per pillar, objective, action and institution, built on the status engine."""
