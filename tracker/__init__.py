"""NAP Tracker: monitoring of National Action Plans on Women, Peace and Security."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config: type | None = None) -> Flask:
    """Build the application; `config` defaults to the class named by TRACKER_ENV."""
    from config import INSTANCE_PATH, config_from_env

    from tracker import errors, i18n, logs, permissions, review, security, urls
    from tracker.auth import login as auth_login
    from tracker.db import db
    from tracker.extensions import bootstrap, csrf, limiter

    config = config or config_from_env()
    config.validate()
    app = Flask(
        __name__,
        template_folder=str(PROJECT_ROOT / "templates"),
        instance_path=str(INSTANCE_PATH),
    )
    app.config.from_object(config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    urls.init_app(app)
    db.init_app(app)
    csrf.init_app(app)
    bootstrap.init_app(app)
    limiter.init_app(app)
    auth_login.init_app(app)
    logs.init_app(app)  # first: every request has its id, even one the login gate redirects
    permissions.init_app(app)
    review.init_app(app)
    i18n.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    _register_blueprints(app)
    _register_cli(app)
    return app


def _register_blueprints(app: Flask) -> None:
    from tracker.admin.views import bp as admin_bp
    from tracker.api.token_views import bp as tokens_bp
    from tracker.api.views import bp as api_bp
    from tracker.auth.views import bp as auth_bp
    from tracker.budget.views import bp as budget_bp
    from tracker.core.views import bp as core_bp
    from tracker.dashboard.views import bp as dashboard_bp
    from tracker.plan.decision_views import bp as plan_decisions_bp
    from tracker.plan.edit_views import bp as plan_edit_bp
    from tracker.plan.import_views import bp as plan_import_bp
    from tracker.plan.views import bp as plan_bp
    from tracker.progress.views import bp as progress_bp
    from tracker.public.views import bp as public_bp
    from tracker.reports.views import bp as reports_bp
    from tracker.review.views import bp as review_bp
    from tracker.tasks.views import bp as tasks_bp

    for blueprint in (core_bp, auth_bp, dashboard_bp, plan_bp, plan_edit_bp, plan_decisions_bp, plan_import_bp,
                      progress_bp, review_bp, budget_bp, reports_bp, admin_bp, tasks_bp, api_bp,
                      tokens_bp, public_bp):
        app.register_blueprint(blueprint)


def _register_cli(app: Flask) -> None:
    from tracker.cli import register

    register(app)
