"""``import_units``: units and their groups; existing units (by code) are updated.

A unit that ceased has ``dissolved_on`` (``YYYY-MM-DD``) and, when it was taken over, its
``successor`` (several codes separated by ``;`` for a split); a successor without a date is a
row error. ``dissolved_reason`` (e.g. "bỏ cấp huyện") is shown on its public page."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from scoring.models import Unit, UnitGroup

from .base import (
    Problems,
    Report,
    Row,
    assign_changed,
    check_duplicates,
    parse_date,
    parse_slug,
    parse_text,
    read_table,
)

REQUIRED = ("code", "name", "group", "group_name")
OPTIONAL = ("successor", "short_name", "dissolved_on", "dissolved_reason")


def check_duplicates_in_cell(item: dict, problems: Problems) -> None:
    codes = [code for code in item["successors"] if code]
    if len(codes) != len(set(codes)):
        problems.add(item["row"].number, "successor", _("a successor is named twice"))


def _in_a_loop(code: str, successors_of: dict[str, set[str]]) -> bool:
    """Following successors from ``code`` comes back to it."""
    seen, todo = set(), list(successors_of.get(code, ()))
    while todo:
        current = todo.pop()
        if current == code:
            return True
        if current not in seen:
            seen.add(current)
            todo.extend(successors_of.get(current, ()))
    return False


def import_units(path) -> Report:
    rows = read_table(path, required=REQUIRED, optional=OPTIONAL)
    problems = Problems()
    # An optional column left out of the file leaves that attribute as it is.
    has_successor = "successor" in rows[0].values
    has_short_name = "short_name" in rows[0].values
    has_dissolved = "dissolved_on" in rows[0].values
    has_reason = "dissolved_reason" in rows[0].values
    parsed = []
    for row in rows:
        successors = [code.strip() for code in row["successor"].split(";") if code.strip()]
        parsed.append(
            {
                "row": row,
                "code": parse_slug(row, "code", problems),
                "name": parse_text(row, "name", problems),
                "group": parse_slug(row, "group", problems, max_length=64),
                "group_name": parse_text(
                    row, "group_name", problems, required=False, max_length=200
                ),
                "successors": [
                    parse_slug(Row(row.number, {"successor": code}), "successor", problems)
                    for code in successors
                ],
                "dissolved_on": parse_date(row, "dissolved_on", problems),
                "dissolved_reason": parse_text(
                    row, "dissolved_reason", problems, required=False, max_length=200
                ),
                "short_name": parse_text(
                    row, "short_name", problems, required=False, max_length=100
                ),
            }
        )
    check_duplicates(rows, lambda r: r["code"], problems, "code", _("unit code"))

    groups = {group.code: group for group in UnitGroup.objects.all()}
    existing = {unit.code: unit for unit in Unit.objects.select_related("group")}
    group_names: dict[str, tuple[str, int]] = {}
    for item in parsed:
        row, group, name = item["row"], item["group"], item["group_name"]
        if not group:
            continue
        if name:
            if group in group_names and group_names[group][0] != name:
                problems.add(
                    row.number,
                    "group_name",
                    _("group %(group)r is named %(other)r on row %(first)d")
                    % {
                        "group": group,
                        "other": group_names[group][0],
                        "first": group_names[group][1],
                    },
                )
            group_names.setdefault(group, (name, row.number))
        elif group not in groups and group not in group_names:
            problems.add(
                row.number,
                "group_name",
                _("group %(group)r does not exist yet: give its name") % {"group": group},
            )

    # Successors: units of the file or of the database, never the unit itself, never a loop,
    # always with the day the unit ceased.
    file_codes = {item["code"] for item in parsed if item["code"]}
    stored: dict[str, set[str]] = {}  # unit code → its successors' codes, as in the database
    for code, successor in Unit.successors.through.objects.values_list(
        "from_unit__code", "to_unit__code"
    ):
        stored.setdefault(code, set()).add(successor)
    successors_of = {code: set(successors) for code, successors in stored.items()}
    for item in parsed:
        if item["code"] and has_successor:
            successors_of[item["code"]] = {code for code in item["successors"] if code}
    for item in parsed:
        code, row = item["code"], item["row"]
        if not code:
            continue
        check_duplicates_in_cell(item, problems)
        known_date = item["dissolved_on"] or (
            existing[code].dissolved_on if code in existing and not has_dissolved else None
        )
        if item["successors"] and not known_date and not row["dissolved_on"]:
            problems.add(
                row.number,
                "dissolved_on",
                _("a unit with a successor needs the day it ceased (YYYY-MM-DD)"),
            )
        for successor in item["successors"]:
            if not successor:
                continue
            if successor == code:
                problems.add(row.number, "successor", _("a unit cannot succeed itself"))
            elif successor not in file_codes and successor not in existing:
                problems.add(
                    row.number, "successor", _("unknown unit %(code)r") % {"code": successor}
                )
        if _in_a_loop(code, successors_of):
            problems.add(
                row.number,
                "successor",
                _("the successors of %(code)r go round in a loop") % {"code": code},
            )
    problems.raise_if_any()

    report = Report()
    with transaction.atomic():
        for code, (name, _row) in group_names.items():
            group = groups.get(code)
            if group is None:
                groups[code] = UnitGroup.objects.create(code=code, name=name, order=len(groups) + 1)
                report.lines.append(_("group %(code)s created") % {"code": code})
            elif assign_changed(group, {"name": name}):
                group.save()
                report.lines.append(_("group %(code)s renamed") % {"code": code})

        units = dict(existing)
        # First pass without successors, so that a successor may come later in the file.
        for item in parsed:
            values = {"name": item["name"], "group": groups[item["group"]]}
            if has_short_name:
                values["short_name"] = item["short_name"]
            if has_dissolved:
                values["dissolved_on"] = item["dissolved_on"]
            if has_reason:
                values["dissolved_reason"] = item["dissolved_reason"]
            unit = units.get(item["code"])
            if unit is None:
                units[item["code"]] = Unit.objects.create(code=item["code"], **values)
                report.created += 1
            elif assign_changed(unit, values):
                unit.save()
                report.updated += 1
                item["counted"] = True
            else:
                report.unchanged += 1
        for item in parsed if has_successor else ():
            wanted = successors_of[item["code"]]
            if stored.get(item["code"], set()) != wanted:
                units[item["code"]].successors.set([units[code].pk for code in wanted])
                if item["code"] in existing and not item.get("counted"):
                    report.updated += 1
                    report.unchanged -= 1
    report.lines.insert(0, report.summary(_("units")))
    return report
