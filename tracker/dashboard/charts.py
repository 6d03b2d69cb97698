"""Server-made SVG charts: accessible (title, description), no JavaScript, reused by the PDF report.

Only presentation attributes are used (no style attributes), so the Content-Security-Policy holds.
"""

from __future__ import annotations

from decimal import Decimal
from itertools import count

from markupsafe import Markup, escape

_ids = count(1)
BAR_COLOR = "#0d6efd"
SECOND_COLOR = "#198754"
GRID = "#dee2e6"
TEXT = "#212529"


def _frame(width: int, height: int, title: str, description: str, body: str) -> Markup:
    n = next(_ids)
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-labelledby="chart-t{n} chart-d{n}" class="chart">'
        f'<title id="chart-t{n}">{escape(title)}</title><desc id="chart-d{n}">{escape(description)}</desc>{body}</svg>'
    )


def _pct(value: Decimal | None) -> str:
    """A share as the page or report writes percentages, in its language ("67 %", "67%")."""
    from flask_babel import format_percent

    return "—" if value is None else format_percent(value)


def bar_chart(title: str, description: str, bars: list[tuple[str, Decimal | None]], width: int = 560) -> Markup:
    """Horizontal bars of shares (0..1); a missing value is drawn as an empty row marked with a dash."""
    row, label_w, height = 28, 190, 28 * max(1, len(bars)) + 24
    plot = width - label_w - 60
    parts = [f'<line x1="{label_w}" y1="4" x2="{label_w}" y2="{height - 18}" stroke="{GRID}"/>']
    for i, (name, value) in enumerate(bars):
        y = 6 + i * row
        parts.append(f'<text x="{label_w - 8}" y="{y + 15}" text-anchor="end" font-size="12" fill="{TEXT}">{escape(name)}</text>')
        if value is not None:
            w = max(0.0, float(min(Decimal(1), value)) * plot)
            parts.append(f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="20" fill="{BAR_COLOR}" rx="2"/>')
        x = label_w + (float(min(Decimal(1), value)) * plot if value is not None else 0) + 6
        parts.append(f'<text x="{x:.1f}" y="{y + 15}" font-size="12" fill="{TEXT}">{_pct(value)}</text>')
    return _frame(width, height, title, description, "".join(parts))


def line_chart(title: str, description: str, years: list[int], series: list[tuple[str, list[Decimal | None]]], width: int = 560) -> Markup:
    """Lines of shares (0..1) over the years, with a legend; gaps where a year has no value."""
    height, left, right, top, bottom = 220, 48, 24, 14, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    first, span = (years[0], max(1, years[-1] - years[0])) if years else (0, 1)
    x_of = [left + plot_w * (year - first) / span for year in years]  # spaced by value: 2024 → 2026 is two steps
    parts = []
    for tick in (0, 50, 100):
        y = top + plot_h * (1 - tick / 100)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{GRID}"/>')
        parts.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11" fill="{TEXT}">{_pct(Decimal(tick) / 100)}</text>')
    for x, year in zip(x_of, years):
        parts.append(f'<text x="{x:.1f}" y="{height - bottom + 16}" text-anchor="middle" font-size="11" fill="{TEXT}">{year}</text>')
    for s_index, (name, values) in enumerate(series):
        color = (BAR_COLOR, SECOND_COLOR)[s_index % 2]
        points = [(x, top + plot_h * (1 - float(min(Decimal(1), v)))) for x, v in zip(x_of, values) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"/>')
        parts += [f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3.5" fill="{color}"/>' for x, y in points]
        lx = left + s_index * 250
        parts.append(f'<rect x="{lx}" y="{height - 14}" width="12" height="4" fill="{color}"/>')
        parts.append(f'<text x="{lx + 16}" y="{height - 9}" font-size="11" fill="{TEXT}">{escape(name)}</text>')
    return _frame(width, height, title, description, "".join(parts))
