"""Progress reporting: cycles, worklists, saving entries, and the review workflow.

Services take a session and plain values, check the policy, flush, write history and the audit log,
and raise ValidationFailed / PermissionDenied / WorkflowError / ConflictError. Views commit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Callable

import sqlalchemy as sa
from flask_babel import format_date
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, joinedload, object_session, selectinload

from tracker import audit, permissions
from tracker.auth.models import User
from tracker.db import utcnow
from tracker.domain import DomainError, PermissionDenied, ValidationFailed, WorkflowError
from tracker.plan.models import Action, ActionInstitution, Indicator, IndicatorInstitution, Institution, Measure, Plan
from tracker.plan.services import plan_timezone
from tracker.review import kinds, states, steps
from tracker.status import deadline_end, people_numerator
from tracker.progress.models import (
    ActionStatus,
    CycleState,
    DeadlineException,
    Entry,
    EntryKind,
    EntryState,
    EntryVersion,
    ReportingCycle,
)


# The largest figure the database stores (Numeric(18, 4) and integer columns hold more; this is plenty).
MAX_FIGURE = Decimal("999999999999")


class ConflictError(DomainError):
    """Someone saved the entry since the form was opened; `changes` lists (field, then, now)."""

    def __init__(self, entry: Entry, changes: list[tuple[str, Any, Any]]):
        self.entry = entry
        self.changes = changes
        super().__init__(f"entry {entry.id} changed since version you edited")


class AlreadySaved(DomainError):
    """The same form submission was saved already (a double click): nothing else to do."""

    def __init__(self, entry: Entry):
        self.entry = entry
        super().__init__(f"entry {entry.id}: this submission is already saved")


# -- cycles -------------------------------------------------------------------------------------


def list_cycles(session: Session, plan: Plan) -> list[ReportingCycle]:
    """The plan's reporting cycles, newest year first."""
    return list(session.scalars(sa.select(ReportingCycle).filter_by(plan_id=plan.id).order_by(ReportingCycle.year.desc())))


def get_cycle(session: Session, plan: Plan, year: int) -> ReportingCycle | None:
    return session.scalars(sa.select(ReportingCycle).filter_by(plan_id=plan.id, year=year)).one_or_none()


def reporting_years(plan: Plan) -> tuple[int | None, int | None]:
    """The first and last years a plan can have a reporting cycle: its timeframe, or from its adoption on
    when it has none (None: no bound)."""
    return plan.start_year or plan.adoption_year, plan.end_year


def year_span(first: int | None, last: int | None) -> str:
    """A plan's reporting years in words: "2022–2026", "from 2021 on"."""
    if first is not None and last is not None:
        return f"{first}–{last}"
    if first is not None:
        return str(_l("from %(year)s on", year=first))
    return str(_l("until %(year)s", year=last))


def open_cycle(session: Session, plan: Plan, year: int, deadline: date, actor) -> ReportingCycle:
    """Open a reporting year for a plan (committee)."""
    if not permissions.can_manage_cycles(actor, plan):
        raise PermissionDenied()
    first, last = reporting_years(plan)
    if first is not None and year < first or last is not None and year > last:
        raise ValidationFailed([("year", str(_l("The plan's reporting years are %(span)s.", span=year_span(first, last))))])
    if get_cycle(session, plan, year) is not None:
        raise ValidationFailed([("year", str(_l("A reporting cycle for %(year)s already exists.", year=year)))])
    if deadline.year < year:
        raise ValidationFailed([("deadline", str(_l("The deadline cannot be before the reporting year.")))])
    cycle = ReportingCycle(plan_id=plan.id, year=year, deadline=deadline, state=CycleState.open)
    session.add(cycle)
    session.flush()
    audit.record(session, "cycle.opened", actor=actor, target=cycle, plan=plan.code, year=year, deadline=deadline)
    return cycle


def close_cycle(session: Session, cycle: ReportingCycle, actor) -> None:
    """Close a cycle: no more entries or edits until it is reopened."""
    if not permissions.can_manage_cycles(actor, cycle.plan_id):
        raise PermissionDenied()
    if cycle.state == CycleState.closed:
        raise WorkflowError(str(_l("This reporting cycle is already closed.")))
    cycle.state = CycleState.closed
    audit.record(session, "cycle.closed", actor=actor, target=cycle, year=cycle.year)


