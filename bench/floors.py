"""The floors of ``import_scores`` and ``publish``: the least any program must do to write the
same rows, measured in the same run as the commands (``run_imports.py``), year by year.

Each floor is its own process (``run_imports.py`` runs it under ``/usr/bin/time -v``, like the
commands: wall time and peak memory), with psycopg2 alone, no Django:

``import``: reads the year's scores file, looks up the assessment and criterion ids (two
queries), types every value (``Decimal``, ``na`` → not applicable, empty → NULL), and COPYs the
rows, every column of a score (the ones the file does not give at the model's defaults, as the
importer writes them), into ``bench_floor_score``, a regular table made by ``run_imports.py``
as ``(LIKE scoring_score INCLUDING ALL)``: the same columns, checks and indexes (primary key,
unique pair, the two foreign-key indexes), no foreign keys. Then COMMIT.

``publish``: one ``SELECT assessment, field, SUM(final), SUM(max) ... GROUP BY`` over the
year's scores joined to its criteria (the field of a leaf found by a recursive walk of the
tree), one SELECT of the leaf values to freeze (3,300 × 90 rows at national scale), then COPY of
the frozen leaves and of the fields (3,300 × 9) into ``bench_floor_leaf`` and
``bench_floor_field``, ``(LIKE rankings_publishedleaf / rankings_publishedfield INCLUDING
ALL)``. Then COMMIT. ``result_id`` is the assessment's id (the copies have no foreign keys).

The tables are created before and dropped after by ``run_imports.py`` (``create_sql`` and
``drop_sql`` here), outside the timing. The process prints one JSON line: its phases, timed
with ``time.perf_counter`` (``copy_commit_s``: COPY + COMMIT; ``sql_s``: every statement, COPY
and COMMIT included).

Usage (normally run by ``run_imports.py``)::

    .venv/bin/python bench/floors.py import --db cchc_bench_small --year 2015 \\
        --file bench/out/u30/scores-2015.csv
    .venv/bin/python bench/floors.py publish --db cchc_bench_small --year 2015
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import time
from datetime import UTC, datetime
from decimal import Decimal

GROUP = "communes"
TABLES = {
    "import": {"bench_floor_score": "scoring_score"},
    "publish": {
        "bench_floor_leaf": "rankings_publishedleaf",
        "bench_floor_field": "rankings_publishedfield",
    },
}
CENT = Decimal("0.01")


def create_sql(kind: str) -> str:
    return "; ".join(
        f"DROP TABLE IF EXISTS {copy}; CREATE TABLE {copy} (LIKE {real} INCLUDING ALL)"
        for copy, real in TABLES[kind].items()
    )


def drop_sql(kind: str) -> str:
    return "; ".join(f"DROP TABLE IF EXISTS {copy}" for copy in TABLES[kind])


class _Null:
    """COPY's NULL for the csv module, written unquoted (as ``operations/bulk.py`` does)."""

    __slots__ = ()

    def __float__(self) -> float:
        return 0.0

    def __str__(self) -> str:
        return "\\N"


NULL = _Null()


class Clock:
    """Seconds per phase, and the statements' share (``sql``)."""

    def __init__(self) -> None:
        self.phases: dict[str, float] = {}
        self.sql = 0.0
        self.started = time.perf_counter()

    def run(self, name: str, function, *args, sql: bool = False):
        started = time.perf_counter()
        try:
            return function(*args)
        finally:
            seconds = time.perf_counter() - started
            self.phases[name] = self.phases.get(name, 0.0) + seconds
            if sql:
                self.sql += seconds

    def result(self, **extra) -> dict:
        return {
            "phases_s": {k: round(v, 4) for k, v in self.phases.items()},
            "sql_s": round(self.sql, 4),
            "in_process_s": round(time.perf_counter() - self.started, 4),
            **extra,
        }


def connect(db: str):
    import psycopg2

    if not db.startswith("cchc_bench"):
        raise SystemExit(f"refusing database {db!r}: the benchmarks use cchc_bench* only")
    return psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname=db)


