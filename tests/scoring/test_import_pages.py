"""The secretariat's imports in the browser (/council/imports/): the same checks and messages as
the commands, a preview that writes nothing, a confirmation that writes all or nothing, and no
one else getting in."""

from __future__ import annotations

import re
from decimal import Decimal as D
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile

from scoring import import_views
from scoring.models import Band, CriteriaSet, Criterion, Round, Score, SipasResult
from tests.factories import CRITERIA, SCORES, SIPAS, UNITS
from tests.helpers import database_state

pytestmark = pytest.mark.django_db

YEAR = 2024  # the cast's round
SURVEY = 'unit,criterion,self_score,final_score\nso-a,2.1,,9\nso-b,2.1,,"8,5"\n'
ROLES = ["staff_a", "staff_b", "head_a", "appraiser_1", "appraiser_3"]
KINDS = [kind.slug for kind in import_views.KINDS]


def upload(client, kind, content, name="file.csv", year=YEAR, group="departments"):
    data = {
        "file": SimpleUploadedFile(
            name, content if isinstance(content, bytes) else content.encode()
        )
    }
    if import_views.BY_SLUG[kind].per_set:
        data.update({"year": year, "group": group})
    return client.post(f"/council/imports/{kind}/", data)


def pending_files() -> list[Path]:
    folder = Path(settings.MEDIA_ROOT) / import_views.PENDING_FOLDER
    return sorted(folder.iterdir()) if folder.exists() else []


def problems(response) -> list[str]:
    """The problems a refused file lists, as the page shows them (tags and spaces removed)."""
    html = response.content.decode()
    block = re.search(r'id="import-problems".*?</ul>', html, re.S)
    if not block:
        return []
    items = re.findall(r"<li>(.*?)</li>", block.group(0), re.S)
    return [" ".join(re.sub(r"<[^>]+>", "", item).split()).replace("&#x27;", "'") for item in items]


def survey_score(unit):
    score = Score.objects.filter(assessment__unit__code=unit, criterion__code="2.1").first()
    return score and score.final_score


# ---------------------------------------------------------------------------------------------
# The index


def test_the_index_lists_the_seven_imports_with_their_columns_and_examples(cast, login):
    response = login(cast["secretariat"]).get("/council/imports/")
    assert response.status_code == 200
    html = response.content.decode()
    for kind in import_views.KINDS:
        assert f'href="/council/imports/{kind.slug}/"' in html
        assert f'href="/council/imports/examples/{kind.example}"' in html
    assert len(KINDS) == 7
    assert "<code>final_score</code>" in html and "<code>dissolved_on</code>" in html


def test_the_index_in_vietnamese(cast, login):
    html = login(cast["secretariat"], "vi").get("/council/imports/").content.decode()
    assert "Điểm điều tra xã hội học" in html
    assert "Tệp mẫu (survey-points.csv)" in html


def test_the_index_page_budget(cast, login, django_assert_num_queries):
    client = login(cast["secretariat"])
    client.get("/council/imports/")
    # 1 the session, 2 the user, 3-4 the user's and its groups' permissions (is_secretariat and
    # the admin's list of apps read them once); nothing per import.
    with django_assert_num_queries(4):
        assert client.get("/council/imports/").status_code == 200


def test_every_example_file_downloads_and_nothing_else(cast, login):
    client = login(cast["secretariat"])
    for kind in import_views.KINDS:
        response = client.get(f"/council/imports/examples/{kind.example}")
        assert response.status_code == 200, kind.example
        assert b"".join(response.streaming_content).startswith(b"unit,") or kind.slug in (
            "units",
            "criteria",
            "bands",
        )
    for name in ("..%2Fsettings.py", "units.csv.bak", "scores-with-errors.csv"):
        assert client.get(f"/council/imports/examples/{name}").status_code == 404


# ---------------------------------------------------------------------------------------------
# Who may


def urls_for(kind: str, token: str) -> list[str]:
    return [
        "/council/imports/",
        f"/council/imports/{kind}/",
        f"/council/imports/{kind}/{token}/",
        f"/council/imports/{kind}/{token}/confirm/",
        f"/council/imports/{kind}/{token}/cancel/",
        "/council/imports/examples/scores.csv",
    ]


