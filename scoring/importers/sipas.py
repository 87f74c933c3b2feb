"""``import_sipas``: the five SIPAS element percentages of each unit for a year and group."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from scoring.models import SIPAS_ELEMENTS, Round, SipasResult, Unit

from .base import Problems, Report, assign_changed, check_duplicates, parse_decimal, read_table
from .criteria import get_group

REQUIRED = ("unit", *SIPAS_ELEMENTS)
HUNDRED = Decimal("100")


def import_sipas(path, *, year: int, group: str) -> Report:
    rows = read_table(path, required=REQUIRED)
    group_obj = get_group(group)
    problems = Problems()
    units = {u.code: u for u in Unit.objects.filter(code__in={row["unit"] for row in rows})}
    elsewhere = dict(
        SipasResult.objects.filter(round__year=year, unit__in=units.values())
        .exclude(group=group_obj)
        .values_list("unit__code", "group__code")
    )
    parsed = []
    for row in rows:
        unit = units.get(row["unit"])
        if row["unit"] == "":
            problems.add(row.number, "unit", _("a value is required"))
        elif unit is None:
            problems.add(row.number, "unit", _("unknown unit %(code)r") % {"code": row["unit"]})
        elif unit.group_id != group_obj.pk:
            problems.add(
                row.number,
                "unit",
                _("%(code)s belongs to group %(group)r, not %(this)r")
                % {"code": unit.code, "group": unit.group.code, "this": group},
            )
            unit = None
        elif unit.code in elsewhere:
            problems.add(
                row.number,
                "unit",
                _("%(code)s already has SIPAS results in group %(group)r in %(year)s")
                % {"code": unit.code, "group": elsewhere[unit.code], "year": year},
            )
            unit = None
        elements = {}
        for name in SIPAS_ELEMENTS:
            value = parse_decimal(row, name, problems, maximum=HUNDRED)
            if row[name] == "":
                problems.add(row.number, name, _("a value is required"))
            elements[name] = value
        if unit is not None:
            parsed.append((unit, elements))
    check_duplicates(rows, lambda r: r["unit"], problems, "unit", _("unit"))
    problems.raise_if_any()

    report = Report()
    with transaction.atomic():
        round_obj, created = Round.objects.get_or_create(year=year)
        if created:
            report.lines.append(_("round %(year)s created") % {"year": year})
        existing = {
            s.unit_id: s for s in SipasResult.objects.filter(round=round_obj, group=group_obj)
        }
        for unit, elements in parsed:
            result = existing.get(unit.pk)
            if result is None:
                SipasResult.objects.create(round=round_obj, group=group_obj, unit=unit, **elements)
                report.created += 1
            elif assign_changed(result, elements):
                result.save()
                report.updated += 1
            else:
                report.unchanged += 1
    report.lines.insert(0, report.summary(_("SIPAS results")))
    return report
