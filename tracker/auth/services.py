"""Account services: log in, manage users, change passwords. Views and CLI call these."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, joinedload, object_session, selectinload

from tracker import audit
from tracker.auth import notices, throttle
from tracker.auth.models import BodyMember, Role, User, ViewerPlan
from tracker.auth.passwords import burn_verification, hash_password, password_problems, verify_password
from tracker.db import utcnow
from tracker.domain import ValidationFailed
from tracker.plan.models import Country, Institution, MonitoringBody, Plan
from tracker.plan.services import monitoring_body


class LoginRefused(Exception):
    """Wrong e-mail or password, or an inactive account: one message for all, so accounts can't be probed."""


class LoginThrottled(Exception):
    def __init__(self, lockout: throttle.Lockout):
        self.lockout = lockout
        super().__init__(f"locked for {lockout.seconds} s")


def normalize_email(email: str) -> str:
    return email.strip().lower()


def find_user(session: Session, email: str) -> User | None:
    return session.scalars(sa.select(User).filter_by(email=normalize_email(email))).one_or_none()


def authenticate(session: Session, email: str, password: str, address: str) -> User:
    """Check the credentials; count failures for throttling and write the audit log."""
    email = normalize_email(email)
    lockout = throttle.check(email, address)
    if lockout:
        audit.record(session, "login.throttled", actor_email=email, seconds=lockout.seconds)
        raise LoginThrottled(lockout)
    user = find_user(session, email)
    if user is None:
        burn_verification()
    ok = user is not None and verify_password(user.password_hash, password) and user.active
    if not ok:
        throttle.register_failure(email, address)
        reason = "unknown account" if user is None else ("inactive" if not user.active else "wrong password")
        audit.record(session, "login.failed", actor=user, actor_email=email, reason=reason)
        _tell_if_now_locked(session, user, email)
        raise LoginRefused()
    if user.two_factor_enabled:
        # Not logged in yet: two_factor.complete_login finishes (and records) it after the code.
        audit.record(session, "login.password_accepted", actor=user)
        return user
    user.last_login_at = utcnow()
    audit.record(session, "login.succeeded", actor=user)
    return user


def _tell_if_now_locked(session: Session, user: User | None, email: str) -> None:
    """The failure that locks an account (later ones are refused before counting) e-mails its owner."""
    lockout = throttle.account_lockout(email)
    if user is not None and user.active and lockout:
        audit.record(session, "login.locked", actor=user, seconds=lockout.seconds)
        notices.account_locked(session, user, lockout.seconds)


def record_logout(session: Session, user: User) -> None:
    audit.record(session, "logout", actor=user)


@dataclass
class UserInput:
    """What an admin (or the CLI) gives to create or edit a user."""

    email: str
    name: str
    role: Role
    institution_code: str | None = None  # "PE:MGP", or "MGP" when only one country has that code
    plan_codes: tuple[str, ...] = ()  # committee: the plans whose monitoring body it sits on; viewer: the only plans it reads
    focal_point: bool = False  # reporters only: endorses the institution's entries where a plan asks for a sign-off


def find_institution(session: Session, ref: str) -> Institution | None:
    """An institution by "COUNTRY:CODE" (PE:MGP), or by its code alone when only one country has it.
    Raises ValidationFailed when the code alone is ambiguous."""
    country, _, code = (part.strip() for part in ref.strip().upper().rpartition(":"))
    query = sa.select(Institution).join(Country).where(Institution.code == code)
    if country:
        query = query.where(Country.iso_code == country)
    found = session.scalars(query.order_by(Country.iso_code)).all()
    if len(found) > 1:
        raise ValidationFailed([("institution", str(_l(
            "%(code)s exists in several countries (%(countries)s): write it as %(example)s.", code=code,
            countries=", ".join(i.country.iso_code for i in found), example=f"{found[0].country.iso_code}:{code}")))])
    return found[0] if found else None


def _institution(session: Session, role: Role, code: str | None) -> Institution | None:
    if not code:
        if role == Role.reporter:
            raise ValidationFailed([("institution", str(_l("A reporter must belong to an institution.")))])
        return None
    inst = find_institution(session, code)
    if inst is None:
        raise ValidationFailed([("institution", str(_l("Unknown institution %(code)s.", code=code)))])
    return inst


def _plans(session: Session, data: UserInput) -> list[Plan]:
    """The plans named for a committee member (at least one, each with an active monitoring body) or a viewer
    (none: every plan). Reporters (their institution's country) and admins (every plan) take none."""
    codes = sorted({c.strip() for c in data.plan_codes if c.strip()})
    if codes and data.role not in (Role.committee, Role.viewer):
        raise ValidationFailed([("plans", str(_l("Only committee members and viewers are tied to plans: "
                                                 "choose none for this role.")))])
    plans = list(session.scalars(sa.select(Plan).where(Plan.code.in_(codes)).options(selectinload(Plan.bodies))
                                 .order_by(Plan.code)))
    unknown = sorted(set(codes) - {p.code for p in plans})
    if unknown:
        raise ValidationFailed([("plans", str(_l("Unknown plan %(code)s.", code=", ".join(unknown))))])
    if data.role == Role.committee and not plans:
        raise ValidationFailed([("plans", str(_l("A committee member must sit on the monitoring body of at least one plan.")))])
    for plan in plans:
        if data.role == Role.committee and monitoring_body(plan) is None:
            raise ValidationFailed([("plans", str(_l("Plan %(code)s has no monitoring body: name one in its plan file.",
                                                     code=plan.code)))])
    return plans


