"""Reporting pages (worklist, entry forms), entry detail and workflow actions, review queue, cycles."""

from __future__ import annotations

import io
from decimal import Decimal

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import format_date
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from tracker import permissions, storage
from tracker.db import db, utcnow
from tracker.domain import PermissionDenied, ValidationFailed, WorkflowError
from tracker.forms import EmptyForm, apply_errors
from tracker.permissions import cycle_or_404, ensure, plan_or_404, require
from tracker.plan import services as plan_services
from tracker.plan.models import Action, Indicator, Plan
from tracker.budget import services as budget_services
from tracker.progress.context import queue_flags, review_context
from tracker.progress import comments, entry_forms, notifications, queries, schedule, services, uploads
from tracker.progress.forms import (
    ActionEntryForm,
    BulkReviewForm,
    CommentForm,
    CycleForm,
    DeadlineExceptionForm,
    NoteForm,
    ReasonForm,
    ReopenCycleForm,
    ReviewFilterForm,
    build_indicator_form,
)
from tracker.progress.models import ActionStatus, Entry, EntryKind, Evidence, ReportingCycle
from tracker.review import kinds, steps, workflow
from tracker.urls import int_arg, parse_int, year_arg

bp = Blueprint("progress", __name__)

@bp.app_context_processor
def _notification_count():
    def unread_notifications() -> int:
        return notifications.unread_count(db.session, current_user) if current_user.is_authenticated else 0

    return {"unread_notifications": unread_notifications}


# -- loading with the policy --------------------------------------------------------------------


def _entry_or_404(entry_id: int) -> Entry:
    """The entry if the user may see it; others get 404 (its existence is not revealed)."""
    entry = services.get_entry(db.session, entry_id)
    if entry is None or not permissions.can_view_entry(current_user, entry):
        abort(404)
    plan_services.use_plan(entry.cycle.plan)  # its times in the plan's time zone, its amounts in its currency
    return entry


def _assigned_item_or_404(plan: Plan, kind: EntryKind, code: str) -> Indicator | Action:
    indicators, actions = services.assigned_items(db.session, plan.id, current_user.institution_id)
    items = indicators if kind == EntryKind.indicator else actions
    item = next((i for i in items if i.code == code), None)
    if item is None:
        abort(404)
    return item


# -- worklist -----------------------------------------------------------------------------------


@bp.get("/report")
@require(permissions.can_report_or_review)
def my_work():
    """Start page for reporters (their latest open cycle) and the committee (the review queue)."""
    if permissions.can_review(current_user):
        return redirect(url_for("progress.review_queue"))
    cycle = queries.latest_cycle(db.session, current_user.institution_id)
    if cycle is None:
        body = plan_services.reviewing_body(plan_services.remembered_plan(db.session, current_user))
        flash(_("No reporting cycle is open yet. It is opened once a year by %(body)s.", body=body), "info")
        return redirect(url_for("plan.index"))
    return redirect(url_for("progress.worklist", code=cycle.plan.code, year=cycle.year))


def _plan_cycle(code: str, year: int, predicate):
    """The plan (404 if unreadable, 403 unless `predicate` holds for it) and its cycle of the year (404)."""
    plan = plan_or_404(code)
    ensure(predicate, plan)
    return plan, cycle_or_404(plan, year)


@bp.get("/plans/<code>/report/<int:year>")
@require(permissions.can_report_or_review)
def worklist(code: str, year: int):
    plan, cycle = _plan_cycle(code, year, permissions.can_report_or_review)
    institution = queries.worklist_institution(db.session, current_user, plan, request.args.get("institution"))
    if institution is None:
        abort(404)
    items = services.worklist(db.session, cycle, institution.id)
    exceptions = services.deadline_exceptions(db.session, cycle)
    return render_template(
        "progress/worklist.html", plan=plan, cycle=cycle, institution=institution, items=items,
        exception=exceptions.get(institution.id), deadline=services.institution_deadline(cycle, institution.id, exceptions),
        days_left=services.days_left(cycle, institution_id=institution.id, exceptions=exceptions),
        cycles=services.list_cycles(db.session, plan),
        institutions=queries.reporting_institutions(db.session, plan) if permissions.can_review(current_user, plan) else [],
        budget_entry=budget_services.find_budget_entry(db.session, cycle, institution.id),
    )


