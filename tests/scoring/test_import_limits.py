"""Hostile and odd files: XLSX built by hand (zip + XML) that lie about their own extent, and
files past the limits of rows, columns and size. An import reads exactly the cells a file holds,
within fixed bounds, or refuses the file; it never succeeds with a row left unread."""

from __future__ import annotations

import csv
import zipfile
from xml.sax.saxutils import escape

import pytest

from scoring.importers import base
from scoring.models import Unit
from tests.factories import UNITS

pytestmark = pytest.mark.django_db

HEADER = ("code", "name", "group", "group_name")

PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>'
        "</Types>"
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    ),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/sharedStrings" Target="sharedStrings.xml"/>'
        "</Relationships>"
    ),
}


def column_letter(number: int) -> str:
    letters = ""
    while number:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def inline(column: int, row: int, text: str) -> str:
    """A cell holding ``text`` as an inline string, as some generators write them."""
    return f'<c r="{column_letter(column)}{row}" t="inlineStr"><is><t>{escape(text)}</t></is></c>'


def row_xml(number: int, values, extra: str = "") -> str:
    cells = "".join(inline(i, number, v) for i, v in enumerate(values, start=1) if v != "")
    return f'<row r="{number}">{cells}{extra}</row>'


def write_xlsx(path, rows_xml: str, *, dimension: str | None = None, strings=()) -> str:
    """An XLSX written by hand: ``rows_xml`` is the content of ``<sheetData>``, ``dimension``
    what the sheet declares about its own extent (nothing when None), ``strings`` the shared
    string table."""
    declared = f'<dimension ref="{dimension}"/>' if dimension else ""
    sheet = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        f"{declared}<sheetData>{rows_xml}</sheetData></worksheet>"
    )
    shared = "".join(f"<si><t>{escape(text)}</t></si>" for text in strings)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in PARTS.items():
            archive.writestr(name, content)
        archive.writestr("xl/worksheets/sheet1.xml", sheet)
        archive.writestr(
            "xl/sharedStrings.xml",
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
            '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
            f'count="{len(strings)}" uniqueCount="{len(strings)}">{shared}</sst>',
        )
    return str(path)


def unit_rows(count: int, first_row: int = 2) -> str:
    return "".join(
        row_xml(first_row + i, (f"so-{i}", f"Sở {i}", "departments", "Sở, ban, ngành"))
        for i in range(count)
    )


@pytest.fixture
def counted_cells(monkeypatch):
    """Counts the cells the reader turns into text, and stops a reader that visits more than
    a small file holds (on a reader that trusts a declared dimension, at once, not after
    gigabytes)."""
    calls = []
    original = base._cell_text

    def counting(value):
        calls.append(value)
        if len(calls) > 1000:
            raise AssertionError("the reader visits cells that are not in the file")
        return original(value)

    monkeypatch.setattr(base, "_cell_text", counting)
    return calls


def test_a_dimension_declaring_the_whole_sheet_reads_only_the_real_cells(
    run, tmp_path, counted_cells
):
    # A few kilobytes declaring 16,384 columns × 1,048,576 rows; empty formatted cells far right
    # and far down, as Excel leaves them, are no values.
    rows = (
        row_xml(1, HEADER)
        + unit_rows(2)
        + row_xml(4, (), extra='<c r="XFD4" s="1"/>')
        + '<row r="1048576"><c r="XFD1048576" s="1"/></row>'
    )
    path = write_xlsx(tmp_path / "units.xlsx", rows, dimension="A1:XFD1048576")
    outcome = run("import_units", path)
    assert outcome.status == 0, outcome.err
    assert sorted(Unit.objects.values_list("code", flat=True)) == ["so-0", "so-1"]
    assert len(counted_cells) == 4 + 2 * 4 + 2  # the header, two rows, two empty cells


