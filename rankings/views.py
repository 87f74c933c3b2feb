"""The public pages. They read frozen publications (``rankings.models``) and, for a unit's page,
the public register of units (its code and its lineage: who it succeeded, who succeeded it);
never a score, an assessment or anything unpublished. Names shown are those published. Every
page is cacheable until the next version (ETag and Last-Modified from the publications it
shows).

Views orchestrate: the numbers come from ``scoring.calculation``, the criteria changes and the
navigation from ``Publication``, the band filter from ``filters``, the open-data zip from
``open_data``, the downloads from ``exports``.
"""

from __future__ import annotations

from collections import defaultdict

from django.core.cache import cache
from django.core.paginator import EmptyPage, PageNotAnInteger
from django.db.models import Count, F, OuterRef, Q, Subquery, Sum, Window
from django.db.models.functions import Rank
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django_tables2 import RequestConfig

from scoring import calculation
from scoring.models import Unit

from . import charts
from .caching import CACHE_SECONDS, BadQuery, conditional, published_page
from .exports import download, download_name, title_lines
from .filters import BandFilter
from .language import data_format
from .models import (
    Publication,
    PublishedBand,
    PublishedCriterion,
    PublishedField,
    PublishedResult,
    PublishedSipas,
)
from .open_data import open_data_zip
from .tables import RankingTable, SipasTable, field_columns

PAGE_SIZE = 100  # units per page of a ranking table (a commune group has hundreds)


def _current(year: int, group: str) -> Publication:
    publication = Publication.objects.current(year, group)
    if publication is None:
        raise Http404(_("Nothing is published for this year and group."))
    return publication


# Home -------------------------------------------------------------------------------------------

MOVERS = 3  # units shown among the most improved and among the biggest falls of each group


def _movers(rows, *, rising: bool) -> list:
    """The ``MOVERS`` units whose index rose (``rising``) or fell most since last year, the
    largest change first, ties by name; units with nothing to compare with are left out."""
    moved = [r for r in rows if r.change is not None and (r.change > 0 if rising else r.change < 0)]
    moved.sort(
        key=lambda r: (-r.change if rising else r.change, calculation.name_sort_key(r.unit_name))
    )
    return moved[:MOVERS]


def _shown_results(publications) -> list:
    """The results the home page shows, in one query: per publication its first three and its
    last unit, and every unit ranked among the ``MOVERS`` largest rises or falls (ties
    included: ``_movers`` then orders them by name and keeps ``MOVERS``)."""
    by_publication = [F("publication")]
    return list(
        PublishedResult.objects.filter(publication__in=publications)
        .annotate(
            rise=Window(
                Rank(), partition_by=by_publication, order_by=F("change").desc(nulls_last=True)
            ),
            fall=Window(
                Rank(), partition_by=by_publication, order_by=F("change").asc(nulls_last=True)
            ),
        )
        .filter(
            Q(position__lte=3)
            | Q(position=F("publication__unit_count"))
            | Q(rise__lte=MOVERS, change__gt=0)
            | Q(fall__lte=MOVERS, change__lt=0)
        )
        .order_by("publication", "position")
    )


