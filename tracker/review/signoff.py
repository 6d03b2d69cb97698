"""The institution sign-off: which institutions of a plan have their entries endorsed by a focal point before the
monitoring body sees them. Off by default; with it off, an entry goes from its reporter straight to the committee."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, joinedload

from tracker import audit, permissions
from tracker.auth.models import Role, User
from tracker.domain import PermissionDenied, ValidationFailed
from tracker.plan.models import Institution, Plan
from tracker.progress.models import Entry, EntryState, ReportingCycle, SignoffRequirement


def is_required(session: Session, plan_id: int, institution_id: int) -> bool:
    """Whether the plan asks this institution's focal point to endorse its entries."""
    return session.get(SignoffRequirement, (plan_id, institution_id)) is not None


def can_be_endorsed(session: Session, institution_id: int, submitter_id: int | None) -> bool:
    """Whether an active focal point of the institution other than the submitter exists to endorse a submission."""
    query = sa.select(sa.func.count()).select_from(User).where(
        User.institution_id == institution_id, User.is_focal_point, User.active, User.role == Role.reporter)
    if submitter_id is not None:
        query = query.where(User.id != submitter_id)
    return (session.scalar(query) or 0) > 0


def required_ids(session: Session, plan: Plan) -> frozenset[int]:
    return frozenset(session.scalars(sa.select(SignoffRequirement.institution_id).filter_by(plan_id=plan.id)))


@dataclass(frozen=True)
class InstitutionSignoff:
    """One reporting institution of the plan on the settings page: whether it signs off, and who may."""

    institution: Institution
    required: bool
    focal_points: list[User]
    waiting: int  # entries waiting for its sign-off now


def overview(session: Session, plan: Plan) -> list[InstitutionSignoff]:
    """Every institution that reports on the plan, with its sign-off setting, focal points and waiting entries."""
    from tracker.progress.queries import reporting_institutions

    institutions = reporting_institutions(session, plan)
    ids = [i.id for i in institutions]
    points: dict[int, list[User]] = {}
    for user in session.scalars(sa.select(User).where(User.institution_id.in_(ids), User.is_focal_point, User.active,
                                                      User.role == Role.reporter).order_by(User.name)):
        points.setdefault(user.institution_id, []).append(user)
    waiting = dict(session.execute(
        sa.select(Entry.institution_id, sa.func.count()).join(ReportingCycle, ReportingCycle.id == Entry.cycle_id)
        .where(ReportingCycle.plan_id == plan.id, Entry.state == EntryState.awaiting_signoff)
        .group_by(Entry.institution_id)).all())
    required = required_ids(session, plan)
    return [InstitutionSignoff(i, i.id in required, points.get(i.id, []), waiting.get(i.id, 0)) for i in institutions]


def set_required(session: Session, plan: Plan, institution_ids: set[int], reason: str, actor) -> tuple[list[str], list[str]]:
    """Ask these institutions (and no others) of the plan for a focal point's sign-off; returns the codes added and
    removed. Each added institution needs an active focal point, else its entries would wait for no one. Entries
    already waiting keep waiting for their focal point (their reporter may withdraw and submit them again)."""
    if not permissions.can_manage_signoff(actor, plan):
        raise PermissionDenied()
    if not reason.strip():
        raise ValidationFailed([("reason", str(_l("Say why the sign-off changes.")))])
    rows = {row.institution.id: row for row in overview(session, plan)}
    unknown = institution_ids - set(rows)
    if unknown:
        raise ValidationFailed([("institutions", str(_l("Only the institutions that report on the plan can sign off.")))])
    before = required_ids(session, plan)
    added, removed = sorted(institution_ids - before), sorted(before - institution_ids)
    lonely = [rows[i].institution.code for i in added if not rows[i].focal_points]
    if lonely:
        raise ValidationFailed([("institutions", str(_l(
            "%(codes)s has no active focal point yet: an administrator marks one of its reporters as focal point first.",
            codes=", ".join(lonely))))])
    for institution_id in added:
        session.add(SignoffRequirement(plan_id=plan.id, institution_id=institution_id, set_by=actor.name))
    if removed:
        session.execute(sa.delete(SignoffRequirement).where(SignoffRequirement.plan_id == plan.id,
                                                            SignoffRequirement.institution_id.in_(removed)))
    codes = lambda ids: [rows[i].institution.code for i in ids]  # noqa: E731
    if added or removed:
        audit.record(session, "plan.signoff_changed", actor=actor, target=plan, added=codes(added),
                     removed=codes(removed), reason=reason.strip())
    session.flush()
    return codes(added), codes(removed)


def waiting_for(session: Session, user) -> list[Entry]:
    """The entries of the focal point's institution waiting for a sign-off they may give (not their own submissions)."""
    if not (permissions.is_logged_in(user) and user.is_focal_point and user.institution_id):
        return []
    query = (sa.select(Entry).where(Entry.institution_id == user.institution_id,
                                    Entry.state == EntryState.awaiting_signoff,
                                    sa.or_(Entry.submitted_by_id.is_(None), Entry.submitted_by_id != user.id))
             .options(joinedload(Entry.cycle).joinedload(ReportingCycle.plan), joinedload(Entry.indicator),
                      joinedload(Entry.action)).order_by(Entry.submitted_at))
    return list(session.scalars(query))
