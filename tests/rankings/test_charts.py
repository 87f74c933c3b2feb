"""The server-drawn SVG charts: well-formed, accessible, escaped, localised and to scale."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal as D

import pytest
from django.utils import translation
from django.utils.safestring import SafeString

from rankings.charts import (
    BAND_COLOURS,
    FALLBACK_COLOURS,
    band_colour,
    band_strip,
    index_line,
    paired_bars,
    ranking_bars,
)

NS = "{http://www.w3.org/2000/svg}"
EVIL = '<script>alert(1)</script> & "Sở"'
WHITE = "#ffffff"


def item(label, value, code="tot", band="Tốt", position=1):
    return {
        "label": label,
        "value": value,
        "band_code": code,
        "band_label": band,
        "band_position": position,
    }


BANDS = [
    ("Rất tốt", "rat-tot", 0, 2),
    ("Tốt", "tot", 1, 4),
    ("Khá", "kha", 2, 0),
    ("Trung bình", "trung-binh", 3, 1),
    ("Kém", "kem", 4, 1),
]

# One call of each chart with the same kind of data, for the checks every chart must pass.
CHARTS = {
    "ranking_bars": lambda label="Sở A", **kw: ranking_bars(
        [item(label, D("95.25"), "rat-tot", "Rất tốt", 0), item("Sở B", D("47.50"))],
        title="Xếp hạng",
        limits=[(D("90.00"), "Rất tốt"), (D("80.00"), "Tốt")],
        **kw,
    ),
    "index_line": lambda label="Sở A", **kw: index_line(
        [(2022, D("80.00")), (2023, None), (2024, D("91.50"))],
        title=label,
        limits=[(D("90.00"), label)],
        **kw,
    ),
    "band_strip": lambda label="Sở A", **kw: band_strip(
        [(label, "rat-tot", 0, 3), ("Tốt", "tot", 1, 5), ("Kém", "kem", 4, 0)],
        title="Phân loại",
        **kw,
    ),
    "paired_bars": lambda label="Sở A", **kw: paired_bars(
        [(label, D("80.00"), D("75.50")), ("Lĩnh vực 2", None, D("60.00"))],
        title="Lĩnh vực",
        first_label="Đơn vị",
        second_label="Trung bình",
        **kw,
    ),
}
EMPTY_CHARTS = {
    "ranking_bars": lambda: ranking_bars([], title="Xếp hạng"),
    "index_line": lambda: index_line([], title="Chỉ số"),
    "band_strip": lambda: band_strip([], title="Phân loại"),
    "paired_bars": lambda: paired_bars([], title="Lĩnh vực", first_label="A", second_label="B"),
}


def parse(chart) -> ET.Element:
    assert isinstance(chart, SafeString)
    return ET.fromstring(str(chart))


def marks(svg, kind):
    return [g for g in svg.iter(f"{NS}g") if g.get("class") == kind]


def texts(element) -> list[str]:
    return ["".join(text.itertext()) for text in element.iter(f"{NS}text")]


def tooltip(group) -> str:
    return group.find(f"{NS}title").text


def luminance(colour: str) -> float:
    channels = [int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    r, g, b = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(first: str, second: str) -> float:
    """The WCAG 2 contrast ratio of two #rrggbb colours."""
    light, dark = sorted((luminance(first), luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def text_on_ground(svg):
    """Each text with its colour and the fill of the last rectangle painted under it."""
    painted = []
    for element in svg.iter():  # document order is painting order
        if element.tag == f"{NS}rect" and element.get("fill", "none") != "none":
            box = [float(element.get(name)) for name in ("x", "y", "width", "height")]
            painted.append((*box, element.get("fill")))
        elif element.tag == f"{NS}text":
            x, y = float(element.get("x")), float(element.get("y")) - 4  # inside the glyphs
            under = [f for rx, ry, w, h, f in painted if rx <= x <= rx + w and ry <= y <= ry + h]
            yield element.get("fill", svg.get("fill")), under[-1]


# Every chart


@pytest.mark.parametrize("name", CHARTS)
def test_every_chart_is_an_image_labelled_by_its_title_and_desc(name):
    svg = parse(CHARTS[name]())
    assert svg.tag == f"{NS}svg"
    assert svg.get("role") == "img"
    assert svg.get("width") == "100%"
    assert len(svg.get("viewBox").split()) == 4
    title, desc = list(svg)[:2]
    assert (title.tag, desc.tag) == (f"{NS}title", f"{NS}desc")
    assert svg.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert title.text and desc.text


@pytest.mark.parametrize("name", CHARTS)
def test_ids_are_unique_across_two_charts_on_one_page(name):
    ids = [
        element.get("id")
        for chart in (CHARTS[name](), CHARTS[name]())
        for element in parse(chart).iter()
        if element.get("id")
    ]
    assert len(ids) == 4
    assert len(set(ids)) == 4


@pytest.mark.parametrize("name", CHARTS)
def test_no_chart_needs_an_inline_style(name):
    chart = CHARTS[name]()
    svg = parse(chart)
    assert not [element for element in svg.iter() if "style" in element.attrib]
    assert not list(svg.iter(f"{NS}style"))
    assert "style" not in str(chart)


@pytest.mark.parametrize("name", CHARTS)
def test_labels_are_escaped_and_read_back_as_written(name):
    chart = CHARTS[name](label=EVIL)
    assert "<script>" not in str(chart)
    svg = parse(chart)
    written = texts(svg) + [element.text for element in svg.iter(f"{NS}title")]
    # The strip's legend and tooltips add the count to the band's label.
    assert (f"{EVIL}: 3" if name == "band_strip" else EVIL) in written


@pytest.mark.parametrize("name", CHARTS)
def test_control_characters_in_a_label_do_not_break_the_xml(name):
    svg = parse(CHARTS[name](label="Sở\x0bA\x00\x1b mới"))
    assert "Sở A mới" in "".join(svg.itertext())


@pytest.mark.parametrize("name", CHARTS)
def test_a_given_description_replaces_the_generated_one(name):
    desc = parse(CHARTS[name](description="Xem bảng bên dưới."))[1]
    assert desc.text == "Xem bảng bên dưới."


@pytest.mark.parametrize("name", EMPTY_CHARTS)
def test_empty_input_draws_the_frame_and_says_there_is_no_data(name):
    with translation.override("en"):
        svg = parse(EMPTY_CHARTS[name]())
    assert "No data" in texts(svg)
    assert svg[1].text == "No data"


def test_vietnamese_numbers_use_a_decimal_comma():
    with translation.override("vi"):
        svg = parse(CHARTS["ranking_bars"]())
    assert "95,25 (Rất tốt)" in texts(svg)
    assert "Sở A: 95,25 (Rất tốt); Sở B: 47,50 (Tốt)." in svg[1].text


def test_english_numbers_use_a_decimal_point():
    with translation.override("en"):
        svg = parse(CHARTS["index_line"]())
    assert {"80.00", "91.50"} <= set(texts(svg))
    assert svg[1].text.startswith("2022: 80.00; 2023: no value; 2024: 91.50.")


def test_coordinates_use_a_point_whatever_the_language():
    with translation.override("vi"):
        svg = parse(CHARTS["ranking_bars"]())
    for rect in svg.iter(f"{NS}rect"):
        float(rect.get("width"))  # "161,5" would raise


# Colours and contrast


def test_default_bands_have_their_own_colours():
    assert set(BAND_COLOURS) == {"rat-tot", "tot", "kha", "trung-binh", "kem"}
    assert len(set(BAND_COLOURS.values())) == 5
    assert band_colour("kem", 0) == BAND_COLOURS["kem"]


def test_unknown_band_codes_get_a_fallback_colour_by_position():
    colours = [band_colour("xuat-sac", position) for position in range(3)]
    assert colours == list(FALLBACK_COLOURS[:3])
    assert not set(colours) & set(BAND_COLOURS.values())
    assert band_colour("", 99) in FALLBACK_COLOURS


def test_a_province_band_in_a_ranking_is_drawn_in_a_fallback_colour():
    svg = parse(ranking_bars([item("Sở A", D(70), "dat", "Đạt", 1)], title="T"))
    assert marks(svg, "bar")[0].find(f"{NS}rect").get("fill") == FALLBACK_COLOURS[1]


@pytest.mark.parametrize("colour", [*BAND_COLOURS.values(), *FALLBACK_COLOURS])
def test_every_band_colour_takes_white_text_and_stands_out_on_white(colour):
    assert contrast(colour, WHITE) >= 4.5


@pytest.mark.parametrize("name", CHARTS)
def test_every_text_contrasts_with_what_it_is_written_on(name):
    for ink, ground in text_on_ground(parse(CHARTS[name]())):
        assert contrast(ink, ground) >= 4.5, (ink, ground)


def test_the_counts_written_on_coloured_segments_are_readable():
    on_colour = [
        (ink, ground)
        for ink, ground in text_on_ground(parse(band_strip(BANDS, title="T")))
        if ground != WHITE
    ]
    assert len(on_colour) == 4  # every segment with units is wide enough for its number
    assert all(contrast(ink, ground) >= 4.5 for ink, ground in on_colour)


# ranking_bars


def test_bars_are_proportional_to_the_index():
    svg = parse(ranking_bars([item("A", D("95.00")), item("B", D("47.50"))], title="T"))
    first, second = (float(bar.find(f"{NS}rect").get("width")) for bar in marks(svg, "bar"))
    assert first == pytest.approx(2 * second)


def test_bars_are_measured_against_the_given_maximum():
    items = [item("A", D(50)), item("B", D(25))]
    full = parse(ranking_bars(items, title="T", max_value=D(50)))
    half = parse(ranking_bars(items[:1], title="T"))
    widths = [float(bar.find(f"{NS}rect").get("width")) for bar in marks(full, "bar")]
    assert widths[0] == pytest.approx(2 * widths[1])
    assert widths[0] == pytest.approx(
        2 * float(marks(half, "bar")[0].find(f"{NS}rect").get("width"))
    )


def test_bars_keep_the_given_order_and_write_value_and_band_after_the_bar():
    with translation.override("vi"):
        svg = parse(CHARTS["ranking_bars"]())
    bars = marks(svg, "bar")
    assert [tooltip(bar) for bar in bars] == ["Sở A", "Sở B"]
    assert texts(bars[1]) == ["Sở B", "47,50 (Tốt)"]
    rect, value = bars[1].find(f"{NS}rect"), bars[1].findall(f"{NS}text")[1]
    assert float(value.get("x")) > float(rect.get("x")) + float(rect.get("width"))


def test_a_long_name_is_shortened_and_kept_whole_in_the_tooltip():
    name = "Ban Quản lý các khu công nghiệp và khu kinh tế cửa khẩu tỉnh"
    bar = marks(parse(ranking_bars([item(name, D(80))], title="T")), "bar")[0]
    label = texts(bar)[0]
    assert len(label) <= 40
    assert label.endswith("…")
    assert name.startswith(label[:-1])
    assert tooltip(bar) == name


def test_band_limits_are_dashed_and_labelled():
    with translation.override("vi"):
        svg = parse(CHARTS["ranking_bars"]())
    dashed = [line for line in svg.iter(f"{NS}line") if line.get("stroke-dasharray")]
    assert len(dashed) == 2
    assert {"Rất tốt ≥ 90,00", "Tốt ≥ 80,00"} <= set(texts(svg))
    assert "Rất tốt ≥ 90,00; Tốt ≥ 80,00" in svg[1].text


# index_line


def test_every_year_with_a_value_is_a_point_with_its_value_written_above():
    with translation.override("vi"):
        svg = parse(CHARTS["index_line"]())
    points = marks(svg, "point")
    assert [tooltip(point) for point in points] == ["2022: 80,00", "2024: 91,50"]
    for point in points:
        circle, value = point.find(f"{NS}circle"), point.find(f"{NS}text")
        assert float(value.get("y")) < float(circle.get("cy"))
    assert {"2022", "2023", "2024"} <= set(texts(svg))


def test_a_year_without_a_value_breaks_the_line_and_is_written_as_a_dash():
    points = [(2020, D(60)), (2021, D(70)), (2022, None), (2023, D(80)), (2024, D(85))]
    svg = parse(index_line(points, title="T"))
    lines = [line.get("points").split() for line in svg.iter(f"{NS}polyline")]
    assert [len(line) for line in lines] == [2, 2]
    assert len(marks(svg, "point")) == 4
    assert texts(marks(svg, "no-value")[0]) == ["—"]


def test_a_lone_value_between_gaps_is_a_point_without_a_line():
    svg = parse(index_line([(2020, None), (2021, D(50)), (2022, None)], title="T"))
    assert not list(svg.iter(f"{NS}polyline"))
    assert len(marks(svg, "point")) == 1


def test_points_sit_on_a_0_to_100_scale():
    svg = parse(index_line([(2020, D(0)), (2021, D(50)), (2022, D(100))], title="T"))
    low, middle, high = (float(p.find(f"{NS}circle").get("cy")) for p in marks(svg, "point"))
    assert low > middle > high
    assert middle == pytest.approx((low + high) / 2)


def test_gridlines_are_at_quarters_without_band_limits():
    svg = parse(index_line([(2020, D(50))], title="T"))
    assert {"0", "25", "50", "75", "100"} <= set(texts(svg))
    assert not [line for line in svg.iter(f"{NS}line") if line.get("stroke-dasharray")]


def test_gridlines_follow_the_band_limits_when_given():
    limits = [(D(90), "Rất tốt"), (D(80), "Tốt"), (D(65), "Khá")]
    with translation.override("en"):
        svg = parse(index_line([(2020, D(50))], title="T", limits=limits))
    dashed = [line for line in svg.iter(f"{NS}line") if line.get("stroke-dasharray")]
    assert len(dashed) == 3
    assert {"Rất tốt ≥ 90.00", "Tốt ≥ 80.00", "Khá ≥ 65.00"} <= set(texts(svg))
    assert "25" not in texts(svg)


# band_strip


def test_each_band_with_units_is_a_segment_as_wide_as_its_count():
    svg = parse(band_strip(BANDS, title="T"))
    segments = marks(svg, "segment")
    assert [tooltip(s) for s in segments] == ["Rất tốt: 2", "Tốt: 4", "Trung bình: 1", "Kém: 1"]
    widths = [float(s.find(f"{NS}rect").get("width")) for s in segments]
    assert widths[1] == pytest.approx(2 * widths[0])
    assert widths[2] == pytest.approx(widths[3]) == pytest.approx(widths[0] / 2)


def test_the_legend_lists_every_band_with_its_count_even_zero():
    svg = parse(band_strip(BANDS, title="T"))
    legend = marks(svg, "legend-item")
    assert [texts(entry)[0] for entry in legend] == [
        "Rất tốt: 2",
        "Tốt: 4",
        "Khá: 0",
        "Trung bình: 1",
        "Kém: 1",
    ]
    swatches = [entry.find(f"{NS}rect").get("fill") for entry in legend]
    assert swatches == [BAND_COLOURS[code] for _label, code, _position, _count in BANDS]
    assert svg[1].text == "Rất tốt: 2; Tốt: 4; Khá: 0; Trung bình: 1; Kém: 1."


def test_bands_are_drawn_best_first_whatever_the_order_given():
    svg = parse(band_strip(list(reversed(BANDS)), title="T"))
    assert texts(marks(svg, "legend-item")[0])[0] == "Rất tốt: 2"


def test_a_group_without_units_is_an_empty_bar_with_its_legend_and_0():
    svg = parse(band_strip([(label, code, pos, 0) for label, code, pos, _ in BANDS], title="T"))
    assert not marks(svg, "segment")
    assert len(marks(svg, "legend-item")) == 5
    assert "0" in texts(svg)


def test_unknown_bands_in_the_strip_get_fallback_colours():
    svg = parse(band_strip([("Đạt", "dat", 0, 3), ("Chưa đạt", "chua-dat", 1, 1)], title="T"))
    fills = [s.find(f"{NS}rect").get("fill") for s in marks(svg, "segment")]
    assert fills == list(FALLBACK_COLOURS[:2])


# paired_bars


def test_each_row_has_a_solid_bar_and_an_outlined_bar_named_in_the_legend():
    with translation.override("vi"):
        svg = parse(CHARTS["paired_bars"]())
    assert {"Đơn vị", "Trung bình"} <= set(texts(svg))
    first, second = marks(svg, "pair")[0].findall(f"{NS}rect")
    assert first.get("fill") != WHITE and not first.get("stroke")
    assert second.get("fill") == WHITE and second.get("stroke")
    assert second.get("stroke") != first.get("fill")
    assert float(second.get("y")) > float(first.get("y"))
    assert float(first.get("width")) / float(second.get("width")) == pytest.approx(80 / 75.5)
    assert texts(marks(svg, "pair")[0]) == ["Sở A", "80,00", "75,50"]


def test_a_missing_value_has_no_bar_and_is_written_as_a_dash():
    with translation.override("en"):
        svg = parse(CHARTS["paired_bars"]())
    row = marks(svg, "pair")[1]
    assert len(row.findall(f"{NS}rect")) == 1
    assert texts(row) == ["Lĩnh vực 2", "—", "60.00"]
    assert "Lĩnh vực 2: Đơn vị no value, Trung bình 60.00" in svg[1].text
