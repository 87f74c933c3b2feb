"""The server-drawn charts: HTML text with decorative SVG marks; well-formed, accessible,
escaped, localised, readable on a phone and honest in scale."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal as D

import pytest
from django.utils import translation
from django.utils.safestring import SafeString

from rankings.charts import (
    BAND_COLOURS,
    FALLBACK_COLOURS,
    PAPER,
    Scale,
    band_colour,
    band_strip,
    paired_dots,
    ranking_dots,
    tint,
)
from rankings.language import data_format

SVG = "{http://www.w3.org/2000/svg}"
EVIL = '<script>alert(1)</script> & "Sở"'
WHITE = "#ffffff"


def item(label, value, code="tot", band="Tốt", position=1, href=None):
    return {
        "label": label,
        "value": value,
        "band_code": code,
        "band_label": band,
        "band_position": position,
        "href": href,
    }


BANDS = [
    ("Rất tốt", "rat-tot", 0, 2),
    ("Tốt", "tot", 1, 4),
    ("Khá", "kha", 2, 0),
    ("Trung bình", "trung-binh", 3, 1),
    ("Kém", "kem", 4, 1),
]
# (min_index, label, code, position): the classification, best first.
LIMITS = [
    (D("90.00"), "Rất tốt", "rat-tot", 0),
    (D("80.00"), "Tốt", "tot", 1),
    (D("0.00"), "Kém", "kem", 2),
]

# One call of each chart with the same kind of data, for the checks every chart must pass.
CHARTS = {
    "ranking_dots": lambda label="Sở A", **kw: ranking_dots(
        [item(label, D("95.25"), "rat-tot", "Rất tốt", 0), item("Sở B", D("87.50"))],
        title="Xếp hạng",
        bands=LIMITS,
        **kw,
    ),
    "year_dots": lambda label="Sở A", **kw: ranking_dots(
        [item(2022, D("80.00")), item(2023, None), item(2024, D("91.50"), "rat-tot", label, 0)],
        title=label,
        bands=LIMITS,
        labels_are_data=False,
        **kw,
    ),
    "band_strip": lambda label="Sở A", **kw: band_strip(
        [(label, "rat-tot", 0, 3), ("Tốt", "tot", 1, 5), ("Kém", "kem", 4, 0)],
        title="Phân loại",
        **kw,
    ),
    "paired_dots": lambda label="Sở A", **kw: paired_dots(
        [(label, D("80.00"), D("75.50")), ("Lĩnh vực 2", None, D("60.00"))],
        title="Lĩnh vực",
        first_label="Đơn vị",
        second_label="Trung bình",
        **kw,
    ),
}
EMPTY_CHARTS = {
    "ranking_dots": lambda: ranking_dots([], title="Xếp hạng"),
    "band_strip": lambda: band_strip([], title="Phân loại"),
    "paired_dots": lambda: paired_dots([], title="Lĩnh vực", first_label="A", second_label="B"),
}


def parse(chart) -> ET.Element:
    assert isinstance(chart, SafeString)
    return ET.fromstring(str(chart))


def by_class(element, name, tag=None):
    return [e for e in element.iter(tag) if name in (e.get("class") or "").split()]


BLOCKS = {"figure", "figcaption", "p", "ul", "ol", "li", "div"}


def words(element) -> str:
    """The text a reader sees outside the pictures (SVG titles and texts left out)."""
    parts = []

    def walk(node):
        if node.tag.startswith(SVG):
            parts.append(" ")  # a picture stands between the label and the value
            return
        block = node.tag in BLOCKS or {"dot-label", "dot-value"} & set(
            (node.get("class") or "").split()
        )
        parts.append((" " if block else "") + (node.text or ""))
        for child in node:
            walk(child)
            parts.append(child.tail or "")
        parts.append(" " if block else "")

    walk(element)
    return " ".join("".join(parts).split())


def rows(figure):
    return by_class(figure, "dot-row", "li")


def track(row):
    return next(e for e in row.iter(f"{SVG}svg") if e.get("class") == "track")


def dots(row):
    return [c for c in track(row).iter(f"{SVG}circle")]


def pct(value: str) -> float:
    assert value.endswith("%"), value
    return float(value[:-1])


def luminance(colour: str) -> float:
    channels = [int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(first: str, second: str) -> float:
    """The WCAG 2 contrast ratio of two #rrggbb colours."""
    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


