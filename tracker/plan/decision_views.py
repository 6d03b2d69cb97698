"""The monitoring body's decisions on the plan: confirming or rejecting derived items; the plan's change history."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Callable, Iterable

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import DateField, SelectField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length

from tracker import permissions
from tracker.auth.models import User
from tracker.db import db
from tracker.forms import options
from tracker.labels import choices, label, plan_field_label
from tracker.permissions import ensure, plan_or_404, require
from tracker.plan import editing, services
from tracker.plan.loader import IMPORTED_BY
from tracker.plan import models as m

bp = Blueprint("plan_decisions", __name__, url_prefix="/plans")

HISTORY_LIMIT = 500  # a page, not an export: older changes are reached by filtering on the item
# Fields whose stored value is a vocabulary's: the history shows its label.
VOCABULARIES = {"measure": m.Measure, "direction": m.Direction, "frequency": m.Frequency, "level": m.ObjectiveLevel,
                "verification": m.Verification}
YES_NO = {"yes": _l("Yes"), "no": _l("No")}
ROLE_IN_LIST = re.compile(r"\((lead|support)\)")
# Where a refusal of editing.confirm/reject shows on the decision form ("" and the rest: on the ticked items).
PROBLEM_FIELDS = {"decided_on": "decided_on", "reference": "reference", "reason": "note"}


# ----------------------------------------------------------------------------------------------
# Where items live: their pillar and their page


class Places:
    """Each item's pillar and page, for the whole plan in two queries (objectives inherit their ancestors' pillar,
    by services.objective_pillars; an indicator has its own, else its action's, else its objective's)."""

    def __init__(self, session: Session, plan: m.Plan):
        self.plan = plan
        self.pillars = {p.id: p for p in plan.pillars}
        tree = services.objective_pillars(list(self.pillars))
        self.objective_pillar = dict(session.execute(sa.select(tree.c.objective_id, tree.c.pillar_id)).all())
        actions = session.execute(sa.select(m.Action.id, m.Action.code, m.Action.pillar_id).filter_by(plan_id=plan.id))
        self.action_pillar, self.action_code_pillar = {}, {}
        for action_id, code, pillar_id in actions:
            self.action_pillar[action_id] = self.action_code_pillar[code] = pillar_id

    def pillar(self, kind: m.PlanItemKind, row: Any) -> m.Pillar | None:
        if kind == m.PlanItemKind.objective:
            return self.pillars.get(self.objective_pillar.get(row.id))
        if kind == m.PlanItemKind.indicator and row.pillar_id is None:
            if row.action_id is not None:
                return self.pillars.get(self.action_pillar.get(row.action_id))
            return self.pillars.get(self.objective_pillar.get(row.objective_id))
        return self.pillars.get(row.pillar_id)

    def url(self, kind: m.PlanItemKind, code: str) -> str:
        """The item's page: an indicator's own, an action's card on its pillar's page, the plan page for the rest."""
        plan_code = self.plan.code
        if kind == m.PlanItemKind.indicator:
            return url_for("plan.indicator", code=plan_code, indicator_code=code)
        pillar = self.pillars.get(self.action_code_pillar.get(code)) if kind == m.PlanItemKind.action else None
        if pillar is not None:
            return url_for("plan.pillar", code=plan_code, pillar_code=pillar.code, _anchor=f"action-{code}")
        anchor = f"objective-{code}" if kind == m.PlanItemKind.objective else None
        return url_for("plan.show", code=plan_code, _anchor=anchor)

    def item(self, kind: m.PlanItemKind, row: Any) -> Item:
        return Item(kind, row, self.pillar(kind, row), self.url(kind, row.code))


@dataclass(frozen=True)
class Item:
    """A derived objective, action or indicator as the decision page lists it."""

    kind: m.PlanItemKind
    row: Any
    pillar: m.Pillar | None
    url: str

    @property
    def key(self) -> str:
        """The value of its checkbox."""
        return f"{self.kind.value}:{self.row.code}"

    @property
    def text_field(self) -> str:
        return "name" if self.kind == m.PlanItemKind.indicator else "text"

    @property
    def kind_label(self) -> str:
        return label(self.kind)


def user_names(session: Session, emails: Iterable[str]) -> dict[str, str]:
    """Who did it, by name, for the e-mails given (one query, even for none: a page costs the same whatever it
    lists); the plan file is named as such."""
    wanted = sorted({e for e in emails if e})
    names = dict(session.execute(sa.select(User.email, User.name).where(User.email.in_(wanted))).all())
    return names | {IMPORTED_BY: _("plan file import")}


# ----------------------------------------------------------------------------------------------
# Confirmations


@dataclass
class DecisionRecord:
    """The plan's derived items: awaiting the monitoring body's decision, confirmed, and rejected (or retired
    before anyone confirmed them)."""

    awaiting: list[Item]
    confirmed: list[Item]
    rejected: list[Item]
    names: dict[str, str]


def decision_record(session: Session, plan: m.Plan) -> DecisionRecord:
    """Everything the confirmations page shows, in a fixed number of queries."""
    places = Places(session, plan)
    awaiting = [places.item(k, row) for k, rows in editing.awaiting_confirmation(session, plan).items() for row in rows]
    decided = [places.item(k, row) for k, row in _decided(session, plan)]
    confirmed = sorted((i for i in decided if i.row.confirmed_on), key=lambda i: i.row.confirmed_on, reverse=True)
    rejected = sorted((i for i in decided if not i.row.confirmed_on), key=lambda i: i.row.retired_at, reverse=True)
    names = user_names(session, [i.row.confirmed_by for i in confirmed] + [i.row.retired_by for i in rejected])
    return DecisionRecord(awaiting, confirmed, rejected, names)


def _decided(session: Session, plan: m.Plan) -> list[tuple[m.PlanItemKind, Any]]:
    out = []
    for kind, model in editing.KINDS.items():
        query = sa.select(model).filter_by(plan_id=plan.id, verification=m.Verification.derived)
        query = query.where(sa.or_(model.confirmed_on.is_not(None), model.retired_at.is_not(None)))
        out += [(kind, row) for row in session.scalars(query.order_by(model.position, model.code))]
    return out


class DecisionForm(FlaskForm):
    """The monitoring body's decision on the ticked items: confirm them, or reject them (they are retired), on
    the date of the session, with its minute's reference."""

    items = SelectMultipleField(_l("Items awaiting confirmation"), choices=[], validate_choice=False, coerce=str,
                                validators=[DataRequired(message=_l("Tick at least one item."))])
    decided_on = DateField(_l("Date of the decision"),
                           validators=[InputRequired(message=_l("Give the date of the session that decided."))],
                           description=_l("The day of the session; it cannot be in the future."))
    reference = StringField(_l("Reference of the session or minute"), validators=[
        InputRequired(message=_l("Give the reference of the session or minute that decided it.")), Length(max=255)],
        description=_l("For example: Acta N.° 3-2026-CIG"))
    note = TextAreaField(_l("Note (optional)"), validators=[Length(max=2000)],
                         description=_l("Kept in the plan's history with the decision."))
    confirm = SubmitField(_l("Confirm the ticked items"))
    reject = SubmitField(_l("Reject the ticked items"))


