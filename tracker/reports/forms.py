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


class CommentaryForm(FlaskForm):
    """The committee's findings and recommendations, for the whole plan and per pillar: commentary_form adds a
    pair of fields per scope (findings_<n>, recommendations_<n>, in the order of the scopes)."""

    submit = SubmitField(_l("Save the commentary (draft)"))

    def texts(self, scopes: list[str]) -> dict[str, tuple[str, str]]:
        return {scope: (self[f"findings_{n}"].data or "", self[f"recommendations_{n}"].data or "")
                for n, scope in enumerate(scopes)}


def commentary_form(scopes: list[str], stored: dict, **kwargs) -> CommentaryForm:
    """A form with the fields of every scope, filled with what is stored (a GET) or what was posted."""

    class Form(CommentaryForm):
        pass

    for n, _scope in enumerate(scopes):
        setattr(Form, f"findings_{n}", TextAreaField(_l("Findings"), validators=[Length(max=LONG)]))
        setattr(Form, f"recommendations_{n}", TextAreaField(_l("Recommendations"), validators=[Length(max=LONG)]))
    form = Form(**kwargs)
    if not form.is_submitted():
        for n, scope in enumerate(scopes):
            if scope in stored:
                form[f"findings_{n}"].data = stored[scope].findings
                form[f"recommendations_{n}"].data = stored[scope].recommendations
    return form
