from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_user, logout_user

from tracker.auth import services
from tracker.auth.forms import ChangePasswordForm, LoginForm
from tracker.db import db
from tracker.domain import ValidationFailed
from tracker.forms import EmptyForm, apply_errors
from tracker.urls import safe_next

bp = Blueprint("auth", __name__)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = services.authenticate(db.session, form.email.data, form.password.data, request.remote_addr or "")
        except services.LoginThrottled as exc:
            minutes = exc.lockout.minutes
            form.form_errors.append(ngettext(
                "Too many failed attempts. Try again in %(num)d minute.",
                "Too many failed attempts. Try again in %(num)d minutes.", minutes))
            status = 429
        except services.LoginRefused:
            form.form_errors.append(_("The e-mail or the password is not correct."))
            status = 401
        else:
            return _start_session(user)
        finally:
            db.session.commit()
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


def _start_session(user):
    next_url = safe_next(request.args.get("next"))
    lang = session.get("lang")
    session.clear()
    if user.language or lang:
        session["lang"] = user.language or lang
    login_user(user)
    session.permanent = True  # expires after PERMANENT_SESSION_LIFETIME of inactivity
    if user.must_change_password:
        flash(_("Please choose a new password before you continue."), "info")
        return redirect(url_for("auth.change_password"))
    return redirect(next_url or url_for("core.index"))


@bp.post("/logout")
def logout():
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.record_logout(db.session, current_user)
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            user = current_user._get_current_object()  # the User itself: login_user must not store the proxy
            services.change_own_password(db.session, user, form.current_password.data, form.password.data)
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            login_user(user)  # the session token changed with the password
            flash(_("Your password has been changed."), "success")
            return redirect(url_for("core.index"))
    return render_template("auth/change_password.html", form=form), (400 if request.method == "POST" else 200)
