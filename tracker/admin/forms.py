from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from tracker.auth.forms import NewUserForm, UserForm
from tracker.forms import options
from tracker.labels import choices
from tracker.plan.models import BudgetProfile, InstitutionKind

CODE_RULE = Regexp(r"^[A-Za-z0-9_.\-]+$", message=_l("Letters, digits, dots, dashes and underscores only."))


class PlansMixin:
    """The plans an account is tied to; what they mean depends on the role (see UserInput.plan_codes)."""

    plans = SelectMultipleField(
        _l("Plans"), choices=[], validate_choice=False, widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
        description=_l("Committee: the plans whose monitoring body the account sits on (at least one). "
                       "Viewer: the only plans it may read (none ticked: every plan). "
                       "Reporters and administrators: none."),
    )


class AdminUserForm(PlansMixin, UserForm):
    """An account as the admin edits it: the account's fields and its plans."""


class AdminNewUserForm(PlansMixin, NewUserForm):
    """A new account: the same, with its temporary password."""


class InstitutionForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=40), CODE_RULE],
                       description=_l("Unique within the country, e.g. MGP."))
    name_es = StringField(_l("Name in Spanish"), validators=[DataRequired(), Length(max=255)])
    name_en = StringField(_l("Name in English"), validators=[DataRequired(), Length(max=255)])
    kind = SelectField(_l("Kind"), choices=options(choices(InstitutionKind)))
    country = SelectField(_l("Country"), choices=[], validate_choice=False)
    parent = SelectField(_l("Part of"), choices=[], validate_choice=False,
                         description=_l("An institution of the same country."))
    submit = SubmitField(_l("Save"))


class CountryProfileForm(FlaskForm):
    """How a country's plans are read: the same rules as the profile in the plan file."""

    timezone = StringField(_l("Time zone"), validators=[DataRequired(), Length(max=64)],
                           description=_l("An IANA name such as America/Lima: deadlines end at midnight there."))
    currency = StringField(_l("Currency"), validators=[Optional(), Length(max=3)],
                           description=_l("An ISO 4217 code such as PEN, CLP or USD; empty if the plan has no budget."))
    locale = StringField(_l("Locale"), validators=[DataRequired(), Length(max=16)],
                         description=_l("How numbers and dates are written, such as es_PE, es_CL or en_GB."))
    submit = SubmitField(_l("Save"))


BUDGET_PROFILE_LABELS = {
    BudgetProfile.pe_mef: _l("Peru's public budget (MEF): pliego, unidad ejecutora, meta, PIA, PIM…"),
    BudgetProfile.generic: _l("Generic: budget line, allocated, executed, source"),
}


class PlanProfileForm(FlaskForm):
    """A plan's budget classification profile and the name of its active monitoring body."""

    budget_profile = SelectField(_l("Budget classification"), choices=options(BUDGET_PROFILE_LABELS.items()))
    body_code = StringField(_l("Monitoring body code"), validators=[DataRequired(), Length(max=40), CODE_RULE],
                            description=_l("The plan has no monitoring body yet: this creates it."))
    body_name_es = StringField(_l("Monitoring body (Spanish name)"), validators=[DataRequired(), Length(max=255)])
    body_name_en = StringField(_l("Monitoring body (English name)"), validators=[DataRequired(), Length(max=255)])
    submit = SubmitField(_l("Save"))


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    action = StringField(_l("Action"))
    actor = StringField(_l("User"))
