"""The council's anomaly board (/council/anomalies/): each anomaly planted in the cast's 2024
round is found and links to its leaf on the appraisal page; a clean round shows nothing; each
user sees only what they appraise; nobody writes anything through it; its queries do not grow
with units or leaves."""

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation

from scoring import anomalies, workflow
from scoring.models import (
    AppraiserAssignment,
    Assessment,
    CriteriaSet,
    Criterion,
    Evidence,
    Round,
    Score,
    Stage,
    Unit,
)
from scoring.permissions import round_reach
from scoring.roles import UNIT_STAFF
from tests.cast import YEAR, leaf, make_user
from tests.factories import CRITERIA, SCORES, UNITS
from tests.helpers import database_state

pytestmark = pytest.mark.django_db

BOARD = f"/council/anomalies/{YEAR}/"
PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"
OTHER_PDF = b"%PDF-1.4\n% another report\n%%EOF\n"


def assessment(code):
    return Assessment.objects.get(unit__code=code, criteria_set__round__year=YEAR)


def link(code, leaf_code):
    return f"/admin/scoring/assessment/{assessment(code).pk}/appraise/#leaf-{leaf_code}"


def staff(cast, unit):
    """The unit's staff (the cast has none for so-c: made when needed)."""
    name = f"staff_{unit[-1]}"
    if name not in cast:
        cast[name] = make_user(f"staff-{unit[-1]}", UNIT_STAFF, unit)
    return cast[name]


def score_self(cast, unit, values, who=None):
    """The unit's staff save self scores: {leaf code: points or "na"}."""
    leaves = []
    for code, value in values.items():
        if value == "na":
            leaves.append(workflow.SelfInput(leaf(code).pk, None, "", True, "Không có nhiệm vụ"))
        else:
            leaves.append(workflow.SelfInput(leaf(code).pk, D(value), "Cách chấm"))
    workflow.assessment_save_self(
        assessment_id=assessment(unit).pk, user=who or staff(cast, unit), leaves=leaves
    )


def attach(cast, unit, code, content=PDF, name="bao-cao.pdf"):
    return workflow.evidence_add(
        assessment_id=assessment(unit).pk,
        criterion_id=leaf(code).pk,
        user=staff(cast, unit),
        upload=SimpleUploadedFile(name, content),
    )


def board(user, threshold=anomalies.DEFAULT_THRESHOLD):
    """The board's findings, its words in English whatever test ran before (the default
    language is Vietnamese)."""
    round_obj = Round.objects.get(year=YEAR)
    with translation.override("en"):
        return anomalies.find_anomalies(round_obj, round_reach(user, round_obj), threshold)


def found_leaves(entries):
    return [(e.place.unit, e.place.code) for e in entries]


@pytest.fixture
def last_year(cast, run, write):
    """2023 of the same units, imported with its final scores (so-b 1.1.1: 3, 1.1.2: 6)."""
    assert run("import_units", write("units.csv", UNITS)).status == 0
    for command, content in (("import_criteria", CRITERIA), ("import_scores", SCORES)):
        outcome = run(command, write(f"{command}.csv", content), year=2023, group="departments")
        assert outcome.status == 0, outcome.err


# A clean round ----------------------------------------------------------------------------------


def test_a_clean_round_shows_no_anomaly(login, cast, last_year):
    # Ordinary work: scores close to last year's, below the maximum or with evidence, nothing
    # late, each unit its own files.
    score_self(cast, "so-a", {"1.1.1": "4", "1.1.2": "5"})
    attach(cast, "so-a", "1.1.1")
    score_self(cast, "so-b", {"1.1.1": "3", "1.1.2": "5.5"})
    attach(cast, "so-b", "1.1.1", OTHER_PDF)
    workflow.assessment_submit(assessment_id=assessment("so-a").pk, user=cast["head_a"])
    assert board(cast["secretariat"]).total == 0

    page = login(cast["secretariat"]).get(BOARD)
    assert page.status_code == 200
    assert "No anomaly found in this round." in page.text
    assert page.text.count("None found.") == 5
    assert "/appraise/#leaf-" not in page.text


