"""Back up a loaded benchmark database and restore the archive into a new one, measuring both.

``manage.py backup`` runs against ``--db`` (loaded by ``run_imports.py``; default
``cchc_bench_backup``), then ``--restore-db`` (default ``cchc_bench_restore``) is dropped,
created and migrated, and ``manage.py restore`` loads the archive into it (with an empty
``MEDIA_ROOT`` of its own). Each command is its own process under ``/usr/bin/time -v``: wall
time and peak memory ("Maximum resident set size"). While restore runs, the peak memory of its
PostgreSQL server process (``VmHWM``) is sampled too: the deferred foreign-key checks of the
loaded rows queue there until the end of the transaction. Before each command the script waits
(up to 10 minutes) for the machine to be idle and records how busy it was.

Also recorded: the database sizes, the archive's size, and the uncompressed size of its tables
(the temporary space backup needs, in ``TMPDIR``), from the archive's manifest.

Results: ``bench/out/results/backup-<db>.json`` and a table on stdout. The archive is kept in
``bench/out/backup/`` (it holds password hashes: it is git-ignored, delete it when done).

Usage (from the project root)::

    .venv/bin/python bench/run_imports.py --db cchc_bench_backup   # load the data first
    .venv/bin/python bench/run_backup.py
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tarfile
import threading
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
    wait_quiet,
)


def server_peak(db: str, stop: threading.Event, found: dict) -> None:
    """Sample the peak memory (VmHWM, kB) of the PostgreSQL processes serving ``db``."""
    while not stop.is_set():
        try:
            pids = psql(f"SELECT pid FROM pg_stat_activity WHERE datname = '{db}'").split()
        except subprocess.CalledProcessError:
            pids = []
        for pid in pids:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            match = re.search(r"VmHWM:\s+(\d+) kB", status)
            if match:
                found["kb"] = max(found.get("kb", 0), int(match.group(1)))
        stop.wait(0.5)


def run(step: str, args: list[str], env: dict, logs: Path, watch_db: str | None = None) -> dict:
    """One ``manage.py`` command under ``/usr/bin/time -v``; stops everything on a failure."""
    timing = logs / f"{step}.time"
    quiet = wait_quiet()
    stop, server = threading.Event(), {}
    watcher = None
    if watch_db:
        watcher = threading.Thread(target=server_peak, args=(watch_db, stop, server))
        watcher.start()
    started = time.perf_counter()
    with (logs / f"{step}.log").open("w") as log:
        done = subprocess.run(
            ["/usr/bin/time", "-v", "-o", str(timing), str(PYTHON), "manage.py", *args],
            cwd=code_dir(),
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    wall = time.perf_counter() - started
    stop.set()
    if watcher:
        watcher.join()
    text = timing.read_text()
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
    record = {"step": step, "wall_s": round(wall, 2), "max_rss_mb": round(rss / 1024, 1), **quiet}
    if server:
        record["server_peak_mb"] = round(server["kb"] / 1024, 1)
    print(
        f"  {step:<10} {wall:8.1f} s  {rss / 1024:8.1f} MB"
        + (f"  (PostgreSQL process {server['kb'] / 1024:.0f} MB)" if server else "")
        + f"  (CPU {quiet['busy_before']:.0%} busy before)",
        flush=True,
    )
    if done.returncode != 0:
        print((logs / f"{step}.log").read_text()[-3000:], file=sys.stderr)
        raise SystemExit(f"{step} failed (exit {done.returncode}); see {logs}")
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="cchc_bench_backup", help="loaded database: cchc_bench*")
    parser.add_argument("--restore-db", default="cchc_bench_restore", help="recreated: cchc_bench*")
    parser.add_argument("--commit", help="measure this commit (a snapshot), not the work tree")
    args = parser.parse_args()
    select_code(args.commit)
    db, target = check_db_name(args.db), check_db_name(args.restore_db)
    folder = OUT / "backup"
    folder.mkdir(parents=True, exist_ok=True)
    archive = folder / f"{db}.tar.gz"
    logs = OUT / "logs" / f"backup-{db}"
    logs.mkdir(parents=True, exist_ok=True)

    print(f"backup of {db} -> {archive}", flush=True)
    records = [run("backup", ["backup", "--output", str(archive)], env_for(db), logs)]
    with tarfile.open(archive, "r|gz") as stream:
        manifest = json.load(stream.extractfile(next(iter(stream))))
    tables_bytes = sum(entry["size"] for entry in manifest["tables"])

    print(f"restore into {target} (dropped, created, migrated first)", flush=True)
    psql(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
    psql(f'CREATE DATABASE "{target}"')
    env = env_for(target)
    media = folder / "media-restored"
    subprocess.run(["rm", "-rf", str(media)], check=True)
    env["MEDIA_ROOT"] = str(media)
    subprocess.run(
        [str(PYTHON), "manage.py", "migrate", "--noinput", "-v0"],
        cwd=code_dir(),
        env=env,
        check=True,
    )
    records.append(run("restore", ["restore", str(archive)], env, logs, watch_db=target))

    result = {
        "db": db,
        "restore_db": target,
        "git": git_state(),
        "database_bytes": int(psql(f"SELECT pg_database_size('{db}')")),
        "restored_database_bytes": int(psql(f"SELECT pg_database_size('{target}')")),
        "archive_bytes": archive.stat().st_size,
        "tables_uncompressed_bytes": tables_bytes,
        "rows": sum(manifest["counts"].values()),
        "files": len(manifest["files"]),
        "publications": len(manifest["publications"]),
        "records": records,
        "date": time.strftime("%Y-%m-%d"),
        "cpus": os.cpu_count(),
    }
    path = OUT / "results" / f"backup-{db}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2))
    mb = 2**20
    print(
        f"\n{result['rows']:,} rows; database {result['database_bytes'] / mb:,.0f} MB, restored"
        f" {result['restored_database_bytes'] / mb:,.0f} MB; archive"
        f" {result['archive_bytes'] / mb:,.0f} MB; tables uncompressed (temporary space)"
        f" {tables_bytes / mb:,.0f} MB; results in {path}"
    )


if __name__ == "__main__":
    main()