def reopen_cycle(session: Session, cycle: ReportingCycle, reason: str, actor, deadline: date | None = None) -> None:
    """Reopen a closed cycle; a reason is required and kept, and a new deadline may be set (logged old → new)."""
    if not permissions.can_manage_cycles(actor, cycle.plan_id):
        raise PermissionDenied()
    if not reason.strip():
        raise ValidationFailed([("reason", str(_l("Say why the cycle is reopened.")))])
    if deadline is not None and deadline.year < cycle.year:
        raise ValidationFailed([("deadline", str(_l("The deadline cannot be before the reporting year.")))])
    if cycle.state == CycleState.open:
        raise WorkflowError(str(_l("This reporting cycle is already open.")))
    before = cycle.deadline
    cycle.state = CycleState.open
    cycle.reopen_reason = reason.strip()
    cycle.deadline = deadline or cycle.deadline
    audit.record(session, "cycle.reopened", actor=actor, target=cycle, year=cycle.year, reason=reason.strip(),
                 deadline=[before, cycle.deadline])


# -- deadline exceptions ------------------------------------------------------------------------


@dataclass
class GrantedException:
    """A deadline exception as the cycles page lists it, with who granted it (None once the account is gone)."""

    exception: DeadlineException
    granted_by: User | None


def deadline_exceptions(session: Session, cycle: ReportingCycle) -> dict[int, DeadlineException]:
    """The cycle's deadline exceptions by institution id, in one query."""
    rows = session.scalars(sa.select(DeadlineException).filter_by(cycle_id=cycle.id))
    return {e.institution_id: e for e in rows}


def list_deadline_exceptions(session: Session, cycles: list[ReportingCycle]) -> dict[int, list[GrantedException]]:
    """Every exception of these cycles by cycle id, institutions by code, with who granted each (one query)."""
    rows = session.execute(
        sa.select(DeadlineException, User)
        .join(Institution, Institution.id == DeadlineException.institution_id)
        .outerjoin(User, User.id == DeadlineException.granted_by_id)
        .where(DeadlineException.cycle_id.in_([c.id for c in cycles]))
        .options(joinedload(DeadlineException.institution))
        .order_by(Institution.code)
    )
    listed: dict[int, list[GrantedException]] = {}
    for exception, user in rows:
        listed.setdefault(exception.cycle_id, []).append(GrantedException(exception, user))
    return listed


def _lock_cycle(session: Session, cycle: ReportingCycle) -> None:
    # Two members granting the same institution at once would both insert; the second waits and then updates.
    session.execute(sa.select(ReportingCycle.id).where(ReportingCycle.id == cycle.id).with_for_update())


def _check_extension(session: Session, cycle: ReportingCycle, institution: Institution, deadline: date, reason: str) -> None:
    from tracker.progress.notifications import reminder_institutions

    errors = FieldErrors()
    if institution.id not in {i.id for i in reminder_institutions(session, cycle.plan)}:  # items or a budget item
        errors.add("institution", _l("This institution reports on nothing in the plan."))
    if deadline <= cycle.deadline:
        errors.add("deadline", _l("The new deadline must be after the cycle's deadline (%(date)s).", date=format_date(cycle.deadline)))
    if not reason.strip():
        errors.add("reason", _l("Say why the institution gets more time."))
    errors.raise_if_any()


def extend_deadline(session: Session, cycle: ReportingCycle, institution: Institution, deadline: date, reason: str,
                    actor) -> DeadlineException:
    """Give one institution of the plan a later deadline for the cycle (committee), with a reason.

    There is one exception per cycle and institution: granting again replaces it. Logged old → new.
    """
    if not permissions.can_manage_cycles(actor, cycle.plan_id):
        raise PermissionDenied()
    _check_extension(session, cycle, institution, deadline, reason)
    _lock_cycle(session, cycle)
    exception = deadline_exceptions(session, cycle).get(institution.id)
    before = exception.deadline if exception else cycle.deadline
    if exception is None:
        exception = DeadlineException(cycle_id=cycle.id, institution_id=institution.id)
        session.add(exception)
    exception.deadline, exception.reason = deadline, reason.strip()
    exception.granted_by_id, exception.granted_at = actor.id, utcnow()
    session.flush()
    audit.record(session, "cycle.deadline_extended", actor=actor, target=cycle, year=cycle.year,
                 institution=institution.code, deadline=[before, deadline], reason=reason.strip())
    return exception


