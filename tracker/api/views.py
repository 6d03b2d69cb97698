"""The read API, `/api/v1`: JSON for scripts, with a personal token (`Authorization: Bearer TOKEN`).

Every request needs a valid token: without one the answer is 401 JSON, never the login page. A token acts as its
user, read-only, within what the user may read on the site: approved data (a reporter's token also its institution's
other entries), never demo entries. The figures come from the dashboard's own read model (`build_dashboard` with
`published=True`, `load_entries`), the one the public page and the open data use. Lists are paginated; responses carry an ETag and answer
`If-None-Match` with 304. The OpenAPI 3.1 description is generated from these views and `schemas.py` by spectree.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

import hashlib

import sqlalchemy as sa
from flask import Blueprint, abort, current_app, g, jsonify, render_template, request, url_for
from flask_login import current_user
from spectree import Response, SecurityScheme, SpecTree
from spectree.models import SecuritySchemeData, SecureType
from werkzeug.exceptions import HTTPException

from tracker import opendata, permissions
from tracker.api import schemas, tokens
from tracker.dashboard import services as dashboard
from tracker.db import db
from tracker.errors import API_CODES
from tracker.extensions import limiter
from tracker.plan import models as pm
from tracker.progress.models import Entry, EntryKind, EntryState
from tracker.reports.models import FinalReport
from tracker.review import states

bp = Blueprint("api", __name__, url_prefix="/api/v1")

spec = SpecTree(
    # strict: only the decorated views; the path is spectree's own (unused: the description is served below).
    "flask", title="NAP Tracker API", version="1", path="api/v1/spectree", page_templates={}, annotations=False,
    mode="strict",
    description="Read-only data of National Action Plans on Women, Peace and Security: plans, approved values, "
                "progress and final reports. Every operation needs a personal token (account page, or "
                "`tracker tokens create`), sent as `Authorization: Bearer TOKEN`.",
    security_schemes=[SecurityScheme(name="token", data=SecuritySchemeData(type=SecureType.HTTP, scheme="bearer"))],
    security={"token": []},
)
ERRORS = {"HTTP_401": schemas.Error, "HTTP_404": schemas.Error, "HTTP_429": schemas.Error}
PUBLIC = permissions.PUBLIC_ENDPOINTS  # the description and its page


@bp.record_once
def _bind(state) -> None:
    spec.app = state.app  # spectree finds the decorated views in the app's URL map


def _token_key() -> str:
    """Requests are counted per token (its hash: the token itself never reaches the limiter's storage), or per
    address without one."""
    header = request.headers.get("Authorization")
    return "token:" + hashlib.sha256(header.encode()).hexdigest() if header else f"address:{request.remote_addr}"


limiter.limit(lambda: current_app.config["API_RATE_LIMIT"], key_func=_token_key,
              exempt_when=lambda: request.endpoint in PUBLIC)(bp)


@bp.before_request
def _authenticate():
    """The token's user for this request (no session, no cookie), or 401 JSON."""
    if request.endpoint in PUBLIC:
        return None
    user = tokens.authenticate(db.session, request.headers.get("Authorization"))
    if user is None:
        return _error(401, "unauthorized", "A valid personal API token is needed: Authorization: Bearer TOKEN."), \
            {"WWW-Authenticate": 'Bearer realm="api"'}
    g._login_user = user  # Flask-Login's user of this request (what login_user sets), without touching the session
    return None


def _error(status: int, code: str, message: str):
    response = jsonify({"error": code, "message": message})
    response.status_code = status
    return response


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    """The API's own messages (abort(404, "No plan ...")); unrouted /api/ addresses get the same shape from
    tracker.errors."""
    return _error(exc.code or 500, API_CODES.get(exc.code, "error"), exc.description or exc.name)


def _conditional(payload: dict) -> Any:
    """A JSON response with an ETag of its content; 304 when the client has it already."""
    response = jsonify(payload)
    response.add_etag()
    return response.make_conditional(request)


def documented(query=None, ok=None) -> Callable:
    """A read operation: its query string validated (422 with the errors), its responses in the description."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            return view(*args, **kwargs)

        return spec.validate(query=query, resp=Response(HTTP_200=ok, **ERRORS), tags=["read"])(wrapped)

    return decorate


def _plan(code: str) -> pm.Plan:
    plan = db.session.scalars(sa.select(pm.Plan).filter_by(code=code)).one_or_none()
    if plan is None or not permissions.can_view_plan(current_user, plan):
        abort(404, f"No plan {code} that this token may read.")
    return plan


def _texts(row: Any, name: str) -> dict[str, str]:
    return {"es": getattr(row, f"{name}_es") or "", "en": getattr(row, f"{name}_en") or ""}


def _number(value) -> float | None:
    return float(value) if value is not None else None


def _paging(query: schemas.PageQuery, total: int) -> dict[str, int]:
    return {"page": query.page, "per_page": query.per_page, "total": total}


# -- plans -----------------------------------------------------------------------------------------


@bp.get("/plans")
@documented(query=schemas.PageQuery, ok=schemas.PlanList)
def plans():
    """The plans this token may read."""
    query = request.context.query
    ids = permissions.visible_plan_ids(current_user)
    select = sa.select(pm.Plan).order_by(pm.Plan.code)
    if ids is not None:
        select = select.where(pm.Plan.id.in_(ids))
    rows = [p for p in db.session.scalars(select.options(sa.orm.joinedload(pm.Plan.country)))
            if permissions.can_view_plan(current_user, p)]
    page = rows[(query.page - 1) * query.per_page: query.page * query.per_page]
    return _conditional({"items": [_summary(p) for p in page], "paging": _paging(query, len(rows))})


def _summary(plan: pm.Plan) -> dict:
    return {"code": plan.code, "title": _texts(plan, "title"), "country": plan.country.iso_code,
            "adoption_year": plan.adoption_year, "start_year": plan.start_year, "end_year": plan.end_year,
            "url": url_for("api.plan", code=plan.code, _external=True)}


@bp.get("/plans/<code>")
@documented(ok=schemas.PlanDetail)
def plan(code: str):
    """A plan's structure: pillars, objectives, actions, indicators with their baselines and yearly targets, the
    institutions responsible, and the years with a reporting cycle."""
    rows = dashboard.load_plan_rows(db.session, _plan(code))
    pillars = {p.id: p.code for p in rows.pillars}
    objectives = {o.id: o.code for o in rows.objectives}
    actions = {a.id: a.code for a in rows.actions}
    institutions = rows.institutions
    action_links, indicator_links = _links(rows)
    body = {
        **{k: v for k, v in _summary(rows.plan).items() if k != "url"},
        "pillars": [{"code": p.code, "kind": p.kind.value, "name": _texts(p, "name")} for p in rows.pillars],
        "objectives": [{"code": o.code, "level": o.level.value, "pillar": pillars.get(o.pillar_id),
                        "parent": objectives.get(o.parent_id), "text": _texts(o, "text")} for o in rows.objectives],
        "actions": [{"code": a.code, "pillar": pillars[a.pillar_id], "objective": objectives.get(a.objective_id),
                     "text": _texts(a, "text"), "in_force": a.retired_at is None,
                     "institutions": [{"institution": institutions[i].code, "role": role}
                                      for i, role in action_links.get(a.id, [])]} for a in rows.actions],
        "indicators": [_indicator(i, rows, pillars, actions, indicator_links) for i in rows.indicators],
        "institutions": [{"code": i.code, "name": _texts(i, "name"), "kind": i.kind.value}
                         for i in sorted(institutions.values(), key=lambda i: i.code)],
        "reporting_years": sorted(c.year for c in rows.cycles),
    }
    return _conditional(body)


def _links(rows) -> tuple[dict[int, list], dict[int, list]]:
    actions: dict[int, list] = {}
    for link in rows.action_links:
        actions.setdefault(link.action_id, []).append((link.institution_id, link.role.value))
    indicators: dict[int, list] = {}
    for link in rows.indicator_links:
        indicators.setdefault(link.indicator_id, []).append(link.institution_id)
    return actions, indicators


def _indicator(indicator: pm.Indicator, rows, pillars: dict, actions: dict, links: dict) -> dict:
    return {
        "code": indicator.code, "pillar": pillars.get(rows.indicator_pillar(indicator)),
        "action": actions.get(indicator.action_id), "name": _texts(indicator, "name"),
        "measure": indicator.measure.value, "counts_people": indicator.counts_people,
        "direction": indicator.direction.value, "cumulative": indicator.cumulative, "unit": _texts(indicator, "unit"),
        "baseline": _number(indicator.baseline_value), "baseline_year": indicator.baseline_year,
        "targets": [{"year": y, "value": float(v)} for y, v in sorted(rows.targets.get(indicator.id, {}).items())],
        "institutions": [rows.institutions[i].code for i in links.get(indicator.id, []) if i in rows.institutions],
        "in_force": indicator.retired_at is None,
    }


# -- values ----------------------------------------------------------------------------------------


@bp.get("/plans/<code>/values")
@documented(query=schemas.ValuesQuery, ok=schemas.ValueList)
def values(code: str):
    """The indicator values reported per indicator, year and institution, with the women/men split where people are
    counted: approved values; a reporter's token also sees its own institution's entries in any other state.
    Filters: year, pillar, institution, indicator."""
    query = request.context.query
    plan = _plan(code)
    rows = dashboard.load_plan_rows(db.session, plan)
    pillars = {p.id: p.code for p in rows.pillars}
    indicators = {i.id: i for i in rows.indicators
                  if (query.pillar is None or pillars.get(rows.indicator_pillar(i)) == query.pillar)
                  and (query.indicator is None or i.code == query.indicator)}
    entries = [(e, y) for e, y in dashboard.load_entries(db.session, plan).rows
               if e.kind == EntryKind.indicator and e.indicator_id in indicators and not e.is_demo and _visible(e, plan)
               and (query.year is None or y == query.year)
               and (query.institution is None or rows.institutions[e.institution_id].code == query.institution)]
    entries.sort(key=lambda pair: (indicators[pair[0].indicator_id].code, pair[1],
                                   rows.institutions[pair[0].institution_id].code))
    page = entries[(query.page - 1) * query.per_page: query.page * query.per_page]
    items = [_value(e, y, indicators, rows.institutions) for e, y in page]
    return _conditional({"items": items, "paging": _paging(query, len(entries))})


def _visible(entry: Entry, plan: pm.Plan) -> bool:
    """Approved entries; the others only where the token's user sees drafts (a reporter's own institution)."""
    if entry.state in states.COUNTED:
        return True
    return permissions.can_edit_for_institution(current_user, entry.institution_id) and permissions.can_report(current_user, plan)


def _value(entry: Entry, year: int, indicators: dict, institutions: dict) -> dict:
    approved = entry.state == EntryState.approved
    return {
        "indicator": indicators[entry.indicator_id].code, "year": year, "institution": institutions[entry.institution_id].code,
        "state": entry.state.value, "value": _number(entry.value), "women": entry.women, "men": entry.men,
        "numerator": _number(entry.numerator), "denominator": _number(entry.denominator),
        "text": entry.value_text or None, "yes": entry.value_bool,
        "approved_at": entry.reviewed_at.isoformat() if approved and entry.reviewed_at else None,
    }


# -- progress --------------------------------------------------------------------------------------


@bp.get("/plans/<code>/progress")
@documented(query=schemas.YearQuery, ok=schemas.Progress)
def progress(code: str):
    """What the committee dashboard shows for a year, from approved data: completion overall and per pillar, each
    indicator's status and achievement, each action's status, each institution's reporting completeness, and
    budget compliance. Optionally for one institution."""
    query = request.context.query
    plan = _plan(code)
    year = query.year or dashboard.default_year(db.session, plan)
    if year is None:
        abort(404, f"{plan.code} has no reporting year yet.")
    institution_id = _institution_id(plan, query.institution)
    board = dashboard.build_dashboard(db.session, plan, year, institution_id=institution_id, published=True)
    codes = {i.id: i.code for i in dashboard.load_plan_rows(db.session, plan).institutions.values()}
    return _conditional({
        "plan": plan.code, "year": year, "overall": _completion(board.overall),
        "pillars": [{"pillar": card.pillar.code if card.pillar else None, "completion": _completion(card.completion)}
                    for card in board.cards],
        "indicators": [_status(row) for card in board.cards for row in card.indicators],
        "actions": [{"action": row.action.code, "status": row.status.value if hasattr(row.status, "value") else row.status}
                    for card in board.cards for row in card.actions],
        "institutions": [{"institution": row.institution.code, "assigned": row.completeness.assigned,
                          "submitted": row.completeness.submitted, "approved": row.completeness.approved,
                          "on_time": row.completeness.on_time} for row in board.institutions],
        "budget": {"complying": board.budget.complying, "counted": board.budget.counted,
                   "by_institution": {codes.get(i, str(i)): v for i, v in board.budget.by_institution.items()}}
        if board.budget else None,
    })


def _institution_id(plan: pm.Plan, code: str | None) -> int | None:
    if code is None:
        return None
    found = db.session.scalars(sa.select(pm.Institution.id).filter_by(country_id=plan.country_id, code=code)).one_or_none()
    if found is None:
        abort(404, f"No institution {code} in {plan.code}'s country.")
    return found


def _completion(completion) -> dict:
    return {"actions_total": completion.actions_total, "actions_reported": completion.actions_reported,
            "actions_done": completion.actions_done, "indicators_total": completion.indicators_total,
            "indicators_reported": completion.indicators_reported,
            "indicators_with_target": completion.indicators_with_target,
            "mean_achievement": _number(completion.mean_achievement)}


def _status(row) -> dict:
    result, actual = row.result, row.result.actual
    share = actual.women_share if actual else None
    return {"indicator": row.indicator.code, "performance": str(result.performance),
            "value": _number(actual.value) if actual else None, "women": actual.women if actual else None,
            "men": actual.men if actual else None, "women_share": round(float(share), 4) if share is not None else None,
            "target": _number(result.target), "achievement": _number(result.achievement)}


# -- final reports ---------------------------------------------------------------------------------


@bp.get("/plans/<code>/reports")
@documented(ok=schemas.ReportList)
def reports(code: str):
    """The plan's final reports: every version, language and format, with its size, checksum and address."""
    plan = _plan(code)
    if not permissions.can_download_reports(current_user, plan):
        return _conditional({"items": []})
    rows = db.session.scalars(sa.select(FinalReport).filter_by(plan_id=plan.id)
                              .order_by(FinalReport.year.desc(), FinalReport.version.desc(), FinalReport.language,
                                        FinalReport.format))
    return _conditional({"items": [
        {"year": r.year, "version": r.version, "language": r.language, "format": r.format, "size": r.size,
         "sha256": r.sha256, "url": url_for("api.report_file", code=plan.code, report_id=r.id, _external=True)}
        for r in rows]})


