"""THE policy: every decision about who may see or do what is a predicate here.

Views use `require(...)` and the load-or-403 helpers, templates call the same predicates
(exposed as `perms`), CLI commands call them too. No role checks anywhere else.
"""

from __future__ import annotations

from functools import wraps
from typing import Any, Callable

from flask import Flask, abort, current_app, redirect, request, url_for
from flask_login import current_user

from tracker.auth.models import Role
from tracker.security import is_static_file

# Reachable without logging in.
PUBLIC_ENDPOINTS = frozenset({"static", "bootstrap.static", "core.health", "auth.login", "auth.login_code",
                              "core.set_language"})
# Reachable while a password change is pending.
PASSWORD_CHANGE_ENDPOINTS = PUBLIC_ENDPOINTS | {"auth.change_password", "auth.logout"}
# Reachable while a role that requires a second factor has none yet (REQUIRE_2FA_ROLES).
TWO_FACTOR_ENROLMENT_ENDPOINTS = PUBLIC_ENDPOINTS | {"auth.two_factor_setup", "auth.logout"}


def _is(user: Any, *roles: Role) -> bool:
    return bool(user is not None and getattr(user, "is_authenticated", False) and user.role in roles)


def is_logged_in(user: Any) -> bool:
    """Any active, logged-in account."""
    return bool(user is not None and getattr(user, "is_authenticated", False))


def must_use_second_factor(user: Any) -> bool:
    """Roles named in TRACKER_REQUIRE_2FA_ROLES log in with a code too, and cannot turn it off."""
    return is_logged_in(user) and user.role.value in current_app.config["REQUIRE_2FA_ROLES"]


def must_enrol_second_factor(user: Any) -> bool:
    """A required second factor not set up yet: enrolment comes before anything else."""
    return must_use_second_factor(user) and not user.two_factor_enabled


def can_view_plan(user: Any, plan: Any = None) -> bool:
    """Plans are not confidential inside the tracker: every logged-in user reads them."""
    return is_logged_in(user)


def can_view_dashboard(user: Any) -> bool:
    """Dashboards show approved data only: every logged-in user may see them."""
    return is_logged_in(user)


def can_manage_users(user: Any) -> bool:
    """Admins create, edit, deactivate accounts and reset passwords."""
    return _is(user, Role.admin)


def can_manage_institutions(user: Any) -> bool:
    """Admins keep the institutions list."""
    return _is(user, Role.admin)


def can_view_audit_log(user: Any) -> bool:
    """Admins browse the audit log."""
    return _is(user, Role.admin)


def can_review(user: Any, item: Any = None) -> bool:
    """The Gender Equality Committee reviews every institution's entries."""
    return _is(user, Role.committee)


def can_edit_for_institution(user: Any, institution_id: int | None) -> bool:
    """Reporters enter data only for their own institution."""
    return _is(user, Role.reporter) and institution_id is not None and user.institution_id == institution_id


def can_see_drafts_of(user: Any, institution_id: int | None) -> bool:
    """Drafts are seen by their institution's reporters and the committee; everyone else sees approved data."""
    return can_review(user) or can_edit_for_institution(user, institution_id)


def can_report(user: Any) -> bool:
    """Reporters (with an institution) fill in their institution's entries."""
    return _is(user, Role.reporter) and user.institution_id is not None


def can_report_or_review(user: Any) -> bool:
    """Worklists are for reporters (their institution) and the committee (any institution)."""
    return can_report(user) or can_review(user)


def can_manage_cycles(user: Any) -> bool:
    """The committee opens, closes and reopens reporting cycles."""
    return _is(user, Role.committee)


def can_view_cycles(user: Any) -> bool:
    """Everyone who reports or reviews sees the reporting calendar."""
    return can_report_or_review(user)


def can_view_entry(user: Any, entry: Any) -> bool:
    """Drafts and pending entries stay within their institution and the committee; approved ones are for all."""
    return entry.state.value == "approved" and is_logged_in(user) or can_see_drafts_of(user, entry.institution_id)


def can_edit_entry(user: Any, entry: Any) -> bool:
    """An institution's reporter edits its draft or returned entries while the cycle is open."""
    return (
        can_edit_for_institution(user, entry.institution_id)
        and entry.state.value in ("draft", "returned")
        and entry.cycle.is_open
    )


def can_submit_entry(user: Any, entry: Any) -> bool:
    """Whoever may edit an entry may submit it."""
    return can_edit_entry(user, entry)


def can_withdraw_entry(user: Any, entry: Any) -> bool:
    """The institution's reporter takes back a submission before review, while the cycle is open."""
    return can_edit_for_institution(user, entry.institution_id) and entry.state.value == "submitted" and entry.cycle.is_open


def can_review_entry(user: Any, entry: Any) -> bool:
    """The committee approves or returns submitted entries."""
    return can_review(user) and entry.state.value == "submitted"


def can_reopen_entry(user: Any, entry: Any) -> bool:
    """The committee unlocks an approved entry (with a reason)."""
    return can_review(user) and entry.state.value == "approved"


def can_download_reports(user: Any) -> bool:
    """The committee, viewers and admins download annual reports (approved data) in any format, for any year."""
    return _is(user, Role.committee, Role.viewer, Role.admin)


def can_include_pending_in_reports(user: Any) -> bool:
    """Only the committee, who sees submitted entries, may download a provisional report that counts them."""
    return _is(user, Role.committee)


def can_validate_reports(user: Any) -> bool:
    """The committee records its validation of a year's report (date, minutes, recommendations)."""
    return _is(user, Role.committee)


def can_finalize_reports(user: Any) -> bool:
    """The committee marks a year's report final, which stores its files for good."""
    return _is(user, Role.committee)


def plan_or_404(code: str):
    """The plan with this code (plans are readable by every logged-in user), or 404."""
    from tracker.db import db
    from tracker.plan import services

    try:
        return services.get_plan(db.session, code)
    except services.NotFound:
        abort(404)


def cycle_or_404(plan, year: int):
    """The plan's reporting cycle for the year, or 404."""
    from tracker.db import db
    from tracker.progress.services import get_cycle

    cycle = get_cycle(db.session, plan, year)
    if cycle is None:
        abort(404)
    return cycle


def require(predicate: Callable[[Any], bool]) -> Callable:
    """View decorator: 403 unless predicate(current_user) holds."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not predicate(current_user):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_predicate = predicate  # type: ignore[attr-defined]
        return wrapped

    return decorator


def _gate():
    """Before every request: log in first, change a temporary password, then set up a required second factor."""
    endpoint = request.endpoint or ""
    if endpoint in PUBLIC_ENDPOINTS or is_static_file():
        return None
    if not is_logged_in(current_user):
        if endpoint == "":
            return None  # 404 for unknown URLs
        return redirect(url_for("auth.login", next=request.full_path if request.query_string else request.path))
    if current_user.must_change_password and endpoint not in PASSWORD_CHANGE_ENDPOINTS:
        return redirect(url_for("auth.change_password"))
    if must_enrol_second_factor(current_user) and endpoint not in TWO_FACTOR_ENROLMENT_ENDPOINTS:
        return redirect(url_for("auth.two_factor_setup"))
    return None


def init_app(app: Flask) -> None:
    import tracker.permissions as perms

    app.before_request(_gate)
    app.jinja_env.globals["perms"] = perms