@bp.route("/<code>/confirmations", methods=["GET", "POST"])
@require(permissions.can_edit_plan)
def confirmations(code: str):
    """GET: the derived items awaiting the monitoring body's decision, and the decisions taken; POST: decide on
    the ticked ones, all or none."""
    plan = plan_or_404(code)
    ensure(permissions.can_edit_plan, plan)
    form = DecisionForm()
    if request.method == "POST":
        return _decide(plan, form)
    return _confirmations_page(plan, form)


def _confirmations_page(plan: m.Plan, form: DecisionForm, status: int = 200):
    record = decision_record(db.session, plan)
    form.decided_on.render_kw = {"max": editing.plan_today(plan).isoformat()}
    years = services.cycle_years(db.session, [plan.id])[plan.id]
    page = render_template("plan/confirmations.html", plan=plan, form=form, record=record, ticked=set(form.items.data or ()),
                           year=years[0] if years else None)
    return page, status


def _decide(plan: m.Plan, form: DecisionForm):
    if not form.validate_on_submit():
        return _confirmations_page(plan, form, 400)
    if not (form.confirm.data or form.reject.data):
        form.form_errors.append(_("Choose whether to confirm or to reject the ticked items."))
        return _confirmations_page(plan, form, 400)
    decide, reason = ((editing.reject, _("Rejected by the monitoring body")) if form.reject.data
                      else (editing.confirm, _("Confirmed by the monitoring body")))
    editor = editing.Editor(by=current_user.email, reason=(form.note.data or "").strip() or reason, channel=m.ChangeChannel.web)
    decided, errors = decide_items(db.session, plan, form.items.data, decide, form.decided_on.data,
                                   form.reference.data or "", editor)
    if errors:
        db.session.rollback()
        _put_errors(form, errors)
        return _confirmations_page(plan, form, 400)
    db.session.commit()
    flash(_decided_message(decided, form.reject.data), "success")
    return redirect(url_for("plan_decisions.confirmations", code=plan.code), 303)


