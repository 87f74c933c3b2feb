"""Finding and comparing (issue 13): the list of units and its search without diacritics, two or
three units side by side, the ranking on one field, older versions and what changed since, the
most improved and biggest falls on the home page, the menu and breadcrumbs, and the province's
name from the settings. Only published rows, only documented parameters, flat query counts."""

import re
from urllib.parse import urlencode

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rankings import explore
from rankings.caching import new_generation
from rankings.explore import canonical_query, fold, leaf_loss
from rankings.models import Publication
from tests.factories import load_small_province

from .test_api import grow_province

pytestmark = pytest.mark.django_db

PHONG_DIEN = "code,name,group,group_name\nhuyen-phong-dien,huyện Phong Điền,departments,\n"
PHONG_DIEN_SCORES = (
    "unit,criterion,self_score,final_score\n"
    "huyen-phong-dien,1.1.1,4,2\nhuyen-phong-dien,1.1.2,6,6\nhuyen-phong-dien,2.1,,7\n"
)


@pytest.fixture
def two_years(run, write):
    """The small province published for 2022 and 2023, with huyện Phong Điền ranked in 2023
    (so-a 97.50, so-b 82.50, so-c 85.71, huyện Phong Điền 75.00)."""
    load_small_province(run, write, year=2022)
    load_small_province(run, write, year=2023, publish=False)
    assert run("import_units", write("pd.csv", PHONG_DIEN)).status == 0
    outcome = run(
        "import_scores", write("pd-scores.csv", PHONG_DIEN_SCORES), year=2023, group="departments"
    )
    assert outcome.status == 0, outcome.err
    assert run("publish", year=2023, group="departments").status == 0


def get(client, url, language="vi"):
    client.cookies["django_language"] = language
    return client.get(url)


def text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


NEW_PAGES = [
    "/units/",
    "/units/?q=phong+dien",
    "/compare/2023/departments/",
    "/compare/2023/departments/?units=so-a,so-b",
    "/compare/2023/departments/with/so-a/",
    "/rankings/2023/departments/fields/1/",
    "/versions/2023/departments/1/",
]


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize("url", NEW_PAGES)
def test_every_new_page_answers_with_one_h1_a_menu_and_breadcrumbs(
    client, two_years, url, language
):
    response = get(client, url, language)
    assert response.status_code == 200
    body = response.content.decode()
    assert len(re.findall(r"<h1[\s>]", body)) == 1
    assert f'<html lang="{language}">' in body
    assert '<details class="menu">' in body and 'class="breadcrumbs"' in body


# The province -----------------------------------------------------------------------------------


def test_the_province_is_named_in_the_header_titles_and_home_text(client, two_years, settings):
    settings.PROVINCE_NAME, settings.PROVINCE_KIND = "Cần Thơ", "thành phố"
    body = text(get(client, "/"))
    assert "Chỉ số cải cách hành chính thành phố Cần Thơ" in body  # the header
    assert "Ủy ban nhân dân thành phố Cần Thơ công bố" in body  # the home text
    assert "Ủy ban nhân dân tỉnh" not in body
    assert re.search(r"<title>[^<]*Chỉ số CCHC thành phố Cần Thơ</title>", body)
    english = text(get(client, "/rankings/2023/departments/", "en"))
    assert "Administrative reform index of Cần Thơ City" in english


def test_a_province_without_a_name_says_its_kind(client, two_years, settings):
    settings.PROVINCE_NAME, settings.PROVINCE_KIND = "", "tỉnh"
    body = text(get(client, "/"))
    assert "Ủy ban nhân dân tỉnh công bố" in body
    cache.clear()
    settings.PROVINCE_NAME, settings.PROVINCE_KIND = "Hậu Giang", "tỉnh"
    assert "Ủy ban nhân dân tỉnh Hậu Giang công bố" in text(get(client, "/"))


