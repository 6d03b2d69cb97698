from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length

from tracker.auth.models import Role
from tracker.auth.passwords import MIN_LENGTH
from tracker.forms import options
from tracker.labels import choices


def _min_length() -> Length:
    """The same message as the password rules (WTForms' own message is not in our catalogs)."""
    return Length(min=MIN_LENGTH, message=_l("Use at least %(n)d characters.", n=MIN_LENGTH))


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=255)], render_kw={"autocomplete": "username"})
    password = PasswordField(_l("Password"), validators=[DataRequired()], render_kw={"autocomplete": "current-password"})
    submit = SubmitField(_l("Log in"))


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()], render_kw={"autocomplete": "current-password"})
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), _min_length()],
        description=_l("At least %(n)d characters; not a common password.", n=MIN_LENGTH),
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords do not match."))],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Change password"))


class UserForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(), Length(max=255)])
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=255)])
    role = SelectField(_l("Role"), choices=options(choices(Role)), validators=[DataRequired()])
    institution = SelectField(_l("Institution"), choices=[], validate_choice=False,
                              description=_l("Required for reporters."))
    focal_point = BooleanField(_l("Focal point of the institution"), description=_l(
        "Reporters only: endorses (signs off) the institution's entries where a plan asks for it."))
    submit = SubmitField(_l("Save"))


class NewUserForm(UserForm):
    password = PasswordField(
        _l("Temporary password"),
        validators=[DataRequired(), _min_length()],
        description=_l("The user must change it at first login."),
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Create user"))


class ResetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New temporary password"),
        validators=[DataRequired(), _min_length()],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Reset password"))


class LoginCodeForm(FlaskForm):
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=32)],
        description=_l("The 6-digit code your authenticator app shows, or one of your recovery codes."),
        render_kw={"autocomplete": "one-time-code", "autocapitalize": "none", "spellcheck": "false"},
    )
    submit = SubmitField(_l("Continue"))


class EnableTwoFactorForm(FlaskForm):
    # Someone who found the browser logged in must not be able to bind the account to their own phone.
    password = PasswordField(_l("Password"), validators=[DataRequired()], render_kw={"autocomplete": "current-password"})
    code = StringField(
        _l("Code from the app"),
        validators=[DataRequired(), Length(max=32)],
        description=_l("After adding the account to your app, type the 6-digit code it shows."),
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )
    submit = SubmitField(_l("Turn on two-step verification"))


class DisableTwoFactorForm(FlaskForm):
    password = PasswordField(_l("Password"), validators=[DataRequired()], render_kw={"autocomplete": "current-password"})
    code = StringField(
        _l("Code"),
        validators=[DataRequired(), Length(max=32)],
        description=_l("A code from your authenticator app, or one of your recovery codes."),
        render_kw={"autocomplete": "one-time-code"},
    )
    submit = SubmitField(_l("Turn off two-step verification"))
