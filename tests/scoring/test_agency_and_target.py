"""Leaves scored by the agency, by a figure against a target, and fed from SIPAS: from the
import to the public API and unit page, each refusal named; and the round's process (publishing
follows the stages, a submission reopened, appraisers limited to some units, SIPAS from
questionnaires rounded once, bands rounded before they are compared)."""

import json
from decimal import Decimal as D

import pytest
from django.core import mail
from django.utils import translation

from rankings.models import Publication, PublishedLeaf
from scoring import workflow
from scoring.errors import NotAllowed
from scoring.models import (
    AppraiserAssignment,
    Assessment,
    AssessmentStatus,
    CriteriaSet,
    Criterion,
    Round,
    Score,
    SipasResult,
    Stage,
    Transition,
    Unit,
)
from tests.cast import YEAR, leaf, set_stage
from tests.factories import UNITS
from tests.helpers import database_state

pytestmark = pytest.mark.django_db

HEADER = "code,parent,title,max_points,kind,guidance,target,rule,steps,direction,unit_label,sipas_element\n"
CRITERIA = HEADER + (
    "1,,Công tác chỉ đạo,,,,,,,,,\n"
    "1.1,1,Ban hành kế hoạch CCHC,4,self,,,,,,,\n"
    "1.2,1,Hồ sơ trễ hạn trên Cổng dịch vụ công,2,agency,Số liệu của Cổng,,,,,,\n"
    "1.3,1,Tỷ lệ thanh toán trực tuyến,2,target,,30,proportional,,,%,\n"
    "1.4,1,Tỷ lệ hồ sơ giải quyết đúng hạn,2,target,,,steps,95:2;90:1.5;80:1,,%,\n"
    "2,,Tác động của CCHC,,,,,,,,,\n"
    "2.1,2,Hài lòng về tiếp cận dịch vụ,4,survey,,,,,,,access\n"
    "2.2,2,Đánh giá của đại biểu,2,survey,,,,,,,\n"
)
SCORES = (
    "unit,criterion,self_score,final_score,note,self_figure,final_figure\n"
    "so-a,1.1,4,3.5,Chậm một nhiệm vụ,,\n"
    "so-a,1.2,,2,,,\n"
    "so-a,1.3,,,Theo Cổng thanh toán,42.4,42.4\n"
    "so-a,1.4,,,,96,92\n"
    "so-a,2.2,,1.8,,,\n"
    "so-b,1.1,4,4,,,\n"
    "so-b,1.2,,1,Trễ 12 hồ sơ,,\n"
    "so-b,1.3,,,,15,15\n"
    "so-b,1.4,,,,85,85\n"
    "so-b,2.2,,1.5,,,\n"
)
SIPAS = (
    "unit,access,procedure,civil_servants,result,feedback\n"
    "so-a,95.44,95,95,95,95\n"
    "so-b,80,81,82,83,84\n"
)


def load(run, write, year=2023, scores=SCORES, sipas=SIPAS):
    assert run("import_units", write("units.csv", UNITS)).status == 0
    outcome = run("import_criteria", write("c.csv", CRITERIA), year=year, group="departments")
    assert outcome.status == 0, outcome.err
    outcome = run("import_scores", write("s.csv", scores), year=year, group="departments")
    assert outcome.status == 0, outcome.err
    if sipas:
        outcome = run("import_sipas", write("p.csv", sipas), year=year, group="departments")
        assert outcome.status == 0, outcome.err


# The criteria file --------------------------------------------------------------------------


