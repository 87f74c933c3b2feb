"""Exploring the published results: every unit with a search that ignores diacritics
(``/units/``), two or three units side by side (``/compare/<year>/<group>/?units=A,B[,C]``), all
units ranked on one field (``/rankings/<year>/<group>/fields/<code>/``) and an older version of
a publication with what changed since (``/versions/<year>/<group>/<version>/``).

Like every public page these read frozen publications only, answer 404 for anything
unpublished, take only the documented query parameters (``q``, ``units``) through
``published_page`` and run a fixed number of queries whatever the number of units (each
view's docstring lists them; ``tests/rankings/test_explore.py`` pins them). The picker of the
comparison is a POST that only redirects to the page's address (no JavaScript, no new query
parameter, nothing written).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from decimal import Decimal
from functools import wraps
from typing import NamedTuple

from django.core.cache import cache
from django.http import Http404, HttpResponsePermanentRedirect, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from scoring import calculation

from .caching import (
    CACHE_SECONDS,
    PARAMETERS,
    BadQuery,
    bad_request,
    conditional,
    published_page,
)
from .markup import escaped
from .models import Publication, PublishedField, PublishedLeaf, PublishedResult
from .templatetags.public_tables import unit_rows
from .templatetags.readable import vi_lang

MAX_COMPARED = 3


def _current(year: int, group: str) -> Publication:
    publication = Publication.objects.current(year, group)
    if publication is None:
        raise Http404(_("Nothing is published for this year and group."))
    return publication


# Search ------------------------------------------------------------------------------------------


def fold(text: str) -> str:
    """Text as the search compares it: compatibility forms made plain (NFKC: full-width
    "Ｐｈｏｎｇ" is "Phong"), without diacritics (đ and Đ become d), case folded, punctuation as
    spaces, spaces collapsed: "huyện Phong Điền" → "huyen phong dien", "Lao động – Thương binh"
    → "lao dong thuong binh"."""
    text = unicodedata.normalize("NFKC", text)
    text = text.replace("ð", "d").replace("Ð", "D")  # the look-alike of Đ
    return " ".join(re.sub(r"[\W_]+", " ", calculation.name_sort_key(text)[0]).split())


def search_terms(query: str) -> list[str]:
    """The words a query looks for, folded, in the order written, each once: a word already
    inside another word of the query is left out ("phong pho" looks for "phong" alone), since
    every word must be in the name anyway."""
    words = fold(query).split()
    terms = []
    for position, word in enumerate(words):
        inside_another = any(
            word in other and (word != other or other_position < position)
            for other_position, other in enumerate(words)
            if other_position != position
        )
        if not inside_another:
            terms.append(word)
    return terms


def canonical_query(query: str) -> str:
    """The one form of a query that is answered (and cached): its search terms joined by
    single spaces. "Phong Điền", "PHONG  ĐIỀN!" and "phong dien phong" all give "phong dien";
    a query without a letter or digit gives ""."""
    return " ".join(search_terms(query))


def matching(rows: list[tuple[str, str, str]], terms: list[str]) -> list[str]:
    """The rows (``unit_list``'s: folded name, folded code, HTML) of the units a search finds,
    as HTML, in their order: every term of the query is in the unit's folded name, or the query
    is the unit's code (folded: "so-a" is "so a"). (Codes are not searched word by word: the
    communes of a former district carry its name in their codes, and would all match it.)
    Each term narrows the rows left by the one before: a national list is 3,300 rows."""
    query = " ".join(terms)
    found = rows
    for term in terms:
        found = [row for row in found if term in row[0] or row[1] == query]
    return [row[2] for row in found]


# Losses ------------------------------------------------------------------------------------------


def leaf_loss(kind: str, max_points: Decimal, leaf) -> Decimal | None:
    """The points a unit lost on one published leaf (``calculation.leaf_loss``, the one rule);
    None where the unit has no such leaf."""
    if leaf is None:
        return None
    return calculation.leaf_loss(kind, max_points, leaf.final_score, leaf.not_applicable)


# /units/ ----------------------------------------------------------------------------------------


class ListedResult(NamedTuple):
    """What the list of units shows of a unit's latest result."""

    unit_code: str
    unit_name: str
    index: Decimal
    band_code: str
    band_label: str
    rank: int
    publication_id: int


