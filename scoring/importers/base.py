"""Reading import files: CSV or XLSX → validated rows, with every problem named by row and column.

Every importer validates the whole file before it writes anything (all-or-nothing), and lists
every problem as ``row N, column C: what is wrong`` where N counts the header as row 1.
Reading is bounded whatever a file declares about itself (size, rows, columns: see the limits
below), and refuses a file rather than leave a row of it unread. No cell may hold a control
character (``scoring.validators``).
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

from django.utils.formats import number_format
from django.utils.text import slugify
from django.utils.translation import gettext as _

from scoring.calculation import quantize
from scoring.errors import Refused
from scoring.validators import control_character

MAX_FILE_BYTES = 200 * 1024 * 1024
# What an XLSX may unpack to. Checked before reading: a zip of repeated XML unpacks to about a
# thousand times its size, so the 200 MB above alone would admit 200 GB of XML. A national
# scores file (300,000 rows) unpacks to well under 100 MB.
MAX_XLSX_UNPACKED_BYTES = 500 * 1024 * 1024
# Excel's own limit, header included; a national scores file has about 300,000 rows.
MAX_ROWS = 1_048_576
# The widest legitimate file, SIPAS questionnaires with one column per question, has about two
# dozen columns.
MAX_COLUMNS = 200
# Elements inside one XLSX cell (rich-text runs and their formatting); a long formatted note
# has a few dozen. Bounds what one cell can make the reader hold.
MAX_CELL_PARTS = 10_000
NA = "na"
# A number: digits, then optionally '.' or ',' (the Vietnamese decimal separator) and decimals.
_NUMBER = re.compile(r"^([+-]?[0-9]+)(?:([.,])([0-9]+))?$")
# Digits with two or more separators ("1.234,5", "1,234.5", "1.234.567"), or groups of three
# digits after spaces ("1 234,5", as a spreadsheet may format it): a thousands separator.
_GROUPED = re.compile(
    r"^[+-]?[0-9]+(?:[.,][0-9]+){2,}$|^[+-]?[0-9]{1,3}(?:[ \u00a0\u202f][0-9]{3})+(?:[.,][0-9]+)?$"
)
_SLUG = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
MAX_POINTS_VALUE = Decimal("99999.99")
MAX_FIGURE_VALUE = Decimal("999999999999.99")  # a reported figure: a rate or a count


@dataclass(frozen=True)
class Problem:
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        if self.row is None:
            return self.message
        return f"row {self.row}, column {self.column or '-'}: {self.message}"


class ImportFailed(Refused):
    """The file was refused; nothing was written. ``problems`` lists every reason."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))

    @classmethod
    def whole_file(cls, message: str) -> ImportFailed:
        """Refused for a reason of the whole file, no row or column to name."""
        return cls([Problem(None, None, message)])


@dataclass
class Row:
    number: int
    values: dict[str, str]

    def __getitem__(self, column: str) -> str:
        return self.values.get(column, "")


