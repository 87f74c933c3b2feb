"""The calculation (docs/calculation.md), table-driven at every edge, then by property."""

from decimal import Decimal as D

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scoring.calculation import (
    BandRule,
    CalculationError,
    Leaf,
    MissingFinalScores,
    NoApplicableLeaves,
    TargetRule,
    average,
    band_for,
    change,
    comparison,
    element_index,
    final_score,
    index_of,
    leaf_loss,
    parse_steps,
    points_to_next_band,
    quantize,
    rank,
    sipas_index,
    sipas_points,
    target_points,
    unit_result,
)

BANDS = [
    BandRule("rat-tot", "Rất tốt", D("90")),
    BandRule("tot", "Tốt", D("80")),
    BandRule("kha", "Khá", D("70")),
    BandRule("trung-binh", "Trung bình", D("50")),
    BandRule("kem", "Kém", D("0")),
]


def leaf(code, final, maximum="10", kind="self", field=None, na=False):
    return Leaf(
        code=code,
        field=field or code.split(".")[0],
        kind=kind,
        max_points=D(maximum),
        final=None if final is None else D(final),
        not_applicable=na,
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (D("89.995"), D("90.00")),
        (D("89.994"), D("89.99")),
        (D("0.005"), D("0.01")),
        (D("0.004"), D("0.00")),
        (D("-0.005"), D("-0.01")),
        (D("2.675"), D("2.68")),  # 2.67 with a binary float
        (D("100"), D("100.00")),
    ],
)
def test_quantize_rounds_half_up_to_two_places(value, expected):
    assert quantize(value) == expected
    assert str(quantize(value)) == str(expected)


@pytest.mark.parametrize(
    ("points", "maximum", "expected"),
    [
        ("89.995", "100", "90.00"),  # half-up: Rất tốt, never 89.99
        ("17.999", "20", "90.00"),  # 89.995 exactly
        ("179.99", "200", "90.00"),  # 89.995 exactly
        ("2", "3", "66.67"),
        ("1", "3", "33.33"),
        ("-5", "100", "0.00"),  # clamped at 0
        ("105", "100", "100.00"),  # clamped at 100
        ("0", "7", "0.00"),
    ],
)
def test_index_is_points_over_maximum_rounded_half_up_and_clamped(points, maximum, expected):
    assert index_of(D(points), D(maximum)) == D(expected)


def test_an_index_needs_a_maximum():
    with pytest.raises(NoApplicableLeaves):
        index_of(D("5"), D("0"))


@pytest.mark.parametrize(
    ("index", "band"),
    [
        ("100.00", "rat-tot"),
        ("90.00", "rat-tot"),  # exactly on the limit: the higher band
        ("89.99", "tot"),
        ("80.00", "tot"),
        ("79.99", "kha"),
        ("70.00", "kha"),
        ("69.99", "trung-binh"),
        ("50.00", "trung-binh"),
        ("49.99", "kem"),
        ("0.00", "kem"),
    ],
)
def test_bands_include_their_lower_bound(index, band):
    assert band_for(D(index), BANDS).code == band


def test_an_index_below_every_band_has_none():
    assert band_for(D("69.99"), [BandRule("a", "A", D("90")), BandRule("c", "C", D("70"))]) is None


def test_rounding_decides_the_band_89_995_is_rat_tot():
    result = unit_result([leaf("1.1", "17.999", "20")])
    assert result.index == D("90.00")
    assert band_for(result.index, BANDS).label == "Rất tốt"


def test_points_and_maximum_sum_applicable_self_and_survey_leaves():
    result = unit_result(
        [
            leaf("1.1", "8.5"),
            leaf("1.2", "9.25", kind="survey"),
            leaf("2.1", "4", maximum="5"),
        ]
    )
    assert result.points == D("21.75")
    assert result.max_points == D("25.00")
    assert result.index == D("87.00")


def test_a_not_applicable_leaf_leaves_points_and_maximum():
    with_na = unit_result([leaf("1.1", "9"), leaf("1.2", None, na=True), leaf("2.1", "9")])
    assert with_na.max_points == D("20.00")
    assert with_na.points == D("18.00")
    assert with_na.index == D("90.00")