# 1. Maximum without evidence --------------------------------------------------------------------


def test_a_maximum_without_evidence_is_listed_with_its_link(login, cast):
    score_self(cast, "so-a", {"1.1.1": "4", "1.1.2": "6"})  # both at their maximum
    attach(cast, "so-a", "1.1.2")  # 1.1.2 has its evidence
    score_self(cast, "so-b", {"1.1.1": "3", "1.1.2": "na"})  # below the maximum; set aside

    assert found_leaves(board(cast["secretariat"]).unevidenced) == [("Sở An", "1.1.1")]
    page = login(cast["secretariat"]).get(BOARD)
    section = page.text.split('id="unevidenced"')[1].split("</section>")[0]
    assert f'href="{link("so-a", "1.1.1")}"' in section
    assert "1.1.1. Ban hành kế hoạch" in section
    assert "(1)" in section
    assert "1.1.2. Hoàn thành" not in section


def test_a_cited_document_counts_as_evidence(cast):
    score_self(cast, "so-a", {"1.1.1": "4"})
    workflow.evidence_add(
        assessment_id=assessment("so-a").pk,
        criterion_id=leaf("1.1.1").pk,
        user=cast["staff_a"],
        document_number="12/KH-SA",
    )
    assert board(cast["secretariat"]).unevidenced == []


# 2. Jumps from last year ------------------------------------------------------------------------


def test_a_jump_from_last_years_final_score_is_listed(login, cast, last_year):
    # so-b's 2023 final score on 1.1.1 (max 4) is 3: 1 is 2 points (50 %) away; 1.1.2 is 6
    # last year and 5.5 now: 0.5 away.
    score_self(cast, "so-b", {"1.1.1": "1", "1.1.2": "5.5"})

    jumps = board(cast["secretariat"]).jumps
    assert found_leaves(jumps) == [("Sở Bình", "1.1.1")]
    assert (jumps[0].last_final, jumps[0].self_score, jumps[0].last_year) == (D("3"), D("1"), 2023)
    page = login(cast["secretariat"], "vi").get(BOARD)
    section = page.text.split('id="jumps"')[1].split("</section>")[0]
    assert f'href="{link("so-b", "1.1.1")}"' in section
    assert "3,00 (2023)" in section and "−2,00 (50 %)" in section


def test_the_threshold_can_be_raised_and_lowered(login, cast, last_year):
    score_self(cast, "so-b", {"1.1.1": "1", "1.1.2": "5.5"})
    client = login(cast["secretariat"])
    raised = client.get(BOARD, {"threshold": "60"})
    assert raised.status_code == 200
    assert link("so-b", "1.1.1") not in raised.text
    lowered = client.get(BOARD, {"threshold": "8%"})  # 0.5 of 6 is 8.3 %
    assert link("so-b", "1.1.2") in lowered.text and link("so-b", "1.1.1") in lowered.text
    comma = client.get(BOARD, {"threshold": "8,5"})
    assert link("so-b", "1.1.2") not in comma.text


@pytest.mark.parametrize("value", ["abc", "0", "150", "-5", "NaN", "1e400", "50%%"])
def test_a_bad_threshold_is_explained_not_a_500(login, cast, last_year, value):
    score_self(cast, "so-b", {"1.1.1": "1"})
    page = login(cast["secretariat"]).get(BOARD, {"threshold": value})
    assert page.status_code == 400
    assert "is not valid: give a percentage of the leaf&#x27;s maximum from 1 to 100" in page.text
    assert link("so-b", "1.1.1") in page.text  # the default threshold still applies


