"""Forms shared by every feature."""

from flask_wtf import FlaskForm
from wtforms import SelectChoice


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
