"""`tracker tokens create|list|revoke`: personal API tokens from the command line."""

from __future__ import annotations

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from tracker.api import tokens
from tracker.auth.models import User
from tracker.db import db
from tracker.domain import ValidationFailed

tokens_group = click.Group("tokens", help="Personal API tokens (the read API, /api/v1).")


def _user(email: str) -> User:
    user = db.session.scalars(sa.select(User).filter_by(email=email.strip().lower())).one_or_none()
    if user is None or not user.active:
        raise click.ClickException(f"no active account {email}")
    return user


@tokens_group.command("create")
@click.argument("email")
@click.option("--name", required=True, help="What the token is for, e.g. 'Power BI of the Ministry'.")
@click.option("--expires", "days", type=int, default=tokens.DEFAULT_DAYS, show_default=True,
              help="Days until it stops working (1 to 365).")
@with_appcontext
def create(email: str, name: str, days: int) -> None:
    """Make a token that reads the API as EMAIL's account. The token is printed once, alone on the last line: only
    its hash is kept.

    \b
    Example:
      tracker tokens create analista@mimp.gob.pe --name "Tablero MIMP" --expires 30
    """
    try:
        token, raw = tokens.create(db.session, _user(email), name, days)
    except ValidationFailed as exc:
        raise click.ClickException(exc.message) from None
    db.session.commit()
    click.echo(f"Token {token.id} for {email}, valid until {token.expires_at:%Y-%m-%d}. Keep it secret; it is shown "
               "only now:")
    click.echo(raw)


@tokens_group.command("list")
@click.argument("email")
@with_appcontext
def list_tokens(email: str) -> None:
    """The tokens of EMAIL still in use: id, name, first characters, expiry, last use."""
    for token in tokens.tokens_of(db.session, _user(email)):
        used = f"{token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never used"
        click.echo(f"{token.id}\t{token.name}\t{token.hint}…\tuntil {token.expires_at:%Y-%m-%d}\t{used}")


@tokens_group.command("revoke")
@click.argument("email")
@click.argument("token_id", type=int)
@with_appcontext
def revoke(email: str, token_id: int) -> None:
    """Revoke token TOKEN_ID of EMAIL at once."""
    if not tokens.revoke(db.session, _user(email), token_id):
        raise click.ClickException(f"{email} has no token {token_id} in use")
    db.session.commit()
    click.echo(f"Token {token_id} revoked.")
