"""Settings for NAP Tracker, read from TRACKER_* environment variables.

Pick a class with TRACKER_ENV (development, testing, production); development is the default.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent
INSTANCE_PATH = Path(os.environ.get("TRACKER_INSTANCE_PATH", PROJECT_ROOT / "instance"))


class ConfigError(RuntimeError):
    """The configuration cannot be used; the message is one line meant for the operator."""


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
    SECRET_KEY = _env("SECRET_KEY", "dev-only-not-secret")
    DATABASE_URL = _env("DATABASE_URL", f"sqlite:///{INSTANCE_PATH / 'tracker.sqlite3'}")
    SQL_ECHO = False
    UPLOAD_FOLDER = Path(_env("UPLOAD_FOLDER", str(INSTANCE_PATH / "uploads")))
    MAX_UPLOAD_MB = _env_int("MAX_UPLOAD_MB", 10)
    # The request may carry a few files; each is checked against MAX_UPLOAD_MB so the form can say which.
    MAX_CONTENT_LENGTH = (MAX_UPLOAD_MB * 4 + 1) * 1024 * 1024
    # Languages: Spanish first, English second.
    LANGUAGES = ("es", "en")
    BABEL_DEFAULT_LOCALE = "es"
    CLI_LANGUAGE = "en"
    BABEL_DEFAULT_TIMEZONE = _env("TIMEZONE", "America/Lima")
    BABEL_TRANSLATION_DIRECTORIES = str(PROJECT_ROOT / "tracker" / "translations")
    # Bootstrap is served by the app itself: no CDN, works offline.
    BOOTSTRAP_SERVE_LOCAL = True
    BOOTSTRAP_BTN_STYLE = "primary"
    # Sessions and cookies.
    PERMANENT_SESSION_LIFETIME = timedelta(minutes=_env_int("SESSION_MINUTES", 60))
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session
    # Login throttling (Flask-Limiter).
    RATELIMIT_STORAGE_URI = _env("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
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
    SMTP_PASSWORD = _env("SMTP_PASSWORD")

    @classmethod
    def validate(cls) -> None:
        """Refuse settings that cannot work; raise ConfigError with one clear line."""


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    DEBUG = False
    DEMO_ACCOUNTS = True


class TestingConfig(Config):
    ENV_NAME = "testing"
    TESTING = True
    SECRET_KEY = "testing-secret-key"
    DATABASE_URL = os.environ.get("TRACKER_TEST_DATABASE_URL", "sqlite://")
    ARGON2_TIME_COST = 1
    ARGON2_MEMORY_COST = 1024
    ARGON2_PARALLELISM = 1
    RATELIMIT_STORAGE_URI = "memory://"
    DEMO_ACCOUNTS = True


class ProductionConfig(Config):
    ENV_NAME = "production"
    SECRET_KEY = _env("SECRET_KEY")
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"

    @classmethod
    def validate(cls) -> None:
        secret = os.environ.get("TRACKER_SECRET_KEY", "")
        if len(secret) < 32 or secret == Config.SECRET_KEY:
            raise ConfigError(
                "TRACKER_SECRET_KEY must be set to a random value of at least 32 characters in production"
            )
        cls.SECRET_KEY = secret


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
