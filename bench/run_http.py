"""HTTP measurements on a loaded benchmark database, served by ``make serve`` as shipped.

The server is the Makefile's own ``serve`` target (``check --deploy``, ``migrate``,
``collectstatic``, then gunicorn with the Makefile's flags: ``--max-requests`` and the rest),
started with ``make serve`` in the production-like environment (``common.env_for``: SECRET_KEY,
ALLOWED_HOSTS, DATABASE_URL, SECURE_SSL_REDIRECT=0) plus ``WORKERS`` (``--workers``, default the
Makefile's), ``BIND=127.0.0.1:<port>``, ``CACHE_URL`` only with ``--cache-url`` and
``CACHE_BACKEND`` only with ``--cache-backend`` (else the settings' default cache), and
``CACHE_DIR=bench/out/cache/<db>`` (``--cache-dir``): a file cache then lives in the bench's own
folder, emptied at the start (``--keep-cache`` to keep it), never the working tree's
``var/cache``. A Redis database (``--cache-url``) that holds keys is refused unless
``--flush-redis`` (FLUSHDB first: give the bench a database of its own) or ``--keep-cache``:
the quick copies are keyed by path, so another database's copies would be served. ``make -n serve`` is read first: the gunicorn command it will run is
recorded in the results, and the run is refused if it would install anything (the virtualenv
older than ``pyproject.toml``: run ``make install`` first). The public pages come from the URL
resolver (``pages.py``). Every request says ``Accept-Encoding: gzip, deflate, br``, as
browsers do over HTTPS, so large answers travel as stored, compressed (``--no-gzip``: without
it, as wrk and urllib ask by themselves; the results record the headers). Phases, each
against the running server:

1. **check**: every public page once, cold (the server just started), then twice more: status,
   size, first and later times. Pages not answering 200 are reported and left out after.
2. **cached** (wrk): ``wrk -t2 -c8 -d20s --latency`` on the minimal view ``/health/live/`` (the
   floor, in the same run) and on ``--wrk-pages``, ``--repeats`` times round-robin; median of
   each run's p50, p95 and req/s; each page's p50 and p95 as a ratio to the floor's (goal 2x).
3. **query string per request** (wrk, ``--qs-repeats``, 0 by default): ``?bench=<n>`` on every
   request (``WRK_BUST=1``).
4. **random query strings**: ``--random-requests`` (1,000) requests to ``/health/live/`` (the
   baseline), the same number spread over the public pages without a query (the control), then
   with random unknown parameters (``?x<hex>=<hex>``). Around each: the cache's entries (Redis
   ``DBSIZE`` and the ``cchc:`` keys; a file cache's files; a per-process memory cache cannot be
   counted from outside: the workers' memory is given instead), and the database's work from
   ``pg_stat_database`` (``xact_commit``, ``tup_returned``, ``tup_fetched``), read from the
   ``postgres`` database after ``pg_stat_clear_snapshot()`` once ``--stats-wait`` seconds (11)
   have passed: an idle backend reports its statistics at most every 10 s. Goal: no new cache
   entry and no transaction beyond the baseline.
5. **first reader after a publication** (skipped with ``--no-publish``): ``manage.py publish
   --year <year> --group <group> --reason bench`` as its own process (a new version: the
   database keeps it), then it waits for what the application does after publishing
   (processes named ``*prebuild*`` to exit, then the machine idle twice, and at least
   ``PUBLIC_PAGE_SECONDS`` + 1 s, after which a per-process cache has dropped its quick copies
   of the previous version), takes the median of
   ``--minimal-samples`` requests to the minimal view, and requests every public page: the
   FIRST request's time is the first reader's, as a ratio to that median (goal 5x); it goes on
   requesting the page until two consecutive answers are within 1.3x of its fastest (at most
   12 requests), to show what it settles to. A first answer with the ETag the page had before
   the publication is marked stale (and missed).

The gunicorn workers' peak RSS (``VmHWM``) is sampled throughout. Before each wrk run and each
phase it waits (up to 10 minutes) for the machine to be idle and records how busy it was. Only
127.0.0.1 is loaded, and every run is bounded (``--duration`` at most 20 s, request counts).

Results: ``bench/out/results/http-<db>.json`` (with the make command and the gunicorn command
line) and tables on stdout; the server's output in ``bench/out/logs/<db>/serve.log``.

Usage (from the project root)::

    .venv/bin/python bench/run_http.py
    .venv/bin/python bench/run_http.py --db cchc_bench_small --repeats 1 --duration 5
    .venv/bin/python bench/run_http.py --cache-url redis://127.0.0.1:6379/15    # shared cache
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
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
    prebuild_processes,
    psql,
    select_code,
    summary,
    wait_quiet,
)

CACHED_GOAL = 2.0  # cached page p50 and p95 / the minimal view's
FIRST_READER_GOAL = 5.0  # first request after a publication / the minimal view's median
MINIMAL = "minimal view"
HOST = "127.0.0.1"
WRK_PAGES = "rankings:home,rankings:ranking,api:rankings,rankings:unit,rankings:sipas,api:sipas"
SETTLE_RATIO = 1.3
SETTLE_MAX = 12


LAST_ETAG: dict[str, str | None] = {}  # url -> the ETag of its last answer
# What every request says it accepts: what browsers ask over HTTPS (Brotli and gzip; curl
# --compressed and HTTP libraries ask gzip at least); ``--no-gzip``: nothing, as wrk and
# urllib ask by themselves.
HEADERS: dict[str, str] = {"Accept-Encoding": "gzip, deflate, br"}


def fetch(url: str) -> tuple[int, int, float]:
    started = time.perf_counter()
    try:
        request = urllib.request.Request(url, headers=HEADERS)
        with urllib.request.urlopen(request, timeout=120) as response:
            body = response.read()
            status = response.status
            LAST_ETAG[url] = response.headers.get("ETag")
    except urllib.error.HTTPError as error:
        body, status = error.read(), error.code
        LAST_ETAG[url] = None
    return status, len(body), time.perf_counter() - started


def children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


class RssSampler(threading.Thread):
    """Peak resident memory of every gunicorn worker seen, from /proc (VmHWM), twice a second;
    ``current()``: the workers' resident memory now (VmRSS)."""

    def __init__(self, master: int):
        super().__init__(daemon=True)
        self.master = master
        self.peaks: dict[int, int] = {}
        self.stopping = threading.Event()

    def status(self, field: str) -> dict[int, int]:
        found = {}
        for pid in children(self.master):
            try:
                text = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            for line in text.splitlines():
                if line.startswith(field + ":"):
                    found[pid] = int(line.split()[1])
        return found

    def sample(self) -> None:
        for pid, kb in self.status("VmHWM").items():
            self.peaks[pid] = max(self.peaks.get(pid, 0), kb)

    def current(self) -> dict[str, float]:
        return {str(pid): round(kb / 1024, 1) for pid, kb in self.status("VmRSS").items()}

    def run(self) -> None:
        while not self.stopping.wait(0.5):
            self.sample()


