from __future__ import annotations

import secrets

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    MultipleFileField,
    RadioField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from tracker.forms import options
from tracker.i18n import localized
from tracker.labels import choices
from tracker.plan.models import Indicator, Measure
from tracker.progress.models import ActionStatus, EntryState
from tracker.urls import YEAR_MAX, YEAR_MIN, parse_int


def new_request_key() -> str:
    """A random key per form as drawn: the same key arriving twice is a double click, not a new save."""
    return secrets.token_urlsafe(24)


class _EntryForm(FlaskForm):
    version = HiddenField()
    request_key = HiddenField(default=new_request_key, validators=[Length(max=64)])
    evidence = MultipleFileField(_l("Evidence files"), description=_l("PDF, images or office documents."))
    save = SubmitField(_l("Save draft"))
    send = SubmitField(_l("Save and submit"))


class IndicatorEntryForm(_EntryForm):
    value = DecimalField(_l("Value"), validators=[Optional()], places=None)
    women = IntegerField(_l("Women"), validators=[Optional()])
    men = IntegerField(_l("Men"), validators=[Optional()])
    reported_total = IntegerField(_l("Total in the source (optional)"), validators=[Optional()],
                                  description=_l("If your source gives a total, type it: women and men should add up to it."))
    numerator = DecimalField(_l("Numerator"), validators=[Optional()], places=None)
    denominator = DecimalField(_l("Denominator"), validators=[Optional()], places=None)
    value_text = TextAreaField(_l("Progress (description)"), validators=[Length(max=20000)])
    value_bool = RadioField(_l("Achieved?"), choices=options([("yes", _l("Yes")), ("no", _l("No"))]), validators=[Optional()])
    narrative = TextAreaField(_l("Narrative"), validators=[Length(max=20000)], description=_l("What was done, with whom, and what it achieved."))
    data_source = StringField(_l("Data source"), validators=[Length(max=2000)])


# Which value fields an indicator's form shows.
def indicator_fields(indicator: Indicator) -> set[str]:
    if indicator.counts_people:
        shown = {"women", "men", "reported_total"} | ({"denominator"} if indicator.measure == Measure.percentage else set())
    else:
        shown = {
            Measure.number: {"value"},
            Measure.percentage: {"numerator", "denominator"},
            Measure.qualitative: {"value_text"},
            Measure.yes_no: {"value_bool"},
        }[indicator.measure]
    return shown | {"narrative", "data_source"}


def build_indicator_form(indicator: Indicator, **kwargs) -> IndicatorEntryForm:
    form = IndicatorEntryForm(**kwargs)
    for name in ("value", "women", "men", "reported_total", "numerator", "denominator", "value_text", "value_bool"):
        if name not in indicator_fields(indicator):
            delattr(form, name)
    return form


class ActionEntryForm(_EntryForm):
    action_status = SelectField(_l("Status"), choices=options([("", _l("— choose —")), *choices(ActionStatus)]))
    done = TextAreaField(_l("What was done"), validators=[Length(max=20000)])
    challenges = TextAreaField(_l("Challenges"), validators=[Length(max=20000)])
    next_steps = TextAreaField(_l("Next steps"), validators=[Length(max=20000)])


class NoteForm(FlaskForm):
    note = TextAreaField(_l("Note"), validators=[DataRequired(message=_l("A note is required: say what must be fixed or why.")), Length(max=5000)])


class ReviewFilterForm(FlaskForm):
    class Meta:
        csrf = False

    plan = SelectField(_l("Plan"), choices=[], validate_choice=False)
    year = IntegerField(_l("Year"), validators=[Optional()])
    institution = SelectField(_l("Institution"), choices=[], validate_choice=False)
    pillar = SelectField(_l("Pillar"), choices=[], validate_choice=False)
    state = SelectField(_l("State"), choices=options([("", _l("All")), *choices(EntryState)]), validate_choice=False)
    flagged = BooleanField(_l("Only entries worth a second look"))
    # The plans the reviewer may see (set with the choices); the queue never reaches beyond them.
    plan_ids: frozenset[int] = frozenset()
    # With "flagged": the matching entries that have data-quality flags (queries.apply_flag_filter).
    flagged_ids: frozenset[int] | None = None


