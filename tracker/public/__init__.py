"""The public transparency page of a plan (`/public/<code>`): no login, turned on by the plan's committee.

Approved data only, never demo data, from the dashboard's read model; people counts below the plan's threshold are
suppressed (tracker.opendata); no names, narratives or evidence. Its open data (national figures) downloads beside it.
"""
