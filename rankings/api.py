"""The public JSON API (contracts.md): published years, rankings and SIPAS, read from frozen rows.

Every view answers 404 for a year or group that was never published.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Prefetch
from django.http import Http404, JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from scoring.models import SIPAS_ELEMENTS

from .models import Publication, PublishedField


def money(value: Decimal | None) -> str | None:
    """A decimal as a string with exactly two decimals; None stays None."""
    return None if value is None else f"{value:.2f}"


def _json(payload: dict) -> JsonResponse:
    return JsonResponse(payload, json_dumps_params={"ensure_ascii": False})


def _publication(year: int, group: str) -> Publication:
    publication = Publication.objects.current(year, group)
    if publication is None:
        raise Http404("not published")
    return publication


@require_GET
def index(request):
    """The published years, newest first, each with its groups and links."""
    years: dict[int, list[dict]] = {}
    for publication in Publication.objects.latest_versions().order_by("-year", "group__order"):
        has_sipas = publication.sipas_average is not None
        years.setdefault(publication.year, []).append(
            {
                "code": publication.group_code,
                "name": publication.group_name,
                "version": publication.version,
                "published_at": timezone.localtime(publication.published_at).isoformat(),
                "rankings": request.build_absolute_uri(
                    reverse("api:rankings", args=[publication.year, publication.group_code])
                ),
                "sipas": request.build_absolute_uri(
                    reverse("api:sipas", args=[publication.year, publication.group_code])
                )
                if has_sipas
                else None,
            }
        )
    return _json({"years": [{"year": year, "groups": groups} for year, groups in years.items()]})


@require_GET
def rankings(request, year: int, group: str):
    # Queries: the publication, its results, their fields. Flat in the number of units.
    publication = _publication(year, group)
    results = publication.results.order_by("position").prefetch_related(
        Prefetch("fields", queryset=PublishedField.objects.order_by("position"))
    )
    return _json(
        {
            "year": publication.year,
            "group": publication.group_code,
            "group_name": publication.group_name,
            "version": publication.version,
            "published_at": timezone.localtime(publication.published_at).isoformat(),
            "results": [
                {
                    "rank": result.rank,
                    "unit": result.unit_code,
                    "name": result.unit_name,
                    "points": money(result.points),
                    "max_points": money(result.max_points),
                    "index": money(result.index),
                    "band": result.band_code,
                    "band_label": result.band_label,
                    "change": money(result.change),
                    "fields": [
                        {
                            "code": field.code,
                            "title": field.title,
                            "points": money(field.points),
                            "max_points": money(field.max_points),
                            "index": money(field.index),
                        }
                        for field in result.fields.all()
                    ],
                }
                for result in results
            ],
        }
    )


@require_GET
def sipas(request, year: int, group: str):
    # Queries: the publication, its SIPAS rows.
    publication = _publication(year, group)
    rows = list(publication.sipas.order_by("position"))
    if not rows:
        raise Http404("no SIPAS results published")
    return _json(
        {
            "year": publication.year,
            "group": publication.group_code,
            "group_name": publication.group_name,
            "version": publication.version,
            "published_at": timezone.localtime(publication.published_at).isoformat(),
            "results": [
                {
                    "rank": row.rank,
                    "unit": row.unit_code,
                    "name": row.unit_name,
                    "index": money(row.index),
                    "change": money(row.change),
                    "elements": {name: money(getattr(row, name)) for name in SIPAS_ELEMENTS},
                }
                for row in rows
            ],
        }
    )
