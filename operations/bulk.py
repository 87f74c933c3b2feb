"""Inserting many rows at once, below the ORM: the national scale (3,300 units × 90 leaves)
makes Django's per-object work in ``bulk_create`` the bottleneck of imports, publishing and
restores.

Columns, defaults and tables come from the model (``new_row_values``) and rows to act on from a
queryset (``record_creations``), never from hand-kept copies or raw table names. Every caller
runs inside a transaction.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime

from django.db import connection

PAGE = 5000


def db_datetime(moment: datetime):
    """A datetime as the backend stores it (SQLite keeps naive UTC text, like Django does)."""
    if connection.vendor == "sqlite":
        return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
    return moment


def new_row_values(model, given: dict, moment: datetime) -> dict:
    """Every concrete column of a new row of ``model`` (``attname`` → value): what is
    ``given``, the field's default for the rest (``auto_now`` and ``auto_now_add`` fields get
    ``moment``), the primary key left to the database."""
    values = {}
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        if field.attname in given:
            values[field.attname] = given[field.attname]
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            values[field.attname] = db_datetime(moment)
        elif field.has_default() or field.null or field.empty_strings_allowed:
            values[field.attname] = field.get_default()  # "" for text, None for nullable
        else:
            raise ValueError(f"{model.__name__}.{field.attname} has no value and no default")
    return values


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


def insert_rows(model, columns: list[str], rows: list) -> None:
    """INSERT ``rows`` (sequences in the order of ``columns``: None, bool, int, Decimal, str,
    date, datetime) into the model's table: COPY on PostgreSQL, its text made by the csv module
    (in C, not value by value in Python); executemany in pages elsewhere."""
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            text = io.StringIO()
            writer = csv.writer(text, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
            writer.writerows([_NULL if value is None else value for value in row] for row in rows)
            text.seek(0)
            cursor.cursor.copy_expert(
                f"COPY {table} ({names}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", text
            )
        else:
            marks = ", ".join(["%s"] * len(columns))
            for start in range(0, len(rows), PAGE):
                cursor.executemany(
                    f"INSERT INTO {table} ({names}) VALUES ({marks})", rows[start : start + PAGE]
                )


def insert_dicts(model, rows: list[dict], moment: datetime) -> None:
    """``insert_rows`` for rows given as column → value: the model's defaults for the columns
    not given (``new_row_values``), a JSON column's value (a list, a dict) encoded."""
    if not rows:
        return
    template = new_row_values(model, rows[0], moment)
    json_columns = {
        f.attname for f in model._meta.concrete_fields if f.get_internal_type() == "JSONField"
    }
    insert_rows(
        model,
        list(template),
        [
            tuple(
                json.dumps(value) if name in json_columns else value
                for name, value in {**template, **row}.items()
            )
            for row in rows
        ],
    )


def record_creations(queryset, reason: str, moment: datetime) -> None:
    """Write the creation history (django-simple-history's '+' rows) of the rows of
    ``queryset`` that have no history yet, in one INSERT ... SELECT."""
    model = queryset.model
    history = model.history.model
    quote = connection.ops.quote_name
    source, target = quote(model._meta.db_table), quote(history._meta.db_table)
    pk = quote(model._meta.pk.column)
    copied = [f.column for f in model._meta.concrete_fields]
    columns = [*copied, "history_date", "history_change_reason", "history_type", "history_user_id"]
    selected = ", ".join(f"s.{quote(c)}" for c in copied)
    wanted, params = queryset.values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {target} ({', '.join(quote(c) for c in columns)}) "
            f"SELECT {selected}, %s, %s, '+', NULL FROM {source} s WHERE s.{pk} IN ({wanted}) "
            f"AND NOT EXISTS (SELECT 1 FROM {target} h WHERE h.{pk} = s.{pk})",
            [db_datetime(moment), reason, *params],
        )


def copy_into(table: str, columns: list[str], rows) -> None:
    """COPY ``rows`` (sequences of the values ``insert_rows`` takes, in the order of
    ``columns``) into ``table``, a table without a model (a temporary table the caller made and
    names, quoted as needed). PostgreSQL only: the staged imports' lookup tables."""
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    text = io.StringIO()
    writer = csv.writer(text, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
    writer.writerows([_NULL if value is None else value for value in row] for row in rows)
    text.seek(0)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(
            f"COPY {table} ({names}) FROM STDIN WITH (FORMAT csv, NULL '\\N')", text
        )


def history_insert_sql(model, source: str) -> str:
    """An INSERT ... SELECT writing one django-simple-history row of ``model`` per row of
    ``source`` (a table, or a CTE's name, with the model's columns, e.g. an UPDATE's
    ``RETURNING *``), every tracked column copied as ``bulk_history_create`` copies it. Its four
    parameters are the history date, the change reason, the type ('+', '~') and the user id."""
    quote = connection.ops.quote_name
    history = model.history.model
    copied = [f.column for f in model._meta.concrete_fields]
    columns = [*copied, "history_date", "history_change_reason", "history_type", "history_user_id"]
    return (
        f"INSERT INTO {quote(history._meta.db_table)} ({', '.join(quote(c) for c in columns)}) "
        f"SELECT {', '.join(f'h.{quote(c)}' for c in copied)}, %s, %s, %s, %s FROM {source} h"
    )


def history_user_id(model):
    """The id of the user django-simple-history records as the author of a change made now
    (the signed-in user of the request being served, through its middleware), or None: what
    ``bulk_update_with_history`` would record for an instance that names none itself."""
    user = model.history.model.get_default_history_user(_NoHistoryUser())
    return getattr(user, "pk", None)


class _NoHistoryUser:
    """An instance that names no ``_history_user``: the request's user applies."""


def update_rows(model, columns: list[str], rows: list) -> None:
    """UPDATE rows of ``model`` by primary key: ``rows`` are sequences (pk, then the values of
    ``columns``, attnames). On PostgreSQL one ``UPDATE ... FROM (VALUES ...)`` per page; elsewhere
    executemany. Django's ``bulk_update`` builds a CASE per row and column in Python, seconds
    for a few thousand rows."""
    if not rows:
        return
    quote = connection.ops.quote_name
    fields = [model._meta.get_field(name) for name in columns]
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            from psycopg2.extras import execute_values

            names = [quote(f.column) for f in fields]
            sets = ", ".join(f"{name} = v.{name}" for name in names)
            # Typed, so that a column of NULLs only is not taken for text.
            template = "(%s, " + ", ".join(f"%s::{f.db_type(connection)}" for f in fields) + ")"
            execute_values(
                cursor.cursor,
                f"UPDATE {table} t SET {sets} FROM (VALUES %s) AS v({pk}, {', '.join(names)}) "
                f"WHERE t.{pk} = v.{pk}",
                [tuple(row) for row in rows],
                template=template,
                page_size=PAGE,
            )
        else:
            sets = ", ".join(f"{quote(f.column)} = %s" for f in fields)
            cursor.executemany(
                f"UPDATE {table} SET {sets} WHERE {pk} = %s", [(*row[1:], row[0]) for row in rows]
            )
