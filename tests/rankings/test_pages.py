"""The public pages: what they show, in both languages, only from publications, cheaply."""

import csv
import io
import re
import zipfile
from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from rankings.models import Publication
from tests.factories import load_small_province

from .test_api import grow_province

pytestmark = pytest.mark.django_db

PAGES = [
    "/",
    "/rankings/2023/departments/",
    "/rankings/2023/departments/?sort=-index",
    "/sipas/2023/departments/",
    "/units/so-a/",
    "/units/so-b/?year=2022",
    "/methodology/2023/departments/",
    "/versions/2023/departments/",
]


@pytest.fixture
def two_years(run, write):
    load_small_province(run, write, year=2022)
    load_small_province(run, write, year=2023, publish=False)
    fix = "unit,criterion,self_score,final_score,note\nso-b,1.1.1,4,4,Đã ban hành đúng hạn\n"
    run("import_scores", write("fix.csv", fix), year=2023, group="departments")
    assert run("publish", year=2023, group="departments").status == 0


def get(client, url, language="vi", **headers):
    client.cookies["django_language"] = language
    return client.get(url, **headers)


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize("url", PAGES)
def test_every_public_page_answers_with_one_h1_in_both_languages(client, two_years, url, language):
    response = get(client, url, language)
    assert response.status_code == 200
    body = response.content.decode()
    assert len(re.findall(r"<h1[\s>]", body)) == 1
    assert f'<html lang="{language}">' in body


def test_the_404_page_has_one_h1(client, two_years):
    response = get(client, "/rankings/1999/departments/")
    assert response.status_code == 404
    assert len(re.findall(r"<h1[\s>]", response.content.decode())) == 1


def test_pages_load_nothing_from_the_internet(client, two_years):
    for url in PAGES:
        body = get(client, url).content.decode()
        assert not re.search(r'<(script|link|img|iframe)[^>]+(src|href)="(https?:)?//', body), url


def test_nothing_unpublished_reaches_the_public(client, run, write, two_years):
    # 2024 has scores but is not published.
    load_small_province(run, write, year=2024, publish=False)
    assert get(client, "/rankings/2024/departments/").status_code == 404
    assert get(client, "/sipas/2024/departments/").status_code == 404
    assert get(client, "/methodology/2024/departments/").status_code == 404
    assert get(client, "/data/2024/").status_code == 404
    assert "2024" not in get(client, "/units/so-a/").content.decode()
    # A unit with nothing published has no page.
    run("import_units", write("u.csv", "code,name,group,group_name\nso-new,Sở Mới,departments,\n"))
    assert get(client, "/units/so-new/").status_code == 404


def test_the_home_page_shows_band_counts_averages_top_and_bottom(client, two_years):
    body = get(client, "/", "en").content.decode()
    assert "Administrative reform index 2023" in body
    assert '<figure class="chart-figure strip"' in body  # the band picture, with its legend
    assert '<span lang="vi">Rất tốt</span>: <strong class="num">1</strong>' in body
    # (97.50 + 87.50 + 85.71) / 3 = 90.24, against (97.50 + 82.50 + 85.71) / 3 = 88.57 in 2022.
    assert "90.24" in body and "▲ +1.67" in body
    assert "/rankings/2023/departments/" in body and "/data/2023/" in body


def test_the_ranking_table_sorts_by_every_column(client, two_years):
    table = get(client, "/rankings/2023/departments/").context["table"]
    assert [row.get_cell_value("unit_name") for row in table.rows] == ["Sở An", "Sở Bình", "Sở Cần"]
    by_field_2 = get(client, "/rankings/2023/departments/?sort=-field_1").context["table"]
    assert [row.record.unit_code for row in by_field_2.rows][0] == "so-a"  # field 2: 90, 80, 80
    ascending = get(client, "/rankings/2023/departments/?sort=index").context["table"]
    assert [row.record.unit_code for row in ascending.rows] == ["so-c", "so-b", "so-a"]
    by_change = get(client, "/rankings/2023/departments/?sort=-change").context["table"]
    assert by_change.rows[0].record.unit_code == "so-b"  # +5.00


def test_the_ranking_table_filters_by_band(client, two_years):
    table = get(client, "/rankings/2023/departments/?band=tot").context["table"]
    assert {row.record.band_code for row in table.rows} == {"tot"}
    assert [row.record.unit_code for row in table.rows] == ["so-b", "so-c"]


