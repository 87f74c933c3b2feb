"""What the bench scripts share: the project's folder, the production-like environment, the
benchmark databases (never anyone else's) and small statistics."""

from __future__ import annotations

import os
import re
import statistics
import subprocess
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


def env_for(db: str) -> dict[str, str]:
    """The production-like environment (DEBUG unset) against the database ``db``."""
    env = dict(os.environ)
    env.pop("DEBUG", None)
    env.update(
        SECRET_KEY="bench",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        SECURE_SSL_REDIRECT="0",
        DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{check_db_name(db)}",
        PYTHONUNBUFFERED="1",
    )
    return env


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


def git_state() -> dict[str, object]:
    """Which code was measured: the commit and the files changed since (read-only git)."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=PROJECT, capture_output=True, text=True, check=False
        ).stdout.strip()

    return {"commit": git("rev-parse", "HEAD"), "changed": git("status", "--short").splitlines()}
