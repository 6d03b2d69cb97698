"""URL helpers: safe redirects, integers in paths and in query strings."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, request
from werkzeug.routing import IntegerConverter

# The largest value of an INTEGER column, which every id and year is: larger numbers cannot name a row,
# and the databases refuse to compare with them (PostgreSQL: "integer out of range", SQLite overflows
# above 2**63), so they are refused before any query runs.
MAX_INT = 2**31 - 1
# Reporting years, as the CHECK constraints of cycles and reports allow them.
YEAR_MIN, YEAR_MAX = 1900, 2200


def safe_next(target: str | None) -> str | None:
    """Return `target` only if it is a path on this site (no open redirects)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


class BoundedIntConverter(IntegerConverter):
    """The `int` URL converter, refusing (404) numbers above MAX_INT unless a rule sets its own max."""

    def __init__(self, map, fixed_digits: int = 0, min: int | None = None, max: int | None = None, signed: bool = False):
        super().__init__(map, fixed_digits, min, MAX_INT if max is None else max, signed)


def parse_int(text: str | None, minimum: int = 0, maximum: int = MAX_INT) -> int | None:
    """`text` as an integer within [minimum, maximum], or None: plain ASCII digits only (no sign, no spaces inside)."""
    text = (text or "").strip()
    # The length check keeps int() away from thousands of digits, which it refuses with a ValueError anyway.
    if not text.isascii() or not text.isdigit() or len(text) > len(str(maximum)):
        return None
    value = int(text)
    return value if minimum <= value <= maximum else None


def int_arg(name: str, default: int | None = None, minimum: int = 0, maximum: int = MAX_INT) -> int | None:
    """An integer query-string parameter; `default` when it is missing or not a usable number (the filter is ignored)."""
    value = parse_int(request.args.get(name), minimum, maximum)
    return default if value is None else value


def year_arg(name: str = "year") -> int | None:
    """A reporting year from the query string, or None when it is missing or out of range."""
    return int_arg(name, minimum=YEAR_MIN, maximum=YEAR_MAX)


def init_app(app: Flask) -> None:
    """Replace the default `int` converter, so that every `<int:...>` route is bounded; before any rule is added."""
    app.url_map.converters["int"] = BoundedIntConverter