def test_change_is_shown_with_an_arrow_not_only_a_colour(client, two_years):
    body = get(client, "/rankings/2023/departments/", "en").content.decode()
    assert "▲ +5.00" in body  # so-b
    assert "= 0.00" in body


@pytest.mark.parametrize("export", ["csv", "xlsx"])
def test_downloads_have_the_same_numbers_as_the_page_and_the_api(client, two_years, export):
    response = get(client, f"/rankings/2023/departments/?_export={export}")
    assert response.status_code == 200
    api = {r["unit"]: r for r in client.get("/api/v1/rankings/2023/departments/").json()["results"]}
    names = {r["name"]: r for r in api.values()}
    # Rank, unit, then the ranked index, its band and its change; the header row first.
    if export == "csv":
        assert response.content.startswith(b"\xef\xbb\xbf")  # Excel on Windows reads UTF-8
        rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
        header, data = rows[0], rows[1:]
        assert header[:5] == ["Thứ hạng", "Đơn vị", "Chỉ số", "Xếp loại", "Tăng/giảm"]
        for row in data:
            assert D(row[2]) == D(names[row[1]]["index"])
            assert row[3] == names[row[1]]["band_label"]
    else:
        workbook = load_workbook(io.BytesIO(response.content))
        sheet = workbook.active
        assert workbook.sheetnames == ["Bảng xếp hạng năm 2023"]
        rows = list(sheet.iter_rows(values_only=True))
        title, source, header = rows[0][0], rows[1][0], rows[2]
        assert "2023" in title and "Sở, ban, ngành" in title and "phiên bản 1" in title
        assert source.endswith("/rankings/2023/departments/")
        assert header[:3] == ("Thứ hạng", "Đơn vị", "Chỉ số")
        assert sheet.freeze_panes == "C4"  # rank, unit and the header stay in view
        rows = rows[2:]
        for cells, row in zip(sheet.iter_rows(min_row=4), rows[1:], strict=True):
            assert isinstance(row[2], (int, float, D))  # a number, not text
            assert cells[2].number_format == "0.00"
            assert D(str(row[2])).quantize(D("0.01")) == D(names[row[1]]["index"])
            assert isinstance(row[0], int)
    assert len(rows) == 1 + len(api)
    assert "-2023-departments-v1." in response["Content-Disposition"]


def test_the_open_data_bundle_has_every_table_and_leaf(client, two_years):
    response = get(client, "/data/2023/")
    assert response.status_code == 200
    bundle = zipfile.ZipFile(io.BytesIO(response.content))
    names = set(bundle.namelist())
    assert {
        "README.txt",
        "rankings-departments.csv",
        "fields-departments.csv",
        "leaves-departments.csv",
        "criteria-departments.csv",
        "bands-departments.csv",
        "sipas-departments.csv",
        "versions.csv",
    } <= names
    assert all(bundle.read(name).startswith(b"\xef\xbb\xbf") for name in names)

    def table(name):
        return list(csv.DictReader(io.StringIO(bundle.read(name).decode("utf-8-sig"))))

    codebook = bundle.read("README.txt").decode("utf-8-sig")
    assert "dữ liệu mở năm 2023" in codebook and "open data 2023" in codebook
    assert "rankings-<khối>.csv" in codebook and "rankings-<group>.csv" in codebook
    rankings = table("rankings-departments.csv")
    api = {r["unit"]: r for r in client.get("/api/v1/rankings/2023/departments/").json()["results"]}
    assert {r["unit"]: r["index"] for r in rankings} == {k: v["index"] for k, v in api.items()}
    leaves = table("leaves-departments.csv")
    assert len(leaves) == 3 * 5  # three units, five leaves
    note = next(r for r in leaves if r["unit"] == "so-b" and r["criterion"] == "1.1.1")
    assert (note["final_score"], note["note"]) == ("4.00", "Đã ban hành đúng hạn")


def test_the_unit_page_tells_where_points_were_lost(client, two_years):
    body = get(client, "/units/so-c/", "en").content.decode()
    assert "Sở Cần" in body
    # so-c: 12 of 14 points, 85.71 (Tốt): 90 % of 14 = 12.60, so 0.60 more reach Rất tốt.
    assert '0.60 more points would have reached “<span lang="vi">Rất tốt</span>”.' in body
    assert "Không có nhiệm vụ" in body  # the council's public note
    assert "not applicable" in body
    assert body.count('<figure class="chart-figure') == 2  # the years and the fields


