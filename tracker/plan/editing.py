"""Changing a plan after it was loaded: the one service behind the browser's plan forms, plan files and the
indicator matrix spreadsheet.

Every change names who made it, why and through which channel, and keeps old -> new: fields in PlanChange,
targets in IndicatorTargetChange. The same rules refuse what no channel may do: a change to what approved values
mean, a code used twice, an institution of another country, a baseline without its year. Functions flush and
never commit; refusals raise EditRefused with one problem per field, translated when shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, Iterable

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session

from tracker.db import utcnow
from tracker.plan import models as m
from tracker.plan.schema import FIRST_YEAR, LAST_YEAR

# What an approved value means: these may not change under it (statuses of past years would change silently).
MEANING_FIELDS = ("measure", "counts_people", "direction", "cumulative", "baseline_value", "baseline_year")
# Fields whose change is not a change of the plan's content (kept out of the history).
UNTRACKED = frozenset({"position"})
KINDS: dict[m.PlanItemKind, type] = {
    m.PlanItemKind.objective: m.Objective,
    m.PlanItemKind.action: m.Action,
    m.PlanItemKind.indicator: m.Indicator,
}


@dataclass(frozen=True)
class Editor:
    """Who changes the plan (an e-mail, or the plan file), why, and how the change arrived."""

    by: str
    reason: str
    channel: m.ChangeChannel


@dataclass(frozen=True)
class Problem:
    """One refused part of a change: the field (a form field's name, or "" for the whole item) and why."""

    field: str
    message: Any  # a lazy translated string

    def __str__(self) -> str:
        return str(self.message)


class EditRefused(Exception):
    """The change breaks a rule of the plan; nothing was changed."""

    def __init__(self, problems: Iterable[Problem], item: str = ""):
        self.problems = list(problems)
        self.item = item  # "indicator IND-1", set where several items change at once
        super().__init__(item)

    def __str__(self) -> str:  # in the language in force when shown
        text = " ".join(str(p) for p in self.problems)
        return f"{self.item}: {text}" if self.item else text

    @property
    def errors(self) -> list[tuple[str, str]]:
        """(field, message) pairs, as tracker.forms.apply_errors puts them on a form."""
        return [(p.field, str(p)) for p in self.problems]



def refuse(field_name: str, message: Any) -> EditRefused:
    return EditRefused([Problem(field_name, message)])


@dataclass
class ItemOutcome:
    """What a change did to one item: created, the fields changed, the target years changed."""

    kind: m.PlanItemKind
    code: str
    created: bool = False
    fields: list[str] = field(default_factory=list)
    target_years: list[int] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.created or bool(self.fields or self.target_years)


# ----------------------------------------------------------------------------------------------
# Showing values in the history


def shown(value: Any) -> str | None:
    """A field's value as the history keeps it: codes for items, plain text for the rest."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if hasattr(value, "code"):
        return value.code
    return str(value)


RELATIONS = {"pillar_id": ("pillar", m.Pillar), "objective_id": ("objective", m.Objective),
             "action_id": ("action", m.Action), "parent_id": ("parent", m.Objective)}


def _history_value(session: Session, name: str, value: Any) -> str | None:
    if name in RELATIONS and value is not None:
        return session.get(RELATIONS[name][1], value).code
    return shown(value)


# ----------------------------------------------------------------------------------------------
# Rules every channel keeps


def check_values(session: Session, plan: m.Plan, kind: m.PlanItemKind, values: dict[str, Any], row: Any = None) -> None:
    """Refuse values that break the plan's rules (all problems at once); `row` is the item being changed."""
    merged = {"id": None} if row is None else {"id": row.id, **{c: getattr(row, c) for c in values_columns(kind)}}
    problems = list(_value_problems(session, plan, kind, {**merged, **values}))
    if row is not None and kind == m.PlanItemKind.indicator:
        problems += _meaning_problems(session, row, values)
    if problems:
        raise EditRefused(problems)


def values_columns(kind: m.PlanItemKind) -> list[str]:
    """The columns an edit may set (not the keys, nor the monitoring body's decisions)."""
    keys = (c.key for c in sa.inspect(KINDS[kind]).column_attrs)
    return [k for k in keys if k not in ("id", "plan_id", "code") and not k.startswith(("confirmed_", "retired_"))]


def _value_problems(session: Session, plan: m.Plan, kind: m.PlanItemKind, v: dict[str, Any]) -> Iterable[Problem]:
    for name in ("pillar_id", "objective_id", "action_id", "parent_id"):
        if v.get(name) is not None:
            other = session.get(RELATIONS[name][1], v[name])
            if other is None or other.plan_id != plan.id:
                yield Problem(RELATIONS[name][0], _l("Choose an item of this plan."))
    text = "name" if kind == m.PlanItemKind.indicator else "text"
    if not (v.get(f"{text}_es") or "").strip() and not (v.get(f"{text}_en") or "").strip():
        yield Problem(f"{text}_es", _l("Give the text in Spanish or in English."))
    if kind == m.PlanItemKind.action and v.get("pillar_id") is None:
        yield Problem("pillar", _l("An action belongs to a pillar."))
    if kind == m.PlanItemKind.objective and row_is_own_parent(v):
        yield Problem("parent", _l("An objective cannot be its own parent."))
    if kind == m.PlanItemKind.indicator:
        yield from _indicator_problems(v)


def row_is_own_parent(v: dict[str, Any]) -> bool:
    return v.get("id") is not None and v.get("parent_id") == v.get("id")


def _indicator_problems(v: dict[str, Any]) -> Iterable[Problem]:
    if v.get("pillar_id") is None and v.get("objective_id") is None and v.get("action_id") is None:
        yield Problem("pillar", _l("Attach the indicator to a pillar, an objective or an action."))
    if v.get("counts_people") and v.get("measure") not in (m.Measure.number, m.Measure.percentage):
        yield Problem("counts_people", _l("Only numbers and percentages count people."))
    if (v.get("baseline_value") is None) != (v.get("baseline_year") is None):
        yield Problem("baseline_year", _l("A baseline needs both its value and its year."))
    year = v.get("baseline_year")
    if year is not None and not FIRST_YEAR <= year <= LAST_YEAR:
        yield Problem("baseline_year", _l("Give a year between %(first)d and %(last)d.", first=FIRST_YEAR, last=LAST_YEAR))
    if v.get("measure") == m.Measure.percentage and v.get("baseline_value") is not None and not 0 <= v["baseline_value"] <= 100:
        yield Problem("baseline_value", _l("A percentage is between 0 and 100."))
    low, high = v.get("expected_min"), v.get("expected_max")
    if low is not None and high is not None and low > high:
        yield Problem("expected_max", _l("The highest expected figure cannot be below the lowest."))
    if v.get("change_threshold") is not None and v["change_threshold"] <= 0:
        yield Problem("change_threshold", _l("Give a percentage above zero."))


def approved_entries(session: Session, indicator_id: int) -> int:
    from tracker.progress.models import Entry, EntryState  # progress builds on the plan

    query = sa.select(sa.func.count()).select_from(Entry).filter_by(indicator_id=indicator_id, state=EntryState.approved)
    return session.scalar(query) or 0


def _meaning_problems(session: Session, row: m.Indicator, values: dict[str, Any]) -> list[Problem]:
    changed = [f for f in MEANING_FIELDS if f in values and getattr(row, f) != values[f]]
    if not changed:
        return []
    approved = approved_entries(session, row.id)
    if not approved:
        return []
    message = _l("%(fields)s cannot change while %(n)d approved entries use this indicator (reopen them first, or add "
                 "a new indicator with another code)", fields=", ".join(changed), n=approved)
    return [Problem(changed[0], message)]


def check_code_free(session: Session, plan: m.Plan, kind: m.PlanItemKind, code: str) -> None:
    model = KINDS[kind]
    if session.scalar(sa.select(model.id).filter_by(plan_id=plan.id, code=code)) is not None:
        raise refuse("code", _l("The code %(code)s is already used in this plan (retired items keep theirs).", code=code))


def check_institutions(plan: m.Plan, institutions: Iterable[m.Institution]) -> None:
    if any(i.country_id != plan.country_id for i in institutions):
        raise refuse("lead", _l("Choose institutions of the plan's country."))


# ----------------------------------------------------------------------------------------------
# Changing items


def _record(session: Session, plan: m.Plan, kind: m.PlanItemKind, code: str, name: str, old: str | None,
            new: str | None, editor: Editor) -> None:
    session.add(m.PlanChange(plan_id=plan.id, item_kind=kind, item_code=code, field=name, old_value=old,
                             new_value=new, reason=editor.reason, changed_by=editor.by, channel=editor.channel))


def _require_reason(editor: Editor) -> None:
    if not editor.reason.strip():
        raise refuse("reason", _l("Say why: every change of the plan keeps its reason."))


def set_fields(session: Session, plan: m.Plan, kind: m.PlanItemKind, row: Any, values: dict[str, Any],
               editor: Editor) -> list[str]:
    """Change an existing item's fields after checking them; keep old -> new of each; return the changed names."""
    _require_reason(editor)
    values = {k: v for k, v in values.items() if getattr(row, k) != v}
    if not values:
        return []
    check_values(session, plan, kind, values, row)
    for name, value in values.items():
        if name not in UNTRACKED:
            old = _history_value(session, name, getattr(row, name))
            _record(session, plan, kind, row.code, name, old, _history_value(session, name, value), editor)
        setattr(row, name, value)
    session.flush()
    return [n for n in values if n not in UNTRACKED]


def decided_provenance(plan: m.Plan, editor: Editor, source_document: str) -> dict[str, Any]:
    """Where an item the monitoring body adds in the tracker (a form, the indicator matrix) comes from: not the
    source document's wording (derived), and confirmed by the body the day it was added, the reason as reference."""
    return {"source_document": source_document[:255], "source_section": "", "verification": m.Verification.derived,
            "original_language": plan.original_language, "confirmed_on": plan_today(plan),
            "confirmed_ref": editor.reason[:255], "confirmed_by": editor.by}


def add_item(session: Session, plan: m.Plan, kind: m.PlanItemKind, code: str, values: dict[str, Any],
             editor: Editor) -> Any:
    """Create an item after checking its code and values; the history keeps its creation."""
    _require_reason(editor)
    check_code_free(session, plan, kind, code)
    check_values(session, plan, kind, values)
    model = KINDS[kind]
    if "position" not in values:  # after the plan's items, not before its first
        last = session.scalar(sa.select(sa.func.max(model.position)).filter_by(plan_id=plan.id))
        values = {**values, "position": (last or 0) + 1}
    row = model(plan_id=plan.id, code=code, **values)
    session.add(row)
    session.flush()
    _record(session, plan, kind, code, "created", None, code, editor)
    return row


def set_responsibility(session: Session, plan: m.Plan, kind: m.PlanItemKind, row: Any,
                       lead: list[m.Institution], support: list[m.Institution], editor: Editor,
                       verification: m.Verification | None = None) -> bool:
    """Set who is responsible (lead first, then support); keep the old and new list. True if it changed."""
    model, owner = ((m.IndicatorInstitution, "indicator_id") if kind == m.PlanItemKind.indicator
                    else (m.ActionInstitution, "action_id"))
    check_institutions(plan, [*lead, *support])
    existing = list(session.scalars(sa.select(model).filter_by(**{owner: row.id}).order_by(model.position)))
    lead = list(dict.fromkeys(lead))  # a code given twice is one responsibility
    wanted = [(i, m.ResponsibilityRole.lead) for i in lead] + [(i, m.ResponsibilityRole.support)
                                                             for i in dict.fromkeys(support) if i not in lead]
    named = {r.institution_id for r in existing}
    inactive = [i.code for i, _ in wanted if not i.active and i.id not in named]
    if inactive:
        raise refuse("lead", _l("No longer active: %(codes)s. Choose active institutions.", codes=", ".join(inactive)))
    before = [(r.institution_id, r.role) for r in existing]
    # The same institutions in the same roles are no change, whatever their order (a form lists them by code).
    if set(before) == {(i.id, role) for i, role in wanted} and (verification is None or all(r.verification == verification for r in existing)):
        return False
    _require_reason(editor)
    keep = {r.institution_id: r for r in existing}
    old_text = _responsibility_text(session, before)
    for r in existing:
        if r.institution_id not in {i.id for i, _ in wanted}:
            session.delete(r)
    for pos, (inst, role) in enumerate(wanted):
        current = keep.get(inst.id)
        if current is None:
            session.add(model(**{owner: row.id}, institution_id=inst.id, role=role, position=pos,
                              verification=verification or m.Verification.derived))
        else:
            current.role, current.position = role, pos
            if verification is not None:
                current.verification = verification
    new_text = _responsibility_text(session, [(i.id, role) for i, role in wanted])
    if old_text != new_text:
        _record(session, plan, kind, row.code, "responsible", old_text, new_text, editor)
    session.flush()
    return True


def _responsibility_text(session: Session, rows: list[tuple[int, m.ResponsibilityRole]]) -> str | None:
    if not rows:
        return None
    codes = dict(session.execute(sa.select(m.Institution.id, m.Institution.code).where(m.Institution.id.in_([i for i, _ in rows]))).all())
    return "; ".join(f"{codes[i]} ({role.value})" for i, role in rows)


# ----------------------------------------------------------------------------------------------
# Targets


def check_targets(indicator: m.Indicator, targets: dict[int, Decimal | None]) -> None:
    problems = []
    for year, value in sorted(targets.items()):
        if not FIRST_YEAR <= year <= LAST_YEAR:
            problems.append(Problem(f"target_{year}", _l("Give a year between %(first)d and %(last)d.", first=FIRST_YEAR, last=LAST_YEAR)))
        elif value is not None and value < 0:
            problems.append(Problem(f"target_{year}", _l("A target cannot be negative.")))
        elif value is not None and indicator.measure == m.Measure.percentage and value > 100:
            problems.append(Problem(f"target_{year}", _l("A percentage is between 0 and 100.")))
        elif value is not None and indicator.measure == m.Measure.yes_no and value not in (0, 1):
            problems.append(Problem(f"target_{year}", _l("A yes/no target is 1 (yes) or 0 (no).")))
    if problems:
        raise EditRefused(problems)


def set_targets(session: Session, indicator: m.Indicator, targets: dict[int, Decimal | None], editor: Editor,
                verification: m.Verification = m.Verification.derived, source_document: str = "",
                decided_on: date | None = None) -> list[int]:
    """Set the targets of the years given (None removes a year's target); every set, change or removal keeps
    old -> new with the reason. A target set in the tracker (decided_on given) says when and by whom.
    Returns the years whose value changed."""
    check_targets(indicator, targets)
    current = {t.year: t for t in session.scalars(sa.select(m.IndicatorTarget).filter_by(indicator_id=indicator.id))}
    changed = []
    for year, value in sorted(targets.items()):
        row = current.get(year)
        old = row.value if row is not None else None
        if old == value:
            if row is not None and decided_on is None and (row.verification, row.source_document) != (verification, source_document):
                row.verification, row.source_document = verification, source_document  # provenance only
            continue
        _require_reason(editor)
        session.add(m.IndicatorTargetChange(indicator_id=indicator.id, year=year, old_value=old, new_value=value,
                                            reason=editor.reason, changed_by=editor.by))
        changed.append(year)
        if value is None:
            session.delete(row)
            continue
        if row is None:
            row = m.IndicatorTarget(indicator_id=indicator.id, year=year)
            session.add(row)
        row.value, row.verification, row.source_document = value, verification, source_document
        row.decided_on, row.decided_by = decided_on, editor.by if decided_on else ""
    session.flush()
    session.expire(indicator, ["targets"])
    return changed


def target_years(plan: m.Plan, indicator: m.Indicator | None = None, today: date | None = None) -> list[int]:
    """The years a target can be set for on a form or in the matrix: the plan's timeframe; without one (Peru's
    plan), from its adoption (else this year) to five years ahead; and every year that already has a target."""
    this_year = (today or plan_today(plan)).year
    first = plan.start_year or plan.adoption_year or this_year
    last = plan.end_year or max(first, this_year) + 5
    held = {t.year for t in indicator.targets} if indicator is not None else set()
    return sorted(set(range(first, last + 1)) | held)


def revision(session: Session, kind: m.PlanItemKind, row: Any) -> str:
    """A token that changes whenever the item's history grows: a form carries it, and a save that finds another
    one was overtaken by someone else's (see lock)."""
    changes = sa.select(sa.func.max(m.PlanChange.id)).filter_by(plan_id=row.plan_id, item_kind=kind, item_code=row.code)
    text = f"{session.scalar(changes) or 0}"
    if kind == m.PlanItemKind.indicator:
        targets = sa.select(sa.func.max(m.IndicatorTargetChange.id)).filter_by(indicator_id=row.id)
        text += f".{session.scalar(targets) or 0}"
    return text


def lock(session: Session, kind: m.PlanItemKind, row: Any) -> None:
    """Lock the item's row until the commit (PostgreSQL: FOR UPDATE; SQLite: a POST already holds the write
    lock), so two saves of one item are checked one after the other."""
    model = KINDS[kind]
    session.execute(sa.select(model.id).where(model.id == row.id).with_for_update())


# ----------------------------------------------------------------------------------------------
# Decisions of the monitoring body: confirm, reject, retire, restore


def confirm(session: Session, plan: m.Plan, kind: m.PlanItemKind, row: Any, on: date, ref: str, editor: Editor) -> None:
    """The monitoring body confirms a derived item: it keeps both facts (derived from the source, confirmed on)."""
    if row.verification != m.Verification.derived:
        raise refuse("", _l("Only items derived by the tracker team await confirmation."))
    if row.retired:
        raise refuse("", _l("A retired item cannot be confirmed."))
    if row.confirmed_on is not None:  # a page out of date, or a second click: the first decision stands
        raise refuse("", _l("It was already confirmed on %(date)s (%(ref)s).", date=row.confirmed_on.isoformat(),
                            ref=row.confirmed_ref))
    _check_decision(plan, on, ref)
    _require_reason(editor)
    old = row.confirmed_on.isoformat() if row.confirmed_on else None
    row.confirmed_on, row.confirmed_ref, row.confirmed_by = on, ref.strip(), editor.by
    _record(session, plan, kind, row.code, "confirmed", old, f"{on.isoformat()} ({ref.strip()})", editor)
    session.flush()


def reject(session: Session, plan: m.Plan, kind: m.PlanItemKind, row: Any, on: date, ref: str, editor: Editor) -> None:
    """The monitoring body rejects a derived item: it is retired, with the decision as its reason."""
    if row.verification != m.Verification.derived or row.confirmed_on is not None:
        raise refuse("", _l("Only derived items awaiting confirmation can be rejected; retire a confirmed item instead."))
    _check_decision(plan, on, ref)
    retire(session, plan, kind, row, Editor(editor.by, f"{editor.reason} ({on.isoformat()}, {ref.strip()})", editor.channel))


def plan_today(plan: m.Plan) -> date:
    """Today in the plan's country: a session held there this evening is not "in the future" for a UTC server."""
    from tracker.plan.services import plan_timezone

    return datetime.now(plan_timezone(plan)).date()


def _check_decision(plan: m.Plan, on: date, ref: str) -> None:
    problems = []
    if on > plan_today(plan):
        problems.append(Problem("decided_on", _l("The decision cannot be in the future.")))
    if not ref.strip():
        problems.append(Problem("reference", _l("Give the reference of the session or minute that decided it.")))
    if problems:
        raise EditRefused(problems)


def retire(session: Session, plan: m.Plan, kind: m.PlanItemKind, row: Any, editor: Editor) -> None:
    """Retire an item: it leaves worklists, completeness and dashboards; its history and data stay."""
    if row.retired:
        raise refuse("", _l("This item is already retired."))
    _require_reason(editor)
    row.retired_at, row.retired_reason, row.retired_by = utcnow(), editor.reason, editor.by
    _record(session, plan, kind, row.code, "retired", None, "yes", editor)
    session.flush()


def restore(session: Session, plan: m.Plan, kind: m.PlanItemKind, row: Any, editor: Editor) -> None:
    """Bring a retired item back; the retirement stays in the history."""
    if not row.retired:
        raise refuse("", _l("This item is not retired."))
    _require_reason(editor)
    row.retired_at, row.retired_reason, row.retired_by = None, "", ""
    _record(session, plan, kind, row.code, "retired", "yes", None, editor)
    session.flush()


# ----------------------------------------------------------------------------------------------
# Reading what awaits a decision


def awaiting_confirmation(session: Session, plan: m.Plan) -> dict[m.PlanItemKind, list[Any]]:
    """The derived objectives, actions and indicators the monitoring body has neither confirmed nor rejected."""
    out = {}
    for kind, model in KINDS.items():
        query = sa.select(model).filter_by(plan_id=plan.id, verification=m.Verification.derived)
        query = query.where(model.confirmed_on.is_(None), model.retired_at.is_(None)).order_by(model.position, model.code)
        out[kind] = list(session.scalars(query))
    return out


def awaiting_confirmation_count(session: Session, plan: m.Plan) -> int:
    """How many derived items await the monitoring body's decision (one query)."""
    counts = [sa.select(sa.func.count()).select_from(model).where(
        model.plan_id == plan.id, model.verification == m.Verification.derived, model.confirmed_on.is_(None),
        model.retired_at.is_(None)).scalar_subquery() for model in KINDS.values()]
    return session.scalar(sa.select(counts[0] + counts[1] + counts[2])) or 0


def find_item(session: Session, plan: m.Plan, kind: m.PlanItemKind, code: str) -> Any | None:
    return session.scalars(sa.select(KINDS[kind]).filter_by(plan_id=plan.id, code=code)).one_or_none()