@bp.post("/plans/<code>/report/<int:year>/submit-all")
@require(permissions.can_report)
def submit_all(code: str, year: int):
    """Submit every complete draft of the reporter's institution; say which are not and why."""
    plan, cycle = _plan_cycle(code, year, permissions.can_report)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        done = steps.submit_complete_drafts(db.session, current_user, cycle, current_user.institution_id)
    except (WorkflowError, ValidationFailed) as exc:
        db.session.rollback()
        flash(exc.message, "warning")
        return redirect(url_for("progress.worklist", code=plan.code, year=year))
    db.session.commit()
    _flash_submitted_all(done)
    return redirect(url_for("progress.worklist", code=plan.code, year=year))


def _flash_submitted_all(done: steps.SubmittedAll) -> None:
    if done.submitted:
        flash(ngettext("%(num)d entry submitted.", "%(num)d entries submitted.", len(done.submitted)), "success")
    if done.incomplete:
        lines = "; ".join(f"{kinds.item_code(e)}: {' '.join(reasons)}" for e, reasons in done.incomplete)
        flash(_("Not submitted, incomplete: %(items)s", items=lines), "warning")
    if not done.submitted and not done.incomplete:
        flash(_("No draft to submit."), "info")


# -- entry forms --------------------------------------------------------------------------------


def _decimal(value) -> Decimal | None:
    return None if value is None else Decimal(value)


def _indicator_input(form) -> services.IndicatorInput:
    get = lambda name: form._fields[name].data if name in form._fields else None  # noqa: E731
    value_bool = get("value_bool")
    return services.IndicatorInput(
        value=_decimal(get("value")), women=get("women"), men=get("men"), reported_total=get("reported_total"),
        numerator=_decimal(get("numerator")),
        denominator=_decimal(get("denominator")), value_text=get("value_text") or "",
        value_bool=None if not value_bool else value_bool == "yes", narrative=form.narrative.data or "",
        data_source=form.data_source.data or "",
    )


def _action_input(form) -> services.ActionInput:
    return services.ActionInput(
        action_status=ActionStatus(form.action_status.data) if form.action_status.data else None,
        done=form.done.data or "", challenges=form.challenges.data or "", next_steps=form.next_steps.data or "",
    )


def _fill_from_entry(form, entry: Entry) -> None:
    for name in entry.fields:
        if name in form._fields:
            value = getattr(entry, name)
            if name == "value_bool":
                value = None if value is None else ("yes" if value else "no")
            if name == "action_status":
                value = value.value if value else ""
            form._fields[name].data = value
    form.version.data = str(entry.version)


def _entry_page(plan: Plan, cycle: ReportingCycle, item, kind: EntryKind):
    institution = current_user.institution
    entry = services.find_entry(db.session, cycle, institution.id, kind, item.id)
    if entry is not None and not permissions.can_edit_entry(current_user, entry):
        return redirect(url_for("progress.show_entry", entry_id=entry.id))
    if entry is None and not item.in_force(cycle.year):
        # Not a 404: the item exists and the link (an old reminder, a bookmark) was right once; the worklist
        # says why it is gone. An entry started before the retirement still opens (above and below).
        flash(services.retired_item_message(item), "warning")
        return redirect(url_for("progress.worklist", code=plan.code, year=cycle.year))
    form = build_indicator_form(item) if kind == EntryKind.indicator else ActionEntryForm()
    outcome = entry_forms.Outcome()
    if request.method == "GET" and entry is not None:
        _fill_from_entry(form, entry)
    if form.validate_on_submit():
        data = _indicator_input(form) if kind == EntryKind.indicator else _action_input(form)
        worklist_url = url_for("progress.worklist", code=plan.code, year=cycle.year)
        outcome = entry_forms.save_entry_form(
            form,
            lambda version: services.save_entry(db.session, current_user, cycle, institution, item, data, version,
                                                submit=form.send.data, request_key=form.request_key.data),
            done_url=worklist_url,
            back_url=worklist_url,
        )
        if outcome.response:
            return outcome.response
    return render_template(
        "progress/entry_form.html", plan=plan, cycle=cycle, item=item, kind=kind, entry=entry, form=form,
        conflict=outcome.conflict, target=queries.target_for(item, cycle.year) if kind == EntryKind.indicator else None,
    ), (outcome.status() if request.method == "POST" else 200)


