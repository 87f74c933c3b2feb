"""The public site under attack (issue 8): query strings that would make the server build and
store answer after answer, malformed parameters, formulas in spreadsheets, pages shared between
readers that must not be."""

import csv
import io
import re
import zipfile

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from cchc.cache import BoundedMemoryCache
from rankings.exports import csv_bytes, xlsx_bytes
from scoring.models import Unit
from tests.factories import load_small_province

pytestmark = pytest.mark.django_db

HOSTILE = {
    "so-a": '=HYPERLINK("http://evil.example","Sở An")',
    "so-b": "+1+2",
    "so-c": "@SUM(1,2)",
}


@pytest.fixture
def published(run, write):
    load_small_province(run, write, year=2022)
    load_small_province(run, write, year=2023)


def stored_copies() -> int:
    return len(cache._cache)


# 2. Unbounded rebuilds and cache growth --------------------------------------------------------


@pytest.mark.parametrize(
    "url", ["/rankings/2023/departments/", "/api/v1/rankings/2023/departments/", "/units/so-a/"]
)
def test_undocumented_parameters_neither_change_the_answer_nor_build_it_again(
    client, published, settings, url
):
    settings.PUBLIC_PAGE_SECONDS = 0  # no quick copies: every request reaches the page cache
    first = client.get(url)
    assert first.status_code == 200
    copies = stored_copies()
    for number in range(30):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url, {f"junk{number}": number, "per_page": "-1"})
        assert response.status_code == 200
        assert response["ETag"] == first["ETag"]
        assert response.content == first.content
        assert len(queries) <= 3, [q["sql"][:100] for q in queries.captured_queries]
    assert stored_copies() == copies


def test_a_quick_copy_serves_junk_query_strings_without_a_query(
    client, published, django_assert_max_num_queries
):
    first = client.get("/rankings/2023/departments/")
    with django_assert_max_num_queries(0):
        again = client.get("/rankings/2023/departments/?utm_source=x&_=123")
    assert again.content == first.content


@pytest.mark.parametrize(
    "query",
    [
        "?sort=nonexistent",
        "?sort=-nonexistent",
        "?band=zzz",
        "?sort=index&sort=rank",
        "?page=0",
        "?page=-1",
        "?page=abc",
    ],
)
def test_a_documented_parameter_naming_nothing_answers_400_and_is_not_stored(
    client, published, query
):
    before = stored_copies()
    response = client.get(f"/rankings/2023/departments/{query}")
    assert response.status_code == 400
    assert stored_copies() == before


def test_a_page_past_the_end_is_404_not_another_copy_of_the_last(client, published):
    assert client.get("/rankings/2023/departments/?page=1").status_code == 200
    assert client.get("/rankings/2023/departments/?page=2").status_code == 404
    assert client.get("/rankings/2023/departments/?page=99999").status_code == 404


def test_the_memory_cache_is_bounded_in_bytes():
    store = BoundedMemoryCache("bounded-test", {"OPTIONS": {"MAX_BYTES": 10_000}})
    store.clear()
    for number in range(50):
        store.set(f"page{number}", b"x" * 1_000)
    assert sum(len(value) for value in store._cache.values()) <= 10_000
    assert store.get("page49") is not None  # the newest stays
    assert store.get("page0") is None  # the oldest went first
    store.set("huge", b"x" * 20_000)
    assert store.get("huge") is None  # larger than the whole bound: never kept
    store.clear()


def test_a_recently_read_copy_outlives_older_ones():
    store = BoundedMemoryCache("bounded-lru", {"OPTIONS": {"MAX_BYTES": 5_000}})
    store.clear()
    for number in range(4):
        store.set(f"page{number}", b"x" * 1_000)
    store.get("page0")  # read: now the most recent
    store.set("page4", b"x" * 1_000)
    store.set("page5", b"x" * 1_000)
    assert store.get("page0") is not None
    assert store.get("page1") is None
    store.clear()


# 9. Malformed parameters answer 400 or 404, never 500 ------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/rankings/2023/departments/?per_page=-1",
        "/units/so-a/?year=²",
        "/units/so-a/?year=٢٠٢٣",
        "/rankings/2023/departments/?_export=ods",
        "/rankings/2023/departments/?_export=xls",
        "/rankings/2023/departments/?_export=yaml",
        "/sipas/2023/departments/?_export=json",
        "/units/so-a/?year=1999",
    ],
)
def test_the_query_strings_that_gave_500s(client, published, url):
    assert client.get(url).status_code in (200, 400, 404)


PUBLIC_URLS = [
    "/",
    "/rankings/2023/departments/",
    "/sipas/2023/departments/",
    "/units/so-a/",
    "/methodology/2023/departments/",
    "/versions/2023/departments/",
    "/data/2023/",
    "/api/v1/rankings/2023/departments/",
    "/api/v1/sipas/2023/departments/",
]
NAMES = st.sampled_from(
    ["sort", "page", "band", "_export", "year", "q", "units", "per_page", "junk", "sort[]"]
)

EDGES = st.sampled_from(
    ["-1", "0", "1", "2", "99999", "ods", "xls", "yaml", "csv", "xlsx", "²", "2023", "-index"]
    + ["field_0", "field_99", "rat-tot", "so-a,so-b", "1e9", "%00", "\x00", "../"]
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    url=st.sampled_from(PUBLIC_URLS),
    query=st.lists(st.tuples(NAMES, st.one_of(EDGES, st.text(max_size=12))), max_size=4),
)
def test_no_query_string_makes_a_public_url_fail(client, published, url, query):
    response = client.get(url, [(name, value) for name, value in query])
    assert response.status_code in (200, 400, 404), (url, query)


