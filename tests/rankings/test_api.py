from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import load_small_province

pytestmark = pytest.mark.django_db


def test_the_ranking_follows_the_contract(client, run, write):
    load_small_province(run, write, published_at="2024-02-28T09:00:00+07:00")
    response = client.get("/api/v1/rankings/2023/departments/")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    data = response.json()
    assert len(data["versions"]) == 1 and len(data["versions"][0]["checksum"]) == 64
    header = ("year", "group", "group_name", "version", "published_at")
    assert {k: data[k] for k in (*header, "baseline_version", "baseline_outdated")} == {
        "year": 2023,
        "group": "departments",
        "group_name": "Sở, ban, ngành",
        "version": 1,
        "published_at": "2024-02-28T09:00:00+07:00",
        "baseline_version": None,  # nothing published for 2022
        "baseline_outdated": False,
    }
    first = data["results"][0]
    assert first == {
        "rank": 1,
        "unit": "so-a",
        "name": "Sở An",
        "points": "19.50",
        "max_points": "20.00",
        "index": "97.50",
        "band": "rat-tot",
        "band_label": "Rất tốt",
        "change": None,
        "previous_index": None,
        "change_basis": None,
        "compared_with": [],
        "fields": [
            {
                "code": "1",
                "title": "Công tác chỉ đạo",
                "points": "9.50",
                "max_points": "10.00",
                "index": "95.00",
            },
            {
                "code": "2",
                "title": "Tác động",
                "points": "9.00",
                "max_points": "10.00",
                "index": "90.00",
            },
            {
                "code": "3",
                "title": "Điểm thưởng, điểm trừ",
                "points": "1.00",
                "max_points": "0.00",
                "index": None,
            },
        ],
    }
    assert [(r["rank"], r["unit"]) for r in data["results"]] == [
        (1, "so-a"),
        (2, "so-c"),
        (3, "so-b"),
    ]


def test_the_ranking_shows_the_change_from_last_year(client, run, write):
    load_small_province(run, write, year=2022)
    load_small_province(run, write, year=2023, publish=False)
    run(
        "import_scores",
        write("s.csv", "unit,criterion,self_score,final_score\nso-b,1.1.1,4,4\n"),
        year=2023,
        group="departments",
    )
    run("publish", year=2023, group="departments")
    results = {
        r["unit"]: r for r in client.get("/api/v1/rankings/2023/departments/").json()["results"]
    }
    assert results["so-b"]["change"] == "5.00"
    assert results["so-a"]["change"] == "0.00"


def test_sipas_follows_the_contract(client, run, write):
    load_small_province(run, write)
    data = client.get("/api/v1/sipas/2023/departments/").json()
    assert (data["year"], data["group"]) == (2023, "departments")
    assert data["results"][0] == {
        "rank": 1,
        "unit": "so-b",
        "name": "Sở Bình",
        "index": "95.10",
        "change": None,
        "previous_index": None,
        "change_basis": None,
        "compared_with": [],
        "elements": {
            "access": "95.00",
            "procedure": "95.00",
            "civil_servants": "95.00",
            "result": "95.00",
            "feedback": "95.50",
        },
    }


def test_the_index_lists_published_years_with_their_groups_and_links(client, run, write):
    load_small_province(run, write, year=2022)
    load_small_province(run, write, year=2023)
    data = client.get("/api/v1/").json()
    assert [year["year"] for year in data["years"]] == [2023, 2022]
    group = data["years"][0]["groups"][0]
    assert group["code"] == "departments"
    assert group["rankings"].endswith("/api/v1/rankings/2023/departments/")
    assert group["sipas"].endswith("/api/v1/sipas/2023/departments/")


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/rankings/2023/departments/",
        "/api/v1/sipas/2023/departments/",
        "/api/v1/rankings/2023/districts/",
        "/api/v1/rankings/1999/departments/",
        "/api/v1/sipas/2023/nowhere/",
    ],
)
def test_anything_unpublished_answers_404(client, run, write, url):
    load_small_province(run, write, publish=False)  # scores exist but nothing is published
    response = client.get(url)
    assert response.status_code == 404
    assert response.json() == {"detail": "not published"}


