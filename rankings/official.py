"""The official and shareable side of a publication: the decision announcing a year's results
(``/decisions/<year>.docx`` and ``.pdf``), a unit's embeddable badge (``badge.svg``), its
link-preview image (``card.png``), the site's preview image (``/card.png``) and a unit's
printable one-page report card.

Like every public page they read frozen publications only (the latest version of each year and
group) and the year's decision record (``models.Decision``), answer 404 for anything
unpublished, and are built once per publication (``caching.published_page`` and ``conditional``;
none takes a query parameter). The documents and images hold nothing of the reader: they are
``shared``, built once and served to everybody, logged in or not; the decision, Vietnamese
only, is built and stored once whatever the reader's language. Their queries are listed in each
view's docstring and do not grow with the number of units.

The badge is the one answer other sites may frame or embed: it alone is exempt from
X-Frame-Options and carries ``frame-ancestors *``; every other page still refuses framing.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import datetime
from functools import wraps

from csp.decorators import csp_replace
from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt

from cchc.context import province
from scoring import calculation

from . import card as cards
from .caching import conditional, published_page
from .decision import Appendix, AppendixRow, build_docx, build_pdf, vi_number
from .decision import Decision as DecisionDocument
from .exports import download_name
from .models import Decision, Publication, PublishedCriterion, PublishedField, PublishedResult
from .views import field_averages

LOSSES_SHOWN = 8  # leaves listed on the one-page report card


def province_title() -> str:
    """The province in the reader's language ("thành phố Cần Thơ", "Cần Thơ City")."""
    return str(province().title)


def absolute(path: str) -> str:
    """The address readers use (``SITE_URL``): never taken from the request, so a copy stored
    for others carries nothing of the request that built it."""
    return settings.SITE_URL + path


# The decision -----------------------------------------------------------------------------------


def year_publications(year: int) -> list[Publication]:
    """The latest version of every group published for ``year``, in the groups' order."""
    return list(
        Publication.objects.latest_versions()
        .filter(year=year)
        .select_related("group")
        .order_by("group__order", "group_code")
    )


def recorded_decision(year: int) -> Decision | None:
    """The year's decision record (number, date, signer), or None when none is recorded."""
    return Decision.objects.filter(year=year).first()


@dataclass(frozen=True)
class Stamp:
    """What ``caching.conditional`` reads of what an answer shows (a ``checksum`` and a
    ``published_at``), for the decision record: its values and the time they were recorded."""

    checksum: str
    published_at: datetime


def decision_stamps(recorded: Decision | None) -> list[Stamp]:
    return [Stamp(recorded.checksum, recorded.recorded_at)] if recorded is not None else []


def year_decision(
    year: int, publications: list[Publication], recorded: Decision | None = None
) -> DecisionDocument:
    """The decision document of ``year`` from its latest publications and its decision record
    (``recorded``): two queries (results, fields), whatever the number of units and groups."""
    results = defaultdict(list)
    for result in PublishedResult.objects.filter(publication__in=publications).order_by(
        "publication", "position"
    ):
        results[result.publication_id].append(result)
    fields = defaultdict(dict)  # result id → code → (title, position, points, index)
    for result_id, code, title, position, points, index in (
        PublishedField.objects.filter(result__publication__in=publications)
        .order_by("result", "position")
        .values_list("result_id", "code", "title", "position", "points", "index")
    ):
        fields[result_id][code] = (title, position, points, index)
    decision = DecisionDocument(
        year=year,
        province=province(),
        number=recorded.number if recorded else "",
        day=recorded.date if recorded else None,
        signed_by=recorded.signed_by if recorded else "",
        source_url=absolute(reverse("rankings:home")),
    )
    for publication in publications:
        rows = results[publication.pk]
        columns = {}  # code → (title, position, scored): every field any unit of the group has
        for row in rows:
            for code, (title, position, _points, index) in fields[row.pk].items():
                scored = columns.get(code, (None, None, False))[2] or index is not None
                columns[code] = (title, position, scored)
        ordered = sorted(columns.items(), key=lambda item: item[1][1])

        def cell(result_id, code, scored):
            title, position, points, index = fields[result_id].get(code, (None, 0, None, None))
            if not scored:  # a field of bonus or penalty points only: its points, signed
                return vi_number(points, signed=True)
            return vi_number(index)

        counts = Counter(row.band_label for row in rows)
        decision.appendices.append(
            Appendix(
                group_name=publication.group_name,
                version=publication.version,
                published_on=timezone.localdate(publication.published_at),
                reason=publication.reason,
                checksum=publication.checksum,
                average=vi_number(publication.average_index),
                fields=[(code, title, scored) for code, (title, _p, scored) in ordered],
                rows=[
                    AppendixRow(
                        rank=row.rank,
                        name=row.unit_name,
                        fields=[cell(row.pk, code, scored) for code, (_t, _p, scored) in ordered],
                        points=vi_number(row.points),
                        max_points=vi_number(row.max_points),
                        index=vi_number(row.index),
                        band=row.band_label,
                    )
                    for row in rows
                ],
                band_counts=list(counts.items()),
            )
        )
    return decision


