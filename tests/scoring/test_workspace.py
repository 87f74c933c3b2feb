"""The unit's workspace: rows saved one by one, nothing typed lost, evidence removed only after
asking, a submission page that shows completeness first; each person's start page."""

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from scoring import workflow
from scoring.forms import SelfAssessmentForm
from scoring.models import Assessment, AssessmentStatus, Evidence, Score, Stage
from tests.cast import YEAR, leaf, set_stage
from tests.helpers import database_state, form_fields

pytestmark = pytest.mark.django_db

PAGE = f"/assessments/{YEAR}/so-a/"
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
JSON = {"HTTP_ACCEPT": "application/json"}


def page_form(client):
    """What the browser would post from the page as it is (every row, with what it showed)."""
    return dict(form_fields(client.get(PAGE).content.decode(), "assessment-form"))


def row_url(code):
    return f"{PAGE}leaves/{leaf(code).pk}/"


def score_of(assessment, code):
    return Score.objects.get(assessment=assessment, criterion=leaf(code))


def test_one_row_saves_on_its_own_and_says_when(login, cast, assessment_a):
    client = login(cast["staff_a"])
    pk = leaf("1.1.2").pk
    response = client.post(
        row_url("1.1.2"), {f"score_{pk}": "0,5", f"method_{pk}": "Theo báo cáo"}, **JSON
    )
    assert response.status_code == 200
    answer = response.json()
    assert answer["saved"] is True and answer["errors"] == []
    assert answer["saved_at"] == timezone.localtime().strftime("%H:%M")
    assert answer["progress"]["scored"] == 1 and answer["progress"]["leaves"] == 2
    assert score_of(assessment_a, "1.1.2").self_score == D("0.50")
    assert score_of(assessment_a, "1.1.1").self_score is None  # no other row touched
    assert answer["seen"] == SelfAssessmentForm.seen_of(score_of(assessment_a, "1.1.2"))


def test_a_bad_row_answers_its_errors_and_writes_nothing(login, cast, assessment_a):
    client = login(cast["staff_a"])
    pk = leaf("1.1.1").pk
    before = database_state()
    response = client.post(row_url("1.1.1"), {f"score_{pk}": "9"}, **JSON)
    assert response.status_code == 400
    assert response.json()["saved"] is False
    assert "4" in " ".join(response.json()["errors"])  # the leaf's maximum is named
    assert database_state() == before


def test_without_javascript_a_row_save_goes_back_to_the_row(login, cast, assessment_a):
    client = login(cast["staff_a"])
    pk = leaf("1.1.1").pk
    response = client.post(row_url("1.1.1"), {f"score_{pk}": "3.5"})
    assert response.status_code == 302 and response["Location"].endswith("#leaf-1.1.1")
    assert score_of(assessment_a, "1.1.1").self_score == D("3.50")


def test_the_page_shows_a_decimal_comma_and_a_text_box_that_takes_it(login, cast, assessment_a):
    client = login(cast["staff_a"], language="vi")
    form = page_form(client)
    pk = leaf("1.1.2").pk
    form[f"score_{pk}"] = "5,25"
    assert client.post(PAGE, form).status_code == 302
    body = client.get(PAGE).content.decode()
    assert f'name="score_{pk}" value="5,25"' in body
    assert 'type="number"' not in body  # a browser's number box refuses "5,25"
    assert 'accept=".pdf,.png,.jpg,.jpeg,.doc,.xls,.docx,.xlsx"' in body


def test_a_row_a_colleague_saved_meanwhile_is_not_overwritten_when_untouched(
    login, client, cast, assessment_a
):
    staff = login(cast["staff_a"])
    form = page_form(staff)  # the page as staff A opened it: 1.1.1 empty
    workflow.assessment_save_self(
        assessment_id=assessment_a.pk,
        user=cast["head_a"],
        leaves=[workflow.SelfInput(criterion_id=leaf("1.1.1").pk, self_score=D("4"))],
    )
    form[f"score_{leaf('1.1.2').pk}"] = "6"  # staff A changes another row only
    assert staff.post(PAGE, form).status_code == 302
    assert score_of(assessment_a, "1.1.1").self_score == D("4.00")  # the head's save stays
    assert score_of(assessment_a, "1.1.2").self_score == D("6.00")