def unit_list(navigation) -> list[dict]:
    """The list of units as ``/units/`` shows it, in the reader's language: the groups in the
    navigation's order (newest year first, then the groups' order), each with its units in name
    order, a unit in the group of its latest result. Each unit is ``(folded name, folded code,
    row)``: what the search compares (``matching``) and the table's row (``unit_rows``).

    Made once per navigation and language and kept in the cache (a search then reads it instead
    of the 20,000 results of a national installation's six years, and folds no name again):
    the key names every publication shown, by number and checksum, and publications never
    change, so it never goes stale."""
    digest = hashlib.sha256(get_language().encode())
    for publication in navigation:
        digest.update(f"\0{publication.pk}:{publication.checksum}".encode())
    key = f"cchc:unitlist:{digest.hexdigest()[:32]}"
    groups = cache.get(key)
    if groups is not None:
        return groups
    publications = {p.pk: p for p in navigation}
    # Groups in the order of the navigation (newest year first, then the groups' order).
    order = {}
    for position, publication in enumerate(navigation):
        order.setdefault(publication.group_code, position)
    seen, by_group = set(), {}
    # Plain values, not model objects: a national installation has 3,300 units a year.
    records = [
        ListedResult(*values)
        for values in PublishedResult.objects.filter(publication__in=navigation)
        .order_by()
        .values_list(*ListedResult._fields)
    ]
    # Newest year first: the first result of a unit is its latest.
    for record in sorted(records, key=lambda r: -publications[r.publication_id].year):
        if record.unit_code in seen:
            continue
        seen.add(record.unit_code)
        publication = publications[record.publication_id]
        by_group.setdefault(publication.group_code, []).append(
            {"result": record, "publication": publication}
        )
    groups = []
    for code in sorted(by_group, key=order.__getitem__):
        items = sorted(
            by_group[code], key=lambda u: calculation.name_sort_key(u["result"].unit_name)
        )
        rows = unit_rows(items)
        groups.append(
            {
                "code": code,
                "name": items[0]["publication"].group_name,
                "rows": [
                    (fold(item["result"].unit_name), canonical_query(item["result"].unit_code), row)
                    for item, row in zip(items, rows, strict=True)
                ],
            }
        )
    cache.set(key, groups, CACHE_SECONDS)
    return groups


@published_page("q")
def units(request):
    """Every unit with a publication, in the group of its latest one, with its latest index,
    band and rank; ``?q=`` keeps the units whose name (or code) holds every word of the query,
    ignoring diacritics and case. The search runs in Python over the published names, the same
    on SQLite and PostgreSQL. A query that finds nothing answers 404 with the search form.

    Only the canonical form of a query is answered (``canonical_query``): any other spelling of
    it ("Phong Điền", "PHONG  DIEN", "phong dien ") is redirected there permanently (301) before
    any query runs, so each answer is built and stored once; a query without a letter or digit
    ("!!!") answers 400.
    Queries: the latest publications (navigation); every result of them; the newest publication
    (ETag)."""
    query = request.GET.get("q", "")
    terms = search_terms(query)
    canonical = " ".join(terms)
    if query and not terms:
        raise BadQuery(
            _("The search “%(query)s” has no letter or digit to look for.") % {"query": query}
        )
    if query != canonical:
        if not PARAMETERS["q"].fullmatch(canonical):
            raise BadQuery(_("The value of %(name)s is not valid.") % {"name": "q"})
        return HttpResponsePermanentRedirect(reverse("units") + "?" + urlencode({"q": canonical}))
    navigation = Publication.objects.navigation()
    if not navigation:
        raise Http404(_("Nothing has been published yet."))

    def build():
        groups = []
        for group in unit_list(navigation):
            rows = matching(group["rows"], terms) if terms else [r[2] for r in group["rows"]]
            if rows:
                groups.append({**group, "count": len(rows), "html": mark_safe("".join(rows))})
        found = sum(g["count"] for g in groups)
        response = render(
            request,
            "rankings/units.html",
            {
                "groups": groups,
                "query": query,
                "found": found,
                "navigation": navigation,
                "latest_year": navigation[0].year,
            },
        )
        if terms and not found:
            response.status_code = 404
        return response

    return conditional(request, navigation, build)


# /compare/ --------------------------------------------------------------------------------------