# Every chart: accessible, escaped, never scaled


@pytest.mark.parametrize("name", CHARTS)
def test_every_chart_is_a_figure_labelled_by_its_caption(name):
    figure = parse(CHARTS[name]())
    assert figure.tag == "figure"
    caption = figure.find("figcaption")
    assert caption is not None and "".join(caption.itertext())
    assert figure.get("aria-labelledby") == caption.get("id")


@pytest.mark.parametrize("name", CHARTS)
def test_ids_are_unique_across_two_charts_on_one_page(name):
    ids = [
        element.get("id")
        for chart in (CHARTS[name](), CHARTS[name]())
        for element in parse(chart).iter()
        if element.get("id")
    ]
    assert len(ids) == 2
    assert len(set(ids)) == 2


@pytest.mark.parametrize("name", CHARTS)
def test_no_chart_needs_an_inline_style(name):
    chart = CHARTS[name]()
    figure = parse(chart)
    assert not [element for element in figure.iter() if "style" in element.attrib]
    assert "<style" not in str(chart)


@pytest.mark.parametrize("name", CHARTS)
def test_the_pictures_are_decorative_and_never_scaled(name):
    """No viewBox: an SVG is drawn at its natural size, so its text is never shrunk to fit a
    phone; and every SVG is hidden from screen readers, which read the HTML text instead."""
    svgs = list(parse(CHARTS[name]()).iter(f"{SVG}svg"))
    assert svgs
    for svg in svgs:
        assert svg.get("viewBox") is None
        assert svg.get("aria-hidden") == "true"
    for text in parse(CHARTS[name]()).iter(f"{SVG}text"):
        assert float(text.get("font-size")) >= 12


@pytest.mark.parametrize("name", ["ranking_dots", "year_dots", "paired_dots"])
def test_no_text_is_drawn_where_a_line_could_strike_it(name):
    """Labels and values are HTML beside the track; the tracks carry only zones, lines and
    dots; the axis numbers are in a picture of their own, without lines."""
    figure = parse(CHARTS[name]())
    for svg in figure.iter(f"{SVG}svg"):
        has_lines = list(svg.iter(f"{SVG}line"))
        has_text = list(svg.iter(f"{SVG}text"))
        assert not (has_lines and has_text)
    assert all(not list(track(row).iter(f"{SVG}text")) for row in rows(figure))


@pytest.mark.parametrize("name", CHARTS)
def test_labels_are_escaped_and_read_back_as_written(name):
    chart = CHARTS[name](label=EVIL)
    assert "<script>" not in str(chart)
    assert EVIL in words(parse(chart))


@pytest.mark.parametrize("name", CHARTS)
def test_control_characters_in_a_label_do_not_break_the_xml(name):
    figure = parse(CHARTS[name](label="Sở\x0bA\x00\x1b mới"))
    assert "Sở A mới" in words(figure)


@pytest.mark.parametrize("name", CHARTS)
def test_a_description_is_written_under_the_caption(name):
    figure = parse(CHARTS[name](description="Xem bảng bên dưới."))
    assert by_class(figure, "chart-desc")[0].text == "Xem bảng bên dưới."


@pytest.mark.parametrize("name", EMPTY_CHARTS)
def test_empty_input_says_there_is_no_data(name):
    with translation.override("en"):
        figure = parse(EMPTY_CHARTS[name]())
    assert "No data" in words(figure)


def test_a_title_with_marked_data_keeps_its_mark():
    with translation.override("en"):
        title = data_format("Index of %(unit)s over the years", unit="Sở A & B")
        figure = parse(ranking_dots([item("Sở A", D(90))], title=title))
    caption = figure.find("figcaption")
    assert words(caption) == "Index of Sở A & B over the years"
    assert caption.find("span").get("lang") == "vi"


# Languages


