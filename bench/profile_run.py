"""Where the time goes: cProfile and SQL time of the slow commands and of pages being built.

``commands``: (re)creates the scratch database ``cchc_bench_profile``, loads the units and the
criteria of one year (``--year``, default the first), then runs ``import_scores``, ``import_sipas``
and ``publish`` of that year in this process, profiling ``import_scores`` and ``publish``.

``pages``: against the loaded ``cchc_bench``, builds each public page once with the cache cleared
(the first request after a publication), under the profiler; then serves it 200 times from the
cache, and ``/health/live/`` 200 times, profiled together (``-cached-x200``, ``minimal-x200``).

For each profiled call it writes ``bench/out/profiles/<name>.prof`` (open it with ``python -m
pstats`` or snakeviz) and ``<name>.txt``: the wall time, the SQL statements (count and time by
kind and table, timed around ``cursor.execute``, so the database's share is visible) and the
functions with most own time and most cumulative time. The SQL time counts every statement
through ``cursor.execute``, every ``COPY`` (``copy_expert`` on psycopg2's cursor, which
``operations/bulk.py`` calls below Django) and every ``COMMIT`` (the connection's commit), each
timed around the call. cProfile slows Python code down (about
1.5-2x here), so read the shares, not the absolute seconds; the timings of ``run_imports.py`` are
the reference.

Usage (from the project root)::

    .venv/bin/python bench/profile_run.py commands
    .venv/bin/python bench/profile_run.py pages
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import re
import subprocess
import sys
import time
from collections import defaultdict
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    OUT,
    PYTHON,
    check_db_name,
    code_dir,
    ensure_static,
    env_for,
    git_state,
    psql,
    select_code,
)

GROUP = "communes"
CACHED_REPEATS = 200  # requests served from the cache, profiled together
PROFILES = OUT / "profiles"
_TABLE = re.compile(r'(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', re.IGNORECASE)


_COPY_TABLE = re.compile(r'COPY\s+"?(\w+)"?', re.IGNORECASE)


class SqlTimer:
    """A ``connection.execute_wrapper``: statements and seconds by kind and table; COPY and
    COMMIT, which do not pass through it, are added by ``timed_copy`` and ``timed_commit``."""

    active: SqlTimer | None = None

    def __init__(self) -> None:
        self.by_key: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])

    def add(self, key: str, seconds: float) -> None:
        entry = self.by_key[key]
        entry[0] += 1
        entry[1] += seconds

    def __call__(self, execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            match = _TABLE.search(sql)
            key = f"{sql.split(None, 1)[0].upper()} {match.group(1) if match else ''}".strip()
            self.add(key, time.perf_counter() - started)

    def report(self) -> str:
        total_n = sum(n for n, _s in self.by_key.values())
        total_s = sum(s for _n, s in self.by_key.values())
        lines = [f"SQL: {total_n} statements, {total_s:.2f} s in cursor.execute, COPY and COMMIT"]
        for key, (n, seconds) in sorted(self.by_key.items(), key=lambda kv: -kv[1][1])[:12]:
            lines.append(f"  {seconds:8.2f} s  {n:7d} x  {key}")
        return "\n".join(lines)


def _timed_cursor_class(base):
    """psycopg2's cursor with ``copy_expert`` timed into the active ``SqlTimer``."""

    class TimedCopyCursor(base):
        def copy_expert(self, sql, file, *args, **kwargs):
            started = time.perf_counter()
            try:
                return super().copy_expert(sql, file, *args, **kwargs)
            finally:
                if SqlTimer.active is not None:
                    match = _COPY_TABLE.search(sql)
                    key = f"COPY {match.group(1) if match else ''}".strip()
                    SqlTimer.active.add(key, time.perf_counter() - started)

    return TimedCopyCursor


def _time_connection(wrapper) -> None:
    """Time this Django connection's COPY (psycopg2's ``cursor_factory``) and COMMIT (its
    ``_commit``): in this profiling process only."""
    raw = wrapper.connection
    if raw is not None and hasattr(raw, "cursor_factory"):
        base = raw.cursor_factory
        if not getattr(base, "_bench_timed", False):
            timed = _timed_cursor_class(base)
            timed._bench_timed = True
            raw.cursor_factory = timed
    if not getattr(wrapper, "_bench_commit_timed", False):
        original = wrapper._commit

        def timed_commit():
            started = time.perf_counter()
            try:
                return original()
            finally:
                if SqlTimer.active is not None:
                    SqlTimer.active.add("COMMIT", time.perf_counter() - started)

        wrapper._commit = timed_commit
        wrapper._bench_commit_timed = True


def _on_connection(sender, connection, **kwargs) -> None:
    _time_connection(connection)


