"""Budget items: entered by an institution's reporters, reviewed through the progress workflow.

A budget item is an Entry of kind `budget` (workflow, versions, audit, notifications are the
progress ones) with its figures in BudgetItem. Amounts are exact decimals in the plan's currency; which
figures an item has, and their names, come from the plan's budget profile (tracker.budget.profiles).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _ln
from sqlalchemy.orm import Session, selectinload

from tracker import audit, permissions
from tracker.budget.models import AMOUNTS, LINE_FIELDS, BudgetItem, BudgetItemAction, BudgetStage, ExternalSupport
from tracker.budget.profiles import Profile, profile_of
from tracker.db import utcnow
from tracker.domain import PermissionDenied, ValidationFailed
from tracker.plan.models import Action, BudgetBinding, Institution, Plan
from tracker.progress import services as progress
from tracker.progress.models import Entry, EntryKind, ReportingCycle
from tracker.progress.queries import reporting_institutions
from tracker.review import steps


@dataclass
class SupportInput:
    donor: str
    amount: Decimal
    currency: str
    purpose: str = ""


@dataclass
class BudgetInput:
    stage: BudgetStage | None = None
    pliego: str = ""
    unidad_ejecutora: str = ""
    meta_presupuestal: str = ""
    product_activity: str = ""
    expense_category: str = ""
    funding_source: str = ""
    pia: Decimal | None = None
    pim: Decimal | None = None
    certificado: Decimal | None = None
    compromiso_anual: Decimal | None = None
    devengado: Decimal | None = None
    girado: Decimal | None = None
    figures_as_of: date | None = None
    action_codes: list[str] = field(default_factory=list)
    external_support: list[SupportInput] = field(default_factory=list)


def check_budget_input(data: BudgetInput, profile: Profile, complete: bool = False) -> None:
    """Amounts must be coherent always; a submission must also say the stage and the figures it implies
    (which figures, and the words of the messages, are the profile's)."""
    errors = progress.FieldErrors()
    for name in AMOUNTS:
        value = getattr(data, name)
        if value is not None and value < 0:
            errors.add(name, _l("Cannot be negative."))
        elif value is not None and value > progress.MAX_FIGURE:
            errors.add(name, _l("This number is too large."))
    if data.devengado is not None and data.pim is not None and data.devengado > data.pim:
        errors.add("devengado", profile.over_allocation)
    if data.girado is not None and data.devengado is not None and data.girado > data.devengado:
        errors.add("girado", _l("Paid (girado) cannot be above accrued spending (devengado)."))
    for i, support in enumerate(data.external_support):
        if support.amount < 0:
            errors.add("external_support", _l("Line %(n)d: the amount cannot be negative.", n=i + 1))
        elif support.amount > progress.MAX_FIGURE:
            errors.add("external_support", _l("Line %(n)d: the amount is too large.", n=i + 1))
        if len(support.currency) != 3 or not support.currency.isalpha():
            errors.add("external_support", _l("Line %(n)d: the currency must be a three-letter code such as PEN or USD.", n=i + 1))
    if complete:
        _check_complete(data, profile, errors)
    errors.raise_if_any()


def _check_complete(data: BudgetInput, profile: Profile, errors: progress.FieldErrors) -> None:
    if data.stage is None:
        errors.add("stage", _l("Say whether the budget includes the item."))
        return
    name, message = profile.required.get(data.stage, (None, None))
    if name and getattr(data, name) is None:
        errors.add(name, message)


def check_budget_complete(entry: Entry) -> None:
    """Used by the shared workflow when a budget entry is submitted."""
    check_budget_input(_input_from(entry.budget), profile_of(entry.cycle.plan), complete=True)


def _input_from(item: BudgetItem | None) -> BudgetInput:
    if item is None:
        return BudgetInput()
    values = {name: getattr(item, name) for name in ("stage", *LINE_FIELDS, *AMOUNTS, "figures_as_of")}
    return BudgetInput(**values)


def bound_institution_ids(session: Session, plan: Plan) -> set[int]:
    """The institutions the plan's budget clause names (empty: the clause names none)."""
    return set(session.scalars(sa.select(BudgetBinding.institution_id).filter_by(plan_id=plan.id)))


def clause_institutions(session: Session, plan: Plan) -> list[Institution]:
    """The institutions the budget clause binds: those the plan names (plan.budget.binds), else every
    institution responsible for the plan's actions or indicators. They make the compliance denominator."""
    bound = bound_institution_ids(session, plan)
    if not bound:
        return reporting_institutions(session, plan)
    return list(session.scalars(sa.select(Institution).where(Institution.id.in_(bound)).order_by(Institution.code)))


def is_bound(session: Session, plan: Plan, institution: Institution) -> bool:
    """Whether the budget clause binds the institution (it then reports a budget item)."""
    return institution.id in {i.id for i in clause_institutions(session, plan)}


def _not_bound_message(session: Session, plan: Plan, institution: Institution) -> str:
    if bound_institution_ids(session, plan):
        return str(_l("The budget clause of this plan does not bind %(code)s.", code=institution.code))
    return str(_l("%(code)s is not an implementing institution of this plan.", code=institution.code))


def find_budget_entry(session: Session, cycle: ReportingCycle, institution_id: int) -> Entry | None:
    query = sa.select(Entry).filter_by(cycle_id=cycle.id, institution_id=institution_id, kind=EntryKind.budget)
    options = selectinload(Entry.budget).selectinload(BudgetItem.financed_actions).joinedload(BudgetItemAction.action)
    return session.scalars(query.options(options)).unique().one_or_none()


def save_budget_item(
    session: Session,
    user,
    cycle: ReportingCycle,
    institution: Institution,
    data: BudgetInput,
    expected_version: int | None = None,
    submit: bool = False,
    event: str = "saved",
    request_key: str | None = None,
) -> Entry:
    """Create or update the institution's budget item for the cycle's year; submit it too when asked.
    Concurrent saves and double clicks end as for any entry (see progress.services.save_entry)."""
    if not permissions.can_edit_for_institution(user, institution.id):
        raise PermissionDenied()
    progress.require_open(cycle)
    if not is_bound(session, cycle.plan, institution):
        raise ValidationFailed([("", _not_bound_message(session, cycle.plan, institution))])
    entry = find_budget_entry(session, cycle, institution.id)
    if entry is not None:
        progress.check_editable(session, entry, expected_version, request_key, user)
    profile = profile_of(cycle.plan)
    data = _only_profile_fields(data, profile)
    check_budget_input(data, profile, complete=submit)
    linked = {link.action_id for link in entry.budget.financed_actions} if entry is not None and entry.budget else set()
    actions = _financed_actions(session, cycle, data.action_codes, linked)
    created = entry is None
    if created:
        entry = progress.new_entry(session, cycle, institution, EntryKind.budget, None, lambda _entry: None,
                                   expected_version, request_key, user)
        session.add(BudgetItem(entry_id=entry.id))
        session.flush()
        session.refresh(entry)
    else:
        entry.version += 1
    _apply(entry.budget, data, actions)
    entry.updated_at = utcnow()
    session.flush()
    progress.record_version(session, entry, "created" if created and event == "saved" else event, user,
                            request_key=request_key)
    audit.record(session, f"entry.{event}", actor=user, target=entry, item="budget", year=cycle.year)
    if submit:
        steps.take_step(session, user, entry, "submit", request_key=request_key)
    return entry


def _only_profile_fields(data: BudgetInput, profile: Profile) -> BudgetInput:
    """The input without the figures the profile does not have (a generic item has no pliego nor PIA)."""
    blank = BudgetInput()
    kept = {name: getattr(data if name in profile.field_names else blank, name) for name in (*LINE_FIELDS, *AMOUNTS)}
    return BudgetInput(stage=data.stage, figures_as_of=data.figures_as_of, action_codes=data.action_codes,
                       external_support=data.external_support, **kept)


def _financed_actions(session: Session, cycle: ReportingCycle, codes: list[str], linked: set[int]) -> list[Action]:
    """The actions the item says it finances. One retired by the cycle's year cannot be newly linked; a link
    made before the retirement stays (the item keeps saying what it financed)."""
    if not codes:
        return []
    actions = list(session.scalars(sa.select(Action).where(Action.plan_id == cycle.plan_id, Action.code.in_(codes))))
    unknown = sorted(set(codes) - {a.code for a in actions})
    if unknown:
        raise ValidationFailed([("actions", str(_l("Unknown actions: %(codes)s.", codes=", ".join(unknown))))])
    retired = [a for a in actions if a.id not in linked and not a.in_force(cycle.year)]
    if retired:
        raise ValidationFailed([("actions", progress.retired_item_message(a)) for a in retired])
    return actions


def _apply(item: BudgetItem, data: BudgetInput, actions: list[Action]) -> None:
    item.stage = data.stage
    for name in LINE_FIELDS:
        setattr(item, name, (getattr(data, name) or "").strip())
    for name in (*AMOUNTS, "figures_as_of"):
        setattr(item, name, getattr(data, name))
    item.financed_actions = [BudgetItemAction(action=a) for a in actions]
    item.external_support = [
        ExternalSupport(donor=s.donor.strip(), amount=s.amount, currency=s.currency.upper(), purpose=s.purpose.strip())
        for s in data.external_support
    ]


def input_from_entry(entry: Entry | None) -> BudgetInput:
    """The stored figures as form input (for editing)."""
    if entry is None or entry.budget is None:
        return BudgetInput()
    data = _input_from(entry.budget)
    data.action_codes = [link.action.code for link in entry.budget.financed_actions]
    data.external_support = [SupportInput(s.donor, s.amount, s.currency, s.purpose) for s in entry.budget.external_support]
    return data


def import_mef_figures(session: Session, user, cycle: ReportingCycle, institution: Institution, data: bytes) -> list[str]:
    """Update the institution's draft budget item from a spending-portal CSV; returns the errors (none: saved).

    The row whose pliego, unidad ejecutora and meta match the item's budget line gives PIA, PIM,
    certificación, compromiso anual, devengado and girado. All or nothing: a file that is not the
    portal's CSV (binary, unreadable characters, too many lines, a huge cell) gives one error and no change.
    """
    from tracker.budget import mef_csv

    if not profile_of(cycle.plan).spending_portal:
        return [str(_l("This plan's budget items are not classified as in Peru's spending portal."))]
    rows, file_error = mef_csv.parse(data)
    if file_error:
        return [file_error]
    entry = find_budget_entry(session, cycle, institution.id)
    if entry is None or not all(getattr(entry.budget, k) for k in mef_csv.KEY_COLUMNS):
        return [str(_l("First save the budget item with its pliego, unidad ejecutora and meta presupuestal."))]
    key = tuple(mef_csv.line_code(getattr(entry.budget, k)) for k in mef_csv.KEY_COLUMNS)
    errors = _first_errors([r.error for r in rows if r.error])
    matches = [r for r in rows if r.key == key and not r.error]
    if not errors and len(matches) != 1:
        errors.append(str(_l("No line of the file matches the budget line %(key)s.", key=" / ".join(key))) if not matches
                      else str(_l("Several lines of the file match the budget line %(key)s.", key=" / ".join(key))))
    if errors:
        return errors
    progress.lock_entry(session, entry)  # the figures go on the item as it is now, not as it was read
    data_in = input_from_entry(entry)
    for name, amount in matches[0].amounts.items():
        setattr(data_in, name, amount)
    try:
        save_budget_item(session, user, cycle, institution, data_in, entry.version, event="imported")
    except ValidationFailed as exc:
        return [message for _field, message in exc.errors]
    return []


MAX_SHOWN_ERRORS = 20  # a file wrong on every line would otherwise fill the page


def _first_errors(errors: list[str]) -> list[str]:
    """The first errors of the file, and how many more there are."""
    if len(errors) <= MAX_SHOWN_ERRORS:
        return errors
    more = len(errors) - MAX_SHOWN_ERRORS
    return [*errors[:MAX_SHOWN_ERRORS], str(_ln("… and %(num)d more line with errors.", "… and %(num)d more lines with errors.", more))]
