from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Form, FormField, SelectField, SelectMultipleField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from tracker.auth.forms import NewUserForm, UserForm
from tracker.dashboard.reference import STRATEGY_YEARS
from tracker.forms import FigureField, options
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


# -- the UN parity strategy's yearly targets ----------------------------------------------------

PERCENT = NumberRange(min=0, max=100, message=_l("Give a percentage between 0 and 100."))


def _two_decimals(_form, field) -> None:
    """The shares are stored to four decimals (0.0825), so a percentage has at most two (8.25)."""
    if field.data is not None and not field.errors and field.data.normalize().as_tuple().exponent < -2:
        raise ValidationError(_l("At most two decimals."))


def _percent_field(label) -> FigureField:
    return FigureField(label, validators=[Optional(), PERCENT, _two_decimals], render_kw={"inputmode": "decimal"})


def _typed(field) -> bool:
    return bool(field.raw_data and str(field.raw_data[0]).strip())


class ParityYearForm(Form):
    """One year of the strategy: the women's shares it sets, in percent, and the source they were taken from."""

    contingents = _percent_field(_l("Military contingents (%)"))
    observers_staff = _percent_field(_l("Military observers and staff officers (%)"))
    source = StringField(_l("Source"), validators=[Length(max=255)], filters=[lambda text: (text or "").strip()])

    def validate(self, extra_validators=None) -> bool:
        """Both shares or neither (neither removes the year's targets); a share needs its source."""
        valid = super().validate(extra_validators)
        typed = [f for f in (self.contingents, self.observers_staff) if _typed(f)]
        if len(typed) == 1:
            missing = self.observers_staff if typed[0] is self.contingents else self.contingents
            missing.errors.append(_l("Give both shares, or leave both empty to remove the year's targets."))
            valid = False
        if typed and not self.source.data:
            self.source.errors.append(_l("Say where the figures come from (the UN strategy's document or page)."))
            valid = False
        return valid

    @property
    def sent(self) -> bool:
        """Whether the request carried this year's row at all: a year missing from it is left as it is, never
        read as "both empty" (which removes the year's targets)."""
        return any(field.raw_data for field in (self.contingents, self.observers_staff, self.source))

    def targets(self) -> tuple[Decimal | None, Decimal | None, str]:
        """The shares as stored (8 % -> 0.08) and the source; both shares None: no targets for the year."""
        if self.contingents.data is None:
            return None, None, ""
        return self.contingents.data / 100, self.observers_staff.data / 100, self.source.data


class ParityForm(FlaskForm):
    """Every year of the strategy in one form, a row (`y2024-contingents`...) per year."""

    submit = SubmitField(_l("Save the targets"))

    def years(self) -> list[tuple[int, ParityYearForm]]:
        return [(year, self[f"y{year}"].form) for year in STRATEGY_YEARS]

    def sent_years(self) -> list[tuple[int, ParityYearForm]]:
        """The years whose row the request carried (the page sends them all)."""
        return [(year, row) for year, row in self.years() if row.sent]

    @staticmethod
    def data_of(stored: dict) -> dict:
        """The form's initial data from parity_rows(): stored shares shown as percentages."""
        return {f"y{year}": {"contingents": _percent(row.contingents), "observers_staff": _percent(row.observers_staff),
                             "source": row.source} for year, row in stored.items() if row is not None}


def _percent(share: Decimal | None) -> Decimal | None:
    # Through text, so that 0.10 shows as 10 and not 1E+1.
    return None if share is None else Decimal(format((share * 100).normalize(), "f"))


for _year in STRATEGY_YEARS:
    setattr(ParityForm, f"y{_year}", FormField(ParityYearForm, label=str(_year)))
del _year