@bp.route("/plans/<code>/report/<int:year>/indicators/<item_code>", methods=["GET", "POST"])
@require(permissions.can_report)
def indicator_entry(code: str, year: int, item_code: str):
    plan, cycle = _plan_cycle(code, year, permissions.can_report)
    return _entry_page(plan, cycle, _assigned_item_or_404(plan, EntryKind.indicator, item_code), EntryKind.indicator)


@bp.route("/plans/<code>/report/<int:year>/actions/<item_code>", methods=["GET", "POST"])
@require(permissions.can_report)
def action_entry(code: str, year: int, item_code: str):
    plan, cycle = _plan_cycle(code, year, permissions.can_report)
    return _entry_page(plan, cycle, _assigned_item_or_404(plan, EntryKind.action, item_code), EntryKind.action)


# -- entry detail and workflow ------------------------------------------------------------------


@bp.get("/entries/<int:entry_id>")
def show_entry(entry_id: int):
    entry = _entry_or_404(entry_id)
    history = services.entry_history(db.session, entry)
    if not permissions.can_see_drafts_of(current_user, entry.institution_id, entry.cycle.plan_id):
        history = [v for v in history if v.event == "approve"]  # others see approved versions only
    return _entry_view(entry, history)


def _entry_view(entry: Entry, history, comment_form: CommentForm | None = None, status: int = 200):
    thread = comments.thread(db.session, entry) if permissions.can_comment_entry(current_user, entry) else []
    page = render_template(
        "progress/entry.html", entry=entry, history=history, context=review_context(db.session, entry),
        note_form=NoteForm(), reason_form=ReasonForm(), action_form=EmptyForm(), thread=thread,
        next_steps=workflow.available(current_user, entry),
        comment_form=comment_form or CommentForm(formdata=None),
    )
    return page, status


@bp.post("/entries/<int:entry_id>/comments")
@require(permissions.is_logged_in)
def comment_entry(entry_id: int):
    """Post a comment (or a correction) in the entry's conversation; the other side is told."""
    entry = _entry_or_404(entry_id)
    if not permissions.can_comment_entry(current_user, entry):
        abort(403)
    form = CommentForm()
    if form.validate_on_submit():
        try:
            comments.add_comment(db.session, current_user, entry, form.body.data, _int_or_none(form.corrects.data))
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Comment posted."), "success")
            return redirect(url_for("progress.show_entry", entry_id=entry.id, _anchor="conversation"))
    return _entry_view(entry, services.entry_history(db.session, entry), form, status=400)


@bp.post("/entries/<int:entry_id>/comments/<int:comment_id>/resolve")
@require(permissions.is_logged_in)
def resolve_comment(entry_id: int, comment_id: int):
    """Mark a comment of the conversation resolved."""
    entry = _entry_or_404(entry_id)
    if not permissions.can_comment_entry(current_user, entry):
        abort(403)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        comments.resolve_comment(db.session, current_user, entry, comment_id)
    except (ValidationFailed, WorkflowError) as exc:
        db.session.rollback()
        flash(exc.message, "warning")
    else:
        db.session.commit()
    return redirect(url_for("progress.show_entry", entry_id=entry.id, _anchor="conversation"))


def _int_or_none(value) -> int | None:
    return int(value) if value and str(value).isdigit() else None


# A step that needs a note names it "reason" when it unlocks approved data, "note" otherwise.
_NOTE_FORMS = {"reopen": ReasonForm}


def _step_form(name: str):
    t = workflow.named(name)[0]
    return _NOTE_FORMS.get(name, NoteForm)() if t.needs_note else EmptyForm()


def take_step(entry_id: int, step: str):
    """Any workflow step on one entry (see tracker.review.workflow): one view, one service, one commit."""
    entry = _entry_or_404(entry_id)
    if not workflow.may_attempt(current_user, entry, step):
        abort(403)
    form = _step_form(step)
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "danger")
        if not form.errors:
            abort(400)
        return redirect(url_for("progress.show_entry", entry_id=entry.id))
    note = next((f.data for f in form if f.name in ("note", "reason")), "")
    try:
        steps.take_step(db.session, current_user, entry, step, note or "", seen=parse_int(request.form.get("version")))
    except PermissionDenied:
        abort(403)
    except (WorkflowError, ValidationFailed) as exc:
        db.session.rollback()
        flash(exc.message, "danger")
        return redirect(url_for("progress.show_entry", entry_id=entry.id))
    db.session.commit()
    flash(_("Done: the entry is now %(state)s.", state=services.state_word(entry.state)), "success")
    return redirect(url_for("progress.show_entry", entry_id=entry.id))


