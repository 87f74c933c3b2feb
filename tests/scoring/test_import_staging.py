"""The two paths of ``import_scores`` (scoring/importers/scores.py and staging.py): on
PostgreSQL the staged path checks and writes set-based; it must refuse every bad file with the
very problems of the Python path (row, column, message, order) and write what the Python path
writes (scores and their history). Both paths are called explicitly; the staged ones need
PostgreSQL and are skipped on SQLite."""

from __future__ import annotations

import csv
import io
import os
import sys
from decimal import Decimal as D
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from simple_history.models import HistoricalRecords

from scoring.importers import ImportFailed, base, staging
from scoring.importers.scores import import_scores_python
from scoring.importers.staging import import_scores_staged
from scoring.models import Assessment, CriteriaSet, Score, Unit
from tests.factories import UNITS
from tests.helpers import database_state

pytestmark = pytest.mark.django_db
postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the staged path runs on PostgreSQL only"
)

YEAR = 2023
# Every kind of leaf, a parent, a SIPAS-fed survey leaf and both target rules.
CRITERIA = (
    "code,parent,title,max_points,kind,target,rule,steps,direction,unit_label,sipas_element\n"
    "1,,Chỉ đạo,,,,,,,,\n"
    "1.1,1,Kế hoạch,4,self,,,,,,\n"
    "1.2,1,Hồ sơ trễ hạn,2,agency,,,,,,\n"
    "1.3,1,Thanh toán trực tuyến,2,target,30,proportional,,,%,\n"
    "1.4,1,Đúng hạn,2,target,,steps,95:2;90:1.5;80:1,,%,\n"
    "1.5,1,Hồ sơ trễ,3,target,5,proportional,,lower,hồ sơ,\n"
    "2,,Tác động,,,,,,,,\n"
    "2.1,2,Tiếp cận,4,survey,,,,,,access\n"
    "2.2,2,Đại biểu,2,survey,,,,,,\n"
    "3,,Thưởng và trừ,,,,,,,,\n"
    "3.1,3,Sáng kiến,2,bonus,,,,,,\n"
    "3.2,3,Vi phạm,2,penalty,,,,,,\n"
)
HEADER = ["unit", "criterion", "self_score", "final_score", "note", "self_figure", "final_figure"]
GOOD = [
    ["so-a", "1.1", "4", "3,5", "Chậm một nhiệm vụ, đã khắc phục", "", ""],
    ["so-a", "1.2", "", "2", "", "", ""],
    ["so-a", "1.3", "", "", "Theo Cổng", "42.4", "10,25"],
    ["so-a", "1.4", "", "", "", "96", "92"],
    ["so-a", "1.5", "", "na", "", "7", ""],
    ["so-a", "2.2", "", "1.755", 'Ghi chú "có ngoặc"', "", ""],
    ["so-a", "3.1", "1", "0.5", "", "", ""],
    ["so-a", "3.2", "", "0,25", "", "", ""],
    ["so-b", "1.1", "+4", "NA", "", "", ""],
    ["so-b", "1.2", "", "-0.001", "", "", ""],
    ["so-b", "1.3", "", "", "", "0", "0"],
    ["so-b", "1.4", "", "", "", "85", "79.99"],
    ["so-b", "1.5", "", "", "", "0", "12.5"],
    ["so-b", "2.1", "", "", "", "", ""],
]
# One row for every problem the importer names (and rows with several problems).
BAD = [
    ["so-zz", "1.1", "4", "4", "", "", ""],  # unknown unit
    ["so'x", "1.1", "", "", "", "", ""],  # unknown unit, quoted by repr with "
    ["Sở\u00a0A", "1.1", "", "", "", "", ""],  # unknown unit, repr escapes the space
    ["", "1.1", "4", "4", "", "", ""],  # unit missing
    ["quan-x", "1.1", "4", "4", "", "", ""],  # a unit of another group
    ["so-c", "1.1", "4", "4", "", "", ""],  # assessed in another group this year
    ["so-a", "", "4", "4", "", "", ""],  # criterion missing
    ["so-a", "9.9", "4", "4", "", "", ""],  # unknown criterion
    ["so-a", "1", "4", "4", "", "", ""],  # a parent
    ["so-a", "1.1", "abc", "1e5", "", "", ""],  # not numbers
    ["so-a", "1.1", "1.234,5", "1 234", "", "", ""],  # thousands separators
    ["so-a", "1.1", "1\u00a0234", "1,234.5", "", "", ""],
    ["so-a", "1.1", "1.234.567", "1,234", "", "", ""],  # ... and ambiguous
    ["so-a", "1.1", "1.2345", "100000", "", "", ""],  # decimals, too large
    ["so-a", "1.1", "-1", "-0.005", "", "", ""],  # negative
    ["so-a", "1.1", "4.01", "4,006", "", "", ""],  # above the maximum (4,006 is ambiguous)
    ["so-a", "1.1", "4,01", "4.005", "", "", ""],  # above the maximum, after rounding
    ["so-a", "1.1", "na", "4", "", "", ""],  # na is for the final score only
    ["so-a", "1.3", "1", "2", "", "50", ""],  # points on a target leaf
    ["so-a", "1.4", "", "na", "", "-3", "1e3"],  # na is fine; figures wrong
    ["so-a", "1.4", "", "", "", "1000000000000", "999999999999.99"],  # a figure too large
    ["so-a", "1.1", "4", "4", "", "1", "2"],  # figures on a self leaf
    ["so-a", "1.2", "1", "2", "", "", ""],  # a self score on an agency leaf
    ["so-a", "2.1", "1", "2", "", "", ""],  # survey: no self score; SIPAS-fed: no final
    ["so-a", "2.1", "", "NA", "", "", ""],  # na on a SIPAS-fed leaf is fine
    ["so-a", "3.2", "1", "0.5", "", "", ""],  # a self score on a penalty leaf
    ["so-a", "2.2", "", "3", "x" * 5001, "", ""],  # above the maximum, a note too long
    ["so-b", "1.1", "4", "4", "", "", ""],
    ["so-b", "1.1", "3", "3", "", "", ""],  # duplicate
    [" so-b", "1.1 ", "3", "3", "", "", ""],  # duplicate once stripped
    ["so-zz", "9.9", "", "", "", "", ""],  # duplicate of unknowns too
    ["so-zz", "9.9", "", "", "", "", ""],
]


