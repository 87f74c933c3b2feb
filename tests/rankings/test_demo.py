"""The Cần Thơ demo tells the story of the 2023 results (domain.md §6: the city's report of
28-02-2024 and NSMT's of 29-02-2024), read through the public API and pages after `load_demo`."""

import io
import re
from collections import Counter
from decimal import Decimal as D

import pytest
from django.core.management import call_command

from scoring import calculation
from scoring.models import Assessment, CriteriaSet, Round, Stage
from scoring.roles import ensure_roles
from tests.helpers import database_state

pytestmark = pytest.mark.django_db

LEADERS = [
    "Sở Lao động – Thương binh và Xã hội",
    "Sở Khoa học và Công nghệ",
    "Sở Văn hóa, Thể thao và Du lịch",
]


@pytest.fixture(scope="module")
def demo_data(django_db_setup, django_db_blocker):
    """The demo, loaded once for the module (it takes seconds); each test's own changes are
    rolled back, and the module leaves the database as the migrations made it."""
    with django_db_blocker.unblock():
        call_command("load_demo", stdout=io.StringIO())
    yield
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)
        ensure_roles()


@pytest.fixture
def demo(demo_data, db):
    return demo_data


def ranking(client, year, group):
    response = client.get(f"/api/v1/rankings/{year}/{group}/")
    assert response.status_code == 200
    return response.json()


def average(results, key="index"):
    """The group's average from the API's published indices (exact decimals)."""
    return calculation.average([D(r[key]) for r in results])


def test_loading_the_demo_twice_changes_nothing(run, demo):
    before = database_state()
    assert run("load_demo").status == 0
    assert database_state() == before


def test_the_2023_departments_match_the_seed_article(client, demo):
    data = ranking(client, 2023, "departments")
    assert data["published_at"] == "2024-02-28T09:00:00+07:00"
    results = data["results"]
    assert len(results) == 20
    assert Counter(r["band_label"] for r in results) == {"Rất tốt": 8, "Tốt": 10, "Khá": 2}
    assert [r["name"] for r in results[:3]] == LEADERS
    assert [r["rank"] for r in results[:3]] == [1, 2, 3]
    assert results[-1]["name"] == "Sở Tài nguyên và Môi trường"
    assert results[-1]["rank"] == 20
    # Most units improved on 2022; two or three did not.
    changes = [D(r["change"]) for r in results]
    assert sum(1 for change in changes if change <= 0) in (2, 3)


def test_the_departments_match_the_second_report(client, demo):
    now = ranking(client, 2023, "departments")["results"]
    before = ranking(client, 2022, "departments")["results"]
    assert average(now) == D("92.27")
    assert average(before) == D("90.51")
    assert average(now) - average(before) == D("1.76")
    assert all(D(r["index"]) > 80 for r in now + before)
    named_so = Counter(r["band_label"] for r in now if r["name"].startswith("Sở"))
    assert named_so == {"Rất tốt": 5, "Tốt": 9, "Khá": 2}
    last_year = {r["unit"]: D(r["index"]) for r in before}
    assert all(D(r["index"]) - last_year[r["unit"]] == D(r["change"]) for r in now)


def test_the_2023_districts_match_both_reports(client, demo):
    results = ranking(client, 2023, "districts")["results"]
    before = ranking(client, 2022, "districts")["results"]
    assert len(results) == 9
    assert [r["name"] for r in results[:2]] == ["huyện Phong Điền", "huyện Vĩnh Thạnh"]
    assert [r["rank"] for r in results[:2]] == [1, 2]
    assert results[-1]["name"] == "quận Ninh Kiều"
    assert results[-1]["rank"] == 9
    assert Counter(r["band_label"] for r in results) == {"Rất tốt": 2, "Tốt": 7}
    assert all(D(r["change"]) > 0 for r in results)  # every district improved
    assert (average(results), average(before)) == (D("93.93"), D("87.51"))
    assert average(results) - average(before) == D("6.42")


def test_the_assumed_bands_are_published_with_the_results(client, demo):
    data = ranking(client, 2023, "departments")
    bands = {r["band"]: r["band_label"] for r in data["results"]}
    assert bands == {"rat-tot": "Rất tốt", "tot": "Tốt", "kha": "Khá"}
    lowest = {
        label: min(D(r["index"]) for r in data["results"] if r["band_label"] == label)
        for label in ("Rất tốt", "Tốt", "Khá")
    }
    assert lowest == {"Rất tốt": D("95.10"), "Tốt": D("90.20"), "Khá": D("85.90")}