def test_the_province_kind_is_checked_when_the_site_starts(monkeypatch):
    import importlib

    from django.core.exceptions import ImproperlyConfigured

    import cchc.settings

    monkeypatch.delenv("PROVINCE_NAME", raising=False)
    monkeypatch.delenv("PROVINCE_KIND", raising=False)
    reloaded = importlib.reload(cchc.settings)
    assert (reloaded.PROVINCE_NAME, reloaded.PROVINCE_KIND) == ("Cần Thơ", "thành phố")
    monkeypatch.setenv("PROVINCE_NAME", "Hậu Giang")
    assert importlib.reload(cchc.settings).PROVINCE_KIND == "tỉnh"
    monkeypatch.setenv("PROVINCE_KIND", "thanh pho")
    monkeypatch.setenv("PROVINCE_NAME", "  Cần   Thơ ")
    assert importlib.reload(cchc.settings).PROVINCE_KIND == "thành phố"
    assert cchc.settings.PROVINCE_NAME == "Cần Thơ"
    monkeypatch.setenv("PROVINCE_KIND", "huyện")
    with pytest.raises(ImproperlyConfigured):
        importlib.reload(cchc.settings)
    monkeypatch.delenv("PROVINCE_KIND")
    monkeypatch.delenv("PROVINCE_NAME")
    importlib.reload(cchc.settings)


# The menu and breadcrumbs -------------------------------------------------------------------------


def test_the_menu_lists_rankings_by_year_and_group_sipas_methodology_units_and_data(
    client, two_years
):
    body = get(client, "/rankings/2023/departments/", "en").content.decode()
    menu = body.split('<details class="menu">')[1].split("</details>")[0]
    for link in (
        "/rankings/2023/departments/",
        "/rankings/2022/departments/",
        "/sipas/2023/departments/",
        "/methodology/2023/departments/",
        "/compare/2023/departments/",
        "/units/",
        "/data/2023/",
        "/api/v1/",
    ):
        assert f'href="{link}"' in menu, link
    # A page that reads no publication still has a menu, without a query of its own.
    login = get(client, "/accounts/login/", "en").content.decode()
    assert '<details class="menu">' in login and 'href="/units/"' in login


def test_breadcrumbs_lead_back_to_the_year_and_the_group(client, two_years):
    body = text(get(client, "/rankings/2023/departments/fields/2/", "en"))
    crumbs = body.split('class="breadcrumbs"')[1].split("</nav>")[0]
    assert 'href="/"' in crumbs and 'href="/?year=2023"' in crumbs
    assert 'href="/rankings/2023/departments/"' in crumbs
    assert 'aria-current="page">Field 2<' in crumbs


# /units/ ----------------------------------------------------------------------------------------


def test_the_search_ignores_diacritics_and_case():
    assert fold("huyện Phong Điền") == "huyen phong dien"
    assert fold("ĐÔNG  HẢI") == fold("đông hải") == "dong hai"
    assert fold("Phong Đie\u0300n") == "phong dien"  # decomposed input
    assert fold("Sở Lao động – Thương binh và Xã hội") == "so lao dong thuong binh va xa hoi"
    assert fold("Ｐｈｏｎｇ　Ｄｉｅｎ") == "phong dien"  # full width (NFKC)


@pytest.mark.parametrize(
    ("query", "canonical"),
    [
        ("an", "an"),
        ("An", "an"),
        ("an ", "an"),
        ("ân", "an"),
        ("ＡＮ!", "an"),
        ("a n", "a n"),  # two words: another search
        ("phong phong dien", "phong dien"),
        ("phong pho", "phong"),  # "pho" is inside "phong": every name with one has the other
        ("!!!", ""),
        ("  ", ""),
    ],
)
def test_every_spelling_of_a_query_has_one_canonical_form(query, canonical):
    assert canonical_query(query) == canonical


@pytest.mark.parametrize(
    "query",
    ["phong dien", "PHONG ĐIỀN", "Phong Điền", "dien phong", "huyen-phong", "huyen-phong-dien"],
)
def test_phong_dien_finds_huyen_phong_dien(client, two_years, query):
    response = client.get("/units/", {"q": query}, follow=True)
    assert response.status_code == 200
    assert response.request["QUERY_STRING"] == urlencode({"q": canonical_query(query)})
    body = response.content.decode()
    assert "huyện Phong Điền" in body and 'href="/units/huyen-phong-dien/"' in body
    assert "Sở An" not in body


