"""The report's charts, drawn once as SVG by the dashboard's chart code (tracker.dashboard.charts) and turned
here into what each writer embeds: a ReportLab drawing for the PDF (svglib, pure Python) and a PNG for Word
(CairoSVG). The HTML preview shows the SVG itself. A chart that cannot be converted is left out: its numbers
are in the section's tables."""

from __future__ import annotations

import html
import io
import logging
import re
from typing import Any

PNG_WIDTH = 1400  # pixels: sharp at the 16 cm Word gives it


def _plain_svg(svg: Any) -> bytes:
    """The SVG without its responsive width (a converter needs the drawing's own size)."""
    return re.sub(r'\swidth="100%"', "", str(svg)).encode("utf-8")


def caption(svg: Any) -> str:
    """The chart's title (its SVG <title>), which the writers print under it."""
    found = re.search(r"<title[^>]*>(.*?)</title>", str(svg), re.S)
    return html.unescape(found.group(1)) if found else ""


def as_drawing(svg: Any):
    """A ReportLab drawing of the chart, or None when it cannot be read."""
    from svglib.svglib import svg2rlg

    try:
        return svg2rlg(io.BytesIO(_plain_svg(svg)))
    except Exception:  # a chart is a picture of numbers the tables already show
        return None


def as_png(svg: Any) -> bytes | None:
    """The chart as a PNG image, or None when it cannot be drawn (also when the system has no libcairo: the import
    fails then, and the Word report goes out with its tables only, the problem logged)."""
    try:
        import cairosvg

        return cairosvg.svg2png(bytestring=_plain_svg(svg), output_width=PNG_WIDTH)
    except Exception as exc:  # as above: the tables carry the numbers
        logging.getLogger(__name__).warning("a chart could not be drawn as PNG: %s", exc)
        return None
