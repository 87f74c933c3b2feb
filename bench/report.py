"""Markdown tables for docs/benchmarks.md from the results in ``bench/out/results/``.

Reads ``imports-<db>.json`` (``run_imports.py``), ``http-<db>.json`` (``run_http.py``) and
``queries.json`` (``query_counts.py``) and prints, for each figure, the floor measured in the
same run, the ratio (min / median / max over the years, or over the wrk runs), the goal of
issue 14 and whether it is met. The goals hold at 3,300 units on PostgreSQL, median of at least
five years: a run at another scale is printed with that said beside it.

Usage (from the project root)::

    .venv/bin/python bench/report.py                   # every results file found
    .venv/bin/python bench/report.py --db cchc_bench   # imports and HTTP of one database
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import OUT  # noqa: E402

SCALE_UNITS = 3300
SCALE_YEARS = 5
IMPORT_RATIO, PUBLISH_RATIO, PUBLISH_SECONDS, PEAK_MB = 3.0, 2.0, 3.0, 300.0
CACHED_RATIO, FIRST_READER_RATIO = 2.0, 5.0
BUILD_MS = 100.0  # a build on a miss that still happens (issue 14)

# The first-reader addresses that no prebuild makes: what a reader chooses (a search, units
# compared, another sort), and, above ``PREBUILD_UNIT_ANSWERS`` units, a unit's older years and
# its comparison picker. Their first reader waits for a build: < BUILD_MS is their goal too.
READERS_CHOICE = ("units search", "compare two units", "rankings:ranking sorted by name")
OLDER_OR_PICKER = ("compare_with", "rankings:unit first year")


def kind_of(name: str, every_year: bool = False) -> str:
    """``every_year``: the run's prebuild built every unit's older years and pickers too
    (``PREBUILD_UNIT_ANSWERS`` at least the units)."""
    if name in READERS_CHOICE:
        return "reader's choice"
    if name in OLDER_OR_PICKER:
        return "prebuilt (every year)" if every_year else "older year / picker"
    return "prebuilt"


def verdict(met: bool | None) -> str:
    return {True: "met", False: "**missed**", None: "not measured"}[met]


def spread(values: list[float], digits: int = 2) -> str:
    if not values:
        return "–"
    low, mid, high = min(values), statistics.median(values), max(values)
    return f"{low:.{digits}f} / **{mid:.{digits}f}** / {high:.{digits}f}"


def code_of(git: dict) -> str:
    commit = git.get("commit", "?")
    if git.get("snapshot"):
        return f"`{commit}` (snapshot)"
    if git.get("changed"):
        return f"`{commit}` + {len(git['changed'])} uncommitted files (`{git.get('diff_sha')}`)"
    return f"`{commit}`"


def imports_table(data: dict) -> list[str]:
    units, years = data["units"], data["years"]
    scale_ok = units >= SCALE_UNITS and len(years) >= SCALE_YEARS
    lines = [
        f"### Import and publish: `{data['db']}`, {units:,} units, {len(years)} years "
        f"({years[0]}–{years[-1]}), code {code_of(data['git'])}",
        "",
    ]
    if not scale_ok:
        lines += [
            f"*Not the goals' scale ({SCALE_UNITS:,} units, at least {SCALE_YEARS} years): "
            "the verdicts below are indicative only.*",
            "",
        ]
    per_year = data.get("per_year", {})
    if not per_year:
        return [*lines, "No floors in this run (`--no-floors`, or an older results file).", ""]
    lines += [
        "| command | app s: median (min–max) | floor s: median (COPY+COMMIT inside) "
        "| ratio min / **median** / max | peak MB app (floor) | goal | |",
        "|---|---|---|---|---|---|---|",
    ]
    goals = {
        "import_scores": (f"≤ {IMPORT_RATIO:g}× floor", IMPORT_RATIO, None),
        "publish": (
            f"≤ {PUBLISH_RATIO:g}× floor and < {PUBLISH_SECONDS:g} s",
            PUBLISH_RATIO,
            PUBLISH_SECONDS,
        ),
    }
    for step, rows in per_year.items():
        app = [r["app_s"] for r in rows]
        floor = [r["floor_s"] for r in rows]
        inner = [r["floor_copy_commit_s"] or 0 for r in rows]
        ratios = [r["ratio"] for r in rows]
        peak = max(r["app_rss_mb"] for r in rows)
        floor_peak = max(r["floor_rss_mb"] for r in rows)
        text, ratio_goal, seconds_goal = goals[step]
        met = statistics.median(ratios) <= ratio_goal
        if seconds_goal is not None:
            met = met and statistics.median(app) < seconds_goal
        lines.append(
            f"| `{step}` | {statistics.median(app):.2f} ({min(app):.2f}–{max(app):.2f}) "
            f"| {statistics.median(floor):.2f} ({statistics.median(inner):.2f}) "
            f"| {spread(ratios)} | {peak:.0f} ({floor_peak:.0f}) | {text} | {verdict(met)} |"
        )
    for step, rows in per_year.items():
        peak = max(r["app_rss_mb"] for r in rows)
        lines.append(
            f"| `{step}` peak memory | | | | {peak:.0f} | < {PEAK_MB:g} MB "
            f"| {verdict(peak < PEAK_MB)} |"
        )
    lines += ["", "Per year:", "", "| year | command | app s | floor s | ratio | app MB |"]
    lines.append("|---|---|---|---|---|---|")
    for step, rows in per_year.items():
        for r in rows:
            lines.append(
                f"| {r['year']} | `{step}` | {r['app_s']:.2f} | {r['floor_s']:.2f} "
                f"| {r['ratio']:.2f} | {r['app_rss_mb']:.0f} |"
            )
    others = data.get("summary", {})
    extra = [s for s in others if s not in per_year and not s.startswith("floor_")]
    if extra:
        lines += ["", "| other command | median s (min–max) | peak MB |", "|---|---|---|"]
        for step in extra:
            wall, rss = others[step]["wall_s"], others[step]["max_rss_mb"]
            lines.append(
                f"| `{step}` | {wall['median']:.2f} ({wall['min']:.2f}–{wall['max']:.2f}) "
                f"| {rss['max']:.0f} |"
            )
    return [*lines, ""]


def per_run_ratios(runs: dict, name: str, key: str) -> list[float]:
    floor = runs.get("minimal view", [])
    return [page[key] / base[key] for page, base in zip(runs.get(name, []), floor, strict=False)]


def http_tables(data: dict) -> list[str]:
    server = data.get("server", {})
    units = data.get("samples", {}).get("units")
    lines = [
        f"### HTTP: `{data['db']}`"
        + (f" ({data['label']})" if data.get("label") else "")
        + (f", {units:,} units" if units else "")
        + f", code {code_of(data['git'])}",
        "",
        f"Server: `{server.get('make', '?')}` with `{server.get('env', {})}`, which runs "
        f"`{server.get('gunicorn', '?')}`; cache `{server.get('cache', {}).get('BACKEND', '?')}`.",
        "",
    ]
    if units is not None and units < SCALE_UNITS:
        lines += [f"*Not the goals' scale ({SCALE_UNITS:,} units): indicative only.*", ""]
    table, runs = data.get("urls", {}), data.get("runs", {})
    if table:
        floor = table.get("minimal view", {})
        lines += [
            f"Cached pages, wrk `{data.get('wrk')}`, {data.get('repeats')} runs round-robin; "
            "the floor is the minimal view `/health/live/` in the same runs.",
            "",
            "| page | p50 ms | p95 ms | floor p50 / p95 ms | p50 ratio min / **median** / max "
            "| p95 ratio min / **median** / max | goal | |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for name, row in table.items():
            if name == "minimal view":
                continue
            p50s = per_run_ratios(runs, name, "p50_ms")
            p95s = per_run_ratios(runs, name, "p95_ms")
            met = max(row["ratio_p50"], row["ratio_p95"]) <= CACHED_RATIO and not row["errors"]
            lines.append(
                f"| {name} `{row.get('path', '')}` | {row['p50_ms']['median']:.1f} "
                f"| {row['p95_ms']['median']:.1f} | {floor['p50_ms']['median']:.1f} / "
                f"{floor['p95_ms']['median']:.1f} | {spread(p50s)} | {spread(p95s)} "
                f"| ≤ {CACHED_RATIO:g}× | {verdict(met)} |"
            )
        lines.append("")
    randoms = data.get("random_query") or {}
    if randoms:
        lines += [
            "Random query strings (unknown parameters `?x<hex>=<hex>`), database work from "
            f"`pg_stat_database`; cache: {randoms.get('cache')}.",
            "",
            "| run | requests | transactions | workers started | rows returned | rows fetched "
            "| new cache entries |",
            "|---|---|---|---|---|---|---|",
        ]
        for label, run in randoms["runs"].items():
            new = "n/a" if run["new_entries"] is None else run["new_entries"]
            lines.append(
                f"| {label} | {run['requests']} | {run['db']['xact_commit']} "
                f"| {run.get('worker_starts', 'n/a')} "
                f"| {run['db']['tup_returned']} | {run['db']['tup_fetched']} | {new} |"
            )
        if "worker_start_transactions" in randoms:
            lines += [
                "",
                "A worker started by gunicorn (`--max-requests`) opens and warms its database "
                f"connection: {randoms['worker_start_transactions']} transactions, measured by "
                "asking gunicorn for one more worker (TTIN) with no request; those are not "
                "builds. Builds beyond the baseline: "
                f"{randoms['extra_builds']}.",
            ]
        copies = randoms.get("no_copy")
        # Beside the goal: what the query strings cost beyond the same pages without one. A
        # worker gunicorn started during either run warms its connection: not a build.
        runs = randoms["runs"]
        if all(
            "builds" in runs.get(name, {}) for name in ("pages, random query", "pages, no query")
        ):
            share = runs["pages, random query"]["builds"] - runs["pages, no query"]["builds"]
            share_label = "builds beyond the same pages without a query, workers' starts excluded"
        else:  # results of an older run.py
            share = randoms["extra_transactions_vs_control"]
            share_label = "beyond the same pages without a query"
        lines += [
            "",
            f"| goal | result | |\n|---|---|---|\n"
            f"| no build (no transaction beyond the `/health/live/` baseline but the "
            f"starting workers') "
            f"| {randoms.get('extra_builds', randoms['extra_transactions'])} beyond the baseline "
            f"| {verdict(randoms['no_build'])} |\n"
            f"| (the query strings' own share: {share_label}) "
            f"| {share} "
            f"| {'none' if share <= 0 else '**some**'} |\n"
            f"| no copy (no new cache entry) | {randoms['new_entries']} "
            f"| {verdict(copies) if copies is not None else 'not countable (per-process cache)'} |",
            "",
        ]
    first = data.get("first_reader") or {}
    if first:
        every_year = bool(first.get("unit_answers_every_year"))
        kinds = {name: kind_of(name, every_year) for name in first["pages"]}
        copies = {name for name, kind in kinds.items() if kind.startswith("prebuilt")}
        settings = {k: v for k, v in (first.get("prebuild_env") or {}).items() if v is not None}
        stored = first.get("cache_after_prebuild") or {}
        if settings or "files" in stored:
            lines += [
                "Prebuild: "
                + (", ".join(f"`{k}={v}`" for k, v in settings.items()) or "the defaults")
                + (
                    f"; the cache held {stored['files']:,} copies after it"
                    if "files" in stored
                    else ""
                )
                + ".",
                "",
            ]
        lines += [
            f"First reader after a publication (`{first['command']}`, {first['publish_s']:.1f} s; "
            f"then waited {first['waited_s']:.0f} s for the machine to be idle); floor: median "
            f"of {len(first['minimal_ms'])} requests to the minimal view just before, "
            f"{first['minimal_median_ms']:.1f} ms.",
            "",
            "| page | kind | first request ms | ratio | settled ms | goal | | build < "
            f"{BUILD_MS:g} ms |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for name, row in first["pages"].items():
            built = "(a copy)" if name in copies else verdict(row["first_ms"] < BUILD_MS)
            lines.append(
                f"| {name} `{row['path']}`{' (stale)' if row.get('stale') else ''} | {kinds[name]} "
                f"| {row['first_ms']:.1f} | {row['ratio_first']:.1f} "
                f"| {row['settled_ms']:.1f} | ≤ {FIRST_READER_RATIO:g}× | {verdict(row['met'])} "
                f"| {built} |"
            )
        ratios = [row["ratio_first"] for row in first["pages"].values()]
        every = all(row["met"] for row in first["pages"].values())
        prebuilt = [row for name, row in first["pages"].items() if name in copies]
        built = [row for name, row in first["pages"].items() if name not in copies]
        lines += [
            "",
            f"The prebuilt answers (every public page at its address, and the variants the "
            f"prebuild makes) ≤ {FIRST_READER_RATIO:g}×: "
            f"{verdict(all(row['met'] for row in prebuilt))} "
            f"({len([r for r in prebuilt if r['met']])} of {len(prebuilt)}); "
            f"every address measured ≤ {FIRST_READER_RATIO:g}×: {verdict(every)} "
            f"(ratios min / median / max {spread(ratios, 1)}); "
            f"the {len(built)} built for their first reader, each under {BUILD_MS:g} ms: "
            f"{verdict(all(row['first_ms'] < BUILD_MS for row in built))} "
            f"(≤ {FIRST_READER_RATIO:g}×: {len([r for r in built if r['met']])} of {len(built)}).",
            "",
        ]
    peaks = data.get("worker_peak_rss_mb", {})
    if peaks:
        values = list(peaks.values())
        lines += [
            f"Gunicorn workers' peak RSS ({len(values)} workers over the run, gunicorn "
            f"replacing each after about 2,000 requests): min / median / max "
            f"{spread(values, 0)} MB.",
            "",
        ]
    if data.get("not_200"):
        lines += [f"Pages not answering 200 (left out): {data['not_200']}", ""]
    return lines


def queries_tables(data: dict) -> list[str]:
    databases = data.get("databases") or [k for k in data if k.startswith("cchc_bench")]
    flat = data.get("flat", {})
    units = " → ".join(f"{data[db]['units']:,}" for db in databases)
    lines = [f"### Queries and rows per page, {units} units", ""]
    for state, pages in flat.items():
        head = " | ".join(f"{data[db]['units']:,} u: queries, rows" for db in databases)
        lines += [
            f"**{state}**",
            "",
            f"| page | {head} | flat |",
            "|---|" + "---|" * (1 + len(databases)),
        ]
        for name, verdicts in pages.items():
            cells = " | ".join(
                f"{data[db]['pages'][name][state]['queries']}, "
                f"{data[db]['pages'][name][state]['rows']}"
                for db in databases
            )
            both = verdicts["queries"] and verdicts["rows"]
            if verdicts["queries"] is None:
                text = "– (one database)"
            else:
                text = "yes" if both else ("queries only" if verdicts["queries"] else "**no**")
            lines.append(f"| {name} | {cells} | {text} |")
        count = sum(1 for v in pages.values() if v["queries"] and v["rows"])
        if len(databases) > 1:
            lines += ["", f"Flat (queries and rows) on {count} of {len(pages)} pages.", ""]
        else:
            lines += ["", "One database: flatness needs the 30- and 3,300-unit ones.", ""]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--results", type=Path, default=OUT / "results")
    parser.add_argument("--db", action="append", help="only these databases (repeatable)")
    args = parser.parse_args()
    wanted = set(args.db or [])
    out: list[str] = []
    for kind, render in (("imports", imports_table), ("http", http_tables)):
        for path in sorted(args.results.glob(f"{kind}-*.json")):
            data = json.loads(path.read_text())
            if wanted and data.get("db") not in wanted:
                continue
            out += render(data)
    queries = args.results / "queries.json"
    if queries.is_file():
        out += queries_tables(json.loads(queries.read_text()))
    if not out:
        raise SystemExit(f"no results in {args.results}")
    print("\n".join(out))


if __name__ == "__main__":
    main()
