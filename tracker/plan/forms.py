"""Forms of the monitoring body's plan editing: an indicator with its targets, an action, an objective, a retirement.

The forms only parse; the rules live in tracker.plan.editing, which every channel shares.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, HiddenField, IntegerField, SelectField, SelectMultipleField,
                     StringField, SubmitField, TextAreaField)
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from tracker.forms import FigureField, options
from tracker.labels import choices
from tracker.plan import models as m

CODE_RULE = Regexp(r"^[A-Za-z0-9_.\-]+$", message=_l("Letters, digits, dots, dashes and underscores only."))
MAX_FIGURE = 10**12  # far above any count or amount a plan holds; beyond it a typing error


class ChangeMixin:
    """Why the plan changes (kept with every changed field), and the item's history as the form saw it."""

    reason = TextAreaField(_l("Reason for the change"), validators=[DataRequired(), Length(max=2000)],
                           description=_l("Kept in the plan's history with every field you change, e.g. "
                                          "\"Session of 12 March 2026, minute 4: targets adopted\"."))
    revision = HiddenField()


class ItemCodeMixin:
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=40), CODE_RULE],
                       description=_l("Unique within the plan, e.g. IND-PAR-4. It cannot change later."))


class ResponsibilityMixin:
    lead = SelectMultipleField(_l("Lead institutions"), choices=[], validate_choice=False, coerce=str)
    support = SelectMultipleField(_l("Supporting institutions"), choices=[], validate_choice=False, coerce=str)


class IndicatorForm(ChangeMixin, ResponsibilityMixin, FlaskForm):
    """An indicator's metadata; the target fields (target_<year>) are added per plan by indicator_form()."""

    name_es = TextAreaField(_l("Name in Spanish"), validators=[Length(max=2000)])
    name_en = TextAreaField(_l("Name in English"), validators=[Length(max=2000)])
    pillar = SelectField(_l("Pillar"), choices=[], validate_choice=False)
    objective = SelectField(_l("Objective"), choices=[], validate_choice=False)
    action = SelectField(_l("Action"), choices=[], validate_choice=False)
    measure = SelectField(_l("Measure"), choices=options(choices(m.Measure)))
    unit_es = StringField(_l("Unit in Spanish"), validators=[Length(max=120)])
    unit_en = StringField(_l("Unit in English"), validators=[Length(max=120)])
    counts_people = BooleanField(_l("Counts people (values are reported for women and men)"))
    direction = SelectField(_l("Direction"), choices=options(choices(m.Direction)))
    cumulative = BooleanField(_l("Cumulative over the years"))
    frequency = SelectField(_l("Frequency"), choices=options(choices(m.Frequency)))
    baseline_value = FigureField(_l("Baseline value"), validators=[Optional(), NumberRange(min=-MAX_FIGURE, max=MAX_FIGURE)])
    baseline_year = IntegerField(_l("Baseline year"), validators=[Optional()])
    means_of_verification_es = TextAreaField(_l("Means of verification in Spanish"), validators=[Length(max=4000)])
    means_of_verification_en = TextAreaField(_l("Means of verification in English"), validators=[Length(max=4000)])
    data_source_es = TextAreaField(_l("Data source in Spanish"), validators=[Length(max=4000)])
    data_source_en = TextAreaField(_l("Data source in English"), validators=[Length(max=4000)])
    change_threshold = FigureField(
        _l("Flag a change from the previous year above (%)"), validators=[Optional(), NumberRange(min=1, max=9999)],
        description=_l("Reviewers see a flag when an institution's figure moves more than this from its previous "
                       "approved year. Empty: 50 %."))
    expected_min = FigureField(_l("Lowest expected figure"), validators=[Optional(), NumberRange(min=-MAX_FIGURE, max=MAX_FIGURE)])
    expected_max = FigureField(_l("Highest expected figure"), validators=[Optional(), NumberRange(min=-MAX_FIGURE, max=MAX_FIGURE)],
                               description=_l("A figure outside this range is flagged for the reviewers; it is never refused."))
    submit = SubmitField(_l("Save changes"))

    def target_fields(self) -> list:
        return [f for f in self if f.name.startswith("target_")]


class NewIndicatorForm(ItemCodeMixin, IndicatorForm):
    submit = SubmitField(_l("Add indicator"))


class ActionForm(ChangeMixin, ResponsibilityMixin, FlaskForm):
    text_es = TextAreaField(_l("Text in Spanish"), validators=[Length(max=4000)])
    text_en = TextAreaField(_l("Text in English"), validators=[Length(max=4000)])
    pillar = SelectField(_l("Pillar"), choices=[], validate_choice=False)
    objective = SelectField(_l("Objective"), choices=[], validate_choice=False)
    submit = SubmitField(_l("Save changes"))


class NewActionForm(ItemCodeMixin, ActionForm):
    submit = SubmitField(_l("Add action"))


class ObjectiveForm(ChangeMixin, FlaskForm):
    text_es = TextAreaField(_l("Text in Spanish"), validators=[Length(max=4000)])
    text_en = TextAreaField(_l("Text in English"), validators=[Length(max=4000)])
    level = SelectField(_l("Level"), choices=options(choices(m.ObjectiveLevel)))
    pillar = SelectField(_l("Pillar"), choices=[], validate_choice=False)
    parent = SelectField(_l("Part of the objective"), choices=[], validate_choice=False)
    submit = SubmitField(_l("Save changes"))


class NewObjectiveForm(ItemCodeMixin, ObjectiveForm):
    submit = SubmitField(_l("Add objective"))


class RetireForm(FlaskForm):
    """Retire an item (or bring it back): always with a reason."""

    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])
    submit = SubmitField(_l("Retire"))


def target_field(year: int) -> FigureField:
    return FigureField(str(year), validators=[Optional(), NumberRange(min=0, max=MAX_FIGURE)])


def indicator_form(form_class: type[IndicatorForm], years: list[int], **kwargs) -> IndicatorForm:
    """The indicator form with one target field per year (target_2025...)."""

    class WithTargets(form_class):  # type: ignore[misc, valid-type]
        pass

    for year in years:
        setattr(WithTargets, f"target_{year}", target_field(year))
    return WithTargets(**kwargs)