def test_a_not_applicable_leaf_with_a_score_still_does_not_count():
    result = unit_result([leaf("1.1", "5"), leaf("1.2", "10", na=True)])
    assert (result.points, result.max_points) == (D("5.00"), D("10.00"))


def test_every_leaf_not_applicable_is_a_clear_error_not_a_division_by_zero():
    with pytest.raises(NoApplicableLeaves, match="not applicable"):
        unit_result([leaf("1.1", None, na=True), leaf("1.2", None, na=True)])


def test_only_bonus_and_penalty_leaves_is_a_clear_error():
    with pytest.raises(NoApplicableLeaves):
        unit_result([leaf("9.1", "1", maximum="2", kind="bonus")])


def test_a_missing_final_score_names_the_leaf():
    with pytest.raises(MissingFinalScores) as error:
        unit_result([leaf("1.1", "5"), leaf("1.2", None), leaf("9.1", None, kind="bonus")])
    assert error.value.codes == ["1.2"]  # a bonus without a value counts 0


@pytest.mark.parametrize(
    ("bonus", "penalty", "bonus_cap", "penalty_cap", "points"),
    [
        (["1", "0.5"], [], None, None, "81.50"),  # under the default cap (2 + 2)
        (["2", "2"], [], D("3"), None, "83.00"),  # capped at 3
        (["2", "2"], [], None, None, "84.00"),  # default cap = 4
        ([], ["1.5"], None, None, "78.50"),
        ([], ["2", "2"], None, D("2.5"), "77.50"),  # penalty capped at 2.5
        (["1"], ["1"], D("0"), None, "79.00"),  # a cap of 0 switches bonuses off
    ],
)
def test_bonus_and_penalty_are_capped(bonus, penalty, bonus_cap, penalty_cap, points):
    leaves = [leaf("1.1", "80", maximum="100")]
    leaves += [leaf(f"9.{i}", v, maximum="2", kind="bonus") for i, v in enumerate(bonus)]
    leaves += [leaf(f"9.{i + 5}", v, maximum="2", kind="penalty") for i, v in enumerate(penalty)]
    # Two bonus and two penalty leaves exist in every set, so the default caps are 4.
    while sum(1 for x in leaves if x.kind == "bonus") < 2:
        leaves.append(leaf(f"9.{len(leaves) + 10}", None, maximum="2", kind="bonus"))
    while sum(1 for x in leaves if x.kind == "penalty") < 2:
        leaves.append(leaf(f"9.{len(leaves) + 10}", None, maximum="2", kind="penalty"))
    result = unit_result(leaves, bonus_cap=bonus_cap, penalty_cap=penalty_cap)
    assert result.points == D(points)
    assert result.max_points == D("100.00")  # bonus and penalty never raise the maximum


def test_bonus_can_lift_the_index_only_to_100():
    result = unit_result([leaf("1.1", "10"), leaf("9.1", "2", maximum="2", kind="bonus")])
    assert result.points == D("12.00")
    assert result.index == D("100.00")


def test_penalty_can_push_the_index_only_to_0():
    result = unit_result([leaf("1.1", "1"), leaf("9.1", "2", maximum="2", kind="penalty")])
    assert result.points == D("-1.00")
    assert result.index == D("0.00")


def test_field_results_add_up_and_a_bonus_field_has_no_index():
    result = unit_result(
        [
            leaf("1.1", "4", maximum="5"),
            leaf("1.2", "5", maximum="5"),
            leaf("2.1", "3", maximum="4"),
            leaf("3.1", "1", maximum="2", kind="bonus"),
            leaf("3.2", "0.5", maximum="2", kind="penalty"),
        ]
    )
    fields = {f.code: f for f in result.fields}
    assert [f.code for f in result.fields] == ["1", "2", "3"]
    assert (fields["1"].points, fields["1"].max_points, fields["1"].index) == (
        D("9.00"),
        D("10.00"),
        D("90.00"),
    )
    assert fields["2"].index == D("75.00")
    assert (fields["3"].points, fields["3"].max_points, fields["3"].index) == (
        D("0.50"),
        D("0.00"),
        None,
    )
    assert sum(f.points for f in result.fields) == result.points