# The server: make serve ---------------------------------------------------------------------


def makefile_default(name: str) -> str | None:
    found = re.search(
        rf"^{name}\s*\?=\s*(\S+)", (code_dir() / "Makefile").read_text(), re.MULTILINE
    )
    return found.group(1) if found else None


def make_command() -> list[str]:
    command = ["make", "--no-print-directory"]
    if (code_dir() / ".bench-commit").is_file():
        # A snapshot has no virtualenv of its own: the project's (Makefile: VENV := .venv).
        command.append(f"VENV={PROJECT / '.venv'}")
    return [*command, "serve"]


def align_snapshot() -> None:
    """A snapshot's ``pyproject.toml`` carries its commit's time, which ``make`` compares with
    the project's virtualenv stamp: when it says the same as the working tree's (for which the
    virtualenv was installed), give it that file's time, so that ``make serve`` does not
    reinstall; a different one is left as it is (and the run refused below)."""
    snapshot = code_dir()
    if not (snapshot / ".bench-commit").is_file():
        return
    ours, theirs = snapshot / "pyproject.toml", PROJECT / "pyproject.toml"
    if ours.is_file() and theirs.is_file() and ours.read_bytes() == theirs.read_bytes():
        stat = theirs.stat()
        os.utime(ours, (stat.st_atime, stat.st_mtime))


def serve_plan(env: dict) -> dict:
    """What ``make serve`` will run (``make -n``); refused if it would install anything."""
    align_snapshot()
    done = subprocess.run(
        [*make_command()[:-1], "-n", "serve"],
        cwd=code_dir(),
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    lines = done.stdout.splitlines()
    if any("pip install" in line or "-m venv" in line for line in lines):
        raise SystemExit(
            "make serve would install packages first (the virtualenv is older than "
            "pyproject.toml, or a --commit snapshot needs other packages): run `make install` "
            "first, then this again"
        )
    gunicorn = [line for line in lines if re.search(r"(^|/)gunicorn\s", line)]
    if not gunicorn:
        raise SystemExit("no gunicorn command in `make -n serve`:\n" + done.stdout)
    return {"steps": lines, "gunicorn": gunicorn[-1]}


class Server:
    """``make serve`` in a session of its own; the gunicorn master found among its
    descendants; stopped by its process id."""

    def __init__(self, env: dict, log: Path, port: int):
        self.env = env
        self.log_path = log
        self.base = f"http://{HOST}:{port}"
        self.make = None
        self.master = None

    def start(self, timeout: float = 300) -> None:
        self.log = self.log_path.open("w")
        self.make = subprocess.Popen(
            make_command(),
            cwd=code_dir(),
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.make.poll() is not None:
                raise SystemExit(f"make serve exited ({self.make.returncode}): see {self.log_path}")
            try:
                if fetch(self.base + "/health/live/")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.3)
        else:
            self.stop()
            raise SystemExit(f"make serve did not answer in {timeout:.0f} s: see {self.log_path}")
        self.master = self.find_master()

    def find_master(self) -> int:
        """The gunicorn process whose parent is not gunicorn (make may exec it directly or
        through a shell)."""
        todo = [self.make.pid]
        while todo:
            pid = todo.pop(0)
            kids = children(pid)
            for kid in kids:
                if "gunicorn" in cmdline(kid) and "gunicorn" not in cmdline(pid):
                    return kid
            todo.extend(kids)
        raise SystemExit("no gunicorn process under make serve")

    def boots(self) -> int:
        """Workers gunicorn has started so far (its log's "Booting worker" lines): a worker
        replaced after ``--max-requests`` opens and warms its database connection."""
        self.log.flush()
        return self.log_path.read_text(errors="replace").count("Booting worker")

    def stop(self) -> None:
        if self.master:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.master, signal.SIGTERM)
        if self.make is not None:
            try:
                self.make.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.make.pid, signal.SIGTERM)  # the session started for it
                try:
                    self.make.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.killpg(self.make.pid, signal.SIGKILL)
                    self.make.wait()
        if getattr(self, "log", None):
            self.log.close()