def _set_plans(session: Session, user: User, role: Role, plans: list[Plan]) -> None:
    """Committee: a member of each plan's active body; its memberships of other active bodies end, those of
    former (inactive) bodies stay as history. Viewer: limited to the plans. Other roles: no plans at all."""
    wanted_bodies = {monitoring_body(p).id for p in plans} if role == Role.committee else set()
    if role == Role.committee:
        user.memberships[:] = [m for m in user.memberships if m.body_id in wanted_bodies or not m.body.active]
    else:
        user.memberships[:] = []
    have = {m.body_id for m in user.memberships}
    for body_id in sorted(wanted_bodies - have):
        user.memberships.append(BodyMember(body_id=body_id))
    wanted_plans = {p.id for p in plans} if role == Role.viewer else set()
    user.viewer_plans[:] = [v for v in user.viewer_plans if v.plan_id in wanted_plans]
    for plan_id in sorted(wanted_plans - {v.plan_id for v in user.viewer_plans}):
        user.viewer_plans.append(ViewerPlan(plan_id=plan_id))
    session.flush()
    session.expire(user, ["memberships", "viewer_plans"])


def plan_codes_of(session: Session, users: list[User]) -> dict[int, list[str]]:
    """Each account's plans (by user id), in two queries: a committee member's (the plans of the active bodies it
    sits on), a viewer's limits (empty: every plan); reporters and admins have none."""
    ids = [u.id for u in users]
    if not ids:
        return {}
    found: dict[int, set[str]] = {i: set() for i in ids}
    members = (sa.select(BodyMember.user_id, Plan.code).join(MonitoringBody, BodyMember.body_id == MonitoringBody.id)
               .join(Plan, MonitoringBody.plan_id == Plan.id)
               .where(BodyMember.user_id.in_(ids), MonitoringBody.active.is_(True)))
    viewers = sa.select(ViewerPlan.user_id, Plan.code).join(Plan, ViewerPlan.plan_id == Plan.id).where(ViewerPlan.user_id.in_(ids))
    roles = {u.id: u.role for u in users}
    for query, role in ((members, Role.committee), (viewers, Role.viewer)):
        for user_id, code in session.execute(query):
            if roles[user_id] == role:
                found[user_id].add(code)
    return {user_id: sorted(codes) for user_id, codes in found.items()}


def user_plan_codes(user: User) -> list[str]:
    """The plans an account is tied to (see plan_codes_of)."""
    return plan_codes_of(object_session(user), [user])[user.id]


def institution_ref(institution: Institution | None) -> str | None:
    """How an account's institution is written in the CLI, the forms and the audit log: PE:MGP."""
    return f"{institution.country.iso_code}:{institution.code}" if institution else None


def _valid_email(session: Session, email: str, user_id: int | None = None) -> str:
    try:
        email = validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError:
        raise ValidationFailed([("email", str(_l("Enter a valid e-mail address.")))]) from None
    other = find_user(session, email)
    if other is not None and other.id != user_id:
        raise ValidationFailed([("email", str(_l("Another account already uses this e-mail address.")))])
    return email


# Words an attacker tries first against this tracker, whoever the user is.
PRODUCT_WORDS = ("nap", "tracker", "1325", "wps", "mujeres", "paz", "seguridad", "women", "peace", "security")


def context_words(session: Session, email: str, name: str, institution: Institution | None) -> list[str]:
    """What a password must not be built from: the user's e-mail and name, their institution and its country
    (every country of the instance for accounts without an institution) and the product."""
    words = [email, name, *PRODUCT_WORDS]
    if institution is not None:
        words += [institution.code, institution.name_es, institution.name_en]
        countries = [institution.country]
    else:
        countries = list(session.scalars(sa.select(Country)))
    for country in countries:
        words += [country.iso_code, country.name_es, country.name_en]
    return [w for w in words if w]


def _check_password(password: str, *inputs: str) -> None:
    problems = password_problems(password, *inputs)
    if problems:
        raise ValidationFailed([("password", p) for p in problems])


