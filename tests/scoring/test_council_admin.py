"""The council and the secretariat in the admin: stages, appraisal, conflicts, preview, e-mail."""

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.core.management import call_command
from django.utils import timezone

from scoring import workflow
from scoring.errors import Invalid, NotAllowed
from scoring.models import Assessment, Round, Score, Stage, Transition
from tests.cast import YEAR, leaf, set_stage
from tests.helpers import database_state, form_fields

pytestmark = pytest.mark.django_db


@pytest.fixture
def self_assessed(cast, assessment_a):
    """Unit A has scored itself: 1.1.1 = 4, 1.1.2 = 6, bonus 3.1 = 2; the round is in round 1."""
    workflow.assessment_save_self(
        assessment_id=assessment_a.pk,
        user=cast["staff_a"],
        leaves=[
            workflow.SelfInput(leaf("1.1.1").pk, D("4"), "Kế hoạch 12/KH"),
            workflow.SelfInput(leaf("1.1.2").pk, D("6"), "Báo cáo năm"),
            workflow.SelfInput(leaf("3.1").pk, D("2"), "Sáng kiến"),
        ],
    )
    workflow.round_advance(
        round_id=Round.objects.get(year=YEAR).pk,
        user=cast["secretariat"],
        to_stage=Stage.APPRAISAL_1,
    )
    return assessment_a


def appraise_url(assessment):
    return f"/admin/scoring/assessment/{assessment.pk}/appraise/"


def form_data(assessment, values):
    """The appraisal form as the page posts it: every leaf with its current values, then the
    given ones (code → (value, reason, flag)). Fields the user may not edit are ignored."""
    data = {}
    for score in Score.objects.filter(assessment=assessment).select_related("criterion"):
        code = score.criterion.code
        value, reason, flag = values.get(
            code, (score.appraisal_1 or "", score.appraisal_1_reason, score.explanation_requested)
        )
        data.update(
            {
                f"value_{score.pk}": value,
                f"reason_{score.pk}": reason,
                f"version_{score.pk}": score.version,
            }
        )
        if flag:
            data[f"flag_{score.pk}"] = "on"
    return data


def test_unit_staff_cannot_open_the_admin(login, cast, self_assessed):
    response = login(cast["staff_a"]).get(appraise_url(self_assessed))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_an_appraiser_appraises_their_field(login, cast, self_assessed):
    client = login(cast["appraiser_1"])
    page = client.get(appraise_url(self_assessed))
    assert page.status_code == 200
    body = page.content.decode()
    assert "Kế hoạch 12/KH" in body  # how the unit scored it, beside the self score
    data = form_data(
        self_assessed, {"1.1.1": ("4", "", False), "1.1.2": ("5", "Chậm một nhiệm vụ", True)}
    )
    assert client.post(appraise_url(self_assessed), data).status_code == 302
    score = Score.objects.get(assessment=self_assessed, criterion=leaf("1.1.2"))
    assert (score.appraisal_1, score.appraisal_1_reason, score.explanation_requested) == (
        D("5.00"),
        "Chậm một nhiệm vụ",
        True,
    )
    assert score.self_score == D("6.00")  # the unit's stage is kept beside it
    assert score.history.latest().history_user == cast["appraiser_1"]


def test_a_score_below_the_self_score_needs_a_reason(login, cast, self_assessed):
    client = login(cast["appraiser_1"])
    before = database_state()
    response = client.post(
        appraise_url(self_assessed),
        form_data(self_assessed, {"1.1.2": ("5", "", False)}),
        follow=True,
    )
    assert "1.1.2: A score below the self score needs a reason." in response.content.decode()
    assert database_state() == before


def test_an_appraiser_cannot_write_a_field_not_assigned(cast, self_assessed):
    score = Score.objects.get(assessment=self_assessed, criterion=leaf("1.1.1"))
    before = database_state()
    with pytest.raises(NotAllowed):
        workflow.score_appraise(
            assessment_id=self_assessed.pk,
            user=cast["appraiser_3"],
            stage=Stage.APPRAISAL_1,
            items=[workflow.AppraisalInput(score.pk, score.version, D("1"), "no")],
        )
    assert database_state() == before


def test_the_page_offers_an_appraiser_only_their_fields(login, cast, self_assessed):
    body = login(cast["appraiser_3"]).get(appraise_url(self_assessed)).content.decode()
    bonus = Score.objects.get(assessment=self_assessed, criterion=leaf("3.1"))
    other = Score.objects.get(assessment=self_assessed, criterion=leaf("1.1.1"))
    assert f'name="value_{bonus.pk}"' in body
    assert f'name="value_{other.pk}"' not in body