# Pages, wrk -----------------------------------------------------------------------------------


def public_pages(env: dict, year: int | None, group: str) -> dict:
    command = [str(PYTHON), str(BENCH / "pages.py"), "--group", group]
    if year:
        command += ["--year", str(year)]
    done = subprocess.run(
        command, cwd=code_dir(), env=env, capture_output=True, text=True, check=False
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("PAGES_JSON ")), None)
    if done.returncode or line is None:
        raise SystemExit("pages.py failed:\n" + done.stdout[-2000:] + done.stderr[-3000:])
    return json.loads(line.removeprefix("PAGES_JSON "))


def wrk(url: str, args, bust: bool = False) -> dict:
    command = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{args.duration}s",
        "--timeout",
        "60s",
        "--latency",
        *(part for name, value in HEADERS.items() for part in ("-H", f"{name}: {value}")),
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


def table_of(runs: dict[str, list[dict]], floor: dict | None = None) -> dict:
    table = {}
    for name, items in runs.items():
        table[name] = {
            "p50_ms": summary([r["p50_ms"] for r in items]),
            "p95_ms": summary([r["p95_ms"] for r in items]),
            "rps": summary([r["rps"] for r in items]),
            "errors": sum(r["errors"] + r["non_2xx"] for r in items),
        }
    floor = floor or {
        "p50_ms": table[MINIMAL]["p50_ms"]["median"],
        "p95_ms": table[MINIMAL]["p95_ms"]["median"],
    }
    for row in table.values():
        row["ratio_p50"] = round(row["p50_ms"]["median"] / floor["p50_ms"], 3)
        row["ratio_p95"] = round(row["p95_ms"]["median"] / floor["p95_ms"], 3)
        row["met"] = max(row["ratio_p50"], row["ratio_p95"]) <= CACHED_GOAL and not row["errors"]
    return table


def print_table(title: str, table: dict) -> None:
    print(
        f"\n{title:<32} {'p50 ms':>8} {'p95 ms':>8} {'req/s':>8} {'p50/min':>8} {'p95/min':>8}"
        f"  goal {CACHED_GOAL:g}x"
    )
    for name, row in table.items():
        print(
            f"{name:<32} {row['p50_ms']['median']:8.1f} {row['p95_ms']['median']:8.1f}"
            f" {row['rps']['median']:8.1f} {row['ratio_p50']:8.2f} {row['ratio_p95']:8.2f}  "
            + ("met" if row["met"] else "MISSED")
            + (f" ({row['errors']} errors)" if row["errors"] else "")
        )


# Cache entries and database work ---------------------------------------------------------------


def cache_settings(env: dict) -> dict:
    """The cache the settings configure, as the server's processes see it (and the two
    settings that say what it holds: PUBLIC_PAGE_SECONDS, PREBUILD_UNIT_ANSWERS)."""
    script = (
        "import json, os, django; os.environ.setdefault('DJANGO_SETTINGS_MODULE', "
        "'cchc.settings'); django.setup(); from django.conf import settings; "
        "print('CACHE_JSON ' + json.dumps({**settings.CACHES['default'], "
        "'PUBLIC_PAGE_SECONDS': getattr(settings, 'PUBLIC_PAGE_SECONDS', None), "
        "'PREBUILD_UNIT_ANSWERS': getattr(settings, 'PREBUILD_UNIT_ANSWERS', None)}, "
        "default=str))"
    )
    done = subprocess.run(
        [str(PYTHON), "-c", script], cwd=code_dir(), env=env, capture_output=True, text=True
    )
    line = next((x for x in done.stdout.splitlines() if x.startswith("CACHE_JSON ")), None)
    if line is None:
        raise SystemExit("could not read the cache settings:\n" + done.stderr[-2000:])
    return json.loads(line.removeprefix("CACHE_JSON "))


