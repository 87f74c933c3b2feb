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
    merged = (
        "code,name,group,group_name,successor,dissolved_on\n"
        "so-a,Sở An mới,departments,,,\nso-b,Sở Bình,departments,,so-a,2025-03-01\n"
    )
    outcome = run("import_units", write("merge.csv", merged))
    assert outcome.status == 0, outcome.err
    assert Unit.objects.get(code="so-a").name == "Sở An mới"
    so_b = Unit.objects.get(code="so-b")
    assert [u.code for u in so_b.successors.all()] == ["so-a"]
    assert str(so_b.dissolved_on) == "2025-03-01"
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
            "code,name,group,group_name,successor,dissolved_on\nso-a,A,g,G,so-zz,2025-07-01\n",
            ["row 2, column successor: unknown unit 'so-zz'"],
        ),
        (
            "code,name,group,group_name,successor,dissolved_on\nso-a,A,g,G,so-a,2025-07-01\n",
            ["row 2, column successor: a unit cannot succeed itself"],
        ),
        (
            "code,name,group,group_name,successor\nso-a,A,g,G,\nso-b,B,g,G,so-a\n",
            ["row 3, column dissolved_on: a unit with a successor needs the day it ceased"],
        ),
        (
            "code,name,group,group_name,dissolved_on\nso-a,A,g,G,1/7/2025\n",
            ["row 2, column dissolved_on: '1/7/2025' is not a date: write it YYYY-MM-DD"],
        ),
        (
            "code,name,group,group_name,successor,dissolved_on\nso-a,A,g,G,so-b;so-b,2025-07-01\n"
            "so-b,B,g,G,,\n",
            ["row 2, column successor: a successor is named twice"],
        ),
        (
            "code,name,group,group_name,successor,dissolved_on\n"
            "so-a,A,g,G,so-b,2025-07-01\nso-b,B,g,G,so-a,2025-07-01\n",
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
    merge = "code,name,group,group_name,successor,dissolved_on\nso-b,Sở Bình,departments,,so-a,2025-03-01\n"
    assert run("import_units", write("m.csv", merge)).status == 0
    assert run("import_units", write("units.csv", UNITS)).status == 0
    so_b = Unit.objects.get(code="so-b")
    assert [u.code for u in so_b.successors.all()] == ["so-a"]
    assert str(so_b.dissolved_on) == "2025-03-01"
    cleared = "code,name,group,group_name,successor\nso-b,Sở Bình,departments,,\n"
    assert run("import_units", write("c.csv", cleared)).status == 0
    assert not Unit.objects.get(code="so-b").successors.exists()


def test_a_split_names_several_successors(run, write):
    run("import_units", write("units.csv", UNITS))
    split = (
        "code,name,group,group_name,successor,dissolved_on\n"
        "so-c,Sở Cần,departments,,so-a;so-b,2025-07-01\n"
    )
    assert run("import_units", write("s.csv", split)).status == 0
    assert sorted(Unit.objects.get(code="so-c").successors.values_list("code", flat=True)) == [
        "so-a",
        "so-b",
    ]


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


NAMED = "code,name,group,group_name,short_name,successor\n"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "so-b,Sở\x07Bình,departments,,SB,",
            "row 2, column name: contains the invisible control character U+0007",
        ),
        (
            "so-b,Sở Bình,departments,,S\u202eB,",
            "row 2, column short_name: contains the invisible control character U+202E",
        ),
        (
            "so-b,Sở Bình,departments,Kh\x1fối,SB,",
            "row 2, column group_name: contains the invisible control character U+001F",
        ),
        (
            "so-\x7fb,Sở Bình,departments,,SB,",
            "row 2, column code: contains the invisible control character U+007F",
        ),
        (
            "so-b,Sở Bình,depart\u2066ments,,SB,",
            "row 2, column group: contains the invisible control character U+2066",
        ),
        (
            "so-b,Sở Bình,departments,,SB,so-a\u200e",
            "row 2, column successor: contains the invisible control character U+200E",
        ),
        (
            "so-b,\u061cSở Bình,departments,,SB,",
            "row 2, column name: contains the invisible control character U+061C",
        ),
        (
            'so-b,"Sở\nBình",departments,,SB,',
            "row 2, column name: contains the invisible control character U+000A",
        ),
        (
            "so-b,Sở\tBình,departments,,SB,",
            "row 2, column name: contains the invisible control character U+0009",
        ),
    ],
)
def test_a_control_character_in_any_cell_is_refused_naming_row_column_and_character(
    run, write, unchanged_database, line, expected
):
    run("import_units", write("units.csv", UNITS))
    with unchanged_database():
        outcome = run("import_units", write("u.csv", NAMED + line + "\n"))
    assert outcome.status == 1
    assert expected in outcome.err
    assert "1 problem(s)" in outcome.err


def test_a_control_character_in_a_unit_name_refuses_the_whole_file(run, write):
    content = (
        "code,name,group,group_name\nso-a,Sở An,departments,G\nso-b,Sở\x07Bình,departments,G\n"
    )
    outcome = run("import_units", write("u.csv", content))
    assert outcome.status == 1
    assert "row 3, column name: contains the invisible control character U+0007" in outcome.err
    assert not Unit.objects.exists() and not UnitGroup.objects.exists()


def test_a_control_character_in_the_header_is_named_by_position(run, write):
    outcome = run("import_units", write("u.csv", "code,na\u202eme,group,group_name\nso-a,A,g,G\n"))
    assert outcome.status == 1
    assert "row 1, column 2: contains the invisible control character U+202E" in outcome.err
    assert "\u202e" not in outcome.err


def test_an_xlsx_name_with_a_line_break_or_a_bidi_override_is_refused(run, tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["code", "name", "group", "group_name"])
    sheet.append(["so-a", "Sở\nAn", "departments", "G"])  # Alt+Enter in the cell
    sheet.append(["so-b", "\u202eSở Bình", "departments", "G"])
    path = tmp_path / "units.xlsx"
    workbook.save(path)
    outcome = run("import_units", str(path))
    assert outcome.status == 1
    assert "row 2, column name: contains the invisible control character U+000A" in outcome.err
    assert "row 3, column name: contains the invisible control character U+202E" in outcome.err
    assert not Unit.objects.exists()


def test_the_admin_refuses_a_unit_name_with_a_control_character(
    client, run, write, unchanged_database
):
    from django.contrib.auth.models import User

    run("import_units", write("units.csv", UNITS))
    unit = Unit.objects.get(code="so-a")
    client.force_login(User.objects.create_superuser("root", "root@example.org", "pw"))
    url = f"/admin/scoring/unit/{unit.pk}/change/"
    form = {"code": "so-a", "short_name": "SA", "group": unit.group_id}
    with unchanged_database():
        response = client.post(url, {**form, "name": "Sở\x07An"})
    assert response.status_code == 200
    assert "U+0007" in response.content.decode()
    # The same form with a clean name is accepted: only the character was refused.
    assert client.post(url, {**form, "name": "Sở An Mới"}).status_code == 302
    assert Unit.objects.get(pk=unit.pk).name == "Sở An Mới"
