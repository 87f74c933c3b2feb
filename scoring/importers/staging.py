"""The staged path of ``import_scores`` on PostgreSQL: the file in a temporary table, checked and
written set-based.

Why: a national file (3,300 units × 90 leaves, 297,000 rows) checked row by row in Python takes
seconds per step (a dict, four decimals and a model instance per row), and re-importing an
unchanged file loaded every score. Here:

1. **Staging.** The file's cells go as text, with their row number, into a temporary table
   (``ON COMMIT DROP``) by COPY. A plain CSV (no tab, backslash or line break inside a cell,
   no blank or ragged row) is sent as tab-separated text with no Python work per row (split at
   the commas, or by the csv module when a cell is quoted); any other CSV is streamed row by row
   (cells stripped, no dict); an XLSX goes through ``read_table`` and is then copied.
2. **Checks.** Each distinct cell text (a national file has some 3,300 unit codes, 90 criterion
   codes and a few hundred numbers) is judged once, by the very functions of the Python path
   (``check_unit``, ``check_criterion``, ``parse_decimal``), into small lookup tables; one
   ``CREATE TABLE AS`` joins every row to them, and to the score it would change, and flags the
   rows with a problem (the leaf's maximum, what the leaf's kind takes and the note's length are
   compared in SQL); duplicates are found by ``GROUP BY ... HAVING count(*) > 1``, control
   characters by regular expressions. Only the flagged rows are read back, to list their
   problems in the order the Python path lists them: the two paths give the same problems,
   word for word, for the same file.
3. **Writing.** Changed scores with one ``UPDATE ... FROM`` of the rows whose values are
   ``IS DISTINCT FROM`` the score's, its ``RETURNING`` feeding their history ('~') in the same
   statement; new scores with one ``INSERT ... SELECT``, their history ('+') likewise. Both are
   counted first: an unchanged file writes nothing and loads no score.

What is rare and hard to say exactly in SQL is left to the Python path, which then reads the
whole file itself (``UsePythonPath``): a file past the limits or unreadable as CSV, a bad header,
a value outside the named columns, a file without data rows. Those are refusals (or odd files),
never the common case.
"""

from __future__ import annotations

import csv
import io
import re
from itertools import islice
from operator import methodcaller
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from operations.bulk import (
    copy_into,
    history_insert_sql,
    history_user_id,
    new_row_values,
    record_creations,
)
from scoring.calculation import FIGURE_KINDS, SELF_SCORED_KINDS
from scoring.models import Assessment, Score, Unit

from . import base
from .base import (
    MAX_FIGURE_VALUE,
    NA,
    ImportFailed,
    Problem,
    Problems,
    Report,
    Row,
    check_duplicates,
    check_unit,
    parse_decimal,
    read_table,
)
from .criteria import get_set
from .scores import (
    MULTILINE,
    NOTE_MAX_LENGTH,
    OPTIONAL,
    REQUIRED,
    assessments_created,
    check_criterion,
    duplicate_what,
    figure_message,
    import_scores_python,
    leaves_of,
    no_self_score_message,
    note_too_long_message,
    sipas_message,
    taken_message,
    target_message,
    units_elsewhere,
)