@dataclass
class Report:
    """What an import did, for the command to print."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    lines: list[str] = field(default_factory=list)

    def summary(self, noun: str) -> str:
        return _("%(noun)s: %(created)d created, %(updated)d updated, %(unchanged)d unchanged") % {
            "noun": noun,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
        } + (_(", %(deleted)d deleted") % {"deleted": self.deleted} if self.deleted else "")


class Problems:
    """Collects problems while validating; ``raise_if_any`` stops before anything is written."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, row: int | None, column: str | None, message: str) -> None:
        self.items.append(Problem(row, column, message))

    def __bool__(self) -> bool:
        return bool(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise ImportFailed(self.items)


def _cell_text(value: object) -> str:
    """An XLSX cell as the text a user would have typed in a CSV."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return str(value)
        return format(Decimal(repr(value)), "f")
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else str(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


# A file's rows that have a value, in order: (row number as a spreadsheet shows it, its cells as
# text, the first column first). Rows without any value are left out, so a sheet that is mostly
# empty costs only its values.
Table = list[tuple[int, list[str]]]


def _too_many_rows(number: int) -> Problem:
    return Problem(
        number,
        None,
        _("the file has more than %(limit)d rows, the most an import reads; split it")
        % {"limit": MAX_ROWS},
    )


def _damaged(row: int | None, column: int | None = None) -> ImportFailed:
    return ImportFailed(
        [
            Problem(
                row,
                None if column is None else str(column),
                _(
                    "the sheet lists rows or cells twice or out of order: the file is damaged; "
                    "open it and save it again in Excel"
                ),
            )
        ]
    )


def _add_row(table: Table, number: int, cells: list[str]) -> None:
    """Append row ``number`` to ``table`` if it has a value; refuse at once (``ImportFailed``) a
    value in a row past ``MAX_ROWS`` or in a column past ``MAX_COLUMNS``."""
    while cells and cells[-1] == "":
        cells.pop()
    if not cells:
        return
    if number > MAX_ROWS:
        raise ImportFailed([_too_many_rows(number)])
    if len(cells) > MAX_COLUMNS:
        column = next(i for i in range(MAX_COLUMNS, len(cells)) if cells[i]) + 1
        raise ImportFailed([_too_many_columns(number, column)])
    table.append((number, cells))


def _too_many_columns(number: int, column: int) -> Problem:
    return Problem(
        number,
        str(column),
        _("a value beyond column %(limit)d: an import reads at most %(limit)d columns")
        % {"limit": MAX_COLUMNS},
    )


def _read_csv(path: Path) -> Table:
    """The rows of a UTF-8 CSV file, each cell stripped; ``ImportFailed`` for a file that is
    not UTF-8 CSV text or has a value past ``MAX_ROWS`` or ``MAX_COLUMNS``."""
    data = path.read_bytes()
    if b"\x00" in data:
        raise ImportFailed.whole_file(_("the file is not a CSV text file"))
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportFailed.whole_file(
            _("the file is not UTF-8 text (byte %(position)d); save it as CSV UTF-8")
            % {"position": error.start + 1}
        ) from None
    del data
    table: Table = []
    try:
        records = csv.reader(io.StringIO(text, newline=""))
        rows = ([cell.strip() for cell in record] for record in records)
        for number, cells in enumerate(rows, start=1):
            # _add_row only past the common case: this loop runs 300,000 times at national scale.
            if not any(cells):
                continue
            if number <= MAX_ROWS and len(cells) <= MAX_COLUMNS:
                table.append((number, cells))
            else:
                _add_row(table, number, cells)
    except csv.Error as error:
        raise ImportFailed.whole_file(
            _("the file is not valid CSV: %(error)s") % {"error": error}
        ) from None
    return table


def _unreadable_workbook(error: Exception) -> ImportFailed:
    return ImportFailed.whole_file(
        _("the file is not a valid XLSX workbook (%(error)s)") % {"error": type(error).__name__}
    )


def _read_xlsx(path: Path) -> Table:
    """The rows of an XLSX workbook's first worksheet (see ``_sheet_table``); ``ImportFailed``
    for a damaged workbook, one past ``MAX_XLSX_UNPACKED_BYTES``, or a sheet past the limits."""
    try:
        with zipfile.ZipFile(path) as archive:
            # The sizes are the archive's own; reading never returns more than they declare.
            unpacked = sum(info.file_size for info in archive.infolist())
    except Exception as error:  # zipfile raises many kinds for a damaged archive
        raise _unreadable_workbook(error) from None
    if unpacked > MAX_XLSX_UNPACKED_BYTES:
        raise ImportFailed.whole_file(
            _(
                "the workbook is larger than 500 MB once unpacked; keep only the sheet "
                "to import, or save it as CSV"
            )
        )
    try:
        reader, sheet_part = _open_workbook(path)
    except Exception as error:  # openpyxl raises many kinds for a damaged workbook
        raise _unreadable_workbook(error) from None
    try:
        return _sheet_table(reader, sheet_part)
    except ImportFailed:
        raise
    except Exception as error:  # a damaged sheet: name it, never a traceback
        raise ImportFailed.whole_file(
            _("the workbook's first sheet cannot be read (%(error)s)")
            % {"error": type(error).__name__}
        ) from None
    finally:
        reader.archive.close()


def _open_workbook(path: Path):
    """openpyxl's reading of a workbook (``load_workbook(read_only=True, data_only=True)``) up
    to its sheets: the reader, with the shared strings, the date formats and the epoch, and the
    part name of the first worksheet. ``load_workbook`` would go on to parse every sheet for its
    declared dimension, which for a sheet that declares none means reading all of it, and this
    reader has no use for a dimension."""
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.styles.stylesheet import apply_stylesheet

    reader = ExcelReader(str(path), read_only=True, data_only=True, keep_links=False)
    try:
        reader.read_manifest()
        reader.read_strings()
        reader.read_workbook()
        apply_stylesheet(reader.archive, reader.wb)
        # The first worksheet as load_workbook(...).worksheets[0] has it: chart sheets and sheets
        # whose part is missing are not worksheets.
        sheet_part = next(
            (
                rel.target
                for _sheet, rel in reader.parser.find_sheets()
                if rel.target in reader.valid_files and "chartsheet" not in rel.Type
            ),
            None,
        )
        if sheet_part is None:
            raise IndexError("the workbook has no worksheet")
    except BaseException:
        reader.archive.close()
        raise
    return reader, sheet_part


def _row_number(attribute: str | None, previous: int) -> int:
    """A ``<row r="...">`` number as openpyxl reads it; the next row when there is none."""
    if attribute is None:
        return previous + 1
    try:
        return int(attribute)
    except ValueError:
        value = float(attribute)
        if not value.is_integer():
            raise ValueError(attribute) from None
        return int(value)


def _sheet_table(reader, sheet_part: str) -> Table:
    """The rows of the sheet ``sheet_part`` of an ``_open_workbook`` as its XML really holds them.

    openpyxl's own iteration trusts the sheet's declared dimension: it pads every row to the
    declared width and stops at the declared height, so a small file declaring
    ``A1:XFD1048576`` costs gigabytes, and one declaring ``A1:F2`` silently loses every row
    after the second. Here the declared dimension is ignored: only the cells present in the XML
    are read, each through openpyxl's own cell parser (shared strings, numbers, dates and cached
    formula values as openpyxl gives them), and each element is let go once read, so memory
    follows the values kept, not the size of the XML. Rows or cells that come twice or out of
    order are refused rather than silently dropped or overwritten.
    """
    from openpyxl.worksheet._reader import CELL_TAG, ROW_TAG, WorkSheetParser
    from openpyxl.xml.functions import iterparse

    table: Table = []
    workbook = reader.wb
    with reader.archive.open(sheet_part) as source:
        parser = WorkSheetParser(
            source,
            reader.shared_strings,
            data_only=True,
            epoch=workbook.epoch,
            date_formats=workbook._date_formats,
            timedelta_formats=workbook._timedelta_formats,
        )
        open_elements = []
        row_number = 0  # the row being read, else the last one read
        row_cells: dict[int, str] | None = None  # column → text of the row being read
        cell = None  # the <c> element being read
        cell_parts = 0
        for event, element in iterparse(source, events=("start", "end")):
            if event == "start":
                open_elements.append(element)
                if cell is not None:
                    cell_parts += 1
                    if cell_parts > MAX_CELL_PARTS:
                        raise ImportFailed(
                            [
                                Problem(
                                    row_number,
                                    None,
                                    _(
                                        "a cell holds more than %(limit)d pieces of formatted "
                                        "text; type its text again without formatting"
                                    )
                                    % {"limit": MAX_CELL_PARTS},
                                )
                            ]
                        )
                elif element.tag == CELL_TAG:
                    if row_cells is None:
                        raise _damaged(None)
                    cell, cell_parts = element, 0
                elif element.tag == ROW_TAG:
                    number = _row_number(element.get("r"), row_number)
                    if row_cells is not None or number <= row_number:
                        raise _damaged(number)
                    row_number, row_cells = number, {}
                    parser.row_counter, parser.col_counter = number, 0
                continue
            open_elements.pop()
            if cell is not None and element is not cell:
                continue  # part of the cell's value, read with the cell
            if element is cell:
                cell = None
                _read_cell(parser, element, row_number, row_cells)
            elif element.tag == ROW_TAG:
                last = max(row_cells, default=0)
                _add_row(table, row_number, [row_cells.get(c, "") for c in range(1, last + 1)])
                row_cells = None
            if open_elements:
                open_elements[-1].remove(element)  # read: let it go
    return table


def _read_cell(parser, element, row_number: int, row_cells: dict[int, str]) -> None:
    """Put the text of one ``<c>`` element into ``row_cells``, refusing at once a value past
    the limits and a cell that names another row or repeats a column."""
    parsed = parser.parse_cell(element)
    column = parsed["column"]
    if parsed["row"] != row_number:
        raise _damaged(row_number, column)
    text = _cell_text(parsed["value"])
    if text == "":
        return  # an empty, perhaps formatted, cell: Excel writes them anywhere
    if row_number > MAX_ROWS:
        raise ImportFailed([_too_many_rows(row_number)])
    if column > MAX_COLUMNS:
        raise ImportFailed([_too_many_columns(row_number, column)])
    if column in row_cells:
        raise _damaged(row_number, column)
    row_cells[column] = text


def read_table(
    path: str | Path,
    *,
    required: tuple[str, ...],
    optional: tuple[str, ...] = (),
    pattern: re.Pattern | None = None,
    pattern_hint: str = "",
    multiline: tuple[str, ...] = (),
):
    """Read a CSV or XLSX file into rows keyed by lower-case column names.

    Raises ``ImportFailed`` for a file that cannot be read or is past the limits
    (``MAX_FILE_BYTES``, ``MAX_XLSX_UNPACKED_BYTES``, ``MAX_ROWS``, ``MAX_COLUMNS``), an unknown
    or missing column, a value outside the named columns, a control character in any cell
    (``scoring.validators``; the ``multiline`` columns may hold line breaks and tabs), or a file
    without data rows.
    ``pattern`` admits further columns by name (e.g. ``access_2``). Empty rows are skipped; row
    numbers count the header as row 1. Every row of the file is read or the file is refused.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in {".csv", ".xlsx"}:
        raise ImportFailed.whole_file(
            _("unsupported file type %(suffix)r: use .csv or .xlsx")
            % {"suffix": suffix or path.name}
        )
    if not path.is_file():
        raise ImportFailed.whole_file(_("file not found: %(path)s") % {"path": path})
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ImportFailed.whole_file(_("the file is larger than 200 MB"))
    if path.stat().st_size == 0:
        raise ImportFailed.whole_file(_("the file is empty"))
    table = _read_csv(path) if suffix == ".csv" else _read_xlsx(path)

    if not table or table[0][0] != 1:
        raise ImportFailed.whole_file(_("the file is empty: no header row"))

    header = [cell.lower() for cell in table[0][1]]
    problems = Problems()
    allowed = set(required) | set(optional)
    seen = set()
    for position, name in enumerate(header, start=1):
        character = control_character(name)
        if character:
            # Named by position: the name itself would carry the character into the message.
            problems.add(1, str(position), _control_message(character))
        elif name == "":
            problems.add(1, str(position), _("column without a name"))
        elif name not in allowed and not (pattern and pattern.match(name)):
            problems.add(
                1,
                name,
                _("unknown column; the columns are: %(columns)s")
                % {
                    "columns": ", ".join(
                        (*required, *optional, *([pattern_hint] if pattern_hint else []))
                    )
                },
            )
        elif name in seen:
            problems.add(1, name, _("the column appears twice"))
        seen.add(name)
    for name in required:
        if name not in seen:
            problems.add(1, name, _("required column is missing"))
    problems.raise_if_any()

    rows = []
    for number, cells in table[1:]:
        stray = [i for i, cell in enumerate(cells[len(header) :], start=len(header) + 1) if cell]
        if stray:
            problems.add(number, str(stray[0]), _("value outside any named column"))
            continue
        values = {name: (cells[i] if i < len(cells) else "") for i, name in enumerate(header)}
        # One search of the whole row first: most rows are clean, and this runs per row.
        if control_character("".join(cells)):
            for name, value in values.items():
                character = control_character(value, multiline=name in multiline)
                if character:
                    problems.add(number, name, _control_message(character))
        rows.append(Row(number, values))
    problems.raise_if_any()
    if not rows:
        raise ImportFailed.whole_file(_("the file has a header but no data rows"))
    return rows


