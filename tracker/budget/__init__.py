"""Budget-item compliance: each bound institution's annual budget item for its NAP activities (the plan's budget
clause), classified by the plan's budget profile (tracker.budget.profiles)."""
