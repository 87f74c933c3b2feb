"""The open data of a year: every published table and every leaf result as CSV files, with a
codebook, in one zip (``/data/<year>/``). Read from frozen publications only."""

from __future__ import annotations

import io
import zipfile

from django.utils import timezone

from scoring.models import LEAF_SOURCE_FIELDS, SIPAS_ELEMENTS

from .exports import csv_bytes
from .models import Publication, PublishedField, leaf_rows

CODEBOOK = """cchc open data: {year}

Every file is CSV, UTF-8, comma-separated, with a header row; decimals use "." and two places.
Only published results are included (the latest version of each group).

rankings-<group>.csv   one row per unit: year, group, version, rank, unit (code), name, points,
                       max_points, index, band (code), band_label, change (index minus
                       previous_index; empty when there is nothing to compare with),
                       previous_index, change_basis (own: the unit's own index last year;
                       predecessor: the one unit it took over; merged: the mean of the
                       units it was formed from, itself included; empty: nothing to compare
                       with), compared_with (the unit codes compared with, separated by ";")
fields-<group>.csv     one row per unit and field: unit, field (code), title, points, max_points,
                       index (empty for a field of only bonus or penalty points)
leaves-<group>.csv     one row per unit and leaf: unit, criterion (code), title, kind
                       (self, agency, target, survey, bonus, penalty), max_points, self_score,
                       final_score, not_applicable (true/false), note (the council's public
                       note), self_figure and figure (a target leaf's figure as the unit
                       reported it and as the council verified it; empty for other leaves)
criteria-<group>.csv   the criteria tree: code, parent, title, max_points, kind, previous_code,
                       and for a target leaf its rule: target, rule (proportional or steps),
                       steps (threshold:points pairs), direction (higher or lower is better),
                       unit_label; sipas_element for a survey leaf fed from SIPAS
bands-<group>.csv      the classification: code, label, min_index (inclusive lower bound)
sipas-<group>.csv      one row per unit: rank, unit, name, index, access, procedure,
                       civil_servants, result, feedback, change, previous_index,
                       change_basis, compared_with (as in rankings-<group>.csv)
versions.csv           every publication: group, version, published_at, reason, checksum,
                       baseline_version (the version of last year's table the changes
                       compare with)

The rules of calculation: see the methodology page of each year and group.
"""


def open_data_zip(year: int, publications: list[Publication]) -> bytes:
    """The zip of ``year`` from the latest versions of its publications (one query per file and
    group, whatever the number of units)."""
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
                            "previous_index",
                            "change_basis",
                            "compared_with",
                        ),
                        *(
                            (year, code, publication.version, *row[:-1], ";".join(row[-1]))
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
                                "previous_index",
                                "change_basis",
                                "compared_with",
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
                    "self_figure",
                    "figure",
                )
            ]
            for unit_code, leaf_code, self_score, final, na, note, self_figure, figure in leaf_rows(
                publication
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
                        self_figure,
                        figure,
                    )
                )
            bundle.writestr(f"leaves-{code}.csv", csv_bytes(leaves))
            bundle.writestr(
                f"criteria-{code}.csv",
                csv_bytes(
                    [
                        (
                            "code",
                            "parent",
                            "title",
                            "max_points",
                            "kind",
                            "previous_code",
                            *LEAF_SOURCE_FIELDS,
                        ),
                        *(
                            (
                                c.code,
                                c.parent_code,
                                c.title,
                                c.max_points,
                                c.kind,
                                c.previous_code,
                                *(getattr(c, name) for name in LEAF_SOURCE_FIELDS),
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
            sipas_rows = [
                (*row[:-1], ";".join(row[-1]))
                for row in publication.sipas.order_by("position").values_list(
                    "rank",
                    "unit_code",
                    "unit_name",
                    "index",
                    *SIPAS_ELEMENTS,
                    "change",
                    "previous_index",
                    "change_basis",
                    "compared_with",
                )
            ]
            if sipas_rows:
                bundle.writestr(
                    f"sipas-{code}.csv",
                    csv_bytes(
                        [
                            (
                                "rank",
                                "unit",
                                "name",
                                "index",
                                *SIPAS_ELEMENTS,
                                "change",
                                "previous_index",
                                "change_basis",
                                "compared_with",
                            ),
                            *sipas_rows,
                        ]
                    ),
                )
        bundle.writestr(
            "versions.csv",
            csv_bytes(
                [
                    (
                        "group",
                        "version",
                        "published_at",
                        "reason",
                        "checksum",
                        "baseline_version",
                    ),
                    *(
                        (
                            p.group_code,
                            p.version,
                            timezone.localtime(p.published_at).isoformat(),
                            p.reason,
                            p.checksum,
                            p.baseline_version,
                        )
                        for p in Publication.objects.filter(year=year).order_by(
                            "group_code", "version"
                        )
                    ),
                ]
            ),
        )
    return archive.getvalue()