def test_a_dimension_of_two_rows_does_not_hide_the_thousand_after_them(run, tmp_path):
    path = write_xlsx(
        tmp_path / "units.xlsx", row_xml(1, HEADER) + unit_rows(1001), dimension="A1:F2"
    )
    outcome = run("import_units", path)
    assert outcome.status == 0, outcome.err
    assert Unit.objects.count() == 1001
    assert outcome.out.startswith("units: 1001 created")


def test_a_file_with_more_rows_than_the_limit_is_refused_naming_the_row(
    run, tmp_path, monkeypatch, unchanged_database
):
    monkeypatch.setattr(base, "MAX_ROWS", 5)
    path = write_xlsx(tmp_path / "units.xlsx", row_xml(1, HEADER) + unit_rows(5))
    with unchanged_database():
        outcome = run("import_units", path)
    assert outcome.status == 1
    assert "row 6, column -: the file has more than 5 rows" in outcome.err
    assert "1 problem(s)" in outcome.err


def test_a_row_past_excels_last_row_is_refused_whatever_the_dimension_says(
    run, tmp_path, unchanged_database
):
    rows = row_xml(1, HEADER) + unit_rows(2) + unit_rows(1, first_row=1_048_577)
    path = write_xlsx(tmp_path / "units.xlsx", rows, dimension="A1:D3")
    with unchanged_database():
        outcome = run("import_units", path)
    assert outcome.status == 1
    assert "row 1048577, column -: the file has more than 1048576 rows" in outcome.err


def test_a_csv_with_more_rows_than_the_limit_is_refused_naming_the_row(
    run, write, monkeypatch, unchanged_database
):
    monkeypatch.setattr(base, "MAX_ROWS", 5)
    lines = "".join(f"so-{i},Sở {i},departments,G\n" for i in range(10))
    with unchanged_database():
        outcome = run("import_units", write("units.csv", "code,name,group,group_name\n" + lines))
    assert outcome.status == 1
    assert "row 6, column -: the file has more than 5 rows" in outcome.err
    # Empty lines past the limit are no rows.
    short = "code,name,group,group_name\nso-a,A,departments,G\n" + "\n" * 10
    assert run("import_units", write("short.csv", short)).status == 0


def test_a_value_far_beyond_the_last_column_is_refused(run, tmp_path, unchanged_database):
    rows = (
        row_xml(1, HEADER)
        + unit_rows(1)
        + row_xml(3, ("so-b", "Sở B", "departments", ""), extra=inline(16384, 3, "x"))
    )
    path = write_xlsx(tmp_path / "units.xlsx", rows, dimension="A1:D3")
    with unchanged_database():
        outcome = run("import_units", path)
    assert outcome.status == 1
    assert (
        "row 3, column 16384: a value beyond column 200: an import reads at most 200 columns"
        in outcome.err
    )


def test_a_csv_value_far_beyond_the_last_column_is_refused(run, write, unchanged_database):
    line = "so-a,A,departments,G" + "," * 296 + "x\n"
    with unchanged_database():
        outcome = run("import_units", write("units.csv", "code,name,group,group_name\n" + line))
    assert outcome.status == 1
    assert "row 2, column 300: a value beyond column 200" in outcome.err


def test_a_value_beyond_the_header_within_the_limit_stays_a_row_error(run, tmp_path):
    rows = (
        row_xml(1, HEADER)
        + unit_rows(1)
        + row_xml(3, ("so-b", "B", "departments", ""), extra=inline(7, 3, "oops"))
        + row_xml(4, ("so-c", "C", "departments", ""), extra=inline(9, 4, "oops"))
    )
    outcome = run("import_units", write_xlsx(tmp_path / "units.xlsx", rows, dimension="A1:D4"))
    assert outcome.status == 1
    assert "row 3, column 7: value outside any named column" in outcome.err
    assert "row 4, column 9: value outside any named column" in outcome.err


