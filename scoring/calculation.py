"""The one calculation of the PAR Index and SIPAS (docs/calculation.md).

Pure functions: ``Decimal`` in, ``Decimal`` out; no ORM, no I/O. The council's live preview,
publishing and the tests all call these, so the same scores always give the same numbers.

Rounding is exact: ratios are computed as fractions and rounded half-up to two decimals once,
so 89.995 is 90.00 (Rất tốt) and never 89.99 through a binary float or a 28-digit context.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from fractions import Fraction
from typing import NamedTuple

TWO_PLACES = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal("100.00")


class Kind(StrEnum):
    """The kinds of leaf: who gives the points and how they count. The one definition: the
    model's choices take these values (a guard test checks that they agree)."""

    SELF = "self"  # the unit self-assesses, the council appraises
    AGENCY = "agency"  # the appraising agency alone, from its own records; no self score
    TARGET = "target"  # a reported figure, verified by the council, turned into points by a rule
    SURVEY = "survey"  # imported from the sociological survey, or derived from SIPAS
    BONUS = "bonus"  # self-claimed, appraised; added up to the bonus cap
    PENALTY = "penalty"  # set by the council; subtracted up to the penalty cap


# The leaves that make up the points and the maximum (bonus and penalty are added or subtracted).
SCORED_KINDS = frozenset({Kind.SELF, Kind.AGENCY, Kind.TARGET, Kind.SURVEY})
# The leaves a unit gives points to itself; those it reports a figure for; those whose points
# the council types (a target leaf's points follow from the figure the council verifies).
SELF_SCORED_KINDS = frozenset({Kind.SELF, Kind.BONUS})
FIGURE_KINDS = frozenset({Kind.TARGET})
# What a unit enters (a score or a figure), and what a submission requires of it (bonus is
# optional).
ENTERED_KINDS = SELF_SCORED_KINDS | FIGURE_KINDS
REQUIRED_KINDS = frozenset({Kind.SELF, Kind.TARGET})
APPRAISED_KINDS = frozenset({Kind.SELF, Kind.AGENCY, Kind.BONUS, Kind.PENALTY})
# What the council must score in round 1 before the stage can close cleanly: bonus and penalty
# leaves may stay empty (they count 0), survey points are imported.
MUST_APPRAISE_KINDS = frozenset({Kind.SELF, Kind.AGENCY, Kind.TARGET})


class Rule(StrEnum):
    """How a ``target`` leaf turns a figure into points."""

    PROPORTIONAL = "proportional"  # max × min(figure ÷ target, 1), or its inverse for ``lower``
    STEPS = "steps"  # the first threshold the figure reaches gives its points


class Direction(StrEnum):
    """Whether a higher figure is better (a rate of online payment) or a lower one (late files)."""

    HIGHER = "higher"
    LOWER = "lower"


class CalculationError(ValueError):
    """Scores that cannot give an index; the message says why."""


class NoApplicableLeaves(CalculationError):
    pass


@dataclass(frozen=True)
class TargetRule:
    """A ``target`` leaf's rule: ``proportional`` against ``target``, or ``steps`` as
    (threshold, points) pairs tried in the order written; ``direction`` says which way is
    better."""

    rule: str
    target: Decimal | None = None
    direction: str = Direction.HIGHER
    steps: tuple[tuple[Decimal, Decimal], ...] = ()


def parse_steps(text: str) -> tuple[tuple[Decimal, Decimal], ...]:
    """``"95:2;90:1.5;80:1"`` → ((95, 2), (90, 1.5), (80, 1)), in the order written. Raises
    ``CalculationError`` naming the pair that is not ``threshold:points`` with numbers ≥ 0."""
    pairs = []
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        threshold, sep, points = part.partition(":")
        try:
            if not sep:
                raise ValueError
            pair = (Decimal(threshold.strip()), Decimal(points.strip()))
        except (ArithmeticError, ValueError):
            raise CalculationError(f"{part!r} is not threshold:points") from None
        if not all(value.is_finite() and value >= 0 for value in pair):
            raise CalculationError(f"{part!r}: both numbers must be 0 or more")
        pairs.append(pair)
    if not pairs:
        raise CalculationError("no threshold:points pair")
    return tuple(pairs)


