import pytest
from django.contrib.auth.models import User

from rankings.models import Publication
from scoring.models import CriteriaSet
from tests.factories import load_small_province

pytestmark = pytest.mark.django_db

URL = "/admin/rankings/publication/publish/"


@pytest.fixture
def superuser_client(client):
    user = User.objects.create_superuser("root", "root@example.org", "x")
    client.force_login(user)
    return client


def test_the_admin_shows_the_results_before_publishing_and_publishes_on_confirmation(
    superuser_client, run, write
):
    load_small_province(run, write, publish=False)
    criteria_set = CriteriaSet.objects.get()
    preview = superuser_client.post(URL, {"criteria_set": criteria_set.pk})
    assert preview.status_code == 200
    assert "97,50" in preview.content.decode()  # Vietnamese decimal comma
    assert not Publication.objects.exists()

    done = superuser_client.post(
        URL, {"criteria_set": criteria_set.pk, "confirmed": criteria_set.pk}
    )
    assert done.status_code == 302
    publication = Publication.objects.get()
    assert publication.published_by.username == "root"
    assert publication.results.count() == 3


def test_confirming_another_set_than_the_one_shown_only_shows_it(superuser_client, run, write):
    load_small_province(run, write, publish=False)
    criteria_set = CriteriaSet.objects.get()
    response = superuser_client.post(
        URL, {"criteria_set": criteria_set.pk, "confirmed": criteria_set.pk + 1}
    )
    assert response.status_code == 200
    assert not Publication.objects.exists()


def test_gaps_are_listed_and_nothing_is_published(superuser_client, run, write):
    load_small_province(run, write, publish=False)
    run(
        "import_scores",
        write("g.csv", "unit,criterion,self_score,final_score\nso-a,2.1,,\n"),
        year=2023,
        group="departments",
    )
    criteria_set = CriteriaSet.objects.get()
    response = superuser_client.post(
        URL, {"criteria_set": criteria_set.pk, "confirmed": criteria_set.pk}
    )
    assert response.status_code == 200
    assert "2.1" in response.content.decode()
    assert not Publication.objects.exists()


def test_staff_without_the_permission_cannot_publish(client, run, write):
    load_small_province(run, write, publish=False)
    user = User.objects.create_user("clerk", password="x", is_staff=True)
    client.force_login(user)
    criteria_set = CriteriaSet.objects.get()
    response = client.post(URL, {"criteria_set": criteria_set.pk, "confirmed": criteria_set.pk})
    assert response.status_code == 403
    assert not Publication.objects.exists()


def test_anonymous_visitors_are_sent_to_the_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_a_round_still_in_its_workflow_is_not_published_from_the_admin(
    superuser_client, run, write
):
    from scoring.models import Round, Stage

    load_small_province(run, write, publish=False)
    Round.objects.filter(year=2023).update(stage=Stage.APPRAISAL_2)
    criteria_set = CriteriaSet.objects.get()
    response = superuser_client.post(
        URL, {"criteria_set": criteria_set.pk, "confirmed": criteria_set.pk}
    )
    assert response.status_code == 200
    assert not Publication.objects.exists()
