"""Load a fresh benchmark database with the generated files, timing every command against its
floor, measured in the same run, year by year.

Drops and creates the database (``cchc_bench`` by default; only ``cchc_bench*`` names are
accepted), migrates, imports the units, then for every year found in the data folder runs
``import_criteria``, ``import_scores``, ``import_sipas`` and ``publish``, each as its own
``python manage.py`` process under ``/usr/bin/time -v``: wall time and peak memory ("Maximum
resident set size"). Right after ``import_scores`` and after ``publish`` it runs their floors
(``floors.py``), each its own process under ``/usr/bin/time -v`` too, timed the same way:

- import floor: COPY of the same rows of the scores file, typed, into ``bench_floor_score``
  ``(LIKE scoring_score INCLUDING ALL)`` (same columns, checks and indexes), then COMMIT;
- publish floor: one ``SELECT assessment, field, SUM(...) GROUP BY`` over the year's scores
  joined to its criteria, one SELECT of the leaf values, COPY of the frozen leaves (units × 90)
  and fields (units × 9) into ``LIKE rankings_publishedleaf`` / ``rankings_publishedfield``
  copies, then COMMIT.

The floor tables are created just before and dropped just after each floor, outside its
timing. Each year records the command's wall time, the floor's (process wall time; beside it
the floor's COPY + COMMIT measured inside with ``time.perf_counter``) and the ratio. The
processes use the file cache ``bench/out/cache/<db>/`` (``CACHE_DIR``, emptied when the
database is created). Before each process the script waits (up to 10 minutes each) for any
``manage.py prebuild`` that a publication started on this database to finish, then for the
machine to be idle, and records how busy it was, and the load average after. Finally it
imports the last year's scores a second time (the same file: nothing changes) and records the
database's size.

Results: ``bench/out/results/imports-<db>.json`` and tables on stdout (per year, then min,
median and max of the times and of the ratios over the years, with the peak memory beside).
Each process's output is kept in ``bench/out/logs/<db>/``. Where the server's autovacuum is
off (``SHOW autovacuum``), the script runs ``ANALYZE`` after each year, outside any timing, as
autovacuum would have done within a minute on any server: without it the planner would have no
statistics at all. The results record ``autovacuum``.

Usage (from the project root)::

    .venv/bin/python bench/run_imports.py                                    # u3300 -> cchc_bench
    .venv/bin/python bench/run_imports.py --data bench/out/u30 --db cchc_bench_small
    .venv/bin/python bench/run_imports.py --no-floors ...                    # commands only
    .venv/bin/python bench/run_imports.py --prebuild off ...    # no page build after publishing
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import floors  # noqa: E402
from common import (  # noqa: E402
    BENCH,
    OUT,
    PYTHON,
    cache_dir_for,
    check_db_name,
    code_dir,
    env_for,
    git_state,
    psql,
    select_code,
    summary,
    wait_prebuild,
    wait_quiet,
)

GROUP = "communes"
# The goals (issue 14), at 3,300 units, median over at least five years.
GOALS = {
    "import_scores": {"ratio": 3.0},
    "publish": {"ratio": 2.0, "seconds": 3.0},
}
PEAK_MB_GOAL = 300.0  # peak memory of import_scores and publish
FLOOR_OF = {"import_scores": "floor_import", "publish": "floor_publish"}


def run(
    step: str,
    command: list[str],
    env: dict,
    logs: Path,
    year: int | None = None,
    cwd: Path | None = None,
) -> dict:
    """One process under ``/usr/bin/time -v``; stops everything on a failure."""
    name = f"{year}-{step}" if year else step
    timing = logs / f"{name}.time"
    prebuilt = wait_prebuild(env_db(env))  # what the last publish started in the background
    quiet = wait_quiet()
    code = git_state()
    started = time.perf_counter()
    with (logs / f"{name}.log").open("w") as log:
        done = subprocess.run(
            ["/usr/bin/time", "-v", "-o", str(timing), *command],
            cwd=cwd or code_dir(),
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    wall = time.perf_counter() - started
    text = timing.read_text()
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
    record = {
        "step": step,
        "year": year,
        "wall_s": round(wall, 3),
        "max_rss_mb": round(rss / 1024, 1),
        **quiet,
        **prebuilt,
        "load_after": os.getloadavg()[0],
        "code": f"{code['commit']}+{code['diff_sha']}" if code["diff_sha"] else code["commit"],
    }
    output = (logs / f"{name}.log").read_text()
    found = re.search(r"^FLOOR_JSON (.*)$", output, re.MULTILINE)
    if found:
        record["floor"] = json.loads(found.group(1))
    print(
        f"  {name:<28} {wall:8.2f} s  {rss / 1024:8.1f} MB"
        f"   (CPU {quiet['busy_before']:.0%} busy before, load {record['load_after']:.2f} after,"
        f" code {record['code']})"
        + (
            f" after {prebuilt['prebuild_wait_s']:.0f} s waiting for a prebuild"
            if prebuilt["prebuild_seen"]
            else ""
        ),
        flush=True,
    )
    if done.returncode != 0:
        print(output[-3000:], file=sys.stderr)
        raise SystemExit(f"{name} failed (exit {done.returncode}); see {logs}")
    return record


def env_db(env: dict) -> str:
    return env["DATABASE_URL"].rsplit("/", 1)[-1]


def manage(step: str, args: list[str], env: dict, logs: Path, year: int | None = None) -> dict:
    return run(step, [str(PYTHON), "manage.py", *args], env, logs, year)


def floor(kind: str, db: str, year: int, env: dict, logs: Path, extra: list[str]) -> dict:
    """A floor process (``floors.py``) with its tables made before and dropped after."""
    psql(floors.create_sql(kind), db)
    try:
        command = [str(PYTHON), str(BENCH / "floors.py"), kind, "--db", db, "--year", str(year)]
        return run(f"floor_{kind}", [*command, *extra], env, logs, year, cwd=BENCH)
    finally:
        psql(floors.drop_sql(kind), db)


def per_year(records: list[dict]) -> dict[str, list[dict]]:
    """For each measured command, one row a year: its time, its floor's, the ratio."""
    by_key = {(r["step"], r["year"]): r for r in records}
    table: dict[str, list[dict]] = {}
    for step, floor_step in FLOOR_OF.items():
        for record in records:
            year = record["year"]
            if record["step"] != step or (floor_step, year) not in by_key:
                continue
            base = by_key[floor_step, year]
            inner = base.get("floor", {}).get("copy_commit_s")
            table.setdefault(step, []).append(
                {
                    "year": year,
                    "app_s": record["wall_s"],
                    "floor_s": base["wall_s"],
                    "ratio": round(record["wall_s"] / base["wall_s"], 3),
                    "floor_copy_commit_s": inner,
                    "ratio_to_copy_commit": round(record["wall_s"] / inner, 3) if inner else None,
                    "app_rss_mb": record["max_rss_mb"],
                    "floor_rss_mb": base["max_rss_mb"],
                }
            )
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=OUT / "u3300", help="generate.py's folder")
    parser.add_argument("--db", default="cchc_bench", help="database to (re)create: cchc_bench*")
    parser.add_argument("--commit", help="measure this commit (a snapshot), not the work tree")
    parser.add_argument(
        "--no-floors", action="store_true", help="skip the floors (commands only, as before)"
    )
    parser.add_argument(
        "--prebuild",
        choices=("process", "inline", "off"),
        help="PREBUILD for the commands (default: unset, the settings' own); off skips the "
        "build of the public pages after each publication, and the wait for it",
    )
    args = parser.parse_args()
    select_code(args.commit)
    db = check_db_name(args.db)
    data = args.data.resolve()
    years = sorted(int(p.stem.split("-")[1]) for p in data.glob("criteria-*.csv"))
    if not years or not (data / "units.csv").is_file():
        raise SystemExit(f"no generated files in {data}: run bench/generate.py first")
    env = env_for(db)
    if args.prebuild:
        env["PREBUILD"] = args.prebuild
    logs = OUT / "logs" / db
    logs.mkdir(parents=True, exist_ok=True)

    print(f"database {db}: drop, create, migrate; data {data} ({len(years)} years)", flush=True)
    psql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    psql(f'CREATE DATABASE "{db}"')
    shutil.rmtree(cache_dir_for(db), ignore_errors=True)  # copies of the database dropped
    # A server's autovacuum analyzes a table within a minute of a bulk load; where it is off
    # (this machine's PostgreSQL), the planner would work on no statistics at all, unlike any
    # server: the script analyzes the database after each year instead, outside any timing.
    autovacuum = psql("SHOW autovacuum", db) == "on"
    if not autovacuum:
        print(
            "autovacuum is off: ANALYZE after each year, untimed, as autovacuum would", flush=True
        )
    records = [manage("migrate", ["migrate", "--noinput", "-v0"], env, logs)]
    records.append(manage("import_units", ["import_units", str(data / "units.csv")], env, logs))
    for year in years:
        per_set = ["--year", str(year), "--group", GROUP]
        for step in ("criteria", "scores", "sipas"):
            file = str(data / f"{step}-{year}.csv")
            records.append(
                manage(f"import_{step}", [f"import_{step}", *per_set, file], env, logs, year)
            )
            if step == "scores" and not args.no_floors:
                extra = ["--group", GROUP, "--file", file]
                records.append(floor("import", db, year, env, logs, extra))
        moment = ["--published-at", f"{year + 1}-02-28T09:00"]
        records.append(manage("publish", ["publish", *per_set, *moment], env, logs, year))
        if not args.no_floors:
            records.append(floor("publish", db, year, env, logs, ["--group", GROUP]))
        if not autovacuum:
            psql("ANALYZE", db)
    last = years[-1]
    again = ["import_scores", "--year", str(last), "--group", GROUP]
    records.append(
        manage("import_scores_again", [*again, str(data / f"scores-{last}.csv")], env, logs, last)
    )
    size = int(psql(f"SELECT pg_database_size('{db}')"))

    steps: dict[str, list[dict]] = {}
    for record in records:
        if record["year"] is not None and record["step"] != "import_scores_again":
            steps.setdefault(record["step"], []).append(record)
    table = {
        step: {
            "wall_s": summary([r["wall_s"] for r in items]),
            "max_rss_mb": summary([r["max_rss_mb"] for r in items]),
        }
        for step, items in steps.items()
    }
    ratios = per_year(records)
    against = {}
    for step, rows in ratios.items():
        goal = GOALS[step]
        stats = {
            "app_s": summary([r["app_s"] for r in rows]),
            "floor_s": summary([r["floor_s"] for r in rows]),
            "ratio": summary([r["ratio"] for r in rows]),
            "floor_copy_commit_s": summary([r["floor_copy_commit_s"] or 0 for r in rows]),
            "ratio_to_copy_commit": summary([r["ratio_to_copy_commit"] or 0 for r in rows]),
            "app_rss_mb": summary([r["app_rss_mb"] for r in rows]),
        }
        met = stats["ratio"]["median"] <= goal["ratio"]
        if "seconds" in goal:
            met = met and stats["app_s"]["median"] < goal["seconds"]
        stats["goal"] = goal
        stats["met"] = met
        stats["peak_mb_met"] = stats["app_rss_mb"]["max"] < PEAK_MB_GOAL
        against[step] = stats
    units = sum(1 for _ in (data / "units.csv").open()) - 1
    result = {
        "db": db,
        "git": git_state(),
        "data": str(data),
        "units": units,
        "years": years,
        "database_bytes": size,
        "autovacuum": autovacuum,
        "records": records,
        "summary": table,
        "per_year": ratios,
        "against_floor": against,
        "goals": {**GOALS, "peak_mb": PEAK_MB_GOAL},
        "prebuild": args.prebuild or "(settings default)",
        "floor_timing": "wall time of a separate process under /usr/bin/time -v (floors.py: "
        "psycopg2, no Django), like the commands; floor_copy_commit_s: its COPY + COMMIT "
        "measured inside it with time.perf_counter",
    }
    target = OUT / "results" / f"imports-{db}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(result, indent=2))

    print(f"\n{'command':<20} {'median s':>9} {'min s':>8} {'max s':>8} {'peak MB':>8}")
    for step, stats in table.items():
        wall, rss = stats["wall_s"], stats["max_rss_mb"]
        print(
            f"{step:<20} {wall['median']:9.2f} {wall['min']:8.2f} {wall['max']:8.2f}"
            f" {rss['max']:8.1f}"
        )
    for step, rows in ratios.items():
        print(
            f"\n{step} against its floor, per year"
            f"\n{'year':<6} {'app s':>8} {'floor s':>8} {'ratio':>6} {'COPY+COMMIT s':>14}"
            f" {'ratio':>6} {'app MB':>7} {'floor MB':>8}"
        )
        for r in rows:
            print(
                f"{r['year']:<6} {r['app_s']:8.2f} {r['floor_s']:8.2f} {r['ratio']:6.2f}"
                f" {r['floor_copy_commit_s'] or 0:14.3f} {r['ratio_to_copy_commit'] or 0:6.1f}"
                f" {r['app_rss_mb']:7.1f} {r['floor_rss_mb']:8.1f}"
            )
    if against:
        print(
            f"\n{'ratio to floor':<15} {'min':>6} {'median':>7} {'max':>6}  {'goal':<18}"
            f" {'median s':>8} {'peak MB':>8}"
        )
    for step, stats in against.items():
        r, goal = stats["ratio"], stats["goal"]
        text = f"<= {goal['ratio']:g}x" + (
            f", < {goal['seconds']:g} s" if "seconds" in goal else ""
        )
        print(
            f"{step:<15} {r['min']:6.2f} {r['median']:7.2f} {r['max']:6.2f}  {text:<18}"
            f" {stats['app_s']['median']:8.2f} {stats['app_rss_mb']['max']:8.1f}"
            f"  {'met' if stats['met'] else 'MISSED'}"
            f"{'' if stats['peak_mb_met'] else f' (peak >= {PEAK_MB_GOAL:g} MB)'}"
        )
    if units != 3300 or len(years) < 5:
        print(
            f"(goals are set at 3,300 units and >= 5 years: this run has {units} and {len(years)})"
        )
    print(f"database size: {size / 2**20:.0f} MB; results in {target}")


if __name__ == "__main__":
    main()