def test_the_2023_sipas_matches_the_seed_article(client, demo):
    departments = client.get("/api/v1/sipas/2023/departments/").json()["results"]
    assert [r["name"] for r in departments[:3]] == [
        "Sở Lao động – Thương binh và Xã hội",
        "Sở Giáo dục và Đào tạo",
        "Sở Nội vụ",
    ]
    assert [r["rank"] for r in departments[:3]] == [1, 2, 3]
    districts = client.get("/api/v1/sipas/2023/districts/").json()["results"]
    assert districts[0]["name"] == "huyện Thới Lai"
    assert districts[-1]["name"] == "quận Ô Môn"
    assert districts[-1]["rank"] == 9
    for year in (2022, 2023):
        for group in ("departments", "districts"):
            sipas = client.get(f"/api/v1/sipas/{year}/{group}/").json()["results"]
            assert all(D("80") <= D(v) <= D("99.5") for r in sipas for v in r["elements"].values())
            # SIPAS is its own index: its averages are not the PAR Index's.
            assert average(sipas) != average(ranking(client, year, group)["results"])


def test_the_online_payment_rate_shows_its_figure_and_target(client, demo):
    data = client.get("/api/v1/units/so-tai-chinh/").json()
    result = next(r for r in data["results"] if r["year"] == 2023)
    payment = next(
        leaf for leaf in result["leaves"] if leaf["title"] == "Tỷ lệ thanh toán trực tuyến"
    )
    assert payment["kind"] == "target"
    assert (payment["figure"], payment["target"], payment["unit_label"]) == ("42.40", "30.00", "%")
    assert payment["final_score"] == payment["max_points"] == "1.50"  # 42.4 % ≥ 30 %: full points
    page = client.get("/units/so-tai-chinh/?year=2023").content.decode()
    row = re.search(r"Tỷ lệ thanh toán trực tuyến .*?class=\"note figure\">([^<]*)<", page, re.S)
    shown = row.group(1)
    assert "42,4 %" in shown and "30 %" in shown  # "(chỉ tiêu 30 %)" once translated


def test_target_agency_and_sipas_leaves_are_published(client, demo):
    result = next(
        r
        for r in client.get("/api/v1/units/huyen-phong-dien/").json()["results"]
        if r["year"] == 2023
    )
    kinds = Counter(leaf["kind"] for leaf in result["leaves"])
    assert kinds["agency"] >= 2 and kinds["target"] >= 3 and kinds["survey"] >= 10
    fed = [leaf for leaf in result["leaves"] if "sipas_element" in leaf]
    assert len(fed) == 5 and all(leaf["final_score"] for leaf in fed)
    assert all(leaf["note"] for leaf in result["leaves"])


def test_both_years_are_published_and_2024_is_open_for_self_assessment(client, demo):
    years = client.get("/api/v1/").json()["years"]
    assert [(y["year"], [g["code"] for g in y["groups"]]) for y in years] == [
        (2023, ["departments", "districts"]),
        (2022, ["departments", "districts"]),
    ]
    assert client.get("/api/v1/rankings/2024/departments/").status_code == 404
    assert client.get("/api/v1/sipas/2024/districts/").status_code == 404
    round_2024 = Round.objects.get(year=2024)
    assert round_2024.stage == Stage.SELF_ASSESSMENT
    assert round_2024.self_assessment_deadline is not None
    assert Assessment.objects.filter(criteria_set__round=round_2024).count() == 29


def test_each_demo_set_is_a_full_tree(demo):
    for criteria_set in CriteriaSet.objects.filter(round__year__in=[2022, 2023, 2024]):
        criteria = list(criteria_set.criteria.all())
        fields = [c for c in criteria if c.parent_id is None]
        leaves = [c for c in criteria if c.is_leaf]
        assert len(fields) == 9
        assert fields[-1].title == "Điểm thưởng, điểm trừ"
        assert len(criteria) - len(fields) - len(leaves) >= 30  # criteria
        assert len(leaves) >= 60  # sub-criteria
        totals = calculation.maximum_by_kind(leaves)
        assert calculation.scored_maximum(leaves) == 100
        assert totals["survey"] == 32 and totals["agency"] and totals["target"]
        assert totals["bonus"] and totals["penalty"]
        assert sorted(c.sipas_element for c in leaves if c.sipas_element) == sorted(
            ["access", "procedure", "civil_servants", "result", "feedback"]
        )
        if criteria_set.round.year > 2022:
            assert sum(1 for c in criteria if c.previous_id) > len(criteria) * 0.9


def test_the_methodology_says_what_changed_in_2023(client, demo):
    page = client.get("/methodology/2023/departments/").content.decode()
    changes = page[page.index('id="changes"') :]
    assert "1.4.3. Tuyên truyền CCHC trên Cổng thông tin điện tử và mạng xã hội" in changes
    assert "1.3.3. Ban hành kế hoạch kiểm tra CCHC" in changes
    assert "dịch vụ công trực tuyến mức độ 3, 4" in changes