def test_the_rules_are_kept_on_the_leaves(run, write):
    load(run, write)
    payment = Criterion.objects.get(code="1.3")
    assert (payment.kind, payment.target, payment.rule, payment.unit_label) == (
        "target",
        D("30.00"),
        "proportional",
        "%",
    )
    assert Criterion.objects.get(code="1.4").steps == "95:2;90:1.5;80:1"
    assert Criterion.objects.get(code="2.1").sipas_element == "access"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("1.5,1,X,2,target,,,steps,95:3;90:1,,%,", "row 7, column steps: the step 95:3"),
        ("1.5,1,X,2,target,,30,linear,,,%,", "row 7, column rule: 'linear' is not a rule"),
        ("1.5,1,X,2,target,,,proportional,,,%,", "row 7, column target: a proportional rule"),
        ("1.5,1,X,2,target,,,,,,%,", "row 7, column rule: a target leaf needs a rule"),
        ("1.5,1,X,2,target,,,steps,95-2,,%,", "row 7, column steps: '95-2': write threshold"),
        ("1.5,1,X,2,target,,30,proportional,,up,%,", "row 7, column direction: 'up' is not"),
        ("1.5,1,X,2,self,,30,,,,,", "row 7, column target: only a target leaf has a rule"),
        ("1.5,1,X,2,self,,,,,,,access", "row 7, column sipas_element: only a survey leaf"),
        ("1.5,1,X,2,survey,,,,,,,speed", "row 7, column sipas_element: 'speed' is not a SIPAS"),
        ("1.5,1,X,2,magic,,,,,,,", "row 7, column kind: 'magic' is not a kind"),
    ],
)
def test_a_wrong_rule_is_a_row_error_and_nothing_is_written(run, write, line, message):
    assert run("import_units", write("units.csv", UNITS)).status == 0
    before = database_state()
    content = CRITERIA.replace("2,,Tác động", line + "\n2,,Tác động", 1)
    outcome = run("import_criteria", write("c.csv", content), year=2023, group="departments")
    assert outcome.status == 1
    assert message in outcome.err
    assert database_state() == before


# The scores file ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("so-c,1.3,1,,,,", "row 2, column self_score: 1.3 is a target leaf: give the figures"),
        ("so-c,1.3,,2,,,", "row 2, column final_score: 1.3 is a target leaf: give the figures"),
        ("so-c,1.2,1,2,,,", "row 2, column self_score:"),
        ("so-c,1.1,4,4,,12,", "row 2, column self_figure: only a target leaf takes a figure"),
        ("so-c,2.1,,3,,,", "row 2, column final_score: 2.1 is fed from SIPAS (access)"),
        ("so-c,1.3,,,,-1,", "row 2, column self_figure: -1 is negative"),
    ],
)
def test_scores_that_do_not_fit_the_leaf_are_refused(run, write, line, message):
    assert run("import_units", write("units.csv", UNITS)).status == 0
    assert (
        run("import_criteria", write("c.csv", CRITERIA), year=2023, group="departments").status == 0
    )
    before = database_state()
    content = "unit,criterion,self_score,final_score,note,self_figure,final_figure\n" + line + "\n"
    outcome = run("import_scores", write("s.csv", content), year=2023, group="departments")
    assert outcome.status == 1
    assert message in outcome.err
    assert database_state() == before


def test_a_figure_gives_its_points_by_the_rule(run, write):
    load(run, write)
    payment = Score.objects.get(assessment__unit__code="so-a", criterion__code="1.3")
    assert (payment.self_figure, payment.self_score) == (D("42.40"), D("2.00"))
    assert (payment.figure_1, payment.final_score) == (D("42.40"), D("2.00"))
    on_time = Score.objects.get(assessment__unit__code="so-a", criterion__code="1.4")
    assert (on_time.self_score, on_time.final_score) == (D("2.00"), D("1.50"))


# Publishing, the API and the pages ---------------------------------------------------------


def test_publishing_waits_for_the_sipas_a_survey_leaf_is_fed_from(run, write):
    load(run, write, sipas="")
    outcome = run("publish", year=2023, group="departments")
    assert outcome.status == 1
    assert "leaf 2.1 is fed from SIPAS" in outcome.err
    assert not Publication.objects.exists()
    run("import_sipas", write("p.csv", SIPAS), year=2023, group="departments")
    assert run("publish", year=2023, group="departments").status == 0