@published_page("year")
def home(request):
    """The latest published year (or ``?year=``): per group, band counts, average and its
    change, top three and the last unit, the most improved and the biggest falls, and the SIPAS
    summary; links to every published year.
    Queries: publications, results, bands, SIPAS rows (flat in the number of units and
    groups)."""
    navigation = Publication.objects.navigation()
    latest = navigation[0].year if navigation else None
    year = int(request.GET["year"]) if "year" in request.GET else latest
    if year != latest and not any(p.year == year for p in navigation):
        raise Http404(_("Nothing is published for this year."))
    current = [p for p in navigation if p.year == year]

    def build():
        previous = {p.group_code: p for p in navigation if year and p.year == year - 1}
        # Only what the page shows: the band counts (counted by the database), and per group
        # its top three, its last unit and the candidates for the biggest rises and falls
        # (every unit tied with the last one shown), not its thousands of results.
        shown = defaultdict(list)
        for result in _shown_results(current):
            shown[result.publication_id].append(result)
        counted = defaultdict(dict)
        bands = defaultdict(list)
        units_in_band = (
            PublishedResult.objects.filter(
                publication=OuterRef("publication"), band_code=OuterRef("code")
            )
            .order_by()
            .values("publication")
            .annotate(count=Count("pk"))
            .values("count")
        )
        for band in PublishedBand.objects.filter(publication__in=current).annotate(
            units=Subquery(units_in_band)
        ):
            bands[band.publication_id].append(band)
            counted[band.publication_id][band.code] = band.units or 0
        sipas = defaultdict(list)
        for row in PublishedSipas.objects.filter(publication__in=current, position__lte=3).order_by(
            "publication", "position"
        ):
            sipas[row.publication_id].append(row)
        groups = []
        for publication in current:
            rows = shown[publication.pk]
            counts = counted[publication.pk]
            last = publication.unit_count
            ordered = sorted(bands[publication.pk], key=lambda b: -b.min_index)
            strip = [(b.label, b.code, i, counts.get(b.code, 0)) for i, b in enumerate(ordered)]
            before = previous.get(publication.group_code)
            groups.append(
                {
                    "publication": publication,
                    "chart": charts.band_strip(
                        strip,
                        title=data_format(
                            _("Classification of %(group)s, %(year)s"),
                            group=publication.group_name,
                            year=publication.year,
                        ),
                    ),
                    "counts": strip,
                    "average_change": calculation.change(
                        publication.average_index, before.average_index if before else None
                    ),
                    "top": [row for row in rows if row.position <= 3],
                    "improved": _movers(rows, rising=True),
                    "falls": _movers(rows, rising=False),
                    "bottom": next((r for r in rows if r.position == last), None)
                    if last > 3
                    else None,
                    "sipas_top": sipas[publication.pk][:3],
                    "sipas_change": calculation.change(
                        publication.sipas_average, before.sipas_average
                    )
                    if before and publication.sipas_average is not None
                    else None,
                }
            )
        return render(
            request,
            "rankings/home.html",
            {
                "year": year,
                "groups": groups,
                "movers": any(g["improved"] or g["falls"] for g in groups),
                "navigation": navigation,
                "years": sorted({p.year for p in navigation}, reverse=True),
                "latest": latest,
            },
        )

    return conditional(request, current, build)


# Ranking table ----------------------------------------------------------------------------------


def _comparison_notes(records, model, year: int | None = None) -> list[dict]:
    """For the records whose change is not measured against the unit's own index of last year:
    against which units it is, with their names and indices then (one query, whatever the
    number of records and years). A table of one ``year`` notes each unit (``key`` its code,
    ``label`` its name); one unit's records, each of its own publication's year, are noted
    by year."""
    noted = [r for r in records if r.change_basis in calculation.COMPARED_WITH_OTHERS]
    if not noted:
        return []

    def year_of(record) -> int:
        return year or record.publication.year

    before = {
        (year, code): (name, index)
        for year, code, name, index in model.objects.filter(
            publication__in=Publication.objects.latest_versions().filter(
                year__in={year_of(r) - 1 for r in noted}
            ),
            unit_code__in={code for r in noted for code in r.compared_with},
        ).values_list("publication__year", "unit_code", "unit_name", "index")
    }
    return [
        {
            "record": r,
            "key": r.unit_code if year else year_of(r),
            "label": r.unit_name if year else year_of(r),
            "units": [
                (code, *before.get((year_of(r) - 1, code), (code, None)))
                for code in r.compared_with
            ],
        }
        for r in noted
    ]


def _configure(request, table, name: str, *, sheet: str, title=()):
    """Sort and paginate the table from the (cleaned) query; with ``?_export=csv|xlsx`` return
    the whole table (same sort and filter, every page) as a file (an XLSX with the ``title``
    lines above its header), else None. A sort that names
    no sortable column or a page past the end answers 400 or 404, never another copy of the
    first page."""
    sort = request.GET.get("sort")
    if sort and sort.lstrip("-") not in {c.name for c in table.columns if c.orderable}:
        raise BadQuery(_("The table cannot be sorted by %(column)s.") % {"column": sort})
    export = request.GET.get("_export")
    if export:
        RequestConfig(request, paginate=False).configure(table)
        return download(
            list(table.as_values()), export=export, filename=name, sheet=sheet, title=title
        )
    try:
        RequestConfig(request, paginate={"per_page": PAGE_SIZE, "silent": False}).configure(table)
    except (EmptyPage, PageNotAnInteger):
        raise Http404(_("There is no such page.")) from None
    return None


