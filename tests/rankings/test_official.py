"""The official and shareable side, read on the Cần Thơ demo: the decision announcing a year's
results (DOCX and PDF), the year's decision record (by publish, record_decision and the admin),
a unit's embeddable badge, the link previews and the printable report card; 404 for anything
unpublished, one build shared by every reader, and query counts that do not grow with the
number of units."""

import io
import re
import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal as D

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.utils import translation

from cchc.context import province
from rankings import card, official
from rankings.decision import Decision as Document
from rankings.decision import vi_date, vi_number
from rankings.models import Decision, Publication, PublishedResult
from rankings.tables import decimal_text
from scoring.models import CriteriaSet, Score, Unit
from scoring.roles import APPRAISER, SECRETARIAT, UNIT_STAFF, ensure_roles
from tests.cast import make_user

pytestmark = pytest.mark.django_db

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def demo_data(django_db_setup, django_db_blocker):
    """The demo, loaded once for the module (it takes seconds); each test's own changes are
    rolled back, and the module leaves the database as the migrations made it."""
    with django_db_blocker.unblock():
        call_command("load_demo", stdout=io.StringIO())
    yield
    with django_db_blocker.unblock():
        serialized = getattr(connection, "_test_serialized_contents", None)
        if serialized is None:
            # No test of the session needs a serialized rollback: a plain flush, which lets
            # post_migrate recreate the content types and permissions.
            call_command("flush", interactive=False, verbosity=0)
        else:
            # Back to the rows the migrations made, with their own ids: a plain flush would let
            # post_migrate recreate the content types under new ids, and a later test with
            # serialized_rollback would then collide with them.
            call_command("flush", interactive=False, verbosity=0, inhibit_post_migrate=True)
            connection.creation.deserialize_db_from_string(serialized)
        ensure_roles()


@pytest.fixture
def demo(demo_data, db):
    return demo_data


def get(client, url, language="vi"):
    client.cookies["django_language"] = language
    return client.get(url)


def published(client, year):
    """Every group published for ``year``, with its results, from the API."""
    index = client.get("/api/v1/").json()
    groups = [g["code"] for y in index["years"] if y["year"] == year for g in y["groups"]]
    assert groups, index
    return [client.get(f"/api/v1/rankings/{year}/{group}/").json() for group in groups]


def vi(value: str) -> str:
    """An API decimal ("95.25") the Vietnamese way ("95,25")."""
    return vi_number(D(value))


# The decision -----------------------------------------------------------------------------------


def docx_text(content: bytes):
    from docx import Document

    document = Document(io.BytesIO(content))
    paragraphs = [p.text for p in document.paragraphs]
    rows = []
    for table in document.tables:
        for row in table.rows:
            cells = [cell.text for cell in row.cells]
            rows.append(cells)
            for cell in row.cells:
                paragraphs.extend(p.text for p in cell.paragraphs)
    return "\n".join(paragraphs), rows


def pdf_text(content: bytes) -> str:
    from pypdf import PdfReader

    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    return re.sub(r"[ \t\u00a0]+", " ", text)  # justified lines are read with wider spaces


LAYOUT = [
    "ỦY BAN NHÂN DÂN",
    "THÀNH PHỐ CẦN THƠ",
    "/QĐ-UBND",
    "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
    "Độc lập - Tự do - Hạnh phúc",
    "Cần Thơ, ngày",
    "QUYẾT ĐỊNH",
    "Về việc công bố Chỉ số cải cách hành chính năm 2023",
    "Căn cứ",
    "Điều 1.",
    "Điều 2.",
    "Điều 3.",
    "Nơi nhận:",
    "KT. CHỦ TỊCH",
    "PHÓ CHỦ TỊCH",
    "Phụ lục I",
    "Phụ lục II",
]