def _control_message(character: str) -> str:
    return _("contains the invisible control character %(character)s; remove it") % {
        "character": character
    }


def number_text(text: str):
    """The match of ``text`` as a number; a message (str) when it is refused as ambiguous; None
    when it is not a number at all.

    ``.`` and ``,`` are both decimal separators (``0,5`` is a half, as a Vietnamese spreadsheet
    writes it). A thousands separator is refused rather than guessed: ``1.234,5`` and
    ``1,234.5`` mix both, ``1.234.567`` repeats one, and ``1,234`` is one thousand two hundred
    and thirty-four to an English reader but 1.234 to a Vietnamese one (``0,125`` is not
    ambiguous: no thousands start with 0).
    """
    if _GROUPED.match(text):
        *whole, last = re.split(r"[.,]", re.sub(r"\s", "", text))
        if "." in text and "," in text or len(whole) == 1:
            example = "".join(whole) + "." + last  # the last separator is the decimal one
        else:
            example = "".join(whole) + last  # one separator repeated: thousands only
        return _(
            "%(value)r has a thousands separator: write the number without one, with '.' or ','"
            " only before the decimals (e.g. %(example)s)"
        ) % {"value": text, "example": example}
    match = _NUMBER.match(text)
    if match is None:
        return None
    whole, separator, decimals = match.groups()
    if separator == "," and len(decimals) == 3 and whole.lstrip("+-").lstrip("0") != "":
        return _(
            "%(value)r is ambiguous: ',' followed by three digits may separate thousands; write "
            "%(whole)s for a whole number, or %(decimal)s for a number with decimals"
        ) % {"value": text, "whole": whole + decimals, "decimal": f"{whole}.{decimals}"}
    return match