@published_page("sort", "page", "band", "_export")
def ranking(request, year: int, group: str):
    """The ranking table of a year and group. Queries: the publication, its criteria, bands,
    the table (one query with the field indices as columns; two with a page count), last
    year's publication and criteria for the change note, the navigation and the number of
    versions."""
    publication = _current(year, group)

    def build():
        criteria = list(
            PublishedCriterion.objects.filter(publication=publication).order_by("position")
        )
        fields = [c for c in criteria if not c.parent_code]
        bands = sorted(publication.bands.all(), key=lambda b: -b.min_index)
        queryset = PublishedResult.objects.for_table(publication, [f.code for f in fields])
        band_filter = BandFilter(request.GET, queryset=queryset, bands=bands)
        if request.GET.get("band") and not band_filter.is_valid():
            raise BadQuery(_("There is no band %(band)s.") % {"band": request.GET["band"]})
        table = RankingTable(band_filter.qs, extra_columns=field_columns(fields))
        table.caption = data_format(
            _("%(group)s, %(year)s: ranking by the administrative reform index"),
            group=publication.group_name,
            year=year,
        )
        export = _configure(
            request,
            table,
            download_name("chi-so-cchc", year, group, f"v{publication.version}"),
            sheet=_("Ranking %(year)s") % {"year": year},
            title=title_lines(request, publication, _("Administrative reform index")),
        )
        if export is not None:
            return export
        rows = list(table.paginated_rows)
        positions = {b.code: i for i, b in enumerate(bands)}
        chart = charts.ranking_dots(
            [
                {
                    "label": row.record.unit_name,
                    "href": reverse("rankings:unit", args=[row.record.unit_code]),
                    "value": row.record.index,
                    "band_code": row.record.band_code,
                    "band_label": row.record.band_label,
                    "band_position": positions.get(row.record.band_code, 0),
                }
                for row in rows
            ],
            title=table.caption,
            bands=[(b.min_index, b.label, b.code, i) for i, b in enumerate(bands)],
        )
        previous = publication.previous_year()
        return render(
            request,
            "rankings/ranking.html",
            {
                "publication": publication,
                "notes": _comparison_notes([row.record for row in rows], PublishedResult, year),
                "baseline": previous if publication.baseline_outdated(previous) else None,
                "table": table,
                "filter": band_filter,
                "chart": chart,
                "fields": fields,
                "changes": publication.criteria_changes(criteria),
                "navigation": Publication.objects.navigation(),
                "versions": Publication.objects.filter(year=year, group_code=group).count(),
            },
        )

    # A download shows its publication only: its copy outlives other years' publications.
    return conditional(request, [publication], build, navigation="_export" not in request.GET)


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
        table.caption = data_format(
            _("%(group)s, %(year)s: satisfaction index (SIPAS)"),
            group=publication.group_name,
            year=year,
        )
        export = _configure(
            request,
            table,
            download_name("sipas", year, group, f"v{publication.version}"),
            sheet=f"SIPAS {year}",
            title=title_lines(request, publication, _("Satisfaction index (SIPAS)")),
        )
        if export is not None:
            return export
        rows = list(table.paginated_rows)
        previous = publication.previous_year()
        notes = _comparison_notes([row.record for row in rows], PublishedSipas, year)
        chart = charts.ranking_dots(
            [
                {
                    "label": row.record.unit_name,
                    "href": reverse("rankings:unit", args=[row.record.unit_code]),
                    "value": row.record.index,
                }
                for row in rows
            ],
            title=table.caption,
        )
        return render(
            request,
            "rankings/sipas.html",
            {
                "publication": publication,
                "table": table,
                "chart": chart,
                "navigation": Publication.objects.navigation(),
                "notes": notes,
                "baseline": previous if publication.baseline_outdated(previous) else None,
            },
        )

    return conditional(request, [publication], build, navigation="_export" not in request.GET)


# Unit -------------------------------------------------------------------------------------------


def field_averages(publication: Publication) -> dict[str, object]:
    """Field code → the group's average field index in that publication: one query over the
    group's 30,000 fields, then kept in the cache under the publication's checksum (a
    publication never changes), since every unit page of the group shows it; kept like the
    copies (``CACHE_SECONDS``), not the cache's default five minutes."""

    def averages():
        return {
            code: calculation.average_of_total(total, count)
            for code, total, count in PublishedField.objects.filter(
                result__publication=publication, index__isnull=False
            )
            .order_by()  # no join for the models' default orderings
            .values_list("code")
            .annotate(total=Sum("index"), count=Count("index"))
            .values_list("code", "total", "count")
        }

    return cache.get_or_set(
        f"cchc:averages:{publication.pk}:{publication.checksum}", averages, CACHE_SECONDS
    )