# One URL per step, all served by take_step: a step declared in the workflow is a route (progress.<step>_entry).
for _step in workflow.STEP_NAMES:
    bp.add_url_rule(f"/entries/<int:entry_id>/{_step.replace('_', '-')}", endpoint=f"{_step}_entry", view_func=take_step,
                    methods=["POST"], defaults={"step": _step})


@bp.get("/entries/<int:entry_id>/evidence/<int:evidence_id>")
def download_evidence(entry_id: int, evidence_id: int):
    entry = _entry_or_404(entry_id)
    evidence = db.session.get(Evidence, evidence_id)
    if evidence is None or evidence.entry_id != entry.id or evidence.removed_at is not None:
        abort(404)
    try:
        data = uploads.read_evidence(evidence)
    except storage.Missing:
        current_app.logger.error("evidence %s has no stored file (run `tracker check`)", evidence.id)
        abort(404)
    return send_file(io.BytesIO(data), mimetype=evidence.content_type, as_attachment=True,
                     download_name=evidence.original_name)


@bp.post("/entries/<int:entry_id>/evidence/<int:evidence_id>/remove")
def remove_evidence(entry_id: int, evidence_id: int):
    entry = _entry_or_404(entry_id)
    evidence = db.session.get(Evidence, evidence_id)
    if evidence is None or evidence.entry_id != entry.id:
        abort(404)
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.lock_entry(db.session, entry)  # a colleague may be submitting it at this moment
    if not permissions.can_edit_entry(current_user, entry):
        abort(403)
    uploads.remove_evidence(db.session, current_user, evidence)
    db.session.commit()
    flash(_("File removed from the entry (kept in its history)."), "success")
    return redirect(url_for("progress.show_entry", entry_id=entry.id))


# -- review queue -------------------------------------------------------------------------------


@bp.route("/review", methods=["GET", "POST"])
@require(permissions.can_review)
def review_queue():
    filters = _review_filters()
    queries.fill_review_choices(db.session, filters, current_user.reviewed_plan_ids)
    queries.apply_flag_filter(db.session, filters)
    bulk = BulkReviewForm()
    if bulk.validate_on_submit():
        try:
            ids, seen = _bulk_selection(filters, bulk)
            done = steps.decide_many(db.session, current_user, ids, bulk.decision.data, bulk.note.data or "", seen)
        except (ValidationFailed, WorkflowError) as exc:
            db.session.rollback()
            flash(exc.message, "danger")
        except PermissionDenied:
            abort(403)
        else:
            db.session.commit()
            flash(_("%(count)d entries updated.", count=len(done)), "success")
        return redirect(request.full_path)
    queue = queries.review_page(db.session, filters, int_arg("page", 1, minimum=1))
    matching = queries.decidable(db.session, filters)
    bulk.matching.data = matching.fingerprint
    return render_template("progress/review.html", filters=filters, bulk=bulk, queue=queue, entries=queue.entries,
                           flags=queue_flags(db.session, queue.entries),
                           matching_count=len(matching.versions),
                           page_url=lambda n: url_for("progress.review_queue", **{**request.args.to_dict(), "page": n}))


def _bulk_selection(filters, bulk) -> tuple[list[int], dict[int, int] | None]:
    """The entries a bulk decision acts on, with the versions the committee saw.

    "All that match" is confirmed by a fingerprint of the entries and versions the page showed: if any
    changed, left or was replaced since, the committee sees the new count instead of deciding blind.
    """
    if bulk.scope.data == "all":
        matching = queries.decidable(db.session, filters)
        if matching.fingerprint != bulk.matching.data:
            count = len(matching.versions)
            raise WorkflowError(ngettext(
                "The queue changed while you were looking at it: %(num)d entry matches now. Check and confirm again.",
                "The queue changed while you were looking at it: %(num)d entries match now. Check and confirm again.",
                count))
        return list(matching.versions), matching.versions
    ids = [i for i in map(parse_int, request.form.getlist("entry_ids")) if i is not None]
    return ids, {i: v for i in ids if (v := parse_int(request.form.get(f"seen-{i}"))) is not None}