def test_a_linked_leaf_is_compared_with_the_criterion_it_comes_from(cast, last_year):
    # 2024's 1.1.1 comes from 2023's 1.1.2 (renumbered): so-b had 6 there, 3 on 2023's 1.1.1.
    Criterion.objects.filter(pk=leaf("1.1.1").pk).update(
        previous=Criterion.objects.get(criteria_set__round__year=2023, code="1.1.2")
    )
    score_self(cast, "so-b", {"1.1.1": "3"})
    jumps = board(cast["secretariat"]).jumps
    assert found_leaves(jumps) == [("Sở Bình", "1.1.1")]
    assert jumps[0].last_final == D("6")


# 3. Late changes --------------------------------------------------------------------------------


def test_a_self_score_changed_after_submission_is_listed(login, cast):
    score_self(cast, "so-a", {"1.1.1": "3", "1.1.2": "5"}, who=cast["head_a"])
    workflow.assessment_submit(assessment_id=assessment("so-a").pk, user=cast["head_a"])
    assert board(cast["secretariat"]).late_changes == []

    # Changed by hand after the submission (the workflow would refuse it).
    score = Score.objects.get(assessment=assessment("so-a"), criterion=leaf("1.1.2"))
    score.self_score = D("6")
    score._history_user = cast["secretariat"]
    score.record_change("by hand")

    changes = board(cast["secretariat"]).late_changes
    assert [(c.place.code, c.old, c.new, c.why, c.by) for c in changes] == [
        ("1.1.2", D("5"), D("6"), anomalies.AFTER_SUBMISSION, "secretariat")
    ]
    page = login(cast["secretariat"]).get(BOARD)
    section = page.text.split('id="late-changes"')[1].split("</section>")[0]
    assert f'href="{link("so-a", "1.1.2")}"' in section
    assert "self score: 5.00 → 6.00" in section and "after the unit submitted" in section


def test_the_councils_appraisal_after_submission_is_not_an_anomaly(cast):
    score_self(cast, "so-a", {"1.1.1": "3", "1.1.2": "5"}, who=cast["head_a"])
    workflow.assessment_submit(assessment_id=assessment("so-a").pk, user=cast["head_a"])
    round_obj = Round.objects.get(year=YEAR)
    workflow.round_advance(round_id=round_obj.pk, user=cast["secretariat"], to_stage="appraisal_1")
    score = Score.objects.get(assessment=assessment("so-a"), criterion=leaf("1.1.1"))
    workflow.score_appraise(
        assessment_id=assessment("so-a").pk,
        user=cast["appraiser_1"],
        stage=Stage.APPRAISAL_1,
        items=[workflow.AppraisalInput(score.pk, score.version, D("2"), "Chậm")],
    )
    assert board(cast["secretariat"]).late_changes == []


def test_a_score_changed_in_the_last_hour_before_the_deadline_is_listed(cast):
    round_obj = Round.objects.get(year=YEAR)
    round_obj.self_assessment_deadline = timezone.now() + timedelta(minutes=30)
    round_obj.save()
    score_self(cast, "so-b", {"1.1.1": "2"})
    changes = board(cast["secretariat"]).late_changes
    assert [(c.place.unit, c.place.code, c.why) for c in changes] == [
        ("Sở Bình", "1.1.1", anomalies.BEFORE_DEADLINE)
    ]
    assert changes[0].reference == round_obj.self_assessment_deadline


def test_an_appraisal_changed_after_its_deadline_is_listed(cast):
    score_self(cast, "so-a", {"1.1.1": "3"})
    score = Score.objects.get(assessment=assessment("so-a"), criterion=leaf("1.1.1"))
    # The history says when: an appraisal recorded a day after the round-1 deadline.
    deadline = Round.objects.get(year=YEAR).appraisal_1_deadline
    score.appraisal_1 = D("2")
    score.record_change("appraisal_1")
    latest = Score.history.filter(id=score.pk).latest("history_id")
    Score.history.filter(history_id=latest.history_id).update(
        history_date=deadline + timedelta(days=1)
    )
    changes = board(cast["secretariat"]).late_changes
    assert [(c.place.code, c.what, c.why) for c in changes] == [
        ("1.1.1", "round-1 appraisal", anomalies.AFTER_DEADLINE)
    ]


# 4. The same file -------------------------------------------------------------------------------


