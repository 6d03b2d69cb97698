"""Languages: Spanish first, English second; plan content stored in both languages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, g, has_request_context, request, session
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from tracker.extensions import babel

LANGUAGE_NAMES = {"es": "Español", "en": "English"}
# Numbers, dates and money are formatted for Peru in Spanish; the catalog of "es" serves "es_PE".
LOCALES = {"es": "es_PE", "en": "en"}


def select_locale() -> str:
    """The language by select_language; numbers and dates follow the request's plan's country locale when it
    is in that language (es_CL for Chile's plan in Spanish), else the language's default."""
    language = select_language()
    return plan_locale(getattr(g, "plan", None) if has_request_context() else None, language)


def plan_locale(plan: Any, language: str) -> str:
    """The Babel locale for a plan read in this language: the country's own if it speaks it."""
    country_locale = getattr(getattr(plan, "country", None), "locale", "") or ""
    if country_locale.split("_")[0] == language:
        return country_locale
    return LOCALES[language]


def select_language() -> str:
    """es or en, by the rules of select_locale."""
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return current_app.config["CLI_LANGUAGE"]  # the command line speaks English, like its own messages
    from flask_login import current_user

    preferred = getattr(current_user, "language", None) if current_user else None
    for choice in (preferred, session.get("lang")):
        if choice in languages:
            return choice
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def select_timezone() -> str | None:
    """Dates and times are shown in the request's plan's country time zone (set by use_plan); elsewhere in
    BABEL_DEFAULT_TIMEZONE (None lets Flask-Babel use it)."""
    plan = getattr(g, "plan", None) if has_request_context() else None
    return getattr(getattr(plan, "country", None), "timezone", None) or None


def current_language() -> str:
    """The two-letter language of the current locale (es or en)."""
    return str(get_locale() or "es").split("_")[0]


def money(amount, plan: Any = None) -> str:
    """An amount in the plan's currency, written the way its country writes it (S/ 1,234.50 in Peru,
    $1.234.568 in Chile) whatever the reader's language; a plain number when the plan names no currency."""
    return format_money(amount, *plan_money_format(plan if plan is not None else getattr(g, "plan", None)))


def plan_money_format(plan: Any) -> tuple[str | None, str]:
    """The currency and the locale amounts of a plan are written in."""
    country = getattr(plan, "country", None)
    return getattr(country, "currency", None), getattr(country, "locale", None) or "es_PE"


def plan_datetime(moment, plan: Any, format: str = "short") -> str:
    """A moment as the plan's country lives it (its time zone), in the reader's locale: for pages that list
    several plans' rows, where the request has no single plan."""
    from babel.dates import format_datetime

    from tracker.plan.services import plan_timezone

    return format_datetime(moment, format, tzinfo=plan_timezone(plan), locale=get_locale())


def format_money(amount, currency: str | None, locale: str) -> str:
    """An amount in a currency and locale; "—" for none."""
    from babel.numbers import format_currency, format_decimal

    if amount is None:
        return "—"
    if not currency:
        return format_decimal(amount, format="#,##0.00", locale=locale)
    return format_currency(amount, currency, locale=locale)


@dataclass(frozen=True)
class LocalizedText:
    """A plan text in the user's language, or in the other one with a mark saying so."""

    text: str
    language: str
    is_fallback: bool  # the user's language was missing
    is_translation: bool  # shown text is our translation, not the plan's original wording

    def __str__(self) -> str:
        return self.text

    def __bool__(self) -> bool:
        return bool(self.text)


def localized(row: Any, field: str, language: str | None = None) -> LocalizedText:
    """Pick `<field>_<lang>` from a row, falling back to the other language when empty."""
    language = language or current_language()
    other = "en" if language == "es" else "es"
    original = str(getattr(getattr(row, "original_language", None), "value", "") or "")
    for lang, fallback in ((language, False), (other, True)):
        text = getattr(row, f"{field}_{lang}", "") or ""
        if text.strip():
            return LocalizedText(text, lang, fallback, bool(original) and original != lang)
    return LocalizedText("", language, False, False)


FALLBACK_MARK = {"es": _l("solo disponible en español"), "en": _l("only available in English")}


def init_app(app: Flask) -> None:
    from flask_babel import format_currency, format_date, format_datetime, format_decimal, format_percent

    from tracker.forms import field_label
    from tracker.labels import entry_field, event_label, label, plan_field_label, quality_flag

    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    app.jinja_env.globals.update(
        label=label,
        entry_field=entry_field,
        money=money,
        plan_datetime=plan_datetime,
        event_label=event_label,
        field_label=field_label,
        plan_field_label=plan_field_label,
        quality_flag=quality_flag,
        format_currency=format_currency,
        format_date=format_date,
        format_datetime=format_datetime,
        format_decimal=format_decimal,
        format_percent=format_percent,
        localized=localized,
        current_language=current_language,
        LANGUAGE_NAMES=LANGUAGE_NAMES,
        FALLBACK_MARK=FALLBACK_MARK,
    )