def _decided_message(count: int, rejected: bool) -> str:
    if rejected:
        return ngettext("%(num)d item rejected and retired.", "%(num)d items rejected and retired.", count)
    return ngettext("%(num)d item confirmed.", "%(num)d items confirmed.", count)


Decide = Callable[..., None]  # editing.confirm or editing.reject


def decide_items(session: Session, plan: m.Plan, keys: list[str], decide: Decide, on: date, ref: str,
                 editor: editing.Editor) -> tuple[int, dict[str, list[str]]]:
    """Confirm or reject (`decide`) the items named by the ticked keys; how many were decided, and the refusals by
    form field, each said once. Any refusal means the caller rolls back: the decision is all or nothing."""
    rows, errors = ticked_items(session, plan, keys)
    _merge(errors, apply_decision(session, plan, decide, rows, on, ref, editor))
    return len(rows), errors


def ticked_items(session: Session, plan: m.Plan, keys: list[str]) -> tuple[list[tuple[m.PlanItemKind, Any]], dict[str, list[str]]]:
    """The plan's items named by the ticked keys ("indicator:IND-PAR-1"), locked until the commit so two members
    deciding at once are checked one after the other; and the keys that name none, as the items field's errors."""
    wanted: dict[m.PlanItemKind, list[str]] = {}
    unknown = []
    for key in dict.fromkeys(keys):
        kind, _sep, code = key.partition(":")
        if kind in set(editing.KINDS) and code:
            wanted.setdefault(m.PlanItemKind(kind), []).append(code)
        else:
            unknown.append(key)
    rows = []
    for kind, codes in wanted.items():
        found = _locked(session, plan, kind, codes)
        rows += [(kind, found[c]) for c in codes if c in found]
        unknown += [c for c in codes if c not in found]
    return rows, {"items": [_("%(code)s is not an item of this plan.", code=c) for c in unknown]} if unknown else {}


def _locked(session: Session, plan: m.Plan, kind: m.PlanItemKind, codes: list[str]) -> dict[str, Any]:
    model = editing.KINDS[kind]
    query = sa.select(model).filter_by(plan_id=plan.id).where(model.code.in_(codes)).with_for_update()
    return {r.code: r for r in session.scalars(query.execution_options(populate_existing=True))}


def apply_decision(session: Session, plan: m.Plan, decide: Decide, rows: list[tuple[m.PlanItemKind, Any]], on: date,
                   ref: str, editor: editing.Editor) -> dict[str, list[str]]:
    """Confirm or reject every row, going on after a refusal so that all of them are said at once."""
    errors: dict[str, list[str]] = {}
    for kind, row in rows:
        try:
            decide(session, plan, kind, row, on, ref, editor)
        except editing.EditRefused as exc:
            for problem in exc.problems:
                name = PROBLEM_FIELDS.get(problem.field, "items")
                text = str(problem) if name != "items" else _("%(code)s: %(problem)s", code=row.code, problem=str(problem))
                _merge(errors, {name: [text]})
    return errors


def _merge(errors: dict[str, list[str]], more: dict[str, list[str]]) -> None:
    for name, messages in more.items():
        errors.setdefault(name, []).extend(t for t in messages if t not in errors[name])


def _put_errors(form: DecisionForm, errors: dict[str, list[str]]) -> None:
    for name, messages in errors.items():
        field = getattr(form, name)
        field.errors = [*field.errors, *messages]


# ----------------------------------------------------------------------------------------------
# History


@dataclass(frozen=True)
class HistoryLine:
    """One change of the plan as the history page shows it: a field of an item, or a year's target of an
    indicator (which records no channel)."""

    kind: m.PlanItemKind
    code: str
    field: str
    old: str | None
    new: str | None
    reason: str
    by: str
    channel: m.ChangeChannel | None
    at: datetime
    url: str = ""

    @property
    def kind_label(self) -> str:
        return label(self.kind)

    @property
    def channel_label(self) -> str:
        return label(self.channel) if self.channel is not None else ""


@dataclass
class History:
    """The plan's history page: its lines, newest first, whether older ones were left out, and who is who."""

    lines: list[HistoryLine]
    cut: bool
    names: dict[str, str]


