"""The three kinds of entry (an indicator's value, an action's status, an institution's budget item) behind one
interface, so that the workflow, history, notifications and pages ask the kind instead of switching on it."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Callable

from flask import url_for

from tracker.progress.models import ACTION_FIELDS, INDICATOR_FIELDS, Entry, EntryKind


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, enum.Enum) else (str(value) if isinstance(value, Decimal) else value)


def _field_snapshot(entry: Entry) -> dict[str, Any]:
    return {name: _plain(getattr(entry, name)) for name in entry.fields}


def _check_indicator(entry: Entry) -> None:
    from tracker.progress import services

    data = services.IndicatorInput(**{name: getattr(entry, name) for name in INDICATOR_FIELDS})
    services.check_indicator_input(entry.indicator, data, complete=True)


def _check_action(entry: Entry) -> None:
    from tracker.progress import services

    services.check_action_input(services.ActionInput(**{name: getattr(entry, name) for name in ACTION_FIELDS}),
                                complete=True)


def _check_budget(entry: Entry) -> None:
    from tracker.budget.services import check_budget_complete

    check_budget_complete(entry)


def _budget_fields() -> tuple[str, ...]:
    from tracker.budget.models import BUDGET_FIELDS

    return BUDGET_FIELDS


def _budget_snapshot(entry: Entry) -> dict[str, Any]:
    return entry.budget.snapshot() if entry.budget is not None else {}


@dataclass(frozen=True)
class EntryKindSpec:
    kind: EntryKind
    item_column: str | None  # the entry's column naming its plan item; None: one per institution and cycle
    form_endpoint: str  # the reporter's form for it
    fields: Callable[[], tuple[str, ...]]  # what the reporter fills in: the history keeps exactly these
    snapshot: Callable[[Entry], dict[str, Any]]
    check_complete: Callable[[Entry], None]  # raises ValidationFailed with what a submission lacks

    def form_url(self, plan_code: str, year: int, item_code: str | None = None, **options: Any) -> str:
        arguments = {"item_code": item_code} if self.item_column else {}
        return url_for(self.form_endpoint, code=plan_code, year=year, **arguments, **options)

    def entry_form_url(self, entry: Entry, **options: Any) -> str:
        return self.form_url(entry.cycle.plan.code, entry.cycle.year, entry.item.code if entry.item else None, **options)


KINDS: dict[EntryKind, EntryKindSpec] = {
    spec.kind: spec
    for spec in (
        EntryKindSpec(EntryKind.indicator, "indicator_id", "progress.indicator_entry", lambda: INDICATOR_FIELDS,
                      _field_snapshot, _check_indicator),
        EntryKindSpec(EntryKind.action, "action_id", "progress.action_entry", lambda: ACTION_FIELDS,
                      _field_snapshot, _check_action),
        EntryKindSpec(EntryKind.budget, None, "budget.item", _budget_fields, _budget_snapshot, _check_budget),
    )
}


def item_code(entry: Entry) -> str:
    """How lists and e-mails name the entry: its item's code, or "Budget item" (in the current language)."""
    from flask_babel import gettext as _

    return entry.item.code if entry.item is not None else _("Budget item")


def of(entry_or_kind: Entry | EntryKind) -> EntryKindSpec:
    """The kind of an entry (or the spec of a kind)."""
    return KINDS[entry_or_kind if isinstance(entry_or_kind, EntryKind) else entry_or_kind.kind]
