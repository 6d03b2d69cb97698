"""Translated labels of every vocabulary (enum) the user sees, for pages and reports."""

from __future__ import annotations

import enum
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from jinja2 import pass_context

from tracker.auth.models import Role
from tracker.budget.models import BudgetStage
from tracker.budget.profiles import PE_MEF, profile_of
from tracker.plan import models as m
from tracker.progress.models import ActionStatus, CycleState, EntryKind, EntryState
from tracker.status import Performance

_PAIRS: list[tuple[enum.Enum, object]] = [
    (m.PlanTab.actors, _l("Actors")),
    (m.PlanTab.timeframe, _l("Timeframe")),
    (m.PlanTab.objectives, _l("Objectives")),
    (m.PlanTab.actions, _l("Actions/Activities")),
    (m.PlanTab.indicators, _l("Indicators")),
    (m.PlanTab.monitoring, _l("M&E")),
    (m.PlanTab.budget, _l("Budget")),
    (m.PlanTab.disarmament, _l("Disarmament")),
    (m.Measure.number, _l("Number")),
    (m.Measure.percentage, _l("Percentage")),
    (m.Measure.qualitative, _l("Qualitative")),
    (m.Measure.yes_no, _l("Yes / no")),
    (m.Direction.increase, _l("Increase")),
    (m.Direction.decrease, _l("Decrease")),
    (m.Direction.maintain, _l("Maintain")),
    (m.Frequency.annual, _l("Annual")),
    (m.Frequency.semiannual, _l("Every six months")),
    (m.Frequency.quarterly, _l("Quarterly")),
    (m.Frequency.once, _l("Once")),
    (m.PlanItemKind.plan, _l("Plan")),
    (m.PlanItemKind.objective, _l("Objective")),
    (m.PlanItemKind.action, _l("Action")),
    (m.PlanItemKind.indicator, _l("Indicator")),
    (m.ChangeChannel.web, _l("In the tracker")),
    (m.ChangeChannel.plan_file, _l("Plan file")),
    (m.ChangeChannel.spreadsheet, _l("Indicator matrix (spreadsheet)")),
    (m.ObjectiveLevel.general, _l("General objective")),
    (m.ObjectiveLevel.specific, _l("Specific objective")),
    (m.ResponsibilityRole.lead, _l("Lead")),
    (m.ResponsibilityRole.support, _l("Support")),
    (m.InstitutionKind.ministry, _l("Ministry")),
    (m.InstitutionKind.armed_forces, _l("Armed forces")),
    (m.InstitutionKind.committee, _l("Committee")),
    (m.InstitutionKind.government, _l("Government")),
    (m.InstitutionKind.other, _l("Other")),
    (m.PillarKind.participation, _l("Participation")),
    (m.PillarKind.prevention, _l("Prevention")),
    (m.PillarKind.protection, _l("Protection")),
    (m.PillarKind.relief_recovery, _l("Relief and Recovery")),
    (m.PillarKind.other, _l("Other")),
    (Role.reporter, _l("Reporter")),
    (Role.committee, _l("Monitoring committee (reviews its plans)")),
    (Role.viewer, _l("Viewer")),
    (Role.admin, _l("Administrator")),
    (ActionStatus.not_started, _l("Not started")),
    (ActionStatus.in_progress, _l("In progress")),
    (ActionStatus.completed, _l("Completed")),
    (ActionStatus.ongoing, _l("Ongoing")),
    (ActionStatus.delayed, _l("Delayed")),
    (ActionStatus.suspended, _l("Suspended")),
    (EntryState.draft, _l("Draft")),
    (EntryState.awaiting_signoff, _l("Awaiting sign-off")),
    (EntryState.submitted, _l("Submitted")),
    (EntryState.returned, _l("Returned")),
    (EntryState.approved, _l("Approved")),
    (CycleState.open, _l("Open")),
    (CycleState.closed, _l("Closed")),
    (EntryKind.indicator, _l("Indicator")),
    (EntryKind.action, _l("Action")),
    (EntryKind.budget, _l("Budget item")),
    # Budget stages without a plan at hand use Peru's words; pages and reports use their plan's profile.
    *PE_MEF.stages.items(),
    (m.Verification.verbatim, _l("Verbatim")),
    (m.Verification.summary, _l("Summary")),
    (m.Verification.derived, _l("Derived")),
    (Performance.met, _l("Target met")),
    (Performance.on_track, _l("On track")),
    (Performance.at_risk, _l("At risk")),
    (Performance.not_met, _l("Not met")),
    (Performance.no_target, _l("No target set")),
    (Performance.no_data, _l("No data")),
]
# Keyed by (enum class, value): StrEnum members of different vocabularies can share a value.
LABELS: dict[tuple[type, str], object] = {(type(member), member.value): text for member, text in _PAIRS}