def test_final_score_is_round_two_else_round_one():
    assert final_score(D("3"), D("4")) == D("4")
    assert final_score(D("3"), None) == D("3")
    assert final_score(None, None) is None
    assert final_score(D("3"), D("0")) == D("0")  # a round-2 zero is a score


def test_equal_indices_share_a_rank_and_the_next_is_skipped():
    ranked = rank(
        [
            ("a", "Sở A", D("95.00")),
            ("b", "Sở Bình", D("90.00")),
            ("c", "Sở Ân", D("90.00")),
            ("d", "Sở D", D("85.00")),
        ]
    )
    assert [(r.key, r.rank) for r in ranked] == [("a", 1), ("c", 2), ("b", 2), ("d", 4)]


def test_ties_are_listed_by_vietnamese_name_ignoring_diacritics():
    ranked = rank(
        [
            ("x", "Sở Xây dựng", D("80")),
            ("d", "Sở Đà", D("80")),
            ("c", "Sở Công Thương", D("80")),
            ("e", "Sở Ễ", D("80")),
        ]
    )
    assert [r.key for r in ranked] == ["c", "d", "e", "x"]
    assert {r.rank for r in ranked} == {1}


def test_rank_of_nobody_is_empty():
    assert rank([]) == []


@pytest.mark.parametrize(
    ("own", "predecessors", "expected", "basis", "compared"),
    [
        ("90", [], "90", "own", ["self"]),  # the same unit last year
        (None, [("a", "85")], "85", "predecessor", ["a"]),  # took over exactly one unit
        (None, [], None, None, []),  # a new unit
        (None, [("a", "80"), ("b", "85.01")], "82.51", "merged", ["a", "b"]),  # 82.505
        ("90", [("a", "85")], "87.50", "merged", ["self", "a"]),  # it and another merged
        ("90", [("a", None)], "90", "own", ["self"]),  # took over a unit not ranked
        (None, [("a", None), ("b", "70")], "70", "predecessor", ["b"]),
    ],
)
def test_change_is_measured_against_own_predecessor_or_merged(
    own, predecessors, expected, basis, compared
):
    found = comparison(
        "self",
        None if own is None else D(own),
        [(c, None if i is None else D(i)) for c, i in predecessors],
    )
    assert found.previous_index == (None if expected is None else D(expected))
    assert (found.basis, list(found.compared_with)) == (basis, compared)


def test_change_is_the_difference_or_none():
    assert change(D("95.25"), D("93.15")) == D("2.10")
    assert change(D("80.00"), D("81.50")) == D("-1.50")
    assert change(D("80.00"), None) is None


def test_sipas_index_is_the_mean_of_five_elements_rounded_half_up():
    elements = {
        "access": D("90.00"),
        "procedure": D("91.00"),
        "civil_servants": D("92.00"),
        "result": D("93.00"),
        "feedback": D("94.03"),
    }
    assert sipas_index(elements) == D("92.01")  # 92.006
    elements["feedback"] = D("94.025")  # 92.005 → 92.01 half-up
    assert sipas_index(elements) == D("92.01")


def test_element_index_is_the_share_of_satisfied_answers():
    assert element_index(2, 3) == D("66.67")
    assert element_index(86000, 86000) == D("100.00")
    with pytest.raises(CalculationError):
        element_index(1, 0)
    with pytest.raises(CalculationError):
        element_index(4, 3)


def test_average_of_published_values():
    assert average([D("92.27"), D("92.28")]) == D("92.28")  # 92.275 half-up
    assert average([]) is None


# Properties -----------------------------------------------------------------------------------

score_values = st.decimals(min_value=0, max_value=10, places=2, allow_nan=False)