def target_points(figure: Decimal, max_points: Decimal, rule: TargetRule) -> Decimal:
    """The points a reported ``figure`` earns on a ``target`` leaf: ``proportional`` gives
    max × min(figure ÷ target, 1) (``lower``: max × min(target ÷ figure, 1), a figure of 0
    earning the maximum); ``steps`` gives the points of the first pair whose threshold the
    figure reaches (≥ for ``higher``, ≤ for ``lower``), 0 when none. Rounded half-up to two
    decimals, never above the maximum."""
    if figure < 0:
        raise CalculationError("a figure is never negative")
    if rule.rule == Rule.PROPORTIONAL:
        if rule.target is None or rule.target < 0:
            raise CalculationError("a proportional rule needs a target of 0 or more")
        if rule.direction == Direction.LOWER:
            share = Fraction(1) if figure == 0 else min(Fraction(rule.target) / Fraction(figure), 1)
        else:
            if rule.target == 0:
                share = Fraction(1)
            else:
                share = min(Fraction(figure) / Fraction(rule.target), 1)
        return min(quantize(Fraction(max_points) * share), quantize(max_points))
    if rule.rule == Rule.STEPS:
        for threshold, points in rule.steps:
            reached = (
                figure <= threshold if rule.direction == Direction.LOWER else figure >= threshold
            )
            if reached:
                return min(quantize(points), quantize(max_points))
        return ZERO
    raise CalculationError(f"unknown rule {rule.rule!r}")


def sipas_points(max_points: Decimal, share: Decimal) -> Decimal:
    """A survey leaf fed from SIPAS: the leaf's maximum × the unit's element share (a
    percentage), rounded half-up to two decimals."""
    return quantize(Fraction(max_points) * Fraction(share) / 100)


class MissingFinalScores(CalculationError):
    def __init__(self, codes: Sequence[str]):
        self.codes = list(codes)
        super().__init__("no final score for: " + ", ".join(self.codes))


def quantize(value: Decimal | Fraction | int) -> Decimal:
    """Round half-up (away from zero on a tie) to two decimals, exactly."""
    if isinstance(value, Decimal):
        return value.quantize(TWO_PLACES, rounding=ROUND_HALF_UP)
    fraction = Fraction(value) * 100
    magnitude = abs(fraction)
    hundredths = magnitude.numerator * 2 + magnitude.denominator
    hundredths //= magnitude.denominator * 2  # floor(|x| + 1/2): half-up away from zero
    sign = -1 if fraction < 0 else 1
    return (Decimal(sign * hundredths) / 100).quantize(TWO_PLACES)


def final_score(appraisal_1: Decimal | None, appraisal_2: Decimal | None) -> Decimal | None:
    """The round-2 appraisal if there is one, else the round-1 appraisal."""
    return appraisal_2 if appraisal_2 is not None else appraisal_1


class Leaf(NamedTuple):
    """One leaf of a criteria set as scored for one unit (a tuple: a national group has
    hundreds of thousands)."""

    code: str
    field: str  # code of the top-level field the leaf belongs to
    kind: str
    max_points: Decimal
    final: Decimal | None = None
    not_applicable: bool = False


@dataclass(frozen=True)
class BandRule:
    code: str
    label: str
    min_index: Decimal


@dataclass(frozen=True)
class FieldResult:
    code: str
    points: Decimal
    max_points: Decimal
    index: Decimal | None  # None for a field without applicable scored leaves


@dataclass(frozen=True)
class UnitResult:
    points: Decimal
    max_points: Decimal
    index: Decimal
    fields: tuple[FieldResult, ...]


def default_cap(leaves: Iterable, kind: str) -> Decimal:
    """The sum of the maxima of the set's leaves of that kind (bonus or penalty): what a cap is
    when the set does not name one. ``leaves`` have ``kind`` and ``max_points``."""
    return sum((leaf.max_points for leaf in leaves if leaf.kind == kind), ZERO)


def maximum_by_kind(criteria: Iterable) -> dict[str, Decimal]:
    """The sum of the maxima of the leaves of each kind (every kind present, 0 for none):
    what the methodology page says comes from where. ``criteria`` have ``kind`` (empty on a
    parent) and ``max_points``."""
    totals = {kind.value: ZERO for kind in Kind}
    for criterion in criteria:
        if criterion.kind:
            totals[criterion.kind] += criterion.max_points
    return totals


def scored_maximum(criteria: Iterable) -> Decimal:
    """The maximum a field is measured on: its scored leaves (self, agency, target, survey);
    bonus and penalty points have no maximum of their own in the index."""
    return sum((c.max_points for c in criteria if c.kind in SCORED_KINDS), ZERO)


