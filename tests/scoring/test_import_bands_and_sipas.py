from decimal import Decimal as D

import pytest

from scoring.models import Band, SipasResult
from tests.factories import CRITERIA, SIPAS, UNITS

pytestmark = pytest.mark.django_db

HUE_BANDS = "code,label,min_index\nxuat-sac,Xuất sắc,90\ntot,Tốt,80\nkha,Khá,0\n"


@pytest.fixture
def province(run, write):
    assert run("import_units", write("units.csv", UNITS)).status == 0
    outcome = run("import_criteria", write("c.csv", CRITERIA), year=2023, group="departments")
    assert outcome.status == 0


def bands(run, write, content, year=2023):
    return run("import_bands", write("bands.csv", content), year=year, group="departments")


def test_bands_replace_the_defaults(run, write, province):
    outcome = bands(run, write, HUE_BANDS)
    assert outcome.status == 0, outcome.err
    assert list(Band.objects.values_list("code", "label", "min_index")) == [
        ("xuat-sac", "Xuất sắc", D("90.00")),
        ("tot", "Tốt", D("80.00")),
        ("kha", "Khá", D("0.00")),
    ]


def test_bands_twice_change_nothing(run, write, province, unchanged_database):
    bands(run, write, HUE_BANDS)
    with unchanged_database():
        outcome = bands(run, write, HUE_BANDS)
    assert outcome.status == 0
    assert "3 unchanged" in outcome.out


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            "code,label,min_index\na,A,101\nb,B,0\n",
            ["row 2, column min_index: 101 is above the maximum"],
        ),
        (
            "code,label,min_index\na,A,90\nb,B,90.00\nc,C,0\n",
            ["row 3, column min_index: duplicate lower bound"],
        ),
        ("code,label,min_index\na,A,90\na,B,0\n", ["row 3, column code: duplicate band code"]),
        ("code,label,min_index\na,A,90\nb,B,50\n", ["no band starts at 0"]),
        (
            "code,label,min_index\na,A,ninety\nb,B,0\n",
            ["row 2, column min_index: 'ninety' is not a number"],
        ),
        ("code,label,min_index,colour\na,A,0,red\n", ["row 1, column colour: unknown column"]),
        ("code,label\na,A\n", ["row 1, column min_index: required column is missing"]),
        ("code,label,min_index\na,,0\n", ["row 2, column label: a value is required"]),
        ("code,label,min_index\na,A,-5\n", ["row 2, column min_index: -5 is negative"]),
    ],
)
def test_broken_bands_change_nothing(run, write, province, unchanged_database, content, expected):
    with unchanged_database():
        outcome = bands(run, write, content)
    assert outcome.status == 1
    for text in expected:
        assert text in outcome.err, outcome.err


def test_bands_need_a_criteria_set(run, write, province):
    outcome = bands(run, write, HUE_BANDS, year=2020)
    assert outcome.status == 1
    assert "import the criteria first" in outcome.err


def sipas(run, write, content, year=2023):
    return run("import_sipas", write("sipas.csv", content), year=year, group="departments")


def test_sipas_results_are_imported_and_reimport_changes_nothing(
    run, write, province, unchanged_database
):
    assert sipas(run, write, SIPAS).status == 0
    result = SipasResult.objects.get(unit__code="so-b")
    assert result.elements()["feedback"] == D("95.50")
    with unchanged_database():
        outcome = sipas(run, write, SIPAS)
    assert "0 created, 0 updated, 3 unchanged" in outcome.out


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (SIPAS + "so-zz,1,1,1,1,1\n", ["row 5, column unit: unknown unit 'so-zz'"]),
        (
            SIPAS.replace("so-c,80", "so-c,100.5"),
            ["row 4, column access: 100.5 is above the maximum"],
        ),
        (SIPAS.replace("so-c,80", "so-c,-1"), ["row 4, column access: -1 is negative"]),
        (SIPAS.replace("so-c,80,81", "so-c,80,"), ["row 4, column procedure: a value is required"]),
        (SIPAS + "so-a,1,1,1,1,1\n", ["row 5, column unit: duplicate unit"]),
        (
            SIPAS.replace("feedback", "other"),
            ["row 1, column other: unknown column", "row 1, column feedback: required"],
        ),
        (SIPAS + "quan-x,1,1,1,1,1\n", ["row 5, column unit: quan-x belongs to group 'districts'"]),
    ],
)
def test_broken_sipas_changes_nothing(run, write, province, unchanged_database, content, expected):
    with unchanged_database():
        outcome = sipas(run, write, content)
    assert outcome.status == 1
    for text in expected:
        assert text in outcome.err, outcome.err


