"""Inserting many rows at once, below the ORM: the national scale (3,300 units × 90 leaves)
makes Django's per-object work in ``bulk_create`` the bottleneck of imports and publishing.

Values are passed to the driver as they are (Decimal, bool, None, int, str); datetimes are
given the form each backend stores. Every caller runs inside a transaction.
"""

from __future__ import annotations

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