def plan_history(session: Session, plan: m.Plan, kind: m.PlanItemKind | None = None, code: str | None = None,
                 limit: int = HISTORY_LIMIT) -> History:
    """The plan's changes, newest first (of one kind or item when given): its items' fields from PlanChange,
    its indicators' targets from IndicatorTargetChange, at most `limit` of them, in a fixed number of queries."""
    lines = _field_changes(session, plan, kind, code, limit + 1)
    if kind in (None, m.PlanItemKind.indicator):
        lines += _target_changes(session, plan, code, limit + 1)
    lines.sort(key=lambda line: line.at, reverse=True)
    places = Places(session, plan)
    shown = [_with_url(line, places) for line in lines[:limit]]
    return History(shown, len(lines) > limit, user_names(session, {line.by for line in shown}))


def _with_url(line: HistoryLine, places: Places) -> HistoryLine:
    return replace(line, url=places.url(line.kind, line.code))


def _field_changes(session: Session, plan: m.Plan, kind, code, limit: int) -> list[HistoryLine]:
    query = sa.select(m.PlanChange).filter_by(plan_id=plan.id)
    query = query.filter_by(item_kind=kind) if kind is not None else query
    query = query.filter_by(item_code=code) if code else query
    query = query.order_by(m.PlanChange.changed_at.desc(), m.PlanChange.id.desc()).limit(limit)
    return [HistoryLine(c.item_kind, c.item_code, plan_field_label(c.field), value_label(c.field, c.old_value),
                        value_label(c.field, c.new_value), c.reason, c.changed_by, c.channel, c.changed_at)
            for c in session.scalars(query)]


def _target_changes(session: Session, plan: m.Plan, code, limit: int) -> list[HistoryLine]:
    change = m.IndicatorTargetChange
    query = sa.select(change, m.Indicator.code).join(m.Indicator, m.Indicator.id == change.indicator_id)
    query = query.where(m.Indicator.plan_id == plan.id)
    query = query.where(m.Indicator.code == code) if code else query
    query = query.order_by(change.changed_at.desc(), change.id.desc()).limit(limit)
    return [HistoryLine(m.PlanItemKind.indicator, ind_code, _("Target %(year)s", year=c.year), _figure(c.old_value),
                        _figure(c.new_value), c.reason, c.changed_by, None, c.changed_at)
            for c, ind_code in session.execute(query)]


def value_label(name: str, value: str | None) -> str | None:
    """A value as the history keeps it (editing.shown), with vocabularies and yes/no in the reader's language."""
    if value is None:
        return None
    vocabulary = VOCABULARIES.get(name)
    if vocabulary is not None and value in vocabulary._value2member_map_:
        return label(vocabulary(value))
    if name == "responsible":  # "MINDEF (lead); EP (support)": the roles in the reader's language
        return ROLE_IN_LIST.sub(lambda match: f"({label(m.ResponsibilityRole(match.group(1)))})", value)
    return str(YES_NO[value]) if value in YES_NO else value


def _figure(value: Decimal | None) -> str | None:
    return None if value is None else format_decimal(value)


class HistoryFilterForm(FlaskForm):
    """Narrow the history to a kind of item, or to one item by its code."""

    class Meta:
        csrf = False

    kind = SelectField(_l("Kind of item"), validate_choice=False,
                       choices=options([("", _l("All")), *choices(m.PlanItemKind)]))
    item = StringField(_l("Item code"), validators=[Length(max=40)], description=_l("For example: IND-PAR-1"))


def _history_filters(form: HistoryFilterForm) -> tuple[m.PlanItemKind | None, str | None]:
    """The kind and code asked for; an unknown kind shows every kind."""
    kind = form.kind.data if form.kind.data in set(m.PlanItemKind) else None
    if kind is None:
        form.kind.data = ""
    code = (form.item.data or "").strip()[:40] or None
    return (m.PlanItemKind(kind) if kind else None), code


@bp.get("/<code>/history")
@require(permissions.is_logged_in)
def history(code: str):
    """The plan's change history, newest first, for everyone who reads the plan."""
    plan = plan_or_404(code)
    form = HistoryFilterForm(request.args)
    kind, item = _history_filters(form)
    years = services.cycle_years(db.session, [plan.id])[plan.id]
    lines = plan_history(db.session, plan, kind, item, HISTORY_LIMIT)
    return render_template("plan/history.html", plan=plan, form=form, history=lines, kind=kind, item=item,
                           limit=HISTORY_LIMIT, year=years[0] if years else None)
