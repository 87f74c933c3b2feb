"""Charts drawn on the server as inline SVG: a ranking, an index over the years, band counts.

Public pages must work without JavaScript, print on A4, load nothing from the internet and meet
WCAG AA. So every chart is one ``<svg role="img">`` whose ``<title>`` and ``<desc>`` give every
number in words, every value is also written beside its mark (colour is never the only signal),
and only presentation attributes are used: the pages' Content-Security-Policy forbids inline styles.

Labels are data (unit names come from import files) and are always escaped. Numbers are
``Decimal``, shown with ``number_format`` so the active language picks the decimal separator; they
become floats only to place marks.
"""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.utils.formats import number_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

INK = "#1a1a1a"  # 17:1 on white: all text outside the marks
MUTED = "#595959"  # 7:1 on white: axes, limit lines and their labels, the second series
GRID = "#d9d9d9"  # gridlines carry no value of their own; the numbers are written out
PAPER = "#ffffff"
SERIES = "#1f4e79"
EMPTY = "—"

# Every fill has at least 4.5:1 against white, so white text may be written on it and the marks
# pass WCAG's 3:1 for graphics on a white page.
BAND_COLOURS = {
    "rat-tot": "#14532d",
    "tot": "#2e7d32",
    "kha": "#9a6700",
    "trung-binh": "#c2410c",
    "kem": "#8b1a1a",
}
# For bands a province defines itself: blues and purples, so that a custom band is never drawn
# in the colour that means a different default band.
FALLBACK_COLOURS = ("#1f4e79", "#0e6e8c", "#0f766e", "#6b3fa0", "#9d174d", "#4b5563")

WIDE = 800  # ranking and paired bars: a label column, the bars, the values after them
LABEL_END = 268  # right edge of the unit labels: about 40 characters at 12px
BAR_START = 276
LABEL_CHARS = 40

_ids = itertools.count(1)  # ids stay unique when a page shows several charts
_CONTROL = dict.fromkeys(code for code in range(32))


def band_colour(code: str, position: int) -> str:
    """The colour of a default band by its code, else a fallback colour by position (0 = best)."""
    if code in BAND_COLOURS:
        return BAND_COLOURS[code]
    return FALLBACK_COLOURS[max(position, 0) % len(FALLBACK_COLOURS)]


def _clean(text: Any) -> str:
    """One line of NFC text without control characters, which XML forbids."""
    return " ".join(unicodedata.normalize("NFC", str(text)).split()).translate(_CONTROL)


