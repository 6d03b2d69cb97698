"""Login throttling: failed logins are counted per account and per address.

A few failures slow the account down (a short wait); many refuse it for a longer while.
Only failures count, so a user who types the password right is never locked out by others' successes.
Storage is Flask-Limiter's (memory:// by default, Redis in production).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from flask import current_app
from limits import RateLimitItem, parse_many

from tracker.extensions import limiter


@dataclass(frozen=True)
class Lockout:
    seconds: int

    @property
    def minutes(self) -> int:
        return max(1, math.ceil(self.seconds / 60))


def _limits() -> list[tuple[str, RateLimitItem]]:
    c = current_app.config
    return [("account", item) for item in parse_many(c["LOGIN_LIMIT_PER_ACCOUNT"])] + [
        ("address", item) for item in parse_many(c["LOGIN_LIMIT_PER_ADDRESS"])
    ]


def _keys(email: str, address: str) -> dict[str, str]:
    # These keys reach the storage as they are (Flask-Limiter prefixes only its own): the prefix is added here.
    prefix = current_app.config.get("RATELIMIT_KEY_PREFIX", "nap-tracker")
    return {"account": f"{prefix}:login-fail:account:{email.strip().lower()}",
            "address": f"{prefix}:login-fail:address:{address}"}


def check(email: str, address: str) -> Lockout | None:
    """Return the wait still due when the account or the address has failed too often."""
    return _lockout(_keys(email, address), ("account", "address"))


def account_lockout(email: str) -> Lockout | None:
    """The wait still due because this account (whatever the address) has failed too often."""
    return _lockout(_keys(email, ""), ("account",))


def _lockout(keys: dict[str, str], kinds: tuple[str, ...]) -> Lockout | None:
    waits = [
        limiter.limiter.get_window_stats(item, keys[kind]).reset_time - time.time()
        for kind, item in _limits()
        if kind in kinds and not limiter.limiter.test(item, keys[kind])
    ]
    return Lockout(int(math.ceil(max(waits)))) if waits else None


def register_failure(email: str, address: str) -> None:
    keys = _keys(email, address)
    for kind, item in _limits():
        limiter.limiter.hit(item, keys[kind])
