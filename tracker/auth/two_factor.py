"""Second factor: time-based codes (TOTP, any authenticator app) and one-time recovery codes.

Enrolment keeps an unconfirmed secret until the user types a code it produced; then ten recovery codes
are shown once and stored as hashes. At login, a correct password of such a user only leaves a pending
marker in the session: the code completes the login. Wrong codes count toward the login throttling.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from datetime import timedelta

import pyotp
import segno
import sqlalchemy as sa
from flask import session as flask_session
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Session, object_session
from sqlalchemy.orm.attributes import set_committed_value

from tracker import audit, permissions
from tracker.auth import throttle
from tracker.auth.models import RecoveryCode, TotpCredential, User
from tracker.auth.passwords import verify_password
from tracker.db import utcnow
from tracker.domain import ValidationFailed

ISSUER = "NAP Tracker"
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: codes are copied by hand
_RECOVERY_LENGTH = 10  # ~49 bits each: a plain sha256 is enough, and tries are throttled
PENDING_KEY = "_2fa_pending"
PENDING_FOR = timedelta(minutes=5)


class CodeRefused(Exception):
    """The second-factor code is wrong, already used, or too old."""


class SecondFactorThrottled(Exception):
    def __init__(self, lockout: throttle.Lockout):
        self.lockout = lockout
        super().__init__(f"locked for {lockout.seconds} s")


# -- policy ---------------------------------------------------------------------------------------


# -- codes ----------------------------------------------------------------------------------------


def _digits(code: str) -> str:
    return "".join(code.split())


def _matching_step(secret: str, code: str, last_step: int | None) -> int | None:
    """The time step (now, or one either way for clock drift) whose code this is, if not used before."""
    totp = pyotp.TOTP(secret)
    now = totp.timecode(utcnow())
    for step in (now - 1, now, now + 1):
        if (last_step is None or step > last_step) and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def check_totp(credential: TotpCredential, code: str) -> bool:
    """Accept a current code once: its time step is remembered, so the same code cannot be replayed."""
    code = _digits(code)
    if not (code.isdigit() and len(code) == 6):
        return False
    step = _matching_step(credential.secret, code, credential.last_counter)
    if step is None:
        return False
    return _claim_step(credential, step)


def _claim_step(credential: TotpCredential, step: int) -> bool:
    """Record `step` as used, atomically: of two requests with the same code at once, one wins."""
    session = object_session(credential)
    if session is None or credential in session.new:
        credential.last_counter = step  # not stored yet (enrolment): nobody else can race for it
        return True
    claimed = session.execute(
        sa.update(TotpCredential)
        .where(TotpCredential.user_id == credential.user_id,
               sa.or_(TotpCredential.last_counter.is_(None), TotpCredential.last_counter < step))
        .values(last_counter=step).execution_options(synchronize_session=False)
    ).rowcount == 1
    if claimed:
        set_committed_value(credential, "last_counter", step)
    return claimed


def _hash_recovery(code: str) -> str:
    normalized = "".join(ch for ch in code.lower() if ch.isalnum())
    return hashlib.sha256(normalized.encode()).hexdigest()


def new_recovery_code() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


def replace_recovery_codes(session: Session, user: User) -> list[str]:
    """Give the user ten new recovery codes (the old ones stop working); return them to show once."""
    session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    session.add_all(RecoveryCode(user_id=user.id, code_hash=_hash_recovery(c)) for c in codes)
    return codes


def use_recovery_code(session: Session, user: User, code: str) -> bool:
    """Spend one unused recovery code of the user; audited with how many are left."""
    # One conditional UPDATE: of two requests with the same code at once, only one spends it.
    spent = session.execute(
        sa.update(RecoveryCode)
        .where(RecoveryCode.user_id == user.id, RecoveryCode.code_hash == _hash_recovery(code), RecoveryCode.used_at.is_(None))
        .values(used_at=utcnow()).execution_options(synchronize_session=False)
    ).rowcount
    if spent != 1:
        return False
    audit.record(session, "two_factor.recovery_code_used", actor=user, target=user,
                 remaining=unused_recovery_codes(session, user))
    return True


def unused_recovery_codes(session: Session, user: User) -> int:
    return session.scalar(sa.select(sa.func.count()).select_from(RecoveryCode).where(
        RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))) or 0


def verify_second_factor(session: Session, user: User, code: str) -> bool:
    """A current code of the user's app, or an unused recovery code (anything but six digits is taken as one)."""
    if not user.two_factor_enabled:
        return False
    if _digits(code).isdigit():
        return check_totp(user.totp, code)
    return use_recovery_code(session, user, code)


