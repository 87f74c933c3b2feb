"""Live results of a criteria set, read from the current scores through ``calculation``.

Publishing freezes these; the council's preview shows them marked as not published. Five
queries whatever the size of the group: criteria, bands, assessments with units, scores, and
the group's SIPAS results (for survey leaves fed from SIPAS).
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
    sipas = (
        {
            row.unit_id: row
            for row in SipasResult.objects.filter(
                round=criteria_set.round_id, group=criteria_set.group_id
            )
        }
        if fed
        else {}
    )

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
    indices = {s.unit_id: s.sipas_index() for s in found}
    ranks = {
        r.key: r.rank
        for r in calculation.rank((str(s.unit_id), s.unit.name, indices[s.unit_id]) for s in found)
    }
    rows = [
        SipasRow(s.unit, s.elements(), indices[s.unit_id], ranks[str(s.unit_id)]) for s in found
    ]
    rows.sort(key=lambda row: (row.rank, calculation.name_sort_key(row.unit.name)))
    return rows
