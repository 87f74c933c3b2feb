"""Database queries per public page, at 30 and at 3,300 units: they should be the same.

For each database it starts itself again with that database in ``DATABASE_URL`` (settings are
read once per process), requests every public page through Django's test client inside
``CaptureQueriesContext``, three times: built (the cache cleared first, as after a
publication), revalidated (only the quick copies dropped: the page cache answers once the ETag's
queries ran) and served again at once (from the quick copy). It records the status, the number of queries, the time spent in SQL
and the page's size. The unit page is the unit in the middle of the latest ranking.

Results: ``bench/out/results/queries.json`` and a table on stdout.

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


def pages(year: int, group: str, unit: str) -> dict[str, str]:
    return {
        "minimal view": "/health/live/",
        "home": "/",
        "ranking page": f"/rankings/{year}/{group}/",
        "ranking page 2": f"/rankings/{year}/{group}/?page=2",
        "ranking by band": f"/rankings/{year}/{group}/?band=tot",
        "ranking API": f"/api/v1/rankings/{year}/{group}/",
        "unit page": f"/units/{unit}/",
        "unit page, first year": f"/units/{unit}/?year={year - 9}",
        "SIPAS page": f"/sipas/{year}/{group}/",
        "SIPAS API": f"/api/v1/sipas/{year}/{group}/",
        "API index": "/api/v1/",
        "methodology": f"/methodology/{year}/{group}/",
        "versions": f"/versions/{year}/{group}/",
    }


def measure_here(year: int, group: str) -> dict:
    """In a process whose settings point at one database: every page's queries."""
    sys.path.insert(0, str(code_dir()))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cchc.settings")
    import django

    django.setup()
    from django.core.cache import cache
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from rankings.models import Publication

    try:  # since f3fa3c6: quick copies of pages, in front of the page cache
        from rankings.caching import new_generation
    except ImportError:
        new_generation = None

    publication = Publication.objects.current(year, group)
    middle = publication.results.order_by("position")[publication.unit_count // 2]
    client = Client(HTTP_HOST="127.0.0.1")
    result = {"units": publication.unit_count, "unit": middle.unit_code, "pages": {}}
    for name, path in pages(year, group, middle.unit_code).items():
        client.get(path)  # warm: templates, translations, the connection
        entry = {"path": path}
        for state in STATES:
            if state == "built":
                cache.clear()  # the page is built, as on the first request after publishing
            elif state == "revalidated":
                if new_generation is None:
                    continue
                new_generation()  # quick copies dropped (as after PUBLIC_PAGE_SECONDS)
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(path)
                seconds = time.perf_counter() - started
            entry[state] = {
                "status": response.status_code,
                "queries": len(captured.captured_queries),
                "sql_ms": sum(float(q["time"]) for q in captured.captured_queries) * 1000,
                "ms": seconds * 1000,
                "bytes": len(response.content),
            }
        result["pages"][name] = entry
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", action="append", help="a cchc_bench* database (repeatable)")
    parser.add_argument("--year", type=int, default=2024)
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
        done = subprocess.run(
            [str(PYTHON), __file__, "--here", "--year", str(args.year), "--group", args.group],
            cwd=code_dir(),
            env=env_for(db),
            capture_output=True,
            text=True,
            check=True,
        )
        measured[db] = json.loads(done.stdout.strip().splitlines()[-1])
    target = OUT / "results" / "queries.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps({"git": git_state(), **measured}, indent=2))

    for state in STATES:
        if state not in next(iter(measured[databases[0]]["pages"].values())):
            continue
        header = "".join(f" {measured[db]['units']:>6} u: queries, ms" for db in databases)
        print(f"\n{state + ' page':<24}{header}   flat")
        for name in measured[databases[0]]["pages"]:
            cells = [measured[db]["pages"][name][state] for db in databases]
            counts = {cell["queries"] for cell in cells}
            print(
                f"{name:<24}"
                + "".join(f" {c['queries']:>10} {c['ms']:>9.1f}" for c in cells)
                + ("   yes" if len(counts) == 1 else "   NO")
                + ("" if all(c["status"] == 200 for c in cells) else "  (status not 200!)")
            )
    print(f"results in {target}")


if __name__ == "__main__":
    main()