def _guarded_check(session: Session, user: User, code: str, address: str) -> bool:
    """verify_second_factor behind the login throttling: a lockout refuses, a wrong code counts."""
    lockout = throttle.check(user.email, address)
    if lockout:
        audit.record(session, "login.throttled", actor=user, seconds=lockout.seconds)
        raise SecondFactorThrottled(lockout)
    if verify_second_factor(session, user, code):
        return True
    throttle.register_failure(user.email, address)
    return False


# -- enrolment ------------------------------------------------------------------------------------


def pending_enrolment(session: Session, user: User) -> TotpCredential:
    """The user's unconfirmed secret, made on first use; the page shows the same one until it is confirmed."""
    if user.totp is None:
        user.totp = TotpCredential(secret=pyotp.random_base32())
        session.flush()
    return user.totp


def provisioning_uri(user: User, credential: TotpCredential) -> str:
    return pyotp.TOTP(credential.secret).provisioning_uri(name=user.email, issuer_name=ISSUER)


def qr_code_data_uri(uri: str) -> str:
    """The QR code as an SVG data: URI for an <img> (the CSP allows data: images, not inline styles)."""
    return segno.make(uri, error="m").svg_data_uri(scale=5, border=2)


def grouped_secret(secret: str) -> str:
    """ABCD EFGH ...: easier to type into an app by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


def confirm_enrolment(session: Session, user: User, code: str, password: str | None = None) -> list[str]:
    """Turn the second factor on once `code` matches the pending secret (and `password` is the user's, when
    the request comes from a browser); return the recovery codes to show once."""
    credential = user.totp
    if credential is None or credential.confirmed_at is not None:
        raise ValidationFailed([("", str(_l("Start the set-up again: this page was out of date.")))])
    if password is not None and not verify_password(user.password_hash, password):
        raise ValidationFailed([("password", str(_l("The password is not correct.")))])
    if not check_totp(credential, code):
        raise ValidationFailed([("code", str(_l("This code is not correct. Enter the code your app shows now.")))])
    credential.confirmed_at = utcnow()
    codes = replace_recovery_codes(session, user)
    audit.record(session, "two_factor.enabled", actor=user, target=user)
    return codes


def disable(session: Session, user: User, password: str, code: str, address: str) -> None:
    """Turn the second factor off: needs the password and a code; refused when the role requires one. Audited."""
    if permissions.must_use_second_factor(user):
        raise ValidationFailed([("", str(_l("Your role requires two-step verification: it cannot be turned off.")))])
    lockout = throttle.check(user.email, address)
    if lockout:
        raise SecondFactorThrottled(lockout)
    if not verify_password(user.password_hash, password):
        throttle.register_failure(user.email, address)
        raise ValidationFailed([("password", str(_l("The password is not correct.")))])
    if not _guarded_check(session, user, code, address):
        raise ValidationFailed([("code", str(_l("This code is not correct.")))])
    user.totp = None  # delete-orphan: the secret row goes
    session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    audit.record(session, "two_factor.disabled", actor=user, target=user)


def reset_for(session: Session, user: User, actor: User | None) -> None:
    """Remove someone's second factor (lost phone and recovery codes), for an admin or the CLI. Audited;
    a role that requires one enrols again at the next login."""
    session.refresh(user, ["totp"])
    user.totp = None
    session.execute(sa.delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    audit.record(session, "two_factor.reset", actor=actor, target=user, email=user.email)


# -- login ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PendingLogin:
    """A login whose password was right and whose code is still due (kept in the signed session cookie)."""

    user_id: int
    started: float
    next_url: str | None

    @property
    def expired(self) -> bool:
        return time.time() - self.started > PENDING_FOR.total_seconds()


def begin_pending_login(user: User, next_url: str | None) -> None:
    flask_session[PENDING_KEY] = {"user_id": user.id, "started": time.time(), "next": next_url}


def pending_login() -> PendingLogin | None:
    marker = flask_session.get(PENDING_KEY)
    if not isinstance(marker, dict) or not isinstance(marker.get("user_id"), int):
        return None
    return PendingLogin(marker["user_id"], float(marker.get("started") or 0), marker.get("next"))


def clear_pending_login() -> None:
    flask_session.pop(PENDING_KEY, None)


def pending_user(session: Session, pending: PendingLogin) -> User | None:
    """The account of a pending login, if it can still finish (active, second factor still on)."""
    user = session.get(User, pending.user_id)
    return user if user is not None and user.active and user.two_factor_enabled else None


def complete_login(session: Session, user: User, code: str, address: str) -> None:
    """Check the second factor of a login whose password was right; audited, throttled like passwords."""
    if not _guarded_check(session, user, code, address):
        audit.record(session, "login.second_factor_failed", actor=user)
        raise CodeRefused()
    user.last_login_at = utcnow()
    audit.record(session, "login.second_factor_passed", actor=user)
    audit.record(session, "login.succeeded", actor=user)
