"""The monitoring body edits the plan in the browser: indicators (with their targets), actions, objectives; adds
and retires them. Views parse the form, call tracker.plan.editing (the service plan files and the indicator
matrix use too) and commit once; a refusal shows the form again with the input and the reasons (400), and a save
overtaken by someone else's shows both (409)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from tracker import permissions
from tracker.db import db
from tracker.forms import apply_errors
from tracker.i18n import localized
from tracker.permissions import ensure, plan_or_404, require
from tracker.plan import editing, forms
from tracker.plan.decision_views import plan_history
from tracker.plan import models as m
from tracker.plan.services import monitoring_body

bp = Blueprint("plan_edit", __name__, url_prefix="/plans")
K = m.PlanItemKind
FORMS = {
    K.indicator: (forms.IndicatorForm, forms.NewIndicatorForm),
    K.action: (forms.ActionForm, forms.NewActionForm),
    K.objective: (forms.ObjectiveForm, forms.NewObjectiveForm),
}
KIND_SLUGS = {"indicators": K.indicator, "actions": K.action, "objectives": K.objective}
ITEM_HISTORY = 50  # the latest changes on the edit page; the plan's history page has them all


@dataclass
class Choices:
    """The plan's items and its country's institutions, loaded once for a form's selects."""

    pillars: list[m.Pillar]
    objectives: list[m.Objective]
    actions: list[m.Action]
    institutions: list[m.Institution]

    @classmethod
    def load(cls, plan: m.Plan) -> Choices:
        """Every institution of the country: an inactive one stays offered (marked) where an item names it, and the
        service refuses to name it anew."""
        def rows(model):
            return list(db.session.scalars(sa.select(model).filter_by(plan_id=plan.id).order_by(model.position, model.code)))

        institutions = db.session.scalars(sa.select(m.Institution).filter_by(country_id=plan.country_id)
                                          .order_by(m.Institution.code))
        return cls(rows(m.Pillar), rows(m.Objective), rows(m.Action), list(institutions))

    def by_code(self, rows: list, code: str | None) -> Any:
        return next((r for r in rows if r.code == code), None) if code else None


def _select(rows: list, empty: str | None, field: str = "text") -> list[SelectChoice]:
    """Options "CODE — text"; a retired item says so (it stays choosable: an item may keep pointing at it)."""
    first = [SelectChoice("", empty)] if empty is not None else []
    return first + [SelectChoice(r.code, f"{r.code} — {_short(localized(r, field))}{_retired_mark(r)}") for r in rows]


def _short(text: Any, limit: int = 90) -> str:
    text = str(text or "")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _retired_mark(row: Any) -> str:
    return f" ({_('retired')})" if getattr(row, "retired", False) else ""


def _offer(form, c: Choices, kind: K) -> None:
    form.pillar.choices = _select(c.pillars, None if kind == K.action else _("— none —"), "name")
    if kind == K.objective:
        form.parent.choices = _select(c.objectives, _("— none —"))
        return
    form.objective.choices = _select(c.objectives, _("— none —"))
    if kind == K.indicator:
        form.action.choices = _select(c.actions, _("— none —"))
    institutions = [SelectChoice(i.code, f"{i.code} — {localized(i, 'name')}{'' if i.active else ' (' + _('inactive') + ')'}")
                    for i in c.institutions]
    form.lead.choices = form.support.choices = institutions


# -- reading a form into the service's values ---------------------------------------------------------


def _values(form, c: Choices, kind: K) -> dict[str, Any]:
    """The columns the form sets, with codes resolved to ids (an unknown code becomes None: the service says why)."""
    texts = ("name", "unit", "means_of_verification", "data_source") if kind == K.indicator else ("text",)
    values: dict[str, Any] = {f"{t}_{lang}": (getattr(form, f"{t}_{lang}").data or "").strip() for t in texts for lang in ("es", "en")}
    values["pillar_id"] = _id(c.by_code(c.pillars, form.pillar.data))
    if kind == K.objective:
        values["level"] = m.ObjectiveLevel(form.level.data)
        values["parent_id"] = _id(c.by_code(c.objectives, form.parent.data))
        return values
    values["objective_id"] = _id(c.by_code(c.objectives, form.objective.data))
    if kind == K.indicator:
        values.update(
            action_id=_id(c.by_code(c.actions, form.action.data)),
            measure=m.Measure(form.measure.data), direction=m.Direction(form.direction.data),
            frequency=m.Frequency(form.frequency.data), counts_people=form.counts_people.data,
            cumulative=form.cumulative.data, baseline_value=form.baseline_value.data, baseline_year=form.baseline_year.data,
            change_threshold=form.change_threshold.data, expected_min=form.expected_min.data,
            expected_max=form.expected_max.data,
        )
    return values


