"""Live results of a criteria set, read from the current scores through ``calculation``.

Publishing freezes these; the council's preview shows them marked as not published. Five
queries whatever the size of the group: criteria, bands, assessments with units, scores, and
the group's SIPAS results (for survey leaves fed from SIPAS).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from django.db import connection

from . import calculation
from .calculation import ZERO
from .models import (
    SIPAS_ELEMENTS,
    Assessment,
    CriteriaSet,
    Criterion,
    Round,
    Score,
    SipasResult,
    Unit,
)


class ScoreValues(NamedTuple):
    """What results need of a score: read as plain values (a national group has 300,000)."""

    self_score: Decimal | None
    appraisal_1: Decimal | None
    appraisal_2: Decimal | None
    not_applicable: bool
    note: str
    self_figure: Decimal | None
    figure_1: Decimal | None
    figure_2: Decimal | None

    @property
    def final_score(self) -> Decimal | None:
        return calculation.final_score(self.appraisal_1, self.appraisal_2)

    @property
    def final_figure(self) -> Decimal | None:
        return calculation.final_score(self.figure_1, self.figure_2)


NO_SCORE = ScoreValues(None, None, None, False, "", None, None, None)


@dataclass
class UnitRow:
    unit: Unit
    assessment: Assessment
    result: calculation.UnitResult
    band: calculation.BandRule | None
    rank: int
    scores: dict[int, ScoreValues]  # criterion id → score
    finals: dict[int, Decimal | None]  # criterion id → final score (SIPAS-fed leaves derived)


@dataclass
class GroupResults:
    criteria_set: CriteriaSet
    criteria: list[Criterion]
    bands: list[calculation.BandRule]
    rows: list[UnitRow] = field(default_factory=list)
    gaps: list[tuple[Unit, list[str]]] = field(default_factory=list)
    # Units whose SIPAS lacks what a survey leaf is fed from: (unit, leaf codes).
    sipas_gaps: list[tuple[Unit, list[str]]] = field(default_factory=list)
    unscorable: list[Unit] = field(default_factory=list)

    @property
    def fields(self) -> list[Criterion]:
        return [c for c in self.criteria if c.parent_id is None]

    @property
    def leaves(self) -> list[Criterion]:
        return [c for c in self.criteria if c.is_leaf]

    @property
    def complete(self) -> bool:
        return not self.gaps and not self.sipas_gaps and not self.unscorable


def _sipas_by_unit(criteria_set: CriteriaSet) -> dict[int, SipasResult]:
    """Unit id → its SIPAS result in the set's year and group (what survey leaves are fed from)."""
    return {
        row.unit_id: row
        for row in SipasResult.objects.filter(
            round=criteria_set.round_id, group=criteria_set.group_id
        )
    }


def group_results(criteria_set: CriteriaSet, units: set[int] | None = None) -> GroupResults:
    """The live results of a set (``units``: only these unit ids, for a council member who
    follows some units; ranks are still among all the group's units)."""
    criteria = criteria_set.criteria.select_related("previous").tree()
    bands = [calculation.BandRule(b.code, b.label, b.min_index) for b in criteria_set.bands.all()]
    results = GroupResults(criteria_set=criteria_set, criteria=criteria, bands=bands)
    leaves = results.leaves
    assessments = list(criteria_set.assessments.select_related("unit"))
    scores: dict[int, dict[int, ScoreValues]] = {a.pk: {} for a in assessments}
    for assessment_id, criterion_id, *values in Score.objects.filter(
        assessment__criteria_set=criteria_set
    ).values_list("assessment_id", "criterion_id", *ScoreValues._fields):
        scores[assessment_id][criterion_id] = ScoreValues(*values)
    fed = [leaf for leaf in leaves if leaf.sipas_element]
    sipas = _sipas_by_unit(criteria_set) if fed else {}

    static = [(leaf.pk, leaf.code, leaf.field.code, leaf.kind, leaf.max_points) for leaf in leaves]
    computed = []
    for assessment in assessments:
        unit_scores = scores[assessment.pk]
        finals = {pk: score.final_score for pk, score in unit_scores.items()}
        missing_sipas = []
        for leaf in fed:
            if unit_scores.get(leaf.pk, NO_SCORE).not_applicable:
                continue
            result = sipas.get(assessment.unit_id)
            if result is None:
                finals[leaf.pk] = None
                missing_sipas.append(leaf.code)
            else:
                finals[leaf.pk] = calculation.sipas_points(
                    leaf.max_points, getattr(result, leaf.sipas_element)
                )
        inputs = [
            calculation.Leaf(
                code,
                field_code,
                kind,
                max_points,
                finals.get(pk),
                unit_scores.get(pk, NO_SCORE).not_applicable,
            )
            for pk, code, field_code, kind, max_points in static
        ]
        if missing_sipas:
            results.sipas_gaps.append((assessment.unit, missing_sipas))
        try:
            result = calculation.unit_result(
                inputs, bonus_cap=criteria_set.bonus_cap, penalty_cap=criteria_set.penalty_cap
            )
        except calculation.MissingFinalScores as missing:
            others = [code for code in missing.codes if code not in missing_sipas]
            if others:
                results.gaps.append((assessment.unit, others))
            continue
        except calculation.NoApplicableLeaves:
            results.unscorable.append(assessment.unit)
            continue
        computed.append((assessment, result, unit_scores, finals))

    ranks = {
        r.key: r.rank
        for r in calculation.rank(
            (str(a.unit_id), a.unit.name, result.index) for a, result, _s, _f in computed
        )
    }
    rows = [
        UnitRow(
            unit=assessment.unit,
            assessment=assessment,
            result=result,
            band=calculation.band_for(result.index, bands),
            rank=ranks[str(assessment.unit_id)],
            scores=unit_scores,
            finals=finals,
        )
        for assessment, result, unit_scores, finals in computed
        if units is None or assessment.unit_id in units
    ]
    rows.sort(key=lambda row: (row.rank, calculation.name_sort_key(row.unit.name)))
    results.rows = rows
    if units is not None:
        results.gaps = [(unit, codes) for unit, codes in results.gaps if unit.pk in units]
        results.sipas_gaps = [(u, codes) for u, codes in results.sipas_gaps if u.pk in units]
        results.unscorable = [unit for unit in results.unscorable if unit.pk in units]
    return results