def csv_text(header, rows, *, newline="\n") -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=newline).writerows([header, *rows])
    return buffer.getvalue()


@pytest.fixture(autouse=True)
def english():
    """The messages in English, as the commands print them in the tests."""
    with translation.override("en"):
        yield


@pytest.fixture
def province(run, write):
    assert (
        run(
            "import_units",
            write("units.csv", UNITS + 'so-d,Sở Đông,departments,"Sở, ban, ngành",SD\n'),
        ).status
        == 0
    )
    outcome = run("import_criteria", write("c.csv", CRITERIA), year=YEAR, group="departments")
    assert outcome.status == 0, outcome.err
    outcome = run("import_criteria", write("d.csv", CRITERIA), year=YEAR, group="districts")
    assert outcome.status == 0, outcome.err
    # so-c already has an assessment in the districts' set this year.
    Assessment.objects.create(
        criteria_set=CriteriaSet.objects.get(round__year=YEAR, group__code="districts"),
        unit=Unit.objects.get(code="so-c"),
    )


def attempt(importer, path, **options):
    """The problems an import refuses the file with (each problem as its printed line), or
    its report; nothing is kept either way."""
    options = {"year": YEAR, "group": "departments", **options}
    try:
        with transaction.atomic():
            report = importer(path, **options)
            transaction.set_rollback(True)
    except ImportFailed as failure:
        return [str(problem) for problem in failure.problems]
    return report


@pytest.fixture
def no_fallback(monkeypatch):
    """The staged path must not leave the file to the Python path."""

    def refuse(*args, **kwargs):
        raise AssertionError("the staged path fell back to the Python path")

    monkeypatch.setattr(staging, "import_scores_python", refuse)


def assert_same_refusal(path, **options):
    before = database_state()
    expected = attempt(import_scores_python, path, **options)
    assert isinstance(expected, list) and expected, expected
    assert attempt(import_scores_staged, path, **options) == expected
    assert database_state() == before
    return expected


# The messages ------------------------------------------------------------------------------


