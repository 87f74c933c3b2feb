import csv
import io
from decimal import Decimal as D

import pytest

from scoring.models import Band, CriteriaSet, Criterion, Round
from tests.factories import CRITERIA, SCORES, UNITS

pytestmark = pytest.mark.django_db

HEADER = "code,parent,title,max_points,kind\n"


@pytest.fixture
def units(run, write):
    assert run("import_units", write("units.csv", UNITS)).status == 0


def import_criteria(run, write, content, year=2023, group="departments"):
    return run("import_criteria", write("criteria.csv", content), year=year, group=group)


def test_it_creates_the_round_the_set_the_tree_and_the_default_bands(run, write, units):
    outcome = import_criteria(run, write, CRITERIA)
    assert outcome.status == 0, outcome.err
    criteria_set = CriteriaSet.objects.get(round__year=2023, group__code="departments")
    assert Round.objects.get(year=2023)
    assert criteria_set.criteria.count() == 9
    leaf = Criterion.objects.get(criteria_set=criteria_set, code="1.1.2")
    assert (leaf.parent.code, leaf.kind, leaf.max_points, leaf.is_leaf) == (
        "1.1",
        "self",
        D("6.00"),
        True,
    )
    field = Criterion.objects.get(criteria_set=criteria_set, code="1")
    assert (field.is_leaf, field.kind, field.max_points) == (False, "", D("10.00"))
    assert list(criteria_set.bands.values_list("code", "min_index")) == [
        ("rat-tot", D("90.00")),
        ("tot", D("80.00")),
        ("kha", D("70.00")),
        ("trung-binh", D("50.00")),
        ("kem", D("0.00")),
    ]


def test_an_empty_parent_maximum_is_the_sum_of_its_children_and_kind_defaults_to_self(
    run, write, units
):
    content = HEADER + "1,,Field,,\n1.1,1,A,2.5,\n1.2,1,B,3.25,survey\n"
    assert import_criteria(run, write, content).status == 0
    assert Criterion.objects.get(code="1").max_points == D("5.75")
    assert Criterion.objects.get(code="1.1").kind == "self"


def test_three_decimals_are_rounded_half_up(run, write, units):
    content = HEADER + "1,,Field,,\n1.1,1,A,2.125,\n"
    assert import_criteria(run, write, content).status == 0
    assert Criterion.objects.get(code="1.1").max_points == D("2.13")


def test_the_same_file_twice_changes_nothing(run, write, units, unchanged_database):
    import_criteria(run, write, CRITERIA)
    with unchanged_database():
        outcome = import_criteria(run, write, CRITERIA)
    assert outcome.status == 0
    assert "0 created, 0 updated, 9 unchanged" in outcome.out


def test_a_new_file_replaces_the_tree_while_there_are_no_scores(run, write, units):
    import_criteria(run, write, CRITERIA)
    outcome = import_criteria(run, write, HEADER + "1,,Only field,,\n1.1,1,Leaf,10,\n")
    assert outcome.status == 0, outcome.err
    assert sorted(Criterion.objects.values_list("code", flat=True)) == ["1", "1.1"]
    assert Criterion.objects.get(code="1").title == "Only field"


def test_it_is_refused_once_the_set_has_scores(run, write, units, unchanged_database):
    import_criteria(run, write, CRITERIA)
    assert run("import_scores", write("s.csv", SCORES), year=2023, group="departments").status == 0
    with unchanged_database():
        outcome = import_criteria(run, write, CRITERIA.replace("Kế hoạch CCHC", "Kế hoạch"))
    assert outcome.status == 1
    assert "already has scores" in outcome.err
    # The same file again is not a change: accepted, nothing written.
    with unchanged_database():
        assert import_criteria(run, write, CRITERIA).status == 0