def test_a_row_both_changed_is_a_conflict_kept_as_typed_then_a_deliberate_overwrite(
    login, cast, assessment_a
):
    staff = login(cast["staff_a"])
    form = page_form(staff)
    pk = leaf("1.1.1").pk
    workflow.assessment_save_self(
        assessment_id=assessment_a.pk,
        user=cast["head_a"],
        leaves=[workflow.SelfInput(criterion_id=pk, self_score=D("4"))],
    )
    form[f"score_{pk}"] = "2"
    form[f"score_{leaf('1.1.2').pk}"] = "6"
    response = staff.post(PAGE, form)
    assert response.status_code == 400
    body = response.content.decode()
    row = body[body.index('id="leaf-1.1.1"') : body.index("</tr>", body.index('id="leaf-1.1.1"'))]
    assert 'href="#leaf-1.1.1"' in body and 'value="2"' in row
    assert score_of(assessment_a, "1.1.1").self_score == D("4.00")  # not overwritten unseen
    assert score_of(assessment_a, "1.1.2").self_score == D("6.00")  # the other row is saved
    again = dict(form_fields(body, "assessment-form"))
    assert staff.post(PAGE, again).status_code == 302  # saving again replaces theirs
    assert score_of(assessment_a, "1.1.1").self_score == D("2.00")


def test_a_file_chosen_in_a_row_is_kept_when_another_row_fails(login, cast, assessment_a):
    client = login(cast["staff_a"])
    form = page_form(client)
    form[f"score_{leaf('1.1.1').pk}"] = "99"  # a mistake in 1.1.1
    form[f"ev{leaf('1.1.2').pk}-file"] = SimpleUploadedFile("Báo cáo.pdf", PDF)
    response = client.post(PAGE, form)
    assert response.status_code == 400
    evidence = Evidence.objects.get()
    assert evidence.score.criterion.code == "1.1.2" and evidence.original_name == "Báo_cáo.pdf"
    assert "Báo_cáo.pdf" in response.content.decode()  # listed under its row at once


def upload(client, code="1.1.1"):
    form = page_form(client)
    form[f"ev{leaf(code).pk}-file"] = SimpleUploadedFile("ke-hoach.pdf", PDF)
    assert client.post(PAGE, form).status_code == 302
    return Evidence.objects.get()


def test_remove_saves_the_page_first_then_asks(login, cast, assessment_a):
    client = login(cast["staff_a"])
    evidence = upload(client)
    form = page_form(client)
    form[f"score_{leaf('1.1.2').pk}"] = "5"  # typed, not yet saved
    form["remove"] = str(evidence.pk)
    response = client.post(PAGE, form)
    assert response.status_code == 302
    assert response["Location"] == f"{PAGE}evidence/{evidence.pk}/delete/"
    assert score_of(assessment_a, "1.1.2").self_score == D("5.00")  # nothing typed is lost
    assert Evidence.objects.filter(pk=evidence.pk).exists()  # not removed before asking
    question = client.get(response["Location"])
    assert question.status_code == 200 and "ke-hoach.pdf" in question.content.decode()
    done = client.post(response["Location"])
    assert done["Location"].endswith("#leaf-1.1.1")
    assert not Evidence.objects.filter(pk=evidence.pk).exists()


