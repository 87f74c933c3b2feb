"""Fuzzing with hypothesis: arbitrary bytes, CSV and XLSX content, huge values and odd Unicode
into every importer and every form. Never a traceback or a 500, never a partial write."""

from __future__ import annotations

import csv
import io
import os
import string

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from scoring.models import Score
from tests.cast import YEAR, leaf, set_stage
from tests.factories import CRITERIA, UNITS
from tests.helpers import database_state

pytestmark = pytest.mark.django_db

# Ten examples a test in every run; FUZZ_EXAMPLES=500 make test for a deep run.
FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "10")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

COMMANDS = {
    "import_units": ("code", "name", "group", "group_name", "successor", "short_name"),
    "import_criteria": ("code", "parent", "title", "max_points", "kind", "guidance"),
    "import_bands": ("code", "label", "min_index"),
    "import_scores": ("unit", "criterion", "self_score", "final_score", "note"),
    "import_sipas": ("unit", "access", "procedure", "civil_servants", "result", "feedback"),
    "import_sipas_answers": ("unit", "respondent", "access", "procedure_2", "feedback"),
}
PER_SET = {name for name in COMMANDS if name != "import_units"}

# Values a careless spreadsheet, or a hostile one, may hold.
cells = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "",
            "na",
            "NA",
            "0",
            "-0",
            "1.5",
            "1,5",
            "1e308",
            "NaN",
            "inf",
            "-1",
            "4.001",
            "٣",
            "99999999999999999999",
            "0.005",
            "1.2.3",
            "so-a",
            "1.1.1",
            "departments",
            "self",
            "survey",
            "bonus",
            "penalty",
            "\u202e",
            "Sở Nội vụ",
            "' OR 1=1 --",
            "<script>",
        ]
    ),
    st.decimals(allow_nan=False, allow_infinity=False, places=3).map(str),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
)


def csv_bytes(header, rows) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8", errors="surrogatepass")


@pytest.fixture
def province(cast):
    """The small province with an open 2024 round (the cast's), plus units and criteria."""
    return cast


def attempt(run, write, command, path):
    options = {"year": YEAR, "group": "departments"} if command in PER_SET else {}
    before = database_state()
    outcome = run(command, path, **options)
    assert outcome.status in (0, 1), outcome
    if outcome.status == 1:
        assert database_state() == before, "a refused import wrote something"
        assert outcome.err.strip(), "a refusal without a message"


@pytest.mark.parametrize("command", sorted(COMMANDS))
@FUZZ
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".csv", ".xlsx"]))
def test_arbitrary_bytes_are_refused_cleanly(run, write, province, command, data, suffix):
    attempt(run, write, command, write(f"fuzz{suffix}", data))


@pytest.mark.parametrize("command", sorted(COMMANDS))
@FUZZ
@given(data=st.data())
def test_arbitrary_csv_content_never_breaks_an_import(run, write, province, command, data):
    columns = COMMANDS[command]
    header = data.draw(
        st.lists(st.sampled_from([*columns, "extra", "", "CODE", " unit "]), max_size=7)
        | st.just(list(columns))
    )
    rows = data.draw(st.lists(st.lists(cells, min_size=0, max_size=len(header) + 1), max_size=6))
    attempt(run, write, command, write("fuzz.csv", csv_bytes(header, rows)))


@pytest.mark.parametrize("command", ["import_scores", "import_criteria", "import_sipas"])
@FUZZ
@given(data=st.data())
def test_arbitrary_xlsx_content_never_breaks_an_import(
    run, write, province, tmp_path, command, data
):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(COMMANDS[command]))
    printable = st.text(
        alphabet=string.ascii_letters + string.digits + string.punctuation + " ạẻốửĐđơư",
        max_size=20,
    )
    values = st.one_of(
        printable,
        st.floats(allow_nan=True),
        st.integers(-(10**15), 10**15),
        st.none(),
        st.booleans(),
    )
    for row in data.draw(st.lists(st.lists(values, max_size=7), max_size=5)):
        sheet.append(row)
    path = tmp_path / "fuzz.xlsx"
    workbook.save(path)
    attempt(run, write, command, str(path))