@pytest.mark.parametrize("who", ["staff_a", "staff_b", "head_a"])
def test_unit_people_cannot_appraise(cast, self_assessed, who):
    score = Score.objects.get(assessment=self_assessed, criterion=leaf("1.1.1"))
    with pytest.raises(NotAllowed):
        workflow.score_appraise(
            assessment_id=self_assessed.pk,
            user=cast[who],
            stage=Stage.APPRAISAL_1,
            items=[workflow.AppraisalInput(score.pk, score.version, D("4"))],
        )


def test_appraisal_is_refused_outside_its_stage(login, cast, self_assessed):
    set_stage(Stage.EXPLANATION)
    client = login(cast["appraiser_1"])
    before = database_state()
    client.post(appraise_url(self_assessed), form_data(self_assessed, {"1.1.1": ("1", "x", False)}))
    assert database_state() == before
    with pytest.raises(NotAllowed):
        score = Score.objects.get(assessment=self_assessed, criterion=leaf("1.1.1"))
        workflow.score_appraise(
            assessment_id=self_assessed.pk,
            user=cast["appraiser_1"],
            stage=Stage.APPRAISAL_1,
            items=[workflow.AppraisalInput(score.pk, score.version, D("1"), "x")],
        )


def test_appraisal_is_refused_past_the_deadline(login, cast, self_assessed):
    Round.objects.filter(year=YEAR).update(
        appraisal_1_deadline=timezone.now() - timedelta(seconds=1)
    )
    before = database_state()
    login(cast["appraiser_1"]).post(
        appraise_url(self_assessed), form_data(self_assessed, {"1.1.1": ("4", "", False)})
    )
    assert database_state() == before


def test_accepting_the_self_scores_of_a_field(login, cast, self_assessed):
    client = login(cast["appraiser_1"])
    response = client.post(appraise_url(self_assessed), {"accept": leaf("1").pk})
    assert response.status_code == 302
    finals = {
        s.criterion.code: s.appraisal_1
        for s in Score.objects.filter(assessment=self_assessed).select_related("criterion")
    }
    assert finals["1.1.1"] == D("4.00") and finals["1.1.2"] == D("6.00")
    assert finals["3.1"] is None  # field 3 is not appraiser 1's


def test_two_appraisers_saving_the_same_score_the_second_is_told(
    login, cast, self_assessed, client
):
    stale = form_data(self_assessed, {"1.1.2": ("5", "Thiếu", False)})
    # Another session (the superuser) saves the same leaf first.
    from django.contrib.auth.models import User

    boss = User.objects.create_superuser("chair", "c@example.org", "x")
    score = Score.objects.get(assessment=self_assessed, criterion=leaf("1.1.2"))
    workflow.score_appraise(
        assessment_id=self_assessed.pk,
        user=boss,
        stage=Stage.APPRAISAL_1,
        items=[workflow.AppraisalInput(score.pk, score.version, D("3"), "Thiếu hai báo cáo")],
    )
    response = login(cast["appraiser_1"]).post(appraise_url(self_assessed), stale)
    assert response.status_code == 200
    body = response.content.decode()
    assert "Someone else changed these leaves" in body and "1.1.2" in body
    assert "Thiếu hai báo cáo" in body  # the newer value is shown
    score.refresh_from_db()
    assert (score.appraisal_1, score.appraisal_1_reason) == (D("3.00"), "Thiếu hai báo cáo")
    # Having seen it, the appraiser may save again: the page now carries the new version.
    resubmit = {**stale, f"version_{score.pk}": score.version}
    assert login(cast["appraiser_1"]).post(appraise_url(self_assessed), resubmit).status_code == 302
    score.refresh_from_db()
    assert score.appraisal_1 == D("5.00")
    assert [h.appraisal_1 for h in score.history.order_by("history_date")][-2:] == [
        D("3.00"),
        D("5.00"),
    ]


def test_round_two_reappraises_flagged_leaves_only(cast, self_assessed):
    s2 = Score.objects.get(assessment=self_assessed, criterion=leaf("1.1.2"))
    workflow.score_appraise(
        assessment_id=self_assessed.pk,
        user=cast["appraiser_1"],
        stage=Stage.APPRAISAL_1,
        items=[workflow.AppraisalInput(s2.pk, s2.version, D("4"), "Thiếu", flag=True)],
    )
    set_stage(Stage.APPRAISAL_2)
    s1 = Score.objects.get(assessment=self_assessed, criterion=leaf("1.1.1"))
    with pytest.raises(Invalid):
        workflow.score_appraise(
            assessment_id=self_assessed.pk,
            user=cast["appraiser_1"],
            stage=Stage.APPRAISAL_2,
            items=[workflow.AppraisalInput(s1.pk, s1.version, D("3"), "x")],
        )
    s2.refresh_from_db()
    workflow.score_appraise(
        assessment_id=self_assessed.pk,
        user=cast["appraiser_1"],
        stage=Stage.APPRAISAL_2,
        items=[workflow.AppraisalInput(s2.pk, s2.version, D("5.5"), "Đã giải trình")],
    )
    s2.refresh_from_db()
    assert (s2.appraisal_1, s2.appraisal_2, s2.final_score) == (D("4.00"), D("5.50"), D("5.50"))


