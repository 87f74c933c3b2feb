"""The stage wizard (/council/stages/<year>/): the secretariat sees what opening the next stage
changes, who is e-mailed and what is left undone, gives the new deadline, acknowledges the
warnings and confirms; nobody else sees or changes anything."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from scoring import notifications, workflow
from scoring.models import Assessment, AssessmentStatus, Round, Score, Stage, Transition
from tests.cast import YEAR, leaf, set_stage
from tests.helpers import database_state, form_fields

pytestmark = pytest.mark.django_db

URL = f"/council/stages/{YEAR}/"
SITE = "https://cchc.example.gov.vn"


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE


def local_input(moment) -> str:
    """A moment as the page's datetime input sends it (Vietnam time, to the minute)."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def in_days(days: int):
    return (timezone.now() + timedelta(days=days)).replace(second=0, microsecond=0)


def confirmed(deadline=None, **extra) -> dict:
    """What the page posts once the secretariat has filled it in and ticked the box."""
    return {
        "from_stage": Round.objects.get(year=YEAR).stage,
        "deadline": local_input(deadline or in_days(15)),
        "acknowledge": "on",
        **extra,
    }


def submit_all(*codes):
    Assessment.objects.filter(criteria_set__round__year=YEAR, unit__code__in=codes).update(
        status=AssessmentStatus.SUBMITTED
    )


def page_text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("anonymous", 302),
        ("staff_a", 302),
        ("staff_b", 302),
        ("head_a", 302),
        ("appraiser_1", 403),
        ("appraiser_3", 403),
    ],
)
def test_only_the_secretariat_sees_the_wizard_or_moves_a_stage(client, cast, who, status):
    if who != "anonymous":
        client.force_login(cast[who])
    before = database_state(include_users=True)
    for response in (client.get(URL), client.post(URL, confirmed())):
        assert response.status_code == status
        if status == 302:  # the admin sends them to its login page
            assert response["Location"].startswith("/admin/login/")
        assert "Sở Bình" not in response.content.decode()
    assert database_state(include_users=True) == before
    assert Round.objects.get(year=YEAR).stage == Stage.SELF_ASSESSMENT


def test_the_secretariat_reads_what_changes_who_is_told_and_who_has_not_submitted(login, cast):
    submit_all("so-a")
    response = login(cast["secretariat"]).get(URL)
    assert response.status_code == 200
    text = page_text(response)
    assert "Close “Self-assessment” and open “Appraisal, round 1”" in text
    assert "units that have not submitted can no longer submit" in text
    # staff-a, head-a (Sở An) and staff-b (Sở Bình); Sở Cần has no account with an address.
    assert "3 unit staff addresses, in 3 units" in text
    assert "2 appraisers" in text
    assert "1 unit has no staff account with an e-mail address and will not be told: Sở Cần" in text
    assert "2 units have not submitted their self-assessment" in text
    for code, name in (("so-b", "Sở Bình"), ("so-c", "Sở Cần")):
        assessment = Assessment.objects.get(unit__code=code, criteria_set__round__year=YEAR)
        link = reverse("admin:scoring_assessment_appraise", args=[assessment.pk])
        assert f'<a href="{link}">{name}</a>: not submitted' in text
    assert "Sở An</a>" not in text  # it has submitted
    assert "I understand that 2 units have not submitted their self-assessment" in text


def test_the_deadline_is_prefilled_with_the_one_already_stored(login, cast):
    stored = Round.objects.get(year=YEAR).appraisal_1_deadline
    fields = dict(form_fields(login(cast["secretariat"]).get(URL).content.decode(), "stage-form"))
    assert fields["deadline"] == local_input(stored)
    assert fields["from_stage"] == Stage.SELF_ASSESSMENT
    assert "acknowledge" not in fields  # not ticked for the secretariat


def test_a_post_without_the_acknowledgement_is_refused_and_writes_nothing(login, cast):
    client = login(cast["secretariat"], language="vi")
    before = database_state()
    data = confirmed()
    del data["acknowledge"]
    response = client.post(URL, data)
    assert response.status_code == 200
    assert "Hãy đánh dấu ô xác nhận" in response.content.decode()
    assert database_state() == before


@pytest.mark.parametrize(
    ("deadline", "message"),
    [
        (
            local_input(timezone.now() - timedelta(hours=1)),
            "Hạn chót phải ở sau thời điểm hiện tại",
        ),
        ("31/13/2026 99:00", "Hãy nhập hạn chót gồm ngày và giờ"),
        ("", "Hãy nhập hạn chót của giai đoạn mới"),
    ],
)
def test_a_past_malformed_or_missing_deadline_is_refused_in_vietnamese(
    login, cast, deadline, message
):
    client = login(cast["secretariat"], language="vi")
    before = database_state()
    response = client.post(URL, {**confirmed(), "deadline": deadline})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert database_state() == before


