from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, Regexp

from tracker.forms import options
from tracker.labels import choices
from tracker.plan.models import InstitutionKind


class InstitutionForm(FlaskForm):
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=40),
                       Regexp(r"^[A-Za-z0-9_.\-]+$", message=_l("Letters, digits, dots, dashes and underscores only."))])
    name_es = StringField(_l("Name in Spanish"), validators=[DataRequired(), Length(max=255)])
    name_en = StringField(_l("Name in English"), validators=[DataRequired(), Length(max=255)])
    kind = SelectField(_l("Kind"), choices=options(choices(InstitutionKind)))
    country = SelectField(_l("Country"), choices=[], validate_choice=False)
    parent = SelectField(_l("Part of"), choices=[], validate_choice=False)
    submit = SubmitField(_l("Save"))


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    action = StringField(_l("Action"))
    actor = StringField(_l("User"))