def remove_deadline_exception(session: Session, cycle: ReportingCycle, institution_id: int, reason: str, actor) -> None:
    """Take an institution's exception away (committee), with a reason: the cycle's deadline holds for it again."""
    if not permissions.can_manage_cycles(actor, cycle.plan_id):
        raise PermissionDenied()
    if not reason.strip():
        raise ValidationFailed([("reason", str(_l("Say why the exception is removed.")))])
    _lock_cycle(session, cycle)
    exception = deadline_exceptions(session, cycle).get(institution_id)
    if exception is None:
        raise WorkflowError(str(_l("This institution has no deadline exception in this cycle.")))
    audit.record(session, "cycle.deadline_exception_removed", actor=actor, target=cycle, year=cycle.year,
                 institution=exception.institution.code, deadline=[exception.deadline, cycle.deadline], reason=reason.strip())
    session.delete(exception)
    session.flush()


# -- worklist -----------------------------------------------------------------------------------


@dataclass
class WorkItem:
    """One indicator or action an institution must report on, with its entry if any."""

    kind: EntryKind
    item: Indicator | Action
    entry: Entry | None

    @property
    def code(self) -> str:
        return self.item.code

    @property
    def state(self) -> str:
        return self.entry.state.value if self.entry else "not_started"


def assigned_items(session: Session, plan_id: int, institution_id: int,
                   year: int | None = None) -> tuple[list[Indicator], list[Action]]:
    """The indicators and actions an institution is responsible for (lead or support); with `year`, only those
    in force in that year's cycle (`Lifecycle.in_force`: an item retired that year or before is left out)."""
    indicators = (
        sa.select(Indicator)
        .join(IndicatorInstitution, IndicatorInstitution.indicator_id == Indicator.id)
        .where(Indicator.plan_id == plan_id, IndicatorInstitution.institution_id == institution_id)
        .order_by(Indicator.position)
    )
    actions = (
        sa.select(Action)
        .join(ActionInstitution, ActionInstitution.action_id == Action.id)
        .where(Action.plan_id == plan_id, ActionInstitution.institution_id == institution_id)
        .options(joinedload(Action.pillar))
        .order_by(Action.position)
    )
    if year is not None:
        indicators, actions = indicators.where(Indicator.in_force(year)), actions.where(Action.in_force(year))
    return list(session.scalars(indicators)), list(session.scalars(actions))


def worklist(session: Session, cycle: ReportingCycle, institution_id: int) -> list[WorkItem]:
    """Everything the institution reports on in this cycle, with the state of each entry (3 queries). Items
    retired by then are left out, unless an entry was started for them before: it stays reachable."""
    indicators, actions = assigned_items(session, cycle.plan_id, institution_id)
    entries = session.scalars(sa.select(Entry).filter_by(cycle_id=cycle.id, institution_id=institution_id)).all()
    by_indicator = {e.indicator_id: e for e in entries if e.kind == EntryKind.indicator}
    by_action = {e.action_id: e for e in entries if e.kind == EntryKind.action}
    return [WorkItem(EntryKind.indicator, i, by_indicator.get(i.id)) for i in indicators
            if i.in_force(cycle.year) or i.id in by_indicator] + [
        WorkItem(EntryKind.action, a, by_action.get(a.id)) for a in actions if a.in_force(cycle.year) or a.id in by_action
    ]


def retired_item_message(item: Indicator | Action) -> str:
    """Why no new entry can be started for a retired item, in the current language."""
    return str(_l("%(code)s was retired from the plan on %(date)s: from %(year)s on it is no longer reported.",
                  code=item.code, date=format_date(item.retired_at), year=item.retired_at.year))