def test_the_secretariat_opens_the_next_stage_after_a_confirmation(login, cast):
    """The round list links to the stage wizard; its confirmed form opens the next stage."""
    round_obj = Round.objects.get(year=YEAR)
    client = login(cast["secretariat"])
    wizard = f"/council/stages/{YEAR}/"
    assert f'href="{wizard}"' in client.get("/admin/scoring/round/").content.decode()
    confirmation = client.get(wizard)
    assert confirmation.status_code == 200
    assert "Appraisal, round 1" in confirmation.content.decode()
    assert Round.objects.get(pk=round_obj.pk).stage == Stage.SELF_ASSESSMENT
    client.post(
        wizard, dict(form_fields(confirmation.content.decode(), "stage-form"), acknowledge="on")
    )
    assert Round.objects.get(pk=round_obj.pk).stage == Stage.APPRAISAL_1
    transition = Transition.objects.filter(round=round_obj, assessment=None).latest("at")
    assert (transition.from_state, transition.to_state, transition.user) == (
        "self_assessment",
        "appraisal_1",
        cast["secretariat"],
    )


def test_council_members_cannot_change_stages(login, cast):
    round_obj = Round.objects.get(year=YEAR)
    client = login(cast["appraiser_1"])
    response = client.post(
        f"/council/stages/{YEAR}/", {"from_stage": Stage.SELF_ASSESSMENT, "acknowledge": "on"}
    )
    assert response.status_code == 403  # the stage wizard is the secretariat's
    assert Round.objects.get(pk=round_obj.pk).stage == Stage.SELF_ASSESSMENT
    with pytest.raises(NotAllowed):
        workflow.round_advance(
            round_id=round_obj.pk, user=cast["appraiser_1"], to_stage=Stage.APPRAISAL_1
        )


def test_stages_cannot_be_skipped_nor_edited_by_hand(login, cast):
    round_obj = Round.objects.get(year=YEAR)
    with pytest.raises(NotAllowed):
        workflow.round_advance(
            round_id=round_obj.pk, user=cast["secretariat"], to_stage=Stage.FINAL
        )
    client = login(cast["secretariat"])
    client.post(f"/admin/scoring/round/{round_obj.pk}/change/", {"year": YEAR, "stage": "final"})
    assert Round.objects.get(pk=round_obj.pk).stage == Stage.SELF_ASSESSMENT


def test_opening_a_stage_emails_the_units_and_explanation_requests_the_flagged_ones(
    cast, self_assessed, mailoutbox, django_capture_on_commit_callbacks
):
    round_id = Round.objects.get(year=YEAR).pk
    set_stage(Stage.SELF_ASSESSMENT)
    with django_capture_on_commit_callbacks(execute=True):
        workflow.round_advance(
            round_id=round_id, user=cast["secretariat"], to_stage=Stage.APPRAISAL_1
        )
    assert any("staff-a@example.org" in m.to for m in mailoutbox)  # round 1 opened: units told
    assert any("appraiser-1@example.org" in m.to for m in mailoutbox)
    mailoutbox.clear()
    score = Score.objects.get(assessment=self_assessed, criterion=leaf("1.1.2"))
    Score.objects.filter(pk=score.pk).update(explanation_requested=True)
    with django_capture_on_commit_callbacks(execute=True):
        workflow.round_advance(
            round_id=round_id, user=cast["secretariat"], to_stage=Stage.EXPLANATION
        )
    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert sorted(message.to) == ["head-a@example.org", "staff-a@example.org"]
    assert "1.1.2" in message.body


def test_reminders_go_three_days_before_the_deadline_to_units_not_done(cast, mailoutbox):
    round_obj = Round.objects.get(year=YEAR)
    round_obj.self_assessment_deadline = timezone.now() + timedelta(days=3)
    round_obj.save()
    mailoutbox.clear()
    call_command("send_deadline_reminders", stdout=__import__("io").StringIO())
    recipients = sorted(address for m in mailoutbox for address in m.to)
    assert "staff-a@example.org" in recipients and "staff-b@example.org" in recipients
    mailoutbox.clear()
    round_obj.self_assessment_deadline = timezone.now() + timedelta(days=5)
    round_obj.save()
    call_command("send_deadline_reminders", stdout=__import__("io").StringIO())
    assert mailoutbox == []


