"""Images of a publication for other sites: a unit's embeddable SVG badge (its words and size;
the markup is ``templates/rankings/badge.svg``) and the 1200×630 PNG link previews (Open Graph
images must be PNG or JPEG: most services ignore SVG).

The PNGs are drawn with Pillow (which fpdf2, the decision's PDF library, needs anyway) and the
Noto Serif shipped in ``rankings/fonts/``: no font is looked up on the machine, none is fetched.
"""

from __future__ import annotations

import io
import unicodedata
from functools import cache

from django.utils.translation import gettext as _

from .decision import FONT_FILES, FONTS
from .tables import decimal_text

WIDTH, HEIGHT = 1200, 630
# The band colours of the site's style sheet (static/css/cchc.css), dark enough for white text.
BAND_COLOURS = {
    "rat-tot": "#14532d",
    "tot": "#166534",
    "kha": "#7a5200",
    "trung-binh": "#9a3412",
    "kem": "#991b1b",
}
NEUTRAL = "#1f2937"
INK = "#111827"
MUTED = "#4b5563"
PAPER = "#ffffff"
ACCENT = "#1d4ed8"


def band_colour(code: str) -> str:
    return BAND_COLOURS.get(code, NEUTRAL)


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# A result's figures ----------------------------------------------------------------------------


def figures(result) -> dict:
    """What the badge, the preview images and the link descriptions say of a published result,
    in the reader's language: ``index`` (half-up to two decimals), ``band``, ``rank``, ``total``
    (units ranked), ``rank_of`` ("rank 3 of 15") and ``line`` ("95.40 · Rất tốt · rank 3 of
    15")."""
    publication = result.publication
    parts = {
        "index": decimal_text(result.index),
        "band": result.band_label,
        "rank": result.rank,
        "total": publication.unit_count,
    }
    parts["rank_of"] = _("rank %(rank)s of %(total)s") % parts
    parts["line"] = _("%(index)s · %(band)s · rank %(rank)s of %(total)s") % parts
    return parts


def description(result) -> str:
    """A result in one sentence, for link previews and page descriptions: "Sở Nội vụ: index
    95.40, Rất tốt, rank 3 of 15 in Sở, ban, ngành, 2025."."""
    publication = result.publication
    return _(
        "%(unit)s: index %(index)s, %(band)s, rank %(rank)s of %(total)s in %(group)s, %(year)s."
    ) % {
        **figures(result),
        "unit": result.unit_name,
        "group": publication.group_name,
        "year": publication.year,
    }


# The badge ------------------------------------------------------------------------------------


def badge_context(result, province_name: str) -> dict:
    """The badge's lines and its size (the width follows the longest line: an estimate from
    the character count, the text has ``textLength`` only where it could overflow)."""
    publication = result.publication
    title = _("Administrative reform index %(year)s · %(province)s") % {
        "year": publication.year,
        "province": province_name,
    }
    name = _shorten(result.unit_name, 48)
    line = figures(result)["line"]
    width = int(max(len(title) * 6.6, len(name) * 8.4, len(line) * 8.2)) + 34
    width = max(220, min(width, 560))
    return {
        "result": result,
        "title": title,
        "name": name,
        "figures": line,
        "width": width,
        "height": 74,
        "text_width": width - 30,
        "colour": band_colour(result.band_code),
        "label": f"{result.unit_name}: {line} ({title})",
    }


# The PNG cards --------------------------------------------------------------------------------


# The faces the cards are drawn in (style, pixel size): ``rankings.warm`` opens them all once.
FACES = (
    ("B", 30),
    ("B", 44),
    ("B", 54),
    ("B", 66),
    ("B", 150),
    ("", 32),
    ("", 40),
    ("", 44),
    ("I", 32),
)


