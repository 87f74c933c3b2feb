"""``import_scores``: self and final scores of units on the leaves of a set (history, surveys).

The final score is written as the round-1 appraisal, and any round-2 appraisal is cleared, so the
leaf's final score is exactly the file's value; the history of the score keeps what was there.

Two paths give the same result for the same file (docs/imports.md, "Import scores"): on
PostgreSQL the file is staged in a temporary table and checked and written set-based
(``staging``: a national file of 300,000 rows in seconds, an unchanged file recognised without
loading a score); elsewhere (SQLite) every row is checked and written from Python, here. The row
checks below are the one definition of the messages: the staged path takes its messages from
these functions too (per distinct value, not per row), so the two cannot drift apart.
"""

from __future__ import annotations

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_update_with_history

from operations.bulk import insert_rows, new_row_values, record_creations
from scoring.calculation import FIGURE_KINDS, SELF_SCORED_KINDS
from scoring.models import Assessment, Criterion, Score, Unit

from .base import (
    MAX_FIGURE_VALUE,
    NA,
    Problems,
    Report,
    check_duplicates,
    check_unit,
    parse_decimal,
    parse_text,
    read_table,
)
from .criteria import get_set

REQUIRED = ("unit", "criterion", "self_score", "final_score")
OPTIONAL = ("note", "self_figure", "final_figure")
MULTILINE = ("note",)
# Every column an import writes, the note last (it is left as it is when the file has none).
FIELDS = (
    "self_score",
    "self_figure",
    "appraisal_1",
    "figure_1",
    "appraisal_2",
    "figure_2",
    "not_applicable",
    "note",
)
NOTE_MAX_LENGTH = 5000
PROGRESS_EVERY = 50_000


def import_scores(path, *, year: int, group: str, progress=None) -> Report:
    """Import a scores file: staged in SQL on PostgreSQL, row by row in Python elsewhere."""
    if connection.vendor == "postgresql":
        from .staging import import_scores_staged

        return import_scores_staged(path, year=year, group=group, progress=progress)
    return import_scores_python(path, year=year, group=group, progress=progress)


def import_scores_python(path, *, year: int, group: str, progress=None) -> Report:
    """The row-by-row path: every row read into Python, checked, then written."""
    rows = read_table(path, required=REQUIRED, optional=OPTIONAL, multiline=MULTILINE)
    criteria_set = get_set(year, group)
    return import_rows(rows, criteria_set, year=year, group=group, progress=progress)


def taken_message(year: int) -> str:
    """What ``check_unit`` says of a unit already assessed in another group that year."""
    return _("%(code)s is already assessed in group %(group)r in {year}").format(year=year)


def units_elsewhere(criteria_set, unit_codes) -> dict[str, str]:
    """Unit code → code of the other group in which the unit is already assessed this round."""
    return dict(
        Assessment.objects.filter(criteria_set__round=criteria_set.round, unit__code__in=unit_codes)
        .exclude(criteria_set=criteria_set)
        .values_list("unit__code", "criteria_set__group__code")
    )


def leaves_of(criteria_set) -> dict[str, Criterion]:
    return {c.code: c for c in criteria_set.criteria.all()}


def import_rows(rows, criteria_set, *, year: int, group: str, progress=None) -> Report:
    """Check rows read by ``read_table`` (all-or-nothing) and write them from Python."""
    problems = Problems()
    leaves = leaves_of(criteria_set)
    units = {
        u.code: u
        for u in Unit.objects.select_related("group").filter(code__in={r["unit"] for r in rows})
    }
    elsewhere = units_elsewhere(criteria_set, units)
    taken = taken_message(year)
    has_note = "note" in rows[0].values  # an optional column left out leaves notes as they are
    values = []
    for count, row in enumerate(rows, start=1):
        if progress and count % PROGRESS_EVERY == 0:
            progress(_("%(count)d rows checked") % {"count": count})
        unit = check_unit(row, units, criteria_set.group, elsewhere, problems, taken)
        criterion, message = check_criterion(row["criterion"], leaves, year, group)
        if message:
            problems.add(row.number, "criterion", message)
        maximum = criterion.max_points if criterion else None
        kind = criterion.kind if criterion else None
        self_score = parse_decimal(row, "self_score", problems, maximum=maximum)
        not_applicable = row["final_score"].lower() == NA
        final = (
            None if not_applicable else parse_decimal(row, "final_score", problems, maximum=maximum)
        )
        self_figure = parse_decimal(row, "self_figure", problems, largest=MAX_FIGURE_VALUE)
        final_figure = parse_decimal(row, "final_figure", problems, largest=MAX_FIGURE_VALUE)
        if kind is not None:
            _check_kind(row, criterion, problems, not_applicable)
        if kind in FIGURE_KINDS:
            # A target leaf's points follow from its figures by the leaf's rule.
            self_score = criterion.points_for(self_figure)
            final = None if not_applicable else criterion.points_for(final_figure)
        note = parse_text(row, "note", problems, required=False, max_length=NOTE_MAX_LENGTH)
        if unit and criterion:
            fields = {
                "self_score": self_score,
                "self_figure": self_figure,
                "appraisal_1": final,
                "figure_1": None if not_applicable else final_figure,
                "appraisal_2": None,
                "figure_2": None,
                "not_applicable": not_applicable,
            }
            if has_note:
                fields["note"] = note
            values.append((unit, criterion, fields))
    check_duplicates(
        rows, lambda r: (r["unit"], r["criterion"]), problems, "criterion", duplicate_what()
    )
    problems.raise_if_any()
    return _write(criteria_set, values, has_note)