def cache_kind(config: dict) -> str:
    """redis, file (Django's FileBasedCache and its subclasses: a folder) or memory."""
    backend = config.get("BACKEND", "").lower()
    if "redis" in backend:
        return "redis"
    if "file" in backend:
        return "file"
    return "memory"


def redis_count(location) -> dict:
    url = location[0] if isinstance(location, list) else location
    if shutil.which("redis-cli"):
        size = subprocess.run(
            ["redis-cli", "-u", url, "DBSIZE"], capture_output=True, text=True, check=True
        ).stdout.strip()
        keys = subprocess.run(
            ["redis-cli", "-u", url, "--scan", "--pattern", "*cchc:*"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        return {"dbsize": int(size.split()[-1]), "cchc_keys": len(keys)}
    script = (
        "import json, sys, redis; r = redis.Redis.from_url(sys.argv[1]); "
        "print(json.dumps({'dbsize': r.dbsize(), "
        "'cchc_keys': sum(1 for _k in r.scan_iter(match='*cchc:*'))}))"
    )
    done = subprocess.run(
        [str(PYTHON), "-c", script, url], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


def cache_entries(config: dict) -> dict:
    """How many entries the cache holds now, where that can be seen from outside."""
    kind = cache_kind(config)
    if kind == "redis":
        return {"kind": kind, **redis_count(config["LOCATION"])}
    if kind == "file":
        folder = Path(config["LOCATION"])
        files = sum(
            1 for _dir, _dirs, names in os.walk(folder) for n in names if n.endswith(".djcache")
        )
        return {"kind": kind, "files": files, "folder": str(folder)}
    return {"kind": kind, "note": "per-process memory: entries not countable from outside"}


def entries_count(entries: dict) -> int | None:
    return entries.get("cchc_keys", entries.get("files"))


def db_stats(db: str) -> dict:
    """The database's cumulative counters, read from another database (``postgres``) so that
    reading them adds nothing to them."""
    row = psql(
        "SELECT pg_stat_clear_snapshot(); SELECT xact_commit, xact_rollback, tup_returned, "
        f"tup_fetched FROM pg_stat_database WHERE datname = '{db}'"
    ).splitlines()[-1]
    names = ("xact_commit", "xact_rollback", "tup_returned", "tup_fetched")
    return dict(zip(names, (int(v) for v in row.split("|")), strict=True))


def settled_stats(db: str, wait: float) -> dict:
    """The counters once idle backends have reported (at most every 10 s) and they are steady."""
    time.sleep(wait)
    last = db_stats(db)
    for _i in range(10):
        time.sleep(1)
        now = db_stats(db)
        if now == last:
            return now
        last = now
    return last


def delta(after: dict, before: dict) -> dict:
    return {name: after[name] - before[name] for name in after}


def burst(base: str, paths: list[str], count: int, concurrency: int, random_query: bool) -> dict:
    """``count`` requests spread round-robin over ``paths``, ``concurrency`` at a time."""

    def one(i: int) -> tuple[int, float]:
        path = paths[i % len(paths)]
        if random_query:
            sep = "&" if "?" in path else "?"
            path += f"{sep}x{secrets.token_hex(3)}={secrets.token_hex(4)}"
        status, _size, seconds = fetch(base + path)
        return status, seconds

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        answers = list(pool.map(one, range(count)))
    statuses: dict[str, int] = {}
    for status, _s in answers:
        statuses[str(status)] = statuses.get(str(status), 0) + 1
    times = [s * 1000 for _st, s in answers]
    return {
        "requests": count,
        "seconds": round(time.perf_counter() - started, 2),
        "statuses": statuses,
        "median_ms": round(statistics.median(times), 2),
        "max_ms": round(max(times), 2),
    }


def boot_cost(server, db, args) -> int:
    """The transactions one worker's start makes by itself (``cchc/serving.py`` warms its
    connection), measured: gunicorn is asked for one more worker (TTIN), with no request, then
    for one fewer (TTOU)."""
    wait_quiet()
    stats_0 = settled_stats(db, args.stats_wait)
    boots = server.boots()
    os.kill(server.master, signal.SIGTTIN)
    deadline = time.monotonic() + 60
    while server.boots() == boots and time.monotonic() < deadline:
        time.sleep(0.2)
    time.sleep(2)  # its warm-up done
    stats_1 = settled_stats(db, args.stats_wait)
    os.kill(server.master, signal.SIGTTOU)
    time.sleep(2)
    return delta(stats_1, stats_0)["xact_commit"]


def random_phase(base, db, pages, config, sampler, args, server) -> dict:
    """The baseline (minimal view), the control (the pages, no query) and the random query
    strings, each with the cache entries and the database work around it, and the workers
    started meanwhile (``--max-requests``), whose warm-up transactions (``boot_cost``) are not
    builds."""
    per_boot = boot_cost(server, db, args)
    print(f"  one worker's start: {per_boot} transactions (its connection warmed)", flush=True)
    paths = [path for name, path in pages if name != MINIMAL]
    for path in paths:  # every page has its copy before counting
        fetch(base + path)
    runs = {}
    for label, targets, random_query in (
        ("baseline /health/live/", ["/health/live/"], False),
        ("pages, no query", paths, False),
        ("pages, random query", paths, True),
    ):
        quiet = wait_quiet()
        stats_0 = settled_stats(db, args.stats_wait)
        entries_0 = cache_entries(config)
        rss_0 = sampler.current()
        boots_0 = server.boots()
        result = burst(base, targets, args.random_requests, args.random_concurrency, random_query)
        stats_1 = settled_stats(db, args.stats_wait)
        boots = server.boots() - boots_0
        entries_1 = cache_entries(config)
        counted = (entries_count(entries_0), entries_count(entries_1))
        runs[label] = {
            **result,
            **quiet,
            "db": delta(stats_1, stats_0),
            "worker_starts": boots,
            "builds": delta(stats_1, stats_0)["xact_commit"] - boots * per_boot,
            "entries_before": entries_0,
            "entries_after": entries_1,
            "new_entries": None if None in counted else counted[1] - counted[0],
            "worker_rss_mb_before": rss_0,
            "worker_rss_mb_after": sampler.current(),
        }
        print(
            f"  {label:<24} {result['requests']} requests in {result['seconds']:.1f} s"
            f" {result['statuses']}; transactions {runs[label]['db']['xact_commit']},"
            f" rows returned {runs[label]['db']['tup_returned']}, fetched"
            f" {runs[label]['db']['tup_fetched']}; new cache entries {runs[label]['new_entries']};"
            f" workers started {boots}",
            flush=True,
        )
    baseline = runs["baseline /health/live/"]
    base_db = baseline["db"]
    random_run = runs["pages, random query"]
    control = runs["pages, no query"]
    return {
        "runs": runs,
        "cache": cache_kind(config),
        "worker_start_transactions": per_boot,
        "extra_builds": random_run["builds"] - baseline["builds"],
        "extra_transactions": random_run["db"]["xact_commit"] - base_db["xact_commit"],
        "extra_transactions_vs_control": random_run["db"]["xact_commit"]
        - control["db"]["xact_commit"],
        "extra_rows_fetched": random_run["db"]["tup_fetched"] - base_db["tup_fetched"],
        "new_entries": random_run["new_entries"],
        # The goal: no transaction beyond the baseline. Beside it: none beyond the same pages
        # without a query (what the pages cost anyway, e.g. a revalidation or an uncached page).
        # (Transactions of workers started during a run, ``boot_cost`` each, are not builds.)
        "no_build": random_run["builds"] - baseline["builds"] <= 0,
        "extra_builds_vs_control": random_run["builds"] - control["builds"],
        "no_build_vs_control": random_run["builds"] - control["builds"] <= 0,
        "no_copy": random_run["new_entries"] == 0
        if random_run["new_entries"] is not None
        else None,
    }


# The first reader after a publication ----------------------------------------------------------


def first_reader_phase(base, env, pages, samples, config, logs, args) -> dict:
    year, group = samples["year"], samples["group"]
    before = {path: LAST_ETAG.get(base + path) for _name, path in pages}
    publish = [
        str(PYTHON),
        "manage.py",
        "publish",
        "--year",
        str(year),
        "--group",
        group,
        "--reason",
        "bench",
    ]
    quiet = wait_quiet()
    started = time.perf_counter()
    with (logs / "first-reader-publish.log").open("w") as log:
        done = subprocess.run(
            publish, cwd=code_dir(), env=env, stdout=log, stderr=subprocess.STDOUT
        )
    publish_s = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"publish failed: see {logs / 'first-reader-publish.log'}")
    print(f"  published {year} {group} again in {publish_s:.2f} s", flush=True)
    # What the application does after publishing: a process of its own, or work in the
    # workers; either way the machine is busy until it is done.
    waited = time.perf_counter()
    seen = []
    # A national prebuild takes 10 minutes on a fast machine with one process, half an hour on
    # a slow one: wait up to two hours for it.
    while prebuild_processes(args.db) and time.perf_counter() - waited < 7200:
        seen = seen or prebuild_processes(args.db)
        time.sleep(0.5)
    settle = [wait_quiet(), wait_quiet()]
    if cache_kind(config) == "memory":
        # A per-process cache learns of the publication only when its quick copies expire.
        seconds = float(config.get("PUBLIC_PAGE_SECONDS") or 0) + 1
        time.sleep(max(0.0, seconds - (time.perf_counter() - waited)))
    waited_s = time.perf_counter() - waited
    minimal = []
    for _i in range(args.minimal_samples):
        minimal.append(fetch(base + "/health/live/")[2] * 1000)
    floor = statistics.median(minimal)
    rows = {}
    for name, path in pages:
        if name == MINIMAL:
            continue
        times, statuses = [], set()
        while len(times) < SETTLE_MAX:
            status, size, seconds = fetch(base + path)
            if not times:
                first_etag = LAST_ETAG.get(base + path)
            statuses.add(status)
            times.append(seconds * 1000)
            later = times[1:]
            if len(later) >= 2 and all(t <= SETTLE_RATIO * min(later) for t in later[-2:]):
                break
        stale = first_etag is not None and first_etag == before.get(path)
        rows[name] = {
            "path": path,
            "status": sorted(statuses),
            "bytes": size,
            "stale": stale,  # the first answer still the previous version's (same ETag)
            "first_ms": round(times[0], 2),
            "settled_ms": round(statistics.median(times[-2:]), 2),
            "requests": len(times),
            "ratio_first": round(times[0] / floor, 2),
            "met": times[0] / floor <= FIRST_READER_GOAL and statuses == {200} and not stale,
        }
        print(
            f"  {name:<34} first {times[0]:9.1f} ms ({times[0] / floor:6.1f}x)  then"
            f" {rows[name]['settled_ms']:8.1f} ms after {len(times)} requests"
            + ("  (STALE: the previous version's ETag)" if stale else ""),
            flush=True,
        )
    # What the prebuild was told to build, and what it stored: above PREBUILD_UNIT_ANSWERS
    # units (as the settings read it), a unit's older years and its comparison pickers are
    # left to their first readers.
    limit = int(config.get("PREBUILD_UNIT_ANSWERS") or 0)
    prebuild_env = {
        name: env.get(name)
        for name in ("PREBUILD", "PREBUILD_PROCESSES", "PREBUILD_UNIT_ANSWERS", "CACHE_MAX_ENTRIES")
    }
    return {
        "command": " ".join(publish),
        "publish_s": round(publish_s, 2),
        **quiet,
        "prebuild_env": prebuild_env,
        "unit_answers_every_year": limit > 0 and samples["units"] <= limit,
        "cache_after_prebuild": cache_entries(config),
        "prebuild_processes_seen": seen,
        "waited_s": round(waited_s, 1),
        "idle_after": settle,
        "minimal_ms": [round(m, 2) for m in minimal],
        "minimal_median_ms": round(floor, 2),
        "goal": FIRST_READER_GOAL,
        "pages": rows,
    }


def empty_cache(config: dict, args) -> None:
    """Start from an empty cache: the bench's own folder is emptied; a Redis database only with
    ``--flush-redis`` (it may not be the bench's), and the run refused if it holds keys (the
    copies of another database would be served: quick copies are keyed by path)."""
    kind = cache_kind(config)
    if kind == "file" and not args.keep_cache:
        folder = Path(config["LOCATION"]).resolve()
        if folder.is_relative_to(OUT.resolve()):  # only ever the bench's own folder
            shutil.rmtree(folder, ignore_errors=True)
            print(f"cache folder {folder} emptied (--keep-cache to keep it)")
        else:
            print(f"cache folder {folder} is not the bench's: left as it is")
    elif kind == "redis":
        url = config["LOCATION"][0] if isinstance(config["LOCATION"], list) else config["LOCATION"]
        held = redis_count(url)["dbsize"]
        if held and args.flush_redis:
            flush = (
                ["redis-cli", "-u", url, "FLUSHDB"]
                if shutil.which("redis-cli")
                else [str(PYTHON), "-c", f"import redis; redis.Redis.from_url({url!r}).flushdb()"]
            )
            subprocess.run(flush, check=True, capture_output=True)
            print(f"redis {url}: {held} keys flushed (--flush-redis)")
        elif held and not args.keep_cache:
            raise SystemExit(
                f"redis {url} holds {held} keys: give a database of its own with --flush-redis "
                "to empty it first (or --keep-cache to run on them)"
            )


def stop_on_term() -> None:
    """SIGTERM (and SIGINT, even when a non-interactive shell started this in the background
    with it ignored) end the run through its ``finally``: the server is stopped."""

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", default="cchc_bench")
    parser.add_argument("--port", type=int, default=8021)
    parser.add_argument("--workers", type=int, help="WORKERS for make serve (default: its own)")
    parser.add_argument("--cache-url", help="CACHE_URL for the server (default: none given)")
    parser.add_argument(
        "--cache-backend", choices=("files", "memory"), help="CACHE_BACKEND (default: none given)"
    )
    parser.add_argument(
        "--cache-dir",
        type=Path,
        help="CACHE_DIR (default: bench/out/cache/<db>, not the working tree's var/cache)",
    )
    parser.add_argument(
        "--keep-cache",
        action="store_true",
        help="do not empty the cache at the start (the bench's folder; a Redis database: run on)",
    )
    parser.add_argument(
        "--flush-redis", action="store_true", help="FLUSHDB the --cache-url database at the start"
    )
    parser.add_argument(
        "--no-gzip",
        action="store_true",
        help="requests without Accept-Encoding (large answers then sent whole)",
    )
    parser.add_argument("--threads", type=int, default=2, help="wrk -t")
    parser.add_argument("--connections", type=int, default=8, help="wrk -c")
    parser.add_argument("--duration", type=int, default=20, help="wrk -d, seconds (max 20)")
    parser.add_argument("--repeats", type=int, default=3, help="wrk runs per page (0: none)")
    parser.add_argument(
        "--wrk-pages", default=WRK_PAGES, help="page names for wrk, comma-separated, or 'all'"
    )
    parser.add_argument(
        "--qs-repeats", type=int, default=0, help="wrk runs with ?bench=<n> on every request"
    )
    parser.add_argument("--random-requests", type=int, default=1000, help="0: skip the phase")
    parser.add_argument("--random-concurrency", type=int, default=4)
    parser.add_argument("--stats-wait", type=float, default=11.0, help="seconds, see above")
    parser.add_argument(
        "--no-publish", action="store_true", help="skip the first reader after a publication"
    )
    parser.add_argument("--minimal-samples", type=int, default=5)
    parser.add_argument("--year", type=int, help="default: the latest published year")
    parser.add_argument("--group", default="communes")
    parser.add_argument("--commit", help="measure this commit (a snapshot), not the work tree")
    parser.add_argument(
        "--label", default="", help="results in http-<db>-<label>.json (e.g. redis), to keep both"
    )
    args = parser.parse_args()
    if args.no_gzip:
        HEADERS.clear()
    stop_on_term()
    select_code(args.commit)
    if not 1 <= args.duration <= 20:
        raise SystemExit("--duration must be 1 to 20 seconds: every load run stays bounded")
    if not 0 <= args.random_requests <= 5000:
        raise SystemExit("--random-requests must be 0 to 5000: every run stays bounded")
    env = env_for(args.db)  # no CACHE_URL, no CACHE_BACKEND; CACHE_DIR the bench's own
    workers = args.workers or int(makefile_default("WORKERS") or 3)
    env.update(WORKERS=str(workers), BIND=f"{HOST}:{args.port}")
    if args.cache_url:
        env["CACHE_URL"] = args.cache_url
    if args.cache_backend:
        env["CACHE_BACKEND"] = args.cache_backend
    if args.cache_dir:
        env["CACHE_DIR"] = str(args.cache_dir.resolve())
    logs = OUT / "logs" / args.db
    logs.mkdir(parents=True, exist_ok=True)

    plan = serve_plan(env)
    config = cache_settings(env)
    empty_cache(config, args)
    listing = public_pages(env, args.year, args.group)
    pages: list[tuple[str, str]] = [tuple(p) for p in listing["pages"]]
    samples = listing["samples"]
    shown_env = {
        k: env[k]
        for k in ("WORKERS", "BIND", "CACHE_URL", "CACHE_BACKEND", "CACHE_DIR")
        if k in env
    }
    print(
        f"server: {' '.join(make_command())} with {shown_env}\n  runs: {plan['gunicorn']}\n"
        f"  cache: {config.get('BACKEND')} ({cache_kind(config)})\n"
        f"pages: {len(pages)} ({samples['units']} units, {samples['year']} {samples['group']})",
        flush=True,
    )
    if listing["skipped"]:
        print(f"  skipped (unknown URL parameters): {listing['skipped']}")

    server = Server(env, logs / "serve.log", args.port)
    server.start()
    sampler = RssSampler(server.master)
    sampler.start()
    base = server.base
    result: dict = {}
    try:
        # 1. every page, cold, then twice more
        checks = {}
        wait_quiet()
        for name, path in pages:
            timings, statuses = [], []
            for _i in range(3):
                status, size, seconds = fetch(base + path)
                statuses.append(status)
                timings.append(seconds * 1000)
            checks[name] = {
                "path": path,
                "status": statuses[0],
                "bytes": size,
                "first_ms": round(timings[0], 2),
                "then_ms": round(statistics.median(timings[1:]), 2),
            }
            flag = "" if set(statuses) == {200} else f"  STATUS {statuses}"
            print(
                f"  {name:<34} {path:<52} {size:>9} B  first {timings[0]:8.1f} ms"
                f"  then {checks[name]['then_ms']:8.1f} ms{flag}",
                flush=True,
            )
        answering = [(n, p) for n, p in pages if checks[n]["status"] == 200]
        failing = {n: checks[n]["status"] for n, _p in pages if checks[n]["status"] != 200}
        by_name = dict(answering)

        # 2. cached, wrk
        wanted = (
            [n for n, _p in answering]
            if args.wrk_pages == "all"
            else [MINIMAL, *[n.strip() for n in args.wrk_pages.split(",") if n.strip()]]
        )
        wrk_pages = {name: by_name[name] for name in dict.fromkeys(wanted) if name in by_name}
        runs: dict[str, list[dict]] = {name: [] for name in wrk_pages}
        for repeat in range(1, args.repeats + 1):
            for name, path in wrk_pages.items():
                runs[name].append(report(f"run {repeat}", name, wrk(base + path, args)))
        sampler.sample()
        peaks_cached = dict(sampler.peaks)
        table = table_of(runs) if args.repeats else {}
        for name, row in table.items():
            row.update(checks[name])

        # 3. a query string on every request, wrk
        busting: dict[str, list[dict]] = {n: [] for n in wrk_pages if n != MINIMAL}
        for repeat in range(1, args.qs_repeats + 1):
            for name in busting:
                result_qs = wrk(base + wrk_pages[name], args, bust=True)
                busting[name].append(report(f"query {repeat}", name, result_qs))
        floor = {k: table[MINIMAL][k]["median"] for k in ("p50_ms", "p95_ms")} if table else None
        busted = table_of(busting, floor) if args.qs_repeats and floor else {}

        # 4. random query strings
        randoms = {}
        if args.random_requests:
            print(f"\nrandom query strings ({args.random_requests} requests per run):")
            randoms = random_phase(base, args.db, answering, config, sampler, args, server)

        # 5. the first reader after a publication
        first = {}
        if not args.no_publish:
            print("\nfirst reader after a publication:")
            first = first_reader_phase(base, env, answering, samples, config, logs, args)
        sampler.sample()
        result = {
            "db": args.db,
            "git": git_state(),
            "server": {
                "make": " ".join(make_command()),
                "env": shown_env,
                "gunicorn": plan["gunicorn"],
                "steps": plan["steps"],
                "cache": config,
            },
            "samples": samples,
            "pages": checks,
            "not_200": failing,
            "wrk": f"-t{args.threads} -c{args.connections} -d{args.duration}s --latency",
            "request_headers": dict(HEADERS),
            "repeats": args.repeats,
            "urls": table,
            "runs": runs,
            "query_string_runs": busting,
            "query_string": busted,
            "random_query": randoms,
            "first_reader": first,
            "goals": {"cached": CACHED_GOAL, "first_reader": FIRST_READER_GOAL},
            "worker_peak_rss_mb_cached_phase": {
                str(p): kb / 1024 for p, kb in peaks_cached.items()
            },
        }
    finally:
        sampler.stopping.set()
        sampler.sample()
        server.stop()
    result["worker_peak_rss_mb"] = {str(pid): kb / 1024 for pid, kb in sampler.peaks.items()}
    suffix = f"-{args.label}" if args.label else ""
    target = OUT / "results" / f"http-{args.db}{suffix}.json"
    result["label"] = args.label
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(result, indent=2))

    if table:
        print_table("cached (as served)", table)
    if busted:
        print_table("query string per request", busted)
    if randoms:
        runs_r = randoms["runs"]
        print(
            f"\n{'random query strings':<26} {'requests':>8} {'xacts':>7} {'rows ret':>9}"
            f" {'rows fetched':>12} {'new entries':>11}   cache: {randoms['cache']}"
        )
        for label, run in runs_r.items():
            new = "n/a" if run["new_entries"] is None else str(run["new_entries"])
            print(
                f"{label:<26} {run['requests']:8d} {run['db']['xact_commit']:7d}"
                f" {run['db']['tup_returned']:9d} {run['db']['tup_fetched']:12d} {new:>11}"
            )
        print(
            f"transactions beyond the /health/live/ baseline: {randoms['extra_transactions']}"
            f", of which not a worker's start ({randoms['worker_start_transactions']} each):"
            f" {randoms['extra_builds']}"
            f" -> {'met' if randoms['no_build'] else 'MISSED'} (goal 0); builds beyond the same"
            f" pages without a query: {randoms['extra_builds_vs_control']}"
            f" -> {'none' if randoms['no_build_vs_control'] else 'THE QUERY STRINGS ADD WORK'}"
            f"\nnew cache entries: {randoms['new_entries']} -> "
            + {True: "met", False: "MISSED", None: "not countable (per-process cache)"}[
                randoms["no_copy"]
            ]
        )
    if first:
        floor_ms = first["minimal_median_ms"]
        print(
            f"\nfirst reader after publishing (minimal view {floor_ms:.1f} ms, goal"
            f" {FIRST_READER_GOAL:g}x; publish {first['publish_s']:.1f} s, waited"
            f" {first['waited_s']:.0f} s)"
        )
        print(f"{'page':<34} {'first ms':>9} {'ratio':>7} {'settled ms':>10}")
        for name, row in first["pages"].items():
            print(
                f"{name:<34} {row['first_ms']:9.1f} {row['ratio_first']:7.1f}"
                f" {row['settled_ms']:10.1f}  " + ("met" if row["met"] else "MISSED")
            )
    if failing:
        print(f"\npages not answering 200 (left out): {failing}")
    for label, key in (
        ("cached phase", "worker_peak_rss_mb_cached_phase"),
        ("all", "worker_peak_rss_mb"),
    ):
        peaks = ", ".join(f"{mb:.0f} MB" for mb in result.get(key, {}).values())
        print(f"gunicorn workers' peak RSS ({label}): {peaks}")
    print(f"server: {result['server']['gunicorn']}\nresults in {target}")


if __name__ == "__main__":
    main()
