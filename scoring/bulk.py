"""Inserting many rows at once, below the ORM: the national scale (3,300 units × 90 leaves)
makes Django's per-object work in ``bulk_create`` the bottleneck of imports and publishing.

Values are passed to the driver as they are (Decimal, bool, None, int, str); datetimes are
given the form each backend stores. Every caller runs inside a transaction.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from django.db import connection

PAGE = 5000


def db_datetime(moment: datetime):
    """A datetime as the backend stores it (SQLite keeps naive UTC text, like Django does)."""
    if connection.vendor == "sqlite":
        return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
    return moment


def _copy_field(value) -> str:
    """One field of a COPY ... CSV line: NULL is an unquoted \\N, text is always quoted."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, str):
        return '"' + value.replace('"', '""') + '"'
    return str(value)


def insert_rows(model, columns: list[str], rows: list[tuple]) -> None:
    """INSERT ``rows`` (tuples in the order of ``columns``) into the model's table: COPY on
    PostgreSQL, executemany elsewhere."""
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            text = "".join(",".join(_copy_field(v) for v in row) + "\n" for row in rows)
            cursor.cursor.copy_expert(
                f"COPY {table} ({names}) FROM STDIN WITH (FORMAT csv, NULL '\\N')",
                io.StringIO(text),
            )
        else:
            marks = ", ".join(["%s"] * len(columns))
            for start in range(0, len(rows), PAGE):
                cursor.executemany(
                    f"INSERT INTO {table} ({names}) VALUES ({marks})", rows[start : start + PAGE]
                )


class _Null:
    """COPY's NULL for the csv module: it counts as a number (``__float__``), so it is written
    unquoted as ``\\N``, while every string, the empty one and the text ``\\N`` included, is
    quoted."""

    __slots__ = ()

    def __float__(self) -> float:
        return 0.0

    def __str__(self) -> str:
        return "\\N"


_NULL = _Null()


def insert_many(model, columns: list[str], rows: list) -> None:
    """``insert_rows`` for large pages of rows (a restore): the same values are accepted (None,
    bool, int, Decimal, str, date, datetime) and the same rows written, but on PostgreSQL the
    COPY text is made by the csv module, in C, not value by value in Python."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        insert_rows(model, columns, rows)
        return
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    text = io.StringIO()
    writer = csv.writer(text, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
    null = _NULL
    writer.writerows([null if value is None else value for value in row] for row in rows)
    text.seek(0)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(
            f"COPY {table} ({names}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", text
        )


def record_creations(model, where: str, params: list, reason: str, moment: datetime) -> None:
    """Write the creation history (django-simple-history's '+' rows) of the model's rows that
    ``where`` selects and that have no history yet, in one INSERT ... SELECT."""
    history = model.history.model
    source = connection.ops.quote_name(model._meta.db_table)
    target = connection.ops.quote_name(history._meta.db_table)
    copied = [f.column for f in model._meta.concrete_fields]
    columns = [*copied, "history_date", "history_change_reason", "history_type", "history_user_id"]
    selected = ", ".join(f"s.{connection.ops.quote_name(c)}" for c in copied)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {target} ({', '.join(connection.ops.quote_name(c) for c in columns)}) "
            f"SELECT {selected}, %s, %s, '+', NULL FROM {source} s WHERE {where} "
            f"AND NOT EXISTS (SELECT 1 FROM {target} h WHERE h.id = s.id)",
            [db_datetime(moment), reason, *params],
        )
