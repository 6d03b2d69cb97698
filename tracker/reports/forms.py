"""The committee's validation form."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, StringField, SubmitField, TextAreaField
from wtforms.validators import InputRequired, Length

from tracker.reports.services import ValidationInput

LONG = 20000


class ValidationForm(FlaskForm):
    validated_on = DateField(_l("Date of the committee's session"), validators=[InputRequired()])
    minutes_reference = StringField(_l("Minutes reference"), validators=[InputRequired(), Length(max=255)],
                                    description=_l("For example: Acta N.° 3-2026-CIG"))
    recommendations = TextAreaField(_l("Recommendations"), validators=[Length(max=LONG)])
    achievements = TextAreaField(_l("Main achievements"), validators=[Length(max=LONG)])
    challenges = TextAreaField(_l("Challenges"), validators=[Length(max=LONG)])
    lessons_learned = TextAreaField(_l("Lessons learned"), validators=[Length(max=LONG)])
    submit = SubmitField(_l("Save the validation"))

    def to_input(self) -> ValidationInput:
        return ValidationInput(
            validated_on=self.validated_on.data, minutes_reference=self.minutes_reference.data or "",
            recommendations=self.recommendations.data or "", achievements=self.achievements.data or "",
            challenges=self.challenges.data or "", lessons_learned=self.lessons_learned.data or "",
        )