def test_remove_confirmed_by_the_page_script_saves_and_removes_at_once(login, cast, assessment_a):
    client = login(cast["staff_a"])
    evidence = upload(client)
    form = page_form(client)
    form[f"method_{leaf('1.1.2').pk}"] = "Đếm văn bản"
    form.update({"remove": str(evidence.pk), "remove_confirmed": "1"})
    response = client.post(PAGE, form)
    assert response["Location"].endswith(f"{PAGE}#leaf-1.1.1")
    assert not Evidence.objects.exists()
    assert score_of(assessment_a, "1.1.2").self_method == "Đếm văn bản"


def test_another_units_staff_cannot_remove_or_see_the_question(login, cast, assessment_a):
    evidence = upload(login(cast["staff_a"]))
    other = login(cast["staff_b"])
    url = f"{PAGE}evidence/{evidence.pk}/delete/"
    before = database_state()
    assert other.get(url).status_code == 404
    assert other.post(url).status_code == 404
    assert other.post(row_url("1.1.1"), {f"score_{leaf('1.1.1').pk}": "1"}).status_code == 404
    assert database_state() == before


def test_the_counters_link_to_the_leaves_they_count(login, cast, assessment_a):
    client = login(cast["staff_a"])
    form = page_form(client)
    form[f"score_{leaf('1.1.1').pk}"] = "4"  # scored, no evidence, no method
    client.post(PAGE, form)
    body = client.get(PAGE).content.decode()
    without_score = body[
        body.index("Without a score") : body.index("</details>", body.index("Without a score"))
    ]
    assert 'href="#leaf-1.1.2"' in without_score and 'href="#leaf-1.1.1"' not in without_score
    which = body[body.index("Which?") : body.index("</details>", body.index("Which?"))]
    assert 'href="#leaf-1.1.1"' in which


def test_the_submission_page_shows_completeness_blockers_and_who_submits(login, cast):
    client = login(cast["head_a"])
    form = page_form(client)
    form[f"score_{leaf('1.1.1').pk}"] = "4"
    form[f"method_{leaf('1.1.1').pk}"] = "Theo kế hoạch số 1"
    client.post(PAGE, form)
    body = client.get(PAGE + "submit/").content.decode()
    assert "1 of 2 leaves scored" in body
    assert f'href="{PAGE}#leaf-1.1.2"' in body  # a blocker, as a link to its row
    assert "head-a" in body  # who submits
    assert 'id="confirm-submit"' not in body  # nothing to confirm while something blocks


def test_staff_see_the_submission_page_but_only_the_head_may_submit(login, cast, assessment_a):
    client = login(cast["staff_a"])
    form = page_form(client)
    for code in ("1.1.1", "1.1.2"):
        form[f"score_{leaf(code).pk}"] = "4"
        form[f"method_{leaf(code).pk}"] = "Theo kế hoạch"
    client.post(PAGE, form)
    body = client.get(PAGE + "submit/").content.decode()
    assert "head can submit" in body, body[body.index("<main") :]
    assert 'id="confirm-submit"' not in body
    before = database_state()
    client.post(PAGE + "submit/")
    assert database_state() == before
    head = login(cast["head_a"])
    assert 'id="confirm-submit"' in head.get(PAGE + "submit/").content.decode()
    head.post(PAGE + "submit/")
    assert Assessment.objects.get(pk=assessment_a.pk).status == AssessmentStatus.SUBMITTED


def flag(assessment_a, cast, code, reason):
    score = score_of(assessment_a, code)
    Score.objects.filter(pk=score.pk).update(
        explanation_requested=True, appraisal_1=D("1"), appraisal_1_reason=reason
    )


