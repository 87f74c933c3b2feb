"""Spreadsheet downloads (CSV and XLSX) whose text can never act as a formula.

Names, titles, notes and reasons come from imports and the council: a text starting with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return is what a spreadsheet reads as a formula (CSV
injection, OWASP). Every text cell is neutralised: in CSV with a leading apostrophe, in XLSX
written as text with Excel's own "quote prefix" (shown as typed, kept as text when edited).
Control characters and bidirectional overrides are removed as well: an XLSX cannot hold the
former at all, the latter disguise what a cell says (the imports refuse both; this is the second
line of defence). Numbers stay numbers: ``Decimal`` and ``int`` cells are written as numbers,
with two decimals for decimals.

A download says what it is. A CSV starts with a UTF-8 byte-order mark (Excel on Windows reads a
CSV without one as the local code page and garbles every Vietnamese letter; other readers skip
it) and its first row is the header, as CSV readers expect: what the file holds is in its name
(``download_name``: province, index, year, group, version). An XLSX has room for more: a title
row (province, index, year, group, version, date) and the source address above the header, a
named sheet, the header row frozen, and numbers with two decimals.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Iterable, Sequence
from decimal import Decimal
from urllib.parse import quote

from django.conf import settings
from django.http import HttpResponse
from django.utils.text import slugify

from scoring.validators import strip_control_characters

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BOM = "\ufeff"


def clean_text(value: str) -> str:
    """Text without control characters (tab, newline and carriage return kept) or
    bidirectional controls."""
    return strip_control_characters(value)


def csv_cell(value):
    """A value as a CSV cell: None empty, text cleaned and never a formula, numbers as they
    are."""
    if value is None:
        return ""
    if isinstance(value, str):
        text = clean_text(value)
        return "'" + text if text.startswith(FORMULA_START) else text
    return value


def csv_bytes(rows: Iterable[Iterable]) -> bytes:
    """Rows as UTF-8 CSV with a byte-order mark (comma-separated, ``\\n`` line ends), every
    cell through ``csv_cell``."""
    buffer = io.StringIO()
    buffer.write(BOM)
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8")


def xlsx_bytes(
    rows: Iterable[Iterable], *, sheet: str = "data", title: Sequence[str] = ()
) -> bytes:
    """Rows as a one-sheet XLSX workbook: text as text (never a formula or an error value),
    decimals as numbers with two decimals, integers as integers. ``title`` lines (what the
    table is, where it comes from) go above the rows, bold, one per row; the first of ``rows``
    is the header: bold, and frozen so that it stays in view."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(_sheet_name(sheet))
    rows = iter(rows)
    header = next(rows, None)
    # Before any row: the first column (names) wide, the header frozen below the title.
    worksheet.column_dimensions["A"].width = 12
    worksheet.column_dimensions["B"].width = 42
    if header is not None:
        worksheet.freeze_panes = f"C{len(title) + 2}"
    for line in title:
        cell = WriteOnlyCell(worksheet, value=clean_text(line))
        cell.data_type = "s"
        cell.font = Font(bold=True)
        if cell.value.startswith(FORMULA_START):
            cell.quotePrefix = True
        worksheet.append([cell])
    for number, row in enumerate(() if header is None else [header, *rows]):
        cells = []
        for value in row:
            if isinstance(value, str):
                text = clean_text(value)
                cell = WriteOnlyCell(worksheet, value=text)
                cell.data_type = "s"  # "=…" would otherwise be a formula, "#N/A" an error
                if text.startswith(FORMULA_START):
                    cell.quotePrefix = True
            elif isinstance(value, Decimal):
                cell = WriteOnlyCell(worksheet, value=value)
                cell.number_format = "0.00"
            elif value is None or isinstance(value, bool | int | float):
                cell = WriteOnlyCell(worksheet, value=value)
            else:
                cell = WriteOnlyCell(worksheet, value=clean_text(str(value)))
                cell.data_type = "s"
            if number == 0:
                cell.font = Font(bold=True)
            cells.append(cell)
        worksheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _sheet_name(name: str) -> str:
    """A name Excel accepts: at most 31 characters, none of ``[]:*?/\\``."""
    cleaned = "".join(" " if c in "[]:*?/\\" else c for c in clean_text(name)).strip(" '")
    return cleaned[:31] or "data"


def file_slug(text: str) -> str:
    """ASCII for a file name: "Cần Thơ" → "can-tho", "Điện Biên" → "dien-bien"."""
    text = unicodedata.normalize("NFC", text).replace("đ", "d").replace("Đ", "D")
    return slugify(text)


def download_name(*parts: object) -> str:
    """A file name that says what the file holds: the province (``PROVINCE_NAME``, left out when
    none is configured), then the given parts (index, year, group, version), in ASCII."""
    province = getattr(settings, "PROVINCE_NAME", "")
    words = [file_slug(province)] if province else []
    words += [file_slug(str(part)) for part in parts]
    return "-".join(word for word in words if word)


def title_lines(request, publication, what: str) -> list[str]:
    """What a downloaded table is, for the rows above its header: ``what`` (the index), the
    province, year, group, version and date of publication; then the address of the page it
    comes from (with its sort and filter, without ``_export``)."""
    from django.conf import settings
    from django.utils import timezone
    from django.utils.formats import date_format
    from django.utils.translation import gettext as _

    from cchc.context import _province_title

    query = request.GET.copy()
    query.pop("_export", None)
    # The address readers use (``SITE_URL``), not the host of the request that built it: the
    # file is stored and served to everybody (the prebuild asks as the first allowed host).
    source = settings.SITE_URL + request.path + (f"?{query.urlencode()}" if query else "")
    return [
        _("%(what)s, %(province)s, %(year)s: %(group)s (version %(version)s, published %(date)s)")
        % {
            "what": what,
            "province": _province_title(),
            "year": publication.year,
            "group": publication.group_name,
            "version": publication.version,
            "date": date_format(timezone.localtime(publication.published_at), "SHORT_DATE_FORMAT"),
        },
        _("Source: %(url)s") % {"url": source},
    ]


def download(
    rows: list[list],
    *,
    export: str,
    filename: str,
    sheet: str = "data",
    title: Sequence[str] = (),
):
    """An attachment of ``rows`` (the header first) as ``csv`` or ``xlsx``; the XLSX carries
    the ``title`` lines above the header."""
    if export == "csv":
        response = HttpResponse(csv_bytes(rows), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(xlsx_bytes(rows, sheet=sheet, title=title), content_type=XLSX_TYPE)
    name = f"{filename}.{export}"
    response["Content-Disposition"] = (
        f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"
    )
    return response
