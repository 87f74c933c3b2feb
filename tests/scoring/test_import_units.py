import pytest

from scoring.models import Unit, UnitGroup
from tests.factories import UNITS

pytestmark = pytest.mark.django_db


def test_it_creates_units_and_their_groups(run, write):
    outcome = run("import_units", write("units.csv", UNITS))
    assert outcome.status == 0
    assert Unit.objects.count() == 4
    assert UnitGroup.objects.get(code="departments").name == "Sở, ban, ngành"
    assert Unit.objects.get(code="so-a").short_name == "SA"
    assert "4" in outcome.out


def test_running_the_same_file_twice_changes_nothing(run, write, unchanged_database):
    path = write("units.csv", UNITS)
    run("import_units", path)
    with unchanged_database():
        outcome = run("import_units", path)
    assert outcome.status == 0
    assert ": 0 " in outcome.out  # 0 created
    assert "4 " in outcome.out


def test_existing_units_are_updated_by_code_and_successors_set(run, write):
    run("import_units", write("units.csv", UNITS))
    merged = "code,name,group,group_name,successor\nso-a,Sở An mới,departments,,\nso-b,Sở Bình,departments,,so-a\n"
    outcome = run("import_units", write("merge.csv", merged))
    assert outcome.status == 0, outcome.err
    assert Unit.objects.get(code="so-a").name == "Sở An mới"
    assert Unit.objects.get(code="so-b").successor.code == "so-a"
    assert list(Unit.objects.get(code="so-a").predecessors.values_list("code", flat=True)) == [
        "so-b"
    ]


def test_an_xlsx_file_with_a_bom_less_header_in_any_case_is_read(run, tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Code", "NAME", "Group", "group_name"])
    sheet.append(["so-x", "Sở X", "departments", "Sở, ban, ngành"])
    path = tmp_path / "units.xlsx"
    workbook.save(path)
    assert run("import_units", str(path)).status == 0
    assert Unit.objects.get(code="so-x").group.code == "departments"


def test_a_csv_with_a_bom_is_read(run, write):
    assert run("import_units", write("units.csv", "\ufeff" + UNITS)).status == 0
    assert Unit.objects.count() == 4


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            "code,name,group,group_name,colour\nso-a,A,g,G,red\n",
            ["row 1, column colour: unknown column"],
        ),
        ("code,name,group\nso-a,A,g\n", ["row 1, column group_name: required column is missing"]),
        ("code,name,group,group_name\nSở A,A,g,G\n", ["row 2, column code:"]),
        ("code,name,group,group_name\nso-a,A,g,G\nso-a,B,g,G\n", ["row 3, column code: duplicate"]),
        ("code,name,group,group_name\nso-a,,g,G\n", ["row 2, column name: a value is required"]),
        ("code,name,group,group_name\nso-a,A,new-group,\n", ["row 2, column group_name:"]),
        (
            "code,name,group,group_name,successor\nso-a,A,g,G,so-zz\n",
            ["row 2, column successor: unknown unit 'so-zz'"],
        ),
        ("code,name,group,group_name,successor\nso-a,A,g,G,so-a\n", ["row 2, column successor:"]),
        (
            "code,name,group,group_name,successor\nso-a,A,g,G,so-b\nso-b,B,g,G,so-a\n",
            ["row 2, column successor:", "row 3, column successor:"],
        ),
        ("code,name,group,group_name\nso-a,A,g,G\nso-b,B,g,Other\n", ["row 3, column group_name:"]),
        ("", ["the file is empty"]),
        ("code,name,group,group_name\n", ["no data rows"]),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", ["not a CSV"]),
        (b"code,name\n\xff\xfe,x\n", ["not UTF-8"]),
    ],
)
def test_a_broken_file_names_every_problem_and_writes_nothing(
    run, write, unchanged_database, content, expected
):
    run("import_units", write("base.csv", UNITS))
    with unchanged_database():
        outcome = run("import_units", write("broken.csv", content))
    assert outcome.status == 1
    for text in expected:
        assert text in outcome.err
    assert "nothing was written" in outcome.err


def test_every_bad_row_is_listed_not_only_the_first(run, write):
    content = "code,name,group,group_name\nBad Code,A,g,G\nso-b,,g,G\nso-c,C,Bad Group,G\n"
    outcome = run("import_units", write("units.csv", content))
    assert outcome.status == 1
    assert "row 2, column code" in outcome.err
    assert "row 3, column name" in outcome.err
    assert "row 4, column group" in outcome.err


def test_a_file_of_another_type_is_refused(run, write):
    outcome = run("import_units", write("units.txt", UNITS))
    assert outcome.status == 1
    assert ".csv or .xlsx" in outcome.err


def test_a_broken_xlsx_is_refused_without_a_traceback(run, write):
    outcome = run("import_units", write("units.xlsx", b"PK\x03\x04 this is not a workbook"))
    assert outcome.status == 1
    assert "XLSX" in outcome.err


def test_a_file_without_the_successor_column_keeps_the_successors(run, write):
    run("import_units", write("units.csv", UNITS))
    run(
        "import_units",
        write("m.csv", "code,name,group,group_name,successor\nso-b,Sở Bình,departments,,so-a\n"),
    )
    assert run("import_units", write("units.csv", UNITS)).status == 0
    assert Unit.objects.get(code="so-b").successor.code == "so-a"
    cleared = "code,name,group,group_name,successor\nso-b,Sở Bình,departments,,\n"
    assert run("import_units", write("c.csv", cleared)).status == 0
    assert Unit.objects.get(code="so-b").successor is None


def test_a_stray_value_names_its_own_column(run, write):
    outcome = run("import_units", write("u.csv", "code,name,group,group_name\nso-a,A,g,G,,oops\n"))
    assert outcome.status == 1
    assert "row 2, column 6: value outside any named column" in outcome.err


def test_a_group_code_longer_than_the_database_allows_is_a_row_error(run, write):
    long_group = "g" * 65
    outcome = run(
        "import_units", write("u.csv", f"code,name,group,group_name\nso-a,A,{long_group},G\n")
    )
    assert outcome.status == 1
    assert "row 2, column group: the code is longer than 64 characters" in outcome.err
