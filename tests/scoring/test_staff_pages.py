"""The unit staff's pages tried by the whole cast: who sees what, who may write what, when."""

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from scoring.models import Assessment, AssessmentStatus, Evidence, Round, Score, Stage, Transition
from tests.cast import YEAR, leaf, set_stage
from tests.helpers import database_state

pytestmark = pytest.mark.django_db

PAGE = f"/assessments/{YEAR}/so-a/"
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def scores_post(**overrides):
    """A full self-assessment of unit A: 1.1.1 and 1.1.2 (self) and 3.1 (bonus)."""
    data = {}
    for code, value in (("1.1.1", "4"), ("1.1.2", "5.5"), ("3.1", "1")):
        pk = leaf(code).pk
        data.update(
            {
                f"score_{pk}": value,
                f"method_{pk}": f"Theo báo cáo {code}",
                f"na_reason_{pk}": "",
            }
        )
    data.update(overrides)
    return data


def test_anonymous_visitors_are_sent_to_the_login(client, cast):
    for url in ("/assessments/", PAGE, PAGE + "submit/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("who", ["staff_b", "appraiser_1", "secretariat"])
def test_another_units_assessment_answers_404(login, cast, who):
    client = login(cast[who])
    before = database_state()
    assert client.get(PAGE).status_code == 404
    assert client.post(PAGE, scores_post()).status_code == 404
    assert client.post(PAGE + "submit/").status_code == 404
    assert database_state() == before


def test_the_list_shows_the_units_assessments_with_stage_and_deadline(login, cast):
    response = login(cast["staff_a"]).get("/assessments/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "Sở An" in body and PAGE in body
    assert "Sở Bình" not in body


def test_staff_see_the_tree_with_maxima_and_guidance(login, cast):
    body = login(cast["staff_a"]).get(PAGE).content.decode()
    assert "1.1.1. Ban hành kế hoạch" in body
    assert "Đúng hạn: 4 điểm" in body  # guidance
    assert f'name="score_{leaf("1.1.1").pk}"' in body
    assert f'name="score_{leaf("2.1").pk}"' not in body  # survey leaves are not self-assessed


def test_staff_save_scores_and_the_progress_counts_them(login, cast, assessment_a):
    client = login(cast["staff_a"])
    response = client.post(PAGE, scores_post())
    assert response.status_code == 302
    score = Score.objects.get(assessment=assessment_a, criterion=leaf("1.1.2"))
    assert (score.self_score, score.self_method) == (D("5.50"), "Theo báo cáo 1.1.2")
    change = score.history.latest()
    assert (change.self_score, change.history_user) == (D("5.50"), cast["staff_a"])
    body = client.get(PAGE).content.decode()
    assert "2 / 2" in body  # both self leaves scored
    assert "10,50" in body or "10.50" in body  # points claimed: 4 + 5.5 + 1


def test_a_decimal_comma_is_read_as_a_decimal_point(login, cast, assessment_a):
    login(cast["staff_a"]).post(PAGE, scores_post(**{f"score_{leaf('1.1.2').pk}": "5,25"}))
    assert Score.objects.get(assessment=assessment_a, criterion=leaf("1.1.2")).self_score == D(
        "5.25"
    )


def saved_scores(assessment):
    return {
        s.criterion.code: s.self_score
        for s in Score.objects.filter(assessment=assessment).select_related("criterion")
    }


@pytest.mark.parametrize(
    ("field", "value"),
    [("score", "4.5"), ("score", "-1"), ("score", "abc"), ("score", "1.234"), ("score", "1.234,5")],
)
def test_a_bad_score_is_named_kept_as_typed_and_the_other_rows_are_saved(
    login, cast, assessment_a, field, value
):
    client = login(cast["staff_a"])
    response = client.post(PAGE, scores_post(**{f"{field}_{leaf('1.1.1').pk}": value}))
    assert response.status_code == 400
    page = response.content.decode()
    summary = page[
        page.index('id="error-summary"') : page.index("</div>", page.index("error-summary"))
    ]
    assert 'href="#leaf-1.1.1"' in summary and "1.1.2" not in summary
    assert f'value="{value}"' in page  # what was typed is not lost
    assert 'class="leaf depth-2 has-error" id="leaf-1.1.1"' in page
    scores = saved_scores(assessment_a)
    assert scores.get("1.1.1") is None  # the bad row is not written
    assert scores["1.1.2"] == D("5.50") and scores["3.1"] == D("1.00")  # the others are
    assert not Score.history.filter(criterion=leaf("1.1.1"), self_score__isnull=False).exists()


@pytest.mark.parametrize(
    ("field", "value"), [("method", "Theo báo cáo\x07"), ("method", "Kế hoạch \u202e12")]
)
def test_an_invisible_control_character_is_refused_for_its_row_only(
    login, cast, assessment_a, field, value
):
    client = login(cast["staff_a"])
    response = client.post(PAGE, scores_post(**{f"{field}_{leaf('1.1.1').pk}": value}))
    assert response.status_code == 400
    assert "invisible control character" in response.content.decode()
    scores = saved_scores(assessment_a)
    assert scores.get("1.1.1") is None and scores["1.1.2"] == D("5.50")


def test_not_applicable_needs_a_reason(login, cast, assessment_a):
    pk = leaf("1.1.2").pk
    response = login(cast["staff_a"]).post(PAGE, scores_post(**{f"na_{pk}": "on"}))
    assert response.status_code == 400
    assert "Give the reason why this leaf does not apply." in response.content.decode() or (
        "Nêu lý do" in response.content.decode()
    )
    score = Score.objects.get(assessment=assessment_a, criterion=leaf("1.1.2"))
    assert (score.self_score, score.not_applicable_requested) == (None, False)
    assert saved_scores(assessment_a)["1.1.1"] == D("4.00")


def test_a_pdf_is_stored_privately_with_its_fingerprint(login, cast, assessment_a):
    client = login(cast["staff_a"])
    pk = leaf("1.1.1").pk
    upload = SimpleUploadedFile("../../Kế hoạch CCHC.pdf", PDF, content_type="application/pdf")
    response = client.post(PAGE, {**scores_post(), f"ev{pk}-file": upload})
    assert response.status_code == 302
    evidence = Evidence.objects.get()
    import hashlib

    assert evidence.sha256 == hashlib.sha256(PDF).hexdigest()
    assert evidence.size == len(PDF)
    assert ".." not in evidence.original_name and "/" not in evidence.original_name
    assert evidence.file.name.startswith(f"evidence/{assessment_a.pk}/")
    assert "Ke" not in evidence.file.name  # the stored name never comes from the user
    download = client.get(f"/evidence/{evidence.pk}/")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PDF
    assert download["Content-Disposition"].startswith("attachment")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("virus.pdf", b"MZ\x90\x00 this is an exe", "content does not match"),
        ("script.html", b"<script>alert(1)</script>", "only PDF"),
        ("fake.docx", b"PK\x03\x04not a real zip", "content does not match"),
        ("empty.png", b"", "empty"),
    ],
)
def test_a_bad_file_is_refused_and_nothing_is_written(login, cast, name, content, message):
    client = login(cast["staff_a"])
    pk = leaf("1.1.1").pk
    before = database_state()
    upload = SimpleUploadedFile(name, content)
    response = client.post(PAGE, {f"ev{pk}-file": upload})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert database_state() == before


