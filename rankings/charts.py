"""Charts drawn on the server as HTML with small inline SVG marks: dots against band zones, the
band counts of a group.

Public pages must work without JavaScript, print on A4, load nothing from the internet, meet
WCAG AA and be read on a 390 px phone. So every text of a chart is HTML text (the page's font
size, never scaled down with a picture), and the SVGs carry only marks: zones, gridlines and
dots, placed in percentages of their width, without a ``viewBox``, so that they stretch with the
page and a dot stays round. An axis' numbers are SVG text at their natural size (14 px).

Why dots: the indices of a group sit within a few points of each other (85–98), so bars from 0
would spend most of their length on nothing and hide the differences. A dot on a scale from just
below the lowest value to 100, over the band zones, shows the differences honestly and the band
each unit falls in; the scale's start is written on the axis.

Every value is written beside its mark (colour is never the only signal); the chart is a
``<figure>`` whose ``<figcaption>`` names it, rows are list items a screen reader reads in order,
and the SVGs are decorative (``aria-hidden``). Only presentation attributes are used: the pages'
Content-Security-Policy forbids inline styles.

Labels are data (unit names come from import files) and are always escaped, and marked
``lang="vi"`` on a page in another language. Numbers are ``Decimal``, shown with
``number_format`` so the active language picks the decimal separator; they become floats only to
place marks.
"""

from __future__ import annotations

import contextvars
import math
import unicodedata
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from django.core.signals import request_started
from django.dispatch import receiver
from django.utils.formats import number_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from . import language
from .markup import format_html, format_html_join

INK = "#1a1a1a"  # 17:1 on white
MUTED = "#595959"  # 7:1 on white: axes, limit lines, the second series
GRID = "#bfbfbf"
PAPER = "#ffffff"
SERIES = "#1f4e79"
EMPTY = "—"
HUNDRED = Decimal(100)

# Every fill has at least 4.5:1 against white, so white text may be written on it and the marks
# pass WCAG's 3:1 for graphics on a white page (and on their own zone's light tint).
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

TRACK_HEIGHT = 24  # px: a dot of radius 7 with its white ring
AXIS_HEIGHT = 20
AXIS_FONT = 14  # px, never scaled: the SVGs have no viewBox
REPEAT_AXIS_AFTER = 15  # a long chart repeats its axis below the last row

_CONTROL = dict.fromkeys(code for code in range(32))

# Chart ids are numbered from 1 in each request: unique when a page shows several charts, and
# the same whenever the page is built again (a number counted over the process's life gave
# the page other bytes at each build, under the same ETag).
_last_id = contextvars.ContextVar("cchc_chart_id", default=0)


def _next_id() -> int:
    number = _last_id.get() + 1
    _last_id.set(number)
    return number


@receiver(request_started)
def _number_from_one(**kwargs) -> None:
    _last_id.set(0)


def band_colour(code: str, position: int) -> str:
    """The colour of a default band by its code, else a fallback colour by position (0 = best)."""
    if code in BAND_COLOURS:
        return BAND_COLOURS[code]
    return FALLBACK_COLOURS[max(position, 0) % len(FALLBACK_COLOURS)]


def tint(colour: str, strength: float = 0.16) -> str:
    """A light tint of ``colour`` (mixed with white): the ground of a band's zone."""
    channels = [int(colour.lstrip("#")[i : i + 2], 16) for i in (0, 2, 4)]
    return "#" + "".join(f"{round(255 - (255 - c) * strength):02x}" for c in channels)


def _clean(text: Any) -> str:
    """One line of NFC text without control characters, which XML forbids."""
    return " ".join(unicodedata.normalize("NFC", str(text)).split()).translate(_CONTROL)


def _num(value: Decimal | None) -> str:
    return EMPTY if value is None else number_format(value, 2)


def _pct(x: float) -> str:
    """A position in percent of the width, with at most two decimals and a point."""
    text = f"{x:.2f}".rstrip("0").rstrip(".")
    return ("0" if text in ("", "-0") else text) + "%"


def _field(item: Any, name: str, default: Any = None) -> Any:
    # Pages pass dicts or objects (dataclasses, named tuples); both read the same.
    if isinstance(item, Mapping):
        return item.get(name, default)
    return getattr(item, name, default)