@postgres
def test_every_problem_of_a_plain_csv_is_found_in_sql_as_python_finds_it(
    province, write, no_fallback
):
    problems = assert_same_refusal(write("bad.csv", csv_text(HEADER, GOOD + BAD)))
    # The file gives every kind of message, so the comparison covers them all.
    for text in (
        "unknown unit 'so-zz'",
        'unknown unit "so\'x"',
        "unknown unit 'Sở\\xa0A'",
        "column unit: a value is required",
        "belongs to group 'districts'",
        "so-c is already assessed in group 'districts' in 2023",
        "column criterion: a value is required",
        "unknown criterion '9.9' in the 2023 set of 'departments'",
        "1 has sub-criteria",
        "'abc' is not a number",
        "'1.234,5' has a thousands separator",
        "'1\\xa0234' has a thousands separator",
        "'1,234' is ambiguous",
        "has more than two decimals",
        "100000 is too large",
        "-1 is negative",
        "-0.005 is negative",
        "4.01 is above the maximum of 4.00",
        "4.005 is above the maximum of 4.00",
        "1.3 is a target leaf",
        "only a target leaf takes a figure; 1.1 is of kind “Self-assessed”",
        "1.2 (Scored by the appraising agency) takes no self score",
        "2.1 (Survey) takes no self score",
        "3.2 (Penalty) takes no self score",
        "2.1 is fed from SIPAS (access)",
        "1000000000000 is too large",
        "column note: the text is longer than 5000 characters",
        "row 43, column criterion: duplicate unit and criterion: already on row 10",
    ):
        assert any(text in problem for problem in problems), text
    # Row by row, each row's problems in the order of its checks; the duplicates last.
    rows = [int(problem.split(",")[0].split()[1]) for problem in problems]
    first_duplicate = next(i for i, p in enumerate(problems) if "duplicate" in p)
    assert rows[:first_duplicate] == sorted(rows[:first_duplicate])
    assert all("duplicate" in p for p in problems[first_duplicate:])


@postgres
@pytest.mark.parametrize(
    "variant",
    ["unquoted", "crlf", "bom", "streamed", "multiline-note", "tab-in-note", "xlsx"],
)
def test_the_same_problems_however_the_file_is_read(
    province, write, tmp_path, no_fallback, variant
):
    rows = GOOD + BAD
    if variant == "unquoted":
        # No cell needs quotes: the file is split without the csv module.
        rows = [[cell.replace(",", ";").replace('"', "'") for cell in row] for row in rows]
        text = csv_text(HEADER, rows)
        assert '"' not in text
        path = write("bad.csv", text)
    elif variant == "crlf":
        path = write("bad.csv", csv_text(HEADER, rows, newline="\r\n"))
    elif variant == "bom":
        path = write("bad.csv", "\ufeff" + csv_text(HEADER, rows))
    elif variant == "streamed":
        # A blank line, a short row and an empty row: streamed row by row.
        text = csv_text(HEADER, rows).replace("\nso-b,1.1,4,4", "\n\nso-b,1.1,4,4")
        path = write("bad.csv", text + "so-a,1.1\n,,,,,,\n")
    elif variant == "multiline-note":
        path = write("bad.csv", csv_text(HEADER, [*rows, ["so-d", "1.1", "5", "", "a\r\nb"]]))
    elif variant == "tab-in-note":
        path = write("bad.csv", csv_text(HEADER, [*rows, ["so-d", "1.1", "5", "", "a\tb"]]))
    else:
        workbook = Workbook()
        for row in [HEADER, *rows]:
            workbook.active.append(row)
        path = str(tmp_path / "bad.xlsx")
        workbook.save(path)
    assert_same_refusal(path)