def test_the_same_file_from_two_units_is_listed(login, cast):
    score_self(cast, "so-a", {"1.1.1": "3"})
    attach(cast, "so-a", "1.1.1", name="ke-hoach-so-a.pdf")
    attach(cast, "so-a", "1.1.2", name="ke-hoach-so-a.pdf")  # the same unit twice: normal
    attach(cast, "so-b", "1.1.2", name="ke-hoach.pdf")
    attach(cast, "so-c", "1.1.1", OTHER_PDF)

    shared = board(cast["secretariat"]).shared_files
    assert len(shared) == 1
    assert [(place.unit, place.code, name) for place, name in shared[0].uses] == [
        ("Sở An", "1.1.1", "ke-hoach-so-a.pdf"),
        ("Sở An", "1.1.2", "ke-hoach-so-a.pdf"),
        ("Sở Bình", "1.1.2", "ke-hoach.pdf"),
    ]
    page = login(cast["secretariat"]).get(BOARD)
    section = page.text.split('id="shared-files"')[1].split("</section>")[0]
    assert f'href="{link("so-b", "1.1.2")}"' in section
    assert "Sở Cần" not in section


def test_an_appraiser_limited_to_some_units_sees_only_their_uses_of_a_shared_file(cast):
    AppraiserAssignment.objects.filter(user=cast["appraiser_1"]).get().units.add(
        Unit.objects.get(code="so-a")
    )
    attach(cast, "so-a", "1.1.1")
    attach(cast, "so-b", "1.1.1")
    shared = board(User.objects.get(pk=cast["appraiser_1"].pk)).shared_files
    assert [(place.unit, place.code) for place, _name in shared[0].uses] == [("Sở An", "1.1.1")]
    assert shared[0].other_units == 1


# 5. The maximum everywhere ----------------------------------------------------------------------


def test_a_unit_with_the_maximum_on_every_leaf_is_listed(login, cast):
    score_self(cast, "so-a", {"1.1.1": "4", "1.1.2": "6", "3.1": "1"})  # bonus below its max
    score_self(cast, "so-b", {"1.1.1": "4", "1.1.2": "5"})
    score_self(cast, "so-c", {"1.1.1": "4"})  # 1.1.2 not scored yet

    assert [(e.unit, e.leaves, e.points) for e in board(cast["secretariat"]).all_maximum] == [
        ("Sở An", 2, D("10"))
    ]
    page = login(cast["secretariat"]).get(BOARD)
    section = page.text.split('id="all-maximum"')[1].split("</section>")[0]
    assert f'href="/admin/scoring/assessment/{assessment("so-a").pk}/appraise/"' in section
    assert "Sở Bình" not in section and "Sở Cần" not in section


def test_a_leaf_set_aside_does_not_count_against_the_maximum(cast):
    score_self(cast, "so-c", {"1.1.1": "4", "1.1.2": "na"})
    assert [e.unit for e in board(cast["secretariat"]).all_maximum] == ["Sở Cần"]


# Who sees what ----------------------------------------------------------------------------------


def test_an_appraiser_sees_only_the_leaves_of_their_fields(login, cast):
    score_self(cast, "so-a", {"1.1.1": "4", "3.1": "2"})  # field 1 and field 3 (bonus), no evidence
    assert found_leaves(board(cast["appraiser_1"]).unevidenced) == [("Sở An", "1.1.1")]
    assert found_leaves(board(cast["appraiser_3"]).unevidenced) == [("Sở An", "3.1")]
    page = login(cast["appraiser_3"]).get(BOARD)
    assert link("so-a", "3.1") in page.text and link("so-a", "1.1.1") not in page.text


def test_an_appraiser_limited_to_some_units_sees_only_those_units(cast):
    AppraiserAssignment.objects.filter(user=cast["appraiser_1"]).get().units.add(
        Unit.objects.get(code="so-b")
    )
    score_self(cast, "so-a", {"1.1.1": "4"})
    score_self(cast, "so-b", {"1.1.1": "4"})
    appraiser = User.objects.get(pk=cast["appraiser_1"].pk)
    assert found_leaves(board(appraiser).unevidenced) == [("Sở Bình", "1.1.1")]