def test_vietnamese_numbers_use_a_decimal_comma():
    with translation.override("vi"):
        figure = parse(CHARTS["ranking_dots"]())
    assert "Sở A 95,25 Rất tốt" in words(figure)
    assert "Rất tốt ≥ 90,00" in words(figure)


def test_english_numbers_use_a_decimal_point():
    with translation.override("en"):
        figure = parse(CHARTS["year_dots"]())
    assert "2022 80.00 Tốt 2023 — 2024 91.50" in words(figure)


def test_data_is_marked_vietnamese_on_an_english_page_only():
    with translation.override("en"):
        english = parse(CHARTS["ranking_dots"]())
    with translation.override("vi"):
        vietnamese = parse(CHARTS["ranking_dots"]())
    marked = {"".join(e.itertext()) for e in english.iter() if e.get("lang") == "vi"}
    assert {"Sở A", "Sở B", "Rất tốt", "Tốt", "Kém"} <= marked
    assert not [e for e in vietnamese.iter() if e.get("lang")]


def test_years_are_not_marked_as_vietnamese():
    with translation.override("en"):
        figure = parse(CHARTS["year_dots"]())
    labels = by_class(figure, "dot-label")
    assert [words(label) for label in labels] == ["2022", "2023", "2024"]
    assert not [e for label in labels for e in label.iter() if e.get("lang")]


def test_coordinates_use_a_point_whatever_the_language():
    with translation.override("vi"):
        figure = parse(CHARTS["ranking_dots"]())
    for rect in figure.iter(f"{SVG}rect"):
        for name in ("x", "width"):
            float(rect.get(name).rstrip("%"))  # "16,5%" would raise


# The scale: honest, without an empty third


def test_the_scale_starts_just_below_the_lowest_value_not_at_zero():
    scale = Scale([D("85.90"), D("96.90"), D("91.40")])
    assert scale.low == 80 and scale.high == 100
    assert scale.ticks == [80, 85, 90, 95, 100]
    # A value just above a round number keeps some room below it.
    assert Scale([D("90.50")]).low == 85


def test_the_scale_reaches_down_to_a_weak_unit():
    scale = Scale([D("47.50"), D("95.00")])
    assert scale.low <= 47.5 and scale.low == 40
    assert scale.ticks[-1] == 100


def test_the_scale_never_goes_below_zero_and_spans_at_least_ten_points():
    assert Scale([D("1.00")]).low == 0
    assert Scale([D("100.00")]).low == 90
    assert Scale([None]).low == 0


def test_dots_are_placed_on_the_scale_in_the_given_order():
    items = [item("A", D("97.50")), item("B", D("85.00")), item("C", D("91.25"))]
    figure = parse(ranking_dots(items, title="T"))
    assert [words(by_class(row, "dot-label")[0]) for row in rows(figure)] == ["A", "B", "C"]
    positions = [pct(dots(row)[0].get("cx")) for row in rows(figure)]
    # The scale is 80–100: 97.50 sits at 87.5 %, 85 at 25 %, 91.25 at 56.25 %.
    assert positions == pytest.approx([87.5, 25.0, 56.25])


def test_the_lowest_unit_is_not_drawn_at_the_left_edge_and_the_axis_says_where_it_starts():
    figure = parse(ranking_dots([item("A", D("85.90")), item("B", D("96.90"))], title="T"))
    lowest = pct(dots(rows(figure)[0])[0].get("cx"))
    assert 0 < lowest < 50
    axis = next(svg for svg in figure.iter(f"{SVG}svg") if svg.get("class") == "axis")
    assert [t.text for t in axis.iter(f"{SVG}text")][0] == "80"


def test_a_missing_value_has_no_dot_and_is_written_as_a_dash():
    figure = parse(CHARTS["year_dots"]())
    missing = rows(figure)[1]
    assert not dots(missing)
    assert "—" in words(missing)


def test_a_long_axis_is_repeated_below_the_last_row():
    many = [item(f"Xã {i}", D(80 + i % 20)) for i in range(30)]
    figure = parse(ranking_dots(many, title="T"))
    assert len(by_class(figure, "dot-axis")) == 2
    assert len(by_class(parse(CHARTS["ranking_dots"]()), "dot-axis")) == 1