COLUMNS = (*REQUIRED, *OPTIONAL)
STAGING = "import_scores_staging"
UNITS = "import_scores_units"
CRITERIA = "import_scores_criteria"
NUMBERS = "import_scores_numbers"
CHECKED = "import_scores_checked"
POINTS = "import_scores_points"
TABLES = (STAGING, UNITS, CRITERIA, NUMBERS, CHECKED, POINTS)
# Rows per COPY when rows are streamed: bounds the text held at once.
CHUNK = 50_000
# What str.strip() removes (every character for which str.isspace() is true), for btrim: a
# guard test checks it against Python's own definition.
WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
# The characters ``scoring.validators`` refuses, as PostgreSQL regular expressions (NUL cannot
# be in a PostgreSQL text, nor in a file read this far): every C0 control, DEL and the
# bidirectional controls; a multi-line cell (the note) may hold tabs and line breaks.
_BIDI_SQL = r"\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
CONTROL_SQL = rf"[\x01-\x1f\x7f{_BIDI_SQL}]"
MULTILINE_CONTROL_SQL = rf"[\x01-\x08\x0b\x0c\x0e-\x1f\x7f{_BIDI_SQL}]"
# The same multi-line set in Python, to find at once whether a plain CSV holds any at all.
_MULTILINE_CONTROL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
_SINGLE_LINE_CONTROL = re.compile("[\x00-\x1f\x7f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Memory for the joins and groupings of one import (the default 4 MB spills them to disk).
WORK_MEM = "64MB"


class UsePythonPath(Exception):
    """The staged path leaves this file to the row-by-row path (see the module's docstring)."""


def import_scores_staged(path, *, year: int, group: str, progress=None) -> Report:
    """``import_scores`` on PostgreSQL; a file the staged path leaves aside goes the Python
    way, with the same result."""
    if connection.vendor != "postgresql":
        raise RuntimeError("the staged import needs PostgreSQL")
    try:
        with transaction.atomic():
            return _import(Path(path), year, group, progress)
    except UsePythonPath:
        return import_scores_python(path, year=year, group=group, progress=progress)


def _execute(sql: str, params=()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _fetch(sql: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def quote(name: str) -> str:
    return connection.ops.quote_name(name)


def _import(path: Path, year: int, group: str, progress) -> Report:
    _execute("SELECT set_config('work_mem', %s, true)", [WORK_MEM])
    for table in TABLES:
        _execute(f"DROP TABLE IF EXISTS {table}")  # left by an earlier call in this transaction
    _execute(
        f"CREATE TEMPORARY TABLE {STAGING} (n integer GENERATED BY DEFAULT AS IDENTITY "
        f"(START WITH 2), {', '.join(f'{c} text NOT NULL DEFAULT %s' for c in COLUMNS)}) "
        "ON COMMIT DROP",
        [""] * len(COLUMNS),
    )
    header, suspect = _stage(path)
    if suspect:
        _check_control_characters(header)
    criteria_set = get_set(year, group)
    _build_lookups(criteria_set, year, group, header)
    had_scores = bool(
        _fetch(
            f"SELECT 1 FROM {quote(Score._meta.db_table)} s "
            f"JOIN {quote(Assessment._meta.db_table)} a ON a.id = s.assessment_id "
            "WHERE a.criteria_set_id = %s LIMIT 1",
            [criteria_set.pk],
        )
    )
    total = _check_rows(criteria_set, header, had_scores)
    if progress:
        progress(_("%(count)d rows checked") % {"count": total})
    report = _write(criteria_set, "note" in header, had_scores, total)
    for table in TABLES:
        _execute(f"DROP TABLE IF EXISTS {table}")
    return report


# 1. Staging ---------------------------------------------------------------------------------


def _stage(path: Path) -> tuple[list[str], bool]:
    """Copy the file's rows into the staging table. Returns the header (lower-case column
    names, in the file's order) and whether a cell may hold a control character."""
    if path.suffix.lower() == ".xlsx":
        return _stage_rows_of_table(path), False
    if path.suffix.lower() != ".csv" or not path.is_file():
        raise UsePythonPath  # read_table names the problem
    size = path.stat().st_size
    if size == 0 or size > base.MAX_FILE_BYTES:
        raise UsePythonPath
    data = path.read_bytes()
    if b"\x00" in data:
        raise UsePythonPath
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsePythonPath from None
    del data
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [cell.strip().lower() for cell in next(reader)]
    except (StopIteration, csv.Error):
        raise UsePythonPath from None
    allowed = set(COLUMNS)
    if (
        len(set(header)) != len(header)
        or not set(header) <= allowed
        or not set(REQUIRED) <= set(header)
    ):
        raise UsePythonPath  # a header read_table refuses: it lists every reason
    plain = "\t" not in text and "\\" not in text and text.count("\r") == text.count("\r\n")
    if plain and _stage_plain(text, reader, header):
        suspect = _MULTILINE_CONTROL.search(text) is not None
    else:
        suspect = _stage_streamed(text, header)
    # read_table skips rows without a value, and refuses a file without any, before anything
    # else is looked at: so must this path (the Python path says it).
    anything = " OR ".join(f"{_strip(name)} <> ''" for name in header)
    if not _fetch(f"SELECT 1 FROM {STAGING} WHERE {anything} LIMIT 1", [WHITESPACE] * len(header)):
        raise UsePythonPath
    return header, suspect


def _stage_plain(text: str, reader, header: list[str]) -> bool:
    """COPY a CSV whose cells hold no tab, backslash or line break, and whose rows all have the
    header's width, as tab-separated text (no Python work per row); False, with nothing
    copied, for any other CSV. Cells are stripped later, in SQL."""
    if '"' not in text:
        # Nothing quoted: the csv module would split each line at every comma.
        body = text.replace("\r\n", "\n").partition("\n")[2].replace(",", "\t")
        lines = body.split("\n") if body else []
        if lines and lines[-1] == "":
            lines.pop()  # the line break ending the last row
    else:
        try:
            lines = list(map("\t".join, reader))
        except csv.Error:
            raise UsePythonPath from None
    if not lines or len(lines) + 1 > base.MAX_ROWS:
        return False
    body = "\n".join(lines)
    if body.count("\n") != len(lines) - 1:
        return False  # a quoted cell holds a line break
    if set(map(methodcaller("count", "\t"), lines)) != {len(header) - 1}:
        return False  # a blank or ragged row
    del lines
    data = io.BytesIO(body.encode())
    del body
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(
            f"COPY {STAGING} ({', '.join(header)}) FROM STDIN", data, size=1 << 20
        )
    return True


def _stage_streamed(text: str, header: list[str]) -> bool:
    """COPY a CSV row by row, as ``read_table`` reads it (cells stripped, rows without a value
    skipped, short rows padded) but without a dict per row. Returns whether a row holds a
    control character; a value outside the named columns, or past the limits, is left to the
    Python path."""
    width = len(header)
    found = []

    def rows():
        strip = str.strip
        max_rows, max_columns = base.MAX_ROWS, base.MAX_COLUMNS
        reader = csv.reader(io.StringIO(text, newline=""))
        next(reader)
        for number, record in enumerate(reader, start=2):
            cells = list(map(strip, record))
            if not any(cells):
                continue
            if number > max_rows or len(cells) > max_columns:
                raise UsePythonPath
            if len(cells) != width:
                if any(cells[width:]):
                    raise UsePythonPath  # read_table lists it: value outside any column
                cells = (cells + [""] * width)[:width]
            # One search of the whole row first, as read_table does: most rows are clean.
            if not found and _SINGLE_LINE_CONTROL.search("".join(cells)) and _has_control(cells):
                found.append(number)
            yield (number, *cells)

    def _has_control(cells) -> bool:
        return any(
            (_MULTILINE_CONTROL if name in MULTILINE else _SINGLE_LINE_CONTROL).search(cell)
            for name, cell in zip(header, cells, strict=True)
        )

    try:
        _copy_csv_rows(header, rows())
    except csv.Error:
        raise UsePythonPath from None
    return bool(found)


def _stage_rows_of_table(path: Path) -> list[str]:
    """An XLSX (or anything ``read_table`` reads) through ``read_table``, then COPY."""
    rows = read_table(path, required=REQUIRED, optional=OPTIONAL, multiline=MULTILINE)
    header = list(rows[0].values)
    _copy_csv_rows(header, ((row.number, *row.values.values()) for row in rows))
    return header


def _copy_csv_rows(header: list[str], rows) -> None:
    """COPY (number, *cells) rows into the staging table, a chunk at a time."""
    sql = f"COPY {STAGING} (n, {', '.join(header)}) FROM STDIN WITH (FORMAT csv)"
    with connection.cursor() as cursor:
        while True:
            text = io.StringIO()
            # Every value quoted: an empty cell is an empty text, never NULL, and no line starts
            # with COPY's end-of-data marker (\.).
            writer = csv.writer(text, quoting=csv.QUOTE_ALL, lineterminator="\n")
            writer.writerows(islice(rows, CHUNK))
            chunk = text.getvalue()
            if not chunk:
                return
            cursor.cursor.copy_expert(sql, io.StringIO(chunk), size=1 << 20)


def _strip(column: str) -> str:
    return f"btrim({column}, %s)"


def _check_control_characters(header: list[str]) -> None:
    """Refuse, as ``read_table`` does, every cell holding a control character: row by row,
    column by column in the file's order, the first such character of each cell."""
    cells = ", ".join(
        f"({position}, %s, {_strip(f's.{name}')}, %s)" for position, name in enumerate(header)
    )
    params = []
    for name in header:
        params += [name, WHITESPACE, MULTILINE_CONTROL_SQL if name in MULTILINE else CONTROL_SQL]
    found = _fetch(
        f"SELECT s.n, c.name, substring(c.value FROM c.pattern) FROM {STAGING} s "
        f"CROSS JOIN LATERAL (VALUES {cells}) c(position, name, value, pattern) "
        "WHERE c.value ~ c.pattern ORDER BY s.n, c.position",
        params,
    )
    if found:
        raise ImportFailed(
            [
                Problem(n, name, base._control_message(f"U+{ord(character):04X}"))
                for n, name, character in found
            ]
        )


# 2. Checks ----------------------------------------------------------------------------------

NUMBER_COLUMNS = ("self_score", "final_score", "self_figure", "final_figure")
# The alias of each number column's lookup in the joins below.
ALIAS = {"self_score": "ss", "final_score": "fs", "self_figure": "sf", "final_figure": "ff"}


def _build_lookups(criteria_set, year: int, group: str, header: list[str]) -> None:
    """The lookup tables: every distinct text of the unit, criterion and number cells, judged
    once by the Python path's own checks."""
    # Units: the unit, or what check_unit says is wrong with the code.
    raw_units = [raw for (raw,) in _fetch(f"SELECT DISTINCT unit FROM {STAGING}")]
    codes = {raw.strip() for raw in raw_units}
    units = {u.code: u for u in Unit.objects.select_related("group").filter(code__in=codes)}
    elsewhere = units_elsewhere(criteria_set, units)
    taken = taken_message(year)
    rows = []
    for raw in raw_units:
        code = raw.strip()
        problems = Problems()
        unit = check_unit(
            Row(0, {"unit": code}), units, criteria_set.group, elsewhere, problems, taken
        )
        rows.append((raw, code, unit.pk if unit else None, _message(problems)))
    _create_lookup(UNITS, "raw text, code text, unit_id bigint, problem text", rows)

    # The criterion and number texts in one pass: a national file has a few thousand
    # combinations of them.
    numbers = [c for c in NUMBER_COLUMNS if c in header]
    combinations = _fetch(f"SELECT DISTINCT {', '.join(['criterion', *numbers])} FROM {STAGING}")

    # Criteria: the leaf with what its kind refuses, or what is wrong with the code.
    leaves = leaves_of(criteria_set)
    rows = []
    for raw in {combination[0] for combination in combinations}:
        code = raw.strip()
        leaf, problem = check_criterion(code, leaves, year, group)
        if leaf is None:
            rows.append((raw, code, None, problem, None, False, False, False, *[None] * 4))
            continue
        rows.append(
            (
                raw,
                code,
                leaf.pk,
                None,
                leaf.max_points,
                leaf.kind in FIGURE_KINDS,
                leaf.kind in SELF_SCORED_KINDS,
                bool(leaf.sipas_element),
                target_message(leaf),
                figure_message(leaf),
                no_self_score_message(leaf),
                sipas_message(leaf),
            )
        )
    _create_lookup(
        CRITERIA,
        "raw text, code text, criterion_id bigint, problem text, max_points numeric, "
        "is_target boolean, self_scored boolean, sipas boolean, target_message text, "
        "figure_message text, no_self_message text, sipas_message text",
        rows,
    )

    # Numbers: each text parsed as points and as a figure, as parse_decimal does; the leaf's
    # maximum is compared in SQL. The empty text stands for the columns the file leaves out.
    rows = []
    for raw in {""}.union(*(combination[1:] for combination in combinations)):
        text = raw.strip()
        cell = Row(0, {"value": text})
        points, figure = Problems(), Problems()
        rows.append(
            (
                raw,
                text,
                text.lower() == NA,
                parse_decimal(cell, "value", points),
                _message(points),
                parse_decimal(cell, "value", figure, largest=MAX_FIGURE_VALUE),
                _message(figure),
            )
        )
    _create_lookup(
        NUMBERS,
        "raw text, text text, is_na boolean, points numeric, points_problem text, "
        "figure numeric, figure_problem text",
        rows,
    )


def _message(problems: Problems) -> str | None:
    return problems.items[0].message if problems else None


def _create_lookup(table: str, columns: str, rows: list[tuple]) -> None:
    _execute(f"CREATE TEMPORARY TABLE {table} ({columns}) ON COMMIT DROP")
    names = [definition.split()[0] for definition in columns.split(", ")]
    copy_into(table, names, rows)
    _execute(f"ANALYZE {table}")


def _joins(header: list[str]) -> str:
    """Every staged row joined to its lookups (a number column the file leaves out: to the
    empty text's)."""
    joins = [
        f"FROM {STAGING} s",
        f"JOIN {UNITS} u ON u.raw = s.unit",
        f"JOIN {CRITERIA} c ON c.raw = s.criterion",
    ]
    for column in NUMBER_COLUMNS:
        alias = ALIAS[column]
        if column in header:
            joins.append(f"JOIN {NUMBERS} {alias} ON {alias}.raw = s.{column}")
        else:
            joins.append(f"CROSS JOIN (SELECT * FROM {NUMBERS} WHERE raw = '') {alias}")
    return " ".join(joins)


_LEAF = "c.criterion_id IS NOT NULL"
_FINAL = "fs.text <> '' AND NOT fs.is_na"  # a final score typed (not 'na')
# Every problem a row can have, in the order the Python path (scores.import_rows,
# scores._check_kind) records them: (column, message or NULL, the text above the leaf's maximum
# or NULL).
_PROBLEMS = (
    ("unit", "u.problem", "NULL"),
    ("criterion", "c.problem", "NULL"),
    (
        "self_score",
        "ss.points_problem",
        f"CASE WHEN {_LEAF} AND ss.points > c.max_points THEN ss.text END",
    ),
    (
        "final_score",
        "CASE WHEN NOT fs.is_na THEN fs.points_problem END",
        f"CASE WHEN {_LEAF} AND NOT fs.is_na AND fs.points > c.max_points THEN fs.text END",
    ),
    ("self_figure", "sf.figure_problem", "NULL"),
    ("final_figure", "ff.figure_problem", "NULL"),
    ("self_score", "CASE WHEN c.is_target AND ss.text <> '' THEN c.target_message END", "NULL"),
    ("final_score", f"CASE WHEN c.is_target AND {_FINAL} THEN c.target_message END", "NULL"),
    (
        "self_figure",
        f"CASE WHEN {_LEAF} AND NOT c.is_target AND sf.text <> '' THEN c.figure_message END",
        "NULL",
    ),
    (
        "final_figure",
        f"CASE WHEN {_LEAF} AND NOT c.is_target AND ff.text <> '' THEN c.figure_message END",
        "NULL",
    ),
    (
        "self_score",
        f"CASE WHEN {_LEAF} AND NOT c.is_target AND NOT c.self_scored AND ss.text <> '' "
        "THEN c.no_self_message END",
        "NULL",
    ),
    (
        "final_score",
        f"CASE WHEN {_LEAF} AND NOT c.is_target AND c.sipas AND {_FINAL} THEN c.sipas_message END",
        "NULL",
    ),
    ("note", f"CASE WHEN length(k.note) > {NOTE_MAX_LENGTH} THEN %s END", "NULL"),
)
# Whether a row has any of them, without making the messages.
_FLAGGED = (
    "u.problem IS NOT NULL OR c.problem IS NOT NULL "
    "OR ss.points_problem IS NOT NULL OR sf.figure_problem IS NOT NULL "
    "OR ff.figure_problem IS NOT NULL "
    "OR (NOT fs.is_na AND fs.points_problem IS NOT NULL) "
    f"OR ({_LEAF} AND (ss.points > c.max_points OR (NOT fs.is_na AND fs.points > c.max_points) "
    f"OR CASE WHEN c.is_target THEN ss.text <> '' OR ({_FINAL}) "
    "ELSE sf.text <> '' OR ff.text <> '' OR (ss.text <> '' AND NOT c.self_scored) "
    f"OR (c.sipas AND {_FINAL}) END)) "
    f"OR length(t.note) > {NOTE_MAX_LENGTH}"
)
# The score columns an import writes (appraisal_2 and figure_2 are cleared).
WRITTEN = ("self_score", "self_figure", "appraisal_1", "figure_1", "not_applicable")
CLEARED = ("appraisal_2", "figure_2")


def _check_rows(criteria_set, header: list[str], had_scores: bool) -> int:
    """Join every staged row to the lookups, and to its score if it has one, into the checked
    table, each row flagged when it has a problem; raise ``ImportFailed`` listing every
    problem, as the Python path lists them. Returns the number of rows."""
    note = _strip("s.note") if "note" in header else "''"
    empty = " AND ".join(
        ["u.code = ''", "c.code = ''", *(f"{a}.text = ''" for a in ALIAS.values())]
    )
    if had_scores:
        # The score each row would update, with the values it holds (compared when writing).
        existing = (
            "LEFT JOIN (SELECT a.unit_id, e.criterion_id, e.id, "
            f"{', '.join(f'e.{c}' for c in (*WRITTEN, *CLEARED, 'note'))} "
            f"FROM {quote(Score._meta.db_table)} e "
            f"JOIN {quote(Assessment._meta.db_table)} a ON a.id = e.assessment_id "
            "WHERE a.criteria_set_id = %s) e "
            "ON e.unit_id = u.unit_id AND e.criterion_id = c.criterion_id"
        )
        params = [criteria_set.pk]
        old = ", ".join(f"e.{c} AS old_{c}" for c in (*WRITTEN, *CLEARED, "note"))
        old += ", e.id AS score_id"
    else:
        existing, params = "", []
        old = ", ".join(
            f"NULL::{'boolean' if c == 'not_applicable' else 'text' if c == 'note' else 'numeric'}"
            f" AS old_{c}"
            for c in (*WRITTEN, *CLEARED, "note")
        )
        old += ", NULL::bigint AS score_id"
    _execute(
        f"CREATE TEMPORARY TABLE {CHECKED} ON COMMIT DROP AS "
        "SELECT s.n, u.code AS unit, c.code AS criterion, u.unit_id, c.criterion_id, "
        "c.is_target, ss.points AS self_score, sf.figure AS self_figure, "
        "CASE WHEN fs.is_na THEN NULL ELSE fs.points END AS appraisal_1, "
        "CASE WHEN fs.is_na THEN NULL ELSE ff.figure END AS figure_1, "
        "ff.figure AS final_figure, fs.is_na AS not_applicable, t.note, "
        f"{old}, {_FLAGGED} AS problem "
        f"{_joins(header)} CROSS JOIN LATERAL (SELECT {note} AS note) t {existing} "
        f"WHERE NOT ({empty} AND t.note = '')",
        [*([WHITESPACE] if "note" in header else []), *params],
    )
    # Statistics for the planner: without them it takes the table for a few hundred rows and
    # may join it in nested loops (hours at national scale).
    _execute(f"ANALYZE {CHECKED} (unit_id, score_id)")
    total, flagged = _fetch(f"SELECT count(*), count(*) FILTER (WHERE problem) FROM {CHECKED}")[0]
    if total == 0:
        raise UsePythonPath  # no row with a value: read_table says so
    problems = Problems()
    if flagged:
        _list_row_problems(problems, header)
    _check_duplicates(problems, thorough=bool(flagged))
    problems.raise_if_any()
    return total


def _list_row_problems(problems: Problems, header: list[str]) -> None:
    values = ", ".join(
        f"({order}, %s, {message}, {above})"
        for order, (_column, message, above) in enumerate(_PROBLEMS)
    )
    params = []
    for column, message, _above in _PROBLEMS:
        params.append(column)
        if "%s" in message:
            params.append(note_too_long_message())
    found = _fetch(
        f"SELECT k.n, p.column_name, p.message, p.above, c.max_points {_joins(header)} "
        f"JOIN {CHECKED} k ON k.n = s.n "
        f"CROSS JOIN LATERAL (VALUES {values}) p(position, column_name, message, above) "
        "WHERE k.problem AND (p.message IS NOT NULL OR p.above IS NOT NULL) "
        "ORDER BY k.n, p.position",
        params,
    )
    for n, column, message, above, maximum in found:
        if message is not None:
            problems.add(n, column, message)
        else:
            # Above the leaf's maximum: parse_decimal says it, as on the Python path.
            parse_decimal(Row(n, {column: above}), column, problems, maximum=maximum)


def _check_duplicates(problems: Problems, *, thorough: bool) -> None:
    """Every row repeating the unit and criterion of an earlier row. A file without other
    problems has a unit and a leaf on every row: grouping their ids tells whether any row
    repeats another; the rows themselves are read only when one does (or when the file has
    other problems, some rows then lacking a known unit or leaf)."""
    if not thorough and not _fetch(
        f"SELECT 1 FROM {CHECKED} GROUP BY unit_id, criterion_id HAVING count(*) > 1 LIMIT 1"
    ):
        return
    found = _fetch(
        "SELECT n, unit, criterion FROM ("
        "SELECT n, unit, criterion, count(*) OVER (PARTITION BY unit, criterion) AS times "
        f"FROM {CHECKED} WHERE unit <> '' AND criterion <> '') d WHERE times > 1 ORDER BY n"
    )
    rows = [Row(n, {"unit": unit, "criterion": criterion}) for n, unit, criterion in found]
    check_duplicates(
        rows, lambda r: (r["unit"], r["criterion"]), problems, "criterion", duplicate_what()
    )


# 3. Writing ---------------------------------------------------------------------------------


def _target_points(criteria_set) -> None:
    """A target leaf's points follow from its figures by the leaf's rule
    (``Criterion.points_for``, exact, half-up): computed once per distinct leaf and figure."""
    pairs = _fetch(
        f"SELECT DISTINCT k.criterion_id, f.figure FROM {CHECKED} k "
        "CROSS JOIN LATERAL (VALUES (k.self_figure), (k.final_figure)) f(figure) "
        "WHERE k.is_target AND f.figure IS NOT NULL"
    )
    leaves = {leaf.pk: leaf for leaf in criteria_set.criteria.filter(pk__in={p[0] for p in pairs})}
    _execute(
        f"CREATE TEMPORARY TABLE {POINTS} (criterion_id bigint, figure numeric, points numeric, "
        "PRIMARY KEY (criterion_id, figure)) ON COMMIT DROP"
    )
    copy_into(
        POINTS,
        ["criterion_id", "figure", "points"],
        [(pk, figure, leaves[pk].points_for(figure)) for pk, figure in pairs],
    )
    _execute(
        f"UPDATE {CHECKED} k SET "
        f"self_score = (SELECT p.points FROM {POINTS} p "
        "WHERE p.criterion_id = k.criterion_id AND p.figure = k.self_figure), "
        "appraisal_1 = CASE WHEN k.not_applicable THEN NULL ELSE "
        f"(SELECT p.points FROM {POINTS} p "
        "WHERE p.criterion_id = k.criterion_id AND p.figure = k.final_figure) END "
        "WHERE k.is_target"
    )


def _defaults(model, given: list[str], moment) -> tuple[list[str], str, list]:
    """The columns of a new row of ``model`` that are not ``given``, and their SQL values as
    parameters (the model's defaults: ``operations.bulk.new_row_values``), typed."""
    template = new_row_values(model, dict.fromkeys(given), moment)
    fields = {f.attname: f for f in model._meta.concrete_fields}
    columns = [name for name in template if name not in given]
    sql = ", ".join(f"%s::{fields[name].db_type(connection)}" for name in columns)
    return [fields[name].column for name in columns], sql, [template[name] for name in columns]


def _write(criteria_set, has_note: bool, had_scores: bool, total: int) -> Report:
    report = Report()
    moment = timezone.now()
    if _fetch(f"SELECT 1 FROM {CHECKED} WHERE is_target LIMIT 1"):
        _target_points(criteria_set)
    assessment_table = quote(Assessment._meta.db_table)
    score_table = quote(Score._meta.db_table)

    # Assessments of the units new to the set, in the order the file names them.
    columns, values, params = _defaults(Assessment, ["criteria_set_id", "unit_id"], moment)
    created = _execute(
        f"INSERT INTO {assessment_table} (criteria_set_id, unit_id, "
        f"{', '.join(quote(c) for c in columns)}) "
        f"SELECT %s, f.unit_id, {values} FROM "
        f"(SELECT unit_id, min(n) AS first FROM {CHECKED} GROUP BY unit_id) f "
        f"WHERE NOT EXISTS (SELECT 1 FROM {assessment_table} a "
        "WHERE a.criteria_set_id = %s AND a.unit_id = f.unit_id) ORDER BY f.first",
        [criteria_set.pk, *params, criteria_set.pk],
    )
    if created:
        report.lines.append(assessments_created(created))

    written = [*WRITTEN, "note"] if has_note else list(WRITTEN)
    # A row changes its score when a value differs from what the checked table read from it.
    old = ", ".join(f"k.old_{c}" for c in (*written, *CLEARED))
    new = ", ".join([*(f"k.{c}" for c in written), *("NULL::numeric" for _c in CLEARED)])
    changes = f"k.score_id IS NOT NULL AND ({old}) IS DISTINCT FROM ({new})"
    # What is to do, counted first: an unchanged file runs no UPDATE or INSERT at all.
    to_create, to_update = _fetch(
        f"SELECT count(*) FILTER (WHERE k.score_id IS NULL), count(*) FILTER (WHERE {changes}) "
        f"FROM {CHECKED} k"
    )[0]
    if to_update:
        # Changed scores: the file's values and the next version, their history in the same
        # statement (what bulk_update_with_history writes: '~', no reason, the request's user
        # if there is one).
        assignments = ", ".join(
            [*(f"{quote(c)} = k.{c}" for c in written), *(f"{quote(c)} = NULL" for c in CLEARED)]
        )
        report.updated = _execute(
            f"WITH changed AS (UPDATE {score_table} s SET {assignments}, "
            f"version = s.version + 1 FROM {CHECKED} k WHERE s.id = k.score_id AND {changes} "
            "RETURNING s.*) " + history_insert_sql(Score, "changed"),
            [moment, None, "~", history_user_id(Score)],
        )
    if not to_create:
        report.unchanged = total - report.updated
        report.lines.insert(0, report.summary(_("scores")))
        return report

    # New scores, in the file's order, and their creation history in the same statement: '+',
    # the reason "import", no user, as record_creations writes it.
    given = ["assessment_id", "criterion_id", *written, *CLEARED]
    columns, values, params = _defaults(Score, given, moment)
    report.created = _execute(
        f"WITH created AS (INSERT INTO {score_table} "
        f"({', '.join(quote(c) for c in [*given, *columns])}) "
        f"SELECT a.id, k.criterion_id, {', '.join(f'k.{c}' for c in written)}, NULL, NULL, "
        f"{values} FROM {CHECKED} k JOIN {assessment_table} a "
        "ON a.criteria_set_id = %s AND a.unit_id = k.unit_id "
        "WHERE k.score_id IS NULL ORDER BY k.n RETURNING *) "
        + history_insert_sql(Score, "created"),
        [*params, criteria_set.pk, moment, "import", "+", None],
    )
    if report.created and had_scores:
        # Scores of the set that have no history yet (opened empty by the workspace) get their
        # creation history too, as on the Python path. Not on a first import: the set then has
        # no score but the new ones.
        record_creations(
            Score.objects.filter(assessment__criteria_set=criteria_set), "import", moment
        )
    report.unchanged = total - report.created - report.updated
    report.lines.insert(0, report.summary(_("scores")))
    return report
