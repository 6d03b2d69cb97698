"""Budget-item compliance: each institution's annual budget item for its NAP activities (Peru's budget clause)."""