@FUZZ
@given(
    numbers=st.lists(st.integers(min_value=0, max_value=1_048_580), min_size=1, max_size=8),
    extra=st.lists(
        st.tuples(st.integers(0, 7), st.integers(1, 16_384), st.sampled_from(["", "x", "so-z"])),
        max_size=3,
    ),
    dimension=st.sampled_from([None, "A1", "A1:D2", "A1:XFD1048576", "B3:C4", "A1:A1048576"]),
)
def test_a_hand_built_sheet_is_read_whole_or_refused(
    run, write, province, tmp_path, numbers, extra, dimension
):
    """Rows at any number, cells at any column, any declared dimension: either every unit of
    the file is imported, or the file is refused and nothing is written."""
    from scoring.models import Unit
    from tests.scoring.test_import_limits import HEADER, inline, row_xml, write_xlsx

    Unit.objects.filter(code__startswith="fuzz-").delete()  # examples share the database
    rows = [row_xml(1, HEADER)]
    codes = set()
    for index, number in enumerate(numbers):
        code = f"fuzz-{index}"
        codes.add(code)
        stray = "".join(inline(column, number, text) for i, column, text in extra if i == index)
        rows.append(row_xml(number, (code, "Sở", "departments", "G"), extra=stray))
    path = write_xlsx(tmp_path / "units.xlsx", "".join(rows), dimension=dimension)
    attempt(run, write, "import_units", path)
    imported = set(Unit.objects.filter(code__startswith="fuzz-").values_list("code", flat=True))
    assert imported in (set(), codes), "a row of the file was left unread"


SCORE_TEXT = st.one_of(cells, st.text(max_size=12))


@FUZZ
@given(values=st.lists(SCORE_TEXT, min_size=3, max_size=3), text=st.text(max_size=200))
def test_the_self_assessment_form_never_fails(client, province, values, text):
    client.force_login(province["staff_a"])
    data = {}
    for code, value in zip(("1.1.1", "1.1.2", "3.1"), values, strict=True):
        pk = leaf(code).pk
        data.update({f"score_{pk}": value, f"method_{pk}": text, f"na_reason_{pk}": text})
        data[f"ev{pk}-document_date"] = value
        data[f"ev{pk}-document_number"] = text[:120]
    before = _rows()
    response = client.post(f"/assessments/{YEAR}/so-a/", data)
    assert response.status_code in (302, 400)
    if response.status_code == 400:
        # Each row is saved on its own: a row the page marks as not saved is left as it was.
        page = response.content.decode()
        marked = [
            code for code in ("1.1.1", "1.1.2", "3.1") if f'has-error" id="leaf-{code}"' in page
        ]
        assert marked
        after = _rows()
        empty = (None, "", False, 1)  # a leaf's row before anything is saved on it
        for code in marked:
            assert after.get(code, empty) == before.get(code, empty)


def _rows() -> dict:
    return {
        s.criterion.code: (s.self_score, s.self_method, s.not_applicable_requested, s.version)
        for s in Score.objects.select_related("criterion")
    }


@FUZZ
@given(content=st.binary(max_size=300), name=st.text(min_size=1, max_size=40))
def test_any_upload_is_checked_never_a_500(client, province, content, name):
    client.force_login(province["staff_a"])
    pk = leaf("1.1.1").pk
    # A browser never sends a name without a file name in it ("/", ".."): Django's own
    # upload object refuses to hold one, on the server as here.
    base = name.replace("\x00", "").replace("\\", "/").rsplit("/", 1)[-1]
    assume(base not in {"", ".", ".."})
    upload = SimpleUploadedFile(name.replace("\x00", ""), content)
    before = database_state()
    response = client.post(f"/assessments/{YEAR}/so-a/", {f"ev{pk}-file": upload})
    assert response.status_code in (302, 400)
    if response.status_code == 400:
        assert database_state() == before


@FUZZ
@given(
    values=st.lists(SCORE_TEXT, min_size=2, max_size=2),
    reason=st.text(max_size=100),
    version=SCORE_TEXT,
)
def test_the_appraisal_form_never_fails(client, province, values, reason, version):
    from scoring import workflow
    from scoring.models import Assessment, Round, Score, Stage

    assessment = Assessment.objects.get(unit__code="so-a", criteria_set__round__year=YEAR)
    set_stage(Stage.APPRAISAL_1)
    workflow.ensure_scores(assessment)
    client.force_login(province["appraiser_1"])
    data = {}
    for code, value in zip(("1.1.1", "1.1.2"), values, strict=True):
        score = Score.objects.get(assessment=assessment, criterion=leaf(code))
        data.update(
            {
                f"value_{score.pk}": value,
                f"reason_{score.pk}": reason,
                f"version_{score.pk}": version,
            }
        )
    before = database_state()
    response = client.post(f"/admin/scoring/assessment/{assessment.pk}/appraise/", data)
    assert response.status_code in (200, 302)
    if response.status_code == 200:
        assert database_state() == before
    assert Round.objects.get(year=YEAR).stage == Stage.APPRAISAL_1


def test_the_fuzzed_files_are_like_real_ones(write):
    """The generators above reach the real formats too (a sanity check of the fuzzing)."""
    assert b"code,parent" in csv_bytes(COMMANDS["import_criteria"], [])
    assert UNITS.startswith("code,") and CRITERIA.startswith("code,")
