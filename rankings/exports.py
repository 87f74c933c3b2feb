"""Spreadsheet downloads (CSV and XLSX) whose text can never act as a formula.

Names, titles, notes and reasons come from imports and the council: a text starting with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return is what a spreadsheet reads as a formula (CSV
injection, OWASP). Every text cell is neutralised: in CSV with a leading apostrophe, in XLSX
written as text with Excel's own "quote prefix" (shown as typed, kept as text when edited).
Control characters and bidirectional overrides are removed as well: an XLSX cannot hold the
former at all, the latter disguise what a cell says (the imports refuse both; this is the second
line of defence). Numbers stay numbers: ``Decimal`` and ``int`` cells are written as numbers,
with two decimals for decimals.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from decimal import Decimal

from django.http import HttpResponse

from scoring.validators import strip_control_characters

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


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
    """Rows as UTF-8 CSV (comma-separated, ``\\n`` line ends), every cell through
    ``csv_cell``."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8")


def xlsx_bytes(rows: Iterable[Iterable], *, sheet: str = "data") -> bytes:
    """Rows as a one-sheet XLSX workbook: text as text (never a formula or an error value),
    decimals as numbers with two decimals, integers as integers."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(clean_text(sheet)[:31] or "data")
    for row in rows:
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
            cells.append(cell)
        worksheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def download(rows: list[list], *, export: str, filename: str, sheet: str = "data"):
    """An attachment of ``rows`` as ``csv`` or ``xlsx``."""
    if export == "csv":
        response = HttpResponse(csv_bytes(rows), content_type="text/csv; charset=utf-8")
    else:
        response = HttpResponse(xlsx_bytes(rows, sheet=sheet), content_type=XLSX_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}.{export}"'
    return response