def create_user(session: Session, data: UserInput, password: str, actor: User | None = None, must_change: bool = True) -> User:
    """Create an account; a password set by someone else must be changed at first login."""
    email = _valid_email(session, data.email)
    name = data.name.strip() or email.split("@")[0]
    institution = _institution(session, data.role, data.institution_code)
    plans = _plans(session, data)
    _check_focal_point(data)
    _check_password(password, *context_words(session, email, name, institution))
    user = User(
        email=email,
        name=name,
        role=data.role,
        institution=institution,
        is_focal_point=data.focal_point,
        password_hash=hash_password(password),
        must_change_password=must_change,
        session_token=secrets.token_hex(16),
    )
    session.add(user)
    session.flush()
    _set_plans(session, user, data.role, plans)
    audit.record(session, "user.created", actor=actor, target=user, email=email, role=data.role.value,
                 institution=institution_ref(institution), plans=[p.code for p in plans], focal_point=data.focal_point)
    if user.role == Role.committee:
        _committee_role_granted(session, user, actor, [p.code for p in plans])
    return user


def _check_focal_point(data: UserInput) -> None:
    if data.focal_point and data.role != Role.reporter:
        raise ValidationFailed([("focal_point", str(_l("Only a reporter can be their institution's focal point.")))])


def _committee_role_granted(session: Session, user: User, actor: User | None, plans: list[str]) -> None:
    audit.record(session, "user.committee_role_granted", actor=actor, target=user, email=user.email, plans=plans)
    notices.committee_role_granted(session, user, actor)


def update_user(session: Session, user: User, data: UserInput, actor: User) -> User:
    """Change a user's e-mail, name, role, institution and plans (see UserInput); logs what changed, old → new."""
    if actor is not None and actor.id == user.id and user.role == Role.admin and data.role != Role.admin:
        # Like deactivating oneself: the last admin could lock everyone out of the admin pages.
        raise ValidationFailed([("role", str(_l("You cannot remove your own administrator role.")))])
    email = _valid_email(session, data.email, user.id)
    institution = _institution(session, data.role, data.institution_code)
    plans = _plans(session, data)
    _check_focal_point(data)
    before = {"email": user.email, "name": user.name, "role": user.role.value,
              "institution": institution_ref(user.institution), "plans": user_plan_codes(user),
              "focal_point": user.is_focal_point}
    user.email, user.name, user.role, user.institution = email, data.name.strip() or user.name, data.role, institution
    user.is_focal_point = data.focal_point
    _set_plans(session, user, data.role, plans)
    after = {"email": user.email, "name": user.name, "role": user.role.value,
             "institution": institution_ref(institution), "plans": user_plan_codes(user),
             "focal_point": user.is_focal_point}
    changes = {k: [before[k], after[k]] for k in before if before[k] != after[k]}
    if changes:
        audit.record(session, "user.updated", actor=actor, target=user, changes=changes)
    if "role" in changes:
        notices.role_changed(session, user, Role(before["role"]), actor)
    # A member who joins another plan's body is a new reviewer there: that body hears of it as of a new member.
    joined = sorted(set(after["plans"]) - set(before["plans"]))
    if user.role == Role.committee and ("role" in changes or joined):
        _committee_role_granted(session, user, actor, joined)
    session.flush()
    return user


def set_active(session: Session, user: User, active: bool, actor: User | None) -> None:
    """Deactivate (or reactivate) an account; its history and name stay. Open sessions end."""
    if actor is not None and user.id == actor.id and not active:
        raise ValidationFailed([("", str(_l("You cannot deactivate your own account.")))])
    user.active = active
    user.session_token = secrets.token_hex(16)
    audit.record(session, "user.activated" if active else "user.deactivated", actor=actor, target=user, email=user.email)


def reset_password(session: Session, user: User, password: str, actor: User) -> None:
    """An admin sets a new password; the user must change it at next login."""
    _check_password(password, *context_words(session, user.email, user.name, user.institution))
    _set_password(user, password, must_change=True)
    audit.record(session, "user.password_reset", actor=actor, target=user)
    notices.password_reset(session, user, actor)
    if user.role == Role.committee:
        notices.committee_password_reset(session, user, actor)


def change_own_password(session: Session, user: User, current: str, new: str) -> None:
    """The user changes their own password (also how a first-login change is done)."""
    if not verify_password(user.password_hash, current):
        raise ValidationFailed([("current_password", str(_l("The current password is not correct.")))])
    if current == new:
        raise ValidationFailed([("password", str(_l("Choose a password different from the current one.")))])
    _check_password(new, *context_words(session, user.email, user.name, user.institution))
    _set_password(user, new, must_change=False)
    audit.record(session, "user.password_changed", actor=user, target=user)
    notices.password_changed(session, user)


def _set_password(user: User, password: str, must_change: bool) -> None:
    user.password_hash = hash_password(password)
    user.must_change_password = must_change
    user.password_changed_at = utcnow()
    user.session_token = secrets.token_hex(16)


def save_language_preference(session: Session, user: User | None, language: str) -> None:
    """Remember the user's interface language (no-op for anonymous visitors)."""
    if user is not None and getattr(user, "is_authenticated", False) and user.language != language:
        user.language = language


def list_users(session: Session) -> list[User]:
    """Every account, with its institution and the institution's country (see plan_codes_of for the plans)."""
    query = sa.select(User).options(joinedload(User.institution).joinedload(Institution.country))
    return list(session.scalars(query.order_by(User.role, User.email)))
