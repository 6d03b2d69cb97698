"""Institution management, countries' and plans' profiles, and audit-log browsing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, joinedload, selectinload

from tracker import audit, permissions
from tracker.audit import AuditEvent
from tracker.domain import ValidationFailed
from tracker.plan import schema
from tracker.plan.models import BudgetProfile, Country, Institution, InstitutionKind, MonitoringBody, Plan, PlanProfile
from tracker.plan.services import monitoring_body


@dataclass
class InstitutionInput:
    code: str
    name_es: str
    name_en: str
    kind: InstitutionKind
    country_id: int
    parent_id: int | None


def list_institutions(session: Session) -> list[Institution]:
    """Every institution with its country and parent, by country (ISO code) then code."""
    query = (sa.select(Institution).join(Country).options(joinedload(Institution.country), joinedload(Institution.parent))
             .order_by(Country.iso_code, Institution.code))
    return list(session.scalars(query))


def institutions_by_country(session: Session) -> list[tuple[Country, list[Institution]]]:
    """Every country (with or without institutions) and its institutions, for the institutions page."""
    grouped: dict[int, list[Institution]] = {}
    for institution in list_institutions(session):
        grouped.setdefault(institution.country_id, []).append(institution)
    return [(country, grouped.get(country.id, [])) for country in list_countries(session)]


def list_countries(session: Session) -> list[Country]:
    """Every country, by ISO code."""
    return list(session.scalars(sa.select(Country).order_by(Country.iso_code)))


def save_institution(session: Session, data: InstitutionInput, actor, institution: Institution | None = None) -> Institution:
    """Create or edit an institution; codes are unique within a country."""
    code = data.code.strip().upper()
    clash = session.scalars(sa.select(Institution).filter_by(country_id=data.country_id, code=code)).first()
    if clash is not None and clash is not institution:
        raise ValidationFailed([("code", str(_l("Another institution of this country uses this code.")))])
    if session.get(Country, data.country_id) is None:
        raise ValidationFailed([("country", str(_l("Choose a country.")))])
    if institution is not None and institution.country_id != data.country_id:
        # Its accounts, plan items and entries belong to its country's plans: moving it would hand them to another.
        raise ValidationFailed([("country", str(_l(
            "An institution stays in its country: create the institution in the other country instead.")))])
    if data.parent_id is not None:
        parent = session.get(Institution, data.parent_id)
        if parent is None:
            raise ValidationFailed([("parent", str(_l("Choose an institution from the list.")))])
        if parent.country_id != data.country_id:
            raise ValidationFailed([("parent", str(_l("Choose an institution of the same country.")))])
        # Walk up from the chosen parent: meeting the institution itself would make a loop.
        seen: set[int] = set()
        while institution is not None and parent is not None and parent.id not in seen:
            if parent.id == institution.id:
                raise ValidationFailed([("parent", str(_l("An institution cannot be part of itself.")))])
            seen.add(parent.id)
            parent = parent.parent
    created = institution is None
    institution = institution or Institution()
    institution.code, institution.name_es, institution.name_en = code, data.name_es.strip(), data.name_en.strip()
    institution.kind, institution.country_id, institution.parent_id = data.kind, data.country_id, data.parent_id
    session.add(institution)
    session.flush()
    audit.record(session, "institution.created" if created else "institution.updated", actor=actor, target=institution, code=code)
    return institution


# -- countries' and plans' profiles ---------------------------------------------------------------


def countries_with_plans(session: Session) -> list[tuple[Country, list[Plan]]]:
    """Every country and its plans (with their profile and bodies), for the countries page."""
    plans = session.scalars(sa.select(Plan).options(selectinload(Plan.bodies)).order_by(Plan.code))
    grouped: dict[int, list[Plan]] = {}
    for plan in plans:
        grouped.setdefault(plan.country_id, []).append(plan)
    return [(country, grouped.get(country.id, [])) for country in list_countries(session)]


@dataclass
class CountryProfileInput:
    timezone: str
    currency: str
    locale: str


# The plan file's checks (tracker.plan.schema) decide; these say it in the admin's language.
PROFILE_CHECKS = {
    "timezone": (schema.check_timezone, _l("%(value)s is not a time zone: use an IANA name such as America/Lima.")),
    "currency": (schema.check_currency, _l("%(value)s is not an ISO 4217 currency code (such as PEN, CLP or USD).")),
    "locale": (schema.check_locale, _l("%(value)s is not a known locale (such as es_PE, es_CL or en_GB).")),
}


def _checked_profile(data: CountryProfileInput) -> dict[str, str | None]:
    values = {"timezone": data.timezone.strip(), "currency": data.currency.strip().upper() or None,
              "locale": data.locale.strip()}
    errors = []
    for name, (check, message) in PROFILE_CHECKS.items():
        try:
            if values[name] is not None:
                values[name] = check(values[name])
        except ValueError:
            errors.append((name, str(_l(message, value=values[name]))))
    if errors:
        raise ValidationFailed(errors)
    return values


def save_country_profile(session: Session, country: Country, data: CountryProfileInput, actor) -> None:
    """Set a country's time zone, currency and locale (checked as in the plan file); logs old → new."""
    values = _checked_profile(data)
    changes = {k: [getattr(country, k), v] for k, v in values.items() if getattr(country, k) != v}
    for name, value in values.items():
        setattr(country, name, value)
    if changes:
        audit.record(session, "country.profile_updated", actor=actor, target=country, country=country.iso_code,
                     changes=changes)
    session.flush()