def _review_filters() -> ReviewFilterForm:
    """The queue's filters from the query string; a year no cycle can have is ignored, not compared with."""
    filters = ReviewFilterForm(request.args)
    filters.year.data = year_arg()
    filters.year.raw_data = None  # the field shows the year in use, not the ignored text
    return filters


# -- cycles -------------------------------------------------------------------------------------


@bp.route("/plans/<code>/cycles", methods=["GET", "POST"])
@require(permissions.can_view_cycles)
def cycles(code: str):
    plan = plan_or_404(code)
    ensure(permissions.can_view_cycles, plan)
    form = _cycle_form(plan)
    if request.method == "POST":
        if not permissions.can_manage_cycles(current_user, plan):
            abort(403)
        if form.validate_on_submit():
            try:
                services.open_cycle(db.session, plan, form.year.data, form.deadline.data, current_user)
            except ValidationFailed as exc:
                db.session.rollback()
                apply_errors(form, exc)
            else:
                db.session.commit()
                flash(_("Reporting cycle %(year)s opened.", year=form.year.data), "success")
                return redirect(url_for("progress.cycles", code=plan.code))
    return _cycles_page(plan, form)


def _cycle_form(plan: Plan, **kwargs) -> CycleForm:
    form = CycleForm(**kwargs)
    taken = {c.year for c in services.list_cycles(db.session, plan)}
    form.offer_years(_offered_years(plan), taken=taken, span=_reporting_span(plan))
    return form


def _cycles_page(plan: Plan, form: CycleForm, refused: tuple[int, DeadlineExceptionForm] | None = None, status: int = 200,
                 reopening: tuple[int, ReopenCycleForm] | None = None):
    """The cycles page; `refused` is a cycle's extension form sent back with its errors, `reopening` a refused
    reopen form with what was typed (the other rows' forms are blank). Cycles are loaded here, after any
    refused write rolled the session back."""
    cycles = services.list_cycles(db.session, plan)
    managing = permissions.can_manage_cycles(current_user, plan)
    institutions = notifications.reminder_institutions(db.session, plan) if managing else []
    extend_forms = {c.id: _extension_form(institutions, formdata=None) for c in cycles}
    if refused is not None:
        extend_forms[refused[0]] = refused[1]
    return render_template(
        "progress/cycles.html", plan=plan, cycles=cycles, form=form, span=_reporting_span(plan),
        action_form=EmptyForm(), reopen_form=ReopenCycleForm(formdata=None), removal_form=ReasonForm(formdata=None),
        reopening=reopening, reminder_schedule=schedule.Settings.of(plan),
        extend_forms=extend_forms, exceptions=services.list_deadline_exceptions(db.session, cycles),
    ), status


def _extension_form(institutions, **kwargs) -> DeadlineExceptionForm:
    form = DeadlineExceptionForm(**kwargs)
    form.offer_institutions(institutions)
    return form


def _reporting_span(plan: Plan) -> str | None:
    """The plan's reporting years in words ("2022–2026", "from 2021 on"), None when it has no bound."""
    first, last = services.reporting_years(plan)
    return services.year_span(first, last) if first is not None or last is not None else None


def _offered_years(plan: Plan) -> list[int]:
    """The years the cycle form offers: the plan's reporting years; an open-ended plan's run from its
    adoption to next year (in its country), as no cycle is opened further ahead."""
    first, last = services.reporting_years(plan)
    next_year = utcnow().astimezone(services.plan_timezone(plan)).year + 1
    first = first if first is not None else min(last or next_year, next_year - 1)
    last = last if last is not None else max(first, next_year)
    return list(range(first, last + 1))


def _cycle_by_id_or_404(cycle_id: int) -> ReportingCycle:
    """A cycle of a plan the user reviews; others get 404."""
    cycle = db.session.get(ReportingCycle, cycle_id)
    if cycle is None or not permissions.can_manage_cycles(current_user, cycle.plan_id):
        abort(404)
    return cycle