class UnitRef(NamedTuple):
    """What a published row needs of a unit (a national group has 3,300: plain values)."""

    pk: int
    code: str
    name: str


def _hundredths(value) -> Decimal:
    """A sum of hundredths as the database returns it (int, Decimal, or an integral float on
    SQLite) → points."""
    return Decimal(int(value)).scaleb(-2).quantize(calculation.TWO_PLACES)


def _scored_sums(criteria_set: CriteriaSet, summed: list[Criterion]) -> dict[int, dict]:
    """Assessment id → field code → (points, maximum, leaves answered) over the ``summed``
    leaves, added up by the database with one GROUP BY: the final score (the round-2
    appraisal, else the round-1 one) and the maximum of every applicable leaf, and how many
    leaves have a final score or are not applicable. Summed in hundredths as integers, so the
    totals are exact on every backend (SQLite keeps decimals as binary floats)."""
    quote = connection.ops.quote_name
    codes = dict(enumerate(dict.fromkeys(leaf.field.code for leaf in summed)))
    fields = {code: number for number, code in codes.items()}
    # The leaves as a small table of literals (integers only, from the database).
    mapping = " UNION ALL ".join(
        f"SELECT {int(leaf.pk)} AS id, {fields[leaf.field.code]} AS field, "
        f"{int(leaf.max_points.scaleb(2))} AS maximum"
        for leaf in summed
    )
    final = "COALESCE(s.appraisal_2, s.appraisal_1)"
    sql = (
        f"SELECT s.assessment_id, m.field, "
        f"SUM(CASE WHEN s.not_applicable THEN 0 ELSE CAST(ROUND({final} * 100) AS BIGINT) END), "
        f"SUM(CASE WHEN s.not_applicable THEN 0 ELSE m.maximum END), "
        f"SUM(CASE WHEN s.not_applicable OR {final} IS NOT NULL THEN 1 ELSE 0 END) "
        f"FROM {quote(Score._meta.db_table)} s "
        f"JOIN {quote(Assessment._meta.db_table)} a ON a.id = s.assessment_id "
        f"JOIN ({mapping}) m ON m.id = s.criterion_id "
        f"WHERE a.criteria_set_id = %s GROUP BY s.assessment_id, m.field"
    )
    sums: dict[int, dict] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [criteria_set.pk])
        for assessment_id, field, points, maximum, answered in cursor.fetchall():
            sums.setdefault(assessment_id, {})[codes[field]] = (
                _hundredths(points or 0),
                _hundredths(maximum or 0),
                int(answered or 0),
            )
    return sums