def test_without_a_query_every_published_unit_is_listed_by_group_with_its_latest_result(
    client, two_years
):
    body = text(get(client, "/units/", "en"))
    for name in ("Sở An", "Sở Bình", "Sở Cần", "huyện Phong Điền"):
        assert name in body
    assert "quận Xuân" not in body  # in the register, never published
    # Sở An's latest result: 97.50, Rất tốt, first of four in 2023, linked to the ranking.
    row = body.split('href="/units/so-a/"')[1].split("</tr>")[0]
    assert "97.50" in row and "Rất tốt" in row and "1 of 4" in row and "2023" in row
    assert 'href="/rankings/2023/departments/"' in row
    assert "97,50" in text(get(client, "/units/"))  # the Vietnamese decimal comma


def test_a_search_that_finds_nothing_says_so_and_a_malformed_one_is_refused(client, two_years):
    response = client.get("/units/", {"q": "khong co don vi nay"})
    assert response.status_code == 404
    assert 'name="q"' in response.content.decode()  # the form, to try again
    assert client.get("/units/?q=a%00b").status_code == 400
    assert client.get("/units/", {"q": "x" * 101}).status_code == 400


@pytest.mark.parametrize("query", ["An", "an ", " an", "ân", "AN", "ân", "ａｎ", "an!", "an an"])
def test_another_spelling_of_a_query_is_redirected_to_its_canonical_form_unbuilt(
    client, two_years, settings, query
):
    settings.PUBLIC_PAGE_SECONDS = 0
    page = client.get("/units/", {"q": "an"})
    assert page.status_code == 200 and "Sở An" in page.content.decode()
    stored = len(cache._cache)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/units/", {"q": query})
    assert response.status_code == 301
    assert response["Location"] == "/units/?q=an"
    assert len(queries) == 0 and len(cache._cache) == stored  # nothing read, nothing stored


def test_only_the_canonical_query_is_built_and_stored_once(
    client, two_years, settings, monkeypatch
):
    settings.PUBLIC_PAGE_SECONDS = 0
    builds = []
    render = explore.render
    monkeypatch.setattr(explore, "render", lambda *a, **k: builds.append(1) or render(*a, **k))
    for query in ("An", "an ", "ân", "ＡＮ", "an"):
        assert client.get("/units/", {"q": query}, follow=True).status_code == 200
    assert len(builds) == 1
    assert len([key for key in cache._cache if ":cchc:page:" in key]) == 1


def test_a_search_without_letters_or_digits_is_refused_and_not_stored(client, two_years):
    for query in ("!!!", "  ", "–"):
        response = get(client, "/units/?" + urlencode({"q": query}), "en")
        assert response.status_code == 400
        assert "has no letter or digit to look for" in text(response)
    assert not [key for key in cache._cache if ":cchc:" in key and "generation" not in key]


def test_full_width_letters_find_the_name(client, two_years):
    response = client.get("/units/", {"q": "Ｐｈｏｎｇ　Ｄｉｅｎ"}, follow=True)
    assert response.redirect_chain == [("/units/?q=phong+dien", 301)]
    assert "huyện Phong Điền" in response.content.decode()


def test_the_list_of_units_reads_frozen_publications_only(client, two_years):
    """A unit dissolved after the publication: the page cached per publication reads nothing of
    the live register, so what it shows cannot go stale until the next publication."""
    from scoring.models import Unit

    Unit.objects.filter(code="so-a").update(dissolved_on="2024-01-01")
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        body = text(get(client, "/units/", "en"))
    assert "Sở An" in body and "ceased" not in body
    unit_table = Unit._meta.db_table
    assert not [q["sql"] for q in queries.captured_queries if f'"{unit_table}"' in q["sql"]]


