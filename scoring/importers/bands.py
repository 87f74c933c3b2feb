"""``import_bands``: replaces the classification bands of a criteria set."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from scoring.models import Band

from .base import (
    Problems,
    Report,
    check_duplicates,
    parse_decimal,
    parse_slug,
    parse_text,
    read_table,
)
from .criteria import get_set

REQUIRED = ("code", "label", "min_index")


def import_bands(path, *, year: int, group: str) -> Report:
    rows = read_table(path, required=REQUIRED)
    criteria_set = get_set(year, group)
    problems = Problems()
    bands = []
    for row in rows:
        code = parse_slug(row, "code", problems, max_length=32)
        label = parse_text(row, "label", problems, max_length=100)
        min_index = parse_decimal(row, "min_index", problems, maximum=Decimal("100"))
        if row["min_index"] == "":
            problems.add(row.number, "min_index", _("a value is required"))
        bands.append((row, code, label, min_index))
    check_duplicates(rows, lambda r: r["code"], problems, "code", _("band code"))
    # Compared as stored: rounded half-up to two decimals (80.025 is 80.03), like every number.
    rounded = {row.number: value for row, *_rest, value in bands if value is not None}
    check_duplicates(
        [row for row, *_rest, value in bands if value is not None],
        lambda r: rounded[r.number],
        problems,
        "min_index",
        _("lower bound"),
    )
    if not problems and all(value != 0 for *_rest, value in bands):
        problems.add(
            None,
            None,
            _(
                "no band starts at 0: every index needs a band (add the lowest band with "
                "min_index 0)"
            ),
        )
    problems.raise_if_any()

    wanted = {(code, label, min_index) for _row, code, label, min_index in bands}
    current = {(b.code, b.label, b.min_index) for b in criteria_set.bands.all()}
    report = Report()
    if wanted == current:
        report.unchanged = len(wanted)
    else:
        with transaction.atomic():
            report.deleted = criteria_set.bands.all().delete()[0]
            Band.objects.bulk_create(
                Band(criteria_set=criteria_set, code=code, label=label, min_index=min_index)
                for _row, code, label, min_index in bands
            )
            report.created = len(bands)
    report.lines.insert(0, report.summary(_("bands")))
    return report