@postgres
@pytest.mark.parametrize(
    "content",
    [
        # Control characters: in SQL for a plain file, whatever the column.
        csv_text(
            HEADER, [*GOOD, ["so-a\u202e", "1.1", "4", "4", "a\x07b"], ["so-b", "2.2", "", "1\x1b"]]
        ),
        # A tab in a single-line cell, a line break in the note (allowed) and a DEL.
        csv_text(
            HEADER,
            [*GOOD, ["so-a", "1.1\t", "4", "4\x7f", "ok\nok"], ["so-d", "\t1.1", "1", "1", "a\tb"]],
        ),
        # Control characters that str.strip() removes are no problem.
        csv_text(HEADER, [*GOOD, ["so-d", "\x1f1.1\x1c", "1", "1", ""]]),
    ],
    ids=["plain", "streamed", "stripped"],
)
def test_control_characters_are_named_as_read_table_names_them(province, write, content):
    path = write("bad.csv", content)
    expected = attempt(import_scores_python, path)
    assert attempt(import_scores_staged, path) == expected


@postgres
@pytest.mark.parametrize(
    "content",
    [
        "unit,criterion,self_score\nso-a,1.1,4\n",  # a required column missing
        "unit,criterion,self_score,final_score,colour\nso-a,1.1,4,4,red\n",  # unknown column
        "unit,criterion,self_score,final_score\nso-a,1.1,4,4,x\n",  # a value outside
        "unit,criterion,self_score,final_score\n",  # no data rows
        "unit,criterion,self_score,final_score\n,,,\n \n",  # rows without a value
        "\nunit,criterion,self_score,final_score\nso-a,1.1,4,4\n",  # no header on row 1
        # A quoted cell across lines, then a control character.
        'unit,criterion,self_score,final_score\nso-a,1.1,"4\n,",\x07\n',
        b"unit,criterion,self_score,final_score\nso-a,1.1,\xff,4\n",  # not UTF-8
        "",
    ],
)
def test_file_level_refusals_are_those_of_read_table(province, write, content):
    assert_same_refusal(write("bad.csv", content))


@postgres
def test_file_problems_come_before_a_missing_criteria_set(province, write):
    content = "unit,criterion,self_score,final_score\n,,,\n"
    assert_same_refusal(write("bad.csv", content), year=2019)
    assert_same_refusal(write("ok.csv", csv_text(HEADER, GOOD)), year=2019)
    content = csv_text(HEADER, [*GOOD, ["so-a", "1.1\x07", "4", "4"]])
    assert_same_refusal(write("bad.csv", content), year=2019)


# What is written ---------------------------------------------------------------------------


def snapshot():
    """The scores of the year with their history, by unit and criterion code (ids, times and
    the history's own ids differ from one run to the other)."""
    fields = [
        f.attname
        for f in Score._meta.concrete_fields
        if f.attname not in ("id", "assessment_id", "criterion_id", "updated_at")
    ]
    scores = sorted(
        Score.objects.filter(assessment__criteria_set__round__year=YEAR).values_list(
            "assessment__unit__code", "criterion__code", *fields
        )
    )
    history = sorted(
        (
            h.assessment.unit.code,
            h.criterion.code,
            h.history_type,
            h.history_change_reason,
            h.history_user_id,
            *(getattr(h, name) for name in fields),
        )
        for h in Score.history.filter(assessment__criteria_set__round__year=YEAR).select_related(
            "assessment__unit", "criterion"
        )
    )
    assessments = sorted(
        Assessment.objects.filter(criteria_set__round__year=YEAR).values_list(
            "unit__code", "criteria_set__group__code", "status"
        )
    )
    return scores, history, assessments


def run_both(files, **options):
    """Import ``files`` one after the other through each path; the state after each path."""
    states = []
    for importer in (import_scores_python, import_scores_staged):
        with transaction.atomic():
            reports = []
            for path in files:
                report = importer(path, year=YEAR, group="departments", **options)
                reports.append((report.created, report.updated, report.unchanged, report.lines))
            states.append((reports, snapshot()))
            transaction.set_rollback(True)
    return states


@pytest.fixture
def signed_in():
    """A request's user, as django-simple-history's middleware records it for changes."""
    user = User.objects.create_user("secretariat")
    HistoricalRecords.context.request = SimpleNamespace(user=user)
    yield user
    del HistoricalRecords.context.request


CHANGED = [
    ["so-a", "1.1", "4", "3.75", "Chậm một nhiệm vụ, đã khắc phục", "", ""],  # final score
    ["so-a", "1.2", "", "2", "", "", ""],  # unchanged
    ["so-a", "1.3", "", "", "Theo Cổng", "42.4", "30"],  # a figure: its points follow
    ["so-a", "1.5", "", "", "", "7", "5"],  # no longer not applicable
    ["so-b", "2.1", "", "NA", "", "", ""],  # now not applicable
    ["so-d", "1.1", "2", "2", "Mới", "", ""],  # a new unit
]