@bp.post("/cycles/<int:cycle_id>/close")
@require(permissions.can_manage_cycles)
def close_cycle(cycle_id: int):
    cycle = _cycle_by_id_or_404(cycle_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        services.close_cycle(db.session, cycle, current_user)
    except WorkflowError as exc:
        flash(str(exc), "warning")
    else:
        db.session.commit()
        flash(_("Reporting cycle %(year)s closed.", year=cycle.year), "success")
    return redirect(url_for("progress.cycles", code=cycle.plan.code))


@bp.post("/cycles/<int:cycle_id>/reopen")
@require(permissions.can_manage_cycles)
def reopen_cycle(cycle_id: int):
    cycle = _cycle_by_id_or_404(cycle_id)
    form = ReopenCycleForm()
    if not form.validate_on_submit():
        _flash_form_errors(form, {"reason": _("Say why the cycle is reopened.")})
        return redirect(url_for("progress.cycles", code=cycle.plan.code))
    try:
        services.reopen_cycle(db.session, cycle, form.reason.data, current_user, deadline=form.deadline.data)
    except WorkflowError as exc:
        db.session.rollback()
        flash(str(exc), "warning")
    except ValidationFailed as exc:  # a refused deadline: the page again, with what was typed and the error
        db.session.rollback()
        apply_errors(form, exc)
        plan = db.session.get(Plan, cycle.plan_id)
        plan_services.use_plan(plan)
        return _cycles_page(plan, _cycle_form(plan, formdata=None), status=400, reopening=(cycle_id, form))
    else:
        db.session.commit()
        flash(_("Reporting cycle %(year)s reopened.", year=cycle.year), "success")
    return redirect(url_for("progress.cycles", code=cycle.plan.code))


def _flash_form_errors(form, instead: dict[str, str]) -> None:
    """A form posted from a table row: its errors as messages, naming the field (or saying it better)."""
    for name, errors in form.errors.items():
        for message in errors[:1]:
            flash(instead.get(name) or f"{getattr(form, name).label.text}: {message}", "danger")
    if not form.errors:
        abort(400)


@bp.post("/cycles/<int:cycle_id>/deadline-exceptions")
@require(permissions.can_manage_cycles)
def extend_deadline(cycle_id: int):
    """Give one institution more time; a refusal shows the cycles page with the errors on this cycle's form."""
    cycle = _cycle_by_id_or_404(cycle_id)
    plan = cycle.plan
    institutions = notifications.reminder_institutions(db.session, plan)  # who reports, a budget item included
    form = _extension_form(institutions)
    if form.validate_on_submit():
        institution = next(i for i in institutions if i.code == form.institution.data)
        try:
            services.extend_deadline(db.session, cycle, institution, form.deadline.data, form.reason.data, current_user)
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("%(institution)s now has until %(date)s for %(year)s.", institution=institution.code,
                    date=format_date(form.deadline.data), year=cycle.year), "success")
            return redirect(url_for("progress.cycles", code=plan.code))
    return _cycles_page(plan, _cycle_form(plan, formdata=None), refused=(cycle_id, form), status=400)


@bp.post("/cycles/<int:cycle_id>/deadline-exceptions/<int:institution_id>/remove")
@require(permissions.can_manage_cycles)
def remove_deadline_exception(cycle_id: int, institution_id: int):
    cycle = _cycle_by_id_or_404(cycle_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        _flash_form_errors(form, {"reason": _("Say why the exception is removed.")})
        return redirect(url_for("progress.cycles", code=cycle.plan.code))
    try:
        services.remove_deadline_exception(db.session, cycle, institution_id, form.reason.data, current_user)
    except (WorkflowError, ValidationFailed) as exc:
        db.session.rollback()
        flash(exc.message, "warning")
    else:
        db.session.commit()
        flash(_("Deadline exception removed: the cycle's deadline holds again."), "success")
    return redirect(url_for("progress.cycles", code=cycle.plan.code))


# -- notifications ------------------------------------------------------------------------------


@bp.get("/notifications")
def notifications_page():
    items = notifications.list_notifications(db.session, current_user)
    return render_template("progress/notifications.html", items=items, form=EmptyForm())


@bp.post("/notifications/read")
def mark_notifications_read():
    if not EmptyForm().validate_on_submit():
        abort(400)
    notifications.mark_all_read(db.session, current_user)
    db.session.commit()
    return redirect(url_for("progress.notifications_page"))


from tracker.progress import bulk_views  # noqa: E402,F401
from tracker.progress import reminder_views  # noqa: E402,F401
