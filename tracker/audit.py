"""The audit log: who did what, when and from where. Services call record(...)."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from flask import has_request_context, request
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import Mapped, Session, mapped_column

from tracker.db import Base, Timestamp, intpk


class AuditEvent(Base):
    __tablename__ = "audit_event"

    id: Mapped[intpk]
    at: Mapped[Timestamp]
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))
    # The actor's e-mail is copied so the log stays readable whatever happens to the account.
    actor_email: Mapped[str] = mapped_column(sa.String(255), default="")
    action: Mapped[str] = mapped_column(sa.String(60), index=True)
    target_type: Mapped[str] = mapped_column(sa.String(60), default="")
    target_id: Mapped[str] = mapped_column(sa.String(60), default="")
    address: Mapped[str] = mapped_column(sa.String(64), default="")
    details: Mapped[str] = mapped_column(sa.Text, default="{}")

    @property
    def details_dict(self) -> dict[str, Any]:
        return json.loads(self.details or "{}")

    @property
    def shown_actor(self) -> str:
        """Who did it, as the audit-log page shows it: the account's e-mail, or "command line" for what a server
        operator did without naming an account (`tracker users create`, `tracker plan import` without --as)."""
        if self.actor_email:
            return self.actor_email
        if self.address == "cli" or self.details_dict.get("via") == "command line":
            return str(_l("command line"))
        return "—"


def record(
    session: Session,
    action: str,
    actor: Any = None,
    target: Any = None,
    actor_email: str | None = None,
    **details: Any,
) -> AuditEvent:
    """Add an audit event; `target` is any row with an id (its class name is stored)."""
    event = AuditEvent(
        actor_id=getattr(actor, "id", None),
        actor_email=actor_email or getattr(actor, "email", "") or "",
        action=action,
        target_type=type(target).__name__ if target is not None else "",
        target_id=str(getattr(target, "id", "")) if target is not None else "",
        address=(request.remote_addr or "") if has_request_context() else "cli",
        details=json.dumps(details, default=str, ensure_ascii=False, sort_keys=True),
    )
    session.add(event)
    return event