def test_a_confirmed_post_opens_the_stage_stores_the_deadline_and_emails_the_links(
    login, cast, mailoutbox, django_capture_on_commit_callbacks
):
    deadline = in_days(12)
    client = login(cast["secretariat"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(URL, confirmed(deadline))
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:scoring_round_changelist")
    round_obj = Round.objects.get(year=YEAR)
    assert round_obj.stage == Stage.APPRAISAL_1
    assert round_obj.appraisal_1_deadline == deadline
    transition = Transition.objects.filter(round=round_obj, assessment=None).latest("at")
    assert (transition.from_state, transition.to_state, transition.user) == (
        Stage.SELF_ASSESSMENT,
        Stage.APPRAISAL_1,
        cast["secretariat"],
    )
    with translation.override("vi"):
        shown = date_format(timezone.localtime(deadline), "SHORT_DATETIME_FORMAT")
    by_recipient = {address: m for m in mailoutbox for address in m.to}
    unit_a = by_recipient["staff-a@example.org"]
    assert sorted(unit_a.to) == ["head-a@example.org", "staff-a@example.org"]
    assert f"{SITE}/assessments/{YEAR}/so-a/" in unit_a.body
    assert shown in unit_a.body  # the deadline just given
    assert f"{SITE}/assessments/{YEAR}/so-b/" in by_recipient["staff-b@example.org"].body
    council = by_recipient["appraiser-1@example.org"]
    assert sorted(council.to) == ["appraiser-1@example.org", "appraiser-3@example.org"]
    assert f"{SITE}{notifications.appraiser_start_path()}" in council.body
    assert shown in council.body
    # The page counted exactly these: 3 unit addresses, 2 appraisers.
    assert sum(len(m.to) for m in mailoutbox if m is not council) == 3


def test_a_replayed_post_does_not_move_a_second_stage(login, cast):
    client = login(cast["secretariat"])
    data = confirmed()
    assert client.post(URL, data).status_code == 302
    replay = client.post(URL, data, follow=True)
    assert "the stage changed since the page was shown" in replay.content.decode()
    round_obj = Round.objects.get(year=YEAR)
    assert round_obj.stage == Stage.APPRAISAL_1
    assert not Transition.objects.filter(round=round_obj, to_state=Stage.EXPLANATION).exists()
    assert Transition.objects.filter(round=round_obj, to_state=Stage.APPRAISAL_1).count() == 1


def test_without_anything_left_undone_no_acknowledgement_is_asked(login, cast):
    submit_all("so-a", "so-b", "so-c")
    client = login(cast["secretariat"])
    text = page_text(client.get(URL))
    assert "Nothing is left undone in this stage." in text
    assert 'name="acknowledge"' not in text
    data = confirmed()
    del data["acknowledge"]
    assert client.post(URL, data).status_code == 302
    assert Round.objects.get(year=YEAR).stage == Stage.APPRAISAL_1


def test_closing_round_1_counts_the_leaves_not_appraised_per_unit(login, cast, assessment_a):
    set_stage(Stage.APPRAISAL_1)
    workflow.ensure_scores(assessment_a)
    Score.objects.filter(assessment=assessment_a, criterion=leaf("1.1.1")).update(appraisal_1=3)
    text = page_text(login(cast["secretariat"]).get(URL))
    assert "3 units have leaves not appraised in round 1" in text
    assert "Sở An</a>: 1 of 2 leaves not appraised" in text  # 1.1.1 and 1.1.2 are appraised
    assert "Sở Bình</a>: 2 of 2 leaves not appraised" in text
    assert "Close “Appraisal, round 1” and open “Explanation”" in text
    assert "appraisers can no longer change round-1 scores" in text


def test_closing_the_explanation_names_the_units_that_have_not_explained(login, cast, assessment_a):
    set_stage(Stage.EXPLANATION)
    workflow.ensure_scores(assessment_a)
    Score.objects.filter(assessment=assessment_a, criterion=leaf("1.1.2")).update(
        explanation_requested=True
    )
    text = page_text(login(cast["secretariat"]).get(URL))
    assert "1 unit has not submitted its explanation" in text
    assert "Sở An</a>: explanation not submitted; 0 of 1 flagged leaf answered" in text
    assert "Sở Bình</a>" not in text


def test_a_round_in_its_final_stage_has_no_next_stage(login, cast):
    set_stage(Stage.FINAL)
    client = login(cast["secretariat"])
    response = client.get(URL)
    assert "there is no next stage" in response.content.decode()
    assert 'id="stage-form"' not in response.content.decode()
    before = database_state()
    refused = client.post(URL, {**confirmed(), "from_stage": Stage.FINAL}, follow=True)
    assert "already in its final stage" in refused.content.decode()
    assert database_state() == before


def test_opening_self_assessment_counts_the_units_whose_assessments_open_with_it(
    login, cast, run, write
):
    """A new round in set-up has no assessment yet: the e-mail will go to every unit of a group
    with a criteria set, and the page says so; the district group has no set."""
    workflow.round_copy_sets(
        round_id=Round.objects.get(year=YEAR).pk, year=YEAR + 1, user=cast["secretariat"]
    )
    text = page_text(login(cast["secretariat"]).get(f"/council/stages/{YEAR + 1}/"))
    assert "Close “Set-up” and open “Self-assessment”" in text
    assert "3 unit staff addresses, in 3 units" in text
    assert "1 group has units but no criteria set this year" in text
    assert "UBND quận, huyện</a>: 1 unit will not be assessed" in text


def test_the_round_list_links_the_secretariat_to_the_wizard_and_offers_no_stage_action(login, cast):
    page = login(cast["secretariat"]).get("/admin/scoring/round/").content.decode()
    assert f'href="{URL}"' in page
    assert "open_next_stage" not in page
    assert 'value="copy_to_next_year"' in page
    page = login(cast["appraiser_1"]).get("/admin/scoring/round/").content.decode()
    assert URL not in page