def test_the_explanation_stage_lists_the_flagged_leaves_first_with_the_councils_reason(
    login, cast, assessment_a
):
    workflow.ensure_scores(assessment_a)
    flag(assessment_a, cast, "1.1.2", "Thiếu báo cáo quý IV")
    Assessment.objects.filter(pk=assessment_a.pk).update(status=AssessmentStatus.SUBMITTED)
    set_stage(Stage.EXPLANATION)
    client = login(cast["staff_a"])
    body = client.get(PAGE).content.decode()
    first = body.index("Leaves the council asks you to explain")
    assert first < body.index("All criteria")
    flagged = body[first : body.index("All criteria")]
    assert "Thiếu báo cáo quý IV" in flagged and "1.1.2" in flagged and "1.1.1." not in flagged
    pk = leaf("1.1.2").pk
    response = client.post(row_url("1.1.2"), {f"explanation_{pk}": "Đã bổ sung"}, **JSON)
    assert response.json()["saved"] is True
    assert score_of(assessment_a, "1.1.2").explanation == "Đã bổ sung"
    # A leaf that was not flagged cannot be explained through its row.
    assert client.post(row_url("1.1.1"), {}, **JSON).status_code == 404


def test_a_closed_stage_refuses_a_row_save(login, cast, assessment_a):
    set_stage(Stage.APPRAISAL_1)
    client = login(cast["staff_a"])
    before = database_state()
    response = client.post(row_url("1.1.1"), {f"score_{leaf('1.1.1').pk}": "1"}, **JSON)
    assert response.status_code == 409 and response.json()["saved"] is False
    assert database_state() == before


# Start pages -------------------------------------------------------------------------------------


def test_everybody_logs_in_on_one_page_and_lands_on_their_own_work(client, cast):
    assert client.get("/admin/login/?next=/admin/").url == "/accounts/login/?next=%2Fadmin%2F"
    response = client.post("/accounts/login/", {"username": "staff-a", "password": "pw"})
    assert response.status_code == 302 and response["Location"] == "/work/"


def test_unit_staff_see_what_is_missing_and_where(login, cast):
    body = login(cast["staff_a"]).get("/work/").content.decode()
    assert "Sở An" in body and f'href="{PAGE}#leaf-1.1.1"' in body
    assert "Continue the self-assessment" in body
    assert "Waiting for your appraisal" not in body and "Rounds in progress" not in body


def test_an_appraiser_sees_the_units_and_fields_waiting_with_counts(login, cast, assessment_a):
    set_stage(Stage.APPRAISAL_1)
    for code in ("so-a", "so-b"):
        workflow.ensure_scores(Assessment.objects.get(unit__code=code))
    body = login(cast["appraiser_1"]).get("/work/").content.decode()
    # Field 1 has two leaves per unit; the appraiser of field 3 sees none of them.
    assert "4 leaves waiting" in body and "in 2 units" in body
    assert f"/admin/scoring/assessment/{assessment_a.pk}/appraise/#leaf-1.1.1" in body
    # Field 3 holds only bonus and penalty leaves, which may stay empty: nothing waits.
    other = login(cast["appraiser_3"]).get("/work/").content.decode()
    assert "#leaf-1.1.1" not in other and "Nothing is waiting for you" in other


def test_in_round_2_an_appraiser_sees_only_the_flagged_leaves(login, cast, assessment_a):
    workflow.ensure_scores(assessment_a)
    flag(assessment_a, cast, "1.1.2", "Thiếu")
    set_stage(Stage.APPRAISAL_2)
    body = login(cast["appraiser_1"]).get("/work/").content.decode()
    assert "1 leaf waiting" in body and "#leaf-1.1.2" in body and "#leaf-1.1.1" not in body


def test_the_secretariat_sees_the_round_its_blockers_and_the_next_step(login, cast):
    body = login(cast["secretariat"]).get("/work/").content.decode()
    assert "Rounds in progress" in body and f"/council/stages/{YEAR}/" in body
    assert "/council/imports/" in body and f"/council/anomalies/{YEAR}/" in body
    blockers = body[body.index("Left undone in this stage") :]
    assert "3 units have not submitted" in blockers or "3 units" in blockers.split("</ul>")[0]


def test_the_start_page_writes_nothing_for_anyone(login, client, cast):
    before = database_state()
    for who in cast.values():
        page = login(who).get("/work/")
        assert page.status_code == 200
        assert login(who).post("/work/").status_code == 405
    client.logout()
    assert client.get("/work/").status_code == 302
    assert database_state() == before