def require_in_force(cycle: ReportingCycle, item: Indicator | Action) -> None:
    """A new entry only for an item still asked for in the cycle's year; entries started before it was retired
    stay readable and editable."""
    if not item.in_force(cycle.year):
        raise ValidationFailed([("", retired_item_message(item))])


def institution_deadline(cycle: ReportingCycle, institution_id: int | None = None,
                         exceptions: dict[int, DeadlineException] | None = None) -> date:
    """The deadline day that holds for an institution: its exception's, else the cycle's. An exception never
    shortens it (a cycle reopened with a later deadline overtakes it). `exceptions` is `deadline_exceptions`,
    loaded once by callers that ask for many institutions; without it, it is looked up (one query)."""
    if institution_id is None:
        return cycle.deadline
    if exceptions is None:
        exceptions = deadline_exceptions(object_session(cycle), cycle)
    exception = exceptions.get(institution_id)
    return max(cycle.deadline, exception.deadline) if exception else cycle.deadline


def deadline_moment(cycle: ReportingCycle, institution_id: int | None = None,
                    exceptions: dict[int, DeadlineException] | None = None) -> datetime:
    """When the deadline day ends in the plan's country, in UTC: a submission strictly before it is on time.
    The one rule for "on time", "late" and "days left" (dashboards, reports, reminders); for an institution,
    its own deadline (`institution_deadline`)."""
    return deadline_end(institution_deadline(cycle, institution_id, exceptions), plan_timezone(cycle.plan))


def days_left(cycle: ReportingCycle, now: datetime | None = None, institution_id: int | None = None,
              exceptions: dict[int, DeadlineException] | None = None) -> int:
    """Days from today in the plan's country to the deadline day (the institution's own when given): 0 on the
    day itself, negative once late."""
    today = (now or utcnow()).astimezone(plan_timezone(cycle.plan)).date()
    return (institution_deadline(cycle, institution_id, exceptions) - today).days


# -- entries ------------------------------------------------------------------------------------


def find_entry(session: Session, cycle: ReportingCycle, institution_id: int, kind: EntryKind, item_id: int) -> Entry | None:
    column = getattr(Entry, kinds.of(kind).item_column)
    return session.scalars(
        sa.select(Entry).where(Entry.cycle_id == cycle.id, Entry.institution_id == institution_id, column == item_id)
    ).one_or_none()


def get_entry(session: Session, entry_id: int) -> Entry | None:
    """An entry with its cycle, plan item, institution and budget details loaded."""
    from tracker.budget.models import BudgetItem, BudgetItemAction

    return session.scalars(
        sa.select(Entry)
        .where(Entry.id == entry_id)
        .options(
            joinedload(Entry.cycle).joinedload(ReportingCycle.plan),
            joinedload(Entry.institution),
            joinedload(Entry.indicator),
            joinedload(Entry.action),
            selectinload(Entry.evidence),
            selectinload(Entry.budget).selectinload(BudgetItem.financed_actions).joinedload(BudgetItemAction.action),
            selectinload(Entry.budget).selectinload(BudgetItem.external_support),
        )
    ).unique().one_or_none()


@dataclass
class IndicatorInput:
    value: Decimal | None = None
    women: int | None = None
    men: int | None = None
    reported_total: int | None = None
    numerator: Decimal | None = None
    denominator: Decimal | None = None
    value_text: str = ""
    value_bool: bool | None = None
    narrative: str = ""
    data_source: str = ""


@dataclass
class ActionInput:
    action_status: ActionStatus | None = None
    done: str = ""
    challenges: str = ""
    next_steps: str = ""


@dataclass
class FieldErrors:
    items: list[tuple[str, str]] = field(default_factory=list)

    def add(self, name: str, message: Any) -> None:
        self.items.append((name, str(message)))

    def raise_if_any(self) -> None:
        if self.items:
            raise ValidationFailed(self.items)