def _id(row: Any) -> int | None:
    return row.id if row is not None else None


def _institutions(c: Choices, codes: list[str]) -> list[m.Institution]:
    return [i for code in codes for i in c.institutions if i.code == code]


def _targets(form) -> dict[int, Any]:
    return {int(f.name.removeprefix("target_")): f.data for f in form.target_fields()}


def _fill(form, row: Any, kind: K) -> None:
    """Put the stored item into a fresh form (GET)."""
    for name in form.data:
        if hasattr(row, name) and name not in ("pillar", "objective", "action", "parent", "code"):
            value = getattr(row, name)
            getattr(form, name).data = value.value if hasattr(value, "value") and not isinstance(value, bool) else value
    form.pillar.data = row.pillar.code if row.pillar else ""
    if kind == K.objective:
        form.parent.data = row.parent.code if row.parent else ""
        return
    form.objective.data = row.objective.code if row.objective else ""
    links = row.responsible if kind == K.indicator else row.institutions
    form.lead.data = [link.institution.code for link in links if link.role == m.ResponsibilityRole.lead]
    form.support.data = [link.institution.code for link in links if link.role == m.ResponsibilityRole.support]
    if kind == K.indicator:
        form.action.data = row.action.code if row.action else ""
        for t in row.targets:
            getattr(form, f"target_{t.year}").data = t.value


# -- pages ----------------------------------------------------------------------------------------------


def _item_or_404(plan: m.Plan, kind: K, code: str) -> Any:
    row = editing.find_item(db.session, plan, kind, code)
    if row is None:
        abort(404)
    return row


def _editable_plan(code: str) -> m.Plan:
    plan = plan_or_404(code)
    ensure(permissions.can_edit_plan, plan)
    return plan


def _kind_or_404(slug: str) -> K:
    if slug not in KIND_SLUGS:
        abort(404)
    return KIND_SLUGS[slug]


def _editor(form) -> editing.Editor:
    return editing.Editor(current_user.email, (form.reason.data or "").strip(), m.ChangeChannel.web)


def _build_form(plan: m.Plan, kind: K, row: Any = None):
    form_class = FORMS[kind][row is None]
    if kind == K.indicator:
        return forms.indicator_form(form_class, editing.target_years(plan, row))
    return form_class()


@bp.route("/<code>/<slug>/<item_code>/edit", methods=["GET", "POST"])
@require(permissions.can_edit_plan)
def edit(code: str, slug: str, item_code: str):
    """Edit an item; for an indicator, its targets too. Every changed field keeps old -> new with the reason."""
    plan, kind = _editable_plan(code), _kind_or_404(slug)
    row = _item_or_404(plan, kind, item_code)
    form, c = _build_form(plan, kind, row), Choices.load(plan)
    _offer(form, c, kind)
    if request.method == "GET":
        _fill(form, row, kind)
        form.revision.data = editing.revision(db.session, kind, row)
        return _page(plan, kind, form, row)
    if not form.validate_on_submit():
        return _page(plan, kind, form, row, status=400)
    editing.lock(db.session, kind, row)
    current = editing.revision(db.session, kind, row)
    if form.revision.data != current:
        db.session.rollback()
        form.revision.data = current  # saving again keeps this input over the other person's
        return _page(plan, kind, form, row, status=409, overtaken=True)
    try:
        changed = _save(plan, kind, row, form, c)
    except editing.EditRefused as exc:
        db.session.rollback()
        apply_errors(form, exc)
        return _page(plan, kind, form, row, status=400)
    db.session.commit()
    flash(_("%(code)s saved: %(count)d changes kept in the plan's history.", code=row.code, count=changed) if changed
          else _("Nothing changed in %(code)s.", code=row.code), "success" if changed else "info")
    return redirect(_item_url(plan, kind, row.code))


def _save(plan: m.Plan, kind: K, row: Any, form, c: Choices) -> int:
    editor = _editor(form)
    changed = len(editing.set_fields(db.session, plan, kind, row, _values(form, c, kind), editor))
    if kind != K.objective:
        lead, support = _institutions(c, form.lead.data or []), _institutions(c, form.support.data or [])
        changed += editing.set_responsibility(db.session, plan, kind, row, lead, support, editor)
    if kind == K.indicator:
        changed += len(editing.set_targets(db.session, row, _targets(form), editor, decided_on=editing.plan_today(plan)))
    return changed


