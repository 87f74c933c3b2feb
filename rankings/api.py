"""The public JSON API (docs/api.md): published years, rankings and SIPAS, read from frozen rows.

Every view answers 404 (in JSON) for a year or group that was never published. Answers carry
the list of versions of their publication, so an erratum is visible as such.
"""

from __future__ import annotations

from decimal import Decimal

from django.http import JsonResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_safe

from scoring.models import SIPAS_ELEMENTS

from .caching import conditional, published_page
from .models import (
    RESULT_VALUES,
    Publication,
    PublishedCriterion,
    PublishedField,
    PublishedLeaf,
    PublishedResult,
)
from .official import absolute

OPEN = {"Access-Control-Allow-Origin": "*"}  # public open data, readable from any site


def money(value: Decimal | None) -> str | None:
    """A decimal as a string with exactly two decimals; None stays None."""
    return None if value is None else f"{value:.2f}"


def _json(payload: dict, status: int = 200) -> JsonResponse:
    response = JsonResponse(payload, status=status, json_dumps_params={"ensure_ascii": False})
    response["Access-Control-Allow-Origin"] = "*"  # public open data
    return response


def _not_found() -> JsonResponse:
    return _json({"detail": "not published"}, status=404)


def _header(publication: Publication) -> dict:
    """What every answer says of its publication, with the list of its versions (errata)."""
    versions = Publication.objects.filter(
        year=publication.year, group_code=publication.group_code
    ).order_by("version")
    return {
        "year": publication.year,
        "group": publication.group_code,
        "group_name": publication.group_name,
        "version": publication.version,
        "published_at": timezone.localtime(publication.published_at).isoformat(),
        "baseline_version": publication.baseline_version,
        "baseline_outdated": publication.baseline_outdated(),
        "versions": [
            {
                "version": version.version,
                "published_at": timezone.localtime(version.published_at).isoformat(),
                "reason": version.reason,
                "checksum": version.checksum,
            }
            for version in versions
        ],
    }


def _comparison(row) -> dict:
    """What a result's change is measured against (docs/calculation.md, 9. Change)."""
    return {
        "previous_index": money(row.previous_index),
        "change_basis": row.change_basis or None,
        "compared_with": list(row.compared_with),
    }


def _scores(result: PublishedResult) -> dict:
    """A result's points, index, band and change, in the order the API gives them."""
    return {
        "points": money(result.points),
        "max_points": money(result.max_points),
        "index": money(result.index),
        "band": result.band_code,
        "band_label": result.band_label,
        "change": money(result.change),
        **_comparison(result),
    }


def _field(field: PublishedField) -> dict:
    return {
        "code": field.code,
        "title": field.title,
        "points": money(field.points),
        "max_points": money(field.max_points),
        "index": money(field.index),
    }


@require_safe
@published_page(json=True)
def index(request):
    """The published years, newest first, each with its groups and links (absolute, from
    ``SITE_URL``: never from the request, so the one stored copy serves every reader)."""
    current = list(Publication.objects.latest_versions().order_by("-year", "group__order"))
    return conditional(request, current, lambda: _index(current), OPEN)


def _index(current: list[Publication]) -> JsonResponse:
    years: dict[int, list[dict]] = {}
    for publication in current:
        args = [publication.year, publication.group_code]
        years.setdefault(publication.year, []).append(
            {
                "code": publication.group_code,
                "name": publication.group_name,
                "version": publication.version,
                "published_at": timezone.localtime(publication.published_at).isoformat(),
                "rankings": absolute(reverse("api:rankings", args=args)),
                "sipas": absolute(reverse("api:sipas", args=args))
                if publication.sipas_average is not None
                else None,
            }
        )
    return _json({"years": [{"year": year, "groups": groups} for year, groups in years.items()]})


@require_safe
@published_page(json=True)
def rankings(request, year: int, group: str):
    # Queries: the publication, its versions, its results, their fields. Flat in the units.
    publication = Publication.objects.current(year, group)
    if publication is None:
        return _not_found()
    return conditional(request, [publication], lambda: _rankings(publication), OPEN)