def test_the_deadline_passed_page_says_why(login, cast, assessment_a):
    from scoring.models import Round

    Round.objects.filter(year=YEAR).update(
        self_assessment_deadline=timezone.now() - timedelta(hours=1)
    )
    body = login(cast["staff_a"]).get(PAGE).content.decode()
    assert (
        "The self-assessment deadline has passed" in body
        or "deadline" in body.split('class="notice"')[1].split("</p>")[0]
    )
    assert f'name="score_{leaf("1.1.1").pk}"' not in body  # nothing left to type into
    assert "autosave.js" not in body


def test_a_removal_the_script_confirmed_happens_even_when_another_row_fails(
    login, cast, assessment_a
):
    client = login(cast["staff_a"])
    evidence = upload(client)
    form = page_form(client)
    form[f"score_{leaf('1.1.2').pk}"] = "60"  # a mistake elsewhere
    form.update({"remove": str(evidence.pk), "remove_confirmed": "1"})
    response = client.post(PAGE, form)
    assert response.status_code == 400 and 'value="60"' in response.content.decode()
    assert not Evidence.objects.exists()
    assert "ke-hoach.pdf" not in response.content.decode().split("error-summary")[1]


@pytest.mark.parametrize("who", ["anonymous", "staff_b", "appraiser_1", "secretariat"])
def test_nobody_outside_the_unit_saves_a_row_or_removes_its_evidence(
    client, login, cast, assessment_a, who
):
    evidence = upload(login(cast["staff_a"]))
    client.logout()
    if who != "anonymous":
        client.force_login(cast[who])
    pk = leaf("1.1.1").pk
    before = database_state()
    for url, data in (
        (row_url("1.1.1"), {f"score_{pk}": "1"}),
        (f"{PAGE}evidence/{evidence.pk}/delete/", {}),
        (PAGE, {f"score_{pk}": "1", "remove": str(evidence.pk), "remove_confirmed": "1"}),
    ):
        response = client.post(url, data, **JSON)
        assert response.status_code in (302, 404), url
        if response.status_code == 302:
            assert response["Location"].startswith("/accounts/login/")
    assert database_state() == before


def test_saving_before_the_submission_page_keeps_what_was_typed(login, cast, assessment_a):
    client = login(cast["head_a"])
    form = page_form(client)
    form[f"score_{leaf('1.1.1').pk}"] = "2"
    form["then"] = "submit"
    response = client.post(PAGE, form)
    assert response["Location"] == PAGE + "submit/"
    assert score_of(assessment_a, "1.1.1").self_score == D("2.00")


@pytest.mark.parametrize("anchor", ["1.1.1\r\nSet-Cookie: x=1", "//evil.example", "9.9"])
def test_the_row_to_return_to_must_be_a_row_of_the_page(login, cast, anchor):
    client = login(cast["staff_a"])
    form = page_form(client)
    form["save"] = anchor
    response = client.post(PAGE, form)
    assert response.status_code == 302 and response["Location"] == PAGE


def test_a_row_saved_by_a_page_that_came_back_with_errors_can_be_changed_again(
    login, cast, assessment_a
):
    client = login(cast["staff_a"])
    form = page_form(client)
    form[f"score_{leaf('1.1.1').pk}"] = "0,5"
    form[f"score_{leaf('1.1.2').pk}"] = "60"  # a mistake: the page comes back
    response = client.post(PAGE, form)
    assert response.status_code == 400
    again = dict(form_fields(response.content.decode(), "assessment-form"))
    again[f"score_{leaf('1.1.1').pk}"] = "0,25"  # the user changes the saved row again
    again[f"score_{leaf('1.1.2').pk}"] = "5"
    assert client.post(PAGE, again).status_code == 302  # no conflict with their own save
    assert score_of(assessment_a, "1.1.1").self_score == D("0.25")
    assert score_of(assessment_a, "1.1.2").self_score == D("5.00")


