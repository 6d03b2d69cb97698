"""Institution management and audit-log browsing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, joinedload

from tracker import audit, permissions
from tracker.audit import AuditEvent
from tracker.domain import ValidationFailed
from tracker.plan.models import Country, Institution, InstitutionKind


@dataclass
class InstitutionInput:
    code: str
    name_es: str
    name_en: str
    kind: InstitutionKind
    country_id: int
    parent_id: int | None


def list_institutions(session: Session) -> list[Institution]:
    query = sa.select(Institution).options(joinedload(Institution.country), joinedload(Institution.parent))
    return list(session.scalars(query.order_by(Institution.country_id, Institution.code)))


def list_countries(session: Session) -> list[Country]:
    return list(session.scalars(sa.select(Country).order_by(Country.name_en)))


def save_institution(session: Session, data: InstitutionInput, actor, institution: Institution | None = None) -> Institution:
    """Create or edit an institution; codes are unique within a country."""
    code = data.code.strip().upper()
    clash = session.scalars(sa.select(Institution).filter_by(country_id=data.country_id, code=code)).first()
    if clash is not None and clash is not institution:
        raise ValidationFailed([("code", str(_l("Another institution of this country uses this code.")))])
    if session.get(Country, data.country_id) is None:
        raise ValidationFailed([("country", str(_l("Choose a country.")))])
    if data.parent_id is not None:
        parent = session.get(Institution, data.parent_id)
        if parent is None:
            raise ValidationFailed([("parent", str(_l("Choose an institution from the list.")))])
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
    from tracker.progress.models import Entry

    ids = {event.target_id for event in events if _carries_entry_content(event)}
    numbers = [int(i) for i in ids if i.isdigit()]
    visible = {str(entry.id) for entry in session.scalars(sa.select(Entry).where(Entry.id.in_(numbers)))
               if permissions.can_view_entry(viewer, entry)} if numbers else set()
    return ids - visible  # an entry that no longer exists cannot be checked: its content stays hidden


def _details_text(event: AuditEvent, hide_entry_content: bool) -> str:
    details = event.details_dict
    if hide_entry_content:
        hidden = str(_l("hidden: you cannot see this entry"))
        details = {key: hidden if key in ENTRY_CONTENT_DETAILS and value else value for key, value in details.items()}
    return json.dumps(details, default=str, ensure_ascii=False, sort_keys=True)