@pytest.mark.parametrize("role", [*ROLES, "anonymous"])
def test_nobody_but_the_secretariat_gets_in_or_writes(cast, client, role):
    # A real preview of the secretariat waits: others must not reach it, nor confirm it.
    secretariat = client
    secretariat.force_login(cast["secretariat"])
    response = upload(secretariat, "survey-points", SURVEY)
    token = response["Location"].rstrip("/").rsplit("/", 1)[1]
    secretariat.logout()
    if role != "anonymous":
        client.force_login(cast[role])
    before, files = database_state(include_users=True), pending_files()
    for kind in KINDS:
        for url in urls_for(kind, token):
            for method in ("get", "post"):
                response = getattr(client, method)(url)
                if cast.get(role) is not None and cast[role].is_staff:
                    assert response.status_code == 403, (method, url)
                else:
                    assert response.status_code == 302, (method, url)
                    assert response["Location"].startswith("/admin/login/"), (method, url)
        response = upload(client, kind, SURVEY)
        assert response.status_code in (302, 403)
        if response.status_code == 302:
            assert response["Location"].startswith("/admin/login/")
    assert database_state(include_users=True) == before
    assert pending_files() == files
    assert survey_score("so-a") is None


def test_a_superuser_is_the_secretariat(cast, login, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.org", "pw")
    assert login(admin).get("/council/imports/").status_code == 200


def test_another_secretariat_member_cannot_confirm_my_preview(cast, client, django_user_model):
    from scoring.roles import SECRETARIAT
    from tests.cast import make_user

    other = make_user("secretariat-2", SECRETARIAT, is_staff=True)
    client.force_login(cast["secretariat"])
    token = upload(client, "survey-points", SURVEY)["Location"].rstrip("/").rsplit("/", 1)[1]
    client.force_login(other)
    before = database_state()
    assert client.get(f"/council/imports/survey-points/{token}/").status_code == 404
    assert client.post(f"/council/imports/survey-points/{token}/confirm/").status_code == 404
    assert database_state() == before


# ---------------------------------------------------------------------------------------------
# Preview and confirm


def test_survey_points_preview_writes_nothing_and_confirm_writes_them(cast, login):
    client = login(cast["secretariat"])
    before = database_state()
    response = upload(client, "survey-points", SURVEY)
    assert response.status_code == 302
    preview = client.get(response["Location"])
    assert database_state() == before  # the preview wrote nothing
    html = preview.content.decode()
    counts = re.search(r'id="import-counts".*?<tbody><tr>(.*?)</tr>', html, re.S).group(1)
    assert re.findall(r"<td>(\d+)</td>", counts) == ["2", "0", "0", "0"]
    assert "so-b · 2.1" in html and "8.50" in html  # the first changed rows, '8,5' read as 8.5
    assert len(pending_files()) == 1

    confirm = re.search(r'action="([^"]+/confirm/)"', html).group(1)
    done = client.post(confirm, follow=True)
    assert done.redirect_chain[-1][0] == "/council/imports/"
    assert "scores: 2 created, 0 updated, 0 unchanged" in done.content.decode()
    assert (survey_score("so-a"), survey_score("so-b")) == (D("9.00"), D("8.50"))
    assert pending_files() == []  # deleted after confirm
    # The same confirmation again: the preview is gone, nothing happens twice.
    assert client.post(confirm).status_code == 404

    # The same file twice changes nothing: the preview says so.
    again = client.get(upload(client, "survey-points", SURVEY)["Location"]).content.decode()
    counts = re.search(r'id="import-counts".*?<tbody><tr>(.*?)</tr>', again, re.S).group(1)
    assert re.findall(r"<td>(\d+)</td>", counts) == ["0", "0", "2", "0"]


def test_an_update_shows_the_value_before_and_after(cast, login):
    client = login(cast["secretariat"])
    client.post(upload(client, "survey-points", SURVEY)["Location"] + "confirm/")
    assert survey_score("so-a") == D("9.00")
    changed = SURVEY.replace("so-a,2.1,,9", "so-a,2.1,,7.25")
    html = client.get(upload(client, "survey-points", changed)["Location"]).content.decode()
    row = re.search(r"<th scope=\"row\">so-a · 2.1</th>(.*?)</tr>", html, re.S).group(1)
    assert "changed" in row and "9.00" in row and "7.25" in row
    assert survey_score("so-a") == D("9.00")


def test_cancel_deletes_the_file_and_writes_nothing(cast, login):
    client = login(cast["secretariat"])
    before = database_state()
    location = upload(client, "survey-points", SURVEY)["Location"]
    assert len(pending_files()) == 1
    response = client.post(location + "cancel/")
    assert response.status_code == 302
    assert pending_files() == []
    assert client.post(location + "confirm/").status_code == 404
    assert database_state() == before


def test_a_file_changed_on_disk_after_the_preview_is_not_imported(cast, login):
    client = login(cast["secretariat"])
    location = upload(client, "survey-points", SURVEY)["Location"]
    (waiting,) = pending_files()
    waiting.write_text(SURVEY.replace(",9", ",1"), encoding="utf-8")
    before = database_state()
    response = client.post(location + "confirm/", follow=True)
    assert "no longer available; nothing was written" in response.content.decode()
    assert database_state() == before
    assert pending_files() == []


def test_a_token_never_names_a_path(cast, login):
    client = login(cast["secretariat"])
    upload(client, "survey-points", SURVEY)
    for token in ("..", "..%2F..%2Fdb.sqlite3", "0" * 32, "A" * 32):
        assert client.post(f"/council/imports/survey-points/{token}/confirm/").status_code == 404
    assert survey_score("so-a") is None


def test_confirm_checks_the_database_again(cast, login, run, write):
    """Between preview and confirm, a publication or scores may make the file wrong: the import
    then refuses, all of it, and says why."""
    client = login(cast["secretariat"])
    tree = CRITERIA.replace("Ban hành kế hoạch", "Ban hành kế hoạch năm")
    location = upload(client, "criteria", tree)["Location"]
    assert "to update" in client.get(location).content.decode()
    outcome = run("import_scores", write("s.csv", SCORES), year=YEAR, group="departments")
    assert outcome.status == 0, outcome.err
    before = database_state()
    response = client.post(location + "confirm/")
    assert response.status_code == 200
    assert database_state() == before
    assert any("already has scores or a publication" in p for p in problems(response))
    assert "The data changed since the preview" in response.content.decode()


def test_the_preview_of_a_new_round_is_rolled_back(cast, login):
    client = login(cast["secretariat"])
    before = database_state()
    response = upload(client, "criteria", CRITERIA, year=2030)
    html = client.get(response["Location"]).content.decode()
    assert "round 2030 created" in html
    assert not Round.objects.filter(year=2030).exists()
    assert database_state() == before
    client.post(response["Location"] + "confirm/")
    assert CriteriaSet.objects.filter(round__year=2030, group__code="departments").exists()
    assert Criterion.objects.filter(criteria_set__round__year=2030).count() == 9


def test_every_import_gives_the_commands_report(cast, login, run, write):
    """Bands, SIPAS, SIPAS questionnaires and units, through the pages: the same summary as
    the command prints, after confirmation."""
    client = login(cast["secretariat"])
    examples = settings.BASE_DIR / "docs" / "examples"
    steps = [
        ("units", UNITS.replace("Sở Cần", "Sở Cần Thơ"), ["0", "1", "3", "0"]),
        ("bands", 'code,label,min_index\ngioi,Giỏi,"85,5"\nkem,Kém,0\n', ["2", "0", "0", "5"]),
        ("sipas", SIPAS, ["3", "0", "0", "0"]),
        ("sipas-answers", (examples / "sipas-answers.csv").read_text(encoding="utf-8"), None),
    ]
    for kind, content, counts in steps:
        path = write(f"{kind}.csv", content)
        options = {} if kind == "units" else {"year": YEAR, "group": "departments"}
        location = upload(client, kind, content)["Location"]
        html = client.get(location).content.decode()
        if counts:
            row = re.search(r'id="import-counts".*?<tbody><tr>(.*?)</tr>', html, re.S).group(1)
            assert re.findall(r"<td>(\d+)</td>", row) == counts, kind
        done = client.post(location + "confirm/", follow=True).content.decode()
        written = re.search(r"(\d+) created, (\d+) updated, (\d+) unchanged", done).groups()
        if counts:
            assert list(written) == counts[:3], kind
        # The command, run afterwards on the same file, finds nothing left to do.
        again = run(f"import_{kind.replace('-', '_')}", path, **options)
        assert again.status == 0, again.err
        assert "0 created, 0 updated" in again.out, (kind, again.out)
    criteria_set = CriteriaSet.objects.get(round__year=YEAR, group__code="departments")
    assert sorted(
        Band.objects.filter(criteria_set=criteria_set).values_list("min_index", flat=True)
    ) == [
        D("0.00"),
        D("85.50"),
    ]
    assert SipasResult.objects.filter(round__year=YEAR).count() == 3


# ---------------------------------------------------------------------------------------------
# Refused files


def test_a_wrong_file_lists_the_commands_problems_and_writes_nothing(cast, login, run, write):
    content = (
        "unit,criterion,self_score,final_score\n"
        "so-a,1.1.1,4,4.5\n"
        "so-z,2.1,,9\n"
        "so-b,2.1,8,8\n"
        'so-c,1.1.1,"1.234,5",4\n'
    )
    outcome = run("import_scores", write("bad.csv", content), year=YEAR, group="departments")
    command_lines = [line for line in outcome.err.splitlines() if line.startswith("row ")]
    assert len(command_lines) == 4
    client = login(cast["secretariat"])
    before, files = database_state(), pending_files()
    response = upload(client, "scores", content)
    assert response.status_code == 200
    assert problems(response) == command_lines
    assert "4 problems. Nothing was written." in response.content.decode()
    assert database_state() == before
    assert pending_files() == files


def test_the_problems_in_vietnamese(cast, login):
    response = upload(
        login(cast["secretariat"], "vi"),
        "scores",
        "unit,criterion,self_score,final_score\nso-a,1.1.1,4,4.5\n",
    )
    # The value as typed; the maximum the Vietnamese way (a decimal comma).
    assert problems(response) == ["dòng 2, cột final_score: 4.5 vượt quá mức tối đa 4,00"]


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("broken.xlsx", b"PK\x03\x04 not really a zip", "the file is not a valid XLSX workbook"),
        ("binary.csv", bytes(range(256)) * 4, "the file is not a CSV text file"),
        ("latin.csv", "unit,criterion\nSở".encode("cp1258", "replace") + b"\xff", "not UTF-8"),
        ("empty.csv", b"", "the file is empty"),
        ("header.csv", b"unit,criterion,self_score,final_score\n", "header but no data rows"),
        ("odd.csv", b"colour\nred\n", "row 1, column colour: unknown column"),
    ],
)
def test_a_broken_file_is_refused_without_a_500(cast, login, name, content, expected):
    client = login(cast["secretariat"])
    before = database_state()
    response = upload(client, "survey-points", content, name=name)
    assert response.status_code == 200
    assert any(expected in problem for problem in problems(response)), problems(response)
    assert database_state() == before
    assert pending_files() == []