@st.composite
def unit_leaves(draw):
    """A set of 1-12 leaves in up to 4 fields, with scores, some not applicable."""
    count = draw(st.integers(min_value=1, max_value=12))
    leaves = []
    for i in range(count):
        maximum = draw(st.decimals(min_value="0.25", max_value=10, places=2))
        kind = draw(st.sampled_from(["self", "self", "survey", "bonus", "penalty"]))
        final = draw(st.decimals(min_value=0, max_value=maximum, places=2))
        leaves.append(
            Leaf(
                code=f"{i % 4 + 1}.{i}",
                field=str(i % 4 + 1),
                kind=kind,
                max_points=maximum,
                final=final,
                not_applicable=draw(st.booleans()) if kind == "self" and i else False,
            )
        )
    if not any(x.kind in ("self", "survey") and not x.not_applicable for x in leaves):
        leaves.append(
            Leaf("1.99", "1", "self", D("5"), draw(score_values.filter(lambda v: v <= 5)))
        )
    return leaves


@settings(max_examples=200, deadline=None)
@given(unit_leaves(), st.none() | st.decimals(min_value=0, max_value=5, places=2))
def test_property_field_points_add_up_to_the_points(leaves, cap):
    result = unit_result(leaves, bonus_cap=cap, penalty_cap=cap)
    assert sum((f.points for f in result.fields), D("0")) == result.points
    assert sum((f.max_points for f in result.fields), D("0")) == result.max_points
    assert D("0") <= result.index <= D("100")
    assert result.index == result.index.quantize(D("0.01"))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.decimals(min_value=0, max_value=100, places=2), min_size=1, max_size=30))
def test_property_rank_order_agrees_with_index_order(indices):
    ranked = rank((str(i), f"Unit {i}", value) for i, value in enumerate(indices))
    for a, b in zip(ranked, ranked[1:], strict=False):
        assert a.index >= b.index
        assert a.rank <= b.rank
        assert (a.rank == b.rank) == (a.index == b.index)
    for r in ranked:
        assert r.rank == 1 + sum(1 for v in indices if v > r.index)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.decimals(min_value=0, max_value=90, places=2), min_size=2, max_size=20),
    st.integers(min_value=0, max_value=19),
    st.decimals(min_value="0.01", max_value=10, places=2),
)
def test_property_adding_points_never_lowers_a_rank(points, who, extra):
    who %= len(points)

    def rank_of(values):
        indices = [unit_result([leaf("1.1", str(v), maximum="100")]).index for v in values]
        return next(
            r.rank
            for r in rank((str(i), f"U{i}", v) for i, v in enumerate(indices))
            if r.key == str(who)
        )

    more = list(points)
    more[who] += extra
    assert rank_of(more) <= rank_of(points)


# Points to the next band ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("points", "maximum", "band", "needed"),
    [
        # 179.99 / 200 = 89.995, published 90.00: one hundredth is enough (not 0.02).
        ("179.98", "200", "rat-tot", "0.01"),
        ("179.00", "200", "rat-tot", "0.99"),
        ("89.99", "100", "rat-tot", "0.01"),
        ("79.00", "100", "tot", "1.00"),
        ("0", "100", "trung-binh", "50.00"),
        ("-3", "100", "trung-binh", "53.00"),
    ],
)
def test_points_to_the_next_band_lift_the_published_index(points, maximum, band, needed):
    found, points_needed = points_to_next_band(D(points), D(maximum), BANDS)
    assert (found.code, points_needed) == (band, D(needed))


def test_there_is_no_next_band_at_the_top():
    assert points_to_next_band(D("95"), D("100"), BANDS) is None


@settings(max_examples=400)
@given(
    st.integers(min_value=-500, max_value=20000),
    st.integers(min_value=1, max_value=20000),
)
def test_the_points_to_the_next_band_are_the_least_that_reach_it(points, maximum):
    p, m = D(points).scaleb(-2), D(maximum).scaleb(-2)
    found = points_to_next_band(p, m, BANDS)
    if found is None:
        assert index_of(p, m) >= D("90")
        return
    band, needed = found
    assert index_of(p + needed, m) >= band.min_index
    assert index_of(p + needed - D("0.01"), m) < band.min_index


def test_the_leaf_kinds_are_defined_once():
    """The model's choices, the calculation's kinds and the kinds' groups agree."""
    from scoring.calculation import APPRAISED_KINDS, SCORED_KINDS, SELF_SCORED_KINDS, Kind
    from scoring.models import Kind as ModelKind

    assert set(ModelKind.values) == {kind.value for kind in Kind}
    assert set(Kind) >= SCORED_KINDS | SELF_SCORED_KINDS | APPRAISED_KINDS


