"""The Cần Thơ demo tells the seed article's story (README.md, "the demo"), through the public API."""

import io
from collections import Counter
from decimal import Decimal as D

import pytest
from django.core.management import call_command

from scoring.models import Assessment, CriteriaSet, Round, Stage
from scoring.roles import ensure_roles
from tests.helpers import database_state

pytestmark = pytest.mark.django_db


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


def test_loading_the_demo_twice_changes_nothing(run, demo):
    before = database_state()
    assert run("load_demo").status == 0
    assert database_state() == before


def test_the_2023_departments_match_the_seed_article(client, demo):
    response = client.get("/api/v1/rankings/2023/departments/")
    assert response.status_code == 200
    data = response.json()
    assert data["published_at"] == "2024-02-28T09:00:00+07:00"
    results = data["results"]
    assert len(results) == 20
    assert Counter(r["band_label"] for r in results) == {"Rất tốt": 8, "Tốt": 10, "Khá": 2}
    assert [r["name"] for r in results[:3]] == [
        "Sở Lao động – Thương binh và Xã hội",
        "Sở Khoa học và Công nghệ",
        "Sở Văn hóa, Thể thao và Du lịch",
    ]
    assert [r["rank"] for r in results[:3]] == [1, 2, 3]
    assert results[-1]["name"] == "Sở Tài nguyên và Môi trường"
    assert results[-1]["rank"] == 20
    # Most units improved on 2022.
    improved = sum(1 for r in results if r["change"] is not None and D(r["change"]) > 0)
    assert improved > len(results) / 2


def test_the_2023_districts_match_the_seed_article(client, demo):
    results = client.get("/api/v1/rankings/2023/districts/").json()["results"]
    assert len(results) == 9
    assert [r["name"] for r in results[:2]] == ["huyện Phong Điền", "huyện Vĩnh Thạnh"]
    assert results[-1]["name"] == "quận Ninh Kiều"
    assert results[-1]["rank"] == 9
    assert sum(1 for r in results if D(r["change"]) > 0) > 4


def test_the_2023_sipas_matches_the_seed_article(client, demo):
    departments = client.get("/api/v1/sipas/2023/departments/").json()["results"]
    assert [r["name"] for r in departments[:3]] == [
        "Sở Lao động – Thương binh và Xã hội",
        "Sở Giáo dục và Đào tạo",
        "Sở Nội vụ",
    ]
    districts = client.get("/api/v1/sipas/2023/districts/").json()["results"]
    assert districts[0]["name"] == "huyện Thới Lai"
    assert districts[-1]["name"] == "quận Ô Môn"
    assert districts[-1]["rank"] == 9


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
    for criteria_set in CriteriaSet.objects.filter(round__year__in=[2022, 2023]):
        criteria = list(criteria_set.criteria.all())
        fields = [c for c in criteria if c.parent_id is None]
        leaves = [c for c in criteria if c.is_leaf]
        assert len(fields) >= 8
        assert len(criteria) - len(fields) - len(leaves) >= 30  # criteria
        assert len(leaves) >= 60  # sub-criteria
        kinds = Counter(c.kind for c in leaves)
        assert kinds["survey"] and kinds["bonus"] and kinds["penalty"]
        if criteria_set.round.year == 2023:
            assert sum(1 for c in criteria if c.previous_id) > len(criteria) * 0.9