def _explain_units(view):
    """Say what is wrong with ``?units=`` in words a reader understands (one unit, four units)
    before the generic check of the parameter answers "not valid"."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        values = [v for v in request.GET.getlist("units") if v != ""]
        if len(values) == 1 and not PARAMETERS["units"].fullmatch(values[0]):
            count = len([code for code in values[0].split(",") if code.strip()])
            if count < 2 or count > MAX_COMPARED:
                return bad_request(
                    request,
                    ngettext(
                        "Choose two or three units to compare (the address names %(count)s).",
                        "Choose two or three units to compare (the address names %(count)s).",
                        count,
                    )
                    % {"count": count},
                )
        return view(request, *args, **kwargs)

    return wrapper


def _compare_url(year: int, group: str, codes: list[str]) -> str:
    # The codes are published unit codes (slugs): the commas stay readable in the address.
    return reverse("compare", args=[year, group]) + "?units=" + ",".join(codes)


def _leaf_rows(criteria, chosen, leaves) -> list[dict]:
    """The criteria tree with, for every leaf, each chosen unit's self and final score and the
    points it lost there (``leaf_loss``); ``worst`` marks the unit that lost most on a leaf
    when the units differ."""
    depth, rows = {}, []
    for criterion in criteria:
        depth[criterion.code] = (
            depth.get(criterion.parent_code, -1) + 1 if criterion.parent_code else 0
        )
        cells = []
        if criterion.kind:
            for result in chosen:
                leaf = leaves.get((result.pk, criterion.code))
                cells.append(
                    {
                        "leaf": leaf,
                        "lost": leaf_loss(criterion.kind, criterion.max_points, leaf),
                    }
                )
            losses = [c["lost"] for c in cells if c["lost"] is not None]
            if losses and max(losses) > 0 and len(set(losses)) > 1:
                for cell in cells:
                    cell["worst"] = cell["lost"] == max(losses)
        rows.append({"criterion": criterion, "depth": depth[criterion.code], "cells": cells})
    return rows


@csrf_exempt  # the picker's POST writes nothing: it only redirects to a public address
@require_http_methods(["GET", "HEAD", "POST"])
@_explain_units
@published_page("units")
def compare(request, year: int, group: str):
    """Two or three units of a published group side by side (``?units=A,B[,C]``): index, band,
    rank, points, change, every field and every leaf with self and final score, and where each
    lost points (maximum − final score per leaf, the most lost of the units highlighted).
    Without ``units``: the picker. The picker POSTs the chosen codes and is redirected to the
    page's address (303); a wrong choice is shown again with the message (400). A unit not
    ranked in that group and year answers 404 with the picker; one or four units, or the same
    unit twice, 400.
    Queries: the publication; the chosen units' results, fields and leaves; the criteria; the
    navigation; the newest publication (ETag); the group's units for the picker only when its
    options are not in the cache yet (``picker_options``, once per publication and language)."""
    publication = _current(year, group)
    if request.method == "POST":
        return _pick(request, publication)
    codes = request.GET["units"].split(",") if "units" in request.GET else []
    if len(set(codes)) != len(codes):
        raise BadQuery(_("The same unit is named twice: choose two or three different units."))

    def build():
        by_code = {
            r.unit_code: r
            for r in PublishedResult.objects.filter(
                publication=publication, unit_code__in=codes
            ).only(
                "unit_code",
                "unit_name",
                "rank",
                "index",
                "points",
                "max_points",
                "band_code",
                "band_label",
                "change",
                "change_basis",
                "publication_id",
            )
        }
        unknown = [code for code in codes if code not in by_code]
        if unknown:
            return _picker(
                request,
                publication,
                codes,
                _("Not ranked in %(group)s in %(year)s: %(units)s. Choose among the units below.")
                % {
                    "group": publication.group_name,
                    "year": publication.year,
                    "units": ", ".join(unknown),
                },
                status=404,
            )
        if not codes:
            return _picker(request, publication, [])
        chosen = [by_code[code] for code in codes]
        fields = {}
        for field in PublishedField.objects.filter(result__in=chosen).order_by("position"):
            fields.setdefault((field.code, field.title), {})[field.result_id] = field
        field_rows = [
            {
                "code": code,
                "title": title,
                "cells": [
                    {
                        "field": by_result.get(r.pk),
                        "lost": calculation.quantize(
                            by_result[r.pk].max_points - by_result[r.pk].points
                        )
                        if r.pk in by_result and by_result[r.pk].max_points > 0
                        else None,
                    }
                    for r in chosen
                ],
            }
            for (code, title), by_result in fields.items()
        ]
        leaves = {
            (leaf.result_id, leaf.code): leaf
            for leaf in PublishedLeaf.objects.filter(result__in=chosen).only(
                "result_id", "code", "self_score", "final_score", "not_applicable"
            )
        }
        criteria = list(publication.criteria.order_by("position"))
        rows = _leaf_rows(criteria, chosen, leaves)
        most_lost = []
        for column, result in enumerate(chosen):
            lost = [
                (row["cells"][column]["lost"], row["criterion"])
                for row in rows
                if row["cells"] and row["cells"][column]["lost"]
            ]
            lost.sort(key=lambda item: (-item[0], item[1].position))
            most_lost.append({"result": result, "leaves": lost[:3]})
        return render(
            request,
            "rankings/compare.html",
            {
                "publication": publication,
                "chosen": chosen,
                "field_rows": field_rows,
                "rows": rows,
                "most_lost": most_lost,
                "options": picker_options(publication),
                "codes": codes,
                "slots": _slots(codes),
                "navigation": Publication.objects.navigation(),
            },
        )

    return conditional(request, [publication], build)


def _slots(codes: list[str]) -> list[str]:
    """The picker's three choices, filled with the units already chosen."""
    return (codes + ["", "", ""])[:MAX_COMPARED]