def test_nothing_is_listed_before_anything_is_published(client, run, write):
    load_small_province(run, write, publish=False)
    assert client.get("/units/").status_code == 404
    assert client.get("/compare/2023/departments/?units=so-a,so-b").status_code == 404
    assert client.get("/rankings/2023/departments/fields/1/").status_code == 404
    assert client.get("/versions/2023/departments/1/").status_code == 404


# /compare/ --------------------------------------------------------------------------------------


def test_two_units_side_by_side_with_every_field_and_leaf_and_where_each_lost(client, two_years):
    body = text(get(client, "/compare/2023/departments/?units=so-a,so-b", "en"))
    results = body.split("<caption>Results</caption>")[1].split("</table>")[0]
    assert "97.50" in results and "82.50" in results
    assert "Rất tốt" in results and "Tốt" in results
    assert "1 of 4" in results and "3 of 4" in results
    # Fields: field 1 of so-a 9.50/10.00 (lost 0.50), so-b 9.00/10.00 (lost 1.00).
    fields = body.split("Field indices (points of maximum; points lost)")[1].split("</table>")[0]
    assert 'href="/rankings/2023/departments/fields/1/"' in fields
    assert "9.50 / 10.00" in fields and "−0.50" in fields and "−1.00" in fields
    # Leaves: 1.1.1 so-a 4 (self 4), so-b 3 (self 4, lost 1, marked as the one that lost most).
    leaves = body.split("<caption>Scores by criterion</caption>")[1].split("</table>")[0]
    row = leaves.split('1.1.1. <span lang="vi">Ban hành kế hoạch')[1].split("</tr>")[0]
    cells = re.findall(r"<td class=\"num( worst)?\">(.*?)</td>", row)
    assert cells[1][1].startswith("4.00") and cells[1][0] == ""
    assert cells[2][1].startswith("3.00") and cells[2][0] == " worst" and "−1.00" in cells[2][1]
    # A penalty is points lost: so-b lost 0.50 on 3.2.
    penalty = leaves.split('3.2. <span lang="vi">Điểm trừ')[1].split("</tr>")[0]
    assert "−0.50" in penalty
    assert "Where each lost most" in body


def test_three_units_and_a_leaf_not_applicable(client, two_years):
    body = text(get(client, "/compare/2023/departments/?units=so-c,so-a,huyen-phong-dien", "en"))
    assert body.index("Sở Cần") < body.index("Sở An")  # in the order asked for
    leaves = body.split("<caption>Scores by criterion</caption>")[1]
    row = leaves.split('1.1.2. <span lang="vi">Hoàn thành kế hoạch')[1].split("</tr>")[0]
    assert "not applicable" in row


@pytest.mark.parametrize(
    ("query", "status", "words"),
    [
        ("so-a", 400, "Choose two or three units to compare (the address names 1)"),
        ("so-a,so-b,so-c,huyen-phong-dien", 400, "(the address names 4)"),
        ("so-a,so-a", 400, "named twice"),
        ("so-a,so-zz", 404, "Not ranked in Sở, ban, ngành in 2023: so-zz"),
        ("so-a,quan-x", 404, "Not ranked in Sở, ban, ngành in 2023: quan-x"),  # another group
        ("SO-A,so-b", 400, "not valid"),
    ],
)
def test_a_wrong_choice_of_units_is_explained_never_a_server_error(
    client, two_years, query, status, words
):
    response = get(client, f"/compare/2023/departments/?units={query}", "en")
    assert response.status_code == status
    assert words in text(response)


