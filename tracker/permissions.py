"""THE policy: every decision about who may see or do what is a predicate here.

Views use `require(...)` and the load-or-403 helpers, templates call the same predicates
(exposed as `perms`), CLI commands call them too. No role checks anywhere else.
"""

from __future__ import annotations

from functools import wraps
from typing import Any, Callable

import sqlalchemy as sa
from flask import Flask, abort, current_app, redirect, request, url_for
from flask_login import current_user

from tracker.auth.models import Role
from tracker.progress.models import EntryState
from tracker.review import states
from tracker.security import is_static_file

# Reachable without logging in.
PUBLIC_ENDPOINTS = frozenset({"static", "bootstrap.static", "core.health", "core.ready", "auth.login", "auth.login_code",
                              "core.set_language", "api.openapi", "api.docs", "public.page", "public.data",
                              "public.datapackage"})
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


def _plan_id(plan: Any) -> int:
    return plan if isinstance(plan, int) else plan.id


def visible_plan_ids(user: Any) -> frozenset[int] | None:
    """The plans a user may read (None: every plan). The committee reads the plans whose monitoring body
    it sits on, reporters their institution's country's plans, viewers the plans they are limited to."""
    if not is_logged_in(user):
        return frozenset()
    if user.role == Role.committee:
        return user.reviewed_plan_ids
    if user.role == Role.reporter:
        # Never None ("every plan"): a caller filtering by these ids must not show reporters other countries' plans.
        return _country_plan_ids(user.institution.country_id) if user.institution is not None else frozenset()
    if user.role == Role.viewer:
        return user.limited_to_plan_ids
    return None


def _country_plan_ids(country_id: int) -> frozenset[int]:
    from tracker.db import db
    from tracker.plan.models import Plan

    return frozenset(db.session.scalars(sa.select(Plan.id).filter_by(country_id=country_id)))


def can_view_plan(user: Any, plan: Any) -> bool:
    """Plans are readable inside their own community: see visible_plan_ids; admins read every plan."""
    if _is(user, Role.reporter):
        return user.institution is not None and user.institution.country_id == plan.country_id
    ids = visible_plan_ids(user)
    return is_logged_in(user) and (ids is None or plan.id in ids)


def can_view_dashboard(user: Any, plan: Any = None) -> bool:
    """Dashboards show approved data only: whoever reads the plan sees them."""
    return is_logged_in(user) if plan is None else can_view_plan(user, plan)


def can_manage_users(user: Any) -> bool:
    """Admins create, edit, deactivate accounts and reset passwords."""
    return _is(user, Role.admin)


def can_manage_institutions(user: Any) -> bool:
    """Admins keep the institutions list and the countries' profiles."""
    return _is(user, Role.admin)


def can_view_audit_log(user: Any) -> bool:
    """Admins browse the audit log."""
    return _is(user, Role.admin)


def can_view_outbox(user: Any) -> bool:
    """Admins see the e-mails that could not be delivered (and why)."""
    return _is(user, Role.admin)


def can_review(user: Any, plan: Any = None) -> bool:
    """A member of a plan's monitoring body reviews that plan's entries; without a plan: reviews some plan."""
    if not _is(user, Role.committee):
        return False
    ids = user.reviewed_plan_ids
    return bool(ids) if plan is None else _plan_id(plan) in ids


def can_edit_for_institution(user: Any, institution_id: int | None) -> bool:
    """Reporters enter data only for their own institution."""
    return _is(user, Role.reporter) and institution_id is not None and user.institution_id == institution_id


def can_see_drafts_of(user: Any, institution_id: int | None, plan: Any) -> bool:
    """Drafts are seen by their institution's reporters and the plan's reviewers; everyone else sees approved data."""
    return can_review(user, plan) or can_edit_for_institution(user, institution_id)


def can_report(user: Any, plan: Any = None) -> bool:
    """Reporters (with an institution) fill in their institution's entries, for the plans of its country."""
    if not (_is(user, Role.reporter) and user.institution_id is not None):
        return False
    return plan is None or can_view_plan(user, plan)


def can_report_or_review(user: Any, plan: Any = None) -> bool:
    """Worklists are for reporters (their institution) and the plan's reviewers (any institution)."""
    return can_report(user, plan) or can_review(user, plan)


def can_manage_cycles(user: Any, plan: Any = None) -> bool:
    """The plan's reviewers open, close and reopen its reporting cycles."""
    return can_review(user, plan)


def can_edit_plan(user: Any, plan: Any = None) -> bool:
    """The plan's monitoring body keeps the plan: edits its items and targets, confirms or rejects derived items,
    adds and retires items, uploads plan files and indicator matrices. Admins manage accounts, not plan content."""
    return can_review(user, plan)


def can_manage_reference_data(user: Any) -> bool:
    """Admins keep the reference data every plan is compared with (the UN parity strategy's yearly targets)."""
    return _is(user, Role.admin)