@dataclass
class PlanProfileInput:
    budget_profile: BudgetProfile
    body_code: str  # used only when the plan has no active body yet
    body_name_es: str
    body_name_en: str


def save_plan_profile(session: Session, plan: Plan, data: PlanProfileInput, actor) -> None:
    """Set a plan's budget classification profile and its active monitoring body's name, or name a body when the plan
    has none (committee members are then added to it on their accounts); logs old → new."""
    before = _plan_profile_values(plan.profile, monitoring_body(plan))
    body = monitoring_body(plan) or _new_body(plan, data.body_code)
    profile = plan.profile or PlanProfile(plan=plan)
    profile.budget_profile = data.budget_profile
    body.name_es, body.name_en = data.body_name_es.strip(), data.body_name_en.strip()
    after = _plan_profile_values(profile, body)
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    session.add_all([profile, body])
    if changes:
        audit.record(session, "plan.profile_updated", actor=actor, target=plan, plan=plan.code, changes=changes)
    session.flush()


def _new_body(plan: Plan, code: str) -> MonitoringBody:
    code = code.strip().upper()
    if any(b.code == code for b in plan.bodies):
        # A former body: reviving it would bring back its former members unasked.
        raise ValidationFailed([("body_code", str(_l("A former monitoring body of this plan used this code: "
                                                     "choose another.")))])
    return MonitoringBody(plan=plan, code=code, name_es="", name_en="", active=True, position=len(plan.bodies))


def _plan_profile_values(profile: PlanProfile | None, body: MonitoringBody | None) -> dict[str, str | None]:
    budget = profile.budget_profile if profile is not None else None
    return {"budget_profile": budget.value if budget else None, "body": body.code if body else None,
            "body_name_es": body.name_es if body else None, "body_name_en": body.name_en if body else None}


PAGE_SIZE = 50
MAX_PAGE = 2**63 // PAGE_SIZE  # beyond it the offset overflows the database's integers


def audit_events(session: Session, action: str = "", actor: str = "", page: int = 1) -> tuple[list[AuditEvent], bool]:
    """A page of the audit log, newest first, filtered by action prefix and actor e-mail; and whether more follow."""
    query = sa.select(AuditEvent)
    if action:  # autoescape: "%" and "_" typed in the filter are taken literally
        query = query.where(AuditEvent.action.startswith(action.strip(), autoescape=True))
    if actor:
        query = query.where(AuditEvent.actor_email.contains(actor.strip().lower(), autoescape=True))
    query = query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)
    rows = list(session.scalars(query))
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


# Details that copy an entry's content into the log: evidence file names (evidence.added/removed) and the
# review note or reopening reason (entry.return, entry.reopen...). Admins have no power over reviewed data,
# so they read these only for entries they may see (approved ones), as on the entry's own page.
ENTRY_CONTENT_DETAILS = ("file", "note")


def shown_details(session: Session, viewer: Any, events: list[AuditEvent]) -> dict[int, str]:
    """Each event's details as `viewer` may read them (by event id), the entry content of hidden entries redacted."""
    hidden = _hidden_entry_ids(session, viewer, events)
    return {event.id: _details_text(event, event.target_type == "Entry" and event.target_id in hidden) for event in events}


def _carries_entry_content(event: AuditEvent) -> bool:
    return event.target_type == "Entry" and any(event.details_dict.get(key) for key in ENTRY_CONTENT_DETAILS)


def _hidden_entry_ids(session: Session, viewer: Any, events: list[AuditEvent]) -> set[str]:
    """The target ids (as stored, text) of the events' entries that the viewer may not see; one query for the page."""
    from tracker.progress.models import Entry, ReportingCycle

    ids = {event.target_id for event in events if _carries_entry_content(event)}
    numbers = [int(i) for i in ids if i.isdigit()]
    # The policy reads the entry's cycle and plan: loaded with the entries, in the same query.
    query = sa.select(Entry).where(Entry.id.in_(numbers)).options(joinedload(Entry.cycle).joinedload(ReportingCycle.plan))
    visible = {str(entry.id) for entry in session.scalars(query)
               if permissions.can_view_entry(viewer, entry)} if numbers else set()
    return ids - visible  # an entry that no longer exists cannot be checked: its content stays hidden


def _details_text(event: AuditEvent, hide_entry_content: bool) -> str:
    details = event.details_dict
    if hide_entry_content:
        hidden = str(_l("hidden: you cannot see this entry"))
        details = {key: hidden if key in ENTRY_CONTENT_DETAILS and value else value for key, value in details.items()}
    return json.dumps(details, default=str, ensure_ascii=False, sort_keys=True)
