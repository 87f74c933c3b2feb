"""Numbers in imports: the decimal comma of Vietnamese spreadsheets ("0,5") reads like the dot;
a thousands separator ("1.234,5", "1 234") is refused rather than guessed."""

from decimal import Decimal as D

import pytest

from scoring.models import Band, CriteriaSet, Criterion, Score, SipasResult
from tests.factories import CRITERIA, UNITS
from tests.helpers import database_state

pytestmark = pytest.mark.django_db

HEADER = "unit,criterion,self_score,final_score,note\n"


@pytest.fixture
def province(run, write):
    assert run("import_units", write("units.csv", UNITS)).status == 0
    outcome = run("import_criteria", write("c.csv", CRITERIA), year=2023, group="departments")
    assert outcome.status == 0


def scores(run, path):
    return run("import_scores", path, year=2023, group="departments")


def score(unit, code):
    return Score.objects.get(assessment__unit__code=unit, criterion__code=code)


def test_a_decimal_comma_in_a_csv_cell_reads_like_a_dot(run, write, province):
    content = HEADER + 'so-a,1.1.1,"3,5","0,5",\nso-a,1.1.2,"5,125",5.5,\nso-b,1.1.1,"0,125",+4,\n'
    outcome = scores(run, write("s.csv", content))
    # '5,125' is refused (below): the comma before three digits could be a thousands separator.
    assert outcome.status == 1
    assert "row 3, column self_score: '5,125' is ambiguous" in outcome.err
    assert "write 5125 for a whole number, or 5.125 for a number with decimals" in outcome.err
    assert Score.objects.count() == 0

    content = HEADER + 'so-a,1.1.1,"3,5","0,5",\nso-b,1.1.1,"0,125",4,\n'
    outcome = scores(run, write("s.csv", content))
    assert outcome.status == 0, outcome.err
    assert (score("so-a", "1.1.1").self_score, score("so-a", "1.1.1").final_score) == (
        D("3.50"),
        D("0.50"),
    )
    # Three decimals after '0,' cannot be thousands: rounded half-up like '0.125'.
    assert score("so-b", "1.1.1").self_score == D("0.13")


def test_the_limits_are_checked_on_the_comma_value(run, write, province):
    outcome = scores(run, write("s.csv", HEADER + 'so-a,1.1.1,"4,01",4,\n'))
    assert outcome.status == 1
    assert "row 2, column self_score: 4,01 is above the maximum of 4.00" in outcome.err
    outcome = scores(run, write("s.csv", HEADER + 'so-a,1.1.1,"-0,5",4,\n'))
    assert "row 2, column self_score: -0,5 is negative" in outcome.err
    outcome = scores(run, write("s.csv", HEADER + 'so-a,1.1.1,"1,2345",4,\n'))
    assert "row 2, column self_score: '1,2345' has more than two decimals" in outcome.err
    assert Score.objects.count() == 0


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("1.234,5", "'1.234,5' has a thousands separator: write the number without one"),
        ("1,234.5", "(e.g. 1234.5)"),
        ("1.234.567", "(e.g. 1234567)"),
        ("1 234,5", "'1 234,5' has a thousands separator"),
        ("1,234", "'1,234' is ambiguous"),
        ("5,", "'5,' is not a number"),
        (",5", "',5' is not a number"),
        ("5,5,", "'5,5,' is not a number"),
    ],
)
def test_a_thousands_separator_is_refused_and_nothing_is_written(
    run, write, province, cell, message
):
    content = "unit,criterion,self_score,final_score,self_figure,final_figure\nso-a,1.1.1,4,4,,\n"
    content += f'so-b,1.1.1,4,"{cell}",,\n'
    before = database_state()
    outcome = scores(run, write("s.csv", content))
    assert outcome.status == 1
    line = next(line for line in outcome.err.splitlines() if line.startswith("row 3,"))
    assert line.startswith("row 3, column final_score: ") and message in line
    assert database_state() == before


def test_an_xlsx_cell_stored_as_text_with_a_comma_reads_as_a_number(run, tmp_path, province):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["unit", "criterion", "self_score", "final_score"])
    sheet.append(["so-a", "1.1.1", "1,25", 3.75])  # text "1,25" and a real number
    sheet.append(["so-a", "1.1.2", "2.5", "1.234,5"])
    path = tmp_path / "scores.xlsx"
    workbook.save(path)
    outcome = scores(run, str(path))
    assert outcome.status == 1
    assert "row 3, column final_score: '1.234,5' has a thousands separator" in outcome.err
    assert "row 2" not in outcome.err
    assert Score.objects.count() == 0

    sheet["D3"] = "5,5"
    workbook.save(path)
    outcome = scores(run, str(path))
    assert outcome.status == 0, outcome.err
    assert (score("so-a", "1.1.1").self_score, score("so-a", "1.1.1").final_score) == (
        D("1.25"),
        D("3.75"),
    )
    assert score("so-a", "1.1.2").final_score == D("5.50")


def test_the_comma_works_in_every_import_with_numbers(run, write, province):
    outcome = run(
        "import_bands",
        write("b.csv", 'code,label,min_index\ntot,Tốt,"80,5"\nkem,Kém,0\n'),
        year=2023,
        group="departments",
    )
    assert outcome.status == 0, outcome.err
    criteria_set = CriteriaSet.objects.get(round__year=2023)
    assert Band.objects.get(criteria_set=criteria_set, code="tot").min_index == D("80.50")

    outcome = run(
        "import_sipas",
        write(
            "sipas.csv",
            'unit,access,procedure,civil_servants,result,feedback\nso-a,"95,5",90,90,90,"90,25"\n',
        ),
        year=2023,
        group="departments",
    )
    assert outcome.status == 0, outcome.err
    result = SipasResult.objects.get(unit__code="so-a")
    assert (result.access, result.feedback) == (D("95.50"), D("90.25"))

    criteria = CRITERIA.replace("1.1.2,1.1,Hoàn thành kế hoạch,6,", '1.1.2,1.1,Hoàn thành,"6,0",')
    criteria = criteria.replace("1,,Công tác chỉ đạo,10,,", '1,,Công tác chỉ đạo,"10,00",,')
    outcome = run("import_criteria", write("c.csv", criteria), year=2024, group="departments")
    assert outcome.status == 0, outcome.err
    leaf = Criterion.objects.get(criteria_set__round__year=2024, code="1.1.2")
    assert leaf.max_points == D("6.00")