@postgres
def test_a_good_file_writes_the_same_scores_and_history_through_both_paths(
    province, write, signed_in, no_fallback
):
    first = write("good.csv", csv_text(HEADER, GOOD))
    changed = write("changed.csv", csv_text(HEADER, CHANGED))
    without_note = write(
        "no-note.csv", "unit,criterion,self_score,final_score\nso-a,1.1,4,3\nso-a,3.1,2,2\n"
    )
    python, staged = run_both([first, first, changed, without_note])
    assert staged == python
    reports, (scores, history, assessments) = staged
    assert [r[:3] for r in reports] == [(14, 0, 0), (0, 0, 14), (1, 4, 1), (0, 2, 0)]
    assert "1 assessments created" in reports[2][3]
    assert [(s[0], s[1]) for s in scores] == sorted({(row[0], row[1]) for row in GOOD + CHANGED})
    assert [h[2] for h in history].count("+") == 15
    assert [h[2] for h in history].count("~") == 6
    assert {h[4] for h in history if h[2] == "~"} == {signed_in.pk}
    assert {h[3] for h in history if h[2] == "+"} == {"import"}


@postgres
def test_target_points_are_those_of_the_leaf_rule(province, write):
    staged = attempt(import_scores_staged, write("g.csv", csv_text(HEADER, GOOD)))
    assert staged.created == len(GOOD)
    import_scores_staged(write("g.csv", csv_text(HEADER, GOOD)), year=YEAR, group="departments")

    def score(unit, code):
        return Score.objects.get(assessment__unit__code=unit, criterion__code=code)

    assert (score("so-a", "1.3").self_score, score("so-a", "1.3").appraisal_1) == (
        D("2.00"),
        D("0.68"),
    )
    assert (score("so-a", "1.4").self_score, score("so-a", "1.4").appraisal_1) == (
        D("2.00"),
        D("1.50"),
    )
    na = score("so-a", "1.5")
    assert (na.self_score, na.appraisal_1, na.figure_1, na.not_applicable) == (
        D("2.14"),
        None,
        None,
        True,
    )
    assert (score("so-b", "1.5").self_score, score("so-b", "1.5").appraisal_1) == (
        D("3.00"),
        D("1.20"),
    )
    assert score("so-b", "1.2").appraisal_1 == D("0.00")
    assert score("so-a", "2.2").appraisal_1 == D("1.76")


@pytest.fixture
def counted_scores(monkeypatch):
    """Counts the Score instances made (loaded or built)."""
    made = []
    original = Score.__init__

    def counting(self, *args, **kwargs):
        made.append(1)
        original(self, *args, **kwargs)

    monkeypatch.setattr(Score, "__init__", counting)
    return made


def national_like(prefix: str, units: int) -> str:
    """``units`` units × four leaves, valid."""
    rows = []
    for number in range(units):
        for code, self_score, final in (
            ("1.1", "4", "3.5"),
            ("1.2", "", "2"),
            ("2.2", "", "1.5"),
            ("3.1", "1", "1"),
        ):
            rows.append([f"{prefix}-{number}", code, self_score, final, "", "", ""])
    return csv_text(HEADER, rows)


@postgres
def test_an_unchanged_file_writes_nothing_and_loads_no_score(
    province, run, write, counted_scores, unchanged_database
):
    queries = []
    for units in (5, 50):
        prefix = f"xa{units}"
        lines = "".join(f'{prefix}-{n},Xã {n},departments,"Sở, ban, ngành"\n' for n in range(units))
        assert (
            run("import_units", write("u.csv", "code,name,group,group_name\n" + lines)).status == 0
        )
        path = write("s.csv", national_like(prefix, units))
        assert import_scores_staged(path, year=YEAR, group="departments").created == units * 4
        counted_scores.clear()
        with unchanged_database(), CaptureQueriesContext(connection) as captured:
            report = import_scores_staged(path, year=YEAR, group="departments")
        assert (report.created, report.updated, report.unchanged) == (0, 0, units * 4)
        assert counted_scores == []
        queries.append(len(captured))
    # As many statements for 50 units as for 5: nothing is done row by row.
    assert queries[0] == queries[1]