def _picker(request, publication, codes, message="", status=200):
    return render(
        request,
        "rankings/compare.html",
        {
            "publication": publication,
            "options": picker_options(publication),
            "codes": codes,
            "slots": _slots(codes),
            "message": message,
            "navigation": Publication.objects.navigation(),
        },
        status=status,
    )


def picker_options(publication) -> str:
    """The ``<option>`` of every unit ranked in ``publication`` ("rank. name", its code as the
    value), in the reader's language, none selected (``public_tables.unit_options`` marks a
    picker's choice). Made once per publication and language and kept in the cache: every
    comparison of a national group (3,300 units) then reads one string instead of the group's
    results. A publication never changes once made, so its key never goes stale. Escaped by
    ``markup.escaped`` (Django's ``escape`` of 9,900 values was half of a national picker's
    build on a miss)."""
    key = f"cchc:options:{publication.pk}:{publication.checksum[:16]}:{get_language()}"
    options = cache.get(key)
    if options is None:
        lang = vi_lang()
        options = "".join(
            f'<option value="{escaped(code)}"{lang}>{escaped(rank)}. {escaped(name)}</option>'
            for code, rank, name in PublishedResult.objects.filter(publication=publication)
            .order_by("position")
            .values_list("unit_code", "rank", "unit_name")
        )
        cache.set(key, options, CACHE_SECONDS)
    return options


def _pick(request, publication):
    """The picker's answer: the chosen codes (empty choices left out), checked against the
    group's published units, then a redirect to the comparison's address; else the picker
    again with what is wrong (400)."""
    codes = [code.strip() for code in request.POST.getlist("unit")[:MAX_COMPARED] if code.strip()]
    known = set(
        PublishedResult.objects.filter(publication=publication, unit_code__in=codes).values_list(
            "unit_code", flat=True
        )
    )
    if len(codes) < 2 or len(set(codes)) != len(codes):
        message = _("Choose two or three different units.")
    elif any(code not in known for code in codes):
        message = _("Choose among the units of this group.")
    else:
        return HttpResponseRedirect(
            _compare_url(publication.year, publication.group_code, codes), status=303
        )
    response = _picker(request, publication, codes, message, status=400)
    response["Cache-Control"] = "private, no-cache"
    return response


@published_page()
def compare_with(request, year: int, group: str, unit: str):
    """The picker with one unit already chosen (the unit page's "compare with…" link).
    Queries: the publication; whether the unit is ranked there; the navigation; the newest
    publication; the group's units only when the picker's options are not in the cache."""
    publication = _current(year, group)

    def build():
        if not PublishedResult.objects.filter(publication=publication, unit_code=unit).exists():
            raise Http404(_("This unit is not ranked in this group and year."))
        return _picker(request, publication, [unit])

    return conditional(request, [publication], build)


# Ranking on one field ---------------------------------------------------------------------------


