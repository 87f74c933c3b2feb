"""Live results of a criteria set, read from the current scores through ``calculation``.

Publishing freezes these; the council's preview shows them marked as not published. Four queries
whatever the size of the group: criteria, bands, assessments with units, scores.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import NamedTuple

from . import calculation
from .models import Assessment, CriteriaSet, Criterion, Round, Score, SipasResult, Unit


class ScoreValues(NamedTuple):
    """What results need of a score: read as plain values (a national group has 300,000)."""

    self_score: Decimal | None
    appraisal_1: Decimal | None
    appraisal_2: Decimal | None
    not_applicable: bool
    note: str

    @property
    def final_score(self) -> Decimal | None:
        return calculation.final_score(self.appraisal_1, self.appraisal_2)


@dataclass
class UnitRow:
    unit: Unit
    assessment: Assessment
    result: calculation.UnitResult
    band: calculation.BandRule | None
    rank: int
    scores: dict[int, ScoreValues]  # criterion id → score


@dataclass
class GroupResults:
    criteria_set: CriteriaSet
    criteria: list[Criterion]
    bands: list[calculation.BandRule]
    rows: list[UnitRow] = field(default_factory=list)
    gaps: list[tuple[Unit, list[str]]] = field(default_factory=list)
    unscorable: list[Unit] = field(default_factory=list)

    @property
    def fields(self) -> list[Criterion]:
        return [c for c in self.criteria if c.parent_id is None]

    @property
    def leaves(self) -> list[Criterion]:
        return [c for c in self.criteria if c.is_leaf]

    @property
    def complete(self) -> bool:
        return not self.gaps and not self.unscorable


def group_results(criteria_set: CriteriaSet) -> GroupResults:
    criteria = criteria_set.criteria.select_related("previous").tree()
    bands = [calculation.BandRule(b.code, b.label, b.min_index) for b in criteria_set.bands.all()]
    results = GroupResults(criteria_set=criteria_set, criteria=criteria, bands=bands)
    leaves = results.leaves
    assessments = list(criteria_set.assessments.select_related("unit"))
    scores: dict[int, dict[int, ScoreValues]] = {a.pk: {} for a in assessments}
    for assessment_id, criterion_id, *values in Score.objects.filter(
        assessment__criteria_set=criteria_set
    ).values_list(
        "assessment_id",
        "criterion_id",
        "self_score",
        "appraisal_1",
        "appraisal_2",
        "not_applicable",
        "note",
    ):
        scores[assessment_id][criterion_id] = ScoreValues(*values)

    static = [(leaf.pk, leaf.code, leaf.field.code, leaf.kind, leaf.max_points) for leaf in leaves]
    computed = []
    for assessment in assessments:
        unit_scores = scores[assessment.pk]
        inputs = []
        for pk, code, field_code, kind, max_points in static:
            score = unit_scores.get(pk)
            if score is None:
                inputs.append(calculation.Leaf(code, field_code, kind, max_points))
            else:
                inputs.append(
                    calculation.Leaf(
                        code, field_code, kind, max_points, score.final_score, score.not_applicable
                    )
                )
        try:
            result = calculation.unit_result(
                inputs, bonus_cap=criteria_set.bonus_cap, penalty_cap=criteria_set.penalty_cap
            )
        except calculation.MissingFinalScores as missing:
            results.gaps.append((assessment.unit, missing.codes))
            continue
        except calculation.NoApplicableLeaves:
            results.unscorable.append(assessment.unit)
            continue
        computed.append((assessment, result, unit_scores))

    ranks = {
        r.key: r.rank
        for r in calculation.rank(
            (str(a.unit_id), a.unit.name, result.index) for a, result, _s in computed
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
        )
        for assessment, result, unit_scores in computed
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
    """SIPAS indices of a group in a year, ranked like the PAR Index."""
    found = list(
        SipasResult.objects.filter(round=round_obj, group_id=group_id).select_related("unit")
    )
    indices = {s.unit_id: calculation.sipas_index(s.elements()) for s in found}
    ranks = {
        r.key: r.rank
        for r in calculation.rank((str(s.unit_id), s.unit.name, indices[s.unit_id]) for s in found)
    }
    rows = [
        SipasRow(s.unit, s.elements(), indices[s.unit_id], ranks[str(s.unit_id)]) for s in found
    ]
    rows.sort(key=lambda row: (row.rank, calculation.name_sort_key(row.unit.name)))
    return rows
