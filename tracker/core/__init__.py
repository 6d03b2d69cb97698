"""Pages that belong to no feature: home, health check, language switcher."""

from flask import Blueprint

bp = Blueprint("core", __name__)

from tracker.core import views  # noqa: E402,F401