def _check_indicator_input(indicator: Indicator, data: IndicatorInput, complete: bool) -> None:
    """Values must make sense always; a submission must also be complete."""
    errors = FieldErrors()
    for name in ("women", "men", "reported_total", "numerator", "denominator", "value"):
        number = getattr(data, name)
        if number is not None and number < 0:
            errors.add(name, _l("Cannot be negative."))
        elif number is not None and number > MAX_FIGURE:
            errors.add(name, _l("This number is too large."))
    if data.denominator is not None and data.denominator <= 0:
        errors.add("denominator", _l("Must be greater than zero."))
    numerator = _numerator(indicator, data)
    if indicator.measure == Measure.percentage and numerator is not None and data.denominator and numerator > data.denominator:
        field_name = "women" if indicator.counts_people else "numerator"
        errors.add(field_name, _l("The part (numerator) cannot be larger than the whole (denominator)."))
    if complete:
        _check_complete(indicator, data, errors)
    errors.raise_if_any()


def check_indicator_input(indicator: Indicator, data: IndicatorInput, complete: bool = False) -> None:
    """The indicator value checks, for callers outside this module (the Excel import); raises ValidationFailed."""
    _check_indicator_input(indicator, data, complete)


def _check_complete(indicator: Indicator, data: IndicatorInput, errors: FieldErrors) -> None:
    if indicator.counts_people:
        for name in ("women", "men"):
            if getattr(data, name) is None:
                errors.add(name, _l("This indicator counts people: give the figures for women and for men."))
    elif indicator.measure == Measure.number and data.value is None:
        errors.add("value", _l("Enter the value."))
    if indicator.measure == Measure.percentage:
        if not indicator.counts_people and data.numerator is None:
            errors.add("numerator", _l("Enter the numerator."))
        if data.denominator is None:
            errors.add("denominator", _l("Enter the denominator."))
    if indicator.measure == Measure.qualitative and not data.value_text.strip():
        errors.add("value_text", _l("Describe the progress."))
    if indicator.measure == Measure.yes_no and data.value_bool is None:
        errors.add("value_bool", _l("Answer yes or no."))


def _numerator(indicator: Indicator, data: IndicatorInput) -> Decimal | None:
    return people_numerator(indicator.counts_people, data.women, data.men, data.numerator)


def _derived_value(indicator: Indicator, data: IndicatorInput) -> Decimal | None:
    """The single figure statuses are computed from."""
    if indicator.measure == Measure.number:
        if indicator.counts_people:
            return _numerator(indicator, data)
        return data.value
    if indicator.measure == Measure.percentage:
        numerator = _numerator(indicator, data)
        if numerator is None or not data.denominator:
            return None
        return (numerator / data.denominator * 100).quantize(Decimal("0.0001"))
    if indicator.measure == Measure.yes_no:
        return None if data.value_bool is None else Decimal(int(data.value_bool))
    return None


def check_action_input(data: ActionInput, complete: bool = False) -> None:
    """An action's status is required to submit it; raises ValidationFailed."""
    if complete and data.action_status is None:
        raise ValidationFailed([("action_status", str(_l("Choose the action's status.")))])


def require_open(cycle: ReportingCycle) -> None:
    if not cycle.is_open:
        raise ValidationFailed([("", str(_l("The reporting cycle %(year)s is closed; entries cannot be changed.", year=cycle.year)))])


def lock_entry(session: Session, entry: Entry) -> None:
    """Hold the entry until the commit and read what was last committed, so that the version checks that
    follow are atomic: a concurrent writer waits here (PostgreSQL: SELECT ... FOR UPDATE; SQLite: the
    write lock is already held since BEGIN IMMEDIATE) and then sees the change instead of overwriting it."""
    session.execute(sa.select(Entry.id).where(Entry.id == entry.id).with_for_update())
    session.refresh(entry)


def check_version(session: Session, entry: Entry, expected_version: int | None, request_key: str | None = None,
                  user=None) -> None:
    """Refuse a save based on an older version (None: the form was opened before the entry existed);
    a save whose form submission made the latest version already is AlreadySaved, not a conflict."""
    expected_version = expected_version or 0
    if expected_version == entry.version:
        return
    if request_key and _latest_version_key(session, entry, user) == request_key:
        raise AlreadySaved(entry)
    then = session.scalars(sa.select(EntryVersion).filter_by(entry_id=entry.id, number=expected_version)).one_or_none()
    before = then.values if then else {}
    now = entry.snapshot()
    changes = [(name, before.get(name), now.get(name)) for name in entry.fields if before.get(name) != now.get(name)]
    raise ConflictError(entry, changes)


