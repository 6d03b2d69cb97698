"""Forms shared by every feature."""

from decimal import Decimal

from flask_wtf import FlaskForm
from wtforms import DecimalField, SelectChoice
from wtforms.validators import StopValidation


class EmptyForm(FlaskForm):
    """Carries only the CSRF token: for button-only POSTs (logout, approve, language)."""


def apply_errors(form: FlaskForm, exc) -> None:
    """Put a service's ValidationFailed errors on the form's fields (or the form itself)."""
    for field_name, message in exc.errors:
        field = getattr(form, field_name, None) if field_name else None
        if field is not None and hasattr(field, "errors"):
            field.errors = [*field.errors, message]
        else:
            form.form_errors.append(message)


def field_label(form: FlaskForm, name: str) -> str:
    """The label of a form field, for messages that name fields (falls back to the name)."""
    field = getattr(form, name, None)
    return str(field.label.text) if field is not None and hasattr(field, "label") else name


def options(pairs) -> list[SelectChoice]:
    """(value, label) pairs as choices of a select or radio field."""
    return [SelectChoice(str(value), label) for value, label in pairs]


class FigureField(DecimalField):
    """A number as people type it in Peru or Chile ("12,5" as well as "12.5"), shown without trailing zeros
    ("60", not "60.0000"). NaN and Infinity are refused like any text, and a value that cannot be read gets that
    one error (not also a range error about a number nobody typed)."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, places=None, **kwargs)

    def process_formdata(self, valuelist):
        if not valuelist:
            return
        text = valuelist[0].strip().replace(" ", "")
        if not text:  # nothing typed: no value (the Optional or DataRequired validator decides)
            self.data = None
            return
        if "," in text and "." not in text:
            text = text.replace(",", ".")
        super().process_formdata([text])
        if self.data is not None and not self.data.is_finite():
            self.data = None
            raise ValueError(self.gettext("Not a valid decimal value."))

    def pre_validate(self, form) -> None:
        if self.process_errors:
            raise StopValidation()

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return plain(self.data) if isinstance(self.data, Decimal) else super()._value()


def plain(value: Decimal) -> str:
    """A stored figure as typed: 60.0000 -> "60", 12.5000 -> "12.5"."""
    return format(value.normalize(), "f")
