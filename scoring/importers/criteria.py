"""``import_criteria``: the criteria tree of one group in one year.

The file is the whole tree: criteria of the set missing from the file are removed. Refused once
the set has scores, since scores would then point at changed criteria.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _

from scoring import calculation
from scoring.models import (
    LEAF_SOURCE_FIELDS,
    RULE_FIELDS,
    SIPAS_ELEMENTS,
    CriteriaSet,
    Criterion,
    Direction,
    Kind,
    Round,
    Rule,
    UnitGroup,
)

from .base import (
    MAX_FIGURE_VALUE,
    ImportFailed,
    Problems,
    Report,
    assign_changed,
    check_duplicates,
    parse_decimal,
    parse_text,
    read_table,
)

REQUIRED = ("code", "parent", "title", "max_points", "kind")
OPTIONAL = ("guidance", "previous_code", *LEAF_SOURCE_FIELDS)
_CODE = re.compile(r"^[0-9A-Za-z]+(?:[.\-_][0-9A-Za-z]+)*$")


def get_group(code: str) -> UnitGroup:
    try:
        return UnitGroup.objects.get(code=code)
    except UnitGroup.DoesNotExist:
        raise ImportFailed.whole_file(
            _("unknown group %(group)r: import the units first (import_units)") % {"group": code}
        ) from None


def get_set(year: int, group_code: str) -> CriteriaSet:
    """The criteria set of a year and group, or a clear refusal."""
    try:
        return CriteriaSet.objects.select_related("round", "group").get(
            round__year=year, group__code=group_code
        )
    except CriteriaSet.DoesNotExist:
        get_group(group_code)
        raise ImportFailed.whole_file(
            _(
                "there is no criteria set for %(year)s and group %(group)r: import the "
                "criteria first (import_criteria)"
            )
            % {"year": year, "group": group_code}
        ) from None


def _code(row, column, problems, *, required=True) -> str:
    text = row[column]
    if text == "":
        if required:
            problems.add(row.number, column, _("a value is required"))
        return ""
    if len(text) > 32 or not _CODE.match(text):
        problems.add(
            row.number,
            column,
            _("%(value)r is not a criterion code (e.g. 1, 1.2, 1.2.3)") % {"value": text},
        )
        return ""
    return text


def _check_rule(item: dict, problems: Problems) -> None:
    """A target leaf's rule (``target``, ``rule``, ``steps``, ``direction``, ``unit_label``)
    and a survey leaf's ``sipas_element``, each named by its column when wrong; neither is
    allowed on another kind of leaf or on a parent."""
    row, kind = item["row"], item["kind"] if item.get("is_leaf") else ""
    given = [column for column in RULE_FIELDS if row[column]]
    if kind != Kind.TARGET:
        for column in given:
            problems.add(row.number, column, _("only a target leaf has a rule; leave it empty"))
    else:
        rule = item["rule"]
        if rule == "":
            problems.add(row.number, "rule", _("a target leaf needs a rule: proportional or steps"))
        elif rule not in Rule.values:
            problems.add(
                row.number,
                "rule",
                _("%(value)r is not a rule: use proportional or steps") % {"value": row["rule"]},
            )
        if item["direction"] not in Direction.values:
            problems.add(
                row.number,
                "direction",
                _("%(value)r is not a direction: use higher or lower")
                % {"value": row["direction"]},
            )
        if rule == Rule.PROPORTIONAL and item["target"] is None and not row["target"]:
            problems.add(row.number, "target", _("a proportional rule needs a target"))
        if rule == Rule.PROPORTIONAL and row["steps"]:
            problems.add(row.number, "steps", _("steps belong to the steps rule; leave it empty"))
        if rule == Rule.STEPS:
            _check_steps(item, problems)
    element = item["sipas_element"]
    if element and kind != Kind.SURVEY:
        problems.add(row.number, "sipas_element", _("only a survey leaf can be fed from SIPAS"))
    elif element and element not in SIPAS_ELEMENTS:
        problems.add(
            row.number,
            "sipas_element",
            _("%(value)r is not a SIPAS element: use %(elements)s")
            % {"value": row["sipas_element"], "elements": ", ".join(SIPAS_ELEMENTS)},
        )


def _check_steps(item: dict, problems: Problems) -> None:
    row = item["row"]
    if not row["steps"]:
        problems.add(row.number, "steps", _("the steps rule needs steps, e.g. 95:2;90:1.5;80:1"))
        return
    try:
        steps = calculation.parse_steps(row["steps"])
    except calculation.CalculationError:
        problems.add(
            row.number,
            "steps",
            _("%(value)r: write threshold:points pairs separated by ';', e.g. 95:2;90:1.5")
            % {"value": row["steps"]},
        )
        return
    maximum = item["max_points"]
    for threshold, points in steps:
        if points.as_tuple().exponent < -2 or threshold.as_tuple().exponent < -2:
            problems.add(row.number, "steps", _("use at most two decimals in the steps"))
            return
        if maximum is not None and points > maximum:
            problems.add(
                row.number,
                "steps",
                _("the step %(threshold)s:%(points)s is worth more than the leaf (%(maximum)s)")
                % {"threshold": threshold, "points": points, "maximum": maximum},
            )


def import_criteria(path, *, year: int, group: str) -> Report:
    rows = read_table(path, required=REQUIRED, optional=OPTIONAL, multiline=("guidance",))
    group_obj = get_group(group)
    problems = Problems()

    # An optional column left out of the file leaves that attribute as it is.
    optional_given = {name for name in OPTIONAL if name in rows[0].values}
    items = []
    for row in rows:
        kind = row["kind"].lower()
        if kind and kind not in Kind.values:
            problems.add(
                row.number,
                "kind",
                _("%(value)r is not a kind: use self, agency, target, survey, bonus or penalty")
                % {"value": row["kind"]},
            )
        items.append(
            {
                "row": row,
                "code": _code(row, "code", problems),
                "parent": _code(row, "parent", problems, required=False),
                "title": parse_text(row, "title", problems, max_length=500),
                "guidance": parse_text(row, "guidance", problems, required=False, max_length=5000),
                "max_points": parse_decimal(row, "max_points", problems),
                "kind": kind,
                "previous_code": _code(row, "previous_code", problems, required=False),
                "target": parse_decimal(row, "target", problems, largest=MAX_FIGURE_VALUE),
                "rule": row["rule"].lower(),
                "steps": row["steps"],
                "direction": row["direction"].lower() or Direction.HIGHER,
                "unit_label": parse_text(
                    row, "unit_label", problems, required=False, max_length=20
                ),
                "sipas_element": row["sipas_element"].lower(),
            }
        )
    check_duplicates(rows, lambda r: r["code"], problems, "code", _("criterion code"))

    by_code = {}
    for item in items:
        by_code.setdefault(item["code"], item)
    children: dict[str, list[dict]] = {}
    for item in items:
        parent = item["parent"]
        if not parent:
            continue
        if parent == item["code"]:
            problems.add(item["row"].number, "parent", _("a criterion cannot be its own parent"))
        elif parent not in by_code:
            problems.add(
                item["row"].number,
                "parent",
                _("parent %(code)r does not exist in the file") % {"code": parent},
            )
        else:
            children.setdefault(parent, []).append(item)

    # A cycle: following the parents never reaches a field.
    in_cycle = set()
    for item in items:
        seen = []
        current = item
        while current and current["parent"] and current["code"] not in seen:
            seen.append(current["code"])
            current = by_code.get(current["parent"])
        if current and current["code"] in seen and item["code"] not in in_cycle:
            cycle = seen[seen.index(current["code"]) :]
            in_cycle.update(cycle)
            problems.add(
                item["row"].number,
                "parent",
                _("the parents go round in a cycle: %(cycle)s")
                % {"cycle": " → ".join([*cycle, cycle[0]])},
            )

    for item in items:
        row, code = item["row"], item["code"]
        is_leaf = code not in children
        item["is_leaf"] = is_leaf
        if is_leaf:
            item["kind"] = item["kind"] or Kind.SELF
            if item["max_points"] is None and row["max_points"] == "":
                problems.add(row.number, "max_points", _("a leaf needs its maximum points"))
        elif item["kind"]:
            problems.add(
                row.number,
                "kind",
                _("the kind is given on leaves only; %(code)s has sub-criteria") % {"code": code},
            )

    for item in items:
        _check_rule(item, problems)

    # Parents: empty (the sum of the children) or exactly that sum.
    def total(code: str, trail: frozenset = frozenset()) -> Decimal | None:
        item = by_code[code]
        if item["is_leaf"]:
            return item["max_points"]
        if code in trail or code in in_cycle:
            return None
        sums = [total(child["code"], trail | {code}) for child in children[code]]
        if any(value is None for value in sums):
            return None
        computed = sum(sums, Decimal("0.00"))
        given = item["max_points"]
        if given is not None and given != computed:
            problems.add(
                item["row"].number,
                "max_points",
                _("%(given)s is not the sum of the sub-criteria's maxima (%(sum)s)")
                % {"given": given, "sum": computed},
            )
        item["computed_max"] = computed
        return computed

    for item in items:
        if item["code"] and not item["is_leaf"] and "computed_max" not in item:
            total(item["code"])

    criteria_set = CriteriaSet.objects.filter(round__year=year, group=group_obj).first()
    frozen = bool(criteria_set and criteria_set.tree_frozen())

    previous = {}
    if any(item["previous_code"] for item in items):
        previous_set = CriteriaSet.objects.filter(round__year=year - 1, group=group_obj).first()
        if previous_set is not None:
            previous = {c.code: c for c in previous_set.criteria.all()}
        for item in items:
            if not item["previous_code"]:
                continue
            if previous_set is None:
                problems.add(
                    item["row"].number,
                    "previous_code",
                    _("there is no criteria set of %(year)s for this group to link to")
                    % {"year": year - 1},
                )
            elif item["previous_code"] not in previous:
                problems.add(
                    item["row"].number,
                    "previous_code",
                    _("%(code)r is not a criterion of %(year)s")
                    % {"code": item["previous_code"], "year": year - 1},
                )
    problems.raise_if_any()

    return _write(
        items,
        year=year,
        group=group_obj,
        criteria_set=criteria_set,
        previous=previous,
        frozen=frozen,
        optional_given=optional_given,
    )


def _rule_values(item: dict) -> dict:
    """The rule and SIPAS columns as the criterion stores them (empty unless they apply)."""
    target = item["is_leaf"] and item["kind"] == Kind.TARGET
    survey = item["is_leaf"] and item["kind"] == Kind.SURVEY
    return {
        "target": item["target"] if target else None,
        "rule": item["rule"] if target else "",
        "steps": item["steps"] if target and item["rule"] == Rule.STEPS else "",
        "direction": item["direction"] if target else Direction.HIGHER,
        "unit_label": item["unit_label"] if target else "",
        "sipas_element": item["sipas_element"] if survey else "",
    }


def _write(items, *, year, group, criteria_set, previous, frozen, optional_given) -> Report:
    report = Report()
    with transaction.atomic():
        round_obj, created = Round.objects.get_or_create(year=year)
        if created:
            report.lines.append(_("round %(year)s created") % {"year": year})
        if criteria_set is None:
            criteria_set = CriteriaSet.objects.create(round=round_obj, group=group)
            criteria_set.create_default_bands()
            report.lines.append(
                _("criteria set %(year)s %(group)s created with the default bands")
                % {"year": year, "group": group.code}
            )
        existing = {c.code: c for c in criteria_set.criteria.all()}
        saved = {}
        for position, item in enumerate(items, start=1):
            values = {
                "title": item["title"],
                "guidance": item["guidance"],
                "max_points": item["max_points"] if item["is_leaf"] else item["computed_max"],
                "kind": item["kind"] if item["is_leaf"] else "",
                "is_leaf": item["is_leaf"],
                "position": position,
                "previous": previous.get(item["previous_code"]),
                **_rule_values(item),
            }
            criterion = existing.get(item["code"])
            if criterion is not None:
                if "guidance" not in optional_given:
                    del values["guidance"]
                if "previous_code" not in optional_given:
                    del values["previous"]
                for column in LEAF_SOURCE_FIELDS:
                    # A column left out keeps what the leaf has, unless the kind changed.
                    if column not in optional_given and criterion.kind == values["kind"]:
                        del values[column]
            if criterion is None:
                criterion = Criterion(criteria_set=criteria_set, code=item["code"], **values)
                criterion.save()
                report.created += 1
            elif assign_changed(criterion, values):
                criterion.save()
                report.updated += 1
                item["counted"] = True
            else:
                report.unchanged += 1
            saved[item["code"]] = criterion
        for item in items:
            criterion = saved[item["code"]]
            parent = saved.get(item["parent"]) if item["parent"] else None
            if criterion.parent_id != (parent.pk if parent else None):
                criterion.parent = parent
                criterion.save(update_fields=["parent"])
                if item["code"] in existing and not item.get("counted"):
                    report.updated += 1
                    report.unchanged -= 1
        stale = [c.pk for code, c in existing.items() if code not in saved]
        if frozen and (report.created or report.updated or stale):
            # Scores point at these criteria: the same file again is fine, a change is not.
            raise ImportFailed.whole_file(
                _(
                    "the criteria set of %(year)s, group %(group)r, already has scores or "
                    "a publication: its criteria can no longer be changed"
                )
                % {"year": year, "group": group.code}
            )
        if stale:
            Criterion.objects.filter(pk__in=stale).delete()
            report.deleted = len(stale)
    report.lines.insert(0, report.summary(_("criteria")))
    return report