DOCUMENT_TYPES = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "pdf": "application/pdf",
}


def _decision(request, year: int, kind: str):
    """Queries: the year's latest publications, its decision record; on a build, results and
    fields (the ETag shows only these: the copy outlives other years' publications). The
    document is Vietnamese only: built, keyed and stored in Vietnamese whatever the reader's
    language, and shared by every reader."""
    publications = year_publications(year)
    if not publications:
        raise Http404(_("Nothing is published for this year."))
    recorded = recorded_decision(year)

    def build():
        decision = year_decision(year, publications, recorded)
        content = build_docx(decision) if kind == "docx" else build_pdf(decision)
        response = HttpResponse(content, content_type=DOCUMENT_TYPES[kind])
        disposition = "attachment" if kind == "docx" else "inline"
        name = download_name("quyet-dinh-chi-so-cchc", year)
        response["Content-Disposition"] = f'{disposition}; filename="{name}.{kind}"'
        return response

    with translation.override("vi"):
        return conditional(
            request,
            [*publications, *decision_stamps(recorded)],
            build,
            shared=True,
            navigation=False,
        )


@published_page()
def decision_docx(request, year: int):
    """The decision announcing ``year``'s results, as a Word document."""
    return _decision(request, year, "docx")


@published_page()
def decision_pdf(request, year: int):
    """The decision announcing ``year``'s results, as a PDF."""
    return _decision(request, year, "pdf")


# A unit's latest result: badge and link-preview image -----------------------------------------


def year_result(unit: str, year: int) -> PublishedResult:
    """The unit's result in the latest version of ``year`` (one query), or 404."""
    result = (
        PublishedResult.objects.filter(
            unit__code=unit,
            publication__year=year,
            publication__in=Publication.objects.latest_versions(),
        )
        .select_related("publication")
        .first()
    )
    if result is None:
        raise Http404(_("Nothing is published for this unit in that year."))
    return result


def latest_result(unit: str) -> PublishedResult:
    """The unit's result in its latest published year (one query), or 404."""
    result = (
        PublishedResult.objects.filter(
            unit__code=unit, publication__in=Publication.objects.latest_versions()
        )
        .select_related("publication")
        .order_by("-publication__year")
        .first()
    )
    if result is None:
        raise Http404(_("Nothing is published for this unit."))
    return result


def embeddable(view):
    """Other sites may show the answer: in an ``<img>`` even under a cross-origin embedder
    policy (``Cross-Origin-Resource-Policy``), and in a frame (no X-Frame-Options, CSP
    ``frame-ancestors *``). Only successful answers: a 404 refuses framing like every page."""

    @csp_replace({"frame-ancestors": ["*"]})
    @xframe_options_exempt
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["Cross-Origin-Resource-Policy"] = "cross-origin"
        return response

    return wrapper


@embeddable
@published_page()
def badge(request, unit: str):
    """An embeddable SVG badge: the unit's latest published index, band, rank of N, year and
    the province. Other sites may embed or frame it. Queries: the result (its ETag is made from
    it alone)."""
    result = latest_result(unit)

    def build():  # without the request: the badge is shared by every reader of a language
        return HttpResponse(
            render_to_string("rankings/badge.svg", cards.badge_context(result, province_title())),
            content_type="image/svg+xml; charset=utf-8",
        )

    return conditional(request, [result.publication], build, shared=True, navigation=False)