def test_a_file_above_the_limit_is_refused(login, cast, settings):
    settings.EVIDENCE_MAX_BYTES = 100
    pk = leaf("1.1.1").pk
    upload = SimpleUploadedFile("big.pdf", PDF + b"0" * 200)
    response = login(cast["staff_a"]).post(PAGE, {**scores_post(), f"ev{pk}-file": upload})
    assert response.status_code == 400
    assert not Evidence.objects.exists()


def test_a_cited_document_is_evidence_too(login, cast):
    pk = leaf("1.1.1").pk
    data = {
        **scores_post(),
        f"ev{pk}-document_number": "12/KH-SNV",
        f"ev{pk}-document_date": "2024-01-10",
        f"ev{pk}-page": "3",
    }
    assert login(cast["staff_a"]).post(PAGE, data).status_code == 302
    evidence = Evidence.objects.get()
    assert (evidence.document_number, str(evidence.document_date), evidence.page) == (
        "12/KH-SNV",
        "2024-01-10",
        "3",
    )


def test_evidence_of_unit_a_is_404_to_others(client, login, cast):
    pk = leaf("1.1.1").pk
    upload = SimpleUploadedFile("a.pdf", PDF)
    login(cast["staff_a"]).post(PAGE, {**scores_post(), f"ev{pk}-file": upload})
    evidence = Evidence.objects.get()
    url = f"/evidence/{evidence.pk}/"
    client.logout()
    assert client.get(url).status_code == 302  # to the login
    for who, status in (
        ("staff_b", 404),
        ("appraiser_1", 200),
        ("secretariat", 200),
        ("head_a", 200),
    ):
        client.force_login(cast[who])
        assert client.get(url).status_code == status, who