def test_after_a_conflict_the_script_is_told_to_overwrite_on_the_next_save(
    login, cast, assessment_a
):
    client = login(cast["staff_a"])
    pk = leaf("1.1.1").pk
    seen = page_form(client)[f"seen_{pk}"]
    workflow.assessment_save_self(
        assessment_id=assessment_a.pk,
        user=cast["head_a"],
        leaves=[workflow.SelfInput(criterion_id=pk, self_score=D("4"))],
    )
    first = client.post(row_url("1.1.1"), {f"score_{pk}": "1", f"seen_{pk}": seen}, **JSON)
    assert first.status_code == 400 and first.json()["seen"] == ""
    assert score_of(assessment_a, "1.1.1").self_score == D("4.00")
    second = client.post(row_url("1.1.1"), {f"score_{pk}": "1", f"seen_{pk}": ""}, **JSON)
    assert second.json()["saved"] is True
    assert score_of(assessment_a, "1.1.1").self_score == D("1.00")


def test_a_stale_explanation_page_does_not_wipe_a_colleagues_answer(login, cast, assessment_a):
    workflow.ensure_scores(assessment_a)
    flag(assessment_a, cast, "1.1.1", "Thiếu")
    flag(assessment_a, cast, "1.1.2", "Thiếu")
    Assessment.objects.filter(pk=assessment_a.pk).update(status=AssessmentStatus.SUBMITTED)
    set_stage(Stage.EXPLANATION)
    staff = login(cast["staff_a"])
    stale = page_form(staff)  # both answers empty
    head = login(cast["head_a"])
    pk = leaf("1.1.2").pk
    head.post(row_url("1.1.2"), {f"explanation_{pk}": "Đã gửi báo cáo"}, **JSON)
    staff = login(cast["staff_a"])
    stale[f"explanation_{leaf('1.1.1').pk}"] = "Đã ban hành"
    assert staff.post(PAGE, stale).status_code == 302
    assert score_of(assessment_a, "1.1.2").explanation == "Đã gửi báo cáo"  # untouched, kept
    assert score_of(assessment_a, "1.1.1").explanation == "Đã ban hành"
    stale[f"explanation_{pk}"] = "Khác"  # and changing it on the stale page is a conflict
    response = staff.post(PAGE, stale)
    assert response.status_code == 400
    assert score_of(assessment_a, "1.1.2").explanation == "Đã gửi báo cáo"


@pytest.mark.parametrize(
    ("typed", "message"),
    [("1.234,5", "thousands separator"), ("1,234", "ambiguous"), ("abc", "Enter a number")],
)
def test_a_number_is_read_as_the_import_files_read_it(login, cast, typed, message):
    pk = leaf("1.1.1").pk
    response = login(cast["staff_a"]).post(row_url("1.1.1"), {f"score_{pk}": typed}, **JSON)
    assert response.status_code == 400
    assert message in " ".join(response.json()["errors"])


def test_the_script_is_given_the_lists_behind_the_counters(login, cast):
    client = login(cast["staff_a"])
    pk = leaf("1.1.1").pk
    answer = client.post(row_url("1.1.1"), {f"score_{pk}": "4"}, **JSON).json()
    assert answer["progress"]["lists"] == {"unscored": ["1.1.2"], "without_evidence": ["1.1.1"]}


def test_an_error_beside_an_input_is_not_repeated_above_it(login, cast):
    client = login(cast["staff_a"])
    form = page_form(client)
    form[f"score_{leaf('1.1.1').pk}"] = "9"
    body = client.post(PAGE, form).content.decode()
    row = body[body.index('id="leaf-1.1.1"') : body.index("</tr>", body.index('id="leaf-1.1.1"'))]
    assert row.count("The score must be between 0 and 4.00") == 1
    assert "correct the values marked below" in row
