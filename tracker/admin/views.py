from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms import SelectChoice

from tracker.admin import services
from tracker.admin.forms import (BUDGET_PROFILE_LABELS, AdminNewUserForm, AdminUserForm, AuditFilterForm,
                                 CountryProfileForm, InstitutionForm, ParityForm, PlanProfileForm)
from tracker.auth import services as accounts
from tracker.auth.forms import ResetPasswordForm
from tracker.auth.models import Role, User
from tracker.dashboard import reference
from tracker.db import db
from tracker.domain import ValidationFailed
from tracker.forms import EmptyForm, apply_errors, options
from tracker.i18n import localized
from tracker.permissions import (can_manage_institutions, can_manage_reference_data, can_manage_users, can_view_audit_log,
                                 can_view_outbox, plan_or_404, require)
from tracker.plan.models import BudgetProfile, Country, Institution, InstitutionKind, Plan
from tracker.plan.services import list_plans, monitoring_body
from tracker.urls import int_arg, parse_int

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _get_or_404(model, object_id: int):
    obj = db.session.get(model, object_id)
    if obj is None:
        abort(404)
    return obj


def _form_page(template: str, form, **kw):
    """A form page; after a refused POST, with status 400 (the input and the errors are kept)."""
    page = render_template(template, form=form, **kw)
    return (page, 400) if request.method == "POST" else page


def _grouped_institutions(value, skip: Institution | None = None) -> list[SelectChoice]:
    """A select's institutions grouped by country, labelled "PE · MGP — name"; `value(institution)` is the option's value."""
    choices = [SelectChoice("", _("— none —"))]
    for i in services.list_institutions(db.session):
        if i is not skip:
            choices.append(SelectChoice(value(i), f"{i.country.iso_code} · {i.code} — {localized(i, 'name')}",
                                        optgroup=str(localized(i.country, "name"))))
    return choices


def _institution_choices() -> list[SelectChoice]:
    """An account's institution: the value is PE:MGP."""
    return _grouped_institutions(accounts.institution_ref)


def _plan_choices() -> list[SelectChoice]:
    """The plans the admin sees, by code, each with its active monitoring body (whom a committee member joins)."""
    choices = []
    for plan in sorted(list_plans(db.session, current_user, with_bodies=True), key=lambda p: p.code):
        body = monitoring_body(plan)
        body_name = localized(body, "name") if body else _("no monitoring body")
        choices.append(SelectChoice(plan.code, f"{plan.code} · {localized(plan, 'title')} — {body_name}"))
    return choices


def _user_form(form_class, user: User | None = None):
    """The user form with its choices; on a GET of an existing account, its current values."""
    form = form_class(obj=user if request.method == "GET" else None)
    form.institution.choices = _institution_choices()
    form.plans.choices = _plan_choices()
    if request.method == "GET" and user is not None:
        _fill_user_form(form, user)
    return form


def _fill_user_form(form, user: User) -> None:
    form.role.data = user.role.value
    form.institution.data = accounts.institution_ref(user.institution) or ""
    form.plans.data = accounts.user_plan_codes(user)
    form.focal_point.data = user.is_focal_point


def _user_input(form) -> accounts.UserInput:
    return accounts.UserInput(form.email.data, form.name.data, Role(form.role.data), form.institution.data or None,
                              tuple(form.plans.data or ()), focal_point=bool(form.focal_point.data))


# -- users ------------------------------------------------------------------------------------


@bp.get("/users")
@require(can_manage_users)
def users():
    rows = accounts.list_users(db.session)
    return render_template("admin/users.html", users=rows, plans=accounts.plan_codes_of(db.session, rows), form=EmptyForm())


