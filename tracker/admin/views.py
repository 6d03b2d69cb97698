from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from tracker.admin import services
from tracker.admin.forms import AuditFilterForm, InstitutionForm
from tracker.auth import services as accounts
from tracker.auth.forms import NewUserForm, ResetPasswordForm, UserForm
from tracker.auth.models import Role, User
from tracker.db import db
from tracker.domain import ValidationFailed
from tracker.i18n import localized
from tracker.forms import EmptyForm, apply_errors, options
from tracker.permissions import can_manage_institutions, can_manage_users, can_view_audit_log, require
from tracker.plan.models import Institution, InstitutionKind
from tracker.urls import int_arg, parse_int

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _get_or_404(model, object_id: int):
    obj = db.session.get(model, object_id)
    if obj is None:
        abort(404)
    return obj


def _institution_choices():
    return options([("", _("— none —"))] + [(i.code, f"{i.code} · {localized(i, 'name')}") for i in services.list_institutions(db.session)])


def _user_input(form) -> accounts.UserInput:
    return accounts.UserInput(form.email.data, form.name.data, Role(form.role.data), form.institution.data or None)


# -- users ------------------------------------------------------------------------------------


@bp.get("/users")
@require(can_manage_users)
def users():
    return render_template("admin/users.html", users=accounts.list_users(db.session), form=EmptyForm())


@bp.route("/users/new", methods=["GET", "POST"])
@require(can_manage_users)
def new_user():
    form = NewUserForm()
    form.institution.choices = _institution_choices()
    if form.validate_on_submit():
        try:
            user = accounts.create_user(db.session, _user_input(form), form.password.data, actor=current_user)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("User %(email)s created. They must change the password at first login.", email=user.email), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@require(can_manage_users)
def edit_user(user_id: int):
    user = _get_or_404(User, user_id)
    form = UserForm(obj=None if request.method == "POST" else user)
    form.institution.choices = _institution_choices()
    if request.method == "GET":
        form.role.data = user.role.value
        form.institution.data = user.institution.code if user.institution else ""
    if form.validate_on_submit():
        try:
            accounts.update_user(db.session, user, _user_input(form), actor=current_user)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Changes to %(email)s saved.", email=user.email), "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=user, reset_form=ResetPasswordForm(), action_form=EmptyForm())


@bp.post("/users/<int:user_id>/active/<any(on, off):state>")
@require(can_manage_users)
def set_user_active(user_id: int, state: str):
    user = _get_or_404(User, user_id)
    if not EmptyForm().validate_on_submit():
        abort(400)
    try:
        accounts.set_active(db.session, user, state == "on", actor=current_user)
    except ValidationFailed as exc:
        flash(exc.errors[0][1], "danger")
    else:
        db.session.commit()
        flash(_("Account reactivated.") if state == "on" else _("Account deactivated. Its history is kept."), "success")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/password")
@require(can_manage_users)
def reset_password(user_id: int):
    user = _get_or_404(User, user_id)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            accounts.reset_password(db.session, user, form.password.data, actor=current_user)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Password reset. %(email)s must change it at next login.", email=user.email), "success")
            return redirect(url_for("admin.users"))
    edit = UserForm(obj=user)
    edit.institution.choices = _institution_choices()
    edit.role.data = user.role.value
    edit.institution.data = user.institution.code if user.institution else ""
    return render_template("admin/user_form.html", form=edit, user=user, reset_form=form, action_form=EmptyForm()), 400


# -- institutions -----------------------------------------------------------------------------


def _institution_form(institution: Institution | None) -> InstitutionForm:
    form = InstitutionForm(obj=institution if request.method == "GET" else None)
    form.country.choices = options((str(c.id), str(localized(c, "name"))) for c in services.list_countries(db.session))
    others = [i for i in services.list_institutions(db.session) if i is not institution]
    form.parent.choices = options([("", _("— none —"))] + [(str(i.id), f"{i.code} · {localized(i, 'name')}") for i in others])
    if request.method == "GET" and institution is not None:
        form.kind.data = institution.kind.value
        form.country.data = str(institution.country_id)
        form.parent.data = str(institution.parent_id or "")
    return form


def _id_or(value: str | None, empty: int | None) -> int | None:
    """A chosen row id from a select; `empty` when nothing was chosen, -1 (no such row) for garbage."""
    value = (value or "").strip()
    if not value:
        return empty
    chosen = parse_int(value)
    return -1 if chosen is None else chosen


def _save_institution(form: InstitutionForm, institution: Institution | None):
    data = services.InstitutionInput(
        code=form.code.data, name_es=form.name_es.data, name_en=form.name_en.data, kind=InstitutionKind(form.kind.data),
        country_id=_id_or(form.country.data, 0), parent_id=_id_or(form.parent.data, None),
    )
    try:
        services.save_institution(db.session, data, current_user, institution)
    except ValidationFailed as exc:
        db.session.rollback()
        apply_errors(form, exc)
        return None
    db.session.commit()
    flash(_("Institution %(code)s saved.", code=data.code.upper()), "success")
    return redirect(url_for("admin.institutions"))


@bp.get("/institutions")
@require(can_manage_institutions)
def institutions():
    return render_template("admin/institutions.html", institutions=services.list_institutions(db.session))


@bp.route("/institutions/new", methods=["GET", "POST"])
@require(can_manage_institutions)
def new_institution():
    form = _institution_form(None)
    if form.validate_on_submit():
        done = _save_institution(form, None)
        if done:
            return done
    return render_template("admin/institution_form.html", form=form, institution=None)


@bp.route("/institutions/<int:institution_id>", methods=["GET", "POST"])
@require(can_manage_institutions)
def edit_institution(institution_id: int):
    institution = _get_or_404(Institution, institution_id)
    form = _institution_form(institution)
    if form.validate_on_submit():
        done = _save_institution(form, institution)
        if done:
            return done
    return render_template("admin/institution_form.html", form=form, institution=institution)


# -- audit log --------------------------------------------------------------------------------


@bp.get("/audit")
@require(can_view_audit_log)
def audit_log():
    form = AuditFilterForm(request.args)
    page = int_arg("page", default=1, minimum=1, maximum=services.MAX_PAGE)
    events, more = services.audit_events(db.session, form.action.data or "", form.actor.data or "", page)
    details = services.shown_details(db.session, current_user, events)
    return render_template("admin/audit.html", events=events, details=details, form=form, page=page, more=more)