def label(value: enum.Enum) -> str:
    """The user-language label of a vocabulary value."""
    return str(LABELS[(type(value), value.value)])


def choices(enum_cls: type[enum.Enum]) -> list[tuple[str, object]]:
    """(value, lazy label) pairs for a form's select field."""
    return [(member.value, LABELS[(enum_cls, member.value)]) for member in enum_cls]


EVENT_LABELS = {
    "created": _l("Created"),
    "saved": _l("Saved"),
    "imported": _l("Imported from the Excel template"),
    "submit": _l("Submitted"),
    "withdraw": _l("Submission withdrawn"),
    "endorse": _l("Endorsed by the institution's focal point"),
    "send_back": _l("Sent back by the institution's focal point"),
    "signoff_requested": _l("An entry waits for your sign-off"),
    "approve": _l("Approved"),
    "return": _l("Returned with a note"),
    "reopen": _l("Reopened"),
    "reminder": _l("Reminder: items still to report"),
    "stale_draft": _l("Reminder: a draft nobody has saved for a while"),
    "stale_returned": _l("Reminder: a returned entry not submitted again"),
    "stale_signoff": _l("Reminder: an entry waits for your sign-off"),
    "stale_review": _l("Reminder: a submission waits for the committee's decision"),
    "entry_submitted": _l("New submission to review"),
    "comment": _l("New comment"),
    "committee_role_granted": _l("New member of the monitoring committee"),
    "committee_password_reset": _l("A committee member's password was reset"),
}


def event_label(event: str) -> str:
    """The user-language name of an entry history or notification event."""
    return str(EVENT_LABELS.get(event, event))


def label_stage(value: str, plan=None) -> str:
    """The label of a budget stage given by value, in the words of the plan's budget profile (Peru's without a plan)."""
    return profile_of(plan).stage_label(value) if plan is not None else label(BudgetStage(value))


ENTRY_FIELD_LABELS = {
    "value": _l("Value"),
    "women": _l("Women"),
    "men": _l("Men"),
    "reported_total": _l("Total in the source"),
    "numerator": _l("Numerator"),
    "denominator": _l("Denominator"),
    "value_text": _l("Progress (description)"),
    "value_bool": _l("Achieved?"),
    "narrative": _l("Narrative"),
    "data_source": _l("Data source"),
    "action_status": _l("Status"),
    "done": _l("What was done"),
    "challenges": _l("Challenges"),
    "next_steps": _l("Next steps"),
    "stage": _l("Budget clause"),
    "figures_as_of": _l("Figures as of"),
    "actions": _l("Actions it finances"),
    "external_support": _l("External support"),
}


@pass_context
def entry_field(context, name: str, value) -> tuple[str, str]:
    """entry_field_of for templates: the plan is the page's `plan`."""
    return entry_field_of(name, value, context.get("plan"))


def entry_field_of(name: str, value, plan=None) -> tuple[str, str]:
    """A stored entry field (from its history) as a translated (label, value) pair; budget figures are
    named as the plan's budget profile names them, and amounts written in its currency."""
    figure = profile_of(plan).figure(name) or PE_MEF.figure(name)  # PE_MEF: a figure the profile no longer has
    if value is None or value == "" or value == []:
        shown = "—"
    elif name == "action_status":
        shown = label(ActionStatus(value))
    elif name == "stage":
        shown = label_stage(value, plan)
    elif name == "value_bool":
        shown = str(_l("Yes") if value else _l("No"))
    elif figure is not None and figure.amount:
        shown = _amount(value, plan)
    elif isinstance(value, list):
        shown = ", ".join(str(v) for v in value)
    else:
        shown = str(value)
    text = figure.label if figure is not None else ENTRY_FIELD_LABELS.get(name, name)
    return str(text), shown