def test_previous_code_links_to_last_years_criterion(run, write, units):
    import_criteria(run, write, CRITERIA, year=2022)
    content = "code,parent,title,max_points,kind,previous_code\n1,,Field,,,1\n1.1,1,A,10,,1.1.2\n"
    assert import_criteria(run, write, content).status == 0
    linked = Criterion.objects.get(criteria_set__round__year=2023, code="1.1")
    assert (linked.previous.code, linked.previous.criteria_set.round.year) == ("1.1.2", 2022)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            HEADER.replace("kind", "kind,weight") + "1,,F,,,1\n",
            ["row 1, column weight: unknown column"],
        ),
        (
            "code,parent,title,max_points\n1,,F,1\n",
            ["row 1, column kind: required column is missing"],
        ),
        (HEADER + "1,,F,,\n1.1,1,A,abc,\n", ["row 3, column max_points: 'abc' is not a number"]),
        (HEADER + "1,,F,,\n1.1,1,A,-1,\n", ["row 3, column max_points: -1 is negative"]),
        (
            HEADER + "1,,F,,\n1.1,1,A,1.2345,\n",
            ["row 3, column max_points:", "more than two decimals"],
        ),
        (
            HEADER + '1,,F,,\n1.1,1,A,"1.234,5",\n',
            ["row 3, column max_points: '1.234,5' has a thousands separator"],
        ),
        (
            HEADER + "1,,F,,\n1.1,1,A,1,\n1.1,1,B,1,\n",
            ["row 4, column code: duplicate criterion code"],
        ),
        (HEADER + "1,,F,,\n1.1,9,A,1,\n", ["row 3, column parent: parent '9' does not exist"]),
        (
            HEADER + "1,,F,,\n2,3,A,,\n3,2,B,,\n",
            ["row 3, column parent: the parents go round in a cycle: 2 → 3 → 2"],
        ),
        (HEADER + "1,1,F,1,\n", ["row 2, column parent: a criterion cannot be its own parent"]),
        (
            HEADER + "1,,F,5,\n1.1,1,A,1,\n1.2,1,B,2,\n",
            ["row 2, column max_points: 5.00 is not the sum", "(3.00)"],
        ),
        (
            HEADER + "1,,F,,self\n1.1,1,A,1,\n",
            ["row 2, column kind: the kind is given on leaves only"],
        ),
        (
            HEADER + "1,,F,,\n1.1,1,A,,\n",
            ["row 3, column max_points: a leaf needs its maximum points"],
        ),
        (HEADER + "1,,F,,\n1.1,1,A,1,extra\n", ["row 3, column kind: 'extra' is not a kind"]),
        (HEADER + "1,,F,,\n1.1,1,,1,\n", ["row 3, column title: a value is required"]),
        (HEADER + "1 2,,F,1,\n", ["row 2, column code:"]),
        (
            "code,parent,title,max_points,kind,previous_code\n1,,F,1,,1\n",
            ["row 2, column previous_code: there is no criteria set of 2022"],
        ),
        ("", ["the file is empty"]),
        (HEADER, ["no data rows"]),
        (b"\x00\x01\x02binary", ["not a CSV"]),
    ],
)
def test_a_broken_file_names_every_problem_and_writes_nothing(
    run, write, units, unchanged_database, content, expected
):
    with unchanged_database():
        outcome = import_criteria(run, write, content)
    assert outcome.status == 1
    for text in expected:
        assert text in outcome.err, outcome.err


def test_an_unknown_group_is_refused(run, write, units):
    outcome = import_criteria(run, write, CRITERIA, group="communes")
    assert outcome.status == 1
    assert "unknown group 'communes'" in outcome.err
    assert not Round.objects.exists()


def test_a_previous_code_unknown_last_year_is_named(run, write, units):
    import_criteria(run, write, CRITERIA, year=2022)
    content = "code,parent,title,max_points,kind,previous_code\n1,,F,,,1\n1.1,1,A,10,,7.7\n"
    outcome = import_criteria(run, write, content)
    assert outcome.status == 1
    assert "row 3, column previous_code: '7.7' is not a criterion of 2022" in outcome.err


def test_the_defaults_bands_are_not_duplicated_on_reimport(run, write, units):
    import_criteria(run, write, CRITERIA)
    import_criteria(run, write, CRITERIA)
    assert Band.objects.count() == 5


def test_a_file_without_guidance_keeps_the_guidance(run, write, units):
    import_criteria(run, write, CRITERIA)
    rows = list(csv.reader(io.StringIO(CRITERIA)))
    without_guidance = io.StringIO()
    csv.writer(without_guidance, lineterminator="\n").writerows(row[:5] for row in rows)
    assert rows[0][5] == "guidance"
    assert import_criteria(run, write, without_guidance.getvalue()).status == 0
    assert Criterion.objects.get(code="1.1.1").guidance == "Đúng hạn: 4 điểm"


def test_guidance_may_hold_line_breaks_and_tabs_but_no_other_control_character(
    run, write, units, unchanged_database
):
    header = "code,parent,title,max_points,kind,guidance\n"
    good = '1,,Chỉ đạo,,,\n1.1,1,Kế hoạch,4,self,"Đúng hạn:\r\n\t4 điểm\nChậm: 0"\n'
    assert import_criteria(run, write, header + good).status == 0
    assert Criterion.objects.get(code="1.1").guidance == "Đúng hạn:\r\n\t4 điểm\nChậm: 0"
    broken = '1,,"Chỉ\nđạo",,,\n1.1,1,Kế hoạch,4,self,"Đúng hạn:\x07 4 điểm"\n'
    with unchanged_database():
        outcome = import_criteria(run, write, header + broken)
    assert outcome.status == 1
    assert "row 2, column title: contains the invisible control character U+000A" in outcome.err
    assert "row 3, column guidance: contains the invisible control character U+0007" in (
        outcome.err
    )
