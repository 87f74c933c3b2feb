"""The public pages. They read frozen publications (``rankings.models``) and nothing else, so
nothing unpublished can show; every page is cacheable until the next version (ETag and
Last-Modified from the publications it shows)."""

from __future__ import annotations

import io
import zipfile
from collections import defaultdict
from decimal import Decimal

import django_filters
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.db.models import Avg
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tables2 import RequestConfig

from scoring.calculation import quantize
from scoring.models import SIPAS_ELEMENTS, Unit

from . import charts
from .caching import BadQuery, conditional, published_page
from .exports import csv_bytes, download
from .models import (
    Publication,
    PublishedBand,
    PublishedCriterion,
    PublishedField,
    PublishedLeaf,
    PublishedResult,
    PublishedSipas,
)
from .tables import RankingTable, SipasTable, field_columns

PAGE_SIZE = 100  # units per page of a ranking table (a commune group has hundreds)


def _current(year: int, group: str) -> Publication:
    publication = (
        Publication.objects.filter(year=year, group_code=group).order_by("-version").first()
    )
    if publication is None:
        raise Http404(_("Nothing is published for this year and group."))
    return publication


def _navigation() -> list[Publication]:
    """Latest version of every published year and group, for the year and group switches."""
    return list(Publication.objects.latest_versions().order_by("-year", "group__order"))


# Home -------------------------------------------------------------------------------------------


@published_page()
def home(request):
    """The latest published year: per group, band counts, average and its change, top three
    and the last unit, and the SIPAS summary. Queries: publications, previous averages, results,
    bands, SIPAS rows (flat in the number of units and groups)."""
    navigation = _navigation()
    latest_year = navigation[0].year if navigation else None
    current = [p for p in navigation if p.year == latest_year]

    def build():
        previous = {
            p.group_code: p for p in navigation if latest_year and p.year == latest_year - 1
        }
        results = defaultdict(list)
        for result in PublishedResult.objects.filter(publication__in=current).order_by(
            "publication", "position"
        ):
            results[result.publication_id].append(result)
        bands = defaultdict(list)
        for band in PublishedBand.objects.filter(publication__in=current):
            bands[band.publication_id].append(band)
        sipas = defaultdict(list)
        for row in PublishedSipas.objects.filter(publication__in=current).order_by(
            "publication", "position"
        ):
            sipas[row.publication_id].append(row)
        groups = []
        for publication in current:
            rows = results[publication.pk]
            counts = defaultdict(int)
            for row in rows:
                counts[row.band_code] += 1
            ordered = sorted(bands[publication.pk], key=lambda b: -b.min_index)
            strip = [(b.label, b.code, i, counts.get(b.code, 0)) for i, b in enumerate(ordered)]
            before = previous.get(publication.group_code)
            groups.append(
                {
                    "publication": publication,
                    "chart": charts.band_strip(
                        strip,
                        title=_("Classification of %(group)s, %(year)s")
                        % {"group": publication.group_name, "year": publication.year},
                    ),
                    "counts": strip,
                    "average_change": quantize(publication.average_index - before.average_index)
                    if before
                    else None,
                    "top": rows[:3],
                    "bottom": rows[-1] if len(rows) > 3 else None,
                    "sipas_top": sipas[publication.pk][:3],
                    "sipas_change": quantize(publication.sipas_average - before.sipas_average)
                    if before and before.sipas_average is not None and publication.sipas_average
                    else None,
                }
            )
        return render(
            request,
            "rankings/home.html",
            {"year": latest_year, "groups": groups, "navigation": navigation},
        )

    return conditional(request, current, build)


# Ranking table ----------------------------------------------------------------------------------


