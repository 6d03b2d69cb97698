"""The plan: country, institutions, pillars, objectives, actions, indicators and targets."""