def test_the_index_opens_the_latest_open_round(login, cast):
    Round.objects.create(year=YEAR + 1)  # being set up: not open yet
    for who in ("secretariat", "appraiser_1"):
        page = login(cast[who]).get("/council/anomalies/")
        assert (page.status_code, page["Location"]) == (302, BOARD)


def test_nobody_but_the_council_may_open_it_and_nothing_is_ever_written(client, login, cast):
    score_self(cast, "so-a", {"1.1.1": "4"})
    outsider = User.objects.create_user("outsider", password="pw", is_staff=True)
    before = database_state()
    people = {**cast, "outsider": outsider, "anonymous": None}
    for name, user in people.items():
        for url in ("/council/anomalies/", BOARD, BOARD + "?threshold=abc"):
            client.logout()
            if user is not None:
                login(user)
            got = client.get(url)
            posted = client.post(url, {"threshold": "10"})
            if name in ("secretariat", "appraiser_1", "appraiser_3"):
                assert got.status_code in (200, 302, 400), (name, url)
                assert posted.status_code == 405, (name, url)
            elif name == "outsider":  # admin staff, but not of the council
                assert (got.status_code, posted.status_code) == (403, 405), (name, url)
            else:  # unit staff and heads, anonymous: sent to log in
                for response in (got, posted):
                    assert response.status_code == 302, (name, url)
                    assert response["Location"].startswith("/admin/login/"), (name, url)
    assert database_state() == before


def test_an_unknown_year_is_not_found(login, cast):
    assert login(cast["secretariat"]).get("/council/anomalies/1999/").status_code == 404


# Queries ----------------------------------------------------------------------------------------


MORE_LEAVES = "".join(f"1.2.{n},1.2,Nhiệm vụ {n},1,self,\n" for n in range(1, 31))


@pytest.fixture(params=["small", "grown"])
def size(request, cast, last_year, run, write):
    """The cast's round with every anomaly, as it is, or with 30 more leaves and 20 more units,
    each with a self score changed after its submission and the shared file."""
    if request.param == "grown":
        grown = (
            CRITERIA.replace("1,,Công tác chỉ đạo,10,,\n", "1,,Công tác chỉ đạo,,,\n")
            + "1.2,1,Nhiệm vụ khác,,,\n"
            + MORE_LEAVES
        )
        outcome = run("import_criteria", write("c.csv", grown), year=YEAR, group="departments")
        assert outcome.status == 0, outcome.err
    score_self(cast, "so-a", {"1.1.1": "4", "1.1.2": "6"})
    shared = attach(cast, "so-a", "1.1.2")
    attach(cast, "so-b", "1.1.1")
    score_self(cast, "so-b", {"1.1.1": "1"})
    if request.param == "grown":
        criteria_set = CriteriaSet.objects.get(round__year=YEAR)
        for n in range(20):
            unit = Unit.objects.create(
                code=f"so-them-{n}", name=f"Sở thêm {n}", group_id=criteria_set.group_id
            )
            extra = Assessment.objects.create(
                criteria_set=criteria_set,
                unit=unit,
                status="submitted",
                submitted_at=timezone.now() - timedelta(days=1),
            )
            workflow.ensure_scores(extra)
            Score.objects.filter(assessment=extra, criterion__kind="self").update(
                self_score=D("0.5")
            )
            score = Score.objects.get(assessment=extra, criterion=leaf("1.2.1"))
            Evidence.objects.create(
                score=score, file=shared.file.name, sha256=shared.sha256, original_name="x.pdf"
            )
            score.self_score = D("0")
            score.record_change("by hand")
    return request.param


