"""Password hashing (argon2id) and the password rules."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import lazy_gettext as _l
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

MIN_LENGTH = 12
MIN_STRENGTH = 3  # zxcvbn score, 0 (guessable) to 4


@lru_cache(maxsize=4)
def _hasher(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)


def hasher() -> PasswordHasher:
    c = current_app.config
    return _hasher(c["ARGON2_TIME_COST"], c["ARGON2_MEMORY_COST"], c["ARGON2_PARALLELISM"])


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# Hashing a dummy on unknown accounts keeps the timing of "no such user" and "wrong password" alike.
def burn_verification() -> None:
    verify_password(_dummy_hash(), "not the password")


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return hasher().hash("dummy password for timing")


@lru_cache(maxsize=1)
def _common_passwords() -> frozenset[str]:
    return frozenset(FREQUENCY_LISTS["passwords"])


def _without_accents(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


def _is_published_demo_password(password: str) -> bool:
    """The README's demo password opens demo accounts in development and nothing anywhere else."""
    from tracker.demo import DEMO_PASSWORD

    return password == DEMO_PASSWORD and not current_app.config.get("DEMO_ACCOUNTS")


def password_problems(password: str, *user_inputs: str) -> list[str]:
    """The reasons a new password is refused (empty when it is acceptable)."""
    if len(password) < MIN_LENGTH:
        return [str(_l("Use at least %(n)d characters.", n=MIN_LENGTH))]
    if password.lower() in _common_passwords():
        return [str(_l("This password is on the list of common passwords. Choose another."))]
    if _is_published_demo_password(password):
        return [str(_l("This password is published in the documentation. Choose another."))]
    inputs = [part for value in user_inputs for part in value.replace("@", " ").replace(".", " ").split() if part]
    inputs += [plain for plain in map(_without_accents, inputs) if plain not in inputs]  # "Perú" also as "Peru"
    if zxcvbn(password[:72], user_inputs=inputs)["score"] < MIN_STRENGTH:
        return [str(_l("This password is too easy to guess. Mix several unrelated words, numbers or symbols."))]
    return []
