"""Administration: users, institutions, audit log."""