def largest_losses(fields: Iterable, count: int = 3) -> list:
    """The ``count`` fields where a unit lost most points (maximum − points), in tree order on a
    tie; fields without a maximum (bonus, penalty) are left out. ``fields`` have ``points``,
    ``max_points`` and ``position``."""
    scored = [f for f in fields if f.max_points > 0]
    return sorted(scored, key=lambda f: (-(f.max_points - f.points), f.position))[:count]


def leaf_loss(
    kind: str, max_points: Decimal, final: Decimal | None, not_applicable: bool = False
) -> Decimal | None:
    """The points a unit lost on one leaf, rounded half-up to two decimals: maximum − final
    score on a leaf that makes up the maximum (``SCORED_KINDS``; a missing final score counts
    0), the points subtracted on a penalty leaf; None for a leaf not applicable to the unit and
    for a bonus leaf (points not claimed are no loss)."""
    if not_applicable:
        return None
    final = final if final is not None else ZERO
    if kind in SCORED_KINDS:
        return quantize(max_points - final)
    if kind == Kind.PENALTY:
        return quantize(final)
    return None


def missing_final_scores(leaves: Iterable[Leaf]) -> list[str]:
    """Codes of applicable self, agency, target and survey leaves without a final score (a gap
    blocks publishing)."""
    return [
        leaf.code
        for leaf in leaves
        if leaf.kind in SCORED_KINDS and not leaf.not_applicable and leaf.final is None
    ]


def claimed_points(self_scores: Iterable[Decimal | None]) -> Decimal:
    """The points a unit claims in its self-assessment: the sum of its self scores (bonus
    claims included, before any cap), shown to the unit while it works."""
    return sum((score for score in self_scores if score is not None), ZERO)