def _amount(value, plan) -> str:
    from tracker.i18n import money

    try:
        return money(Decimal(str(value)), plan)
    except InvalidOperation:
        return str(value)


# The fields of plan items as the plan's history names them (tracker.plan.editing records column names, plus
# "created", "responsible", "confirmed" and "retired"); a name not listed is shown as stored.
PLAN_FIELD_LABELS = {
    "change_threshold": _l("Change flagged above (%)"),
    "expected_min": _l("Lowest expected figure"),
    "expected_max": _l("Highest expected figure"),
    "created": _l("Created"),
    "responsible": _l("Responsible institutions"),
    "confirmed": _l("Confirmation by the monitoring body"),
    "retired": _l("Retired"),
    "restored": _l("Brought back"),
    "code": _l("Code"),
    "text_es": _l("Text in Spanish"),
    "text_en": _l("Text in English"),
    "name_es": _l("Name in Spanish"),
    "name_en": _l("Name in English"),
    "title_es": _l("Title in Spanish"),
    "title_en": _l("Title in English"),
    "summary_es": _l("Summary in Spanish"),
    "summary_en": _l("Summary in English"),
    "level": _l("Level"),
    "parent_id": _l("Parent objective"),
    "pillar_id": _l("Pillar"),
    "objective_id": _l("Objective"),
    "action_id": _l("Action"),
    "measure": _l("Measure"),
    "counts_people": _l("Counts people"),
    "unit_es": _l("Unit in Spanish"),
    "unit_en": _l("Unit in English"),
    "numerator_es": _l("Numerator in Spanish"),
    "numerator_en": _l("Numerator in English"),
    "denominator_es": _l("Denominator in Spanish"),
    "denominator_en": _l("Denominator in English"),
    "baseline_value": _l("Baseline value"),
    "baseline_year": _l("Baseline year"),
    "direction": _l("Direction"),
    "cumulative": _l("Cumulative over the years"),
    "frequency": _l("Frequency"),
    "means_of_verification_es": _l("Means of verification in Spanish"),
    "means_of_verification_en": _l("Means of verification in English"),
    "data_source_es": _l("Data source in Spanish"),
    "data_source_en": _l("Data source in English"),
    "tags": _l("Tags"),
    "note_es": _l("Note in Spanish"),
    "note_en": _l("Note in English"),
    "source_document": _l("Source document"),
    "source_section": _l("Source section"),
    "verification": _l("Provenance"),
    "original_language": _l("Original language"),
    "start_year": _l("First year"),
    "end_year": _l("Last year"),
    "adoption_year": _l("Year of adoption"),
    "lead_institution_id": _l("Lead institution"),
    "version": _l("Version"),
}


def plan_field_label(name: str) -> str:
    """A changed plan field's name in the reader's language (as stored when the tracker does not know it)."""
    return str(PLAN_FIELD_LABELS.get(name, name))


def quality_flag(flag) -> str:
    """A data-quality flag (tracker.quality) as the reviewer reads it."""
    from flask_babel import format_decimal, format_percent

    from tracker.quality import Check

    change = format_percent(flag.change, "+#,##0%;-#,##0%") if flag.change is not None else ""
    before = format_decimal(flag.previous) if flag.previous is not None else "—"
    now = format_decimal(flag.current) if flag.current is not None else "—"
    messages = {
        Check.value_jump: _l("The figure changed by %(change)s from the previous approved year (%(before)s → %(now)s).",
                             change=change, before=before, now=now),
        Check.denominator_jump: _l("The denominator changed by %(change)s from the previous approved year "
                                   "(%(before)s → %(now)s).", change=change, before=before, now=now),
        Check.sex_split_mismatch: _l("Women + men (%(now)s) differ from the total in the source (%(before)s).",
                                     before=before, now=now),
        Check.out_of_range: _l("The figure (%(now)s) is outside the range expected for this indicator (limit %(before)s).",
                               before=before, now=now),
        Check.numerator_above_denominator: _l("The numerator (%(now)s) is above the denominator (%(before)s).",
                                              before=before, now=now),
        Check.no_evidence: _l("No evidence file, though the indicator names a means of verification."),
    }
    return str(messages[flag.check])