# Band zones and the legend


def test_each_band_in_view_is_a_zone_of_its_own_tint_with_a_dashed_limit():
    figure = parse(
        ranking_dots([item("A", D("85.00")), item("B", D("95.00"))], title="T", bands=LIMITS)
    )
    zones = by_class(track(rows(figure)[0]), "zone")
    # Scale 80–100: Tốt from 80 to 90 (0–50 %), Rất tốt from 90 to 100 (50–100 %); Kém is out
    # of view.
    assert [(pct(z.get("x")), pct(z.get("width")), z.get("fill")) for z in zones] == [
        (0.0, 50.0, tint(BAND_COLOURS["tot"])),
        (50.0, 50.0, tint(BAND_COLOURS["rat-tot"])),
    ]
    dashed = [
        line for line in track(rows(figure)[0]).iter(f"{SVG}line") if line.get("stroke-dasharray")
    ]
    assert [pct(line.get("x1")) for line in dashed] == [50.0]


def test_the_legend_names_every_band_with_its_limit_best_first():
    with translation.override("en"):
        figure = parse(CHARTS["ranking_dots"]())
    legend = figure.find("ul")
    assert [words(entry) for entry in legend] == ["Rất tốt ≥ 90.00", "Tốt ≥ 80.00", "Kém"]


def test_a_dot_has_its_bands_colour_and_stands_out_on_its_zone():
    figure = parse(CHARTS["ranking_dots"]())
    assert dots(rows(figure)[0])[0].get("fill") == BAND_COLOURS["rat-tot"]
    for code, colour in BAND_COLOURS.items():
        assert contrast(colour, tint(colour)) >= 3, code


def test_a_row_links_to_its_unit():
    figure = parse(ranking_dots([item("Sở A", D(90), href="/units/so-a/")], title="T"))
    link = by_class(figure, "dot-label")[0].find("a")
    assert link.get("href") == "/units/so-a/" and words(link) == "Sở A"


def test_a_province_band_is_drawn_in_a_fallback_colour():
    figure = parse(ranking_dots([item("Sở A", D(70), "dat", "Đạt", 1)], title="T"))
    assert dots(rows(figure)[0])[0].get("fill") == FALLBACK_COLOURS[1]


# Colours


def test_default_bands_have_their_own_colours():
    assert set(BAND_COLOURS) == {"rat-tot", "tot", "kha", "trung-binh", "kem"}
    assert len(set(BAND_COLOURS.values())) == 5
    assert band_colour("kem", 0) == BAND_COLOURS["kem"]


def test_unknown_band_codes_get_a_fallback_colour_by_position():
    colours = [band_colour("xuat-sac", position) for position in range(3)]
    assert colours == list(FALLBACK_COLOURS[:3])
    assert not set(colours) & set(BAND_COLOURS.values())
    assert band_colour("", 99) in FALLBACK_COLOURS


@pytest.mark.parametrize("colour", [*BAND_COLOURS.values(), *FALLBACK_COLOURS])
def test_every_band_colour_takes_white_text_and_stands_out_on_white(colour):
    assert contrast(colour, WHITE) >= 4.5


# band_strip


def test_each_band_with_units_is_a_segment_as_wide_as_its_count():
    figure = parse(band_strip(BANDS, title="T"))
    segments = by_class(figure, "segment")
    assert [s.find(f"{SVG}title").text for s in segments] == [
        "Rất tốt: 2",
        "Tốt: 4",
        "Trung bình: 1",
        "Kém: 1",
    ]
    widths = [pct(s.find(f"{SVG}rect").get("width")) for s in segments]
    assert widths == pytest.approx([25, 50, 12.5, 12.5])
    starts = [pct(s.find(f"{SVG}rect").get("x")) for s in segments]
    assert starts == pytest.approx([0, 25, 75, 87.5])