def test_the_api_and_the_pages_show_agency_target_and_sipas_fed_leaves(client, run, write):
    load(run, write)
    assert run("publish", year=2023, group="departments").status == 0
    ranking = client.get("/api/v1/rankings/2023/departments/").json()
    by_unit = {r["unit"]: r for r in ranking["results"]}
    # so-a: 3.5 + 2 + 2 (42.4 % of 30 %) + 1.5 (92 % ≥ 90) + 3.82 (4 × 95.44 %) + 1.8
    assert (by_unit["so-a"]["points"], by_unit["so-a"]["index"]) == ("14.62", "91.38")
    # so-b: 4 + 1 + 1 (15 of 30 %) + 1 (85 % ≥ 80) + 3.20 (4 × 80 %) + 1.5
    assert (by_unit["so-b"]["points"], by_unit["so-b"]["index"]) == ("11.70", "73.13")

    unit = client.get("/api/v1/units/so-a/").json()
    leaves = {entry["code"]: entry for entry in unit["results"][0]["leaves"]}
    assert leaves["1.3"]["figure"] == "42.40" and leaves["1.3"]["target"] == "30.00"
    assert leaves["1.3"]["final_score"] == "2.00" and leaves["1.3"]["unit_label"] == "%"
    assert leaves["1.2"]["kind"] == "agency" and "figure" not in leaves["1.2"]
    assert leaves["2.1"]["final_score"] == "3.82" and leaves["2.1"]["sipas_element"] == "access"
    assert client.get("/api/v1/units/nobody/").status_code == 404

    page = client.get("/units/so-a/?year=2023").content.decode()
    assert "42,4 % (chỉ tiêu 30 %) → 2,00 / 2,00" in page
    methodology = client.get("/methodology/2023/departments/").content.decode()
    assert "chỉ tiêu (30 %)" in methodology
    assert "Từ 95 % trở lên: 2,00 điểm; từ 90 % trở lên: 1,50 điểm" in methodology
    frozen = PublishedLeaf.objects.get(result__unit_code="so-a", code="1.4")
    assert (frozen.self_figure, frozen.figure, frozen.final_score) == (
        D("96.00"),
        D("92.00"),
        D("1.50"),
    )


def test_the_open_data_carries_figures_and_rules(client, run, write):
    import csv
    import io
    import zipfile

    load(run, write)
    assert run("publish", year=2023, group="departments").status == 0
    bundle = zipfile.ZipFile(io.BytesIO(client.get("/data/2023/").content))
    leaves = list(
        csv.DictReader(io.StringIO(bundle.read("leaves-departments.csv").decode("utf-8-sig")))
    )
    payment = next(r for r in leaves if r["unit"] == "so-a" and r["criterion"] == "1.3")
    assert (payment["self_figure"], payment["figure"]) == ("42.40", "42.40")
    criteria = list(
        csv.DictReader(io.StringIO(bundle.read("criteria-departments.csv").decode("utf-8-sig")))
    )
    on_time = next(r for r in criteria if r["code"] == "1.4")
    assert (on_time["rule"], on_time["steps"], on_time["direction"]) == (
        "steps",
        "95:2;90:1.5;80:1",
        "higher",
    )


# The workflow -------------------------------------------------------------------------------


@pytest.fixture
def round_876(cast, run, write):
    """The cast's 2024 round with the criteria above, in self-assessment."""
    Round.objects.filter(year=YEAR).update(stage=Stage.SETUP)
    Assessment.objects.filter(criteria_set__round__year=YEAR).delete()
    outcome = run("import_criteria", write("c.csv", CRITERIA), year=YEAR, group="departments")
    assert outcome.status == 0, outcome.err
    field = Criterion.objects.get(criteria_set__round__year=YEAR, code="1")
    AppraiserAssignment.objects.get_or_create(user=cast["appraiser_1"], field=field)
    workflow.round_advance(
        round_id=Round.objects.get(year=YEAR).pk,
        user=cast["secretariat"],
        to_stage=Stage.SELF_ASSESSMENT,
    )
    return Assessment.objects.get(unit__code="so-a", criteria_set__round__year=YEAR)


