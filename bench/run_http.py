"""HTTP load on the loaded benchmark database: gunicorn on 127.0.0.1, wrk against each page.

Runs ``collectstatic``, starts ``gunicorn cchc.wsgi --workers 2 --bind 127.0.0.1:8021`` in the
production-like environment against ``cchc_bench`` (loaded by ``run_imports.py``), checks every
URL answers 200, then runs ``wrk -t2 -c8 -d20s --latency`` on each URL, ``--repeats`` times
(round-robin over the URLs; before each run it waits, up to 10 minutes, for the machine to be
idle, and records how busy it was), and takes the median of p50, p95 and requests/s. p95 comes from
``wrk_report.lua``. The gunicorn workers' peak RSS (``VmHWM``) is sampled throughout. Only
127.0.0.1 is ever loaded, and every run is bounded by ``--duration``.

Results: ``bench/out/results/http-<db>.json`` and a table on stdout, with the ratio
p95(page) / p95(``/health/live/``) against the target (3x).

Usage (from the project root)::

    .venv/bin/python bench/run_http.py
    .venv/bin/python bench/run_http.py --repeats 1 --duration 5     # a quick look
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    BENCH,
    OUT,
    PROJECT,
    PYTHON,
    code_dir,
    env_for,
    git_state,
    psql,
    select_code,
    summary,
    wait_quiet,
)  # noqa: E402

TARGET_RATIO = 3.0
MINIMAL = "minimal view /health/live/"
HOST = "127.0.0.1"


def pick_unit(db: str, year: int, group: str) -> str:
    """The unit in the middle of the latest ranking of ``year``: an ordinary unit page."""
    return psql(
        "SELECT r.unit_code FROM rankings_publishedresult r JOIN rankings_publication p "
        f"ON p.id = r.publication_id WHERE p.year = {year} AND p.group_code = '{group}' "
        "ORDER BY p.version DESC, r.position "
        f"OFFSET (SELECT unit_count / 2 FROM rankings_publication WHERE year = {year} "
        f"AND group_code = '{group}' ORDER BY version DESC LIMIT 1) LIMIT 1",
        db,
    )


def fetch(url: str) -> tuple[int, int, float]:
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(url, timeout=120) as response:
            body = response.read()
            status = response.status
    except urllib.error.HTTPError as error:
        body, status = error.read(), error.code
    return status, len(body), time.perf_counter() - started


class RssSampler(threading.Thread):
    """Peak resident memory of every gunicorn worker seen, from /proc (VmHWM), twice a second."""

    def __init__(self, master: int):
        super().__init__(daemon=True)
        self.master = master
        self.peaks: dict[int, int] = {}
        self.stopping = threading.Event()

    def workers(self) -> list[int]:
        try:
            text = Path(f"/proc/{self.master}/task/{self.master}/children").read_text()
        except OSError:
            return []
        return [int(pid) for pid in text.split()]

    def sample(self) -> None:
        for pid in self.workers():
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in status.splitlines():
                if line.startswith("VmHWM:"):
                    self.peaks[pid] = max(self.peaks.get(pid, 0), int(line.split()[1]))

    def run(self) -> None:
        while not self.stopping.wait(0.5):
            self.sample()


def wrk(url: str, args, bust: bool = False) -> dict:
    command = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{args.duration}s",
        "--timeout",
        "60s",
        "--latency",
        "-s",
        str(BENCH / "wrk_report.lua"),
        url,
    ]
    env = {**os.environ, "WRK_BUST": "1" if bust else "0"}
    quiet = wait_quiet()
    done = subprocess.run(command, capture_output=True, text=True, check=True, env=env)
    line = next(x for x in done.stdout.splitlines() if x.startswith("WRK_JSON "))
    return {**json.loads(line.removeprefix("WRK_JSON ")), **quiet, "load_after": os.getloadavg()[0]}


def report(label: str, name: str, result: dict) -> dict:
    print(
        f"  {label} {name:<28} p50 {result['p50_ms']:8.1f} ms  p95 {result['p95_ms']:8.1f} ms"
        f"  {result['rps']:8.1f} req/s  errors {result['errors']} non-2xx {result['non_2xx']}"
        f"  (CPU {result['busy_before']:.0%} busy before, load {result['load_after']:.2f} after)",
        flush=True,
    )
    return result


def table_of(runs: dict[str, list[dict]], floor: float | None = None) -> dict:
    table = {}
    for name, items in runs.items():
        row = {
            "p50_ms": summary([r["p50_ms"] for r in items]),
            "p95_ms": summary([r["p95_ms"] for r in items]),
            "rps": summary([r["rps"] for r in items]),
            "errors": sum(r["errors"] + r["non_2xx"] for r in items),
        }
        table[name] = row
    floor = floor or table[MINIMAL]["p95_ms"]["median"]
    for row in table.values():
        row["ratio_p95"] = row["p95_ms"]["median"] / floor
        row["met"] = row["ratio_p95"] <= TARGET_RATIO
    return table


def print_table(title: str, table: dict) -> None:
    print(f"\n{title:<28} {'p50 ms':>8} {'p95 ms':>8} {'req/s':>8} {'p95/min':>8}  target 3x")
    for name, row in table.items():
        print(
            f"{name:<28} {row['p50_ms']['median']:8.1f} {row['p95_ms']['median']:8.1f}"
            f" {row['rps']['median']:8.1f} {row['ratio_p95']:8.1f}  "
            + ("met" if row["met"] else "MISSED")
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="cchc_bench")
    parser.add_argument("--port", type=int, default=8021)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2, help="wrk -t")
    parser.add_argument("--connections", type=int, default=8, help="wrk -c")
    parser.add_argument("--duration", type=int, default=20, help="wrk -d, seconds (max 20)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--uncached-repeats", type=int, default=1, help="runs with a query string per request"
    )
    parser.add_argument("--year", type=int, default=2024)
    parser.add_argument("--group", default="communes")
    parser.add_argument("--unit", help="unit code for the unit page (default: middle rank)")
    parser.add_argument("--commit", help="measure this commit (a snapshot), not the work tree")
    args = parser.parse_args()
    select_code(args.commit)
    if not 1 <= args.duration <= 20:
        raise SystemExit("--duration must be 1 to 20 seconds: every load run stays bounded")
    env = env_for(args.db)
    unit = args.unit or pick_unit(args.db, args.year, args.group)
    urls = {
        MINIMAL: "/health/live/",
        "home /": "/",
        "ranking page": f"/rankings/{args.year}/{args.group}/",
        "ranking API": f"/api/v1/rankings/{args.year}/{args.group}/",
        "unit page": f"/units/{unit}/",
    }
    logs = OUT / "logs" / args.db
    logs.mkdir(parents=True, exist_ok=True)

    subprocess.run(
        [str(PYTHON), "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=code_dir(),
        env=env,
        check=True,
    )
    log = (logs / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [
            str(PROJECT / ".venv" / "bin" / "gunicorn"),
            "cchc.wsgi",
            "--workers",
            str(args.workers),
            "--bind",
            f"{HOST}:{args.port}",
        ],
        cwd=code_dir(),
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    sampler = RssSampler(server.pid)
    base = f"http://{HOST}:{args.port}"
    try:
        for _attempt in range(100):
            try:
                if fetch(base + "/health/live/")[0] == 200:
                    break
            except OSError:
                time.sleep(0.2)
        else:
            raise SystemExit("gunicorn did not answer; see " + str(logs / "gunicorn.log"))
        sampler.start()

        checks = {}
        for name, path in urls.items():
            timings = []
            for _i in range(5):  # warms both workers; unloaded, one request at a time
                status, size, seconds = fetch(base + path)
                if status != 200:
                    raise SystemExit(f"{path} answered {status}")
                timings.append(seconds)
            checks[name] = {
                "bytes": size,
                "first_ms": timings[0] * 1000,  # built (cache empty)
                "single_ms": statistics.median(timings) * 1000,
            }
            print(
                f"  {name:<28} {path:<40} {size:>9} B  first {timings[0] * 1000:8.1f} ms"
                f"  then {checks[name]['single_ms']:8.1f} ms"
            )

        runs: dict[str, list[dict]] = {name: [] for name in urls}
        for repeat in range(1, args.repeats + 1):
            for name, path in urls.items():
                runs[name].append(report(f"run {repeat}", name, wrk(base + path, args)))
        sampler.sample()
        peaks_cached = dict(sampler.peaks)
        # Cache misses: every request a query string of its own, so every page is built.
        uncached: dict[str, list[dict]] = {name: [] for name in urls if name != MINIMAL}
        for repeat in range(1, args.uncached_repeats + 1):
            for name in uncached:
                result = wrk(base + urls[name], args, bust=True)
                uncached[name].append(report(f"miss {repeat}", name, result))
        sampler.sample()
    finally:
        sampler.stopping.set()
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()

    table = table_of(runs)
    for name, row in table.items():
        row.update(path=urls[name], **checks[name])
    floor = table[MINIMAL]["p95_ms"]["median"]
    missed = table_of(uncached, floor) if uncached and uncached[next(iter(uncached))] else {}
    result = {
        "db": args.db,
        "git": git_state(),
        "wrk": f"-t{args.threads} -c{args.connections} -d{args.duration}s --latency",
        "repeats": args.repeats,
        "uncached_repeats": args.uncached_repeats,
        "gunicorn_workers": args.workers,
        "worker_peak_rss_mb_cached_phase": {str(p): kb / 1024 for p, kb in peaks_cached.items()},
        "worker_peak_rss_mb": {str(pid): kb / 1024 for pid, kb in sampler.peaks.items()},
        "urls": table,
        "uncached": missed,
        "runs": runs,
        "uncached_runs": uncached,
    }
    target = OUT / "results" / f"http-{args.db}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(result, indent=2))

    print_table("cached (as served)", table)
    if missed:
        print_table("cache miss (query string)", missed)
    for label, key in (
        ("cached phase", "worker_peak_rss_mb_cached_phase"),
        ("all", "worker_peak_rss_mb"),
    ):
        peaks = ", ".join(f"{mb:.0f} MB" for mb in result[key].values())
        print(f"gunicorn workers' peak RSS ({label}): {peaks}")
    print(f"results in {target}")


if __name__ == "__main__":
    main()