def _tag(name: str, content: str | None = None, **attrs: Any) -> str:
    """One element, values escaped; ``text_anchor=`` is ``text-anchor``, ``class_=`` ``class``."""
    pairs = format_html_join(
        "",
        ' {}="{}"',
        ((key.rstrip("_").replace("_", "-"), value) for key, value in attrs.items()),
    )
    if content is None:
        return format_html("<{}{}/>", name, pairs)
    return format_html("<{0}{1}>{2}</{0}>", name, pairs, content)


def data_text(text: Any, tag: str = "span", **attrs: Any) -> str:
    """Text that is data (a unit name, a band label), cleaned, marked Vietnamese on a page in
    another language."""
    return language.data_text(_clean(text), tag, **attrs)


def _svg(parts: Sequence[str], *, height: int, kind: str) -> str:
    """A decorative SVG as wide as its box: no viewBox, coordinates in percent, nothing
    scaled."""
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="{}" width="100%" height="{}"'
        ' aria-hidden="true" focusable="false" overflow="visible">{}</svg>',
        kind,
        height,
        mark_safe("".join(parts)),
    )


# The scale --------------------------------------------------------------------------------------


class Scale:
    """From ``low`` to 100: a few points below the lowest value, a round number, and never a range
    under 10 points, so that neighbouring units stay apart and the start is written on the
    axis."""

    def __init__(self, values: Sequence[Decimal | None], *, floor: Decimal | None = None):
        present = [float(v) for v in values if v is not None]
        lowest = min(present, default=float(floor) if floor is not None else 0.0)
        step = 5 if lowest >= 70 else 10
        low = math.floor((lowest - 2) / step) * step
        self.low = float(max(0, min(low, 90)))
        self.high = 100.0
        span = self.high - self.low
        self.step = 5 if span <= 30 else 10 if span <= 60 else 20
        self.ticks = [self.low + i * self.step for i in range(int(span // self.step) + 1)] + (
            [self.high] if span % self.step else []
        )

    def x(self, value: Decimal | float) -> float:
        """The position of ``value`` in percent of the track, clamped to the scale."""
        ratio = (float(value) - self.low) / (self.high - self.low)
        return min(max(ratio, 0.0), 1.0) * 100


def _zones(scale: Scale, limits: Sequence[tuple[Decimal, str, str, int]]) -> list[str]:
    """The band zones on a track: each band's tint from its lower limit (or the start of the
    scale) to the next band's; a dashed line at each limit. ``limits`` are (min, label, code,
    position)."""
    parts: list[str] = []
    ordered = sorted(limits, key=lambda limit: limit[0])
    for i, (minimum, _label, code, position) in enumerate(ordered):
        upper = ordered[i + 1][0] if i + 1 < len(ordered) else HUNDRED
        start, end = scale.x(minimum), scale.x(upper)
        if i + 1 == len(ordered):
            end = 100.0
        if end <= start:
            continue
        parts.append(
            _tag(
                "rect",
                class_="zone",
                x=_pct(start),
                y=0,
                width=_pct(end - start),
                height="100%",
                fill=tint(band_colour(code, position)),
            )
        )
    return parts


def _grid(scale: Scale, limits: Sequence[tuple[Decimal, str, str, int]]) -> list[str]:
    parts = [
        _tag("line", x1=_pct(scale.x(t)), x2=_pct(scale.x(t)), y1=0, y2="100%", stroke=GRID)
        for t in scale.ticks
    ]
    for minimum, *_rest in limits:
        if scale.low < float(minimum) < scale.high:
            x = _pct(scale.x(minimum))
            parts.append(
                _tag("line", x1=x, x2=x, y1=0, y2="100%", stroke=MUTED, stroke_dasharray="4 3")
            )
    return parts


def _axis(scale: Scale) -> str:
    """The scale's numbers, in a row laid out like the chart's rows (label, track, value)."""
    texts = []
    for tick in scale.ticks:
        anchor = "start" if tick == scale.low else "end" if tick == scale.high else "middle"
        texts.append(
            _tag(
                "text",
                number_format(Decimal(tick), 0),
                x=_pct(scale.x(tick)),
                y=15,
                text_anchor=anchor,
                fill=MUTED,
                font_size=AXIS_FONT,
            )
        )
    return format_html(
        '<div class="dot-row dot-axis" aria-hidden="true"><span></span>{}<span></span></div>',
        mark_safe(_svg(texts, height=AXIS_HEIGHT, kind="axis")),
    )


def _dot(x: float, fill: str, *, hollow: bool = False) -> str:
    if hollow:
        return _tag("circle", cx=_pct(x), cy="50%", r=5, fill=PAPER, stroke=MUTED, stroke_width=2.5)
    return _tag("circle", cx=_pct(x), cy="50%", r=7, fill=fill, stroke=PAPER, stroke_width=2)


def _figure(
    kind: str,
    title: str,
    description: str,
    body: Sequence[str],
    *,
    legend: Sequence[str] = (),
    legend_after: bool = False,
    caption_hidden: bool = False,
) -> SafeString:
    uid = f"chart-{_next_id()}"
    caption = _tag(
        "figcaption",
        title if isinstance(title, SafeString) else _clean(title),
        id=f"{uid}-title",
        **({"class_": "visually-hidden"} if caption_hidden else {}),
    )
    desc = _tag("p", _clean(description), class_="chart-desc") if description else ""
    items = format_html_join("", "<li>{}</li>", ((mark_safe(entry),) for entry in legend))
    legend_html = format_html('<ul class="chart-legend">{}</ul>', items) if legend else ""
    # Every part was built by format_html from escaped arguments.
    return mark_safe(
        format_html(
            '<figure class="chart-figure {}" aria-labelledby="{}-title">',
            kind,
            uid,
        )
        + caption
        + desc
        + ("" if legend_after else legend_html)
        + "".join(body)
        + (legend_html if legend_after else "")
        + "</figure>"
    )


def _swatch(fill: str, *, hollow: bool = False, round_: bool = False) -> str:
    if round_:
        mark = (
            _tag("circle", cx=7, cy=7, r=5, fill=PAPER, stroke=MUTED, stroke_width=2.5)
            if hollow
            else _tag("circle", cx=7, cy=7, r=6, fill=fill)
        )
    else:
        mark = _tag("rect", x=0, y=0, width=14, height=14, fill=fill, stroke=MUTED)
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" class="swatch" width="14" height="14"'
        ' aria-hidden="true" focusable="false">{}</svg>',
        mark_safe(mark),
    )


def _band_legend(limits: Sequence[tuple[Decimal, str, str, int]]) -> list[str]:
    """One entry per band, best first: its zone's tint and "label ≥ limit"."""
    return [
        _swatch(tint(band_colour(code, position)))
        + format_html(
            "<span>{}{}</span>",
            data_text(label),
            format_html(" ≥ {}", number_format(minimum, 2)) if minimum > 0 else "",
        )
        for minimum, label, code, position in sorted(limits, key=lambda limit: -limit[0])
    ]


def _label(item: Any, *, lang_data: bool) -> str:
    label = _clean(_field(item, "label"))
    href = _field(item, "href")
    inner = data_text(label) if lang_data else _tag("span", label)
    if href:
        inner = format_html('<a href="{}">{}</a>', href, mark_safe(inner))
    return format_html('<span class="dot-label">{}</span>', mark_safe(inner))


def _rows(rows: Sequence[str], scale: Scale) -> list[str]:
    body = [_axis(scale), format_html('<ol class="dot-rows">{}</ol>', mark_safe("".join(rows)))]
    if len(rows) > REPEAT_AXIS_AFTER:
        body.append(_axis(scale))
    return body


def _no_data() -> str:
    return _tag("p", _("No data"), class_="chart-empty")


# The charts -------------------------------------------------------------------------------------


def ranking_dots(
    items: Sequence[Any],
    *,
    title: str,
    description: str = "",
    bands: Sequence[tuple[Decimal, str, str, int]] = (),
    labels_are_data: bool = True,
    caption_hidden: bool = False,
) -> SafeString:
    """A dot per item, in the given order, on a scale from just below the lowest value to 100,
    over the band zones; the value and the band written after each dot.

    ``items`` are mappings or objects with ``label``, ``value`` (Decimal or None), and optionally
    ``band_code``, ``band_label``, ``band_position`` (0 = best band) and ``href`` (the label
    links to it). ``bands`` are (min_index, label, code, position): the zones and the legend.
    Labels are data (``lang="vi"`` on an English page) unless ``labels_are_data`` is false
    (years).
    """
    if not items:
        return _figure("dots", title, description, [_no_data()], caption_hidden=caption_hidden)
    scale = Scale([_field(item, "value") for item in items])
    ground = _zones(scale, bands) + _grid(scale, bands)
    rows = []
    for item in items:
        value = _field(item, "value")
        code, position = _field(item, "band_code", ""), _field(item, "band_position", 0) or 0
        marks = list(ground)
        if value is not None:
            marks.append(_dot(scale.x(value), band_colour(code or "", position)))
        band = (_field(item, "band_label") or "") if value is not None else ""
        after = _tag("span", _num(value), class_="num")
        if band:
            after += " " + data_text(band, class_="dot-band")
        rows.append(
            format_html(
                '<li class="dot-row">{}{}<span class="dot-value">{}</span></li>',
                mark_safe(_label(item, lang_data=labels_are_data)),
                mark_safe(_svg(marks, height=TRACK_HEIGHT, kind="track")),
                mark_safe(after),
            )
        )
    return _figure(
        "dots" if labels_are_data else "dots short",
        title,
        description,
        _rows(rows, scale),
        legend=_band_legend(bands),
        caption_hidden=caption_hidden,
    )


def paired_dots(
    rows: Sequence[tuple[str, Decimal | None, Decimal | None]],
    *,
    title: str,
    description: str = "",
    first_label: str,
    second_label: str,
) -> SafeString:
    """Two marks per row (label, first, second), e.g. a unit's field index (a solid dot) and the
    group's average (a hollow ring), on one scale; both values written after them, "—" for
    None. A legend names the two marks (shape and fill tell them apart, not only colour)."""
    if not rows:
        return _figure("dots paired", title, description, [_no_data()])
    scale = Scale([value for _label, *values in rows for value in values])
    ground = _grid(scale, ())
    lines = []
    for label, first, second in rows:
        marks = list(ground)
        if second is not None:
            marks.append(_dot(scale.x(second), MUTED, hollow=True))
        if first is not None:
            marks.append(_dot(scale.x(first), SERIES))
        lines.append(
            format_html(
                '<li class="dot-row">{}{}<span class="dot-value"><span class="num">{}</span>'
                ' <span class="num second">({})</span></span></li>',
                mark_safe(_label({"label": label}, lang_data=True)),
                mark_safe(_svg(marks, height=TRACK_HEIGHT, kind="track")),
                _num(first),
                _num(second),
            )
        )
    legend = [
        _swatch(SERIES, round_=True) + data_text(first_label),
        _swatch(MUTED, round_=True, hollow=True) + _tag("span", _clean(second_label)),
    ]
    return _figure("dots paired", title, description, _rows(lines, scale), legend=legend)


def band_strip(
    counts: Sequence[tuple[str, str, int, int]], *, title: str, description: str = ""
) -> SafeString:
    """The band counts of a group as one stacked bar, with a legend of every band and its count.

    ``counts`` are (label, code, position, count); bands are drawn best (position 0) first. A band
    counted 0 has no segment but keeps its place in the legend. A segment at least an eighth of
    the bar wide has its count written in it (14 px, white on the band's colour); the legend
    always has it.
    """
    bands = sorted(counts, key=lambda band: band[2])
    total = sum(band[3] for band in bands)
    parts: list[str] = []
    x = 0.0
    for label, code, position, count in bands:
        if count <= 0:
            continue
        width = 100 * count / total
        colour = band_colour(code, position)
        # A white edge separates neighbouring segments even for readers who cannot tell colours.
        parts.append(
            format_html(
                '<g class="segment"><title{}>{}</title>{}{}</g>',
                "" if language.page_is_vietnamese() else mark_safe(' lang="vi"'),
                f"{_clean(label)}: {count}",
                mark_safe(
                    _tag(
                        "rect",
                        x=_pct(x),
                        y=0,
                        width=_pct(width),
                        height="100%",
                        fill=colour,
                        stroke=PAPER,
                        stroke_width=2,
                    )
                ),
                mark_safe(
                    _tag(
                        "text",
                        str(count),
                        x=_pct(x + width / 2),
                        y=21,
                        text_anchor="middle",
                        fill=PAPER,
                        font_size=AXIS_FONT,
                        font_weight="bold",
                    )
                    if width >= 12.5
                    else ""
                ),
            )
        )
        x += width
    if not total:
        parts.append(_tag("rect", x=0, y=0, width="100%", height="100%", fill=PAPER, stroke=MUTED))
    legend = [
        _swatch(band_colour(code, position))
        + format_html('<span>{}: <strong class="num">{}</strong></span>', data_text(label), count)
        for label, code, position, count in bands
    ]
    body = [_svg(parts, height=32, kind="strip")] if bands else [_no_data()]
    return _figure(
        "strip", title, description, body, legend=legend, legend_after=True, caption_hidden=True
    )
