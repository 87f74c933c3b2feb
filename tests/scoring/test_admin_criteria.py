"""Criteria in the admin: never a change to a set with scores or a publication (as
``import_criteria`` refuses), and on an open set the tree's rules hold after every change."""

from decimal import Decimal as D

import pytest

from scoring.models import CriteriaSet
from tests.factories import CRITERIA, load_small_province
from tests.helpers import database_state

pytestmark = pytest.mark.django_db

ADD = "/admin/scoring/criterion/add/"


@pytest.fixture
def secretariat_client(client, cast):
    client.force_login(cast["secretariat"])
    return client


@pytest.fixture
def superuser_client(db):
    from django.contrib.auth.models import User
    from django.test import Client

    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.org", "pw"))
    return client


def child_of(code: str, criteria_set: CriteriaSet, **extra) -> dict:
    parent = criteria_set.criteria.get(code=code)
    return {
        "criteria_set": criteria_set.pk,
        "parent": parent.pk,
        "code": f"{code}.9",
        "title": "Tiêu chí thêm",
        "guidance": "",
        "max_points": "1",
        "kind": "self",
        # What the form asked for before is_leaf and position became derived: with them an
        # unguarded form would save.
        "is_leaf": "on",
        "position": "99",
        **extra,
    }


def test_a_criterion_cannot_be_added_under_a_leaf_of_a_published_set(
    secretariat_client, run, write
):
    load_small_province(run, write, year=2023)  # published
    criteria_set = CriteriaSet.objects.get(round__year=2023)
    before = database_state()
    response = secretariat_client.post(ADD, child_of("1.1.1", criteria_set))
    assert response.status_code == 200
    assert "has been published" in response.content.decode() or "đã được công bố" in (
        response.content.decode()
    )
    assert database_state() == before


def test_a_criterion_cannot_be_added_to_a_set_with_scores(secretariat_client, run, write):
    load_small_province(run, write, year=2023, publish=False)  # scores, no publication
    criteria_set = CriteriaSet.objects.get(round__year=2023)
    before = database_state()
    assert secretariat_client.post(ADD, child_of("2", criteria_set)).status_code == 200
    assert database_state() == before


def test_a_criterion_cannot_be_moved_into_a_scored_set(secretariat_client, run, write):
    load_small_province(run, write, year=2023, publish=False)
    assert (
        run("import_criteria", write("c.csv", CRITERIA), year=2025, group="departments").status == 0
    )
    open_set = CriteriaSet.objects.get(round__year=2025)
    scored = CriteriaSet.objects.get(round__year=2023)
    criterion = open_set.criteria.get(code="3.1")
    before = database_state()
    response = secretariat_client.post(
        f"/admin/scoring/criterion/{criterion.pk}/change/",
        {
            "criteria_set": scored.pk,
            "parent": scored.criteria.get(code="3").pk,
            "code": "3.9",
            "title": criterion.title,
            "max_points": "2",
            "kind": "bonus",
            "is_leaf": "on",
            "position": "99",
        },
    )
    assert response.status_code == 200
    assert database_state() == before


def test_on_an_open_set_a_parent_never_stays_a_leaf(
    secretariat_client, superuser_client, run, write
):
    assert (
        run("import_criteria", write("c.csv", CRITERIA), year=2025, group="departments").status == 0
    )
    criteria_set = CriteriaSet.objects.get(round__year=2025)
    response = secretariat_client.post(ADD, child_of("1.1.1", criteria_set, max_points="2.5"))
    assert response.status_code == 302
    parent = criteria_set.criteria.get(code="1.1.1")
    assert (parent.is_leaf, parent.kind, parent.max_points) == (False, "", D("2.50"))
    child = criteria_set.criteria.get(code="1.1.1.9")
    assert (child.is_leaf, child.kind) == (True, "self")
    # The sums follow up the tree: 1.1 = 2.5 + 6, field 1 likewise.
    assert criteria_set.criteria.get(code="1.1").max_points == D("8.50")
    assert criteria_set.criteria.get(code="1").max_points == D("8.50")
    codes = list(criteria_set.criteria.order_by("position").values_list("code", flat=True))
    assert codes.index("1.1.1.9") == codes.index("1.1.1") + 1

    # Removing the only child (the superuser may delete) makes the parent a leaf again.
    superuser_client.post(f"/admin/scoring/criterion/{child.pk}/delete/", {"post": "yes"})
    parent.refresh_from_db()
    assert (parent.is_leaf, parent.kind) == (True, "self")


def test_a_criterion_cannot_be_placed_under_its_own_sub_criterion(secretariat_client, run, write):
    assert (
        run("import_criteria", write("c.csv", CRITERIA), year=2025, group="departments").status == 0
    )
    criteria_set = CriteriaSet.objects.get(round__year=2025)
    field = criteria_set.criteria.get(code="1")
    before = database_state()
    response = secretariat_client.post(
        f"/admin/scoring/criterion/{field.pk}/change/",
        {
            "criteria_set": criteria_set.pk,
            "parent": criteria_set.criteria.get(code="1.1.1").pk,
            "code": "1",
            "title": field.title,
            "max_points": "10",
            "kind": "",
            "position": "1",
        },
    )
    assert response.status_code == 200
    assert database_state() == before


def test_deleting_unscored_criteria_of_a_scored_set_in_bulk_is_refused(
    superuser_client, run, write
):
    load_small_province(run, write, year=2023, publish=False)
    assert (
        run("import_criteria", write("c.csv", CRITERIA), year=2025, group="departments").status == 0
    )
    scores = "unit,criterion,self_score,final_score\nso-a,1.1.1,4,4\n"
    assert run("import_scores", write("s.csv", scores), year=2025, group="departments").status == 0
    criteria_set = CriteriaSet.objects.get(round__year=2025)
    unscored = criteria_set.criteria.get(
        code="3.2"
    )  # no score points at it: only the set is frozen
    before = database_state()
    response = superuser_client.post(
        "/admin/scoring/criterion/",
        {"action": "delete_selected", "_selected_action": [str(unscored.pk)], "post": "yes"},
    )
    assert response.status_code == 403
    assert database_state() == before