@pytest.mark.parametrize(
    "rows",
    [
        # Row 3 before row 2: openpyxl drops it without a word.
        row_xml(1, HEADER) + unit_rows(1, first_row=3) + unit_rows(1, first_row=2),
        # Row 2 twice.
        row_xml(1, HEADER) + unit_rows(1) + row_xml(2, ("so-x", "X", "departments", "G")),
        # Cell A2 twice: openpyxl keeps the last.
        row_xml(1, HEADER) + row_xml(2, ("so-a", "A", "departments", "G"), inline(1, 2, "so-b")),
        # A cell that says it is in row 7, inside row 2.
        row_xml(1, HEADER) + row_xml(2, ("so-a", "A", "departments", "G"), inline(5, 7, "x")),
    ],
    ids=["out-of-order", "row-twice", "cell-twice", "cell-of-another-row"],
)
def test_a_sheet_with_rows_or_cells_repeated_or_out_of_order_is_refused(
    run, tmp_path, unchanged_database, rows
):
    path = write_xlsx(tmp_path / "units.xlsx", rows)
    with unchanged_database():
        outcome = run("import_units", path)
    assert outcome.status == 1
    assert "the file is damaged" in outcome.err


def test_a_workbook_that_unpacks_past_the_limit_is_refused(run, tmp_path, monkeypatch):
    monkeypatch.setattr(base, "MAX_XLSX_UNPACKED_BYTES", 10_000)
    path = write_xlsx(tmp_path / "units.xlsx", row_xml(1, HEADER) + unit_rows(200))
    outcome = run("import_units", path)
    assert outcome.status == 1
    assert "the workbook is larger than 500 MB once unpacked" in outcome.err
    assert Unit.objects.count() == 0


def test_a_cell_of_too_many_formatted_parts_is_refused(run, tmp_path, monkeypatch):
    monkeypatch.setattr(base, "MAX_CELL_PARTS", 50)
    runs = "".join(f"<r><rPr><b/></rPr><t>{i}</t></r>" for i in range(20))
    cell = f'<c r="B2" t="inlineStr"><is>{runs}</is></c>'
    rows = row_xml(1, HEADER) + f'<row r="2">{inline(1, 2, "so-a")}{cell}</row>'
    outcome = run("import_units", write_xlsx(tmp_path / "units.xlsx", rows))
    assert outcome.status == 1
    assert "row 2, column -: a cell holds more than 50 pieces of formatted text" in outcome.err


def test_the_reader_gives_what_openpyxl_gives_for_each_kind_of_cell(tmp_path):
    """Shared strings, inline and rich text, numbers, booleans, dates, cached formula values and
    rows or cells without a reference read as a user typed them."""
    rows = (
        '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="C1" t="s"><v>1</v></c></row>'
        '<row r="2"><c r="A2"><v>4.5</v></c><c r="B2" t="b"><v>1</v></c>'
        '<c r="C2"><f>1+1</f><v>2</v></c>'
        '<c r="D2" t="inlineStr"><is><r><t>Sở </t></r><r><rPr><b/></rPr><t>An</t></r></is></c>'
        '<c r="E2" t="str"><f>"a"</f><v>a</v></c><c r="F2" t="e"><v>#N/A</v></c>'
        '<c r="G2" t="d"><v>2024-02-28T00:00:00</v></c><c r="H2" t="s"><v>2</v></c></row>'
        '<row><c t="s"><v>0</v></c><c><v>7</v></c></row>'
    )
    path = write_xlsx(tmp_path / "t.xlsx", rows, strings=("  Mã  ", "Tên", "  "))
    assert base._read_xlsx(path) == [
        (1, ["Mã", "", "Tên"]),
        (2, ["4.5", "true", "2", "Sở An", "a", "#N/A", "2024-02-28"]),
        (3, ["Mã", "7"]),
    ]


def test_a_workbook_saved_by_openpyxl_reads_as_before(run, tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    for line in csv.reader(UNITS.splitlines()):
        sheet.append(line)
    sheet["Z40"].number_format = "0.00"  # formatting far away: no value, no row
    path = tmp_path / "units.xlsx"
    workbook.save(path)
    outcome = run("import_units", str(path))
    assert outcome.status == 0, outcome.err
    assert Unit.objects.get(code="quan-x").group.name == "UBND quận, huyện"