def test_only_the_head_submits_after_a_confirmation(login, cast, assessment_a, client):
    staff = login(cast["staff_a"])
    staff.post(PAGE, scores_post())
    staff.post(PAGE + "submit/")
    assert Assessment.objects.get(pk=assessment_a.pk).status == AssessmentStatus.DRAFT

    client.force_login(cast["head_a"])
    confirmation = client.get(PAGE + "submit/")
    assert confirmation.status_code == 200
    assert Assessment.objects.get(pk=assessment_a.pk).status == AssessmentStatus.DRAFT
    assert client.post(PAGE + "submit/").status_code == 302
    assessment = Assessment.objects.get(pk=assessment_a.pk)
    assert assessment.status == AssessmentStatus.SUBMITTED
    assert len(assessment.evidence_fingerprint) == 64
    transition = Transition.objects.get(assessment=assessment)
    assert (transition.from_state, transition.to_state, transition.user) == (
        "draft",
        "submitted",
        cast["head_a"],
    )


def test_a_submitted_assessment_is_locked_for_the_unit(login, cast, assessment_a, client):
    login(cast["staff_a"]).post(PAGE, scores_post())
    client.force_login(cast["head_a"])
    client.post(PAGE + "submit/")
    client.force_login(cast["staff_a"])
    before = database_state()
    response = client.post(PAGE, scores_post(**{f"score_{leaf('1.1.1').pk}": "1"}))
    assert response.status_code == 302
    assert database_state() == before
    follow = client.get(PAGE)
    assert "has been submitted and is locked" in follow.content.decode()  # the reason, not a shrug


def test_submission_lists_the_leaves_still_missing(login, cast, assessment_a, client):
    data = scores_post(**{f"score_{leaf('1.1.2').pk}": "", f"method_{leaf('1.1.1').pk}": ""})
    login(cast["staff_a"]).post(PAGE, data)
    client.force_login(cast["head_a"])
    response = client.post(PAGE + "submit/", follow=True)
    body = response.content.decode()
    assert "1.1.2: no self score" in body
    assert "1.1.1: no evidence and no explanation" in body
    assert Assessment.objects.get(pk=assessment_a.pk).status == AssessmentStatus.DRAFT


def test_nothing_is_accepted_past_the_deadline(login, cast):
    Round.objects.filter(year=YEAR).update(
        self_assessment_deadline=timezone.now() - timedelta(minutes=1)
    )
    client = login(cast["staff_a"])
    before = database_state()
    response = client.post(PAGE, scores_post())
    assert response.status_code == 302
    assert database_state() == before
    assert "passed" in client.get(PAGE).content.decode()


def test_nothing_is_accepted_outside_the_stage(login, cast):
    set_stage(Stage.APPRAISAL_1)
    client = login(cast["staff_a"])
    before = database_state()
    client.post(PAGE, scores_post())
    assert database_state() == before


def test_after_round_one_the_unit_sees_the_appraisal_and_explains_flagged_leaves(
    login, cast, assessment_a, client
):
    login(cast["staff_a"]).post(PAGE, scores_post())
    score = Score.objects.get(assessment=assessment_a, criterion=leaf("1.1.2"))
    Score.objects.filter(pk=score.pk).update(
        appraisal_1=D("4"), appraisal_1_reason="Thiếu báo cáo quý", explanation_requested=True
    )
    set_stage(Stage.EXPLANATION)
    client.force_login(cast["staff_a"])
    body = client.get(PAGE).content.decode()
    assert "Thiếu báo cáo quý" in body
    pk = leaf("1.1.2").pk
    upload = SimpleUploadedFile("bao-cao.pdf", PDF)
    assert (
        client.post(
            PAGE, {f"explanation_{pk}": "Đã gửi báo cáo ngày 5/10", f"ev{pk}-file": upload}
        ).status_code
        == 302
    )
    score.refresh_from_db()
    assert score.explanation == "Đã gửi báo cáo ngày 5/10"
    assert Evidence.objects.get(score=score).stage == Stage.EXPLANATION
    # A leaf that was not flagged takes no explanation.
    other = leaf("1.1.1").pk
    client.post(
        PAGE, {f"explanation_{pk}": "Đã gửi báo cáo ngày 5/10", f"explanation_{other}": "x"}
    )
    assert Score.objects.get(assessment=assessment_a, criterion_id=other).explanation == ""
    # Only the head submits the explanation.
    client.post(PAGE + "explanation/submit/")
    assert Assessment.objects.get(pk=assessment_a.pk).status == AssessmentStatus.DRAFT
    client.force_login(cast["head_a"])
    client.post(PAGE + "explanation/submit/")
    assert Assessment.objects.get(pk=assessment_a.pk).status == AssessmentStatus.EXPLAINED
