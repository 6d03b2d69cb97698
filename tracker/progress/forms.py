from __future__ import annotations

import secrets

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
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
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from tracker.forms import options
from tracker.labels import choices
from tracker.plan.models import Indicator, Measure
from tracker.progress.models import ActionStatus, EntryState


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
    numerator = DecimalField(_l("Numerator"), validators=[Optional()], places=None)
    denominator = DecimalField(_l("Denominator"), validators=[Optional()], places=None)
    value_text = TextAreaField(_l("Progress (description)"), validators=[Length(max=20000)])
    value_bool = RadioField(_l("Achieved?"), choices=options([("yes", _l("Yes")), ("no", _l("No"))]), validators=[Optional()])
    narrative = TextAreaField(_l("Narrative"), validators=[Length(max=20000)], description=_l("What was done, with whom, and what it achieved."))
    data_source = StringField(_l("Data source"), validators=[Length(max=2000)])


# Which value fields an indicator's form shows.
def indicator_fields(indicator: Indicator) -> set[str]:
    if indicator.counts_people:
        shown = {"women", "men"} | ({"denominator"} if indicator.measure == Measure.percentage else set())
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
    for name in ("value", "women", "men", "numerator", "denominator", "value_text", "value_bool"):
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
    # The plans the reviewer may see (set with the choices); the queue never reaches beyond them.
    plan_ids: frozenset[int] = frozenset()


class BulkReviewForm(FlaskForm):
    decision = SelectField(_l("Decision"), choices=options([("approve", _l("Approve")), ("return", _l("Return with a note"))]))
    note = TextAreaField(_l("Note (required to return)"), validators=[Length(max=5000)])
    scope = RadioField(_l("Apply to"), default="selected", choices=options([
        ("selected", _l("The entries I selected on this page")),
        ("all", _l("Every submitted entry that matches the filters, on every page")),
    ]))
    # Which entries, at which versions, "all" meant when the page was drawn (queries.Decidable.fingerprint).
    matching = HiddenField()
    submit = SubmitField(_l("Apply"))


class CycleForm(FlaskForm):
    year = IntegerField(_l("Year"), validators=[InputRequired(), NumberRange(min=1900, max=2200)])
    deadline = DateField(_l("Deadline"), validators=[InputRequired()])
    submit = SubmitField(_l("Open reporting cycle"))


class ReasonForm(FlaskForm):
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(message=_l("Say why.")), Length(max=5000)])