def _latest_version_key(session: Session, entry: Entry, user) -> str | None:
    latest = session.scalars(sa.select(EntryVersion).filter_by(entry_id=entry.id, number=entry.version)).one_or_none()
    return latest.request_key if latest is not None and latest.user_id == getattr(user, "id", None) else None


def record_version(session: Session, entry: Entry, event: str, user, note: str = "", request_key: str | None = None) -> None:
    session.add(
        EntryVersion(
            entry_id=entry.id,
            number=entry.version,
            event=event,
            state=entry.state,
            data=json.dumps(entry.snapshot(), ensure_ascii=False, sort_keys=True),
            note=note,
            user_id=getattr(user, "id", None),
            user_name=getattr(user, "name", "") or "",
            request_key=request_key or None,
        )
    )


def save_entry(
    session: Session,
    user,
    cycle: ReportingCycle,
    institution: Institution,
    item: Indicator | Action,
    data: IndicatorInput | ActionInput,
    expected_version: int | None = None,
    submit: bool = False,
    event: str = "saved",
    request_key: str | None = None,
) -> Entry:
    """Create or update an institution's entry for an indicator or action; submit it too when asked.

    `expected_version` is the version the form was opened at: a save based on an older one raises
    ConflictError, or AlreadySaved when `request_key` shows it is the same submission arriving twice.
    """
    if not permissions.can_edit_for_institution(user, institution.id):
        raise PermissionDenied()
    require_open(cycle)
    kind = _kind_of(item)
    entry = find_entry(session, cycle, institution.id, kind, item.id)
    if entry is not None:
        check_editable(session, entry, expected_version, request_key, user)
    else:
        require_in_force(cycle, item)
    _check_input(item, data, complete=submit)
    created = entry is None
    if created:
        entry = new_entry(session, cycle, institution, kind, item, lambda e: _apply(e, item, data),
                          expected_version, request_key, user)
    else:
        entry.version += 1
        _apply(entry, item, data)
    entry.updated_at = utcnow()
    session.flush()
    record_version(session, entry, "created" if created and event == "saved" else event, user, request_key=request_key)
    audit.record(session, f"entry.{event}", actor=user, target=entry, item=item.code, year=cycle.year)
    if submit:
        steps.take_step(session, user, entry, "submit", request_key=request_key)
    return entry


def _check_input(item: Indicator | Action, data: IndicatorInput | ActionInput, complete: bool) -> None:
    if isinstance(item, Indicator):
        _check_indicator_input(item, data, complete=complete)
    else:
        check_action_input(data, complete=complete)


def save_drafts(session: Session, user, cycle: ReportingCycle, institution: Institution,
                rows: list[tuple[Indicator | Action, IndicatorInput | ActionInput, int | None]], event: str = "imported",
                progress=None) -> int:
    """Save many drafts at once (the Excel import), all or nothing, with save_entry's rules; `progress(done,
    total)` is told after each row is checked (a background import's progress bar).

    The institution's entries of the cycle are loaded and locked in one statement, and the rows are
    written in a few batched statements, so 5,000 rows take seconds, not a worker timeout.
    """
    if not permissions.can_edit_for_institution(user, institution.id):
        raise PermissionDenied()
    require_open(cycle)
    existing = session.scalars(sa.select(Entry).where(Entry.cycle_id == cycle.id, Entry.institution_id == institution.id)
                               .with_for_update(of=Entry).execution_options(populate_existing=True)).all()
    by_item = {(e.kind, e.indicator_id or e.action_id): e for e in existing}
    saved: list[tuple[Entry, Indicator | Action]] = []
    with session.no_autoflush:
        for item, data, expected_version in rows:
            entry = by_item.get((_kind_of(item), item.id))
            if entry is not None:
                _require_editable(entry)
                check_version(session, entry, expected_version, None, user)
            else:
                require_in_force(cycle, item)
            _check_input(item, data, complete=False)
            if entry is None:
                entry = _draft_entry(cycle, institution, _kind_of(item), item)
                session.add(entry)
            else:
                entry.version += 1
            _apply(entry, item, data)
            entry.updated_at = utcnow()
            saved.append((entry, item))
            if progress is not None:
                progress(len(saved), len(rows) + 1)
    session.flush()
    for entry, item in saved:
        record_version(session, entry, event, user)
        audit.record(session, f"entry.{event}", actor=user, target=entry, item=item.code, year=cycle.year)
    session.flush()
    return len(saved)


