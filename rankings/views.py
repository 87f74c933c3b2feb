"""Public pages. They read published rows only (``rankings.models``)."""

from __future__ import annotations

from django.shortcuts import render

from .models import Publication


def home(request):
    """The latest published year: per group, band counts, average, top three and last unit."""
    publications = list(
        Publication.objects.latest_versions()
        .select_related("group")
        .order_by("-year", "group__order")
    )
    latest_year = publications[0].year if publications else None
    current = [p for p in publications if p.year == latest_year]
    groups = []
    for publication in current:
        results = list(publication.results.order_by("position"))
        counts: dict[str, list] = {}
        for result in results:
            counts.setdefault(result.band_code, [result.band_label, 0])[1] += 1
        bands = [
            (band.label, counts.get(band.code, [band.label, 0])[1])
            for band in publication.bands.all()
        ]
        groups.append(
            {
                "publication": publication,
                "bands": bands,
                "top": results[:3],
                "bottom": results[-1] if len(results) > 3 else None,
            }
        )
    return render(
        request,
        "rankings/home.html",
        {"year": latest_year, "groups": groups, "years": sorted({p.year for p in publications})},
    )