@bp.route("/<code>/new/<slug>", methods=["GET", "POST"])
@require(permissions.can_edit_plan)
def new(code: str, slug: str):
    """Add an item decided by the monitoring body: it shows as confirmed by the body on the day it was added."""
    plan, kind = _editable_plan(code), _kind_or_404(slug)
    form, c = _build_form(plan, kind), Choices.load(plan)
    _offer(form, c, kind)
    if request.method == "GET":
        return _page(plan, kind, form)
    if not form.validate_on_submit():
        return _page(plan, kind, form, status=400)
    try:
        row = _add(plan, kind, form, c)
    except editing.EditRefused as exc:
        db.session.rollback()
        apply_errors(form, exc)
        return _page(plan, kind, form, status=400)
    db.session.commit()
    flash(_("%(code)s added to the plan.", code=row.code), "success")
    return redirect(_item_url(plan, kind, row.code))


def _add(plan: m.Plan, kind: K, form, c: Choices) -> Any:
    editor = _editor(form)
    body = monitoring_body(plan)
    provenance = editing.decided_provenance(plan, editor, f"Decision of {body.code if body else 'the monitoring body'}")
    code = (form.code.data or "").strip()
    row = editing.add_item(db.session, plan, kind, code, {**_values(form, c, kind), **provenance}, editor)
    if kind != K.objective:
        lead, support = _institutions(c, form.lead.data or []), _institutions(c, form.support.data or [])
        editing.set_responsibility(db.session, plan, kind, row, lead, support, editor)
    if kind == K.indicator:
        editing.set_targets(db.session, row, {y: v for y, v in _targets(form).items() if v is not None}, editor,
                            decided_on=editing.plan_today(plan))
    return row


@bp.post("/<code>/<slug>/<item_code>/retire")
@require(permissions.can_edit_plan)
def retire(code: str, slug: str, item_code: str):
    """Retire an item (it is no longer asked for; its history and data stay), or bring a retired one back."""
    plan, kind = _editable_plan(code), _kind_or_404(slug)
    row = _item_or_404(plan, kind, item_code)
    form = forms.RetireForm()
    if not form.validate_on_submit():
        form, c = _build_form(plan, kind, row), Choices.load(plan)
        _offer(form, c, kind)
        _fill(form, row, kind)
        form.revision.data = editing.revision(db.session, kind, row)
        return _page(plan, kind, form, row, status=400, retire_error=_("Say why the item is retired or brought back."))
    action = editing.restore if row.retired else editing.retire
    if request.form.get("intent") != ("restore" if row.retired else "retire"):
        # The page was out of date: someone else retired or restored the item meanwhile. Do not undo them.
        flash(_("Someone else changed this item while you were looking at it: it is now %(state)s. Nothing was done.",
                state=_("retired") if row.retired else _("in the plan")), "warning")
        return redirect(url_for("plan_edit.edit", code=plan.code, slug=slug, item_code=row.code), code=303)
    try:
        action(db.session, plan, kind, row, editing.Editor(current_user.email, form.reason.data.strip(), m.ChangeChannel.web))
    except editing.EditRefused as exc:
        db.session.rollback()
        flash(str(exc), "warning")
        return redirect(url_for("plan_edit.edit", code=plan.code, slug=slug, item_code=row.code))
    db.session.commit()
    flash(_("%(code)s brought back into the plan.", code=row.code) if action is editing.restore
          else _("%(code)s retired: it is no longer asked for; its history and data stay.", code=row.code), "success")
    return redirect(_item_url(plan, kind, row.code))


def _item_url(plan: m.Plan, kind: K, code: str) -> str:
    if kind == K.indicator:
        return url_for("plan.indicator", code=plan.code, indicator_code=code)
    return url_for("plan.show", code=plan.code, _anchor=f"{kind.value}-{code}")


def _slug(kind: K) -> str:
    return next(s for s, k in KIND_SLUGS.items() if k == kind)


def _page(plan: m.Plan, kind: K, form, row: Any = None, status: int = 200, **kw):
    approved = editing.approved_entries(db.session, row.id) if kind == K.indicator and row is not None else 0
    history = plan_history(db.session, plan, kind, row.code, limit=ITEM_HISTORY) if row is not None else None
    page = render_template("plan/edit_item.html", plan=plan, kind=kind, slug=_slug(kind), form=form, row=row,
                           approved=approved, meaning_fields=editing.MEANING_FIELDS, history=history,
                           retire_form=forms.RetireForm(formdata=None), **kw)
    return page, status
