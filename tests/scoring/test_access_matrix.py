"""Every staff URL and admin page, tried by the whole cast: nobody reaches what their role does
not allow, and nothing a refused request asked for is written."""

import pytest

from scoring.models import Assessment, CriteriaSet, Round
from tests.cast import YEAR
from tests.conftest import database_state

pytestmark = pytest.mark.django_db

ADMIN_LISTS = [
    "/admin/scoring/unitgroup/",
    "/admin/scoring/unit/",
    "/admin/scoring/round/",
    "/admin/scoring/criteriaset/",
    "/admin/scoring/criterion/",
    "/admin/scoring/assessment/",
    "/admin/scoring/score/",
    "/admin/scoring/evidence/",
    "/admin/scoring/transition/",
    "/admin/scoring/sipasresult/",
    "/admin/scoring/membership/",
    "/admin/scoring/appraiserassignment/",
    "/admin/rankings/publication/",
    "/admin/auth/user/",
]

# What each role may open in the admin: 200 where listed, 403 elsewhere.
APPRAISER_MAY = {
    "/admin/scoring/unit/",
    "/admin/scoring/round/",
    "/admin/scoring/criteriaset/",
    "/admin/scoring/criterion/",
    "/admin/scoring/assessment/",
    "/admin/scoring/score/",
    "/admin/scoring/evidence/",
    "/admin/rankings/publication/",
}
SECRETARIAT_MAY = set(ADMIN_LISTS)


def custom_pages():
    round_obj = Round.objects.get(year=YEAR)
    assessment = Assessment.objects.get(unit__code="so-a", criteria_set__round=round_obj)
    crit_set = CriteriaSet.objects.get(round=round_obj)
    return {
        "appraise": f"/admin/scoring/assessment/{assessment.pk}/appraise/",
        "progress": f"/admin/scoring/round/{round_obj.pk}/progress/",
        "preview": f"/admin/scoring/criteriaset/{crit_set.pk}/preview/",
        "publish": "/admin/rankings/publication/publish/",
    }


@pytest.mark.parametrize("who", ["anonymous", "staff_a", "staff_b", "head_a"])
def test_people_outside_the_council_never_get_into_the_admin(client, cast, who):
    if who != "anonymous":
        client.force_login(cast[who])
    before = database_state()
    for url in [*ADMIN_LISTS, *custom_pages().values()]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/admin/login/"), url
        assert client.post(url, {}).status_code == 302, url
    assert database_state() == before


@pytest.mark.parametrize(
    ("who", "allowed"), [("appraiser_1", APPRAISER_MAY), ("secretariat", SECRETARIAT_MAY)]
)
def test_council_roles_see_the_admin_pages_of_their_role(client, cast, who, allowed):
    client.force_login(cast[who])
    for url in ADMIN_LISTS:
        assert client.get(url).status_code == (200 if url in allowed else 403), url


def test_the_council_pages_by_role(client, cast):
    pages = custom_pages()
    expected = {
        "appraiser_1": {"appraise": 200, "progress": 200, "preview": 200, "publish": 403},
        "appraiser_3": {"appraise": 200, "progress": 200, "preview": 200, "publish": 403},
        "secretariat": {"appraise": 200, "progress": 200, "preview": 200, "publish": 200},
    }
    for who, statuses in expected.items():
        client.force_login(cast[who])
        for name, status in statuses.items():
            assert client.get(pages[name]).status_code == status, (who, name)


def test_nobody_but_the_superuser_adds_or_deletes_scores_in_the_admin(client, cast):
    before = database_state()
    for who in ("appraiser_1", "secretariat"):
        client.force_login(cast[who])
        assert client.get("/admin/scoring/score/add/").status_code == 403
        assert client.get("/admin/scoring/assessment/add/").status_code == 403
        assert client.get("/admin/scoring/transition/add/").status_code == 403
    assert database_state() == before


@pytest.mark.parametrize("who", ["appraiser_1", "secretariat"])
def test_council_members_cannot_create_or_change_users(client, cast, who):
    client.force_login(cast[who])
    assert client.get("/admin/auth/user/add/").status_code == 403
    response = client.post(f"/admin/auth/user/{cast[who].pk}/change/", {"is_superuser": "on"})
    assert response.status_code == 403
    cast[who].refresh_from_db()
    assert not cast[who].is_superuser