class BandFilter(django_filters.FilterSet):
    band = django_filters.ChoiceFilter(field_name="band_code", label="", empty_label=None)

    class Meta:
        model = PublishedResult
        fields = []

    def __init__(self, *args, bands=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.filters["band"].label = _("Band")
        self.filters["band"].extra["choices"] = [(b.code, b.label) for b in bands]
        self.filters["band"].extra["empty_label"] = _("All bands")


def _criteria_changes(publication) -> dict:
    """What changed in the criteria since last year's publication of the group."""
    current = list(publication.criteria.all())
    before = (
        Publication.objects.filter(year=publication.year - 1, group_code=publication.group_code)
        .order_by("-version")
        .first()
    )
    if before is None:
        return {"previous": None}
    old = {c.code: c for c in before.criteria.all()}
    linked = {c.previous_code for c in current if c.previous_code}
    leaves_old = {c.code for c in old.values() if c.kind}
    return {
        "previous": before,
        "added": [c for c in current if c.kind and not c.previous_code],
        "removed": [old[code] for code in sorted(leaves_old - linked)],
        "changed": [
            (c, old[c.previous_code])
            for c in current
            if c.kind
            and c.previous_code in old
            and (
                c.max_points != old[c.previous_code].max_points
                or c.title != old[c.previous_code].title
            )
        ],
    }


def _configure(request, table, name: str, *, sheet: str):
    """Sort and paginate the table from the (cleaned) query; with ``?_export=csv|xlsx`` return
    the whole table (same sort and filter, every page) as a file, else None. A sort that names
    no sortable column or a page past the end answers 400 or 404, never another copy of the
    first page."""
    sort = request.GET.get("sort")
    if sort and sort.lstrip("-") not in {c.name for c in table.columns if c.orderable}:
        raise BadQuery(_("The table cannot be sorted by %(column)s.") % {"column": sort})
    export = request.GET.get("_export")
    if export:
        RequestConfig(request, paginate=False).configure(table)
        return download(list(table.as_values()), export=export, filename=name, sheet=sheet)
    try:
        RequestConfig(request, paginate={"per_page": PAGE_SIZE, "silent": False}).configure(table)
    except (EmptyPage, PageNotAnInteger):
        raise Http404(_("There is no such page.")) from None
    return None


@published_page("sort", "page", "band", "_export")
def ranking(request, year: int, group: str):
    """The ranking table of a year and group. Queries: the publication, its fields, bands,
    the versions, the table (one query with the field indices as columns; two with a page
    count), last year's criteria for the change note, and the navigation."""
    publication = _current(year, group)

    def build():
        criteria = list(
            PublishedCriterion.objects.filter(publication=publication).order_by("position")
        )
        fields = [c for c in criteria if not c.parent_code]
        for field in fields:
            # The points a field is measured on: its self and survey leaves, not bonus/penalty.
            field.scored_max = sum(
                (
                    c.max_points
                    for c in criteria
                    if c.field_code == field.code and c.kind in ("self", "survey")
                ),
                Decimal("0"),
            )
        bands = sorted(publication.bands.all(), key=lambda b: -b.min_index)
        queryset = PublishedResult.objects.for_table(publication, [f.code for f in fields])
        band_filter = BandFilter(request.GET, queryset=queryset, bands=bands)
        if request.GET.get("band") and not band_filter.is_valid():
            raise BadQuery(_("There is no band %(band)s.") % {"band": request.GET["band"]})
        table = RankingTable(band_filter.qs, extra_columns=field_columns(fields))
        table.caption = _("%(group)s, %(year)s: ranking by the administrative reform index") % {
            "group": publication.group_name,
            "year": year,
        }
        export = _configure(request, table, f"cchc-{year}-{group}", sheet=f"{year} {group}")
        if export is not None:
            return export
        rows = list(table.paginated_rows)
        positions = {b.code: i for i, b in enumerate(bands)}
        chart = charts.ranking_bars(
            [
                {
                    "label": row.record.unit_name,
                    "value": row.record.index,
                    "band_code": row.record.band_code,
                    "band_label": row.record.band_label,
                    "band_position": positions.get(row.record.band_code, 0),
                }
                for row in rows
            ],
            title=table.caption,
            limits=[(b.min_index, b.label) for b in bands if b.min_index > 0],
        )
        navigation = _navigation()
        return render(
            request,
            "rankings/ranking.html",
            {
                "publication": publication,
                "table": table,
                "filter": band_filter,
                "chart": chart,
                "fields": fields,
                "changes": _criteria_changes(publication),
                "navigation": navigation,
                "years": sorted(
                    {p.year for p in navigation if p.group_code == group}, reverse=True
                ),
                "groups": [p for p in navigation if p.year == year],
                "versions": Publication.objects.filter(year=year, group_code=group).count(),
            },
        )

    return conditional(request, [publication], build)


# SIPAS ------------------------------------------------------------------------------------------


@published_page("sort", "page", "_export")
def sipas(request, year: int, group: str):
    """The SIPAS ranking. Queries: the publication, its SIPAS rows, the navigation."""
    publication = _current(year, group)

    def build():
        queryset = PublishedSipas.objects.filter(publication=publication).order_by("position")
        if not queryset.exists():
            raise Http404(_("No SIPAS results were published for this year and group."))
        table = SipasTable(queryset)
        table.caption = _("%(group)s, %(year)s: satisfaction index (SIPAS)") % {
            "group": publication.group_name,
            "year": year,
        }
        export = _configure(request, table, f"sipas-{year}-{group}", sheet=f"SIPAS {year}")
        if export is not None:
            return export
        rows = list(table.paginated_rows)
        chart = charts.ranking_bars(
            [
                {
                    "label": row.record.unit_name,
                    "value": row.record.index,
                    "band_code": "tot",
                    "band_label": "SIPAS",
                    "band_position": 1,
                }
                for row in rows
            ],
            title=table.caption,
        )
        navigation = _navigation()
        return render(
            request,
            "rankings/sipas.html",
            {
                "publication": publication,
                "table": table,
                "chart": chart,
                "navigation": navigation,
                "elements": SIPAS_ELEMENTS,
            },
        )

    return conditional(request, [publication], build)


# Unit -------------------------------------------------------------------------------------------


@published_page("year")
def unit(request, unit: str):
    """One unit over the years: index, rank and band (a line chart), SIPAS, the fields against
    the group average, every leaf of the chosen year with the council's public notes, the points
    missing to the next band, where it lost most, and its predecessors and successor.
    Queries are flat in the number of years, units and criteria."""
    unit_obj = get_object_or_404(Unit.objects.select_related("successor"), code=unit)
    latest = Publication.objects.latest_versions()
    results = list(
        PublishedResult.objects.filter(unit=unit_obj, publication__in=latest)
        .select_related("publication")
        .order_by("publication__year")
    )
    if not results:
        raise Http404(_("Nothing is published for this unit."))
    publications = [r.publication for r in results]

    def build():
        chosen = results[-1]
        if "year" in request.GET:
            chosen = next(
                (r for r in results if r.publication.year == int(request.GET["year"])), None
            )
            if chosen is None:
                raise Http404(_("Nothing is published for this unit in that year."))
        publication = chosen.publication
        fields = list(chosen.fields.order_by("position"))
        averages = dict(
            PublishedField.objects.filter(result__publication=publication)
            .values_list("code")
            .annotate(average=Avg("index"))
            .values_list("code", "average")
        )
        criteria = {c.code: c for c in publication.criteria.all()}
        leaves = []
        for leaf in chosen.leaves.order_by("position"):
            criterion = criteria.get(leaf.code)
            leaves.append({"leaf": leaf, "criterion": criterion})
        bands = sorted(publication.bands.all(), key=lambda b: b.min_index)
        above = [b for b in bands if b.min_index > chosen.index]
        next_band = above[0] if above else None
        missing = None
        if next_band is not None:
            needed = next_band.min_index * chosen.max_points / Decimal(100) - chosen.points
            missing = quantize(needed if needed > 0 else Decimal("0.01"))
        losses = sorted(
            (f for f in fields if f.max_points > 0),
            key=lambda f: (-(f.max_points - f.points), f.position),
        )[:3]
        sipas_rows = list(
            PublishedSipas.objects.filter(unit=unit_obj, publication__in=latest)
            .select_related("publication")
            .order_by("publication__year")
        )
        limits = [(b.min_index, b.label) for b in bands if b.min_index > 0]
        return render(
            request,
            "rankings/unit.html",
            {
                "unit": unit_obj,
                "results": results,
                "chosen": chosen,
                "publication": publication,
                "fields": [
                    {
                        "field": f,
                        "average": quantize(Decimal(averages[f.code]))
                        if averages.get(f.code) is not None
                        else None,
                    }
                    for f in fields
                ],
                "leaves": leaves,
                "next_band": next_band,
                "missing": missing,
                "losses": losses,
                "sipas_rows": sipas_rows,
                "predecessors": list(unit_obj.predecessors.order_by("name")),
                "line": charts.index_line(
                    [(r.publication.year, r.index) for r in results],
                    title=_("Index of %(unit)s over the years") % {"unit": unit_obj.name},
                    limits=limits,
                ),
                "field_chart": charts.paired_bars(
                    [
                        (
                            f"{f.code}. {f.title}",
                            f.index,
                            quantize(Decimal(averages[f.code]))
                            if averages.get(f.code) is not None
                            else None,
                        )
                        for f in fields
                        if f.index is not None
                    ],
                    title=_("Field indices of %(unit)s against the group average, %(year)s")
                    % {"unit": unit_obj.name, "year": publication.year},
                    first_label=unit_obj.name,
                    second_label=_("group average"),
                ),
                "navigation": _navigation(),
            },
        )

    return conditional(request, publications, build)


# Methodology and versions -----------------------------------------------------------------------


@published_page()
def methodology(request, year: int, group: str):
    """The criteria tree, the bands, the rules in plain words, and what changed since last
    year. Queries: the publication, its criteria, bands, last year's publication and criteria."""
    publication = _current(year, group)

    def build():
        criteria = list(publication.criteria.order_by("position"))
        depth = {}
        for criterion in criteria:
            depth[criterion.code] = (
                depth.get(criterion.parent_code, -1) + 1 if criterion.parent_code else 0
            )
        return render(
            request,
            "rankings/methodology.html",
            {
                "publication": publication,
                "criteria": [(c, depth[c.code]) for c in criteria],
                "bands": sorted(publication.bands.all(), key=lambda b: -b.min_index),
                "changes": _criteria_changes(publication),
                "totals": {
                    kind: sum((c.max_points for c in criteria if c.kind == kind), Decimal("0"))
                    for kind in ("self", "survey", "bonus", "penalty")
                },
                "navigation": _navigation(),
            },
        )

    return conditional(request, [publication], build)


@published_page()
def versions(request, year: int, group: str):
    """Every version of a year and group's publication, with its date, reason and checksum."""
    all_versions = list(
        Publication.objects.filter(year=year, group_code=group).order_by("-version")
    )
    if not all_versions:
        raise Http404(_("Nothing is published for this year and group."))
    return conditional(
        request,
        all_versions,
        lambda: render(
            request,
            "rankings/versions.html",
            {
                "versions": all_versions,
                "publication": all_versions[0],
                "navigation": _navigation(),
            },
        ),
    )


# Open data --------------------------------------------------------------------------------------

CODEBOOK = """cchc open data: {year}

Every file is CSV, UTF-8, comma-separated, with a header row; decimals use "." and two places.
Only published results are included (the latest version of each group).

rankings-<group>.csv   one row per unit: year, group, version, rank, unit (code), name, points,
                       max_points, index, band (code), band_label, change (from last year's
                       published index; empty when there is nothing to compare with)
fields-<group>.csv     one row per unit and field: unit, field (code), title, points, max_points,
                       index (empty for a field of only bonus or penalty points)
leaves-<group>.csv     one row per unit and leaf: unit, criterion (code), title, kind
                       (self, survey, bonus, penalty), max_points, self_score, final_score,
                       not_applicable (true/false), note (the council's public note)
criteria-<group>.csv   the criteria tree: code, parent, title, max_points, kind, previous_code
bands-<group>.csv      the classification: code, label, min_index (inclusive lower bound)
sipas-<group>.csv      one row per unit: rank, unit, name, index, access, procedure,
                       civil_servants, result, feedback, change
versions.csv           every publication: group, version, published_at, reason, checksum

The rules of calculation: see the methodology page of each year and group.
"""


@published_page()
def open_data(request, year: int):
    """Every published table and every leaf result of a year, as CSV files with a codebook,
    in one zip. Queries per group are constant."""
    publications = list(
        Publication.objects.latest_versions().filter(year=year).order_by("group__order")
    )
    if not publications:
        raise Http404(_("Nothing is published for this year."))

    def build():
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
            bundle.writestr("README.txt", CODEBOOK.format(year=year))
            for publication in publications:
                code = publication.group_code
                criteria = {c.code: c for c in publication.criteria.all()}
                bundle.writestr(
                    f"rankings-{code}.csv",
                    csv_bytes(
                        [
                            (
                                "year",
                                "group",
                                "version",
                                "rank",
                                "unit",
                                "name",
                                "points",
                                "max_points",
                                "index",
                                "band",
                                "band_label",
                                "change",
                            ),
                            *(
                                (year, code, publication.version, *row)
                                for row in publication.results.order_by("position").values_list(
                                    "rank",
                                    "unit_code",
                                    "unit_name",
                                    "points",
                                    "max_points",
                                    "index",
                                    "band_code",
                                    "band_label",
                                    "change",
                                )
                            ),
                        ]
                    ),
                )
                bundle.writestr(
                    f"fields-{code}.csv",
                    csv_bytes(
                        [
                            ("unit", "field", "title", "points", "max_points", "index"),
                            *PublishedField.objects.filter(result__publication=publication)
                            .order_by("result__position", "position")
                            .values_list(
                                "result__unit_code",
                                "code",
                                "title",
                                "points",
                                "max_points",
                                "index",
                            ),
                        ]
                    ),
                )
                leaves = [
                    (
                        "unit",
                        "criterion",
                        "title",
                        "kind",
                        "max_points",
                        "self_score",
                        "final_score",
                        "not_applicable",
                        "note",
                    )
                ]
                for unit_code, leaf_code, self_score, final, na, note in (
                    PublishedLeaf.objects.filter(result__publication=publication)
                    .order_by("result__position", "position")
                    .values_list(
                        "result__unit_code",
                        "code",
                        "self_score",
                        "final_score",
                        "not_applicable",
                        "note",
                    )
                ):
                    criterion = criteria.get(leaf_code)
                    leaves.append(
                        (
                            unit_code,
                            leaf_code,
                            criterion.title if criterion else "",
                            criterion.kind if criterion else "",
                            criterion.max_points if criterion else "",
                            self_score,
                            final,
                            "true" if na else "false",
                            note,
                        )
                    )
                bundle.writestr(f"leaves-{code}.csv", csv_bytes(leaves))
                bundle.writestr(
                    f"criteria-{code}.csv",
                    csv_bytes(
                        [
                            ("code", "parent", "title", "max_points", "kind", "previous_code"),
                            *(
                                (
                                    c.code,
                                    c.parent_code,
                                    c.title,
                                    c.max_points,
                                    c.kind,
                                    c.previous_code,
                                )
                                for c in sorted(criteria.values(), key=lambda c: c.position)
                            ),
                        ]
                    ),
                )
                bundle.writestr(
                    f"bands-{code}.csv",
                    csv_bytes(
                        [
                            ("code", "label", "min_index"),
                            *publication.bands.order_by("-min_index").values_list(
                                "code", "label", "min_index"
                            ),
                        ]
                    ),
                )
                sipas_rows = list(
                    publication.sipas.order_by("position").values_list(
                        "rank", "unit_code", "unit_name", "index", *SIPAS_ELEMENTS, "change"
                    )
                )
                if sipas_rows:
                    bundle.writestr(
                        f"sipas-{code}.csv",
                        csv_bytes(
                            [
                                ("rank", "unit", "name", "index", *SIPAS_ELEMENTS, "change"),
                                *sipas_rows,
                            ]
                        ),
                    )
            bundle.writestr(
                "versions.csv",
                csv_bytes(
                    [
                        ("group", "version", "published_at", "reason", "checksum"),
                        *(
                            (
                                p.group_code,
                                p.version,
                                timezone.localtime(p.published_at).isoformat(),
                                p.reason,
                                p.checksum,
                            )
                            for p in Publication.objects.filter(year=year).order_by(
                                "group_code", "version"
                            )
                        ),
                    ]
                ),
            )
        response = HttpResponse(archive.getvalue(), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="cchc-{year}-open-data.zip"'
        return response

    return conditional(request, publications, build)