def _lineage(unit: Unit, latest, first_year: int) -> dict:
    """The unit's story from the register: the units it was formed from or took over (with the
    day and each one's last published index) and, when it ceased, the day, why, and its
    successors. A unit ranked before the day of the merger took the others over; one first
    ranked after it was formed from them. Two queries."""
    predecessors = list(unit.predecessors.order_by("name"))
    last = {}
    for unit_id, year, index in (
        PublishedResult.objects.filter(unit__in=predecessors, publication__in=latest)
        .order_by("publication__year")
        .values_list("unit_id", "publication__year", "index")
    ):
        last[unit_id] = (year, index)
    formed_on = max((p.dissolved_on for p in predecessors if p.dissolved_on), default=None)
    return {
        "formed_on": formed_on,
        "took_over": formed_on is not None and first_year < formed_on.year,
        "predecessors": [(p, *last.get(p.pk, (None, None))) for p in predecessors],
        "successors": list(unit.successors.all()),
    }


@published_page("year")
def unit(request, unit: str):
    """One unit over the years: index, rank and band (a line chart), SIPAS, the fields against
    the group average, every leaf of the chosen year with the council's public notes, the points
    missing to the next band, where it lost most, and its predecessors and successor.
    Queries are flat in the number of years, units and criteria."""
    unit_obj = get_object_or_404(Unit, code=unit)
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
        averages = field_averages(publication)
        criteria = {c.code: c for c in publication.criteria.all()}
        leaves = [
            {"leaf": leaf, "criterion": criteria.get(leaf.code)}
            for leaf in chosen.leaves.order_by("position")
        ]
        bands = sorted(publication.bands.all(), key=lambda b: b.min_index)
        next_band = calculation.points_to_next_band(chosen.points, chosen.max_points, bands)
        sipas_rows = list(
            PublishedSipas.objects.filter(unit=unit_obj, publication__in=latest)
            .select_related("publication")
            .order_by("publication__year")
        )
        # Best band first: its position picks its colour.
        zones = [(b.min_index, b.label, b.code, i) for i, b in enumerate(reversed(bands))]
        positions = {code: position for _minimum, _label, code, position in zones}
        name = results[-1].unit_name  # as last published
        return render(
            request,
            "rankings/unit.html",
            {
                "unit": unit_obj,
                "name": name,
                "results": results,
                "chosen": chosen,
                "publication": publication,
                "fields": [{"field": f, "average": averages.get(f.code)} for f in fields],
                "leaves": leaves,
                "next_band": next_band[0] if next_band else None,
                "missing": next_band[1] if next_band else None,
                "losses": calculation.largest_losses(fields),
                "sipas_rows": sipas_rows,
                "notes": _comparison_notes(results, PublishedResult),
                "sipas_notes": _comparison_notes(sipas_rows, PublishedSipas),
                **_lineage(unit_obj, latest, results[0].publication.year),
                "line": charts.ranking_dots(
                    [
                        {
                            "label": r.publication.year,
                            "value": r.index,
                            "band_code": r.band_code,
                            "band_label": r.band_label,
                            "band_position": positions.get(r.band_code, 0),
                        }
                        for r in results
                    ],
                    title=data_format(_("Index of %(unit)s over the years"), unit=name),
                    description=_("The band zones are those of %(year)s.")
                    % {"year": publication.year}
                    if len(results) > 1
                    else "",
                    bands=zones,
                    labels_are_data=False,
                ),
                "field_chart": charts.paired_dots(
                    [
                        (f"{f.code}. {f.title}", f.index, averages.get(f.code))
                        for f in fields
                        if f.index is not None
                    ],
                    title=data_format(
                        _("Field indices of %(unit)s against the group average, %(year)s"),
                        unit=name,
                        year=publication.year,
                    ),
                    first_label=name,
                    second_label=_("group average"),
                ),
                "navigation": Publication.objects.navigation(),
            },
        )

    return conditional(request, publications, build)


# Methodology and versions -----------------------------------------------------------------------


@published_page()
def methodology(request, year: int, group: str):
    """The criteria tree, the bands, the rules in plain words, and what changed since last
    year. Queries: the publication, its criteria, bands, last year's publication and criteria,
    the navigation."""
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
                "changes": publication.criteria_changes(criteria),
                "totals": calculation.maximum_by_kind(criteria),
                "navigation": Publication.objects.navigation(),
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
                "navigation": Publication.objects.navigation(),
            },
        ),
    )


# Open data --------------------------------------------------------------------------------------


@published_page()
def open_data(request, year: int):
    """Every published table and every leaf result of a year (``open_data``), in one zip."""
    publications = list(
        Publication.objects.latest_versions().filter(year=year).order_by("group__order")
    )
    if not publications:
        raise Http404(_("Nothing is published for this year."))

    def build():
        response = HttpResponse(open_data_zip(year, publications), content_type="application/zip")
        name = download_name("du-lieu-mo-chi-so-cchc", year)
        response["Content-Disposition"] = f'attachment; filename="{name}.zip"'
        return response

    return conditional(request, publications, build, navigation=False)