def test_unit_codes_with_an_underscore_can_be_compared(client, two_years, run, write):
    """Unit codes may hold "_" (the importers' slug rule): so_z is compared, named in any place."""
    units = "code,name,group,group_name\nso_z,Sở Zét,departments,\n"
    scores = "unit,criterion,self_score,final_score\nso_z,1.1.1,4,4\nso_z,1.1.2,6,6\nso_z,2.1,,7\n"
    assert run("import_units", write("z.csv", units)).status == 0
    assert run("import_scores", write("z-scores.csv", scores), year=2023, group="departments")
    assert run("publish", year=2023, group="departments", reason="Thêm Sở Zét").status == 0
    for query in ("so_z,so-a", "so-a,so_z", "so-b,so_z,so-a"):
        response = get(client, f"/compare/2023/departments/?units={query}", "en")
        assert response.status_code == 200, query
        assert "Sở Zét" in text(response)
    picked = client.post("/compare/2023/departments/", {"unit": ["so_z", "so-a"]})
    assert picked["Location"] == "/compare/2023/departments/?units=so_z,so-a"
    # Still refused: what no unit code can be.
    for query in ("so__z,so-a", "_so,so-a", "so-,so-a", "so-a,so_z,so-b,so-c"):
        response = get(client, f"/compare/2023/departments/?units={query}", "en")
        assert response.status_code == 400, query


def test_a_unit_of_another_year_cannot_be_compared(client, two_years):
    response = get(client, "/compare/2022/departments/?units=so-a,huyen-phong-dien", "en")
    assert response.status_code == 404
    assert "huyen-phong-dien" in text(response)
    assert client.get("/compare/2021/departments/?units=so-a,so-b").status_code == 404
    assert client.get("/compare/2023/nowhere/?units=so-a,so-b").status_code == 404


def test_the_picker_works_without_javascript_and_writes_nothing(
    client, two_years, unchanged_database
):
    picker = get(client, "/compare/2023/departments/", "en").content.decode()
    assert picker.count('name="unit"') == 3 and 'method="post"' in picker
    with unchanged_database():
        response = client.post("/compare/2023/departments/", {"unit": ["so-b", "so-a", ""]})
        assert response.status_code == 303
        assert response["Location"] == "/compare/2023/departments/?units=so-b,so-a"
        one = client.post("/compare/2023/departments/", {"unit": ["so-b", "", ""]})
        assert one.status_code == 400 and "Choose two or three different units" in text(one)
        assert 'value="so-b" selected' in one.content.decode()  # the choice is kept
        other = client.post("/compare/2023/departments/", {"unit": ["so-b", "quan-x"]})
        assert other.status_code == 400


def test_the_unit_page_links_to_its_ranking_and_to_compare_with(client, two_years):
    picker = text(get(client, "/compare/2023/departments/with/so-b/", "en"))
    assert 'value="so-b" selected' in picker
    assert client.get("/compare/2023/departments/with/quan-x/").status_code == 404


# Ranking on one field ---------------------------------------------------------------------------


def test_all_units_ranked_on_one_field(client, two_years):
    body = text(get(client, "/rankings/2023/departments/fields/1/", "en"))
    # Field 1 (10 points): so-c 4/4 = 100.00; so-a 9.5 = 95.00; so-b 9 = 90.00; Phong Điền 8.
    assert field_ranks(body) == [
        ("1", "so-c", "100.00"),
        ("2", "so-a", "95.00"),
        ("3", "so-b", "90.00"),
        ("4", "huyen-phong-dien", "80.00"),
    ]
    # A field of bonus and penalty points only is ranked by its points.
    bonus = text(get(client, "/rankings/2023/departments/fields/3/", "en"))
    assert "ranked by its points" in bonus
    assert client.get("/rankings/2023/departments/fields/9/").status_code == 404
    assert client.get("/rankings/2023/departments/fields/1.1/").status_code == 404


def field_ranks(body: str) -> list[tuple[str, str, str]]:
    """(rank, unit code, field index) of each ranked row of a field ranking, in order."""
    table = body.split("<tbody>")[1].split("</tbody>")[0]
    return re.findall(
        r'<tr> <td class="num">(\d+)</td> <th scope="row"><a href="/units/([^/]+)/">.*?</th>'
        r' <td class="num"><strong>([\d.]+)</strong></td>',
        table,
    )


