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

from tracker.budget.models import BudgetStage
from tracker.progress.forms import new_request_key
from tracker.forms import options
from tracker.labels import choices


def _amount(label):
    return DecimalField(label, validators=[Optional()], places=2, render_kw={"inputmode": "decimal"})


class SupportForm(Form):
    donor = StringField(_l("Donor"), validators=[Length(max=255)])
    amount = DecimalField(_l("Amount"), validators=[Optional()], places=2)
    currency = StringField(_l("Currency"), validators=[Length(max=3)], default="USD")
    purpose = StringField(_l("Purpose"), validators=[Length(max=2000)])


class BudgetForm(FlaskForm):
    version = HiddenField()
    request_key = HiddenField(default=new_request_key, validators=[Length(max=64)])
    stage = SelectField(_l("Is the item in the institution's budget?"), choices=options([("", _l("— choose —")), *choices(BudgetStage)]))
    pliego = StringField(_l("Pliego"), validators=[Length(max=20)], description=_l("e.g. 026 (Ministry of Defense)"))
    unidad_ejecutora = StringField(_l("Executing unit (unidad ejecutora)"), validators=[Length(max=20)])
    meta_presupuestal = StringField(_l("Budget goal (meta presupuestal)"), validators=[Length(max=20)])
    product_activity = StringField(_l("Product or activity"), validators=[Length(max=255)])
    expense_category = StringField(_l("Expense category"), validators=[Length(max=120)])
    funding_source = StringField(_l("Funding source"), validators=[Length(max=120)])
    pia = _amount(_l("PIA (opening budget), S/"))
    pim = _amount(_l("PIM (modified budget), S/"))
    certificado = _amount(_l("Certified, S/"))
    compromiso_anual = _amount(_l("Annual commitment, S/"))
    devengado = _amount(_l("Accrued (devengado), S/"))
    girado = _amount(_l("Paid (girado), S/"))
    figures_as_of = DateField(_l("Figures as of"), validators=[Optional()])
    actions = SelectMultipleField(_l("Actions it finances"), choices=[], validate_choice=False)
    external_support = FieldList(FormField(SupportForm), label=_l("External support"), min_entries=3, max_entries=20)
    evidence = MultipleFileField(_l("Evidence (budget resolution or a screenshot of the spending portal)"))
    save = SubmitField(_l("Save draft"))
    send = SubmitField(_l("Save and submit"))


class CsvImportForm(FlaskForm):
    file = FileField(_l("CSV file from the public spending portal"))
    submit = SubmitField(_l("Import figures"))