@bp.route("/users/new", methods=["GET", "POST"])
@require(can_manage_users)
def new_user():
    form = _user_form(AdminNewUserForm)
    if form.validate_on_submit():
        try:
            user = accounts.create_user(db.session, _user_input(form), form.password.data, actor=current_user)
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("User %(email)s created. They must change the password at first login.", email=user.email), "success")
            return redirect(url_for("admin.users"))
    return _form_page("admin/user_form.html", form, user=None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@require(can_manage_users)
def edit_user(user_id: int):
    user = _get_or_404(User, user_id)
    form = _user_form(AdminUserForm, user)
    if form.validate_on_submit():
        try:
            accounts.update_user(db.session, user, _user_input(form), actor=current_user)
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Changes to %(email)s saved.", email=user.email), "success")
            return redirect(url_for("admin.users"))
    return _form_page("admin/user_form.html", form, user=user, reset_form=ResetPasswordForm(), action_form=EmptyForm())


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
    edit = AdminUserForm(formdata=None, obj=user)
    edit.institution.choices = _institution_choices()
    edit.plans.choices = _plan_choices()
    _fill_user_form(edit, user)
    return render_template("admin/user_form.html", form=edit, user=user, reset_form=form, action_form=EmptyForm()), 400


# -- institutions -----------------------------------------------------------------------------


def _institution_form(institution: Institution | None) -> InstitutionForm:
    form = InstitutionForm(obj=institution if request.method == "GET" else None)
    countries = services.list_countries(db.session)
    form.country.choices = options((str(c.id), f"{c.iso_code} · {localized(c, 'name')}") for c in countries)
    form.parent.choices = _grouped_institutions(lambda i: str(i.id), skip=institution)
    if request.method == "GET" and institution is not None:
        form.kind.data = institution.kind.value
        form.country.data = str(institution.country_id)
        form.parent.data = str(institution.parent_id or "")
    elif request.method == "GET":
        form.country.data = request.args.get("country", "")  # "New institution" of a country's list
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
    return render_template("admin/institutions.html", countries=services.institutions_by_country(db.session))


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


# -- countries and plans' profiles ------------------------------------------------------------


@bp.get("/countries")
@require(can_manage_institutions)
def countries():
    return render_template("admin/countries.html", countries=services.countries_with_plans(db.session),
                           budget_label=_budget_label)


def _budget_label(plan: Plan) -> str:
    return BUDGET_PROFILE_LABELS[plan.profile.budget_profile if plan.profile else BudgetProfile.generic]


@bp.route("/countries/<int:country_id>", methods=["GET", "POST"])
@require(can_manage_institutions)
def edit_country(country_id: int):
    country = _get_or_404(Country, country_id)
    form = CountryProfileForm(obj=country if request.method == "GET" else None)
    if form.validate_on_submit():
        data = services.CountryProfileInput(form.timezone.data, form.currency.data or "", form.locale.data)
        try:
            services.save_country_profile(db.session, country, data, current_user)
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Profile of %(country)s saved.", country=localized(country, "name")), "success")
            return redirect(url_for("admin.countries"))
    return _form_page("admin/country_form.html", form, country=country)


def _plan_profile_form(plan: Plan) -> PlanProfileForm:
    form = PlanProfileForm()
    body = monitoring_body(plan)
    if body is not None:
        del form.body_code  # the active body keeps its code: members and history hang on it
    if request.method == "GET":
        form.budget_profile.data = (plan.profile.budget_profile if plan.profile else BudgetProfile.generic).value
        form.body_name_es.data, form.body_name_en.data = (body.name_es, body.name_en) if body else ("", "")
    return form


@bp.route("/plans/<code>/profile", methods=["GET", "POST"])
@require(can_manage_institutions)
def edit_plan_profile(code: str):
    plan = plan_or_404(code)
    form = _plan_profile_form(plan)
    if form.validate_on_submit():
        data = services.PlanProfileInput(BudgetProfile(form.budget_profile.data),
                                         form.body_code.data if "body_code" in form else "",
                                         form.body_name_es.data, form.body_name_en.data)
        try:
            services.save_plan_profile(db.session, plan, data, current_user)
        except ValidationFailed as exc:
            db.session.rollback()
            apply_errors(form, exc)
        else:
            db.session.commit()
            flash(_("Profile of plan %(code)s saved.", code=plan.code), "success")
            return redirect(url_for("admin.countries"))
    return _form_page("admin/plan_profile_form.html", form, plan=plan, body=monitoring_body(plan))


# -- reference data: the UN parity strategy's targets -----------------------------------------


@bp.route("/parity", methods=["GET", "POST"])
@require(can_manage_reference_data)
def parity():
    """Every year of the UN Uniformed Gender Parity Strategy with its targets; the admin enters or corrects them
    from the UN's published strategy, giving the source (each change is in the audit log)."""
    stored = reference.parity_rows(db.session)
    form = ParityForm() if request.method == "POST" else ParityForm(data=ParityForm.data_of(stored))
    if form.validate_on_submit():
        for year, row in form.sent_years():
            reference.set_parity(db.session, year, *row.targets(), actor=current_user)
        db.session.commit()
        flash(_("UN parity targets saved."), "success")
        return redirect(url_for("admin.parity"))
    return _form_page("admin/parity.html", form, stored=stored)


# -- audit log --------------------------------------------------------------------------------


@bp.get("/outbox")
@require(can_view_outbox)
def outbox():
    """The e-mails not delivered yet, newest first, with how many deliveries failed and the last error."""
    import sqlalchemy as sa

    from tracker.progress.models import OutboxMessage

    query = sa.select(OutboxMessage).where(OutboxMessage.sent_at.is_(None)).order_by(OutboxMessage.id.desc()).limit(200)
    return render_template("admin/outbox.html", messages=list(db.session.scalars(query)))


@bp.get("/audit")
@require(can_view_audit_log)
def audit_log():
    form = AuditFilterForm(request.args)
    page = int_arg("page", default=1, minimum=1, maximum=services.MAX_PAGE)
    events, more = services.audit_events(db.session, form.action.data or "", form.actor.data or "", page)
    details = services.shown_details(db.session, current_user, events)
    return render_template("admin/audit.html", events=events, details=details, form=form, page=page, more=more)
