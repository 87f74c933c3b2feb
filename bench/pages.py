"""Every public page of a loaded benchmark database, read from the URL resolver.

Like ``tests/browser/test_public_readable.py``: every URL pattern whose view lives in the
``rankings`` package (the public pages, the explore and official pages, the API, the files:
decisions, badge, images, open data), the admin left out, so that a page added later is
measured too. The URL parameters get values from the database: the latest published year of
the group (or ``--year``), the unit in the middle of its ranking, its first field, version 1.
Besides one address per pattern, the pages with a query the contract documents: the ranking's
page 2, a band, the CSV and XLSX downloads of the ranking and of SIPAS, the unit page and the
home in the first year, a search of the units list, a comparison of two units, the ranking
sorted by name (what a reader chooses: built on a miss, never prebuilt).

``public_pages()`` needs Django set up (``query_counts.py`` calls it in-process). As a script it
prints ``PAGES_JSON {...}`` for ``run_http.py``, run in the code's folder with the bench
environment (``common.env_for``)::

    DATABASE_URL=... .venv/bin/python bench/pages.py --group communes
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

GROUP = "communes"
MINIMAL = ("minimal view", "/health/live/")


def samples(year: int | None, group: str) -> dict:
    """Values for the URL parameters, from the database."""
    from rankings.models import Publication

    published = Publication.objects.filter(group_code=group)
    years = sorted(set(published.values_list("year", flat=True)))
    if not years:
        raise SystemExit(f"nothing is published for group {group!r}: run run_imports.py first")
    year = year or years[-1]
    publication = Publication.objects.current(year, group)
    if publication is None:
        raise SystemExit(f"nothing is published for {year} {group!r}")
    results = list(publication.results.order_by("position").values_list("unit_code", flat=True))
    middle = results[len(results) // 2]
    other = results[0] if results[0] != middle else results[-1]
    field = publication.criteria.filter(parent_code="").order_by("position").first()
    band = publication.bands.order_by("-min_index").first()
    return {
        "year": year,
        "first_year": years[0],
        "group": group,
        "unit": middle,
        "other_unit": other,
        "code": field.code if field else "1",
        "band": band.code if band else "",
        "number": 1,
        "units": len(results),
        "version": publication.version,
    }


def public_pages(year: int | None = None, group: str = GROUP) -> dict:
    """``{"samples": ..., "pages": [[name, path], ...], "skipped": [...]}``, the minimal view
    first."""
    from django.urls import URLPattern, URLResolver, get_resolver, reverse

    values = samples(year, group)
    pages: list[tuple[str, str]] = []
    skipped: list[str] = []

    def walk(patterns, namespace: str = "") -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, inner)
                continue
            if not isinstance(pattern, URLPattern):
                continue
            module = getattr(pattern.callback, "__module__", "") or ""
            if not module.startswith("rankings.") or module == "rankings.admin":
                continue
            if namespace.startswith("admin:") or pattern.name is None:
                continue
            names = list(pattern.pattern.converters)
            if any(name not in values for name in names):
                skipped.append(f"{namespace}{pattern.name}: parameters {names}")
                continue
            path = reverse(namespace + pattern.name, kwargs={n: values[n] for n in names})
            pages.append((f"{namespace}{pattern.name}", path))

    walk(get_resolver().url_patterns)
    pages.sort()
    by_name = dict(pages)
    extra = {
        "rankings:ranking": [
            ("page 2", "?page=2"),
            ("band", f"?band={values['band']}" if values["band"] else None),
            ("CSV", "?_export=csv"),
            ("XLSX", "?_export=xlsx"),
            ("sorted by name", "?sort=unit_name"),
        ],
        "rankings:sipas": [("CSV", "?_export=csv"), ("XLSX", "?_export=xlsx")],
        "rankings:unit": [("first year", f"?year={values['first_year']}")],
        "rankings:home": [("first year", f"?year={values['first_year']}")],
        "units": [("search", "?q=xa")],
        "compare": [("two units", f"?units={values['unit']},{values['other_unit']}")],
    }
    for name, queries in extra.items():
        if name not in by_name:
            continue
        for label, query in queries:
            if query:
                pages.append((f"{name} {label}", by_name[name] + query))
    return {"samples": values, "pages": [MINIMAL, *pages], "skipped": skipped}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--year", type=int, help="default: the latest published year")
    parser.add_argument("--group", default=GROUP)
    args = parser.parse_args()
    sys.path.insert(0, str(Path.cwd()))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cchc.settings")
    import django

    django.setup()
    print("PAGES_JSON " + json.dumps(public_pages(args.year, args.group)), flush=True)


if __name__ == "__main__":
    main()
