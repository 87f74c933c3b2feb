"""Database queries and rows fetched per public page, at 30 and at 3,300 units: they should be
the same.

For each database it starts itself again with that database in ``DATABASE_URL`` (settings are
read once per process), requests every public page (``pages.py``: every URL pattern of the
``rankings`` package from the URL resolver, plus the documented queries) through Django's test
client inside ``CaptureQueriesContext``, three times: built (the cache cleared first, as after a
publication), revalidated (only the quick copies dropped: the page cache answers once the ETag's
queries ran) and served again at once (from the quick copy). It records the status, the number
of queries, the rows they fetched, the time spent in SQL and the page's size. Rows: a
``connection.execute_wrapper`` reads ``cursor.rowcount`` after each SELECT, which for
psycopg2's client-side cursors is the number of rows sent to the process; a server-side cursor
(``QuerySet.iterator()``) streams its rows later and is counted apart (``streamed``), its rows
not included. The parameters of the URLs come from each database (its latest year, the unit in
the middle of the ranking): pages are matched by name.

Results: ``bench/out/results/queries.json`` and tables on stdout: for each state, per page and
database the queries, rows and time, and whether queries and rows are flat across the
databases.

Usage (from the project root, after ``run_imports.py`` loaded both databases)::

    .venv/bin/python bench/query_counts.py --db cchc_bench_small --db cchc_bench
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    OUT,
    PYTHON,
    code_dir,
    ensure_static,
    env_for,
    git_state,
    select_code,
)

# built: cache cleared; revalidated: the page cache (keyed by ETag) answers after the queries
# that make the ETag; cached: the same request again (quick copy, or the page cache before it).
STATES = ("built", "revalidated", "cached")


class RowCounter:
    """A ``connection.execute_wrapper``: rows returned by SELECTs (``cursor.rowcount``)."""

    def __init__(self) -> None:
        self.rows = 0
        self.streamed = 0

    def __call__(self, execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        head = sql.lstrip("( \n").split(None, 1)[0].upper() if sql.strip() else ""
        if head in ("SELECT", "WITH"):
            cursor = context["cursor"]
            if getattr(getattr(cursor, "cursor", None), "name", None):
                self.streamed += 1  # a server-side cursor: its rows come with each fetch
            elif cursor.rowcount and cursor.rowcount > 0:
                self.rows += cursor.rowcount
        return result


def measure_here(year: int | None, group: str) -> dict:
    """In a process whose settings point at one database: every page's queries."""
    sys.path.insert(0, str(code_dir()))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cchc.settings")
    import django

    django.setup()
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from pages import public_pages

    try:  # since f3fa3c6: quick copies of pages, in front of the page cache
        from rankings.caching import new_generation
    except ImportError:
        new_generation = None

    listing = public_pages(year, group)
    samples = listing["samples"]
    client = Client(HTTP_HOST="127.0.0.1")
    result = {
        "units": samples["units"],
        "unit": samples["unit"],
        "year": samples["year"],
        "skipped": listing["skipped"],
        "pages": {},
    }
    for name, path in listing["pages"]:
        client.get(path)  # warm: templates, translations, the connection
        entry = {"path": path}
        for state in STATES:
            if state == "built":
                cache.clear()  # the page is built, as on the first request after publishing
            elif state == "revalidated":
                if new_generation is None:
                    continue
                new_generation()  # quick copies dropped (as after PUBLIC_PAGE_SECONDS)
            counter = RowCounter()
            with CaptureQueriesContext(connection) as captured, connection.execute_wrapper(counter):
                started = time.perf_counter()
                response = client.get(path)
                seconds = time.perf_counter() - started
            entry[state] = {
                "status": response.status_code,
                "queries": len(captured.captured_queries),
                "rows": counter.rows,
                "streamed": counter.streamed,
                "sql_ms": sum(float(q["time"]) for q in captured.captured_queries) * 1000,
                "ms": seconds * 1000,
                "bytes": len(getattr(response, "content", b"")),
            }
        result["pages"][name] = entry
    return result


def yes_no(flat: bool | None) -> str:
    return {True: "yes", False: "NO", None: "-"}[flat]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", action="append", help="a cchc_bench* database (repeatable)")
    parser.add_argument("--year", type=int, help="default: each database's latest year")
    parser.add_argument("--group", default="communes")
    parser.add_argument("--here", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--commit", help="measure this commit (a snapshot), not the work tree")
    args = parser.parse_args()
    select_code(args.commit)
    if args.here:
        print(json.dumps(measure_here(args.year, args.group)))
        return
    databases = args.db or ["cchc_bench_small", "cchc_bench"]
    measured = {}
    ensure_static(env_for(databases[0]))
    for db in databases:
        year = ["--year", str(args.year)] if args.year else []
        done = subprocess.run(
            [str(PYTHON), __file__, "--here", *year, "--group", args.group],
            cwd=code_dir(),
            env=env_for(db),
            capture_output=True,
            text=True,
        )
        if done.returncode:
            raise SystemExit(f"{db}: failed\n{done.stderr[-3000:]}")
        measured[db] = json.loads(done.stdout.strip().splitlines()[-1])
    names = [
        name
        for name in measured[databases[0]]["pages"]
        if all(name in measured[db]["pages"] for db in databases)
    ]
    flat = {}
    for state in STATES:
        if state not in measured[databases[0]]["pages"][names[0]]:
            continue
        flat[state] = {}
        for name in names:
            cells = [measured[db]["pages"][name][state] for db in databases]
            compared = len(databases) > 1  # flat is a comparison: None with one database
            flat[state][name] = {
                "queries": len({c["queries"] for c in cells}) == 1 if compared else None,
                "rows": len({c["rows"] for c in cells}) == 1 if compared else None,
                "status_200": all(c["status"] == 200 for c in cells),
            }
    target = OUT / "results" / "queries.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        json.dumps({"git": git_state(), "databases": databases, "flat": flat, **measured}, indent=2)
    )

    for state, rows in flat.items():
        header = "".join(
            f" | {measured[db]['units']:>5} u: {'queries':>7} {'rows':>6} {'ms':>7}"
            for db in databases
        )
        print(f"\n{state + ' page':<36}{header} | flat: queries, rows")
        for name in names:
            cells = [measured[db]["pages"][name][state] for db in databases]
            verdict = rows[name]
            print(
                f"{name:<36}"
                + "".join(
                    f" | {'':>9}{c['queries']:>7} {c['rows']:>6}{'+' if c['streamed'] else ' '}"
                    f"{c['ms']:>7.1f}"
                    for c in cells
                )
                + f" | {yes_no(verdict['queries']):>7} {yes_no(verdict['rows']):>4}"
                + (
                    ""
                    if verdict["status_200"]
                    else "  (status " + "/".join(str(c["status"]) for c in cells) + ")"
                )
            )
        if len(databases) > 1:
            both = sum(1 for v in rows.values() if v["queries"] and v["rows"])
            print(f"{state}: queries and rows flat on {both} of {len(rows)} pages")
        else:
            print(f"{state}: one database: give two (--db twice) to see whether they are flat")
    print(f"results in {target}")


if __name__ == "__main__":
    main()