def test_the_preview_is_marked_not_published_and_uses_the_publishing_calculation(
    login, cast, self_assessed, run, write
):
    run(
        "import_scores",
        write(
            "s.csv",
            "unit,criterion,self_score,final_score\nso-a,1.1.1,4,4\nso-a,1.1.2,6,5\nso-a,2.1,,9\n",
        ),
        year=YEAR,
        group="departments",
    )
    criteria_set = self_assessed.criteria_set
    body = (
        login(cast["secretariat"])
        .get(f"/admin/scoring/criteriaset/{criteria_set.pk}/preview/")
        .content.decode()
    )
    assert "NOT PUBLISHED" in body
    assert "90.00" in body or "90,00" in body  # (4 + 5 + 9) / 20
    # What is missing: a count per unit, linked to the unit's first leaf without a final score.
    sob = Assessment.objects.get(unit__code="so-b", criteria_set=criteria_set)
    assert (
        f'Sở Bình: <a href="/admin/scoring/assessment/{sob.pk}/appraise/#leaf-1.1.1">'
        "3 leaves without a final score</a>" in body
    )
    assert (
        login(cast["appraiser_1"])
        .get(f"/admin/scoring/criteriaset/{criteria_set.pk}/preview/")
        .status_code
        == 200
    )


def test_the_progress_board_counts_per_field(login, cast, self_assessed):
    response = login(cast["secretariat"]).get(
        f"/admin/scoring/round/{Round.objects.get(year=YEAR).pk}/progress/"
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "Sở An" in body and "Sở Cần" in body
    assert "2/2 · 0/2" in body  # field 1 of unit A: both self leaves scored, none appraised
    assert "0/0 · 0/1" in body  # field 2: a survey leaf, not self-assessed, no final score yet


def test_appraisers_only_list_assessments_of_their_sets(login, cast, self_assessed, run, write):
    from scoring.models import Unit

    assert Assessment.objects.count() == 3
    response = login(cast["appraiser_1"]).get("/admin/scoring/assessment/")
    assert response.status_code == 200
    assert "Sở An" in response.content.decode()
    # A council member with no assignment sees none.
    from scoring.roles import APPRAISER
    from tests.cast import make_user

    idle = make_user("idle", APPRAISER, is_staff=True)
    body = login(idle).get("/admin/scoring/assessment/").content.decode()
    assert "Sở An" not in body
    assert login(idle).get(appraise_url(self_assessed)).status_code == 404
    assert Unit.objects.count() == 4


def test_copying_criteria_sets_links_every_criterion(login, cast):
    round_obj = Round.objects.get(year=YEAR)
    client = login(cast["secretariat"])
    client.post(
        "/admin/scoring/round/",
        {"action": "copy_to_next_year", "_selected_action": [round_obj.pk], "confirmed": "yes"},
    )
    copy = Round.objects.get(year=YEAR + 1)
    assert copy.stage == Stage.SETUP
    copied = leaf("1.1.2").next_versions.get()
    assert (copied.criteria_set.round, copied.parent.code, copied.max_points) == (
        copy,
        "1.1",
        D("6.00"),
    )
    assert copy.criteria_sets.get().bands.count() == 5


def test_opening_a_stage_after_the_final_one_is_refused_not_a_500(login, cast):
    round_obj = Round.objects.get(year=YEAR)
    Round.objects.filter(pk=round_obj.pk).update(stage=Stage.FINAL)
    client = login(cast["secretariat"])
    data = {"from_stage": Stage.FINAL, "acknowledge": "on"}
    response = client.post(f"/council/stages/{YEAR}/", data, follow=True)
    assert response.status_code == 200
    assert "already in its final stage" in response.content.decode()
    assert not Transition.objects.filter(round=round_obj, from_state=Stage.FINAL).exists()


def test_the_council_writes_the_public_note_on_the_appraisal_page(login, cast, self_assessed):
    score = Score.objects.get(assessment=self_assessed, criterion=leaf("1.1.2"))
    data = form_data(self_assessed, {"1.1.2": ("5", "Chậm một nhiệm vụ", False)})
    data[f"note_{score.pk}"] = "Trừ 1 điểm: chậm nhiệm vụ số 3"
    assert login(cast["appraiser_1"]).post(appraise_url(self_assessed), data).status_code == 302
    score.refresh_from_db()
    assert score.note == "Trừ 1 điểm: chậm nhiệm vụ số 3"
