from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    DateField,
    DecimalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    MultipleFileField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import Length, Optional

from tracker.budget import profiles
from tracker.budget.profiles import Figure
from tracker.progress.forms import new_request_key
from tracker.forms import options


def _amount(label):
    return DecimalField(label, validators=[Optional()], places=2, render_kw={"inputmode": "decimal"})


def _figure_field(figure: Figure, plan):
    """The form field of one of the profile's figures, labelled as the profile says (amounts with the currency)."""
    text = profiles.label(figure, plan)
    if figure.amount:
        return _amount(text)
    return StringField(text, validators=[Length(max=figure.max_length)], description=figure.hint or "")


class SupportForm(Form):
    donor = StringField(_l("Donor"), validators=[Length(max=255)])
    amount = DecimalField(_l("Amount"), validators=[Optional()], places=2)
    currency = StringField(_l("Currency"), validators=[Length(max=3)], default="USD")
    purpose = StringField(_l("Purpose"), validators=[Length(max=2000)])


class BudgetForm(FlaskForm):
    """The fields every profile has; budget_form_class adds the profile's own."""

    version = HiddenField()
    request_key = HiddenField(default=new_request_key, validators=[Length(max=64)])
    stage = SelectField(_l("Is the item in the institution's budget?"), choices=[])
    figures_as_of = DateField(_l("Figures as of"), validators=[Optional()])
    actions = SelectMultipleField(_l("Actions it finances"), choices=[], validate_choice=False)
    external_support = FieldList(FormField(SupportForm), label=_l("External support"), min_entries=3, max_entries=20)
    evidence = MultipleFileField(_l("Evidence"))
    save = SubmitField(_l("Save draft"))
    send = SubmitField(_l("Save and submit"))


def budget_form_class(plan) -> type[BudgetForm]:
    """The budget item form of the plan's profile: its figures, labels, stage words and evidence hint."""
    profile = profiles.profile_of(plan)
    fields = {figure.name: _figure_field(figure, plan) for figure in profile.figures}
    fields["stage"] = SelectField(_l("Is the item in the institution's budget?"),
                                  choices=options([("", _l("— choose —")), *profile.stage_choices()]))
    fields["evidence"] = MultipleFileField(profile.evidence_label)
    return type("BudgetForm_" + profile.key.value, (BudgetForm,), fields)


class CsvImportForm(FlaskForm):
    file = FileField(_l("CSV file from the public spending portal"))
    submit = SubmitField(_l("Import figures"))