def test_the_unit_page_tells_the_units_story(client, run, write, two_years):
    lineage = (
        "code,name,group,group_name,successor,dissolved_on,dissolved_reason\n"
        "so-c,Sở Cần,departments,,so-a,2025-07-01,\n"
        "quan-x,quận Xuân,districts,,,2025-07-01,bỏ cấp huyện\n"
    )
    assert run("import_units", write("m.csv", lineage)).status == 0
    ceased = get(client, "/units/so-c/").content.decode()
    assert "Ngừng hoạt động ngày 01/07/2025" in ceased and "/units/so-a/" in ceased
    # so-a was ranked before the merger: it took Sở Cần over, it was not formed from it.
    took_over = get(client, "/units/so-a/").content.decode()
    assert "Ngày 01/07/2025 tiếp nhận:" in took_over and "/units/so-c/" in took_over
    assert "Thành lập" not in took_over
    assert "85,71" in took_over  # Sở Cần's last index (2023)


def test_the_methodology_shows_the_tree_bands_and_changes(client, run, write, two_years):
    changed = (
        "code,parent,title,max_points,kind,previous_code\n1,,Công tác chỉ đạo,10,,1\n"
        "1.1,1,Kế hoạch CCHC,10,,1.1\n1.1.1,1.1,Ban hành kế hoạch,3,self,1.1.1\n"
        "1.1.2,1.1,Hoàn thành kế hoạch,7,self,1.1.2\n"
    )
    run("import_criteria", write("c.csv", changed), year=2024, group="departments")
    run(
        "import_scores",
        write("s.csv", "unit,criterion,self_score,final_score\nso-a,1.1.1,3,3\nso-a,1.1.2,7,7\n"),
        year=2024,
        group="departments",
    )
    run("publish", year=2024, group="departments")
    body = get(client, "/methodology/2024/departments/", "en").content.decode()
    assert "Rất tốt" in body and "Ban hành kế hoạch" in body
    assert "Changed" in body and "Removed" in body  # 1.1.1 points changed; 2.1, 3.1, 3.2 removed
    ranking = get(client, "/rankings/2024/departments/", "en").content.decode()
    assert "The criteria changed since 2023" in ranking


def test_an_erratum_is_visible_as_such(client, run, write, two_years):
    run(
        "import_scores",
        write("e.csv", "unit,criterion,self_score,final_score\nso-c,2.1,,9\n"),
        year=2023,
        group="departments",
    )
    run("publish", year=2023, group="departments", reason="Sửa điểm điều tra của Sở Cần")
    body = get(client, "/versions/2023/departments/", "en").content.decode()
    assert "Sửa điểm điều tra của Sở Cần" in body and "erratum" in body
    assert "erratum" in get(client, "/rankings/2023/departments/", "en").content.decode()


def test_a_new_year_published_elsewhere_refreshes_the_year_switch(client, run, write, two_years):
    assert (
        "/rankings/2024/departments/"
        not in get(client, "/rankings/2023/departments/").content.decode()
    )
    load_small_province(run, write, year=2024)
    assert (
        "/rankings/2024/departments/" in get(client, "/rankings/2023/departments/").content.decode()
    )


def test_published_pages_answer_conditional_requests_with_304(client, run, write, two_years):
    first = get(client, "/rankings/2023/departments/")
    etag, modified = first["ETag"], first["Last-Modified"]
    assert get(client, "/rankings/2023/departments/", HTTP_IF_NONE_MATCH=etag).status_code == 304
    assert (
        get(client, "/rankings/2023/departments/", HTTP_IF_MODIFIED_SINCE=modified).status_code
        == 304
    )
    assert (
        get(client, "/rankings/2023/departments/", "en", HTTP_IF_NONE_MATCH=etag).status_code == 200
    )
    run(
        "import_scores",
        write("e.csv", "unit,criterion,self_score,final_score\nso-c,2.1,,9\n"),
        year=2023,
        group="departments",
    )
    run("publish", year=2023, group="departments", reason="Đính chính")
    again = get(client, "/rankings/2023/departments/", HTTP_IF_NONE_MATCH=etag)
    assert again.status_code == 200 and again["ETag"] != etag


def test_the_language_switch_keeps_the_reader_on_the_page(client, two_years):
    response = client.get("/language/en/?next=/rankings/2023/departments/")
    assert (response.status_code, response["Location"]) == (302, "/rankings/2023/departments/")
    body = client.get("/rankings/2023/departments/").content.decode()
    assert "ranking by the administrative reform index" in body
    client.get("/language/vi/?next=/")
    assert "Chỉ số cải cách hành chính" in client.get("/").content.decode()