def parse_decimal(
    row: Row,
    column: str,
    problems: Problems,
    *,
    maximum: Decimal | None = None,
    minimum: Decimal = Decimal("0"),
    largest: Decimal = MAX_POINTS_VALUE,
) -> Decimal | None:
    """A decimal with ``.`` or ``,`` before the decimals and at most two decimals (three are
    rounded half-up to two). A thousands separator is refused (``number_text``).

    Empty gives None. A problem is recorded, and None returned, for anything else that is wrong
    (``largest`` bounds what the column can hold: points by default, ``MAX_FIGURE_VALUE`` for
    a reported figure).
    """
    text = row[column]
    if text == "":
        return None
    number = number_text(text)
    if isinstance(number, str):
        problems.add(row.number, column, number)
        return None
    if number is None:
        problems.add(row.number, column, _("%(value)r is not a number") % {"value": text})
        return None
    decimals = number.group(3) or ""
    if len(decimals) > 3:
        problems.add(
            row.number,
            column,
            _("%(value)r has more than two decimals") % {"value": text},
        )
        return None
    raw = Decimal(text.replace(",", "."))
    if abs(raw) > largest:
        problems.add(row.number, column, _("%(value)s is too large") % {"value": text})
        return None
    value = quantize(raw)  # half-up to two decimals, like every number
    if value < minimum:
        if minimum == 0:
            message = _("%(value)s is negative; it must be 0 or more") % {"value": text}
        else:
            message = _("%(value)s is below %(minimum)s") % {
                "value": text,
                "minimum": number_format(minimum, 2),  # 1,25 in Vietnamese
            }
        problems.add(row.number, column, message)
        return None
    if maximum is not None and value > maximum:
        problems.add(
            row.number,
            column,
            _("%(value)s is above the maximum of %(maximum)s")
            % {"value": text, "maximum": number_format(maximum, 2)},  # as the reader writes it
        )
        return None
    return value