def duplicate_what() -> str:
    """What ``check_duplicates`` calls the key a row of this file repeats."""
    return _("unit and criterion")


def check_criterion(code: str, leaves: dict, year: int, group: str):
    """(the leaf, None) for the code of a leaf of the set; else (None, what is wrong)."""
    criterion = leaves.get(code)
    if code == "":
        return None, _("a value is required")
    if criterion is None:
        return None, _("unknown criterion %(code)r in the %(year)s set of %(group)r") % {
            "code": code,
            "year": year,
            "group": group,
        }
    if not criterion.is_leaf:
        return None, _("%(code)s has sub-criteria: scores go on its sub-criteria") % {
            "code": criterion.code
        }
    return criterion, None


def target_message(criterion) -> str:
    return _(
        "%(code)s is a target leaf: give the figures (self_figure, final_figure); its points "
        "follow from its rule"
    ) % {"code": criterion.code}


def figure_message(criterion) -> str:
    return _("only a target leaf takes a figure; %(code)s is of kind “%(kind)s”") % {
        "code": criterion.code,
        "kind": criterion.get_kind_display(),
    }


def no_self_score_message(criterion) -> str:
    return _("%(code)s (%(kind)s) takes no self score: leave it empty") % {
        "code": criterion.code,
        "kind": criterion.get_kind_display(),
    }


def sipas_message(criterion) -> str:
    return _(
        "%(code)s is fed from SIPAS (%(element)s): its points are derived from the unit's "
        "SIPAS, not typed; leave it empty"
    ) % {"code": criterion.code, "element": criterion.sipas_element}


def note_too_long_message() -> str:
    return _("the text is longer than %(limit)d characters") % {"limit": NOTE_MAX_LENGTH}


def _check_kind(row, criterion, problems, not_applicable: bool) -> None:
    """What each kind of leaf takes: a target leaf its figures and never points; an agency
    leaf no self score; a survey leaf no self score, and no final score when it is fed from
    SIPAS (derived); no other leaf a figure. ``na`` marks any leaf not applicable.

    The staged path (``staging``) tests the same conditions in SQL, in this order."""
    kind = criterion.kind
    if kind in FIGURE_KINDS:
        for column in ("self_score", "final_score"):
            if row[column] and not (column == "final_score" and not_applicable):
                problems.add(row.number, column, target_message(criterion))
        return
    for column in ("self_figure", "final_figure"):
        if row[column]:
            problems.add(row.number, column, figure_message(criterion))
    if row["self_score"] and kind not in SELF_SCORED_KINDS:
        problems.add(row.number, "self_score", no_self_score_message(criterion))
    if criterion.sipas_element and row["final_score"] and not not_applicable:
        problems.add(row.number, "final_score", sipas_message(criterion))


def _create(criteria_set, to_create) -> None:
    """Insert new scores and their creation history below the ORM (3,300 × 90 rows in
    seconds): the file's values, the model's defaults for every other column."""
    moment = timezone.now()
    # Every row of a file gives the same columns (the note only when the file has one).
    given = {"assessment_id", "criterion_id", *to_create[0][2]}
    template = new_row_values(Score, dict.fromkeys(given), moment)  # the defaults, once
    columns = list(template)
    rows = []
    for assessment_id, criterion_id, fields in to_create:
        row = {**template, **fields, "assessment_id": assessment_id, "criterion_id": criterion_id}
        rows.append(tuple(row[name] for name in columns))
    insert_rows(Score, columns, rows)
    record_creations(Score.objects.filter(assessment__criteria_set=criteria_set), "import", moment)


def _write(criteria_set, values, has_note) -> Report:
    report = Report()
    with transaction.atomic():
        assessments = {a.unit_id: a for a in criteria_set.assessments.all()}
        new_units = {unit.pk: unit for unit, _c, _v in values if unit.pk not in assessments}
        if new_units:
            Assessment.objects.bulk_create(
                Assessment(criteria_set=criteria_set, unit=unit) for unit in new_units.values()
            )
            assessments = {a.unit_id: a for a in criteria_set.assessments.all()}
            report.lines.append(assessments_created(len(new_units)))
        existing = {
            (s.assessment_id, s.criterion_id): s
            for s in Score.objects.filter(assessment__criteria_set=criteria_set)
        }
        to_create, to_update = [], []
        for unit, criterion, fields in values:
            assessment = assessments[unit.pk]
            score = existing.get((assessment.pk, criterion.pk))
            if score is None:
                to_create.append((assessment.pk, criterion.pk, fields))
                continue
            changed = False
            for name, value in fields.items():
                if getattr(score, name) != value:
                    setattr(score, name, value)
                    changed = True
            if changed:
                score.version += 1
                to_update.append(score)
            else:
                report.unchanged += 1
        if to_create:
            _create(criteria_set, to_create)
        if to_update:
            bulk_update_with_history(to_update, Score, updated_fields(has_note), batch_size=2000)
        report.created = len(to_create)
        report.updated = len(to_update)
    report.lines.insert(0, report.summary(_("scores")))
    return report


def updated_fields(has_note: bool) -> list[str]:
    """The columns an update writes: the file's, and the version it bumps."""
    return [*FIELDS, "version"] if has_note else [*FIELDS[:-1], "version"]


def assessments_created(count: int) -> str:
    return _("%(count)d assessments created") % {"count": count}
