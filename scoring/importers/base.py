"""Reading import files: CSV or XLSX → validated rows, with every problem named by row and column.

Every importer validates the whole file before it writes anything (all-or-nothing), and lists
every problem as ``row N, column C: what is wrong`` where N counts the header as row 1.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from django.utils.text import slugify
from django.utils.translation import gettext as _

MAX_FILE_BYTES = 200 * 1024 * 1024
NA = "na"
_NUMBER = re.compile(r"^[+-]?[0-9]+(?:\.([0-9]+))?$")
_SLUG = re.compile(r"^[a-z0-9]+(?:[-_][a-z0-9]+)*$")
MAX_POINTS_VALUE = Decimal("99999.99")


@dataclass(frozen=True)
class Problem:
    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        if self.row is None:
            return self.message
        return f"row {self.row}, column {self.column or '-'}: {self.message}"


class ImportFailed(Exception):
    """The file was refused; nothing was written. ``problems`` lists every reason."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


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


def _read_csv(path: Path) -> list[list[str]]:
    data = path.read_bytes()
    if b"\x00" in data:
        raise ImportFailed([Problem(None, None, _("the file is not a CSV text file"))])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportFailed(
            [
                Problem(
                    None,
                    None,
                    _("the file is not UTF-8 text (byte %(position)d); save it as CSV UTF-8")
                    % {"position": error.start + 1},
                )
            ]
        ) from None
    try:
        return [[cell.strip() for cell in row] for row in csv.reader(io.StringIO(text, newline=""))]
    except csv.Error as error:
        raise ImportFailed(
            [Problem(None, None, _("the file is not valid CSV: %(error)s") % {"error": error})]
        ) from None


def _read_xlsx(path: Path) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, TypeError) as error:
        raise ImportFailed(
            [
                Problem(
                    None,
                    None,
                    _("the file is not a valid XLSX workbook (%(error)s)")
                    % {"error": type(error).__name__},
                )
            ]
        ) from None
    except Exception as error:  # openpyxl raises many kinds for a damaged workbook
        raise ImportFailed(
            [
                Problem(
                    None,
                    None,
                    _("the file is not a valid XLSX workbook (%(error)s)")
                    % {"error": type(error).__name__},
                )
            ]
        ) from None
    try:
        sheet = workbook.worksheets[0]
        return [[_cell_text(value) for value in row] for row in sheet.iter_rows(values_only=True)]
    except Exception as error:  # a damaged sheet: name it, never a traceback
        raise ImportFailed(
            [
                Problem(
                    None,
                    None,
                    _("the workbook's first sheet cannot be read (%(error)s)")
                    % {"error": type(error).__name__},
                )
            ]
        ) from None
    finally:
        workbook.close()


def read_table(
    path: str | Path,
    *,
    required: tuple[str, ...],
    optional: tuple[str, ...] = (),
    pattern: re.Pattern | None = None,
    pattern_hint: str = "",
):
    """Read a CSV or XLSX file into rows keyed by lower-case column names.

    Raises ``ImportFailed`` for a file that cannot be read, an unknown or missing column, or a
    file without data rows. ``pattern`` admits further columns by name (e.g. ``access_2``). Empty rows are skipped; row numbers count the header as row 1.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in {".csv", ".xlsx"}:
        raise ImportFailed(
            [
                Problem(
                    None,
                    None,
                    _("unsupported file type %(suffix)r: use .csv or .xlsx")
                    % {"suffix": suffix or path.name},
                )
            ]
        )
    if not path.is_file():
        raise ImportFailed([Problem(None, None, _("file not found: %(path)s") % {"path": path})])
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ImportFailed([Problem(None, None, _("the file is larger than 200 MB"))])
    if path.stat().st_size == 0:
        raise ImportFailed([Problem(None, None, _("the file is empty"))])
    table = _read_csv(path) if suffix == ".csv" else _read_xlsx(path)

    while table and not any(table[-1]):
        table.pop()
    if not table or not any(table[0]):
        raise ImportFailed([Problem(None, None, _("the file is empty: no header row"))])

    header = [cell.strip().lower() for cell in table[0]]
    while header and header[-1] == "":
        header.pop()
    problems = Problems()
    allowed = set(required) | set(optional)
    seen = set()
    for position, name in enumerate(header, start=1):
        if name == "":
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
    for number, cells in enumerate(table[1:], start=2):
        if not any(cells):
            continue
        stray = [i for i, cell in enumerate(cells[len(header) :], start=len(header) + 1) if cell]
        if stray:
            problems.add(number, str(stray[0]), _("value outside any named column"))
            continue
        values = {name: (cells[i] if i < len(cells) else "") for i, name in enumerate(header)}
        rows.append(Row(number, values))
    problems.raise_if_any()
    if not rows:
        raise ImportFailed([Problem(None, None, _("the file has a header but no data rows"))])
    return rows


def parse_decimal(
    row: Row,
    column: str,
    problems: Problems,
    *,
    maximum: Decimal | None = None,
    minimum: Decimal = Decimal("0"),
) -> Decimal | None:
    """A decimal with ``.`` and at most two decimals (three are rounded half-up to two).

    Empty gives None. A problem is recorded, and None returned, for anything else that is wrong.
    """
    text = row[column]
    if text == "":
        return None
    match = _NUMBER.match(text)
    if not match:
        if re.match(r"^[+-]?\d+,\d+$", text):
            problems.add(
                row.number,
                column,
                _("%(value)r: use '.' as the decimal separator") % {"value": text},
            )
        else:
            problems.add(row.number, column, _("%(value)r is not a number") % {"value": text})
        return None
    decimals = match.group(1) or ""
    if len(decimals) > 3:
        problems.add(
            row.number,
            column,
            _("%(value)r has more than two decimals") % {"value": text},
        )
        return None
    raw = Decimal(text)
    if abs(raw) > MAX_POINTS_VALUE:
        problems.add(row.number, column, _("%(value)s is too large") % {"value": text})
        return None
    value = raw.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if value < minimum:
        if minimum == 0:
            message = _("%(value)s is negative; it must be 0 or more") % {"value": text}
        else:
            message = _("%(value)s is below %(minimum)s") % {"value": text, "minimum": minimum}
        problems.add(row.number, column, message)
        return None
    if maximum is not None and value > maximum:
        problems.add(
            row.number,
            column,
            _("%(value)s is above the maximum of %(maximum)s")
            % {"value": text, "maximum": maximum},
        )
        return None
    return value


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