@published_page()
def field_ranking(request, year: int, group: str, code: str):
    """Every unit of a group ranked on one field: by the field's index (points ÷ maximum, as
    published), equal indices sharing a rank (1, 2, 2, 4); a field of bonus or penalty points
    only, by its points. A unit to which the whole field does not apply is listed last, without
    a rank. Queries: the publication; its fields; the field's rows with their results; the
    navigation; the newest publication (ETag)."""
    publication = _current(year, group)

    def build():
        fields = list(publication.criteria.filter(parent_code="").order_by("position"))
        field = next((f for f in fields if f.code == code), None)
        if field is None:
            raise Http404(_("There is no such field in this year and group."))
        rows = list(
            PublishedField.objects.filter(result__publication=publication, code=code)
            .select_related("result")
            .only(
                "points",
                "max_points",
                "index",
                "result__unit_code",
                "result__unit_name",
                "result__rank",
                "result__index",
                "result__band_code",
                "result__band_label",
            )
        )
        by_index = any(r.index is not None for r in rows)
        ranked_rows = [r for r in rows if r.index is not None] if by_index else rows
        unranked = [r for r in rows if r.index is None] if by_index else []
        by_code = {r.result.unit_code: r for r in ranked_rows}
        ranking = [
            {
                "rank": entry.rank,
                "row": by_code[entry.key],
                "lost": calculation.quantize(
                    by_code[entry.key].max_points - by_code[entry.key].points
                )
                if by_code[entry.key].max_points > 0
                else None,
            }
            for entry in calculation.rank(
                (
                    r.result.unit_code,
                    r.result.unit_name,
                    r.index if by_index else r.points,
                )
                for r in ranked_rows
            )
        ]
        unranked.sort(key=lambda r: calculation.name_sort_key(r.result.unit_name))
        return render(
            request,
            "rankings/field.html",
            {
                "publication": publication,
                "field": field,
                "fields": fields,
                "ranking": ranking,
                "unranked": unranked,
                "by_index": by_index,
                "navigation": Publication.objects.navigation(),
            },
        )

    return conditional(request, [publication], build)


# An older version and what changed since ---------------------------------------------------------


def _field_changes(old_fields: dict, new_fields: dict) -> list[dict]:
    """The fields of one unit whose points or index differ between two versions (a field only
    in one of them too), in the order of the newer version: ``old`` and ``new`` are the
    published fields (None where the version has no such field)."""
    codes = list(new_fields) + [code for code in old_fields if code not in new_fields]
    changes = []
    for code in codes:
        old, new = old_fields.get(code), new_fields.get(code)
        if (
            old is None
            or new is None
            or old.points != new.points
            or old.max_points != new.max_points
            or old.index != new.index
        ):
            changes.append({"code": code, "title": (new or old).title, "old": old, "new": new})
    return changes


def version_changes(old_rows, new_rows, fields: dict | None = None) -> dict:
    """What changed between two versions of a publication: the units whose index, rank, band,
    points or field points and indices changed (old → new), those added and those removed.
    ``fields`` maps a result's pk to its published fields by code."""
    fields = fields or {}
    old = {r.unit_code: r for r in old_rows}
    new = {r.unit_code: r for r in new_rows}
    changed = []
    for code, row in new.items():
        if code not in old:
            continue
        was = old[code]
        field_changes = _field_changes(fields.get(was.pk, {}), fields.get(row.pk, {}))
        if field_changes or (was.index, was.rank, was.band_code, was.points, was.max_points) != (
            row.index,
            row.rank,
            row.band_code,
            row.points,
            row.max_points,
        ):
            changed.append({"old": was, "new": row, "fields": field_changes})
    changed.sort(key=lambda c: (c["new"].position, c["new"].unit_code))
    return {
        "changed": changed,
        "added": [row for code, row in new.items() if code not in old],
        "removed": [row for code, row in old.items() if code not in new],
    }


@published_page()
def version(request, year: int, group: str, number: int):
    """One version of a year and group's publication, as it was published, and what differs in
    the current version: units whose index, rank, band, points or field points and indices
    changed (old → new), units added or removed. Queries: the versions; the results of this
    version and of the current one; their fields; the navigation; the newest publication
    (ETag)."""
    versions = list(Publication.objects.filter(year=year, group_code=group).order_by("-version"))
    chosen = next((p for p in versions if p.version == number), None)
    if chosen is None:
        raise Http404(_("There is no such version."))
    current = versions[0]

    def build():
        shown = {chosen.pk, current.pk}
        rows = {chosen.pk: [], current.pk: []}
        for row in PublishedResult.objects.filter(publication__in=shown).order_by("position"):
            rows[row.publication_id].append(row)
        # One query whatever the version, so the page's queries stay the same in number.
        fields = {}
        for field in (
            PublishedField.objects.filter(result__publication__in=shown)
            .only("result_id", "code", "title", "points", "max_points", "index")
            .order_by("position")
        ):
            fields.setdefault(field.result_id, {})[field.code] = field
        return render(
            request,
            "rankings/version.html",
            {
                "publication": chosen,
                "current": current,
                "results": rows[chosen.pk],
                "changes": None
                if chosen == current
                else version_changes(rows[chosen.pk], rows[current.pk], fields),
                "navigation": Publication.objects.navigation(),
            },
        )

    return conditional(request, [chosen, current], build)
