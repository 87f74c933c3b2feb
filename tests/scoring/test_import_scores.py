from decimal import Decimal as D

import pytest

from scoring.models import Assessment, Score
from tests.factories import CRITERIA, SCORES, UNITS

pytestmark = pytest.mark.django_db

HEADER = "unit,criterion,self_score,final_score,note\n"


@pytest.fixture
def province(run, write):
    assert run("import_units", write("units.csv", UNITS)).status == 0
    outcome = run("import_criteria", write("c.csv", CRITERIA), year=2023, group="departments")
    assert outcome.status == 0


def import_scores(run, write, content, **kwargs):
    options = {"year": 2023, "group": "departments", **kwargs}
    return run("import_scores", write("scores.csv", content), **options)


def test_it_creates_assessments_and_scores(run, write, province):
    outcome = import_scores(run, write, SCORES)
    assert outcome.status == 0, outcome.err
    assert Assessment.objects.count() == 3
    score = Score.objects.get(assessment__unit__code="so-a", criterion__code="1.1.2")
    assert (score.self_score, score.final_score, score.note) == (
        D("6.00"),
        D("5.50"),
        "Chậm một nhiệm vụ",
    )
    na = Score.objects.get(assessment__unit__code="so-c", criterion__code="1.1.2")
    assert (na.not_applicable, na.final_score, na.self_score) == (True, None, D("5.00"))
    survey = Score.objects.get(assessment__unit__code="so-a", criterion__code="2.1")
    assert survey.self_score is None and survey.final_score == D("9.00")


def test_the_same_file_twice_changes_nothing(run, write, province, unchanged_database):
    import_scores(run, write, SCORES)
    with unchanged_database():
        outcome = import_scores(run, write, SCORES)
    assert outcome.status == 0
    assert "0 created, 0 updated, 11 unchanged" in outcome.out


def test_a_changed_score_is_updated_and_kept_in_the_history(run, write, province):
    import_scores(run, write, SCORES)
    outcome = import_scores(run, write, HEADER + "so-a,1.1.2,6,4.75,Sửa\n")
    assert outcome.status == 0
    score = Score.objects.get(assessment__unit__code="so-a", criterion__code="1.1.2")
    assert score.final_score == D("4.75")
    assert [h.appraisal_1 for h in score.history.order_by("history_date")] == [D("5.50"), D("4.75")]


def test_an_import_replaces_a_round_two_appraisal_and_history_keeps_it(run, write, province):
    import_scores(run, write, SCORES)
    score = Score.objects.get(assessment__unit__code="so-a", criterion__code="1.1.1")
    score.appraisal_2 = D("3")
    score.save()
    import_scores(run, write, HEADER + "so-a,1.1.1,4,2,\n")
    score.refresh_from_db()
    assert (score.appraisal_1, score.appraisal_2, score.final_score) == (D("2.00"), None, D("2.00"))
    assert score.history.filter(appraisal_2=D("3")).exists()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (HEADER + "so-a,1.1.1,4,abc,\n", ["row 2, column final_score: 'abc' is not a number"]),
        (HEADER + "so-a,1.1.1,-1,3,\n", ["row 2, column self_score: -1 is negative"]),
        (
            HEADER + "so-a,1.1.1,4,4.01,\n",
            ["row 2, column final_score: 4.01 is above the maximum of 4.00"],
        ),
        (HEADER + "so-zz,1.1.1,4,4,\n", ["row 2, column unit: unknown unit 'so-zz'"]),
        (HEADER + "so-a,9.9,4,4,\n", ["row 2, column criterion: unknown criterion '9.9'"]),
        (HEADER + "so-a,1.1,4,4,\n", ["row 2, column criterion: 1.1 has sub-criteria"]),
        (
            HEADER + "so-a,1.1.1,4,4,\nso-a,1.1.1,3,3,\n",
            ["row 3, column criterion: duplicate unit and criterion"],
        ),
        (
            HEADER + "quan-x,1.1.1,4,4,\n",
            ["row 2, column unit: quan-x belongs to group 'districts'"],
        ),
        (HEADER + "so-a,2.1,5,5,\n", ["row 2, column self_score:", "takes no self score"]),
        (
            HEADER.replace("note", "comment") + "so-a,1.1.1,4,4,x\n",
            ["row 1, column comment: unknown column"],
        ),
        (
            "unit,criterion,final_score\nso-a,1.1.1,4\n",
            ["row 1, column self_score: required column is missing"],
        ),
        (
            HEADER + "so-a,1.1.1,4,5,\nso-zz,1.1.1,4,4,\nso-b,7,1,1,\n",
            ["row 2, column final_score", "row 3, column unit", "row 4, column criterion"],
        ),
        ("", ["the file is empty"]),
        (b"%PDF-1.4\n\x00\x00", ["not a CSV"]),
    ],
)
def test_a_broken_file_names_every_problem_and_writes_nothing(
    run, write, province, unchanged_database, content, expected
):
    import_scores(run, write, SCORES)
    with unchanged_database():
        outcome = import_scores(run, write, content)
    assert outcome.status == 1
    for text in expected:
        assert text in outcome.err, outcome.err


def test_a_year_without_criteria_is_refused(run, write, province):
    outcome = import_scores(run, write, SCORES, year=2019)
    assert outcome.status == 1
    assert "no criteria set for 2019" in outcome.err


def test_an_xlsx_file_with_numbers_as_numbers_is_read(run, province, tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["unit", "criterion", "self_score", "final_score", "note"])
    sheet.append(["so-a", "1.1.1", 4, 3.75, "ok"])
    sheet.append(["so-a", "1.1.2", 5.995, "na", None])
    path = tmp_path / "scores.xlsx"
    workbook.save(path)
    outcome = run("import_scores", str(path), year=2023, group="departments")
    assert outcome.status == 0, outcome.err
    assert Score.objects.get(criterion__code="1.1.1").final_score == D("3.75")
    rounded = Score.objects.get(criterion__code="1.1.2")
    assert (rounded.self_score, rounded.not_applicable) == (D("6.00"), True)


def test_a_file_without_the_note_column_keeps_the_notes(run, write, province):
    import_scores(run, write, SCORES)
    outcome = import_scores(run, write, "unit,criterion,self_score,final_score\nso-a,1.1.2,6,5\n")
    assert outcome.status == 0
    score = Score.objects.get(assessment__unit__code="so-a", criterion__code="1.1.2")
    assert (score.final_score, score.note) == (D("5.00"), "Chậm một nhiệm vụ")


def test_a_huge_number_is_a_row_error_not_a_crash(run, write, province, unchanged_database):
    with unchanged_database():
        outcome = import_scores(run, write, HEADER + "so-a,1.1.1,4,100000000000000000000000000\n")
    assert outcome.status == 1
    assert "row 2, column final_score: 100000000000000000000000000 is too large" in outcome.err


def test_a_note_may_hold_line_breaks_but_no_other_control_character(
    run, write, province, unchanged_database
):
    outcome = import_scores(run, write, HEADER + 'so-a,1.1.1,4,4,"Có kế hoạch\n\tđúng hạn"\n')
    assert outcome.status == 0, outcome.err
    assert Score.objects.get().note == "Có kế hoạch\n\tđúng hạn"
    with unchanged_database():
        outcome = import_scores(run, write, HEADER + "so-a,1.1.1,4,4,Có\u202e kế hoạch\n")
    assert outcome.status == 1
    assert "row 2, column note: contains the invisible control character U+202E" in outcome.err