def test_equal_field_indices_share_a_rank_and_the_next_is_skipped(client, two_years, run, write):
    # huyện Phong Điền 3.5 + 6 = 9.5 of 10 on field 1: 95.00, the same as Sở An.
    fix = "unit,criterion,self_score,final_score\nhuyen-phong-dien,1.1.1,4,3.5\n"
    assert run("import_scores", write("tie.csv", fix), year=2023, group="departments").status == 0
    assert run("publish", year=2023, group="departments", reason="Sửa điểm").status == 0
    body = text(get(client, "/rankings/2023/departments/fields/1/", "en"))
    assert field_ranks(body) == [
        ("1", "so-c", "100.00"),
        ("2", "huyen-phong-dien", "95.00"),  # a tie is listed by name: huyện before Sở
        ("2", "so-a", "95.00"),
        ("4", "so-b", "90.00"),
    ]


# Versions ---------------------------------------------------------------------------------------


def test_an_older_version_can_be_opened_with_what_changed_since(client, two_years, run, write):
    fix = "unit,criterion,self_score,final_score\nso-b,1.1.1,4,4\n"
    run("import_scores", write("fix.csv", fix), year=2023, group="departments")
    assert run("publish", year=2023, group="departments", reason="Sửa điểm Sở Bình").status == 0
    versions = text(get(client, "/versions/2023/departments/", "en"))
    assert 'href="/versions/2023/departments/1/"' in versions
    old = text(get(client, "/versions/2023/departments/1/", "en"))
    assert "replaced by version 2" in old and "Sửa điểm Sở Bình" in old
    changed = old.split('id="changes"')[1].split("</table>")[0]
    # so-b: 82.50 → 87.50 (16.5 → 17.5 of 20), rank 3 → 2; Sở Cần (85.71) rank 2 → 3.
    assert "Sở Bình" in changed and "82.50</span> → <strong>87.50" in changed
    assert "3</span> → <strong>2" in changed and "Sở Cần" in changed
    assert "Sở An" not in changed
    current = text(get(client, "/versions/2023/departments/2/", "en"))
    assert "This is the current version" in current
    assert client.get("/versions/2023/departments/3/").status_code == 404


def test_an_erratum_that_moves_points_between_fields_is_shown(client, two_years, run, write):
    """Sở An: 0.5 points moved from field 2 to field 1; its points, index, rank and band are
    unchanged, yet the versions differ."""
    fix = "unit,criterion,self_score,final_score\nso-a,1.1.2,6,6\nso-a,2.1,,8.5\n"
    assert run("import_scores", write("fix.csv", fix), year=2023, group="departments").status == 0
    assert run("publish", year=2023, group="departments", reason="Sửa điểm lĩnh vực").status == 0
    old = text(get(client, "/versions/2023/departments/1/", "en"))
    assert "What differs in the current version (2): index, rank, band, points and field" in old
    assert "No unit's" not in old
    changed = old.split('id="changes"')[1].split("</table>")[0]
    row = changed.split('href="/units/so-a/"')[1].split("</tr>")[0]
    assert "19.50 / 20.00" in row
    assert (
        '1. <span lang="vi">Công tác chỉ đạo</span>: <span class="was">9.50; 95.00</span> → ' in row
    )
    assert "<strong>10.00; 100.00</strong>" in row
    assert "9.00; 90.00</span> → <strong>8.50; 85.00</strong>" in row
    assert "Sở Bình" not in changed and "Sở Cần" not in changed


# Home: who moved most ---------------------------------------------------------------------------


def test_the_home_page_shows_the_most_improved_and_the_biggest_falls(client, run, write):
    load_small_province(run, write, year=2022)
    load_small_province(run, write, year=2023, publish=False)
    fix = "unit,criterion,self_score,final_score\nso-b,1.1.1,4,4\nso-a,1.1.2,6,3\n"
    run("import_scores", write("fix.csv", fix), year=2023, group="departments")
    assert run("publish", year=2023, group="departments").status == 0
    body = text(get(client, "/", "en"))
    movers = body.split('id="movers"')[1].split("</section>")[0]
    improved = movers.split("<h4>Most improved</h4>")[1].split("<h4>Biggest falls</h4>")[0]
    falls = movers.split("<h4>Biggest falls</h4>")[1]
    assert "Sở Bình" in improved and "+5,00" not in improved and "+5.00" in improved
    assert "82.50 → 87.50" in improved
    assert "Sở An" in falls and "−12.50" in falls
    assert "Sở Cần" not in movers  # unchanged