def test_an_unpublished_year_is_not_listed(client, run, write):
    load_small_province(run, write, publish=False)
    assert client.get("/api/v1/").json() == {"years": []}


def test_the_public_sees_the_latest_version(client, run, write):
    load_small_province(run, write)
    run(
        "import_scores",
        write("s.csv", "unit,criterion,self_score,final_score\nso-b,1.1.1,4,4\n"),
        year=2023,
        group="departments",
    )
    run("publish", year=2023, group="departments", reason="Đính chính")
    data = client.get("/api/v1/rankings/2023/departments/").json()
    assert data["version"] == 2
    assert [(v["version"], v["reason"]) for v in data["versions"]] == [(1, ""), (2, "Đính chính")]
    assert next(r for r in data["results"] if r["unit"] == "so-b")["index"] == "87.50"
    assert client.get("/api/v1/").json()["years"][0]["groups"][0]["version"] == 2


def test_the_api_only_answers_get_and_head(client, run, write):
    load_small_province(run, write)
    assert client.post("/api/v1/rankings/2023/departments/").status_code == 405
    assert client.head("/api/v1/rankings/2023/departments/").status_code == 200


def grow_province(run, write, extra_units: int):
    """Add units with full scores, then publish, so query counts can be compared."""
    units = "code,name,group,group_name\n" + "".join(
        f"so-extra-{i},Sở Thêm {i},departments,\n" for i in range(extra_units)
    )
    run("import_units", write("more-units.csv", units))
    rows = "unit,criterion,self_score,final_score\n" + "".join(
        f"so-extra-{i},{leaf},,{value}\n"
        for i in range(extra_units)
        for leaf, value in (("1.1.1", 3), ("1.1.2", 5), ("2.1", i % 10))
    )
    outcome = run("import_scores", write("more.csv", rows), year=2023, group="departments")
    assert outcome.status == 0, outcome.err


@pytest.mark.parametrize(
    ("url", "queries"),
    [
        # The publication, the newest publication (for the ETag), its versions, last year's
        # publication (is the baseline outdated?), its results, their fields.
        ("/api/v1/rankings/2023/departments/", 6),
        # The publication, the newest publication, its SIPAS rows, its versions, last year's.
        ("/api/v1/sipas/2023/departments/", 5),
        # The latest publications, the newest publication and decision (for the ETag).
        ("/api/v1/", 2),
    ],
)
def test_query_counts_do_not_grow_with_the_number_of_units(client, run, write, url, queries):
    load_small_province(run, write, publish=False)
    run("publish", year=2023, group="departments")
    with CaptureQueriesContext(connection) as small:
        assert client.get(url).status_code == 200
    grow_province(run, write, 40)
    run("publish", year=2023, group="departments", reason="more units")
    with CaptureQueriesContext(connection) as large:
        response = client.get(url)
    assert response.status_code == 200
    assert len(small) == len(large) == queries
    if "rankings" in url:
        assert len(response.json()["results"]) == 43


def test_decimals_are_exact_strings_with_two_places(client, run, write):
    load_small_province(run, write)
    for result in client.get("/api/v1/rankings/2023/departments/").json()["results"]:
        for key in ("points", "max_points", "index"):
            whole, _, decimals = result[key].partition(".")
            assert len(decimals) == 2 and D(result[key]) == D(result[key]).quantize(D("0.01"))


def test_a_304_carries_its_validators_and_stays_open_to_other_sites(client, run, write):
    load_small_province(run, write)
    first = client.get("/api/v1/rankings/2023/departments/")
    again = client.get("/api/v1/rankings/2023/departments/", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    assert again["ETag"] == first["ETag"]
    assert again["Access-Control-Allow-Origin"] == "*"
