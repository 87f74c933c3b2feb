"""SIPAS of a year and group: ``import_sipas`` reads the five element percentages of each unit;
``import_sipas_answers`` computes them from individual questionnaires."""

from __future__ import annotations

import re
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from operations.bulk import update_rows
from scoring.calculation import element_index, sipas_index_from_answers
from scoring.models import SIPAS_ELEMENTS, Round, SipasResult, Unit

from .base import (
    Problems,
    Report,
    assign_changed,
    check_duplicates,
    check_unit,
    parse_decimal,
    read_table,
)
from .criteria import get_group

REQUIRED = ("unit", *SIPAS_ELEMENTS)
HUNDRED = Decimal("100")
BATCH = 2000


def import_sipas(path, *, year: int, group: str) -> Report:
    rows = read_table(path, required=REQUIRED)
    group_obj = get_group(group)
    problems = Problems()
    units, elsewhere = _units(rows, year, group_obj)
    parsed = []
    for row in rows:
        unit = _check_unit(row, units, group_obj, elsewhere, year, problems)
        elements = {}
        for name in SIPAS_ELEMENTS:
            value = parse_decimal(row, name, problems, maximum=HUNDRED)
            if row[name] == "":
                problems.add(row.number, name, _("a value is required"))
            elements[name] = value
        if unit is not None:
            parsed.append((unit, {**elements, "index": None}))  # the mean of the five
    check_duplicates(rows, lambda r: r["unit"], problems, "unit", _("unit"))
    problems.raise_if_any()
    return _write(year, group_obj, parsed)


def _check_unit(row, units, group_obj, elsewhere, year, problems):
    return check_unit(
        row,
        units,
        group_obj,
        elsewhere,
        problems,
        _("%(code)s already has SIPAS results in group %(group)r in {year}").format(year=year),
    )


def _units(rows, year, group_obj):
    units = {u.code: u for u in Unit.objects.filter(code__in={row["unit"] for row in rows})}
    elsewhere = dict(
        SipasResult.objects.filter(round__year=year, unit__in=units.values())
        .exclude(group=group_obj)
        .values_list("unit__code", "group__code")
    )
    return units, elsewhere


def _write(year, group_obj, parsed) -> Report:
    """Create and update the results in bulk (a national group has 3,300 units: one save per
    unit took seconds), each with its history as a save writes it: '+' for a new result, '~'
    for a changed one, the request's user if any, no reason."""
    report = Report()
    with transaction.atomic():
        round_obj, created = Round.objects.get_or_create(year=year)
        if created:
            report.lines.append(_("round %(year)s created") % {"year": year})
        existing = {
            s.unit_id: s for s in SipasResult.objects.filter(round=round_obj, group=group_obj)
        }
        to_create, to_update = [], []
        for unit, elements in parsed:
            result = existing.get(unit.pk)
            if result is None:
                to_create.append(
                    SipasResult(round=round_obj, group=group_obj, unit=unit, **elements)
                )
            elif assign_changed(result, elements):
                to_update.append(result)
            else:
                report.unchanged += 1
        if to_create:
            bulk_create_with_history(to_create, SipasResult, batch_size=BATCH)
        if to_update:
            fields = [*SIPAS_ELEMENTS, "index"]
            update_rows(
                SipasResult,
                fields,
                [(r.pk, *(getattr(r, name) for name in fields)) for r in to_update],
            )
            SipasResult.history.bulk_history_create(
                to_update, batch_size=BATCH, update=True, default_change_reason=None
            )
        report.created, report.updated = len(to_create), len(to_update)
    report.lines.insert(0, report.summary(_("SIPAS results")))
    return report


ANSWER_COLUMN = re.compile(rf"^({'|'.join(SIPAS_ELEMENTS)})(?:_\w+)?$")
SATISFIED = {"4", "5"}  # "satisfied" and "very satisfied" on the 1-5 scale
VALID = {"1", "2", "3", "4", "5"}


def import_sipas_answers(path, *, year: int, group: str) -> Report:
    """SIPAS from individual questionnaires: one row per questionnaire, one column per question
    (named after its element: ``access``, ``access_2``, ``procedure_1``...), each answer 1-5 or
    empty (no valid answer). An element index is the share of answers 4 or 5 among the valid
    answers of all its questions (docs/calculation.md, 10. SIPAS)."""
    rows = read_table(
        path,
        required=("unit",),
        optional=("respondent",),
        pattern=ANSWER_COLUMN,
        pattern_hint=_("one column per question named after its element (access, access_2, …)"),
    )
    group_obj = get_group(group)
    problems = Problems()
    columns = [name for name in rows[0].values if ANSWER_COLUMN.match(name)]
    missing = [
        e for e in SIPAS_ELEMENTS if not any(ANSWER_COLUMN.match(c).group(1) == e for c in columns)
    ]
    for element in missing:
        problems.add(
            1, element, _("no column for this element (e.g. %(element)s_1)") % {"element": element}
        )
    units, elsewhere = _units(rows, year, group_obj)
    tallies: dict = {}
    for row in rows:
        unit = _check_unit(row, units, group_obj, elsewhere, year, problems)
        for column in columns:
            answer = row[column]
            if answer and answer not in VALID:
                problems.add(
                    row.number,
                    column,
                    _("%(value)r is not an answer: use 1 to 5, or leave it empty")
                    % {"value": answer},
                )
            elif unit is not None and answer:
                element = ANSWER_COLUMN.match(column).group(1)
                satisfied, valid = tallies.setdefault(unit, {}).get(element, (0, 0))
                tallies[unit][element] = (satisfied + (answer in SATISFIED), valid + 1)
    check_duplicates(
        [row for row in rows if row["respondent"]],
        lambda r: (r["unit"], r["respondent"]),
        problems,
        "respondent",
        _("questionnaire"),
    )
    parsed = []
    for unit, elements in tallies.items():
        values = {}
        for element in SIPAS_ELEMENTS:
            satisfied, valid = elements.get(element, (0, 0))
            if valid == 0:
                problems.add(
                    None,
                    None,
                    _("%(unit)s: no valid answer for %(element)s")
                    % {"unit": unit.code, "element": element},
                )
                continue
            values[element] = element_index(satisfied, valid)
        if len(values) == len(SIPAS_ELEMENTS):
            values["index"] = sipas_index_from_answers(elements)
        parsed.append((unit, values))
    problems.raise_if_any()
    return _write(year, group_obj, parsed)
