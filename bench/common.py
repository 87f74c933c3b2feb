"""What the bench scripts share: the project's folder, the production-like environment, the
benchmark databases (never anyone else's) and small statistics."""

from __future__ import annotations

import hashlib
import os
import re
import statistics
import subprocess
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parent.parent
BENCH = PROJECT / "bench"
OUT = BENCH / "out"
PYTHON = PROJECT / ".venv" / "bin" / "python"
PG = ["-h", "127.0.0.1", "-p", "5432", "-U", "postgres"]
_BENCH_DB = re.compile(r"^cchc_bench[a-z0-9_]*$")


def check_db_name(name: str) -> str:
    """Only databases named ``cchc_bench*`` are ever created, dropped or loaded here."""
    if not _BENCH_DB.match(name):
        raise SystemExit(f"refusing database {name!r}: the benchmarks use cchc_bench* only")
    return name


def cache_dir_for(db: str) -> Path:
    """The file cache of the processes run against ``db``: the benchmarks' own, so that a run
    neither reads nor clears the copies of the working tree's ``var/cache`` (nor another
    database's: the quick copies are keyed by path, not by database)."""
    return OUT / "cache" / check_db_name(db)


def env_for(db: str) -> dict[str, str]:
    """The production-like environment (DEBUG unset) against the database ``db``, the file
    cache in ``cache_dir_for(db)`` (``CACHE_DIR``; no ``CACHE_URL``, no ``CACHE_BACKEND``: the
    settings' default backend)."""
    env = dict(os.environ)
    for name in ("DEBUG", "CACHE_URL", "CACHE_BACKEND"):
        env.pop(name, None)
    env.update(
        SECRET_KEY="bench",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="0",
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{check_db_name(db)}",
        CACHE_DIR=str(cache_dir_for(db)),
        PYTHONUNBUFFERED="1",
    )
    return env


def prebuild_processes(db: str) -> list[str]:
    """Processes with ``prebuild`` in their command line working on ``db`` (their environment's
    ``DATABASE_URL``; when it cannot be read, counted anyway): what the application starts after
    a publication to build the public pages into the cache."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            line = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        # Not the bench's own scripts; but a ``--commit`` snapshot's manage.py lives under
        # bench/out/code/ too, and its prebuild is the one to wait for.
        if "prebuild" not in line or ("bench/" in line and "manage.py prebuild" not in line):
            continue
        try:
            environ = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            environ = None
        if environ is None or f"DATABASE_URL={env_for(db)['DATABASE_URL']}".encode() in environ:
            found.append(f"{entry.name} {line[:120]}")
    return found


def wait_prebuild(db: str, max_wait: float = 600) -> dict:
    """Wait (at most ``max_wait`` seconds) until no prebuild works on ``db``."""
    started = time.monotonic()
    seen = prebuild_processes(db)
    while prebuild_processes(db) and time.monotonic() - started < max_wait:
        time.sleep(0.5)
    return {"prebuild_seen": len(seen), "prebuild_wait_s": round(time.monotonic() - started, 1)}


def psql(sql: str, db: str = "postgres") -> str:
    done = subprocess.run(
        ["psql", *PG, "-d", db, "-v", "ON_ERROR_STOP=1", "-Atc", sql],
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout.strip()


def summary(values: list[float]) -> dict[str, float]:
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }


def code_dir() -> Path:
    """The code under test: the working tree, or a snapshot of one commit (``--commit``)."""
    return Path(os.environ.get("BENCH_CODE") or PROJECT)


def select_code(commit: str | None) -> Path:
    """With a commit, measure exactly that code: ``git archive`` (read-only) into
    ``bench/out/code/<commit>/``, used by this process and the processes it starts. Without,
    the working tree as it is (other people may be editing it)."""
    if commit:
        rev = subprocess.run(
            ["git", "rev-parse", "--short", commit],
            cwd=PROJECT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        target = OUT / "code" / rev
        if not (target / ".bench-commit").is_file():
            target.mkdir(parents=True, exist_ok=True)
            archive = subprocess.run(
                ["git", "archive", "--format=tar", rev],
                cwd=PROJECT,
                capture_output=True,
                check=True,
            ).stdout
            subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
            (target / ".bench-commit").write_text(rev)
        os.environ["BENCH_CODE"] = str(target)
    compile_code()
    return code_dir()


def compile_code() -> None:
    """Write the bytecode of the code under test, as an installation does once (pip compiles
    what it installs; docs/deployment.md step 3 for the project's own folder). Without it,
    every ``manage.py`` process of a run where ``PYTHONDONTWRITEBYTECODE`` is set, or where the
    folder is read-only, compiles the project's modules again at its start (0.25 s of
    ``publish`` on a slow 2-core machine)."""
    folders = [str(code_dir() / name) for name in ("cchc", "scoring", "rankings", "manage.py")]
    subprocess.run(
        [str(PYTHON), "-m", "compileall", "-q", *folders], check=True, stdout=subprocess.DEVNULL
    )


def git_state() -> dict[str, object]:
    """Which code was measured: the commit, the files changed since (read-only git) and a digest
    of those changes, so that two measurements of the same code can be recognised."""

    marker = code_dir() / ".bench-commit"
    if marker.is_file():
        return {"commit": marker.read_text(), "changed": [], "diff_sha": "", "snapshot": True}

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=PROJECT, capture_output=True, text=True, check=False
        ).stdout.rstrip("\n")

    changed = [
        line
        for line in git("status", "--short", "--untracked-files=all").splitlines()
        if not line[3:].startswith("bench/")
    ]
    digest = hashlib.sha256(git("diff", "HEAD", "--", ".", ":!bench").encode())
    for line in changed:
        if line.startswith("??") and Path(PROJECT / line[3:]).is_file():
            digest.update(Path(PROJECT / line[3:]).read_bytes())
    return {
        "commit": git("rev-parse", "--short", "HEAD").strip(),
        "changed": changed,
        "diff_sha": digest.hexdigest()[:12] if changed else "",
    }


def cpu_busy(seconds: float = 2.0) -> float:
    """Share of all CPUs busy over ``seconds``, from /proc/stat (whoever uses them)."""

    def read() -> tuple[int, int]:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return sum(values), values[3] + values[4]  # total, idle + iowait

    total_0, idle_0 = read()
    time.sleep(seconds)
    total_1, idle_1 = read()
    return 1 - (idle_1 - idle_0) / max(total_1 - total_0, 1)


def wait_quiet(limit: float = 0.15, max_wait: float = 600) -> dict[str, float]:
    """Wait until the machine is idle (other people's test runs share these 2 cores), at most
    ``max_wait`` seconds; returns what was seen, to keep beside the measurement."""
    started = time.monotonic()
    while True:
        busy = cpu_busy()
        waited = time.monotonic() - started
        if busy < limit or waited > max_wait:
            if busy >= limit:
                print(f"  (machine still {busy:.0%} busy after {waited:.0f} s: measuring anyway)")
            return {"busy_before": round(busy, 3), "waited_s": round(waited, 1)}


def ensure_static(env: dict[str, str]) -> None:
    """Production settings need collected static files (a manifest) to render pages."""
    if not (code_dir() / "staticfiles" / "staticfiles.json").is_file():
        subprocess.run(
            [str(PYTHON), "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=code_dir(),
            env=env,
            check=True,
        )