def test_staff_report_a_figure_and_see_its_points(login, cast, round_876):
    client = login(cast["staff_a"], language="vi")
    payment, agency = leaf("1.3"), leaf("1.2")
    page = client.get(f"/assessments/{YEAR}/so-a/").content.decode()
    assert f'name="figure_{payment.pk}"' in page
    assert f'name="score_{agency.pk}"' not in page  # the agency scores it, not the unit
    preview = client.get(f"/assessments/{YEAR}/so-a/points/{payment.pk}/", {"figure": "42,4"})
    assert json.loads(preview.content) == {"points": "2.00", "text": "2,00 / 2,00"}
    assert client.get(f"/assessments/{YEAR}/so-b/points/{payment.pk}/").status_code == 404
    data = {f"figure_{payment.pk}": "15", f"method_{payment.pk}": "Báo cáo của Sở Tài chính"}
    data[f"score_{leaf('1.1').pk}"] = "4"
    assert client.post(f"/assessments/{YEAR}/so-a/", data).status_code == 302
    score = Score.objects.get(assessment=round_876, criterion=payment)
    assert (score.self_figure, score.self_score) == (D("15.00"), D("1.00"))
    assert "1,00 / 2,00" in client.get(f"/assessments/{YEAR}/so-a/").content.decode()


def test_the_council_verifies_a_figure_and_scores_an_agency_leaf(cast, round_876):
    workflow.assessment_save_self(
        assessment_id=round_876.pk,
        user=cast["staff_a"],
        leaves=[workflow.SelfInput(leaf("1.3").pk, None, "Báo cáo", figure=D("42.4"))],
    )
    set_stage(Stage.APPRAISAL_1)
    scores = {s.criterion.code: s for s in round_876.scores.select_related("criterion")}
    changed = workflow.score_appraise(
        assessment_id=round_876.pk,
        user=cast["appraiser_1"],
        stage=Stage.APPRAISAL_1,
        items=[
            workflow.AppraisalInput(
                scores["1.3"].pk, scores["1.3"].version, None, "Số liệu Cổng: 27 %", figure=D("27")
            ),
            workflow.AppraisalInput(scores["1.2"].pk, scores["1.2"].version, D("1.5")),
        ],
    )
    assert changed == 2
    payment = Score.objects.get(pk=scores["1.3"].pk)
    assert (payment.figure_1, payment.appraisal_1) == (D("27.00"), D("1.80"))  # 2 × 27/30
    assert Score.objects.get(pk=scores["1.2"].pk).appraisal_1 == D("1.50")


def test_a_corrected_figure_below_the_reported_one_needs_a_reason(cast, round_876):
    workflow.assessment_save_self(
        assessment_id=round_876.pk,
        user=cast["staff_a"],
        leaves=[workflow.SelfInput(leaf("1.3").pk, None, "Báo cáo", figure=D("42.4"))],
    )
    set_stage(Stage.APPRAISAL_1)
    score = Score.objects.get(assessment=round_876, criterion=leaf("1.3"))
    with pytest.raises(workflow.Invalid):
        workflow.score_appraise(
            assessment_id=round_876.pk,
            user=cast["appraiser_1"],
            stage=Stage.APPRAISAL_1,
            items=[workflow.AppraisalInput(score.pk, score.version, None, figure=D("27"))],
        )


# The process --------------------------------------------------------------------------------