def test_the_decision_docx_lists_every_unit_rank_and_index_of_the_year(client, demo):
    response = client.get("/decisions/2023.docx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    # Named like every download: the province, what it is, the year.
    assert response["Content-Disposition"] == (
        'attachment; filename="can-tho-quyet-dinh-chi-so-cchc-2023.docx"'
    )
    text, rows = docx_text(response.content)
    for words in LAYOUT:
        assert words in text, words
    by_name = {row[1]: row for row in rows if len(row) > 5}
    groups = published(client, 2023)
    assert [g["group_name"] for g in groups] == ["Sở, ban, ngành", "UBND quận, huyện"]
    for group in groups:
        assert f"CỦA {group['group_name'].upper()}" in text
        for result in group["results"]:
            row = by_name[result["name"]]
            assert row[0] == str(result["rank"])
            assert row[-2] == vi(result["index"])  # 95,25: a decimal comma
            assert row[-1] == result["band_label"]
            assert row[-4] == vi(result["points"])
            # Each field's index; a field of bonus or penalty points only: its points, signed.
            assert row[2:-4] == [
                vi(f["index"]) if f["index"] is not None else vi_number(D(f["points"]), signed=True)
                for f in result["fields"]
            ]


def test_every_row_of_the_decision_docx_is_formatted_like_the_first(client, demo, monkeypatch):
    """The appendix rows are copies of one formatted row (python-docx's add_row took 10 ms a
    row: a national group's document outlived the server's 30 s): every row keeps the widths,
    the alignment and the bold index, and python-docx adds one row per appendix, not per unit."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.table import Table

    added = []
    original = Table.add_row
    monkeypatch.setattr(Table, "add_row", lambda table: added.append(1) or original(table))
    document = Document(io.BytesIO(client.get("/decisions/2023.docx").content))
    appendices = [table for table in document.tables if len(table.columns) > 5]
    assert len(added) == len(appendices) == 2
    for table in appendices:
        body = table.rows[1:]
        assert len(body) > 5
        for row in body:
            cells = row.cells
            assert [c.width for c in cells] == [c.width for c in table.rows[0].cells]
            name, index = cells[1].paragraphs[0], cells[-2].paragraphs[0]
            assert name.alignment == WD_ALIGN_PARAGRAPH.LEFT
            assert cells[0].paragraphs[0].alignment == WD_ALIGN_PARAGRAPH.CENTER
            assert index.alignment == WD_ALIGN_PARAGRAPH.RIGHT
            assert [r.bold for r in index.runs] == [True] and not name.runs[0].bold
            assert name.runs[0].font.size.pt == 10


def test_the_decision_pdf_lists_every_unit_rank_and_index_of_the_year(client, demo):
    response = client.get("/decisions/2023.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = pdf_text(response.content)
    for words in LAYOUT:
        assert words in text, words
    for group in published(client, 2023):
        for result in group["results"]:
            row = re.compile(
                rf"^{result['rank']} {re.escape(result['name'])} .*"
                rf"{re.escape(vi(result['index']))} {re.escape(result['band_label'])}$",
                re.MULTILINE,
            )
            assert row.search(text), result["name"]


def test_a_year_of_three_groups_and_a_hundred_communes_has_every_unit(client, demo):
    text = pdf_text(client.get("/decisions/2025.pdf").content)
    groups = published(client, 2025)
    assert sum(len(g["results"]) for g in groups) > 100
    for group in groups:
        for result in group["results"]:
            assert re.search(
                rf"^{result['rank']} {re.escape(result['name'])} .*{re.escape(vi(result['index']))}",
                text,
                re.MULTILINE,
            ), result["name"]


@pytest.mark.parametrize(
    "url", ["/decisions/2026.pdf", "/decisions/2026.docx", "/decisions/2019.pdf"]
)
def test_a_year_with_nothing_published_has_no_decision(client, demo, url):
    # 2026 is the demo's open round: scored, never published.
    assert client.get(url).status_code == 404


def ninh_kieu(client) -> tuple[str, str]:
    """Quận Ninh Kiều's points and index of 2023, from the API, the Vietnamese way."""
    group = client.get("/api/v1/rankings/2023/districts/").json()
    result = next(r for r in group["results"] if r["name"] == "quận Ninh Kiều")
    return vi(result["points"]), vi(result["index"])


def ninh_kieu_line(text: str) -> str:
    """Quận Ninh Kiều's appendix row: rank, name, field indices, points, maximum, index, band."""
    (line,) = re.findall(r"^\d+ quận Ninh Kiều .*$", text, re.MULTILINE)
    return line


def test_the_decision_says_only_what_is_published(client, demo):
    """An erratum replaces its group's appendix: the old version's figures are gone, the new
    ones are there; the version and the reason are cited."""
    old_points, old_index = ninh_kieu(client)
    assert f"{old_points} " in ninh_kieu_line(pdf_text(client.get("/decisions/2023.pdf").content))
    # The council lowers one of Ninh Kiều's final scores by 1.5 points.
    score = next(
        score
        for score in Score.objects.filter(
            assessment__unit__name="quận Ninh Kiều",
            assessment__criteria_set__round__year=2023,
            criterion__kind="self",
        ).order_by("criterion__code")
        if (score.appraisal_2 or score.appraisal_1 or 0) >= 2
    )
    final = (score.appraisal_2 or score.appraisal_1) - D("1.5")
    Score.objects.filter(pk=score.pk).update(appraisal_1=final, appraisal_2=None)
    call_command(
        "publish",
        year=2023,
        group="districts",
        reason="Sửa điểm lĩnh vực 3 của quận Ninh Kiều",
        stdout=io.StringIO(),
    )
    points, index = ninh_kieu(client)
    assert (points, index) != (old_points, old_index)
    text = pdf_text(client.get("/decisions/2023.pdf").content)
    assert "phiên bản 2" in text and "Sửa điểm lĩnh vực 3 của quận Ninh Kiều" in text
    line = ninh_kieu_line(text)
    assert f" {points} " in line and f" {index} " in line, line
    assert f" {old_points} " not in line and f" {old_index} " not in line, line


# The year's decision record ----------------------------------------------------------------------


def decision_texts(client, year=2023):
    return [
        docx_text(client.get(f"/decisions/{year}.docx").content)[0],
        pdf_text(client.get(f"/decisions/{year}.pdf").content),
    ]


def assert_shown(client, number, day_vi, signer):
    """Both groups' ranking pages and both documents show the year's decision."""
    for group in ("departments", "districts"):
        page = get(client, f"/rankings/2023/{group}/", "vi").content.decode()
        assert f"số {number}" in page and f"người ký {signer}" in page, group
        assert 'href="/decisions/2023.pdf"' in page and 'href="/decisions/2023.docx"' in page
    for text in decision_texts(client):
        assert f"Số: {number}" in text
        assert f"Cần Thơ, {day_vi}" in text
        assert signer in text
        # The appendices cite the decision they belong to.
        assert f"Kèm theo Quyết định số {number} {day_vi}" in text


def test_publish_records_the_years_decision_once_for_every_group(client, demo):
    """One decision per year: publishing one group with the options records it for the year;
    both groups' pages and the documents show it."""
    call_command(
        "publish",
        year=2023,
        group="departments",
        reason="Sửa điểm",
        decision_number="512/QĐ-UBND",
        decision_date=date(2024, 2, 28),
        signed_by="Nguyễn Văn A",
        stdout=io.StringIO(),
    )
    decision = Decision.objects.get(year=2023)
    assert (decision.number, decision.date, decision.signed_by) == (
        "512/QĐ-UBND",
        date(2024, 2, 28),
        "Nguyễn Văn A",
    )
    assert Publication.objects.current(2023, "districts").version == 1  # not re-published
    page = get(client, "/rankings/2023/districts/", "en").content.decode()
    assert "No. 512/QĐ-UBND, 28 Feb 2024, signed by Nguyễn Văn A" in page
    assert_shown(client, "512/QĐ-UBND", "ngày 28 tháng 02 năm 2024", "Nguyễn Văn A")
    # The API's documented answer is unchanged (contracts.md does not list the decision there).
    api = client.get("/api/v1/rankings/2023/departments/").json()
    assert not any("decision" in key for key in api)
    # Publishing again without the options leaves the decision as it is.
    call_command("publish", year=2023, group="districts", reason="x", stdout=io.StringIO())
    decision.refresh_from_db()
    assert (decision.number, decision.signed_by) == ("512/QĐ-UBND", "Nguyễn Văn A")


def test_record_decision_records_it_without_publishing(client, run, demo):
    """No new version, so no erratum and nothing outdated; the cached documents and pages
    change at once."""
    versions = list(Publication.objects.values_list("pk", "version", "checksum"))
    outdated = client.get("/api/v1/rankings/2024/districts/").json()["baseline_outdated"]
    old_pdf = client.get("/decisions/2023.pdf")
    old_page = client.get("/rankings/2023/districts/")
    assert "Số: /QĐ-UBND" in pdf_text(old_pdf.content)  # a draft: nothing recorded yet
    outcome = run(
        "record_decision",
        "--year=2023",
        "--number=512/QĐ-UBND",
        "--date=2024-02-28",
        "--signed-by=Nguyễn Văn A",
    )
    assert outcome.status == 0, outcome.err
    assert "512/QĐ-UBND" in outcome.out
    assert list(Publication.objects.values_list("pk", "version", "checksum")) == versions
    assert client.get("/api/v1/rankings/2024/districts/").json()["baseline_outdated"] == outdated
    new_pdf = client.get("/decisions/2023.pdf", HTTP_IF_NONE_MATCH=old_pdf["ETag"])
    assert new_pdf.status_code == 200 and new_pdf["ETag"] != old_pdf["ETag"]
    new_page = client.get("/rankings/2023/districts/", HTTP_IF_NONE_MATCH=old_page["ETag"])
    assert new_page.status_code == 200 and new_page["ETag"] != old_page["ETag"]
    assert_shown(client, "512/QĐ-UBND", "ngày 28 tháng 02 năm 2024", "Nguyễn Văn A")
    # Only the options given change.
    assert run("record_decision", "--year=2023", "--signed-by=Trần Thị B").status == 0
    assert_shown(client, "512/QĐ-UBND", "ngày 28 tháng 02 năm 2024", "Trần Thị B")
    assert Decision.objects.count() == 1


def test_record_decision_refuses_and_writes_nothing(run, demo):
    assert run("record_decision", "--year=2023").status != 0  # nothing to record
    assert run("record_decision", "--year=2023", "--date=28-02-2024").status != 0
    outcome = run("record_decision", "--year=2023", "--number=512\u202e/QĐ")
    assert outcome.status == 1 and "U+202E" in outcome.err
    assert run("record_decision", "--year=2023", f"--signed-by={'x' * 201}").status == 1
    assert not Decision.objects.exists()


def test_the_command_refuses_a_date_that_is_not_iso(run, demo):
    outcome = run(
        "publish", "--decision-date", "28-02-2024", year=2023, group="districts", reason="x"
    )
    assert outcome.status != 0
    assert Publication.objects.current(2023, "districts").version == 1
    assert not Decision.objects.exists()


def test_the_decision_details_are_checked(run, demo):
    outcome = run(
        "publish",
        year=2023,
        group="districts",
        reason="x",
        decision_number="512\u202e/QĐ",
    )
    assert outcome.status == 1
    assert "U+202E" in outcome.err
    assert Publication.objects.current(2023, "districts").version == 1
    assert not Decision.objects.exists()


def test_the_admin_publish_page_records_the_decision(client, demo):
    client.force_login(User.objects.create_superuser("root", "root@example.org", "x"))
    criteria_set = CriteriaSet.objects.get(round__year=2023, group__code="districts")
    fields = {
        "criteria_set": criteria_set.pk,
        "reason": "Sửa điểm",
        "decision_number": "77/QĐ-UBND",
        "decision_date": "2024-03-01",
        "decision_signed_by": "Trần Thị B",
    }
    preview = client.post("/admin/rankings/publication/publish/", fields)
    assert preview.status_code == 200
    assert 'value="77/QĐ-UBND"' in preview.content.decode()  # kept for the confirmation
    assert "Chưa ghi nhận quyết định nào cho năm này." in preview.content.decode()
    done = client.post(
        "/admin/rankings/publication/publish/", {**fields, "confirmed": criteria_set.pk}
    )
    assert done.status_code == 302
    assert Publication.objects.current(2023, "districts").version == 2
    decision = Decision.objects.get(year=2023)
    assert (decision.number, decision.date, decision.signed_by) == (
        "77/QĐ-UBND",
        date(2024, 3, 1),
        "Trần Thị B",
    )


@pytest.fixture
def people(demo):
    ensure_roles()
    unit = Unit.objects.get(name="Sở Nội vụ").code
    return {
        "anonymous": None,
        "unit_staff": make_user("d-staff", UNIT_STAFF, unit=unit),
        "appraiser": make_user("d-appraiser", APPRAISER, is_staff=True),
        "secretariat": make_user("d-secretariat", SECRETARIAT, is_staff=True),
        "root": User.objects.create_superuser("d-root", "d-root@example.org", "x"),
    }


DECISION_FORM = {
    "year": "2023",
    "number": "512/QĐ-UBND",
    "date": "2024-02-28",
    "signed_by": "Nguyễn Văn A",
}


@pytest.mark.parametrize("who", ["anonymous", "unit_staff", "appraiser"])
def test_only_the_secretariat_records_the_decision_in_the_admin(client, people, who):
    Decision.objects.create(year=2024, number="1/QĐ-UBND")
    recorded = Decision.objects.get(year=2024)
    if people[who] is not None:
        client.force_login(people[who])
    urls = [
        "/admin/rankings/decision/",
        "/admin/rankings/decision/add/",
        f"/admin/rankings/decision/{recorded.pk}/change/",
        f"/admin/rankings/decision/{recorded.pk}/delete/",
    ]
    refused = (302,) if who in ("anonymous", "unit_staff") else (403,)
    for url in urls:
        assert client.get(url).status_code in refused, url
        data = {**DECISION_FORM, "post": "yes"}
        assert client.post(url, data).status_code in refused, url
    assert list(Decision.objects.values_list("year", "number", "date", "signed_by")) == [
        (2024, "1/QĐ-UBND", None, "")
    ]


@pytest.mark.parametrize("who", ["secretariat", "root"])
def test_the_secretariat_records_the_decision_in_the_admin(client, people, who):
    client.force_login(people[who])
    pdf = client.get("/decisions/2023.pdf")
    assert client.get("/admin/rankings/decision/add/").status_code == 200
    assert client.post("/admin/rankings/decision/add/", DECISION_FORM).status_code == 302
    recorded = Decision.objects.get(year=2023)
    assert (recorded.number, recorded.date, recorded.signed_by) == (
        "512/QĐ-UBND",
        date(2024, 2, 28),
        "Nguyễn Văn A",
    )
    url = f"/admin/rankings/decision/{recorded.pk}/change/"
    assert client.get(url).status_code == 200
    changed = {**DECISION_FORM, "year": "2030", "signed_by": "Trần Thị B"}
    assert client.post(url, changed).status_code == 302
    recorded.refresh_from_db()
    assert (recorded.year, recorded.signed_by) == (2023, "Trần Thị B")  # the year stays
    # A control character is refused; nobody deletes a decision.
    assert client.post(url, {**DECISION_FORM, "signed_by": "A\u202eB"}).status_code == 200
    assert client.get(f"/admin/rankings/decision/{recorded.pk}/delete/").status_code == 403
    assert client.post(f"/admin/rankings/decision/{recorded.pk}/delete/", {"post": "yes"})
    assert Decision.objects.get(year=2023).signed_by == "Trần Thị B"
    # The cached document changed.
    again = client.get("/decisions/2023.pdf", HTTP_IF_NONE_MATCH=pdf["ETag"])
    assert again.status_code == 200 and "Trần Thị B" in pdf_text(again.content)


def test_a_bare_number_gets_the_kind_of_document():
    decision = Document(2023, province("Cần Thơ", "thành phố"), "512", None, "", "")
    assert decision.number_line == "Số: 512/QĐ-UBND"
    assert Document(2023, province("Hậu Giang", "tỉnh"), "", None, "", "").issuing_body == (
        "ỦY BAN NHÂN DÂN TỈNH HẬU GIANG"
    )


@override_settings(PROVINCE_NAME="")
def test_without_a_province_name_the_decision_leaves_the_place_to_fill_in(demo):
    document = official.year_decision(2023, official.year_publications(2023))
    assert document.issuing_body == "ỦY BAN NHÂN DÂN THÀNH PHỐ"
    assert document.place_and_date == "……, ngày …… tháng …… năm ……"
    assert "trên địa bàn thành phố" in document.subject
    assert "  " not in document.subject and not document.subject.endswith(" ")
    with translation.override("en"):
        assert str(province().title) == "the city"


def test_dates_are_written_as_decree_30_says():
    assert vi_date(date(2024, 2, 8)) == "ngày 08 tháng 02 năm 2024"
    assert vi_date(date(2024, 11, 28)) == "ngày 28 tháng 11 năm 2024"
    assert vi_date(date(2024, 3, 1)) == "ngày 01 tháng 3 năm 2024"
    assert vi_number(D("95.255")) == "95,26" and vi_number(D("0.005")) == "0,01"


def test_numbers_are_rounded_half_up_before_they_are_formatted():
    """One rule for every number shown: half-up to two decimals (``number_format`` alone cuts
    95.255 to 95.25); ``vi_number`` is its Vietnamese form."""
    with translation.override("en"):
        assert decimal_text(D("95.255")) == "95.26"
        assert decimal_text(D("0.005")) == "0.01" and decimal_text(None) == "—"
        publication = Publication(year=2025, unit_count=15, group_name="Sở, ban, ngành")
        result = PublishedResult(
            publication=publication,
            unit_name="Sở A",
            index=D("95.255"),
            band_label="Rất tốt",
            rank=3,
        )
        assert card.figures(result)["line"] == "95.26 · Rất tốt · rank 3 of 15"
        assert card.description(result).startswith("Sở A: index 95.26, Rất tốt, rank 3 of 15")
    with translation.override("vi"):
        assert decimal_text(D("95.255")) == vi_number(D("95.255")) == "95,26"


# The badge ------------------------------------------------------------------------------------


def test_the_badge_is_valid_svg_with_the_units_latest_figures(client, demo):
    response = get(client, "/units/so-noi-vu/badge.svg", "vi")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("image/svg+xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{SVG}svg"
    texts = [t.text for t in root.iter(f"{SVG}text")]
    latest = client.get("/api/v1/rankings/2025/departments/").json()
    result = next(r for r in latest["results"] if r["unit"] == "so-noi-vu")
    figures = root.find(f"{SVG}text[@data-index]")
    assert figures.get("data-index") == result["index"]
    assert figures.get("data-rank") == str(result["rank"])
    assert figures.get("data-total") == str(len(latest["results"]))
    assert figures.get("data-year") == "2025"
    assert f"{vi(result['index'])} · {result['band_label']}" in figures.text
    assert f"xếp thứ {result['rank']}/{len(latest['results'])}" in figures.text
    english = ET.fromstring(get(client, "/units/so-noi-vu/badge.svg", "en").content)
    assert f"rank {result['rank']} of {len(latest['results'])}" in "".join(english.itertext())
    assert "Sở Nội vụ" in texts
    assert any("2025" in t and "Cần Thơ" in t for t in texts)
    assert root.find(f"{SVG}title").text


def test_only_the_badge_may_be_framed_by_other_sites(client, demo):
    badge = client.get("/units/so-noi-vu/badge.svg")
    assert not badge.has_header("X-Frame-Options")
    assert "frame-ancestors *" in badge["Content-Security-Policy"]
    assert badge["Cross-Origin-Resource-Policy"] == "cross-origin"
    # A quick copy and a revalidation answer the same.
    again = client.get("/units/so-noi-vu/badge.svg")
    assert not again.has_header("X-Frame-Options")
    assert "frame-ancestors *" in again["Content-Security-Policy"]
    for url in (
        "/units/so-noi-vu/",
        "/",
        "/rankings/2023/departments/",
        "/units/so-noi-vu/2025/report/",
        "/units/so-noi-vu/card.png",
        "/decisions/2023.pdf",
        "/units/nobody/badge.svg",
    ):
        response = client.get(url)
        assert response["X-Frame-Options"] == "DENY", url
        assert "frame-ancestors 'none'" in response["Content-Security-Policy"], url


def test_the_unit_page_offers_the_badge_snippet_and_the_report_card(client, demo):
    body = get(client, "/units/so-noi-vu/", "en").content.decode()
    assert 'src="/units/so-noi-vu/badge.svg"' in body
    # The snippet, escaped in a text area, with absolute addresses.
    assert (
        "&lt;a href=&quot;http://127.0.0.1:8000/units/so-noi-vu/&quot;&gt;&lt;img "
        "src=&quot;http://127.0.0.1:8000/units/so-noi-vu/badge.svg&quot;"
    ) in body
    assert 'href="/units/so-noi-vu/2025/report/"' in body
    # The share block's style sheet is loaded in the head, not in the middle of the body.
    head = body.split("</head>")[0]
    assert 'href="/static/css/official.css"' in head
    assert body.count("css/official.css") == 1


@pytest.mark.parametrize(
    "url",
    [
        "/units/nobody/badge.svg",
        "/units/nobody/card.png",
        "/units/nobody/2023/report/",
        "/units/so-noi-vu/2026/report/",  # the open round
        "/units/so-noi-vu/2019/report/",
    ],
)
def test_nothing_unpublished_has_a_badge_card_or_report(client, demo, url):
    assert client.get(url).status_code == 404


def test_a_unit_without_any_publication_has_no_badge(client, demo):
    # A unit of the register that was never ranked (created after the last publication).
    from scoring.models import Unit, UnitGroup

    Unit.objects.create(code="so-moi", name="Sở Mới", group=UnitGroup.objects.first())
    assert client.get("/units/so-moi/badge.svg").status_code == 404
    assert client.get("/units/so-moi/card.png").status_code == 404


# Link previews --------------------------------------------------------------------------------


def meta(body: str) -> dict:
    return dict(re.findall(r'<meta (?:property|name)="([^"]+)" content="([^"]*)"', body))


def test_every_page_has_a_description_and_open_graph_tags(client, demo):
    for url in (
        "/",
        "/rankings/2023/departments/",
        "/units/so-noi-vu/",
        "/units/so-noi-vu/2025/report/",
    ):
        tags = meta(get(client, url, "en").content.decode())
        for name in (
            "description",
            "og:title",
            "og:description",
            "og:type",
            "og:url",
            "og:image",
            "twitter:card",
        ):
            assert tags.get(name), (url, name)
        assert tags["og:url"] == "http://127.0.0.1:8000" + url
        assert tags["og:image"].startswith("http://127.0.0.1:8000/")
        assert tags["twitter:card"] == "summary_large_image"
    unit = meta(get(client, "/units/so-noi-vu/", "en").content.decode())
    assert unit["og:image"] == "http://127.0.0.1:8000/units/so-noi-vu/card.png"
    assert "Sở Nội vụ" in unit["og:title"]
    api = client.get("/api/v1/rankings/2025/departments/").json()
    mine = next(r for r in api["results"] if r["unit"] == "so-noi-vu")
    assert (
        f"Sở Nội vụ: index {mine['index']}, {mine['band_label']}, rank {mine['rank']} of "
        f"{len(api['results'])} in Sở, ban, ngành, 2025."
    ) == unit["description"]
    ranking = meta(get(client, "/rankings/2023/departments/", "vi").content.decode())
    assert "Sở, ban, ngành" in ranking["og:title"] and "2023" in ranking["og:title"]
    home = meta(get(client, "/", "vi").content.decode())
    assert home["og:image"] == "http://127.0.0.1:8000/card.png"


def test_the_preview_images_are_1200_by_630_png(client, demo):
    from PIL import Image

    for url in (
        "/units/so-noi-vu/card.png",
        "/units/xa-thanh-quoi/card.png",
        "/units/so-noi-vu/2023/card.png",
        "/card.png",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Type"] == "image/png"
        image = Image.open(io.BytesIO(response.content))
        assert (image.format, image.size) == ("PNG", (1200, 630)), url


# The report card ------------------------------------------------------------------------------


def test_the_report_card_names_the_figures(client, demo):
    response = get(client, "/units/so-noi-vu/2023/report/", "en")
    assert response.status_code == 200
    body = response.content.decode()
    api = client.get("/api/v1/rankings/2023/departments/").json()
    result = next(r for r in api["results"] if r["unit"] == "so-noi-vu")
    assert len(re.findall(r"<h1[\s>]", body)) == 1
    assert "Sở Nội vụ: report card 2023" in body
    assert result["index"] in body  # English: 95.40
    assert result["band_label"] in body
    assert f"{result['rank']} of {len(api['results'])}" in body
    change = D(result["change"])
    assert f"{abs(change):.2f}" in body
    for field in result["fields"]:
        assert field["title"] in body
    assert "Where points were lost" in body
    assert 'href="/static/css/official.css"' in body.split("</head>")[0]
    vi_body = get(client, "/units/so-noi-vu/2023/report/", "vi").content.decode()
    assert vi(result["index"]) in vi_body


def test_the_report_card_fits_one_page_in_print(client, demo):
    """The print style sheet: one A4 page, the site's header and footer hidden; every field and
    the LOSSES_SHOWN largest losses, the rest counted."""
    from pathlib import Path

    from django.conf import settings

    from rankings.models import PublishedCriterion, PublishedLeaf
    from scoring.calculation import leaf_loss

    css = (Path(settings.BASE_DIR) / "static/css/official.css").read_text()
    assert "@page { size: A4 portrait" in css
    body = get(client, "/units/so-noi-vu/2023/report/", "en").content.decode()
    result = PublishedResult.objects.get(
        unit__code="so-noi-vu", publication=Publication.objects.current(2023, "departments")
    )
    kinds = {c.code: c for c in PublishedCriterion.objects.filter(publication=result.publication)}
    losses = [
        leaf
        for leaf in PublishedLeaf.objects.filter(result=result)
        if (
            leaf_loss(
                kinds[leaf.code].kind,
                kinds[leaf.code].max_points,
                leaf.final_score,
                leaf.not_applicable,
            )
            or 0
        )
        > 0
    ]
    assert official.LOSSES_SHOWN == 8 and len(losses) > official.LOSSES_SHOWN
    fields = result.fields.count()
    assert body.count('<tr><th scope="row">') == fields + official.LOSSES_SHOWN
    more = len(losses) - official.LOSSES_SHOWN
    assert f"{more} more criteri" in body


def test_the_report_cards_preview_is_the_card_of_its_year(client, demo):
    tags = meta(get(client, "/units/so-noi-vu/2023/report/", "en").content.decode())
    assert tags["og:image"] == "http://127.0.0.1:8000/units/so-noi-vu/2023/card.png"
    assert (tags["og:image:width"], tags["og:image:height"]) == ("1200", "630")
    api = client.get("/api/v1/rankings/2023/departments/").json()
    mine = next(r for r in api["results"] if r["unit"] == "so-noi-vu")
    assert tags["description"].startswith(f"Sở Nội vụ: index {mine['index']}, ")
    assert tags["description"].endswith(", 2023.")
    year_card = client.get("/units/so-noi-vu/2023/card.png")
    assert year_card.status_code == 200 and year_card["Content-Type"] == "image/png"
    assert year_card.content != client.get("/units/so-noi-vu/card.png").content  # 2025's
    assert client.get("/units/so-noi-vu/2026/card.png").status_code == 404


# One build for every reader -----------------------------------------------------------------------


def test_the_documents_and_images_are_built_once_for_every_reader(client, demo, monkeypatch):
    """Nothing in them is the reader's: logged-in readers share the stored copy, and the
    decision (Vietnamese only) is built once whatever the reader's language."""
    builds = []
    for name in ("build_pdf", "build_docx"):
        real = getattr(official, name)
        monkeypatch.setattr(
            official,
            name,
            lambda decision, real=real, name=name: builds.append(name) or real(decision),
        )
    real_png = card.unit_png
    monkeypatch.setattr(
        card,
        "unit_png",
        lambda *args: builds.append(("png", translation.get_language())) or real_png(*args),
    )
    cache.clear()
    ensure_roles()
    readers = [
        make_user("d-staff", UNIT_STAFF, unit="so-noi-vu"),
        make_user("d-other", UNIT_STAFF, unit="so-noi-vu"),
    ]
    etags = set()
    for reader, language in zip(readers, ("en", "vi"), strict=True):
        client.force_login(reader)
        response = get(client, "/decisions/2023.pdf", language)
        assert response.status_code == 200 and response.content.startswith(b"%PDF")
        assert "private" not in response["Cache-Control"]
        etags.add(response["ETag"])
        for _time in range(2):
            assert get(client, "/units/so-noi-vu/card.png", "vi").status_code == 200
    client.logout()
    assert get(client, "/decisions/2023.pdf", "en").status_code == 200
    assert builds == ["build_pdf", ("png", "vi")]
    assert len(etags) == 1


# Query budgets ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("urls", "queries"),
    [
        # The year's latest publications; its decision record; results; fields. (Their ETag
        # is made from these alone: no query for the newest publication.)
        (["/decisions/2023.docx", "/decisions/2025.docx"], 4),
        (["/decisions/2023.pdf", "/decisions/2025.pdf"], 4),
        # The unit's latest result with its publication.
        (["/units/so-noi-vu/badge.svg", "/units/xa-thanh-quoi/badge.svg"], 1),
        (["/units/so-noi-vu/card.png", "/units/xa-thanh-quoi/card.png"], 1),
        (["/units/so-noi-vu/2023/card.png", "/units/xa-thanh-quoi/2025/card.png"], 1),
        # The navigation (latest publications).
        (["/card.png"], 1),
        # The result with its publication; the newest publication (ETag); fields; the group's
        # field averages; criteria; leaves; the year's decision record.
        (["/units/so-noi-vu/2025/report/", "/units/xa-thanh-quoi/2025/report/"], 7),
    ],
)
def test_query_counts_do_not_grow_with_units(
    client, demo, urls, queries, django_assert_num_queries
):
    # 2023: 29 units in two groups; 2025: 118 in two groups (a department, a commune of 103).
    client.cookies["django_language"] = "vi"
    for url in urls:
        cache.clear()  # built, not served from a copy
        with django_assert_num_queries(queries):
            assert client.get(url).status_code == 200, url
