"""What account changes tell people.

The committee hears of every new reviewer and of every reset of a reviewer's password, so that no one
(an administrator included) becomes a reviewer unnoticed. Users hear of what happens to their own
account: a lockout, a reset, a role change, a password change. E-mails go out after the commit.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import force_locale, format_datetime
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.orm import Session

from tracker.auth.models import BodyMember, Role, User
from tracker.plan.models import MonitoringBody
from tracker.db import utcnow
from tracker.labels import label
from tracker.progress.models import Notification
from tracker.progress.notifications import queue_mail, user_locale

COMMITTEE_ROLE_GRANTED = "committee_role_granted"
COMMITTEE_PASSWORD_RESET = "committee_password_reset"


def _committee(session: Session, besides: User) -> list[User]:
    """The active committee members who sit with `besides` on a monitoring body (of any plan it reviews), other
    than `besides` itself (a new member is not told of their own arrival); another country's committee is not told."""
    bodies = (sa.select(BodyMember.body_id).join(MonitoringBody, MonitoringBody.id == BodyMember.body_id)
              .where(BodyMember.user_id == besides.id, MonitoringBody.active))
    fellows = sa.select(BodyMember.user_id).where(BodyMember.body_id.in_(bodies))
    query = (sa.select(User).filter_by(role=Role.committee, active=True)
             .where(User.id != besides.id, User.id.in_(fellows)).order_by(User.id))
    return list(session.scalars(query))


def _plan_codes(user: User) -> list[str]:
    from tracker.auth.services import user_plan_codes  # services send these notices: imported late

    return user_plan_codes(user)


def _who(actor: User | None) -> str:
    return f"{actor.name} <{actor.email}>" if actor is not None else _("a server operator (command line)")


def committee_role_granted(session: Session, user: User, actor: User | None) -> None:
    """Tell every other committee member, in the app and by e-mail, that `user` can now review."""
    _tell_committee(session, COMMITTEE_ROLE_GRANTED, user, actor, lambda: (
        _("%(user)s was given the committee role", user=user.email),
        _("%(user)s (%(email)s) can now review and approve the entries of plans %(plans)s. On %(when)s, "
          "%(actor)s gave the role.", user=user.name, email=user.email, plans=", ".join(_plan_codes(user)),
          actor=_who(actor), when=format_datetime(utcnow())),
    ))


def committee_password_reset(session: Session, user: User, actor: User | None) -> None:
    """Tell every other committee member that a reviewer's password was reset by someone else."""
    _tell_committee(session, COMMITTEE_PASSWORD_RESET, user, actor, lambda: (
        _("The password of committee member %(user)s was reset", user=user.email),
        _("On %(when)s, %(actor)s set a temporary password for %(user)s (%(email)s).",
          actor=_who(actor), user=user.name, email=user.email, when=format_datetime(utcnow())),
    ))


def _tell_committee(session: Session, event: str, user: User, actor: User | None, compose) -> None:
    note = f"{user.email} · {actor.email if actor is not None else 'CLI'}"
    for member in _committee(session, besides=user):
        session.add(Notification(user_id=member.id, event=event, note=note))
        with force_locale(user_locale(member)):
            subject, body = compose()
        queue_mail(session, member.email, subject, body + "\n\n" + _if_unexpected())


def account_locked(session: Session, user: User, seconds: int) -> None:
    """Tell the user that failed logins paused their account."""
    minutes = max(1, -(-seconds // 60))
    with force_locale(user_locale(user)):
        subject = _("Your NAP Tracker account is locked for a while")
        body = ngettext("After several failed login attempts, logins to your account are paused for %(num)d minute.",
                        "After several failed login attempts, logins to your account are paused for %(num)d minutes.",
                        minutes)
        queue_mail(session, user.email, subject, body + "\n\n" + _if_unexpected())


def password_reset(session: Session, user: User, actor: User | None) -> None:
    """Tell the user that someone else set a temporary password for them."""
    with force_locale(user_locale(user)):
        subject = _("Your NAP Tracker password was reset")
        body = _("On %(when)s, %(actor)s set a temporary password for your account. You will choose a new one "
                 "at your next login.", actor=_who(actor), when=format_datetime(utcnow()))
        queue_mail(session, user.email, subject, body + "\n\n" + _if_unexpected())


def password_changed(session: Session, user: User) -> None:
    """Tell the user that their password changed (every other session has ended)."""
    with force_locale(user_locale(user)):
        subject = _("Your NAP Tracker password was changed")
        body = _("On %(when)s, the password of your account was changed.", when=format_datetime(utcnow()))
        queue_mail(session, user.email, subject, body + "\n\n" + _if_unexpected())


def role_changed(session: Session, user: User, before: Role, actor: User | None) -> None:
    """Tell the user that their role (and so what they may do) changed."""
    with force_locale(user_locale(user)):
        subject = _("Your role in NAP Tracker changed")
        body = _("On %(when)s, %(actor)s changed your role from %(before)s to %(after)s.", actor=_who(actor),
                 before=label(before), after=label(user.role), when=format_datetime(utcnow()))
        queue_mail(session, user.email, subject, body + "\n\n" + _if_unexpected())


def _if_unexpected() -> str:
    return _("If you did not expect this, tell your administrator and your committee at once.")
