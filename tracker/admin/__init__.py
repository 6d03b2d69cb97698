"""Administration: users, institutions, audit log."""

from flask import Blueprint

bp = Blueprint("admin", __name__, url_prefix="/admin")

from tracker.admin import views  # noqa: E402,F401