def _short(text: Any, limit: int) -> str:
    # NFC first, so that a Vietnamese letter with its marks counts as one character.
    text = _clean(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _num(value: Decimal | None) -> str:
    return EMPTY if value is None else number_format(value, 2)


def _said(value: Decimal | None) -> str:
    """A value as a screen reader should hear it: a dash is not read as "no value"."""
    return _("no value") if value is None else number_format(value, 2)


def _n(x: float) -> str:
    """A coordinate with at most two decimals and always a point, whatever the language."""
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _length(value: Decimal | None, max_value: Decimal, full: float) -> float:
    if value is None or max_value <= 0:
        return 0.0
    return min(max(float(value) / float(max_value), 0.0), 1.0) * full


def _field(item: Any, name: str) -> Any:
    # Pages pass dicts or objects (dataclasses, named tuples); both read the same.
    return item[name] if isinstance(item, Mapping) else getattr(item, name)


def _tag(name: str, content: str | None = None, **attrs: Any) -> str:
    """One SVG element, values escaped and numbers rounded; ``text_anchor=`` is ``text-anchor``."""
    pairs = format_html_join(
        "",
        ' {}="{}"',
        (
            (key.replace("_", "-"), _n(v) if isinstance(v, int | float) else v)
            for key, v in attrs.items()
        ),
    )
    if content is None:
        return format_html("<{}{}/>", name, pairs)
    return format_html("<{0}{1}>{2}</{0}>", name, pairs, content)


def _text(x: float, y: float, content: str, *, anchor="start", fill=INK, size=12) -> str:
    return _tag("text", content, x=x, y=y, text_anchor=anchor, fill=fill, font_size=size)


def _note(x: float, y: float, content: str, anchor="middle") -> str:
    """Small grey text: scale ends and limit labels."""
    return _text(x, y, content, anchor=anchor, fill=MUTED, size=10)


def _line(x1: float, y1: float, x2: float, y2: float, *, stroke=MUTED, dashed=False) -> str:
    if dashed:
        return _tag("line", x1=x1, y1=y1, x2=x2, y2=y2, stroke=stroke, stroke_dasharray="4 3")
    return _tag("line", x1=x1, y1=y1, x2=x2, y2=y2, stroke=stroke)


def _rect(x: float, y: float, width: float, height: float, fill: str, **extra: Any) -> str:
    return _tag("rect", x=x, y=y, width=width, height=height, fill=fill, **extra)


def _group(kind: str, tooltip: str, parts: Sequence[str]) -> str:
    """A ``<g>`` whose ``<title>`` is the tooltip; ``class`` names the mark for print CSS."""
    return format_html(
        '<g class="{}"><title>{}</title>{}</g>', kind, _clean(tooltip), mark_safe("".join(parts))
    )


def _limit_label(value: Decimal, label: str) -> str:
    return f"{_short(label, 16)} ≥ {number_format(value, 2)}"


def _svg(
    title: str,
    description: str,
    said: Sequence[str],
    *,
    size: tuple[float, float],
    body: Sequence[str],
    limits: Sequence[tuple[Decimal, str]] = (),
) -> SafeString:
    """The frame: ``<title>`` and ``<desc>`` first, referenced by ``aria-labelledby``.

    Without a description, ``<desc>`` reads out ``said`` (one phrase per mark) and the limits, so
    a screen reader gets every number the picture shows.
    """
    uid = f"chart-{next(_ids)}"
    generated = "; ".join(said) + "." if said else _("No data")
    if limits:
        words = "; ".join(f"{_clean(label)} ≥ {number_format(value, 2)}" for value, label in limits)
        generated += " " + _("Band limits: %(limits)s.") % {"limits": words}
    head = format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="{0}-title {0}-desc"'
        ' viewBox="0 0 {1} {2}" width="100%" font-family="sans-serif" font-size="12" fill="{3}">'
        '<title id="{0}-title">{4}</title><desc id="{0}-desc">{5}</desc>',
        uid,
        _n(size[0]),
        _n(size[1]),
        INK,
        _clean(title),
        _clean(description) or generated,
    )
    # A white ground keeps the contrast on a dark page or a print without backgrounds.
    ground = _rect(0, 0, size[0], size[1], PAPER)
    # Every part was built by format_html from escaped arguments.
    return mark_safe(head + ground + "".join(body) + "</svg>")


def ranking_bars(
    items: Sequence[Any],
    *,
    title: str,
    description: str = "",
    max_value: Decimal = Decimal(100),
    limits: Sequence[tuple[Decimal, str]] = (),
) -> SafeString:
    """A horizontal bar per item, in the given order, as long as value / max_value.

    ``items`` are mappings or objects with ``label``, ``value`` (Decimal), ``band_code``,
    ``band_label`` and ``band_position`` (0 = best band). The value and the band label are written
    after each bar. A label longer than 40 characters is cut with "…" and kept whole in the bar's
    ``<title>``. ``limits`` are (Decimal, label) pairs drawn as dashed vertical lines.
    """
    bar_width, row = 340.0, 24
    top = 40 if limits else 12
    bottom = top + max(len(items), 1) * row
    body: list[str] = []
    said: list[str] = []
    for i, item in enumerate(items):
        label, value = _clean(_field(item, "label")), _field(item, "value")
        band = _clean(_field(item, "band_label") or "")
        colour = band_colour(_field(item, "band_code"), _field(item, "band_position"))
        length = _length(value, max_value, bar_width)
        y = top + i * row
        after = f"{_num(value)} ({_short(band, 20)})" if band else _num(value)
        bar = [
            _text(LABEL_END, y + 15, _short(label, LABEL_CHARS), anchor="end"),
            _rect(BAR_START, y + 5, length, 14, colour),
            _text(BAR_START + length + 6, y + 16, after),
        ]
        body.append(_group("bar", label, bar))
        said.append(f"{label}: {_said(value)}" + (f" ({band})" if band else ""))
    if not items:
        body.append(_text(WIDE / 2, top + 16, _("No data"), anchor="middle"))
    for i, (value, label) in enumerate(sorted(limits, key=lambda limit: limit[0])):
        x = BAR_START + _length(value, max_value, bar_width)
        # Neighbouring limits are often a few points apart: alternate two rows of labels.
        body.append(_note(x, 14 if i % 2 == 0 else 30, _limit_label(value, label)))
        body.append(_line(x, top, x, bottom, dashed=True))
    body.append(_line(BAR_START, top, BAR_START, bottom))
    body.append(_note(BAR_START, bottom + 16, "0"))
    body.append(_note(BAR_START + bar_width, bottom + 16, number_format(max_value)))
    return _svg(title, description, said, size=(WIDE, bottom + 24), body=body, limits=limits)