@cache
def _font(style: str, size: int):
    from PIL import ImageFont

    return ImageFont.truetype(str(FONTS / FONT_FILES[style]), size)


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _wrap(draw, text: str, font, width: int, lines: int) -> list[str]:
    """``text`` broken into at most ``lines`` lines of ``width`` pixels (the last one shortened
    with … when it does not fit)."""
    words, out, current = _nfc(text).split(), [], ""
    for word in words:
        candidate = f"{current} {word}".strip()
        if draw.textlength(candidate, font=font) <= width or not current:
            current = candidate
        else:
            out.append(current)
            current = word
    out.append(current)
    if len(out) > lines:
        out = out[:lines]
        last = out[-1]
        while last and draw.textlength(last + "…", font=font) > width:
            last = last[:-1]
        out[-1] = last.rstrip() + "…"
    return out


def _canvas(header: str):
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (WIDTH, HEIGHT), PAPER)
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, WIDTH, 96), fill=NEUTRAL)
    draw.text((60, 48), _nfc(header.upper()), font=_font("B", 30), fill=PAPER, anchor="lm")
    draw.rectangle((0, HEIGHT - 12, WIDTH, HEIGHT), fill=ACCENT)
    return image, draw


def _png(image) -> bytes:
    """The image as PNG at zlib's fastest level: 12 ms and about 32 kB for a card, where
    ``optimize`` took 47 ms (four fifths of a card's build) for 15 kB. The card is built once
    per publication and served as stored."""
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=1)
    return out.getvalue()


def unit_png(result, province: str) -> bytes:
    """A unit's preview: its name, the index, the band (a coloured label), rank of N, the
    change from last year, the group and the year."""
    publication = result.publication
    image, draw = _canvas(
        _("Administrative reform index %(year)s · %(province)s")
        % {"year": publication.year, "province": province}
    )
    y = 130
    for line in _wrap(draw, result.unit_name, _font("B", 54), WIDTH - 120, 2):
        draw.text((60, y), line, font=_font("B", 54), fill=INK)
        y += 70
    y = max(y + 10, 250)
    shown = figures(result)
    index = shown["index"]
    draw.text((60, y), index, font=_font("B", 150), fill=INK)
    right = 60 + draw.textlength(index, font=_font("B", 150)) + 50
    band = _nfc(result.band_label or "—")
    band_font = _font("B", 44)
    box_width = draw.textlength(band, font=band_font) + 56
    draw.rounded_rectangle(
        (right, y + 30, right + box_width, y + 104), radius=14, fill=band_colour(result.band_code)
    )
    draw.text((right + 28, y + 67), band, font=band_font, fill=PAPER, anchor="lm")
    draw.text((right, y + 130), _nfc(shown["rank_of"]), font=_font("", 40), fill=INK)
    footer = [_nfc(publication.group_name)]
    if result.change is not None:
        sign = "+" if result.change > 0 else "−" if result.change < 0 else "±"
        footer.append(
            _("%(change)s on %(year)s")
            % {"change": sign + decimal_text(abs(result.change)), "year": publication.year - 1}
        )
    draw.text((60, HEIGHT - 70), " · ".join(footer), font=_font("", 32), fill=MUTED)
    return _png(image)


def site_png(publications, province: str) -> bytes:
    """The site's preview: the province, the latest published year, each group's average."""
    image, draw = _canvas(province)
    draw.text((60, 140), _("Administrative reform index"), font=_font("B", 66), fill=INK)
    if publications:
        year = publications[0].year
        draw.text(
            (60, 230),
            _("Published results %(year)s") % {"year": year},
            font=_font("", 44),
            fill=MUTED,
        )
        y = 320
        for publication in publications[:4]:
            line = _("%(group)s: average %(index)s, %(count)s units") % {
                "group": _nfc(publication.group_name),
                "index": decimal_text(publication.average_index),
                "count": publication.unit_count,
            }
            draw.text((60, y), line, font=_font("", 40), fill=INK)
            y += 60
    draw.text(
        (60, HEIGHT - 70),
        _("Rankings, bands and every criterion of every unit"),
        font=_font("I", 32),
        fill=MUTED,
    )
    return _png(image)