def test_the_language_switch_never_redirects_elsewhere(client):
    assert client.get("/language/en/?next=https://evil.example/")["Location"] == "/"
    assert client.get("/language/fr/?next=/").status_code == 404


def test_anonymous_readers_share_a_cached_copy_without_csrf_tokens(
    client, two_years, django_assert_max_num_queries
):
    first = get(client, "/rankings/2023/departments/")
    assert "csrfmiddlewaretoken" not in first.content.decode()
    # A quick copy: no query at all until the next publication (or PUBLIC_PAGE_SECONDS).
    with django_assert_max_num_queries(0):
        again = get(client, "/rankings/2023/departments/")
    assert again.content == first.content and again["ETag"] == first["ETag"]
    not_modified = get(client, "/rankings/2023/departments/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert not_modified.status_code == 304 and not_modified["ETag"] == first["ETag"]


def test_signed_in_people_get_pages_built_for_them(client, two_years, cast):
    get(client, "/rankings/2023/departments/")
    client.force_login(cast["staff_a"])
    body = get(client, "/rankings/2023/departments/").content.decode()
    assert "staff-a" in body  # their name in the header: never a shared copy


@pytest.mark.parametrize(
    ("url", "queries"),
    [
        # Latest publications; their results; bands; SIPAS rows. Every page adds one query: the
        # newest publication of all, part of its ETag.
        ("/", 5),
        # The publication; its criteria; bands; the table's count, the page's units in order,
        # then their field indices (subqueries); last year's publication and criteria;
        # navigation; last year's publication again (is the baseline outdated?); the number of
        # versions; the year's decision record. (This year's criteria are read once, not again
        # for the change note.)
        ("/rankings/2023/departments/", 13),
        # The publication; whether it has SIPAS rows; the table and its count; last year's
        # publication (is the baseline outdated?); navigation.
        ("/sipas/2023/departments/", 7),
        # The unit; its results; fields; field averages; criteria; leaves; bands; SIPAS rows;
        # predecessors; successors; navigation. (The predecessors' last indices are one more
        # query for a unit that has predecessors.)
        ("/units/so-a/", 12),
        # The publication; criteria; bands; last year's publication and criteria; navigation.
        ("/methodology/2023/departments/", 7),
        # The versions; navigation.
        ("/versions/2023/departments/", 3),
        # The publications; per group: criteria, results, fields, leaves, bands, SIPAS; versions.
        # (No query for the newest publication: the archive shows its year only.)
        ("/data/2023/", 8),
    ],
)
def test_query_counts_do_not_grow_with_units_or_years(client, run, write, two_years, url, queries):
    client.cookies["django_language"] = "vi"
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    grow_province(run, write, 40)
    run("publish", year=2023, group="departments", reason="more units")
    load_small_province(run, write, year=2021)
    with CaptureQueriesContext(connection) as large:
        assert client.get(url).status_code == 200
    assert len(small) == len(large) == queries, [q["sql"][:120] for q in large.captured_queries]
    assert Publication.objects.count() >= 4


def test_the_demo_says_on_every_page_that_its_scores_are_illustrative(client, two_years, settings):
    settings.DEMO_MODE = True
    for url in ("/", "/rankings/2023/departments/", "/methodology/2023/departments/"):
        body = get(client, url, "en").content.decode()
        assert "Demo data: the scores are illustrative" in body, url
        assert "NSMT, 29/02/2024" in body and "2024 SIPAS survey (Lao Động)" in body
    assert (
        "limits are assumed" in get(client, "/methodology/2023/departments/", "en").content.decode()
    )
    settings.DEMO_MODE = False
    from django.core.cache import cache

    cache.clear()
    assert "Demo data" not in get(client, "/", "en").content.decode()


def test_the_home_page_shows_the_latest_year_and_lets_a_reader_choose(client, two_years):
    latest = get(client, "/", "en").content.decode()
    assert "Administrative reform index 2023" in latest and 'href="/?year=2022"' in latest
    chosen = get(client, "/?year=2022", "en").content.decode()
    assert "Administrative reform index 2022" in chosen
    assert get(client, "/?year=2019").status_code == 404


def _body_rows(html: str) -> list[str]:
    return re.findall(r"<tr>(.*?)</tr>", html.split("<tbody>")[1].split("</tbody>")[0], re.S)


def test_the_table_body_has_a_row_header_per_unit_and_each_columns_cell_attributes(
    client, two_years
):
    """Rendered in one pass (``public_tables.table_body``): each unit's name is its row's
    header, the numbers keep their class, the sorted order and the values are the page's."""
    html = get(client, "/rankings/2023/departments/?sort=index", "en").content.decode()
    rows = _body_rows(html)
    assert len(rows) == 3
    for row, code in zip(rows, ["so-c", "so-b", "so-a"], strict=True):
        assert row.startswith('<td class="num rank">')
        assert f'<th scope="row" class="unit"><a href="/units/{code}/">' in row
        assert row.count("<th ") == 1 and row.count('<td class="num">') >= 5
    assert "90.00" in rows[2] and "▲ +5.00" in rows[1]
    # Text from the data is escaped once, never twice, never not at all.
    assert "&amp;amp;" not in html and "<script" not in "".join(rows)


def test_an_empty_band_says_so_in_one_row_across_the_table(client, run, write, two_years):
    html = get(client, "/rankings/2023/departments/?band=kem", "en").content.decode()
    rows = _body_rows(html)
    columns = html.split("<thead>")[1].split("</thead>")[0].count("<th ")
    assert rows == [f'<td colspan="{columns}">No unit in this band.</td>']


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's JIT")
def test_connections_do_not_compile_queries_just_in_time(client, two_years):
    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


def test_the_ranking_table_reads_each_field_without_joining_its_publication(two_years):
    """One subquery per field column, on the field table alone (the models' default orderings
    joined the result and the publication in each: 0.9 s at 3,300 units)."""
    from rankings.models import PublishedResult

    publication = Publication.objects.current(2023, "departments")
    sql = str(PublishedResult.objects.for_table(publication, ["1", "2"]).query)
    assert sql.count("SELECT") == 3
    assert '"rankings_publication"' not in sql


@pytest.mark.parametrize("language", ["vi", "en"])
def test_decimal_text_writes_what_number_format_writes(language):
    """``decimal_text`` formats the quantized number itself (a national ranking page shows
    1,200 numbers): the same text as Django's ``number_format`` of it, sign, zero and the
    language's decimal mark included."""
    import random
    from decimal import Decimal

    from django.utils import translation
    from django.utils.formats import number_format

    from rankings.tables import decimal_text
    from scoring.calculation import quantize

    numbers = random.Random(14)
    values = [
        Decimal("0"),
        Decimal("-0.004"),
        Decimal("0.005"),
        Decimal("-0.005"),
        Decimal("95.255"),
        Decimal("100"),
        Decimal("-12.5"),
        "3.14159",
        7,
        2.675,
    ]
    values += [
        Decimal(numbers.randint(-1_000_000, 1_000_000)) / Decimal(numbers.choice([1, 10, 1000]))
        for _ in range(2000)
    ]
    with translation.override(language):
        for value in values:
            assert decimal_text(value) == number_format(quantize(Decimal(value)), 2), value
        assert decimal_text(None) == "—"


def test_a_sorted_table_page_reads_its_field_columns_for_its_rows_only(client, run, write):
    """A page of the ranking table, in any sort, ends ties with the published position (a
    page never repeats nor skips a unit of another page) and is read in two steps: the page's
    units in order, then their field columns, the same values as the whole table's."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from rankings.models import Publication, PublishedCriterion, PublishedResult

    load_small_province(run, write)
    publication = Publication.objects.get()
    codes = list(
        PublishedCriterion.objects.filter(publication=publication, parent_code="")
        .order_by("position")
        .values_list("code", flat=True)
    )
    table = PublishedResult.objects.for_table(publication, codes)
    PublishedResult.objects.filter(publication=publication).update(band_code="same")
    everything = list(table.order_by("band_code"))
    assert [r.position for r in everything] == sorted(r.position for r in everything)
    for start in range(len(everything)):
        with CaptureQueriesContext(connection) as queries:
            page = table.order_by("band_code")[start : start + 1]
        assert len(queries) == 2  # the page's units, then their field columns
        assert "ORDER BY" not in queries[1]["sql"]
        assert [r.unit_code for r in page] == [everything[start].unit_code]
        assert [getattr(page[0], f"field_{i}") for i in range(len(codes))] == [
            getattr(everything[start], f"field_{i}") for i in range(len(codes))
        ]
