"""The account page's API tokens: the user makes one (shown once), sees those in use, and revokes them."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import IntegerField, StringField, SubmitField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from tracker.api import tokens
from tracker.db import db
from tracker.domain import ValidationFailed
from tracker.forms import EmptyForm, apply_errors
from tracker.permissions import is_logged_in, require

bp = Blueprint("tokens", __name__)


class TokenForm(FlaskForm):
    name = StringField(_l("What the token is for"), validators=[DataRequired(), Length(max=80)],
                       description=_l("E.g. the ministry's Power BI report."))
    days = IntegerField(_l("Valid for (days)"), default=tokens.DEFAULT_DAYS,
                        validators=[InputRequired(), NumberRange(1, tokens.MAX_DAYS, _l("A token lasts from 1 to 365 days."))],
                        description=_l("From 1 to 365."))
    submit = SubmitField(_l("Create the token"))


def _page(form: TokenForm, new_token: str | None = None, status: int = 200):
    rows = tokens.tokens_of(db.session, current_user._get_current_object())
    return render_template("api/tokens.html", form=form, rows=rows, new_token=new_token, revoke_form=EmptyForm()), status


@bp.get("/account/tokens")
@require(is_logged_in)
def index():
    return _page(TokenForm(formdata=None))


@bp.post("/account/tokens")
@require(is_logged_in)
def create():
    form = TokenForm()
    if form.validate_on_submit():
        try:
            _token, raw = tokens.create(db.session, current_user._get_current_object(), form.name.data, form.days.data)
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            return _page(TokenForm(formdata=None), new_token=raw)
    return _page(form, status=400)


@bp.post("/account/tokens/<int:token_id>/revoke")
@require(is_logged_in)
def revoke(token_id: int):
    if not EmptyForm().validate_on_submit():
        abort(400)
    if not tokens.revoke(db.session, current_user._get_current_object(), token_id):
        abort(404)
    db.session.commit()
    flash(_("The token was revoked: it no longer opens the API."), "success")
    return redirect(url_for("tokens.index"))