# Losses -----------------------------------------------------------------------------------------


def test_points_lost_on_a_leaf():
    from decimal import Decimal as D
    from types import SimpleNamespace as Leaf

    def leaf(final, na=False):
        return Leaf(final_score=None if final is None else D(final), not_applicable=na)

    assert leaf_loss("self", D("4"), leaf("3")) == D("1.00")
    assert leaf_loss("survey", D("10"), leaf(None)) == D("10.00")
    assert leaf_loss("penalty", D("2"), leaf("0.5")) == D("0.50")
    assert leaf_loss("bonus", D("2"), leaf("0")) is None
    assert leaf_loss("self", D("4"), leaf(None, na=True)) is None


# Vietnamese data on English pages ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "marked"),
    [
        ("/units/", ['<span lang="vi">Sở An</span>', '<span lang="vi">Sở, ban, ngành</span>']),
        (
            "/compare/2023/departments/?units=so-a,so-b",
            [
                '<span lang="vi">Sở An</span>',
                '<span lang="vi">Ban hành kế hoạch</span>',
                '<span lang="vi">Công tác chỉ đạo</span>',
                '<span lang="vi">Sở, ban, ngành</span>',
            ],
        ),
        (
            "/rankings/2023/departments/fields/1/",
            ['<span lang="vi">Sở Cần</span>', '<span lang="vi">Công tác chỉ đạo</span>'],
        ),
        ("/versions/2023/departments/1/", ['<span lang="vi">Sở Bình</span>']),
    ],
)
def test_english_pages_mark_unit_group_and_criterion_names_as_vietnamese(
    client, two_years, url, marked
):
    english = get(client, url, "en").content.decode()
    for fragment in marked:
        assert fragment in english, fragment
    vietnamese = get(client, url, "vi").content.decode()
    assert 'lang="vi">Sở' not in vietnamese  # the whole page is Vietnamese already


# Caching and budgets ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/units/?q=phong+dien",
        "/compare/2023/departments/?units=so-a,so-b",
        "/rankings/2023/departments/fields/1/",
        "/versions/2023/departments/1/",
    ],
)
def test_undocumented_parameters_neither_change_the_answer_nor_build_it_again(
    client, two_years, settings, monkeypatch, url
):
    settings.PUBLIC_PAGE_SECONDS = 0
    builds = []
    render = explore.render
    monkeypatch.setattr(explore, "render", lambda *a, **k: builds.append(1) or render(*a, **k))
    first = client.get(url)
    assert first.status_code == 200 and len(builds) == 1
    stored = len(cache._cache)
    with CaptureQueriesContext(connection) as cached:
        assert client.get(url)["ETag"] == first["ETag"]  # the same request: from the cache
    assert len(builds) == 1
    for number in range(5):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(
                url + f"&junk{number}=1" if "?" in url else url + f"?junk={number}"
            )
        assert response.status_code == 200 and response["ETag"] == first["ETag"]
        # Never built again, nothing new stored: only the queries of a cached answer.
        assert len(builds) == 1 and len(cache._cache) == stored
        assert len(queries) == len(cached)