def check_editable(session: Session, entry: Entry, expected_version: int | None, request_key: str | None, user) -> None:
    """Lock the entry, then refuse a save of a locked state or of an older version."""
    lock_entry(session, entry)
    if entry.state not in states.EDITABLE and request_key and _latest_version_key(session, entry, user) == request_key:
        raise AlreadySaved(entry)  # a double click on "Save and submit" finds its entry submitted already
    _require_editable(entry)
    check_version(session, entry, expected_version, request_key, user)


def _require_editable(entry: Entry) -> None:
    if entry.state not in states.EDITABLE:
        raise WorkflowError(str(_l("This entry is %(state)s and cannot be edited.", state=state_word(entry.state))))


def _kind_of(item: Indicator | Action) -> EntryKind:
    return EntryKind.indicator if isinstance(item, Indicator) else EntryKind.action


def _draft_entry(cycle: ReportingCycle, institution: Institution, kind: EntryKind, item) -> Entry:
    """A new entry's first version, before its values are applied (`item` is None for a budget item)."""
    item_column = kinds.of(kind).item_column
    return Entry(cycle_id=cycle.id, institution_id=institution.id, kind=kind, version=1, state=EntryState.draft,
                 **({item_column: item.id} if item_column else {}))


def new_entry(session: Session, cycle: ReportingCycle, institution: Institution, kind: EntryKind, item,
              fill: Callable[[Entry], None], expected_version: int | None, request_key: str | None, user) -> Entry:
    """Insert the first version of an entry. When another request inserted the same entry at the same
    moment (the unique constraint says so), the savepoint keeps this transaction usable and the outcome
    is the one a later save would get: AlreadySaved or ConflictError."""
    entry = _draft_entry(cycle, institution, kind, item)
    fill(entry)
    try:
        with session.begin_nested():
            session.add(entry)
            session.flush()
    except sa.exc.IntegrityError:
        other = _find_any_entry(session, cycle, institution.id, kind, item)
        if other is None:
            raise
        check_editable(session, other, expected_version, request_key, user)
        raise ConflictError(other, [])  # not reached: the form expected no entry, and `other` has a version
    return entry


def _find_any_entry(session: Session, cycle: ReportingCycle, institution_id: int, kind: EntryKind, item) -> Entry | None:
    if kind == EntryKind.budget:
        return session.scalars(sa.select(Entry).filter_by(cycle_id=cycle.id, institution_id=institution_id,
                                                          kind=EntryKind.budget)).one_or_none()
    return find_entry(session, cycle, institution_id, kind, item.id)


def _apply(entry: Entry, item: Indicator | Action, data: IndicatorInput | ActionInput) -> None:
    for name in entry.fields:
        setattr(entry, name, getattr(data, name) if hasattr(data, name) else None)
    if entry.kind == EntryKind.indicator:
        entry.value = _derived_value(item, data)
        entry.value_text = data.value_text.strip()
        entry.narrative = data.narrative.strip()
        entry.data_source = data.data_source.strip()


def state_word(state: EntryState) -> str:
    from tracker.labels import label

    return label(state).lower()


def entry_history(session: Session, entry: Entry) -> list[EntryVersion]:
    """Every version of the entry, newest first."""
    return list(session.scalars(sa.select(EntryVersion).filter_by(entry_id=entry.id).order_by(EntryVersion.number.desc())))


def approved_entries(session: Session, plan_id: int, year: int | None = None) -> list[Entry]:
    """Only approved entries count in status, dashboards and reports."""
    query = (
        sa.select(Entry)
        .join(ReportingCycle, ReportingCycle.id == Entry.cycle_id)
        .where(ReportingCycle.plan_id == plan_id, Entry.state == EntryState.approved)
    )
    if year is not None:
        query = query.where(ReportingCycle.year == year)
    return list(session.scalars(query))
