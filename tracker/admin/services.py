"""Institution management and audit-log browsing."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, joinedload

from tracker import audit
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
