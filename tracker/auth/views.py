from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_user, logout_user

from tracker import permissions
from tracker.auth import services, sessions, two_factor
from tracker.auth.forms import ChangePasswordForm, DisableTwoFactorForm, EnableTwoFactorForm, LoginCodeForm, LoginForm
from tracker.auth.models import SessionEnd
from tracker.db import db
from tracker.domain import ValidationFailed
from tracker.forms import EmptyForm, apply_errors
from tracker.urls import safe_next

bp = Blueprint("auth", __name__)


def _throttled_message(lockout) -> str:
    return ngettext("Too many failed attempts. Try again in %(num)d minute.",
                    "Too many failed attempts. Try again in %(num)d minutes.", lockout.minutes)


def _address() -> str:
    return request.remote_addr or ""


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.index"))
    form = LoginForm()
    status = 200
    if form.validate_on_submit():
        try:
            user = services.authenticate(db.session, form.email.data, form.password.data, _address())
        except services.LoginThrottled as exc:
            form.form_errors.append(_throttled_message(exc.lockout))
            status = 429
        except services.LoginRefused:
            form.form_errors.append(_("The e-mail or the password is not correct."))
            status = 401
        else:
            next_url = safe_next(request.args.get("next"))
            if user.two_factor_enabled:
                return _ask_for_code(user, next_url)
            return _start_session(user, next_url)
        finally:
            db.session.commit()
    elif request.method == "POST":
        status = 400
    return render_template("auth/login.html", form=form), status


def _fresh_flask_session() -> None:
    """A new session for a new login (no fixation); only the chosen language survives."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


def _ask_for_code(user, next_url: str | None):
    """The password was right; the login is complete only after the second factor."""
    _fresh_flask_session()
    two_factor.begin_pending_login(user, next_url)
    return redirect(url_for("auth.login_code"))


def _start_session(user, next_url: str | None):
    _fresh_flask_session()
    if user.language:
        session["lang"] = user.language
    login_user(user)
    session[sessions.SESSION_KEY] = sessions.start_session(db.session, user, _address(), request.user_agent.string)
    session.permanent = True  # the cookie expires after PERMANENT_SESSION_LIFETIME of inactivity, like the record
    if user.must_change_password:
        flash(_("Please choose a new password before you continue."), "info")
        return redirect(url_for("auth.change_password"))
    if permissions.must_enrol_second_factor(user):
        flash(_("Your role requires two-step verification. Set it up before you continue."), "info")
        return redirect(url_for("auth.two_factor_setup"))
    return redirect(next_url or url_for("core.index"))


@bp.route("/login/code", methods=["GET", "POST"])
def login_code():
    if current_user.is_authenticated:
        return redirect(url_for("core.index"))
    pending = two_factor.pending_login()
    user = two_factor.pending_user(db.session, pending) if pending and not pending.expired else None
    if user is None:
        two_factor.clear_pending_login()
        if pending is not None:
            flash(_("The time to enter the code has run out. Please log in again."), "info")
        return redirect(url_for("auth.login"))
    form = LoginCodeForm()
    status = 200
    if form.validate_on_submit():
        try:
            two_factor.complete_login(db.session, user, form.code.data, _address())
        except two_factor.SecondFactorThrottled as exc:
            form.form_errors.append(_throttled_message(exc.lockout))
            status = 429
        except two_factor.CodeRefused:
            form.code.errors = [*form.code.errors, _("This code is not correct, or it has been used already.")]
            status = 401
        else:
            return _start_session(user, safe_next(pending.next_url))
        finally:
            db.session.commit()
    elif request.method == "POST":
        status = 400
    return render_template("auth/login_code.html", form=form), status


@bp.post("/logout")
def logout():
    if not EmptyForm().validate_on_submit():
        abort(400)
    services.record_logout(db.session, current_user)
    sessions.end_current_session(SessionEnd.logout)
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("You have logged out."), "info")
    return redirect(url_for("auth.login"))


@bp.get("/account")
def account():
    user = current_user._get_current_object()
    return render_template("auth/account.html", rows=sessions.session_rows(db.session, user), form=EmptyForm())


@bp.post("/account/sessions/end-others")
def end_other_sessions():
    if not EmptyForm().validate_on_submit():
        abort(400)
    ended = sessions.log_out_other_sessions(db.session, current_user._get_current_object())
    db.session.commit()
    flash(ngettext("%(num)d other session has been logged out.", "%(num)d other sessions have been logged out.", ended)
          if ended else _("There was no other session to log out."), "success")
    return redirect(url_for("auth.account"))


@bp.route("/account/password", methods=["GET", "POST"])
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            user = current_user._get_current_object()  # the User itself: login_user must not store the proxy
            sessions.keep_this_session(db.session)  # the new password ends the other sessions only
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


# -- two-step verification --------------------------------------------------------------------------


def _enrolment_page(form: EnableTwoFactorForm, status: int = 200):
    user = current_user._get_current_object()
    credential = two_factor.pending_enrolment(db.session, user)
    db.session.commit()  # the secret shown must be the one confirmed later
    uri = two_factor.provisioning_uri(user, credential)
    return render_template("auth/two_factor_setup.html", form=form, qr_code=two_factor.qr_code_data_uri(uri),
                           secret=two_factor.grouped_secret(credential.secret)), status


def _status_page(form: DisableTwoFactorForm, status: int = 200):
    user = current_user._get_current_object()
    return render_template("auth/two_factor.html", form=form, required=permissions.must_use_second_factor(user),
                           unused=two_factor.unused_recovery_codes(db.session, user)), status


@bp.route("/account/two-factor", methods=["GET", "POST"])
def two_factor_setup():
    user = current_user._get_current_object()
    if user.two_factor_enabled:
        return _status_page(DisableTwoFactorForm())
    form = EnableTwoFactorForm()
    if not form.validate_on_submit():
        return _enrolment_page(form, 400 if request.method == "POST" else 200)
    try:
        codes = two_factor.confirm_enrolment(db.session, user, form.code.data, form.password.data)
    except ValidationFailed as exc:
        db.session.rollback()
        apply_errors(form, exc)
        return _enrolment_page(form, 400)
    db.session.commit()
    flash(_("Two-step verification is on."), "success")
    return render_template("auth/recovery_codes.html", codes=codes)


@bp.post("/account/two-factor/disable")
def two_factor_disable():
    user = current_user._get_current_object()
    if not user.two_factor_enabled:
        return redirect(url_for("auth.two_factor_setup"))
    form = DisableTwoFactorForm()
    if not form.validate_on_submit():
        return _status_page(form, 400)
    try:
        two_factor.disable(db.session, user, form.password.data, form.code.data, _address())
    except two_factor.SecondFactorThrottled as exc:
        db.session.rollback()
        form.form_errors.append(_throttled_message(exc.lockout))
        return _status_page(form, 429)
    except ValidationFailed as exc:
        db.session.rollback()
        apply_errors(form, exc)
        return _status_page(form, 400)
    db.session.commit()
    flash(_("Two-step verification is off."), "success")
    return redirect(url_for("auth.account"))