# 3 and 10. Spreadsheets: no formula, no control character ------------------------------------


def test_text_cells_never_become_formulas_and_numbers_stay_numbers():
    from decimal import Decimal as D

    rows = [["name", "index", "change"], ["=1+1", D("97.50"), D("-0.90")], ["-2", D("1"), None]]
    reader = list(csv.reader(io.StringIO(csv_bytes(rows).decode())))
    assert reader[1] == ["'=1+1", "97.50", "-0.90"]
    assert reader[2][0] == "'-2"
    sheet = load_workbook(io.BytesIO(xlsx_bytes(rows))).active
    assert sheet["A2"].data_type == "s" and sheet["A2"].value == "=1+1"
    assert sheet["A2"].quotePrefix
    assert sheet["B2"].value == 97.5 and sheet["B2"].number_format == "0.00"
    assert sheet["C2"].value == -0.9
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_a_control_character_in_a_name_never_breaks_a_spreadsheet():
    rows = [["name"], ["Sở\x07 An\u202e"], ["#N/A"]]
    sheet = load_workbook(io.BytesIO(xlsx_bytes(rows))).active
    assert sheet["A2"].value == "Sở An"
    assert sheet["A3"].data_type == "s"  # not an error value
    assert csv_bytes(rows).decode().splitlines()[1] == "Sở An"


@pytest.fixture
def hostile_names(run, write):
    load_small_province(run, write, year=2022)
    load_small_province(run, write, year=2023, publish=False)
    for code, name in HOSTILE.items():
        Unit.objects.filter(code=code).update(name=name)
    note = "unit,criterion,self_score,final_score,note\nso-a,1.1.1,4,4,-1+2 ghi chú\n"
    assert run("import_scores", write("n.csv", note), year=2023, group="departments").status == 0
    assert run("publish", year=2023, group="departments").status == 0


def every_text(rows):
    """Every text cell (a CSV cell that is not a number)."""
    return [
        cell
        for row in rows
        for cell in row
        if isinstance(cell, str) and cell and not re.fullmatch(r"-?\d+(\.\d+)?", cell)
    ]


@pytest.mark.parametrize("url", ["/rankings/2023/departments/", "/sipas/2023/departments/"])
def test_ranking_and_sipas_downloads_neutralise_formulas(client, hostile_names, url):
    text = client.get(f"{url}?_export=csv").content.decode()
    cells = every_text(csv.reader(io.StringIO(text)))
    assert "'" + HOSTILE["so-a"] in cells
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)
    workbook = load_workbook(io.BytesIO(client.get(f"{url}?_export=xlsx").content))
    values = [c for row in workbook.active.iter_rows() for c in row]
    assert not any(cell.data_type == "f" for cell in values)
    assert HOSTILE["so-b"] in [cell.value for cell in values]


def test_open_data_files_neutralise_formulas(client, hostile_names):
    bundle = zipfile.ZipFile(io.BytesIO(client.get("/data/2023/").content))
    for name in bundle.namelist():
        if not name.endswith(".csv"):
            continue
        cells = every_text(csv.reader(io.StringIO(bundle.read(name).decode())))
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells), name
    leaves = bundle.read("leaves-departments.csv").decode()
    assert "'-1+2 ghi chú" in leaves


# 7 and 8. Pages built for one reader are never shared -----------------------------------------


def test_a_signed_in_page_is_private_and_shares_no_validator(client, published):
    anonymous = client.get("/rankings/2023/departments/")
    user = User.objects.create_user("reader", password="pw")
    client.force_login(user)
    mine = client.get("/rankings/2023/departments/")
    assert "public" not in mine["Cache-Control"]
    assert "private" in mine["Cache-Control"]
    assert not mine.has_header("ETag")
    again = client.get("/rankings/2023/departments/", HTTP_IF_NONE_MATCH=anonymous["ETag"])
    assert again.status_code == 200 and "reader" in again.content.decode()


def test_a_pending_message_is_shown_to_its_reader_only(client, published):
    from django.contrib.messages import constants
    from django.contrib.messages.storage.cookie import CookieStorage, Message
    from django.test import RequestFactory

    # A message left for an anonymous reader (as after a refused submission and a log-out).
    storage = CookieStorage(RequestFactory().get("/"))
    cookie = storage._encode([Message(constants.ERROR, "Thiếu điểm: 1.1.1")])
    client.cookies["messages"] = cookie
    own = client.get("/")
    assert "Thiếu điểm: 1.1.1" in own.content.decode()
    assert "public" not in own["Cache-Control"]

    from django.test import Client

    stranger = Client().get("/")
    assert "Thiếu điểm" not in stranger.content.decode()


def test_a_download_names_its_source_by_the_sites_address_not_the_requests_host(
    client, published, settings
):
    """A download is stored and served to everybody: its "Source:" line (above an XLSX's
    header) is built from
    ``SITE_URL``, whatever host the request that built it (the prebuild's, an alias)
    named."""
    settings.SITE_URL = "https://cchc.example.gov.vn"
    settings.ALLOWED_HOSTS = ["alias.example", "cchc.example.gov.vn"]
    content = client.get(
        "/rankings/2023/departments/?_export=xlsx&sort=-index", HTTP_HOST="alias.example"
    ).content
    workbook = load_workbook(io.BytesIO(content))
    texts = [str(c.value) for row in workbook.active.iter_rows() for c in row if c.value]
    source = [t for t in texts if "/rankings/2023/departments/" in t]
    assert (
        source
        and "https://cchc.example.gov.vn/rankings/2023/departments/?sort=-index" in (source[0])
    )
    assert not [t for t in texts if "alias.example" in t]