class BulkReviewForm(FlaskForm):
    # Nothing chosen beforehand: a bulk decision is always a deliberate choice.
    decision = SelectField(_l("Decision"), choices=options([("", _l("— choose —")), ("approve", _l("Approve")),
                                                            ("return", _l("Return with a note"))]))
    note = TextAreaField(_l("Note (required to return)"), validators=[Length(max=5000)])
    scope = RadioField(_l("Apply to"), default="selected", choices=options([
        ("selected", _l("The entries I selected on this page")),
        ("all", _l("Every submitted entry that matches the filters, on every page")),
    ]))
    # Which entries, at which versions, "all" meant when the page was drawn (queries.Decidable.fingerprint).
    matching = HiddenField()
    submit = SubmitField(_l("Apply"))


def _year_or_none(value) -> int | None:
    """A posted year, or None for anything that is no year (the form then asks for one, never a 500)."""
    return parse_int(str(value), minimum=YEAR_MIN, maximum=YEAR_MAX) if value not in (None, "") else None


class CycleForm(FlaskForm):
    """Opens a reporting cycle: the year is picked among the plan's reporting years (see offer_years);
    whether it is within the plan's timeframe is the service's rule (open_cycle)."""

    year = SelectField(_l("Year"), coerce=_year_or_none, choices=[], validate_choice=False,
                       validators=[InputRequired(message=_l("Choose a year."))])
    deadline = DateField(_l("Deadline"), validators=[InputRequired()])
    submit = SubmitField(_l("Open reporting cycle"))

    def offer_years(self, years: list[int], taken: set[int], span: str | None) -> None:
        """Offer these years (the first without a cycle preselected) and say which the plan's are."""
        self.year.choices = [(y, str(y)) for y in years]
        if self.year.data is None and not self.year.raw_data:  # drawn afresh, not sent back with an error
            self.year.data = next((y for y in years if y not in taken), years[-1] if years else None)
        if span:
            self.year.description = _l("The plan's reporting years are %(span)s.", span=span)

    def validate_year(self, field) -> None:
        if field.data is None:
            raise ValidationError(_l("Choose a year."))


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(message=_l("Say why.")), Length(max=5000)])


class ReopenCycleForm(ReasonForm):
    """Reopens a closed cycle: a reason, and a new deadline when the old one no longer holds."""

    deadline = DateField(_l("New deadline (optional)"), validators=[Optional()])


class DeadlineExceptionForm(FlaskForm):
    """Gives one of the plan's reporting institutions a later deadline in a cycle (see offer_institutions)."""

    institution = SelectField(_l("Institution"), choices=[], validators=[InputRequired(message=_l("Choose an institution."))])
    deadline = DateField(_l("New deadline for the institution"), validators=[InputRequired(message=_l("Give the new deadline."))])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(message=_l("Say why the institution gets more time.")),
                                                     Length(max=5000)])
    submit = SubmitField(_l("Extend the deadline"))

    def offer_institutions(self, institutions) -> None:
        """The plan's reporting institutions, by code (a code not among them is refused as no choice)."""
        named = [(i.code, f"{i.code} · {localized(i, 'name')}") for i in institutions]
        self.institution.choices = options([("", _l("— choose —")), *named])


class CommentForm(FlaskForm):
    """A comment on an entry; with `corrects`, a correction of an earlier one (comments are never edited)."""

    body = TextAreaField(_l("Comment"), validators=[DataRequired(message=_l("Write the comment.")), Length(max=5000)])
    corrects = HiddenField()


class ReminderSettingsForm(FlaskForm):
    """A plan's reminder schedule (tracker.progress.schedule): the days before each deadline, and how long an entry
    may stay in one state before it is brought to whoever must act on it."""

    reminder_days = StringField(_l("Reminders, days before each institution's deadline"), validators=[Length(max=40)],
                                description=_l("Numbers separated by commas, e.g. 14, 7, 1; empty: no reminders by deadline."))
    draft_idle_days = IntegerField(_l("A draft nobody has saved, after (days)"), validators=[InputRequired()],
                                   description=_l("Its institution's reporters are reminded. 0: never."))
    returned_idle_days = IntegerField(_l("A returned entry not submitted again, after (days)"), validators=[InputRequired()],
                                      description=_l("Its institution's reporters are reminded. 0: never."))
    review_wait_days = IntegerField(_l("An entry waiting for its sign-off or the committee's decision, after (days)"),
                                    validators=[InputRequired()],
                                    description=_l("The institution's focal points, or the committee, are reminded. 0: never."))
    reason = TextAreaField(_l("Reason for the change"), validators=[DataRequired(), Length(max=500)], render_kw={"rows": 2})
    submit = SubmitField(_l("Save the reminder schedule"))
