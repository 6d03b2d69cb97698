"""Login, logout, own account and password."""