def group_totals(criteria_set: CriteriaSet) -> GroupResults:
    """The results of a whole group as ``group_results`` gives them, without reading every
    score: the database sums each unit's fields (``_scored_sums``); only the bonus, penalty and
    SIPAS-fed leaves are read, and ``calculation.result_from_totals`` does the rest. Rows carry
    no scores (``scores`` is empty; ``finals`` holds the SIPAS-fed leaves' derived points).
    When anything is missing it returns ``group_results`` itself, whose gaps name every leaf.
    Tests hold both to the same numbers on both backends."""
    criteria = criteria_set.criteria.select_related("previous").tree()
    bands = [calculation.BandRule(b.code, b.label, b.min_index) for b in criteria_set.bands.all()]
    results = GroupResults(criteria_set=criteria_set, criteria=criteria, bands=bands)
    leaves = results.leaves
    summed = [
        leaf for leaf in leaves if leaf.kind in calculation.SCORED_KINDS and not leaf.sipas_element
    ]
    read = [leaf for leaf in leaves if leaf not in summed]  # bonus, penalty, SIPAS-fed
    expected: dict[str, int] = {}
    for leaf in summed:
        expected[leaf.field.code] = expected.get(leaf.field.code, 0) + 1
    field_order = list(dict.fromkeys(leaf.field.code for leaf in leaves))

    assessments = list(
        criteria_set.assessments.values_list("pk", "unit_id", "unit__code", "unit__name")
    )
    sums = _scored_sums(criteria_set, summed) if summed else {}
    few: dict[int, dict[int, ScoreValues]] = {}
    if read:
        for assessment_id, criterion_id, *values in Score.objects.filter(
            assessment__criteria_set=criteria_set, criterion__in=read
        ).values_list("assessment_id", "criterion_id", *ScoreValues._fields):
            few.setdefault(assessment_id, {})[criterion_id] = ScoreValues(*values)
    fed = [leaf for leaf in read if leaf.sipas_element]
    sipas = _sipas_by_unit(criteria_set) if fed else {}

    computed = []
    for assessment_id, unit_id, code, name in assessments:
        unit_sums = sums.get(assessment_id, {})
        if any(unit_sums.get(f, (0, 0, 0))[2] != count for f, count in expected.items()):
            return group_results(criteria_set)  # a gap: its message names the leaves
        scored = {
            f: calculation.FieldTotal(points, maximum)
            for f, (points, maximum, _answered) in unit_sums.items()
        }
        unit_scores = few.get(assessment_id, {})
        finals = {}
        adjustments = []
        for leaf in read:
            score = unit_scores.get(leaf.pk, NO_SCORE)
            if leaf.sipas_element:
                if score.not_applicable:
                    finals[leaf.pk] = score.final_score
                    continue
                result = sipas.get(unit_id)
                if result is None:
                    return group_results(criteria_set)
                points = calculation.sipas_points(
                    leaf.max_points, getattr(result, leaf.sipas_element)
                )
                finals[leaf.pk] = points
                total = scored.get(leaf.field.code, calculation.FieldTotal(ZERO, ZERO))
                scored[leaf.field.code] = calculation.FieldTotal(
                    total.points + points, total.max_points + leaf.max_points
                )
            else:
                adjustments.append(
                    calculation.Leaf(
                        leaf.code,
                        leaf.field.code,
                        leaf.kind,
                        leaf.max_points,
                        score.final_score,
                        score.not_applicable,
                    )
                )
        try:
            result = calculation.result_from_totals(
                field_order,
                scored,
                adjustments,
                bonus_cap=criteria_set.bonus_cap,
                penalty_cap=criteria_set.penalty_cap,
            )
        except calculation.NoApplicableLeaves:
            return group_results(criteria_set)
        computed.append((UnitRef(unit_id, code, name), assessment_id, result, finals))

    ranks = {
        r.key: r.rank
        for r in calculation.rank(
            (str(unit.pk), unit.name, result.index) for unit, _a, result, _f in computed
        )
    }
    rows = [
        UnitRow(
            unit=unit,
            assessment=assessment_id,
            result=result,
            band=calculation.band_for(result.index, bands),
            rank=ranks[str(unit.pk)],
            scores={},
            finals=finals,
        )
        for unit, assessment_id, result, finals in computed
    ]
    rows.sort(key=lambda row: (row.rank, calculation.name_sort_key(row.unit.name)))
    results.rows = rows
    return results


@dataclass
class SipasRow:
    unit: Unit
    elements: dict[str, Decimal]
    index: Decimal
    rank: int


def sipas_results(round_obj: Round, group_id: int) -> list[SipasRow]:
    """SIPAS indices of a group in a year, ranked like the PAR Index (read as plain values)."""
    found = []
    for unit_id, code, name, index, *elements in SipasResult.objects.filter(
        round=round_obj, group_id=group_id
    ).values_list("unit_id", "unit__code", "unit__name", "index", *SIPAS_ELEMENTS):
        values = dict(zip(SIPAS_ELEMENTS, elements, strict=True))
        # The stored exact index (from questionnaires), else the mean of the five elements.
        found.append(
            (
                UnitRef(unit_id, code, name),
                values,
                index if index is not None else calculation.sipas_index(values),
            )
        )
    ranks = {
        r.key: r.rank
        for r in calculation.rank((str(unit.pk), unit.name, index) for unit, _v, index in found)
    }
    rows = [SipasRow(unit, values, index, ranks[str(unit.pk)]) for unit, values, index in found]
    rows.sort(key=lambda row: (row.rank, calculation.name_sort_key(row.unit.name)))
    return rows
