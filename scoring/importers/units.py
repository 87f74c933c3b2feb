"""``import_units``: units and their groups; existing units (by code) are updated."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from scoring.models import Unit, UnitGroup

from .base import (
    Problems,
    Report,
    assign_changed,
    check_duplicates,
    parse_slug,
    parse_text,
    read_table,
)

REQUIRED = ("code", "name", "group", "group_name")
OPTIONAL = ("successor", "short_name")


def import_units(path) -> Report:
    rows = read_table(path, required=REQUIRED, optional=OPTIONAL)
    problems = Problems()
    # An optional column left out of the file leaves that attribute as it is.
    has_successor = "successor" in rows[0].values
    has_short_name = "short_name" in rows[0].values
    parsed = []
    for row in rows:
        parsed.append(
            {
                "row": row,
                "code": parse_slug(row, "code", problems),
                "name": parse_text(row, "name", problems),
                "group": parse_slug(row, "group", problems, max_length=64),
                "group_name": parse_text(
                    row, "group_name", problems, required=False, max_length=200
                ),
                "successor": parse_slug(row, "successor", problems, required=False),
                "short_name": parse_text(
                    row, "short_name", problems, required=False, max_length=100
                ),
            }
        )
    check_duplicates(rows, lambda r: r["code"], problems, "code", _("unit code"))

    groups = {group.code: group for group in UnitGroup.objects.all()}
    existing = {unit.code: unit for unit in Unit.objects.select_related("group", "successor")}
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

    # Successors: a unit of the file or of the database, never the unit itself, never a loop.
    file_codes = {item["code"] for item in parsed if item["code"]}
    successor_of = {code: unit.successor.code for code, unit in existing.items() if unit.successor}
    for item in parsed:
        if item["code"] and has_successor:
            successor_of.pop(item["code"], None)
            if item["successor"]:
                successor_of[item["code"]] = item["successor"]
    for item in parsed:
        code, successor, row = item["code"], item["successor"], item["row"]
        if not successor or not code:
            continue
        if successor == code:
            problems.add(row.number, "successor", _("a unit cannot succeed itself"))
        elif successor not in file_codes and successor not in existing:
            problems.add(row.number, "successor", _("unknown unit %(code)r") % {"code": successor})
        else:
            seen = {code}
            current = successor
            while current in successor_of and current not in seen:
                seen.add(current)
                current = successor_of[current]
            if current in seen:
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
            unit = units[item["code"]]
            successor = units[item["successor"]] if item["successor"] else None
            if assign_changed(unit, {"successor": successor}):
                unit.save(update_fields=["successor"])
                if item["code"] in existing and not item.get("counted"):
                    report.updated += 1
                    report.unchanged -= 1
    report.lines.insert(0, report.summary(_("units")))
    return report