def can_view_cycles(user: Any, plan: Any = None) -> bool:
    """Everyone who reports on or reviews the plan sees its reporting calendar."""
    return can_report_or_review(user, plan)


def _entry_plan(entry: Any) -> int:
    return entry.cycle.plan_id


def can_view_entry(user: Any, entry: Any) -> bool:
    """Drafts and pending entries stay within their institution and the plan's reviewers; approved ones are
    for whoever reads the plan."""
    if entry.state in states.COUNTED and is_logged_in(user) and can_view_plan(user, entry.cycle.plan):
        return True
    return can_see_drafts_of(user, entry.institution_id, _entry_plan(entry))


def can_comment_entry(user: Any, entry: Any) -> bool:
    """The entry's conversation is between its institution (its reporters and focal point) and the plan's reviewers."""
    return can_see_drafts_of(user, entry.institution_id, _entry_plan(entry))


def can_edit_entry(user: Any, entry: Any) -> bool:
    """An institution's reporter edits its draft or returned entries while the cycle is open."""
    return can_edit_for_institution(user, entry.institution_id) and entry.state in states.EDITABLE and entry.cycle.is_open


def can_submit_entry(user: Any, entry: Any) -> bool:
    """Whoever may edit an entry may submit it."""
    return can_edit_entry(user, entry)


def can_withdraw_entry(user: Any, entry: Any) -> bool:
    """The institution's reporter takes back a submission before it is decided, while the cycle is open."""
    return can_edit_for_institution(user, entry.institution_id) and entry.state in states.PENDING and entry.cycle.is_open


def is_focal_point_of(user: Any, institution_id: int | None) -> bool:
    """A reporter of the institution whose account is marked as its focal point."""
    return can_edit_for_institution(user, institution_id) and bool(user.is_focal_point)


def can_sign_off_entry(user: Any, entry: Any) -> bool:
    """The institution's focal point endorses, or sends back, an entry waiting for its sign-off: never one they
    submitted themselves, and never another institution's."""
    return (is_focal_point_of(user, entry.institution_id) and entry.state == EntryState.awaiting_signoff
            and entry.submitted_by_id != user.id)


def can_review_entry(user: Any, entry: Any) -> bool:
    """The plan's reviewers approve or return submitted entries."""
    return can_review(user, _entry_plan(entry)) and entry.state in states.WITH_COMMITTEE


def can_reopen_entry(user: Any, entry: Any) -> bool:
    """The plan's reviewers unlock an approved entry (with a reason)."""
    return can_review(user, _entry_plan(entry)) and entry.state in states.COUNTED


def can_manage_signoff(user: Any, plan: Any = None) -> bool:
    """The plan's monitoring body decides which institutions' entries are endorsed by their focal point first."""
    return can_review(user, plan)


def can_download_reports(user: Any, plan: Any = None) -> bool:
    """The committee, viewers and admins download the annual reports (approved data) of the plans they read."""
    if not _is(user, Role.committee, Role.viewer, Role.admin):
        return False
    if plan is None:
        return user.role != Role.committee or can_review(user)
    return can_view_plan(user, plan)


def can_include_pending_in_reports(user: Any, plan: Any = None) -> bool:
    """Only the plan's reviewers, who see submitted entries, may download a provisional report that counts them."""
    return can_review(user, plan)


def can_validate_reports(user: Any, plan: Any = None) -> bool:
    """The plan's reviewers record their validation of a year's report (date, minutes, recommendations)."""
    return can_review(user, plan)


def can_finalize_reports(user: Any, plan: Any = None) -> bool:
    """The plan's reviewers mark a year's report final, which stores its files for good."""
    return can_review(user, plan)


def can_manage_public_page(user: Any, plan: Any = None) -> bool:
    """The plan's committee decides whether its approved progress is published on the public page."""
    return can_review(user, plan)


def can_view_task(user: Any, task: Any) -> bool:
    """A background task (a final report, a large import or template) is seen by whoever started it."""
    return is_logged_in(user) and task.user_id == user.id


def plan_or_404(code: str):
    """The plan with this code, or 404 if there is none or the user may not read it (a plan of another
    community is not even said to exist). It becomes the request's plan: numbers follow its locale."""
    from tracker.db import db
    from tracker.plan import services

    try:
        return visible_or_404(services.get_plan(db.session, code))
    except services.NotFound:
        abort(404)


def visible_or_404(plan):
    """The plan if the user may read it (it becomes the request's plan), else 404."""
    from tracker.plan import services

    if not can_view_plan(current_user, plan):
        abort(404)
    services.use_plan(plan)
    return plan


def ensure(predicate: Callable[[Any, Any], bool], plan: Any) -> None:
    """403 unless predicate(current_user, plan) holds: the plan-scoped half of a view's `require`."""
    if not predicate(current_user, plan):
        abort(403)


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
    if request.blueprint == "api":
        return None  # the API authenticates every request by its token, and answers 401 JSON (tracker.api.views)
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