ANSWERS = """unit,respondent,access_1,access_2,procedure,civil_servants,result,feedback
so-a,q1,5,4,5,5,5,
so-a,q2,3,5,4,2,5,4
so-a,q3,4,,1,5,5,5
so-b,q1,5,5,5,5,5,5
"""


def test_sipas_is_computed_from_individual_questionnaires(run, write, province):
    outcome = run(
        "import_sipas_answers", write("answers.csv", ANSWERS), year=2023, group="departments"
    )
    assert outcome.status == 0, outcome.err
    so_a = SipasResult.objects.get(unit__code="so-a").elements()
    # access: 5 valid answers (5, 4, 3, 5, 4), 4 satisfied → 80.00; procedure: 2 of 3 → 66.67;
    # civil servants 2 of 3; result 3 of 3; feedback: 2 valid, both satisfied.
    assert so_a == {
        "access": D("80.00"),
        "procedure": D("66.67"),
        "civil_servants": D("66.67"),
        "result": D("100.00"),
        "feedback": D("100.00"),
    }
    again = run(
        "import_sipas_answers", write("answers.csv", ANSWERS), year=2023, group="departments"
    )
    assert "0 created, 0 updated, 2 unchanged" in again.out


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            ANSWERS.replace("so-a,q2,3", "so-a,q2,7"),
            ["row 3, column access_1: '7' is not an answer"],
        ),
        (
            ANSWERS.replace("so-b,q1,5,5,5,5,5,5", "so-b,q1,5,5,5,5,5,"),
            ["so-b: no valid answer for feedback"],
        ),
        (
            ANSWERS.replace(",feedback", ",colour"),
            ["row 1, column colour: unknown column"],
        ),
        (
            "\n".join(line.rsplit(",", 1)[0] for line in ANSWERS.splitlines()) + "\n",
            ["row 1, column feedback: no column for this element"],
        ),
        (ANSWERS + "so-a,q1,5,5,5,5,5,5\n", ["row 6, column respondent: duplicate questionnaire"]),
        (ANSWERS + "so-zz,q9,5,5,5,5,5,5\n", ["row 6, column unit: unknown unit 'so-zz'"]),
    ],
)
def test_broken_questionnaires_change_nothing(
    run, write, province, unchanged_database, content, expected
):
    with unchanged_database():
        outcome = run(
            "import_sipas_answers", write("answers.csv", content), year=2023, group="departments"
        )
    assert outcome.status == 1
    for text in expected:
        assert text in outcome.err, outcome.err


def test_a_bidi_override_in_a_band_label_is_refused_and_nothing_written(
    run, write, province, unchanged_database
):
    content = "code,label,min_index\nxuat-sac,Xuất sắc,90\ntot,\u202eTốt,80\nkha,Khá,0\n"
    with unchanged_database():
        outcome = bands(run, write, content)
    assert outcome.status == 1
    assert "row 3, column label: contains the invisible control character U+202E" in outcome.err
    assert "1 problem(s)" in outcome.err


def test_a_control_character_in_a_questionnaire_is_refused(run, write, province):
    content = (
        "unit,respondent,access,procedure,civil_servants,result,feedback\n"
        "so-a,A-\x0b001,5,4,4,5,4\n"
    )
    outcome = run("import_sipas_answers", write("a.csv", content), year=2023, group="departments")
    assert outcome.status == 1
    assert "row 2, column respondent: contains the invisible control character U+000B" in (
        outcome.err
    )
    assert not SipasResult.objects.exists()