def test_counts_are_written_in_wide_segments_white_on_colour_at_a_readable_size():
    figure = parse(
        band_strip(
            [("Rất tốt", "rat-tot", 0, 8), ("Tốt", "tot", 1, 10), ("Khá", "kha", 2, 1)], title="T"
        )
    )
    written = {}
    for segment in by_class(figure, "segment"):
        text = segment.find(f"{SVG}text")
        if text is not None:
            fill = segment.find(f"{SVG}rect").get("fill")
            assert text.get("fill") == PAPER and contrast(PAPER, fill) >= 4.5
            assert float(text.get("font-size")) >= 12
            written[segment.find(f"{SVG}title").text] = text.text
    # 1 of 19 is about 5 % of the bar: too narrow for its number, which the legend gives.
    assert written == {"Rất tốt: 8": "8", "Tốt: 10": "10"}


def test_the_legend_lists_every_band_with_its_count_even_zero():
    figure = parse(band_strip(BANDS, title="T"))
    legend = figure.find("ul")
    assert [words(entry) for entry in legend] == [
        "Rất tốt: 2",
        "Tốt: 4",
        "Khá: 0",
        "Trung bình: 1",
        "Kém: 1",
    ]
    swatches = [entry.find(f"{SVG}svg").find(f"{SVG}rect").get("fill") for entry in legend]
    assert swatches == [BAND_COLOURS[code] for _label, code, _position, _count in BANDS]


def test_bands_are_drawn_best_first_whatever_the_order_given():
    figure = parse(band_strip(list(reversed(BANDS)), title="T"))
    assert words(figure.find("ul")[0]) == "Rất tốt: 2"


def test_a_group_without_units_is_an_empty_bar_with_its_legend_of_zeros():
    figure = parse(band_strip([(label, code, pos, 0) for label, code, pos, _ in BANDS], title="T"))
    assert not by_class(figure, "segment")
    assert [words(entry)[-1] for entry in figure.find("ul")] == ["0"] * 5


def test_unknown_bands_in_the_strip_get_fallback_colours():
    figure = parse(band_strip([("Đạt", "dat", 0, 3), ("Chưa đạt", "chua-dat", 1, 1)], title="T"))
    fills = [s.find(f"{SVG}rect").get("fill") for s in by_class(figure, "segment")]
    assert fills == list(FALLBACK_COLOURS[:2])


def test_the_strip_caption_is_kept_for_screen_readers():
    figure = parse(band_strip(BANDS, title="Phân loại khối sở"))
    caption = figure.find("figcaption")
    assert caption.text == "Phân loại khối sở" and caption.get("class") == "visually-hidden"


# paired_dots


def test_each_row_has_a_solid_dot_and_a_hollow_ring_named_in_the_legend():
    with translation.override("vi"):
        figure = parse(CHARTS["paired_dots"]())
    assert [words(entry) for entry in figure.find("ul")] == ["Đơn vị", "Trung bình"]
    ring, dot = dots(rows(figure)[0])  # the ring first, so that the dot is drawn over it
    assert dot.get("fill") != WHITE
    assert ring.get("fill") == WHITE and ring.get("stroke")
    # Scale 50–100 (the lowest value is 60): 80 at 60 %, 75.50 at 51 %.
    assert pct(dot.get("cx")) == pytest.approx(60)
    assert pct(ring.get("cx")) == pytest.approx(51)
    assert words(rows(figure)[0]) == "Sở A 80,00 (75,50)"


def test_a_missing_value_of_a_pair_has_no_mark_and_is_written_as_a_dash():
    with translation.override("en"):
        figure = parse(CHARTS["paired_dots"]())
    row = rows(figure)[1]
    assert len(dots(row)) == 1
    assert words(row) == "Lĩnh vực 2 — (60.00)"


@pytest.mark.django_db
def test_a_page_built_again_has_the_same_chart_ids(client, run, write):
    """The ids are numbered in each request: a page built twice is the same bytes (its ETag
    promises it), whatever was built in between."""
    from django.core.cache import cache

    from tests.factories import load_small_province

    load_small_province(run, write)
    client.cookies["django_language"] = "vi"
    first = client.get("/rankings/2023/departments/").content
    cache.clear()
    client.get("/units/so-a/")  # other charts built in the same process in between
    cache.clear()
    assert client.get("/rankings/2023/departments/").content == first
    assert b'id="chart-1-title"' in first