def test_a_wrong_year_or_group_is_refused(cast, login):
    client = login(cast["secretariat"])
    before = database_state()
    response = upload(client, "survey-points", SURVEY, year=2031)
    assert problems(response) == [
        "there is no criteria set for 2031 and group 'departments': import the criteria "
        "first (import_criteria)"
    ]
    response = upload(client, "survey-points", SURVEY, group="communes")
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    response = upload(client, "survey-points", SURVEY, year="")
    assert "This field is required" in response.content.decode()
    assert database_state() == before
    assert pending_files() == []


def test_the_upload_checks_the_extension_and_the_size(cast, login, settings):
    client = login(cast["secretariat"])
    response = upload(client, "survey-points", SURVEY, name="survey.txt")
    assert "unsupported file type &#x27;.txt&#x27;: use .csv or .xlsx" in response.content.decode()
    settings.IMPORT_UPLOAD_MAX_BYTES = 1024 * 1024
    response = upload(client, "survey-points", SURVEY + "so-c,2.1,,8\n" * 90_000)
    assert "larger than 1 MB" in response.content.decode()
    assert pending_files() == []
    assert survey_score("so-c") is None


def test_the_file_input_accepts_only_csv_and_xlsx(cast, login):
    html = login(cast["secretariat"]).get("/council/imports/scores/").content.decode()
    assert 'type="file" name="file" accept=".csv,.xlsx"' in html
    html = login(cast["secretariat"]).get("/council/imports/units/").content.decode()
    assert 'name="year"' not in html and 'name="group"' not in html


def test_an_xlsx_file_imports_through_the_page(cast, login, tmp_path):
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.append(["unit", "criterion", "self_score", "final_score"])
    workbook.active.append(["so-a", "2.1", None, "9,75"])
    path = tmp_path / "survey.xlsx"
    workbook.save(path)
    client = login(cast["secretariat"])
    location = upload(client, "survey-points", path.read_bytes(), name="Survey.XLSX")["Location"]
    client.post(location + "confirm/")
    assert survey_score("so-a") == D("9.75")


def test_old_waiting_files_are_deleted(cast, login):
    import os
    import time

    client = login(cast["secretariat"])
    upload(client, "survey-points", SURVEY)
    (old,) = pending_files()
    stale = time.time() - import_views.PENDING_SECONDS - 60
    os.utime(old, (stale, stale))
    upload(client, "sipas", SIPAS)
    assert old not in pending_files()
    assert len(pending_files()) == 1