def _unit_png(request, result):
    """The card of one published result. Its bytes depend on the result (a publication never
    changes), the language and the province only: one copy serves the unit's card and its
    newest year's card, and a year's card outlives the publications of other years."""
    province = province_title()

    def build():
        return HttpResponse(cards.unit_png(result, province), content_type="image/png")

    stored_as = (
        "card:"
        + hashlib.sha256(
            "\0".join(
                (
                    str(result.pk),
                    result.publication.checksum,
                    translation.get_language() or "",
                    province,
                )
            ).encode()
        ).hexdigest()
    )
    return conditional(
        request, [result.publication], build, shared=True, stored_as=stored_as, navigation=False
    )


@published_page()
def unit_card(request, unit: str):
    """The unit's link-preview image (1200×630 PNG) for its latest published year: index,
    band, rank, change, year. Queries: the result."""
    return _unit_png(request, latest_result(unit))


@published_page()
def unit_year_card(request, unit: str, year: int):
    """The same image for the unit's result of ``year`` (the report card's preview). Queries:
    the result."""
    return _unit_png(request, year_result(unit, year))


@published_page()
def site_card(request):
    """The site's link-preview image (1200×630 PNG): the province, the latest published year
    and each group's average. Queries: the publications."""
    latest = Publication.objects.navigation()
    year = latest[0].year if latest else None
    current = [p for p in latest if p.year == year]

    def build():
        return HttpResponse(cards.site_png(current, province_title()), content_type="image/png")

    return conditional(request, current, build, shared=True, navigation=False)


# The one-page report card -----------------------------------------------------------------------


def lost_points(leaves, criteria: dict) -> list[dict]:
    """The leaves where the unit lost points, the largest loss first (``calculation.leaf_loss``:
    what a scored leaf's final score missed of its maximum, or what a penalty took away;
    not-applicable leaves and bonus leaves lose nothing)."""
    losses = []
    for leaf in leaves:
        criterion = criteria.get(leaf.code)
        if criterion is None:
            continue
        lost = calculation.leaf_loss(
            criterion.kind, criterion.max_points, leaf.final_score, leaf.not_applicable
        )
        if lost is not None and lost > 0:
            losses.append({"leaf": leaf, "criterion": criterion, "lost": lost})
    losses.sort(key=lambda item: (-item["lost"], item["leaf"].position))
    return losses


@published_page()
def report(request, unit: str, year: int):
    """A printable one-page report card of a unit and year: index, band, rank, change, field
    indices against the group average, the leaves where it lost most, with the council's notes.
    Its link preview is the card of that year (``unit_year_card``), not the unit's latest.
    Queries: the result with its publication, the validators; on a build: fields, the group's
    field averages, criteria, leaves, the year's decision record."""
    result = year_result(unit, year)
    publication = result.publication

    def build():
        fields = list(result.fields.order_by("position"))
        averages = field_averages(publication)
        criteria = {
            c.code: c
            for c in PublishedCriterion.objects.filter(publication=publication).exclude(kind="")
        }
        losses = lost_points(result.leaves.order_by("position"), criteria)
        path = reverse("official:report", args=[unit, year])
        return render(
            request,
            "rankings/report.html",
            {
                "result": result,
                "chosen": result,
                "name": result.unit_name,
                "unit_code": unit,
                "publication": publication,
                "fields": [
                    {
                        "field": f,
                        "average": averages.get(f.code),
                        "difference": calculation.change(f.index, averages.get(f.code))
                        if f.index is not None
                        else None,
                    }
                    for f in fields
                ],
                "losses": losses[:LOSSES_SHOWN],
                "more_losses": max(len(losses) - LOSSES_SHOWN, 0),
                "total_lost": calculation.quantize(sum((x["lost"] for x in losses), 0)),
                "page_url": absolute(path),
                "decision": recorded_decision(year),
                "og_title": _("%(unit)s: report card %(year)s")
                % {"unit": result.unit_name, "year": year},
                "meta_description": cards.description(result),
                "og_image": reverse("official:unit_year_card", args=[unit, year]),
                "og_image_size": (cards.WIDTH, cards.HEIGHT),
            },
        )

    return conditional(request, [publication], build)