@pytest.mark.parametrize(
    ("url", "queries"),
    [
        # The latest publications (navigation); their results (no unit of the live register);
        # the newest publication (ETag).
        ("/units/", 3),
        ("/units/?q=so", 3),
        # The publication; the newest publication (ETag); the chosen units' results; their
        # fields; their leaves; the criteria; the group's units (the picker's options, not
        # cached yet); the navigation.
        ("/compare/2023/departments/?units=so-a,so-b", 8),
        # The publication; the newest publication; the picker's options; the navigation.
        ("/compare/2023/departments/", 4),
        # The same and whether the unit is ranked there.
        ("/compare/2023/departments/with/so-a/", 5),
        # The publication; the newest publication; its fields; the field's rows with their
        # results; the navigation.
        ("/rankings/2023/departments/fields/1/", 5),
        # The versions; the newest publication; both versions' results; their fields; the
        # navigation.
        ("/versions/2023/departments/1/", 5),
    ],
)
def test_query_counts_do_not_grow_with_units(client, run, write, two_years, url, queries):
    client.cookies["django_language"] = "vi"
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    grow_province(run, write, 40)
    run("publish", year=2023, group="departments", reason="more units")
    load_small_province(run, write, year=2021)
    cache.clear()
    with CaptureQueriesContext(connection) as large:
        response = client.get(url)
        assert response.status_code == 200
    assert len(small) == len(large) == queries, [q["sql"][:120] for q in large.captured_queries]
    assert Publication.objects.count() >= 4
    if url.startswith("/units/?"):
        assert "Sở Thêm 39" in response.content.decode()


@pytest.mark.parametrize(
    ("first", "then", "queries"),
    [
        # The list of units is kept per navigation and language: a search built after the
        # quick copies are gone reads the navigation and the newest publication, no result.
        ("/units/", "/units/?q=so+b", 2),
        # The picker's options are kept per publication and language: the comparison reads
        # the publication, the newest publication, the chosen units' results, fields and
        # leaves, the criteria and the navigation, never the group's other units.
        ("/compare/2023/departments/", "/compare/2023/departments/?units=so-b,so-a", 7),
        ("/compare/2023/departments/", "/compare/2023/departments/with/so-b/", 4),
    ],
)
def test_long_lists_are_made_once_per_publication(client, two_years, first, then, queries):
    client.cookies["django_language"] = "vi"
    assert client.get(first).status_code == 200
    new_generation()  # every quick copy forgotten, as after a publication of another group
    with CaptureQueriesContext(connection) as captured:
        response = client.get(then)
    assert response.status_code == 200
    assert len(captured) == queries, [q["sql"][:120] for q in captured.captured_queries]


def test_a_search_and_the_picker_show_a_newer_publication(client, run, write, two_years):
    """Nothing kept goes stale: the list and the options are keyed by the publications."""
    client.cookies["django_language"] = "vi"
    assert "Sở Thêm 0" not in client.get("/units/").content.decode()
    assert "Sở Thêm 0" not in client.get("/compare/2023/departments/").content.decode()
    grow_province(run, write, 2)
    run("publish", year=2023, group="departments", reason="more units")
    listed = client.get("/units/?q=them").content.decode()
    assert "Sở Thêm 0" in listed and "Sở Thêm 1" in listed
    picker = client.get("/compare/2023/departments/with/so-a/").content.decode()
    assert picker.count(">Sở Thêm 0<") == 0  # shown as "rank. name"
    assert picker.count(". Sở Thêm 0</option>") == 3  # in each of the three pickers
    assert picker.count('<option value="so-a" selected') == 1


def test_the_picker_marks_only_the_chosen_unit(client, two_years):
    """``so-a`` chosen must not select a unit whose code starts with it."""
    client.cookies["django_language"] = "vi"
    page = client.get("/compare/2023/departments/?units=so-b,so-a").content.decode()
    assert page.count(" selected") == 2
    first, second, third = page.split('<select id="unit-')[1:]
    assert '<option value="so-b" selected' in first and '<option value="so-a" selected' in second
    assert " selected" not in third


def test_the_pickers_options_escape_a_units_name_as_django_does(client, run, two_years):
    """The options are made below the template engine (``explore.picker_options``): a name
    holding markup is shown as text, escaped exactly as Django's ``escape`` would."""
    from django.utils.html import escape

    from scoring.models import Unit

    name = "Sở <b>\"A\"</b> & 'co'"
    Unit.objects.filter(code="so-a").update(name=name)
    assert run("publish", year=2023, group="departments", reason="renamed").status == 0
    client.cookies["django_language"] = "vi"
    page = client.get("/compare/2023/departments/with/so-b/").content.decode()
    assert "<b>" not in page
    assert page.count(f'<option value="so-a">1. {escape(name)}</option>') == 3
