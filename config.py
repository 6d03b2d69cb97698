"""Settings for NAP Tracker, read from TRACKER_* environment variables.

Pick a class with TRACKER_ENV (development, testing, production); development is the default.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent
INSTANCE_PATH = Path(os.environ.get("TRACKER_INSTANCE_PATH", PROJECT_ROOT / "instance"))


class ConfigError(RuntimeError):
    """The configuration cannot be used; the message is one line meant for the operator."""


DEV_SECRET_KEY = "dev-only-not-secret"
TEST_SECRET_KEY = "testing-secret-key"
MIN_SECRET_LENGTH = 32
MIN_SECRET_DISTINCT = 12  # token_urlsafe(48) has about 40 distinct characters; "aaaa...b" has 2
MAKE_A_KEY = 'make one with: python -c "import secrets; print(secrets.token_urlsafe(48))"'
KNOWN_KEYS = frozenset({DEV_SECRET_KEY, TEST_SECRET_KEY, "changeme", "secret", "change-me"})


def secret_key_problem(key: str | None) -> str | None:
    """Why `key` cannot sign production sessions (None when it can); one line that says how to make one."""
    if not key:
        return f"TRACKER_SECRET_KEY is not set; {MAKE_A_KEY}"
    if key.strip().lower() in KNOWN_KEYS:
        return f"TRACKER_SECRET_KEY is a published default; {MAKE_A_KEY}"
    if len(key) < MIN_SECRET_LENGTH:
        return f"TRACKER_SECRET_KEY has {len(key)} characters, at least {MIN_SECRET_LENGTH} are needed; {MAKE_A_KEY}"
    if len(set(key)) < MIN_SECRET_DISTINCT:
        return f"TRACKER_SECRET_KEY uses only {len(set(key))} different characters; {MAKE_A_KEY}"
    if _repeats_a_pattern(key):
        return f"TRACKER_SECRET_KEY repeats a pattern; {MAKE_A_KEY}"
    return None


def _repeats_a_pattern(key: str) -> bool:
    """A key made of one chunk repeated ("abc123abc123..."), a long run of one character, or mostly a sequence."""
    for size in range(1, len(key) // 2 + 1):
        chunk = key[:size]
        if (chunk * (len(key) // size + 1))[: len(key)] == key:
            return True
    longest_run = max(len(run.group(0)) for run in re.finditer(r"(.)\1*", key))
    steps = sum(1 for a, b in zip(key, key[1:]) if abs(ord(b) - ord(a)) == 1)
    return longest_run > len(key) // 4 or steps > len(key) // 2


def shared_storage_problem(uri: str | None) -> str | None:
    """Why `uri` cannot hold the login-throttling counters of several workers (None when it can)."""
    if not uri or uri.startswith("memory://"):
        return ("TRACKER_RATELIMIT_STORAGE_URI must be shared storage in production (with memory:// each worker "
                "counts failed logins on its own): set TRACKER_RATELIMIT_STORAGE_URI=redis://HOST:6379/0")
    return None


def _env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"TRACKER_{name}", default)


def _env_int(name: str, default: int) -> int:
    raw = _env(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"TRACKER_{name} must be a whole number, got {raw!r}") from None


class Config:
    """Settings shared by every environment."""

    ENV_NAME = "base"
    SECRET_KEY = _env("SECRET_KEY", DEV_SECRET_KEY)
    DATABASE_URL = _env("DATABASE_URL", f"sqlite:///{INSTANCE_PATH / 'tracker.sqlite3'}")
    SQL_ECHO = False
    UPLOAD_FOLDER = Path(_env("UPLOAD_FOLDER", str(INSTANCE_PATH / "uploads")))
    MAX_UPLOAD_MB = _env_int("MAX_UPLOAD_MB", 10)
    # Where stored files live: "folder" (UPLOAD_FOLDER) or "database" (shared by every app server; see tracker/storage.py).
    STORAGE = _env("STORAGE", "folder")
    # The request may carry a few files; each is checked against MAX_UPLOAD_MB so the form can say which.
    MAX_CONTENT_LENGTH = (MAX_UPLOAD_MB * 4 + 1) * 1024 * 1024
    # Languages: Spanish first, English second.
    LANGUAGES = ("es", "en")
    BABEL_DEFAULT_LOCALE = "es"
    CLI_LANGUAGE = "en"
    BABEL_DEFAULT_TIMEZONE = _env("TIMEZONE", "America/Lima")
    # Where users reach the app (https://nap.example.gob.pe): links in e-mails the command line sends
    # (digests, reminders) are built on it; unset, they are relative.
    BASE_URL = (_env("BASE_URL", "") or "").rstrip("/")
    BABEL_TRANSLATION_DIRECTORIES = str(PROJECT_ROOT / "tracker" / "translations")
    # Bootstrap is served by the app itself: no CDN, works offline.
    BOOTSTRAP_SERVE_LOCAL = True
    BOOTSTRAP_BTN_STYLE = "primary"
    # Sessions and cookies.
    # Idle lifetime: a session unused this long ends. Absolute lifetime: every session ends this long after login.
    PERMANENT_SESSION_LIFETIME = timedelta(minutes=_env_int("SESSION_MINUTES", 60))
    SESSION_ABSOLUTE_LIFETIME = timedelta(hours=_env_int("SESSION_ABSOLUTE_HOURS", 12))
    # Roles that must use a second factor (TOTP) to log in, e.g. "committee,admin". Empty: optional for everyone.
    REQUIRE_2FA_ROLES = frozenset(r.strip() for r in (_env("REQUIRE_2FA_ROLES", "") or "").split(",") if r.strip())
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    # Login throttling (Flask-Limiter).
    RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI", "memory://")
    # Several instances can share one Redis: each counts under its own prefix.
    RATELIMIT_KEY_PREFIX = _env("RATELIMIT_KEY_PREFIX", "nap-tracker")
    RATELIMIT_HEADERS_ENABLED = True
    # Requests per token (the read API, /api/v1): a script paging through a large plan fits, a runaway loop does not.
    API_RATE_LIMIT = _env("API_RATE_LIMIT", "300 per minute")
    LOGIN_LIMIT_PER_ACCOUNT = _env("LOGIN_LIMIT_PER_ACCOUNT", "5 per 15 minutes")
    LOGIN_LIMIT_PER_ADDRESS = _env("LOGIN_LIMIT_PER_ADDRESS", "20 per 15 minutes")
    # Password hashing (argon2id); tests lower the cost.
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 65536
    ARGON2_PARALLELISM = 4
    DEMO_ACCOUNTS = False
    # Behind a reverse proxy (nginx...): how many proxies set X-Forwarded-For / -Proto. 0 = none.
    PROXY_HOPS = _env_int("PROXY_HOPS", 0)
    MAIL_OUTBOX_FOLDER = Path(_env("MAIL_OUTBOX_FOLDER", str(INSTANCE_PATH / "outbox")))
    MAIL_FROM = _env("MAIL_FROM", "NAP Tracker <no-reply@localhost>")
    SMTP_HOST = _env("SMTP_HOST")  # unset: e-mails are written to MAIL_OUTBOX_FOLDER
    SMTP_PORT = _env_int("SMTP_PORT", 587)
    SMTP_STARTTLS = _env("SMTP_STARTTLS", "1") == "1"
    SMTP_USER = _env("SMTP_USER")
    # Background jobs (tracker/jobs.py): a Redis URL for RQ, e.g. redis://127.0.0.1:6379/1; unset, jobs run in the
    # request's process right after its commit. Retries wait these many seconds in turn (backoff).
    QUEUE_URL = _env("QUEUE_URL")
    # "json": one JSON object per log line, with the request id (production's default); "text" otherwise.
    LOG_FORMAT = _env("LOG_FORMAT", "text")
    QUEUE_NAME = _env("QUEUE_NAME", "tracker")
    JOB_RETRY_INTERVALS = _env("JOB_RETRY_INTERVALS", "30,120,600,1800")
    # A job running longer is stopped (and retried). A job whose worker died is handed to another worker once this
    # many seconds and one more minute have passed, at that worker's start or its next ten-minute clean-up.
    JOB_TIMEOUT = _env_int("JOB_TIMEOUT", 600)
    # Imports and templates of more rows than this are made in the background, with a progress page (tracker.tasks).
    BACKGROUND_ROWS = _env_int("BACKGROUND_ROWS", 500)
    SMTP_PASSWORD = _env("SMTP_PASSWORD")

    @classmethod
    def validate(cls) -> None:
        """Refuse settings that cannot work; raise ConfigError with one clear line."""
        if cls.STORAGE not in ("folder", "database"):
            raise ConfigError(f"TRACKER_STORAGE must be folder or database, got {cls.STORAGE!r}")
        unknown = sorted(set(cls.REQUIRE_2FA_ROLES) - ROLE_NAMES)
        if unknown:
            raise ConfigError(f"TRACKER_REQUIRE_2FA_ROLES names unknown roles: {', '.join(unknown)} "
                              f"(choose among {', '.join(sorted(ROLE_NAMES))})")


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    DEBUG = False
    DEMO_ACCOUNTS = True


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = TEST_SECRET_KEY
    DATABASE_URL = os.environ.get("TRACKER_TEST_DATABASE_URL", "sqlite://")
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 1024
    ARGON2_PARALLELISM = 1
    RATELIMIT_STORAGE_URI = "memory://"
    DEMO_ACCOUNTS = True


class ProductionConfig(Config):
    ENV_NAME = "production"
    LOG_FORMAT = _env("LOG_FORMAT", "json")
    SECRET_KEY = _env("SECRET_KEY")
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"

    @classmethod
    def validate(cls) -> None:
        """The environment is read again here, so a key set after import is seen as well."""
        super().validate()
        secret = os.environ.get("TRACKER_SECRET_KEY", "")
        problem = secret_key_problem(secret)
        if problem:
            raise ConfigError(problem)
        storage = os.environ.get("TRACKER_RATELIMIT_STORAGE_URI", "memory://")
        problem = shared_storage_problem(storage)
        if problem:
            raise ConfigError(problem)
        cls.SECRET_KEY, cls.RATELIMIT_STORAGE_URI = secret, storage


# The role names of tracker.auth.models.Role, spelled here so that config.py imports nothing of the app.
ROLE_NAMES = frozenset({"reporter", "committee", "viewer", "admin"})

CONFIGS = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


def config_from_env() -> type[Config]:
    """Return the configuration class named by TRACKER_ENV (default: development)."""
    name = os.environ.get("TRACKER_ENV", "development")
    try:
        return CONFIGS[name]
    except KeyError:
        raise ConfigError(f"TRACKER_ENV must be one of {', '.join(CONFIGS)}, got {name!r}") from None
