"""The plan: country, institutions, pillars, objectives, actions, indicators and targets."""

from flask import Blueprint

bp = Blueprint("plan", __name__, url_prefix="/plans")

from tracker.plan import views  # noqa: E402,F401
