"""Load a fresh benchmark database with the generated files, timing every command.

Drops and creates the database (``cchc_bench`` by default; only ``cchc_bench*`` names are
accepted), migrates, imports the units, then for every year found in the data folder runs
``import_criteria``, ``import_scores``, ``import_sipas`` and ``publish``, each as its own
``python manage.py`` process under ``/usr/bin/time -v``: wall time and peak memory ("Maximum
resident set size"). Before each command it waits (up to 10 minutes) for the machine to be idle
and records how busy it was, and the load average after. Finally it imports the last year's scores a second time (the same file:
nothing changes) and records the database's size.

Results: ``bench/out/results/imports-<db>.json`` and a table on stdout (median, min and max over
the years). Each command's output is kept in ``bench/out/logs/<db>/``.

Usage (from the project root)::

    .venv/bin/python bench/run_imports.py                                    # u3300 -> cchc_bench
    .venv/bin/python bench/run_imports.py --data bench/out/u30 --db cchc_bench_small
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    OUT,
    PYTHON,
    check_db_name,
    code_dir,
    env_for,
    git_state,
    psql,
    select_code,
    summary,
    wait_quiet,
)  # noqa: E402

GROUP = "communes"
TARGETS = {"import_scores": 30.0, "publish": 10.0}  # seconds, per year of 3,300 units


def run(step: str, args: list[str], env: dict, logs: Path, year: int | None = None) -> dict:
    """One ``manage.py`` command under ``/usr/bin/time -v``; stops everything on a failure."""
    name = f"{year}-{step}" if year else step
    timing = logs / f"{name}.time"
    quiet = wait_quiet()
    code = git_state()
    started = time.perf_counter()
    with (logs / f"{name}.log").open("w") as log:
        done = subprocess.run(
            ["/usr/bin/time", "-v", "-o", str(timing), str(PYTHON), "manage.py", *args],
            cwd=code_dir(),
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
        "max_rss_mb": rss / 1024,
        **quiet,
        "load_after": os.getloadavg()[0],
        "code": f"{code['commit']}+{code['diff_sha']}" if code["diff_sha"] else code["commit"],
    }
    print(
        f"  {name:<28} {wall:8.2f} s  {rss / 1024:8.1f} MB"
        f"   (CPU {quiet['busy_before']:.0%} busy before, load {record['load_after']:.2f} after,"
        f" code {record['code']})",
        flush=True,
    )
    if done.returncode != 0:
        print((logs / f"{name}.log").read_text()[-3000:], file=sys.stderr)
        raise SystemExit(f"{name} failed (exit {done.returncode}); see {logs}")
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=OUT / "u3300", help="generate.py's folder")
    parser.add_argument("--db", default="cchc_bench", help="database to (re)create: cchc_bench*")
    parser.add_argument("--commit", help="measure this commit (a snapshot), not the work tree")
    args = parser.parse_args()
    select_code(args.commit)
    db = check_db_name(args.db)
    data = args.data.resolve()
    years = sorted(int(p.stem.split("-")[1]) for p in data.glob("criteria-*.csv"))
    if not years or not (data / "units.csv").is_file():
        raise SystemExit(f"no generated files in {data}: run bench/generate.py first")
    env = env_for(db)
    logs = OUT / "logs" / db
    logs.mkdir(parents=True, exist_ok=True)

    print(f"database {db}: drop, create, migrate; data {data} ({len(years)} years)", flush=True)
    psql(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    psql(f'CREATE DATABASE "{db}"')
    records = [run("migrate", ["migrate", "--noinput", "-v0"], env, logs)]
    records.append(run("import_units", ["import_units", str(data / "units.csv")], env, logs))
    for year in years:
        per_set = ["--year", str(year), "--group", GROUP]
        for step in ("criteria", "scores", "sipas"):
            file = str(data / f"{step}-{year}.csv")
            records.append(
                run(f"import_{step}", [f"import_{step}", *per_set, file], env, logs, year)
            )
        moment = ["--published-at", f"{year + 1}-02-28T09:00"]
        records.append(run("publish", ["publish", *per_set, *moment], env, logs, year))
    last = years[-1]
    again = ["import_scores", "--year", str(last), "--group", GROUP]
    records.append(
        run("import_scores_again", [*again, str(data / f"scores-{last}.csv")], env, logs, last)
    )
    size = int(psql(f"SELECT pg_database_size('{db}')"))

    steps = {}
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
    result = {
        "db": db,
        "git": git_state(),
        "data": str(data),
        "units": sum(1 for _ in (data / "units.csv").open()) - 1,
        "years": years,
        "database_bytes": size,
        "records": records,
        "summary": table,
        "targets_s": TARGETS,
    }
    target = OUT / "results" / f"imports-{db}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(result, indent=2))

    print(f"\n{'command':<18} {'median s':>9} {'min s':>8} {'max s':>8} {'median MB':>10}")
    for step, stats in table.items():
        wall, rss = stats["wall_s"], stats["max_rss_mb"]
        print(
            f"{step:<18} {wall['median']:9.2f} {wall['min']:8.2f} {wall['max']:8.2f}"
            f" {rss['median']:10.1f}"
        )
    print(f"database size: {size / 2**20:.0f} MB; results in {target}")


if __name__ == "__main__":
    main()