def index_line(
    points: Sequence[tuple[int, Decimal | None]],
    *,
    title: str,
    description: str = "",
    limits: Sequence[tuple[Decimal, str]] = (),
) -> SafeString:
    """An index over the years on a 0–100 scale; ``points`` are (year, value) in year order.

    A None value breaks the line and is written "—". Gridlines are at 0, 25, 50, 75 and 100, or,
    when ``limits`` (Decimal, label) are given, dashed and labelled at the band limits. Years are
    placed by their distance, so a year missing from ``points`` leaves a visible gap.
    """
    width, height, hundred = 640.0, 300.0, Decimal(100)
    left, top, bottom = 44.0, 28.0, 260.0
    right = width - (130 if limits else 24)  # room for the limit labels
    inner = 24.0  # keeps the first and last points off the axes

    def y_of(value: Decimal) -> float:
        return bottom - _length(value, hundred, bottom - top)

    body: list[str] = []
    ticks = (Decimal(0), hundred) if limits else tuple(Decimal(t) for t in (0, 25, 50, 75, 100))
    for value, label in limits:
        body.append(_line(left, y_of(value), right, y_of(value), dashed=True))
        body.append(_note(right + 6, y_of(value) + 4, _limit_label(value, label), anchor="start"))
    for tick in ticks:
        if not limits:
            body.append(_line(left, y_of(tick), right, y_of(tick), stroke=GRID))
        body.append(_note(left - 6, y_of(tick) + 4, str(tick), anchor="end"))
    body += [_line(left, top, left, bottom), _line(left, bottom, right, bottom)]

    years = [year for year, _value in points]
    first, span = (min(years), max(years) - min(years)) if years else (0, 0)

    def x_of(year: int) -> float:
        if not span:
            return (left + right) / 2
        return left + inner + (year - first) / span * (right - left - 2 * inner)

    runs: list[list[str]] = [[]]
    marks: list[str] = []
    said: list[str] = []
    for year, value in points:
        x = x_of(year)
        body.append(_text(x, bottom + 18, str(year), anchor="middle"))
        said.append(f"{year}: {_said(value)}")
        if value is None:
            runs.append([])  # the next value starts a new line
            marks.append(
                _group("no-value", said[-1], [_text(x, bottom - 6, EMPTY, anchor="middle")])
            )
            continue
        y = y_of(value)
        runs[-1].append(f"{_n(x)},{_n(y)}")
        point = [
            _tag("circle", cx=x, cy=y, r=4, fill=SERIES),
            _text(x, y - 9, _num(value), anchor="middle"),
        ]
        marks.append(_group("point", said[-1], point))
    for run in runs:
        if len(run) > 1:
            body.append(
                _tag("polyline", points=" ".join(run), fill="none", stroke=SERIES, stroke_width=2)
            )
    body += marks  # after the lines, so that the points and their values sit on top
    if not points:
        body.append(_text((left + right) / 2, (top + bottom) / 2, _("No data"), anchor="middle"))
    return _svg(title, description, said, size=(width, height), body=body, limits=limits)