def parse_date(row: Row, column: str, problems: Problems) -> date | None:
    """A day written ``YYYY-MM-DD`` (an XLSX date cell reads the same); empty gives None."""
    text = row[column]
    if text == "":
        return None
    try:
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        problems.add(
            row.number,
            column,
            _("%(value)r is not a date: write it YYYY-MM-DD (e.g. 2025-07-01)") % {"value": text},
        )
        return None


def parse_slug(
    row: Row, column: str, problems: Problems, *, required: bool = True, max_length: int = 100
) -> str:
    text = row[column]
    if text == "":
        if required:
            problems.add(row.number, column, _("a value is required"))
        return ""
    if len(text) > max_length:
        problems.add(
            row.number,
            column,
            _("the code is longer than %(limit)d characters") % {"limit": max_length},
        )
        return ""
    if not _SLUG.match(text):
        suggestion = slugify(text)[:max_length]
        problems.add(
            row.number,
            column,
            _("%(value)r is not a code: use lower-case letters, digits and '-' (e.g. %(slug)r)")
            % {"value": text, "slug": suggestion or "so-noi-vu"},
        )
        return ""
    return text


def parse_text(
    row: Row, column: str, problems: Problems, *, required: bool = True, max_length: int = 255
) -> str:
    text = row[column]
    if required and text == "":
        problems.add(row.number, column, _("a value is required"))
    elif len(text) > max_length:
        problems.add(
            row.number,
            column,
            _("the text is longer than %(limit)d characters") % {"limit": max_length},
        )
        return text[:max_length]
    return text