def index_of(points: Decimal, max_points: Decimal) -> Decimal:
    """Points / maximum × 100, clamped to [0, 100], rounded half-up to two decimals."""
    if max_points <= 0:
        raise NoApplicableLeaves("the maximum is 0: no applicable scored leaf")
    if points <= 0:
        return ZERO
    if points >= max_points:
        return HUNDRED
    if points == points.quantize(TWO_PLACES) and max_points == max_points.quantize(TWO_PLACES):
        # Both in hundredths: the index in hundredths is p × 10000 / m, rounded half-up,
        # computed in integers (exact, and much faster than fractions).
        p, m = int(points.scaleb(2)), int(max_points.scaleb(2))
        return Decimal((2 * p * 10000 + m) // (2 * m)).scaleb(-2).quantize(TWO_PLACES)
    ratio = Fraction(points) * 100 / Fraction(max_points)
    return quantize(ratio)


def _capped_contributions(leaves: Sequence[Leaf], kind: str, cap: Decimal) -> dict[str, Decimal]:
    """What each bonus (penalty) leaf contributes once the cap is applied.

    The cap is used up in the order of the leaves, so the fields' points always add up to the
    unit's points exactly.
    """
    remaining = cap
    contributions = {}
    for leaf in leaves:
        if leaf.kind != kind or leaf.not_applicable:
            continue
        amount = min(leaf.final or ZERO, max(remaining, ZERO))
        contributions[leaf.code] = amount
        remaining -= amount
    return contributions


class FieldTotal(NamedTuple):
    """A field's applicable scored leaves (self, agency, target, survey) of one unit, summed:
    what the database adds up when a national group is published (``scoring.results``)."""

    points: Decimal  # the sum of their final scores
    max_points: Decimal  # the sum of their maxima


def scored_totals(leaves: Sequence[Leaf]) -> dict[str, FieldTotal]:
    """Field code → the sum of the final scores and of the maxima of its applicable scored
    leaves (a missing final score counts 0: ``missing_final_scores`` says which)."""
    totals: dict[str, FieldTotal] = {}
    for leaf in leaves:
        if leaf.kind in SCORED_KINDS and not leaf.not_applicable:
            points, max_points = totals.get(leaf.field, (ZERO, ZERO))
            totals[leaf.field] = FieldTotal(
                points + (leaf.final or ZERO), max_points + leaf.max_points
            )
    return totals


def unit_result(
    leaves: Sequence[Leaf],
    *,
    bonus_cap: Decimal | None = None,
    penalty_cap: Decimal | None = None,
) -> UnitResult:
    """Points, maximum, index and field results of one unit (docs/calculation.md).

    ``leaves`` are all the leaves of the set in tree order, each with the unit's final score.
    Raises ``MissingFinalScores`` for an applicable scored leaf without a final score,
    and ``NoApplicableLeaves`` when every scored leaf is not applicable.
    """
    missing = missing_final_scores(leaves)
    if missing:
        raise MissingFinalScores(missing)
    return result_from_totals(
        list(dict.fromkeys(leaf.field for leaf in leaves)),
        scored_totals(leaves),
        [leaf for leaf in leaves if leaf.kind not in SCORED_KINDS],
        bonus_cap=bonus_cap,
        penalty_cap=penalty_cap,
    )


def result_from_totals(
    fields: Sequence[str],
    scored: Mapping[str, FieldTotal],
    adjustments: Sequence[Leaf],
    *,
    bonus_cap: Decimal | None = None,
    penalty_cap: Decimal | None = None,
) -> UnitResult:
    """A unit's result from its fields' scored totals (``scored_totals``, or the same sums made
    in the database) and its bonus and penalty leaves (``adjustments``, in tree order), the
    caps applied to those (``None``: the sum of their maxima). ``fields``: every field code that
    has a leaf, in tree order (a field absent from ``scored`` has nothing applicable). Raises
    ``NoApplicableLeaves`` when the maximum is 0."""
    if bonus_cap is None:
        bonus_cap = default_cap(adjustments, Kind.BONUS)
    if penalty_cap is None:
        penalty_cap = default_cap(adjustments, Kind.PENALTY)
    bonus = _capped_contributions(adjustments, Kind.BONUS, bonus_cap)
    penalty = _capped_contributions(adjustments, Kind.PENALTY, penalty_cap)

    nothing = FieldTotal(ZERO, ZERO)
    field_points = {code: scored.get(code, nothing).points for code in fields}
    field_max = {code: scored.get(code, nothing).max_points for code in fields}
    for leaf in adjustments:
        if leaf.not_applicable:
            continue
        if leaf.kind == Kind.BONUS:
            field_points[leaf.field] += bonus[leaf.code]
        elif leaf.kind == Kind.PENALTY:
            field_points[leaf.field] -= penalty[leaf.code]

    points = sum(field_points.values(), ZERO)
    max_points = sum(field_max.values(), ZERO)
    if max_points <= 0:
        raise NoApplicableLeaves("every scored leaf is not applicable to this unit")
    fields_out = tuple(
        FieldResult(
            code=code,
            points=quantize(field_points[code]),
            max_points=quantize(field_max[code]),
            index=index_of(field_points[code], field_max[code]) if field_max[code] > 0 else None,
        )
        for code in field_points
    )
    return UnitResult(
        points=quantize(points),
        max_points=quantize(max_points),
        index=index_of(points, max_points),
        fields=fields_out,
    )


def band_for(index: Decimal, bands: Iterable[BandRule]) -> BandRule | None:
    """The band with the highest lower bound not above the (rounded) index."""
    eligible = [band for band in bands if band.min_index <= index]
    return max(eligible, key=lambda band: band.min_index, default=None)


def points_to_next_band(
    points: Decimal, max_points: Decimal, bands: Iterable
) -> tuple[object, Decimal] | None:
    """The next band above the unit's published index and the least points, in hundredths,
    that would lift the *published* (rounded) index to its lower bound with the same maximum;
    None in the top band. 179.98 of 200 needs 0.01: 179.99 / 200 publishes as 90.00.
    ``bands`` have ``min_index``."""
    index = index_of(points, max_points)
    above = sorted((band for band in bands if band.min_index > index), key=lambda b: b.min_index)
    if not above:
        return None
    band = above[0]
    p, m = int(points.scaleb(2)), int(max_points.scaleb(2))
    bound = int(band.min_index.scaleb(2))
    # index_of gives (2 × p × 10000 + m) // (2 × m) hundredths: at least the bound exactly when
    # p ≥ m × (2 × bound − 1) / 20000, so the least such p is that, rounded up.
    least = -(-(m * (2 * bound - 1)) // 20000)
    return band, Decimal(least - p).scaleb(-2).quantize(TWO_PLACES)


def name_sort_key(name: str) -> tuple[str, str]:
    """Vietnamese names in alphabetical order, ignoring diacritics first (đ sorts as d)."""
    stripped = "".join(
        char
        for char in unicodedata.normalize("NFD", name.replace("đ", "d").replace("Đ", "D"))
        if not unicodedata.combining(char)
    )
    return (stripped.casefold(), name)


@dataclass(frozen=True)
class Ranked:
    key: str
    name: str
    index: Decimal
    rank: int


def rank(entries: Iterable[tuple[str, str, Decimal]]) -> list[Ranked]:
    """Rank (key, name, index) entries: highest index first, equal indices share a rank and
    the next rank is skipped (1, 2, 2, 4); ties are listed by name."""
    ordered = sorted(entries, key=lambda e: (-e[2], name_sort_key(e[1]), e[0]))
    ranked = []
    for position, (key, name, index) in enumerate(ordered, start=1):
        shared = ranked and ranked[-1].index == index
        ranked.append(Ranked(key, name, index, ranked[-1].rank if shared else position))
    return ranked


def change(current: Decimal, previous: Decimal | None) -> Decimal | None:
    """The difference from last year's published index, or None when there is none."""
    return None if previous is None else quantize(current - previous)


class Basis(StrEnum):
    """What a unit's change from last year is measured against."""

    OWN = "own"  # its own index last year
    PREDECESSOR = "predecessor"  # the one unit it took over this year
    MERGED = "merged"  # the mean of two or more: itself and the units it took over


# The changes measured against other units than the unit itself: pages say how, in a note.
COMPARED_WITH_OTHERS = frozenset({Basis.PREDECESSOR, Basis.MERGED})


@dataclass(frozen=True)
class Comparison:
    previous_index: Decimal | None
    basis: str | None  # a Basis, or None when there is nothing to compare with
    compared_with: tuple[str, ...]  # the codes of the units whose indices were used


NOTHING_TO_COMPARE = Comparison(None, None, ())


def comparison(
    code: str, own: Decimal | None, predecessors: Iterable[tuple[str, Decimal | None]]
) -> Comparison:
    """What a unit is compared with (docs/calculation.md, 9. Change): ``own`` is its own
    published index last year (None when it was not ranked), ``predecessors`` the (code, index)
    of the units it took over during this year (index None where such a unit was not ranked).

    Ranked last year under its own code and took over no ranked unit: its own index (``own``).
    Not ranked, took over exactly one ranked unit: that unit's index (``predecessor``). Two or
    more ranked among itself and the units it took over: the mean of their indices, rounded
    half-up (``merged``). Nothing ranked: nothing to compare with."""
    ranked = [(code, own)] if own is not None else []
    ranked += sorted((c, index) for c, index in predecessors if index is not None)
    if not ranked:
        return NOTHING_TO_COMPARE
    codes = tuple(c for c, _index in ranked)
    if len(ranked) >= 2:
        return Comparison(average([index for _c, index in ranked]), Basis.MERGED, codes)
    basis = Basis.OWN if own is not None else Basis.PREDECESSOR
    return Comparison(ranked[0][1], basis, codes)


def sipas_index(elements: Mapping[str, Decimal]) -> Decimal:
    """A unit's SIPAS: the mean of its five element indices, rounded half-up to two decimals."""
    values = list(elements.values())
    if not values:
        raise CalculationError("no SIPAS element")
    # The sum of a few two-place decimals is exact in Decimal; the division is done exactly.
    return quantize(Fraction(sum(values, Decimal(0))) / len(values))


def sipas_index_from_answers(tallies: Mapping[str, tuple[int, int]]) -> Decimal:
    """A unit's SIPAS from questionnaires: the mean of its exact element shares (``element`` →
    (satisfied, valid) answers), rounded half-up once; never the mean of rounded elements
    (45.56, where rounding each element first would give 45.55)."""
    if not tallies:
        raise CalculationError("no SIPAS element")
    shares = []
    for satisfied, valid in tallies.values():
        if valid <= 0:
            raise CalculationError("no valid answer for an element")
        shares.append(Fraction(satisfied * 100, valid))
    return quantize(sum(shares, Fraction(0)) / len(shares))


def element_index(satisfied: int, valid: int) -> Decimal:
    """An element index from questionnaire answers: the share of valid answers that are
    "satisfied" or "very satisfied", in percent."""
    if valid <= 0:
        raise CalculationError("no valid answer for this element")
    if not 0 <= satisfied <= valid:
        raise CalculationError("satisfied answers must be between 0 and the valid answers")
    return quantize(Fraction(satisfied * 100, valid))


def average(values: Sequence[Decimal]) -> Decimal | None:
    """Mean of published (rounded) values, rounded half-up; None for no value."""
    if not values:
        return None
    return quantize(sum((Fraction(v) for v in values), Fraction(0)) / len(values))


def average_of_total(total: Decimal | None, count: int) -> Decimal | None:
    """The same mean from a sum and a count the database computed (exact: the values have two
    decimals); None for no value."""
    if not count or total is None:
        return None
    return quantize(Fraction(total) / count)