def columns_of(cursor, table: str) -> list[tuple[str, str, bool, bool]]:
    """(name, type, nullable, has a default or identity) of every column, in order."""
    cursor.execute(
        "SELECT column_name, data_type, is_nullable = 'YES', "
        "column_default IS NOT NULL OR is_identity = 'YES' "
        "FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
        [table],
    )
    return cursor.fetchall()


def filler(data_type: str, moment: datetime):
    """The value a NOT NULL column the floor does not give gets: the model's defaults ("" for
    text, false, 0) and ``moment`` for a timestamp (``auto_now``)."""
    if data_type in ("text", "character varying"):
        return ""
    if data_type == "boolean":
        return False
    if data_type.startswith("timestamp") or data_type == "date":
        return moment
    return 0


def copy_rows(cursor, table: str, given: list[str], rows: list[tuple], clock: Clock) -> int:
    """COPY ``rows`` (values of the ``given`` columns) into ``table`` with every other NOT NULL
    column filled as the application would: all columns but the identity, as the app writes
    them. The text is made by the csv module (C), like ``operations/bulk.py``."""
    moment = datetime.now(UTC)
    names, extra = [], []
    for name, data_type, nullable, has_default in columns_of(cursor, table):
        if name in given:
            continue
        if has_default or nullable:
            continue
        names.append(name)
        extra.append(filler(data_type, moment))
    order = [*given, *names]
    text = io.StringIO()
    writer = csv.writer(text, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
    tail = tuple(extra)
    clock.run(
        "copy_text",
        writer.writerows,
        ([NULL if v is None else v for v in (*row, *tail)] for row in rows),
    )
    text.seek(0)
    sql = f"COPY {table} ({', '.join(order)}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
    clock.run("copy", cursor.copy_expert, sql, text, sql=True)
    return len(rows)


def criteria_set_id(cursor, year: int, group: str) -> int:
    cursor.execute(
        "SELECT s.id FROM scoring_criteriaset s JOIN scoring_round r ON r.id = s.round_id "
        "JOIN scoring_unitgroup g ON g.id = s.group_id WHERE r.year = %s AND g.code = %s",
        [year, group],
    )
    row = cursor.fetchone()
    if row is None:
        raise SystemExit(f"no criteria set for {year} {group}")
    return row[0]


def decimal_or_none(text: str) -> Decimal | None:
    if text == "":
        return None
    return Decimal(text.replace(",", ".")).quantize(CENT)


def floor_import(db: str, year: int, group: str, path: str) -> dict:
    clock = Clock()
    connection = clock.run("connect", connect, db)
    cursor = connection.cursor()

    def lookups():
        set_id = criteria_set_id(cursor, year, group)
        cursor.execute(
            "SELECT u.code, a.id FROM scoring_assessment a JOIN scoring_unit u ON u.id = a.unit_id"
            " WHERE a.criteria_set_id = %s",
            [set_id],
        )
        assessments = dict(cursor.fetchall())
        cursor.execute(
            "SELECT code, id FROM scoring_criterion WHERE criteria_set_id = %s AND is_leaf",
            [set_id],
        )
        return assessments, dict(cursor.fetchall())

    assessments, criteria = clock.run("lookups", lookups, sql=True)

    def read() -> list[tuple]:
        rows = []
        with open(path, encoding="utf-8", newline="") as handle:
            for record in csv.DictReader(handle):
                final = record["final_score"]
                na = final.lower() == "na"
                rows.append(
                    (
                        assessments[record["unit"]],
                        criteria[record["criterion"]],
                        decimal_or_none(record["self_score"]),
                        decimal_or_none(record.get("self_figure") or ""),
                        None if na else decimal_or_none(final),
                        decimal_or_none(record.get("final_figure") or ""),
                        na,
                        record.get("note") or "",
                        1,
                    )
                )
        return rows

    rows = clock.run("read_and_type", read)
    given = [
        "assessment_id",
        "criterion_id",
        "self_score",
        "self_figure",
        "appraisal_1",
        "figure_1",
        "not_applicable",
        "note",
        "version",
    ]
    count = copy_rows(cursor, "bench_floor_score", given, rows, clock)
    clock.run("commit", connection.commit, sql=True)
    connection.close()
    return clock.result(
        rows=count,
        copy_commit_s=round(clock.phases["copy"] + clock.phases["commit"], 4),
    )


# The field of every leaf: the root of its branch.
TREE = """
WITH RECURSIVE tree AS (
    SELECT id, id AS field_id FROM scoring_criterion
    WHERE criteria_set_id = %(set)s AND parent_id IS NULL
  UNION ALL
    SELECT c.id, t.field_id FROM scoring_criterion c JOIN tree t ON c.parent_id = t.id
)
"""


def floor_publish(db: str, year: int, group: str) -> dict:
    clock = Clock()
    connection = clock.run("connect", connect, db)
    cursor = connection.cursor()
    set_id = clock.run("lookups", criteria_set_id, cursor, year, group, sql=True)

    def fields_by_unit():
        cursor.execute(
            TREE + "SELECT s.assessment_id, t.field_id, "
            "SUM(COALESCE(s.appraisal_2, s.appraisal_1)), "
            "SUM(CASE WHEN s.not_applicable THEN 0 ELSE c.max_points END) "
            "FROM scoring_score s JOIN scoring_criterion c ON c.id = s.criterion_id "
            "JOIN tree t ON t.id = s.criterion_id "
            "JOIN scoring_assessment a ON a.id = s.assessment_id "
            "WHERE a.criteria_set_id = %(set)s GROUP BY s.assessment_id, t.field_id",
            {"set": set_id},
        )
        return cursor.fetchall()

    sums = clock.run("select_fields", fields_by_unit, sql=True)

    def leaves():
        cursor.execute(
            "SELECT s.assessment_id, c.code, c.position, s.self_score, "
            "COALESCE(s.appraisal_2, s.appraisal_1), s.not_applicable, s.note, s.self_figure, "
            "COALESCE(s.figure_2, s.figure_1) "
            "FROM scoring_score s JOIN scoring_criterion c ON c.id = s.criterion_id "
            "JOIN scoring_assessment a ON a.id = s.assessment_id "
            "WHERE a.criteria_set_id = %s ORDER BY s.assessment_id, c.position",
            [set_id],
        )
        return cursor.fetchall()

    leaf_rows = clock.run("select_leaves", leaves, sql=True)

    def field_info():
        cursor.execute(
            "SELECT id, code, title, position FROM scoring_criterion "
            "WHERE criteria_set_id = %s AND parent_id IS NULL",
            [set_id],
        )
        return {pk: (code, title, position) for pk, code, title, position in cursor.fetchall()}

    info = clock.run("lookups", field_info, sql=True)

    def make_fields():
        rows = []
        for assessment_id, field_id, points, maximum in sums:
            code, title, position = info[field_id]
            points = points or Decimal(0)
            index = (points * 100 / maximum).quantize(CENT) if maximum else None
            rows.append((assessment_id, code, title, position, points, maximum, index))
        return rows

    field_rows = clock.run("compute", make_fields)
    leaf_given = [
        "result_id",
        "code",
        "position",
        "self_score",
        "final_score",
        "not_applicable",
        "note",
        "self_figure",
        "figure",
    ]
    field_given = ["result_id", "code", "title", "position", "points", "max_points", "index"]
    leaves_n = copy_rows(cursor, "bench_floor_leaf", leaf_given, leaf_rows, clock)
    fields_n = copy_rows(cursor, "bench_floor_field", field_given, field_rows, clock)
    clock.run("commit", connection.commit, sql=True)
    connection.close()
    return clock.result(
        leaves=leaves_n,
        fields=fields_n,
        copy_commit_s=round(clock.phases["copy"] + clock.phases["commit"], 4),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=("import", "publish"))
    parser.add_argument("--db", required=True)
    parser.add_argument("--year", type=int, required=True)
    parser.add_argument("--group", default=GROUP)
    parser.add_argument("--file", help="import: the year's scores file")
    args = parser.parse_args()
    if args.kind == "import":
        if not args.file:
            raise SystemExit("import needs --file")
        result = floor_import(args.db, args.year, args.group, args.file)
    else:
        result = floor_publish(args.db, args.year, args.group)
    print("FLOOR_JSON " + json.dumps(result), flush=True)


if __name__ == "__main__":
    sys.exit(main())