def check_unit(
    row: Row, units: dict, group, elsewhere: dict[str, str], problems: Problems, taken: str
):
    """The row's unit, or None with its problem recorded: missing, unknown, of another group, or
    already in another group that year (``elsewhere``: unit code → group code; ``taken`` says
    what, with %(code)s and %(group)s)."""
    unit = units.get(row["unit"])
    if row["unit"] == "":
        problems.add(row.number, "unit", _("a value is required"))
    elif unit is None:
        problems.add(row.number, "unit", _("unknown unit %(code)r") % {"code": row["unit"]})
    elif unit.group_id != group.pk:
        problems.add(
            row.number,
            "unit",
            _("%(code)s belongs to group %(group)r, not %(this)r")
            % {"code": unit.code, "group": unit.group.code, "this": group.code},
        )
        return None
    elif unit.code in elsewhere:
        problems.add(row.number, "unit", taken % {"code": unit.code, "group": elsewhere[unit.code]})
        return None
    return unit


def check_duplicates(rows: list[Row], key, problems: Problems, column: str, what: str) -> None:
    """Name every row that repeats the key of an earlier row."""
    first_seen: dict = {}
    for row in rows:
        value = key(row)
        if not value or (isinstance(value, tuple) and not all(value)):
            continue
        if value in first_seen:
            problems.add(
                row.number,
                column,
                _("duplicate %(what)s: already on row %(first)d")
                % {"what": what, "first": first_seen[value]},
            )
        else:
            first_seen[value] = row.number


def assign_changed(instance, values: dict) -> bool:
    """Set the values that differ on ``instance``; True when anything changed."""
    changed = False
    for name, value in values.items():
        if getattr(instance, name) != value:
            setattr(instance, name, value)
            changed = True
    return changed