@postgres
def test_a_changed_file_updates_only_the_changed_rows(province, write, counted_scores):
    import_scores_staged(write("g.csv", csv_text(HEADER, GOOD)), year=YEAR, group="departments")
    before = {
        (s.assessment.unit.code, s.criterion.code): (s.version, s.updated_at, s.history.count())
        for s in Score.objects.select_related("assessment__unit", "criterion")
    }
    counted_scores.clear()
    report = import_scores_staged(
        write("c.csv", csv_text(HEADER, CHANGED)), year=YEAR, group="departments"
    )
    assert (report.created, report.updated, report.unchanged) == (1, 4, 1)
    assert counted_scores == []
    for score in Score.objects.select_related("assessment__unit", "criterion"):
        key = (score.assessment.unit.code, score.criterion.code)
        if key not in before:
            assert score.version == 1 and list(score.history.values_list("history_type")) == [
                ("+",)
            ]
            continue
        version, updated_at, history = before[key]
        changed = key in {("so-a", "1.1"), ("so-a", "1.3"), ("so-a", "1.5"), ("so-b", "2.1")}
        assert score.version == version + changed, key
        assert score.updated_at == updated_at  # as bulk_update_with_history leaves it
        assert score.history.count() == history + changed
        if changed:
            latest = score.history.latest("history_id")
            assert (latest.history_type, latest.history_change_reason) == ("~", None)
            assert (latest.appraisal_1, latest.version) == (score.appraisal_1, score.version)


@postgres
def test_scores_made_without_history_get_theirs_when_an_import_creates_scores(province, write):
    import_scores_staged(write("g.csv", csv_text(HEADER, GOOD[:2])), year=YEAR, group="departments")
    assessment = Assessment.objects.get(unit__code="so-a", criteria_set__round__year=YEAR)
    opened = Score.objects.bulk_create(
        [Score(assessment=assessment, criterion=assessment.criteria_set.criteria.get(code="3.2"))]
    )[0]
    assert not opened.history.exists()
    import_scores_staged(
        write("n.csv", csv_text(HEADER, [["so-b", "1.1", "1", "1", "", "", ""]])),
        year=YEAR,
        group="departments",
    )
    assert list(opened.history.values_list("history_type", "history_change_reason")) == [
        ("+", "import")
    ]


@postgres
def test_the_command_takes_the_staged_path_on_postgresql(province, run, write, monkeypatch):
    called = []
    monkeypatch.setattr(
        staging, "_write", lambda *args: called.append(1) or staging.Report(lines=["done"])
    )
    outcome = run(
        "import_scores", write("g.csv", csv_text(HEADER, GOOD)), year=YEAR, group="departments"
    )
    assert outcome.status == 0 and called == [1]


def test_the_whitespace_stripped_in_sql_is_what_str_strip_removes():
    assert (
        "".join(chr(code) for code in range(sys.maxunicode + 1) if chr(code).isspace())
        == staging.WHITESPACE
    )


def test_the_control_characters_refused_in_sql_are_those_of_the_validators():
    from scoring.validators import control_character

    for code in range(1, 0x3000):
        character = chr(code)
        single = control_character(character) is not None
        multi = control_character(character, multiline=True) is not None
        assert bool(staging._SINGLE_LINE_CONTROL.match(character)) == single, hex(code)
        assert bool(staging._MULTILINE_CONTROL.match(character)) == multi, hex(code)


# Both paths on random files ------------------------------------------------------------------

FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "15")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CELLS = {
    "unit": ["so-a", "so-b", "so-d", "so-zz", "quan-x", "so-c", "", " so-a", "SO-A"],
    "criterion": ["1.1", "1.2", "1.3", "1.4", "1.5", "2.1", "2.2", "3.1", "3.2", "1", "9", ""],
    "number": [
        "",
        "0",
        "1",
        "2",
        "4",
        "4.01",
        "1,5",
        "0.125",
        "-0",
        "-1",
        "na",
        "NA",
        "x",
        "1.234,5",
        "1,234",
        "100000",
        " 2 ",
        "1.999",
        "1\u00a0000",
        "99999.995",
    ],
    "note": ["", "ghi chú", "a, b", 'có "ngoặc"', "dòng 1\ndòng 2", "tab\there", "\u202e", " x "],
}