# Target leaves ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("figure", "rule", "points"),
    [
        # The seed's online payment rate: 42.4 % against a 30 % target earns the full 2 points.
        ("42.4", TargetRule("proportional", D("30")), "2.00"),
        ("15", TargetRule("proportional", D("30")), "1.00"),
        ("10", TargetRule("proportional", D("30")), "0.67"),  # 2 × 1/3 = 0.666… → 0.67
        ("0", TargetRule("proportional", D("30")), "0.00"),
        # Late files: 2 % allowed; 4 % earns half, 0 % the whole.
        ("4", TargetRule("proportional", D("2"), "lower"), "1.00"),
        ("0", TargetRule("proportional", D("2"), "lower"), "2.00"),
        ("1", TargetRule("proportional", D("2"), "lower"), "2.00"),
        # Steps, tried in the order written.
        ("96", TargetRule("steps", steps=parse_steps("95:2;90:1.5;80:1")), "2.00"),
        ("90", TargetRule("steps", steps=parse_steps("95:2;90:1.5;80:1")), "1.50"),
        ("79.99", TargetRule("steps", steps=parse_steps("95:2;90:1.5;80:1")), "0.00"),
        ("3", TargetRule("steps", direction="lower", steps=parse_steps("0:2;2:1;5:0.5")), "0.50"),
        ("0", TargetRule("steps", direction="lower", steps=parse_steps("0:2;2:1;5:0.5")), "2.00"),
    ],
)
def test_a_target_leaf_turns_its_figure_into_points(figure, rule, points):
    assert target_points(D(figure), D("2"), rule) == D(points)


def test_target_points_never_exceed_the_maximum():
    assert target_points(D("100"), D("2"), TargetRule("steps", steps=((D("50"), D("3")),))) == D(
        "2.00"
    )


@pytest.mark.parametrize("text", ["", "95", "95:x", "a:1", "95:-1", "-1:2", "95:2;;x"])
def test_steps_that_are_not_threshold_points_pairs_are_refused(text):
    with pytest.raises(CalculationError):
        parse_steps(text)


@settings(max_examples=300)
@given(
    st.decimals(min_value=0, max_value=1000, places=2),
    st.decimals(min_value="0.01", max_value=1000, places=2),
    st.decimals(min_value=0, max_value=20, places=2),
    st.sampled_from(["higher", "lower"]),
)
def test_proportional_points_stay_between_zero_and_the_maximum(figure, target, maximum, direction):
    points = target_points(figure, maximum, TargetRule("proportional", target, direction))
    assert D("0") <= points <= maximum
    better = figure + 1 if direction == "higher" else max(figure - 1, D("0"))
    assert target_points(better, maximum, TargetRule("proportional", target, direction)) >= points


def test_a_survey_leaf_fed_from_sipas_is_its_maximum_times_the_share():
    assert sipas_points(D("4"), D("95.44")) == D("3.82")  # 3.8176
    assert sipas_points(D("3"), D("91.69")) == D("2.75")  # 2.7507
    assert sipas_points(D("2.5"), D("100")) == D("2.50")


@pytest.mark.parametrize(
    ("kind", "maximum", "final", "na", "lost"),
    [
        ("self", "4", "3", False, D("1.00")),
        ("agency", "4", "4", False, D("0.00")),
        ("target", "5", "2.5", False, D("2.50")),
        ("survey", "10", None, False, D("10.00")),  # a missing final score counts 0
        ("self", "2.005", "0", False, D("2.01")),  # rounded half-up
        ("penalty", "2", "0.5", False, D("0.50")),  # what the penalty took away
        ("penalty", "2", None, False, D("0.00")),
        ("bonus", "2", "0", False, None),  # points not claimed are no loss
        ("self", "4", None, True, None),  # not applicable: nothing lost
        ("penalty", "2", "1", True, None),
    ],
)
def test_leaf_loss_is_what_a_leaf_missed_or_a_penalty_took(kind, maximum, final, na, lost):
    assert leaf_loss(kind, D(maximum), None if final is None else D(final), na) == lost