@contextmanager
def profiled(name: str):
    """Profile the block; write ``<name>.prof`` and the summary ``<name>.txt``."""
    from django.db import connection, connections
    from django.db.backends.signals import connection_created

    PROFILES.mkdir(parents=True, exist_ok=True)
    connection_created.connect(_on_connection, dispatch_uid="bench-profile-timing")
    connection.ensure_connection()
    _time_connection(connections[connection.alias])
    timer = SqlTimer()
    SqlTimer.active = timer
    profiler = cProfile.Profile()
    started = time.perf_counter()
    with connection.execute_wrapper(timer):
        profiler.enable()
        try:
            yield
        finally:
            profiler.disable()
            SqlTimer.active = None
    wall = time.perf_counter() - started
    profiler.dump_stats(PROFILES / f"{name}.prof")
    text = io.StringIO()
    code = git_state()
    text.write(f"{name}: {wall:.2f} s wall under cProfile; code {code['commit']}")
    text.write(f" {code['changed'] or ''}\n{timer.report()}\n")
    for order in ("tottime", "cumulative"):
        text.write(f"\n--- top functions by {order} ---\n")
        stats = pstats.Stats(profiler, stream=text)
        stats.strip_dirs().sort_stats(order).print_stats(25)
    (PROFILES / f"{name}.txt").write_text(text.getvalue())
    print(f"{name}: {wall:.2f} s under cProfile; {timer.report().splitlines()[0]}")
    print(f"  -> {PROFILES / name}.txt")


def setup_django(db: str) -> None:
    os.environ.update(env_for(db))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cchc.settings")
    sys.path.insert(0, str(code_dir()))
    os.chdir(code_dir())
    import django

    django.setup()


def commands(data: Path, year: int | None) -> None:
    db = check_db_name("cchc_bench_profile")
    years = sorted(int(p.stem.split("-")[1]) for p in data.glob("criteria-*.csv"))
    year = year or years[0]
    env = env_for(db)
    psql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    psql(f'CREATE DATABASE "{db}"')
    manage = [str(PYTHON), "manage.py"]
    per_set = ["--year", str(year), "--group", GROUP]
    for args in (
        ["migrate", "--noinput", "-v0"],
        ["import_units", str(data / "units.csv")],
        ["import_criteria", *per_set, str(data / f"criteria-{year}.csv")],
    ):
        subprocess.run([*manage, *args], cwd=code_dir(), env=env, check=True, capture_output=True)
    setup_django(db)
    from django.core.management import call_command

    quiet = {"stdout": io.StringIO(), "stderr": io.StringIO()}
    with profiled(f"import_scores-{year}"):
        call_command("import_scores", str(data / f"scores-{year}.csv"), *per_set, **quiet)
    call_command("import_sipas", str(data / f"sipas-{year}.csv"), *per_set, **quiet)
    with profiled(f"publish-{year}"):
        call_command("publish", *per_set, **quiet)


def pages(db: str, year: int | None) -> None:
    ensure_static(env_for(db))
    setup_django(db)
    from django.core.cache import cache
    from django.test import Client

    from rankings.models import Publication

    if year is None:
        year = Publication.objects.filter(group_code=GROUP).order_by("-year").first().year
    publication = Publication.objects.current(year, GROUP)
    unit = publication.results.order_by("position")[publication.unit_count // 2].unit_code
    client = Client(HTTP_HOST="127.0.0.1")
    for name, path in {
        "page-home": "/",
        "page-ranking": f"/rankings/{year}/{GROUP}/",
        "page-ranking-api": f"/api/v1/rankings/{year}/{GROUP}/",
        "page-unit": f"/units/{unit}/",
    }.items():
        client.get(path)  # imports, templates and translations loaded before profiling
        cache.clear()
        with profiled(name):
            response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        with profiled(f"{name}-cached-x{CACHED_REPEATS}"):
            for _i in range(CACHED_REPEATS):
                response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
    with profiled(f"page-minimal-x{CACHED_REPEATS}"):
        for _i in range(CACHED_REPEATS):
            client.get("/health/live/")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=("commands", "pages"))
    parser.add_argument("--data", type=Path, default=OUT / "u3300")
    parser.add_argument("--year", type=int, help="commands: default the first; pages: the latest")
    parser.add_argument("--db", default="cchc_bench", help="pages: the loaded database")
    parser.add_argument("--commit", help="measure this commit (a snapshot), not the work tree")
    args = parser.parse_args()
    select_code(args.commit)
    if args.what == "commands":
        commands(args.data.resolve(), args.year)
    else:
        pages(check_db_name(args.db), args.year)


if __name__ == "__main__":
    main()