@postgres
@FUZZ
@given(data=st.data())
def test_random_files_get_the_same_answer_from_both_paths(province, write, data):
    optional = data.draw(
        st.lists(st.sampled_from(["note", "self_figure", "final_figure"]), unique=True)
    )
    header = data.draw(
        st.permutations(["unit", "criterion", "self_score", "final_score", *optional])
    )
    pools = {
        "unit": CELLS["unit"],
        "criterion": CELLS["criterion"],
        "note": CELLS["note"],
    }
    # Mostly cells an importer meets, sometimes any text at all.
    anything = st.text(st.characters(blacklist_categories=("Cs",)), max_size=6)
    row = st.fixed_dictionaries(
        {name: st.sampled_from(pools.get(name, CELLS["number"])) | anything for name in header}
    )
    rows = data.draw(st.lists(row, min_size=1, max_size=12))
    path = write("f.csv", csv_text(header, [[r[name] for name in header] for r in rows]))
    python = attempt(import_scores_python, path)
    staged = attempt(import_scores_staged, path)
    if isinstance(python, list):
        assert staged == python
    else:
        assert (staged.created, staged.updated, staged.unchanged, staged.lines) == (
            python.created,
            python.updated,
            python.unchanged,
            python.lines,
        )
        (_reports, python_state), (_r, staged_state) = run_both([path, path])
        assert staged_state == python_state


@postgres
def test_the_limit_of_rows_is_the_one_read_table_applies(province, write, monkeypatch):
    monkeypatch.setattr(base, "MAX_ROWS", 5)
    path = write("long.csv", csv_text(HEADER, GOOD))
    problems = assert_same_refusal(path)
    assert problems == [
        "row 6, column -: the file has more than 5 rows, the most an import reads; split it"
    ]


# SIPAS in bulk -----------------------------------------------------------------------------


def sipas_file(units: int, value: str = "90") -> str:
    lines = "".join(f"xa{units}-{n},{value},91,92,93,94\n" for n in range(units))
    return "unit,access,procedure,civil_servants,result,feedback\n" + lines


def test_sipas_results_are_written_in_bulk_with_their_history(run, write, signed_in):
    from scoring.importers import import_sipas
    from scoring.models import Round, SipasResult

    Round.objects.create(year=YEAR)  # made once, not by the first import only
    queries = []
    for units in (3, 30):
        lines = "".join(
            f'xa{units}-{n},Xã {n},departments,"Sở, ban, ngành"\n' for n in range(units)
        )
        assert (
            run("import_units", write("u.csv", "code,name,group,group_name\n" + lines)).status == 0
        )
        with CaptureQueriesContext(connection) as created:
            report = import_sipas(write("s.csv", sipas_file(units)), year=YEAR, group="departments")
        assert (report.created, report.updated, report.unchanged) == (units, 0, 0)
        content = sipas_file(units).replace(f"xa{units}-0,90,", f"xa{units}-0,80.5,")
        with CaptureQueriesContext(connection) as updated:
            report = import_sipas(write("s.csv", content), year=YEAR, group="departments")
        assert (report.created, report.updated, report.unchanged) == (0, 1, units - 1)
        queries.append((len(created), len(updated)))
        results = SipasResult.objects.filter(unit__code__startswith=f"xa{units}-")
        history = SipasResult.history.filter(unit__code__startswith=f"xa{units}-")
        assert results.get(unit__code=f"xa{units}-0").access == D("80.50")
        # Each new result has its creation, the changed one its change, as a save records them.
        assert sorted(history.values_list("history_type", flat=True)) == ["+"] * units + ["~"]
        changed = history.get(history_type="~")
        assert (changed.access, changed.history_change_reason) == (D("80.50"), None)
        assert {h.history_user_id for h in history} == {signed_in.pk}
    # Three units or thirty: the same statements (the page sizes are far above 30).
    assert queries[0] == queries[1]