def test_the_checks_read_a_round_in_six_queries_whatever_its_size(
    cast, size, django_assert_num_queries
):
    round_obj = Round.objects.get(year=YEAR)
    reach = round_reach(cast["secretariat"], round_obj)
    # The criteria; the assessments with their units and sets; the scores; the evidence; the
    # scores' history with its users; last year's scores of the same leaves.
    with django_assert_num_queries(6):
        found = anomalies.find_anomalies(round_obj, reach)
    assert [len(found.unevidenced), len(found.jumps)] == [1, 1]
    # so-a's maxima on field 1 are all its self scores, until 30 more leaves wait for scores.
    assert len(found.all_maximum) == (0 if size == "grown" else 1)
    assert len(found.shared_files[0].uses) == (22 if size == "grown" else 2)
    assert len(found.late_changes) == (20 if size == "grown" else 0)


def test_the_board_page_has_a_fixed_number_of_queries(login, cast, size, django_assert_num_queries):
    client = login(cast["appraiser_1"])
    # The session; the user; the round; the appraiser's permissions (own, groups'); their
    # assignments in the round; the six of ``read_round``; the rounds they follow.
    with django_assert_num_queries(13):
        assert client.get(BOARD).status_code == 200


def test_the_history_read_fetches_only_the_records_that_can_be_late(
    cast, django_assert_num_queries
):
    # The unit's page saves each row as it is typed: 200 saves of 1.1.1, a month before the
    # deadline and the submission, then one change by hand after the submission.
    score_self(cast, "so-a", {"1.1.1": "3", "1.1.2": "5"}, who=cast["head_a"])
    score = Score.objects.get(assessment=assessment("so-a"), criterion=leaf("1.1.1"))
    for n in range(200):
        score.self_score = D(n % 4)  # 0, 1, 2, 3, 0, …: every save a change; the last 3
        score.record_change("typed")
    planted = Score.history.filter(assessment=assessment("so-a"))
    assert planted.count() > 200
    planted.update(history_date=timezone.now() - timedelta(days=30))
    workflow.assessment_submit(assessment_id=assessment("so-a").pk, user=cast["head_a"])
    score = Score.objects.get(pk=score.pk)
    score.self_score = D("4")
    score._history_user = cast["secretariat"]
    score.record_change("by hand")

    round_obj = Round.objects.get(year=YEAR)
    with django_assert_num_queries(6):
        rows = anomalies.read_round(round_obj, round_reach(cast["secretariat"], round_obj))
    print("history rows fetched:", len(rows.history))
    # Only the late record comes back, with what it needs of the record before it (a month
    # earlier, the last of the 200 saves).
    assert len(rows.history) == 1
    changes = anomalies.find_late_changes(rows)
    assert [(c.place.code, c.old, c.new, c.why, c.by) for c in changes] == [
        ("1.1.1", D("3"), D("4"), anomalies.AFTER_SUBMISSION, "secretariat")
    ]


def test_shares_and_thresholds_round_half_up():
    place = anomalies.Place(1, "Sở An", "1.1.1", "Ban hành kế hoạch", D("4"))
    # 0.1 of 4 is 2.5 %: shown as 3 % (half-even rounding would show 2 %).
    assert anomalies.Jump(place, D("3.1"), D("3"), 2023).share == D("3")
    assert anomalies.Jump(place, D("2.9"), D("3"), 2023).share == D("3")
    assert anomalies.Jump(place, D("3.3"), D("3"), 2023).share == D("8")  # 7.5 %
    assert anomalies.parse_threshold("12.345") == D("12.35")
    assert anomalies.parse_threshold("12,125 %") == D("12.13")


def test_a_two_and_a_half_percent_jump_shows_as_three_percent(login, cast, last_year):
    # so-b's 2023 final score on 1.1.1 (max 4) is 3: 2.9 is 0.1 (2.5 %) away.
    score_self(cast, "so-b", {"1.1.1": "2.9"})
    page = login(cast["secretariat"]).get(BOARD, {"threshold": "2"})
    section = page.text.split('id="jumps"')[1].split("</section>")[0]
    assert f'href="{link("so-b", "1.1.1")}"' in section
    assert "−0.10 (3 %)" in section
