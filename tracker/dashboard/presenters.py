"""Charts for the dashboard pages, with translated titles (the SVG itself comes from charts.py)."""

from __future__ import annotations

from flask_babel import gettext as _
from markupsafe import Markup

from tracker.dashboard.charts import bar_chart, line_chart
from tracker.dashboard.services import Dashboard
from tracker.i18n import localized


def _card_name(card) -> str:
    return str(localized(card.pillar, "name")) if card.pillar else _("Not linked to a pillar")


def pillar_chart(d: Dashboard) -> Markup:
    bars = [(_card_name(c), c.completion.actions_share) for c in d.cards if c.completion.has_actions]
    bars += [(_card_name(c) + " · " + _("indicators"), c.completion.mean_achievement) for c in d.cards if c.completion.mean_achievement is not None]
    return bar_chart(
        _("Completion by pillar, %(year)s", year=d.year),
        _("Share of actions completed or ongoing, and mean achievement of indicators with a target, per pillar. The numbers are in the table below."),
        bars,
    )


def trend_chart(d: Dashboard) -> Markup | None:
    if not d.trend:
        return None
    years = [y for y, _a, _b in d.trend]
    return line_chart(
        _("Trend over the years"),
        _("Share of actions completed or ongoing and mean indicator achievement for each year with approved data. The numbers are in the table below."),
        years,
        [(_("Actions completed or ongoing"), [a for _y, a, _b in d.trend]), (_("Mean indicator achievement"), [b for _y, _a, b in d.trend])],
    )


def women_chart(d: Dashboard) -> Markup | None:
    """The women's share of each indicator that counts people, for the year."""
    if not d.women:
        return None
    return bar_chart(
        _("Women's share, %(year)s", year=d.year),
        _("Share of women among the people counted by each indicator, with approved data. The numbers are in the table below."),
        [(r.indicator.code, r.result.actual.women_share) for r in d.women],
    )