def test_the_secretariat_reopens_a_submission_with_a_reason(
    login, cast, round_876, django_capture_on_commit_callbacks
):
    assessment = round_876
    Assessment.objects.filter(pk=assessment.pk).update(status=AssessmentStatus.SUBMITTED)
    client = login(cast["secretariat"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/scoring/assessment/",
            {
                "action": "reopen",
                "_selected_action": [assessment.pk],
                "confirmed": "yes",
                "reason": "Thiếu tài liệu kiểm chứng tiêu chí 1.1",
            },
        )
    assert response.status_code == 302
    assessment.refresh_from_db()
    assert assessment.status == AssessmentStatus.DRAFT
    transition = Transition.objects.filter(assessment=assessment).first()
    assert (transition.from_state, transition.to_state) == ("submitted", "draft")
    assert "Thiếu tài liệu kiểm chứng" in transition.note
    assert [m.to for m in mail.outbox] == [["head-a@example.org"]]
    assert "Thiếu tài liệu kiểm chứng" in mail.outbox[0].body


def test_a_reopening_needs_the_secretariat_a_reason_and_the_open_stage(cast, round_876):
    Assessment.objects.filter(pk=round_876.pk).update(status=AssessmentStatus.SUBMITTED)
    with pytest.raises(NotAllowed):
        workflow.assessment_reopen(assessment_id=round_876.pk, user=cast["head_a"], reason="x")
    with pytest.raises(NotAllowed):
        workflow.assessment_reopen(assessment_id=round_876.pk, user=cast["secretariat"], reason=" ")
    set_stage(Stage.APPRAISAL_1)
    with pytest.raises(NotAllowed):
        workflow.assessment_reopen(assessment_id=round_876.pk, user=cast["secretariat"], reason="x")
    assert Assessment.objects.get(pk=round_876.pk).status == AssessmentStatus.SUBMITTED


def test_an_assignment_limited_to_some_units_covers_those_only(login, cast, round_876):
    assignment = AppraiserAssignment.objects.get(
        user=cast["appraiser_1"], field__criteria_set__round__year=YEAR, field__code="1"
    )
    assignment.units.set([Unit.objects.get(code="so-b")])
    set_stage(Stage.APPRAISAL_1)
    client = login(cast["appraiser_1"])
    so_a = round_876
    so_b = Assessment.objects.get(unit__code="so-b", criteria_set__round__year=YEAR)
    assert client.get(f"/admin/scoring/assessment/{so_a.pk}/appraise/").status_code == 404
    assert client.get(f"/admin/scoring/assessment/{so_b.pk}/appraise/").status_code == 200
    listed = client.get("/admin/scoring/assessment/").content.decode()
    assert "Sở Bình" in listed and "Sở An" not in listed
    workflow.ensure_scores(so_a)
    score = Score.objects.get(assessment=so_a, criterion=leaf("1.2"))
    with pytest.raises(NotAllowed):
        workflow.score_appraise(
            assessment_id=so_a.pk,
            user=cast["appraiser_1"],
            stage=Stage.APPRAISAL_1,
            items=[workflow.AppraisalInput(score.pk, score.version, D("1"))],
        )


def test_sipas_from_questionnaires_is_the_mean_of_exact_shares_rounded_once(run, write):
    """access 7/7, procedure 4/9, civil servants 3/9, result 0/3, feedback 5/8: the exact mean
    is 48.0555… → 48.06; the mean of the rounded elements would be 48.05."""
    assert run("import_units", write("units.csv", UNITS)).status == 0
    rows = ["unit,access,procedure,civil_servants,result,feedback"]
    for n in range(9):
        rows.append(
            ",".join(
                [
                    "so-a",
                    "5" if n < 7 else "",
                    "5" if n < 4 else "2",
                    "4" if n < 3 else "1",
                    "1" if n < 3 else "",
                    ("5" if n < 5 else "2") if n < 8 else "",
                ]
            )
        )
    outcome = run(
        "import_sipas_answers",
        write("a.csv", "\n".join(rows) + "\n"),
        year=2023,
        group="departments",
    )
    assert outcome.status == 0, outcome.err
    result = SipasResult.objects.get(unit__code="so-a")
    assert result.procedure == D("44.44") and result.civil_servants == D("33.33")
    assert result.sipas_index() == D("48.06")


def test_bands_are_rounded_before_they_are_compared(run, write, unchanged_database):
    assert run("import_units", write("units.csv", UNITS)).status == 0
    assert (
        run("import_criteria", write("c.csv", CRITERIA), year=2023, group="departments").status == 0
    )
    bands = "code,label,min_index\na,A,80.025\nb,B,80.03\nc,C,0\n"
    with unchanged_database():
        outcome = run("import_bands", write("b.csv", bands), year=2023, group="departments")
    assert outcome.status == 1
    assert "row 3, column min_index: duplicate lower bound: already on row 2" in outcome.err


def test_the_set_has_the_criteria_file_of_the_docs(run, write):
    """docs/examples/criteria-876.csv imports as it stands."""
    from pathlib import Path

    assert run("import_units", write("units.csv", UNITS)).status == 0
    example = Path(__file__).resolve().parents[2] / "docs" / "examples" / "criteria-876.csv"
    outcome = run("import_criteria", str(example), year=2023, group="departments")
    assert outcome.status == 0, outcome.err
    kinds = set(CriteriaSet.objects.get(round__year=2023).criteria.values_list("kind", flat=True))
    assert {"agency", "target", "survey", "self"} <= kinds


# Found by the docs audit ---------------------------------------------------------------------


def test_the_admin_adds_a_target_leaf_only_with_its_rule(login, cast, run, write):
    assert (
        run("import_criteria", write("c.csv", CRITERIA), year=2025, group="departments").status == 0
    )
    criteria_set = CriteriaSet.objects.get(round__year=2025)
    field = criteria_set.criteria.get(code="1")
    client = login(cast["secretariat"])
    data = {
        "criteria_set": criteria_set.pk,
        "parent": field.pk,
        "code": "1.9",
        "title": "Tỷ lệ hồ sơ số hóa",
        "max_points": "1",
        "kind": "target",
        "direction": "higher",
    }
    before = database_state()
    response = client.post("/admin/scoring/criterion/add/", data)
    assert response.status_code == 200  # the form says what is missing; no 500
    assert database_state() == before
    response = client.post(
        "/admin/scoring/criterion/add/", {**data, "rule": "steps", "steps": "90:2"}
    )
    assert response.status_code == 200  # a step worth more than the leaf
    assert database_state() == before
    response = client.post(
        "/admin/scoring/criterion/add/",
        {**data, "rule": "proportional", "target": "80", "unit_label": "%"},
    )
    assert response.status_code == 302
    added = criteria_set.criteria.get(code="1.9")
    assert (added.rule, added.target, added.points_for(D("40"))) == (
        "proportional",
        D("80.00"),
        D("0.50"),
    )


def test_copying_a_set_keeps_its_rules_and_sipas_elements(cast, run, write):
    assert (
        run("import_criteria", write("c.csv", CRITERIA), year=2025, group="departments").status == 0
    )
    source = Round.objects.get(year=2025)
    workflow.round_copy_sets(round_id=source.pk, year=2026, user=cast["secretariat"])
    copied = Criterion.objects.filter(criteria_set__round__year=2026)
    assert copied.get(code="1.4").steps == "95:2;90:1.5;80:1"
    assert copied.get(code="1.3").target == D("30.00")
    assert copied.get(code="2.1").sipas_element == "access"


def test_saving_the_appraisal_never_verifies_a_figure_unseen(login, cast, round_876):
    workflow.assessment_save_self(
        assessment_id=round_876.pk,
        user=cast["staff_a"],
        leaves=[workflow.SelfInput(leaf("1.3").pk, None, "Báo cáo", figure=D("42.4"))],
    )
    set_stage(Stage.APPRAISAL_1)
    client = login(cast["appraiser_1"])
    url = f"/admin/scoring/assessment/{round_876.pk}/appraise/"
    page = client.get(url).content.decode()
    score = Score.objects.get(assessment=round_876, criterion=leaf("1.3"))
    assert f'name="figure_{score.pk}" value=' not in page  # empty: only this round's figure
    from tests.helpers import form_fields

    fields = dict(form_fields(page, "appraisal"))
    fields[f"value_{Score.objects.get(assessment=round_876, criterion=leaf('1.2')).pk}"] = "1"
    assert client.post(url, fields).status_code == 302
    score.refresh_from_db()
    assert score.figure_1 is None and score.appraisal_1 is None


def test_the_preview_names_units_without_the_sipas_their_leaves_need(login, cast, run, write):
    load(
        run,
        write,
        sipas="unit,access,procedure,civil_servants,result,feedback\nso-a,90,90,90,90,90\n",
    )
    criteria_set = CriteriaSet.objects.get(round__year=2023)
    page = login(cast["secretariat"]).get(f"/admin/scoring/criteriaset/{criteria_set.pk}/preview/")
    body = page.content.decode()
    assert "Sở Bình" in body and "2.1" in body and "SIPAS" in body


def test_a_member_limited_to_some_units_follows_only_those(login, cast, round_876):
    assignment = AppraiserAssignment.objects.get(
        user=cast["appraiser_1"], field__criteria_set__round__year=YEAR, field__code="1"
    )
    assignment.units.set([Unit.objects.get(code="so-b")])
    client = login(cast["appraiser_1"])
    board = client.get(f"/admin/scoring/round/{Round.objects.get(year=YEAR).pk}/progress/")
    body = board.content.decode()
    assert "Sở Bình" in body and "Sở An" not in body


def test_editing_sipas_by_hand_drops_the_index_from_questionnaires(login, cast, run, write):
    load(run, write)
    result = SipasResult.objects.get(unit__code="so-a")
    SipasResult.objects.filter(pk=result.pk).update(index=D("48.06"))
    client = login(cast["secretariat"])
    response = client.post(
        f"/admin/scoring/sipasresult/{result.pk}/change/",
        {
            "round": result.round_id,
            "group": result.group_id,
            "unit": result.unit_id,
            "access": "90",
            "procedure": "90",
            "civil_servants": "90",
            "result": "90",
            "feedback": "90",
            "index": "48.06",
        },
    )
    assert response.status_code == 302
    result.refresh_from_db()
    assert result.index is None and result.sipas_index() == D("90.00")


def test_a_reopening_keeps_the_submission_in_the_log_and_waits_for_an_open_deadline(
    cast, round_876
):
    from datetime import timedelta

    from django.utils import timezone

    Assessment.objects.filter(pk=round_876.pk).update(
        status=AssessmentStatus.SUBMITTED,
        evidence_fingerprint="ab" * 32,
        submitted_at=timezone.now(),
    )
    Round.objects.filter(year=YEAR).update(
        self_assessment_deadline=timezone.now() - timedelta(hours=1)
    )
    # In English whatever language an earlier test left active (the site's default is vi).
    with translation.override("en"), pytest.raises(NotAllowed, match="deadline"):
        workflow.assessment_reopen(assessment_id=round_876.pk, user=cast["secretariat"], reason="x")
    Round.objects.filter(year=YEAR).update(
        self_assessment_deadline=timezone.now() + timedelta(days=1)
    )
    workflow.assessment_reopen(assessment_id=round_876.pk, user=cast["secretariat"], reason="Thiếu")
    note = Transition.objects.filter(assessment=round_876).first().note
    assert "Thiếu" in note and "ab" * 32 in note


def test_the_units_api_has_a_query_budget(client, run, write, django_assert_num_queries):
    load(run, write)
    assert run("publish", year=2023, group="departments").status == 0
    # The unit's results with their publications; the newest publication (ETag); the
    # fields; the leaves; the criteria. Flat in years and leaves.
    with django_assert_num_queries(5):
        assert client.get("/api/v1/units/so-a/").status_code == 200