def _rankings(publication: Publication) -> JsonResponse:
    """The whole table as plain values, two queries for 3,300 units and their 30,000 fields:
    no model object per row or field."""
    fields: dict[int, list[dict]] = {}
    for result_id, code, title, points, max_points, index in (
        PublishedField.objects.filter(result__publication=publication)
        .order_by("result_id", "position")
        .values_list("result_id", "code", "title", "points", "max_points", "index")
    ):
        fields.setdefault(result_id, []).append(
            {
                "code": code,
                "title": title,
                "points": money(points),
                "max_points": money(max_points),
                "index": money(index),
            }
        )
    rows = []
    for row in publication.results.order_by("position").values("pk", *RESULT_VALUES):
        rows.append(
            {
                "rank": row["rank"],
                "unit": row["unit_code"],
                "name": row["unit_name"],
                "points": money(row["points"]),
                "max_points": money(row["max_points"]),
                "index": money(row["index"]),
                "band": row["band_code"],
                "band_label": row["band_label"],
                "change": money(row["change"]),
                "previous_index": money(row["previous_index"]),
                "change_basis": row["change_basis"] or None,
                "compared_with": list(row["compared_with"]),
                "fields": fields.get(row["pk"], []),
            }
        )
    return _json({**_header(publication), "results": rows})


@require_safe
@published_page(json=True)
def sipas(request, year: int, group: str):
    # Queries: the publication, its SIPAS rows, its versions.
    publication = Publication.objects.current(year, group)
    if publication is None:
        return _not_found()
    return conditional(request, [publication], lambda: _sipas(publication), OPEN)


def _sipas(publication: Publication) -> JsonResponse:
    rows = list(publication.sipas.order_by("position"))
    if not rows:
        return _not_found()
    return _json(
        {
            **_header(publication),
            "results": [
                {
                    "rank": row.rank,
                    "unit": row.unit_code,
                    "name": row.unit_name,
                    "index": money(row.index),
                    "change": money(row.change),
                    **_comparison(row),
                    "elements": {name: money(getattr(row, name)) for name in SIPAS_ELEMENTS},
                }
                for row in rows
            ],
        }
    )


@require_safe
@published_page(json=True)
def unit(request, unit: str):
    """One unit's published results of every year (latest versions), each with its fields and
    every leaf: scores, notes and, for a target leaf, the figures and the target. Queries: the
    unit's results; the newest publication (ETag); their fields; their leaves; their criteria."""
    latest = Publication.objects.latest_versions()
    results = list(
        PublishedResult.objects.filter(unit__code=unit, publication__in=latest)
        .select_related("publication")
        .order_by("publication__year", "publication__group__order")
    )
    if not results:
        return _not_found()
    return conditional(
        request, [r.publication for r in results], lambda: _unit(unit, results), OPEN
    )


def _leaf(leaf: PublishedLeaf, criterion: PublishedCriterion | None) -> dict:
    entry = {
        "code": leaf.code,
        "title": criterion.title if criterion else "",
        "kind": criterion.kind if criterion else "",
        "max_points": money(criterion.max_points) if criterion else None,
        "self_score": money(leaf.self_score),
        "final_score": money(leaf.final_score),
        "not_applicable": leaf.not_applicable,
        "note": leaf.note,
    }
    if criterion is not None and criterion.kind == "target":
        entry.update(
            {
                "self_figure": money(leaf.self_figure),
                "figure": money(leaf.figure),
                "target": money(criterion.target),
                "unit_label": criterion.unit_label,
                "rule": criterion.rule,
                "direction": criterion.direction,
                "steps": criterion.steps,
            }
        )
    if criterion is not None and criterion.sipas_element:
        entry["sipas_element"] = criterion.sipas_element
    return entry


def _unit(code: str, results: list[PublishedResult]) -> JsonResponse:
    ids = [r.pk for r in results]
    fields, leaves = {}, {}
    for field in PublishedField.objects.filter(result_id__in=ids).order_by("position"):
        fields.setdefault(field.result_id, []).append(field)
    for leaf in PublishedLeaf.objects.filter(result_id__in=ids).order_by("position"):
        leaves.setdefault(leaf.result_id, []).append(leaf)
    criteria = {
        (c.publication_id, c.code): c
        for c in PublishedCriterion.objects.filter(
            publication_id__in={r.publication_id for r in results}
        )
    }
    latest = results[-1]
    return _json(
        {
            "unit": code,
            "name": latest.unit_name,
            "results": [
                {
                    "year": r.publication.year,
                    "group": r.publication.group_code,
                    "group_name": r.publication.group_name,
                    "version": r.publication.version,
                    "rank": r.rank,
                    "of": r.publication.unit_count,
                    **_scores(r),
                    "fields": [_field(f) for f in fields.get(r.pk, [])],
                    "leaves": [
                        _leaf(leaf, criteria.get((r.publication_id, leaf.code)))
                        for leaf in leaves.get(r.pk, [])
                    ],
                }
                for r in results
            ],
        }
    )