def band_strip(
    counts: Sequence[tuple[str, str, int, int]], *, title: str, description: str = ""
) -> SafeString:
    """The band counts of a group as one stacked bar, with a legend of every band and its count.

    ``counts`` are (label, code, position, count); bands are drawn best (position 0) first. A band
    counted 0 has no segment but keeps its place in the legend; with no unit at all the bar is
    empty and "0" is written in it.
    """
    width, bar_x, bar_y, bar_height = 640.0, 16.0, 8.0, 28.0
    bar_width = width - 2 * bar_x
    bands = sorted(counts, key=lambda band: band[2])
    total = sum(band[3] for band in bands)
    body: list[str] = []
    x = bar_x
    for label, code, position, count in bands:
        if count <= 0:
            continue
        length = bar_width * count / total
        # A white edge separates neighbouring segments even for readers who cannot tell colours.
        parts = [_rect(x, bar_y, length, bar_height, band_colour(code, position), stroke=PAPER)]
        if length >= 24:  # room for the number; every band colour takes white text at ≥ 4.5:1
            parts.append(_text(x + length / 2, bar_y + 19, str(count), anchor="middle", fill=PAPER))
        body.append(_group("segment", f"{_clean(label)}: {count}", parts))
        x += length
    body.append(_rect(bar_x, bar_y, bar_width, bar_height, "none", stroke=MUTED))
    if not total:
        body.append(_text(width / 2, bar_y + 19, "0", anchor="middle"))

    columns = min(max(len(bands), 1), 5)
    column_width = bar_width / columns
    room = int((column_width - 24) / 6.5)  # characters that fit beside a swatch, roughly
    for i, (label, code, position, count) in enumerate(bands):
        x = bar_x + (i % columns) * column_width
        y = bar_y + bar_height + 14 + (i // columns) * 22
        item = [
            _rect(x, y, 12, 12, band_colour(code, position)),
            _text(x + 18, y + 11, f"{_short(label, max(room - len(str(count)) - 2, 4))}: {count}"),
        ]
        body.append(_group("legend-item", f"{_clean(label)}: {count}", item))
    if not bands:
        body.append(_text(width / 2, bar_y + bar_height + 26, _("No data"), anchor="middle"))
    rows = max(-(-len(bands) // columns), 1)
    said = [f"{_clean(label)}: {count}" for label, _code, _position, count in bands]
    return _svg(
        title, description, said, size=(width, bar_y + bar_height + 14 + rows * 22), body=body
    )


def paired_bars(
    rows: Sequence[tuple[str, Decimal | None, Decimal | None]],
    *,
    title: str,
    description: str = "",
    first_label: str,
    second_label: str,
    max_value: Decimal = Decimal(100),
) -> SafeString:
    """Two thin bars per row (label, first, second), e.g. a unit's field index and the average.

    The first bar is solid blue, the second a grey outline below it: colour, fill and position all
    tell them apart, and a legend names them. Each value is written after its bar; "—" for None.
    """
    bar_width, row, top = 420.0, 34, 34
    outline = {"stroke": MUTED, "stroke_width": 1.5}  # stroke only: no pattern, no CSS
    body = [
        _rect(BAR_START, 8, 14, 10, SERIES),
        _text(BAR_START + 20, 17, _short(first_label, 30)),
        _rect(BAR_START + 220, 8, 14, 10, PAPER, **outline),
        _text(BAR_START + 240, 17, _short(second_label, 30)),
    ]
    said: list[str] = []
    for i, (label, first, second) in enumerate(rows):
        y = top + i * row
        parts = [_text(LABEL_END, y + 18, _short(label, LABEL_CHARS), anchor="end")]
        for offset, value, fill, extra in ((2, first, SERIES, {}), (16, second, PAPER, outline)):
            length = _length(value, max_value, bar_width)
            if value is not None:
                parts.append(_rect(BAR_START, y + offset, length, 10, fill, **extra))
            parts.append(_text(BAR_START + length + 6, y + offset + 9, _num(value), size=10))
        body.append(_group("pair", _clean(label), parts))
        said.append(
            f"{_clean(label)}: {_clean(first_label)} {_said(first)}, "
            f"{_clean(second_label)} {_said(second)}"
        )
    if not rows:
        body.append(_text(WIDE / 2, top + 18, _("No data"), anchor="middle"))
    bottom = top + max(len(rows), 1) * row
    body.append(_line(BAR_START, top, BAR_START, bottom))
    return _svg(title, description, said, size=(WIDE, bottom + 6), body=body)