@bp.get("/plans/<code>/reports/<int:report_id>")
@documented()
def report_file(code: str, report_id: int):
    """A final report's stored file, exactly as it was when the year was marked final (checked against its sha256)."""
    from tracker.reports import services as reports
    from tracker.reports.exporters import FORMATS

    plan = _plan(code)
    row = db.session.get(FinalReport, report_id)
    if row is None or row.plan_id != plan.id or not permissions.can_download_reports(current_user, plan):
        abort(404, f"No final report {report_id} of {plan.code} that this token may read.")
    data = reports.read_final(row)
    response = current_app.response_class(data, mimetype=FORMATS[row.format].mimetype)
    name = reports.download_name(plan.code, row.year, row.language, row.format, f"-final-v{row.version}")
    response.headers["Content-Disposition"] = f"attachment; filename={name}"
    return response


# -- open data -------------------------------------------------------------------------------------


@bp.get("/plans/<code>/opendata.csv")
@documented()
def opendata_csv(code: str):
    """The plan's approved indicator values as one flat CSV in the Open SDG layout: Year, Indicator, Global
    indicator, Institution, Sex, Units, Value, Observation status (every approved report, per institution)."""
    plan = _plan(code)
    response = current_app.response_class(opendata.csv_bytes(opendata.detail(db.session, plan)), mimetype="text/csv")
    response.add_etag()
    return response.make_conditional(request)


@bp.get("/plans/<code>/datapackage.json")
@documented()
def opendata_package(code: str):
    """The Frictionless Data Package descriptor of opendata.csv (its table schema)."""
    plan = _plan(code)
    descriptor = opendata.descriptor(plan, public=False)
    descriptor["resources"][0]["path"] = url_for("api.opendata_csv", code=plan.code, _external=True)
    return _conditional(descriptor)


# -- the description -------------------------------------------------------------------------------


@bp.get("/openapi.json")
def openapi():
    """The OpenAPI 3.1 description of this API, generated from the views above."""
    return jsonify(spec.spec)


@bp.get("/docs")
def docs():
    """The description as a page: each operation, its parameters and its answers."""
    return render_template("api/docs.html", spec=spec.spec)
