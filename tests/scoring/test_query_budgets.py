"""Query budgets of the staff and council pages: the count is pinned, and the same with 30 more
leaves and 20 more units (design: a page's queries never grow with the data)."""

from decimal import Decimal as D

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from scoring import workflow
from scoring.models import Assessment, CriteriaSet, Round, Stage, Unit
from tests.cast import YEAR, leaf
from tests.factories import CRITERIA

pytestmark = pytest.mark.django_db

MORE_LEAVES = "".join(f"1.2.{n},1.2,Nhiệm vụ {n},1,self,\n" for n in range(1, 31))
GROWN_CRITERIA = (
    CRITERIA.replace("1,,Công tác chỉ đạo,10,,\n", "1,,Công tác chỉ đạo,,,\n")
    + "1.2,1,Nhiệm vụ khác,,,\n"
    + MORE_LEAVES
)


@pytest.fixture(params=["small", "grown"])
def size(request, cast, run, write):
    """The cast's 2024 round as it is, or with 30 more leaves and 20 more units."""
    if request.param == "grown":
        outcome = run(
            "import_criteria", write("c.csv", GROWN_CRITERIA), year=YEAR, group="departments"
        )
        assert outcome.status == 0, outcome.err
        criteria_set = CriteriaSet.objects.get(round__year=YEAR)
        for n in range(20):
            unit = Unit.objects.create(
                code=f"so-them-{n}", name=f"Sở thêm {n}", group_id=criteria_set.group_id
            )
            Assessment.objects.create(criteria_set=criteria_set, unit=unit)
    return request.param


def count(client, url) -> list[str]:
    client.get(url)  # the first visit creates the score rows (one per leaf)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return [q["sql"] for q in queries.captured_queries]


def test_the_staff_assessment_page(login, cast, size):
    # The session; the user; their unit (membership with unit); their permissions (own,
    # groups'); the assessment; the criteria; the scores; the evidence.
    queries = count(login(cast["staff_a"]), f"/assessments/{YEAR}/so-a/")
    assert len(queries) == 9, "\n".join(q[:150] for q in queries)


def test_the_appraisal_page(login, cast, size):
    assessment = Assessment.objects.get(unit__code="so-a", criteria_set__round__year=YEAR)
    workflow.assessment_save_self(
        assessment_id=assessment.pk,
        user=cast["staff_a"],
        leaves=[workflow.SelfInput(leaf("1.1.1").pk, D("4"), "Kế hoạch")],
    )
    workflow.round_advance(
        round_id=Round.objects.get(year=YEAR).pk,
        user=cast["secretariat"],
        to_stage=Stage.APPRAISAL_1,
    )
    # The session; the user; the assessment; their permissions (own, groups'); their assigned
    # fields; the criteria; the scores (every leaf has one after the first visit); the evidence;
    # the previous and next units the user may open (one windowed query, whatever the units).
    queries = count(
        login(cast["appraiser_1"]), f"/admin/scoring/assessment/{assessment.pk}/appraise/"
    )
    assert len(queries) == 10, "\n".join(q[:150] for q in queries)


def test_the_progress_board(login, cast, size):
    round_obj = Round.objects.get(year=YEAR)
    # The session; the user; the round; the secretariat's permissions (own, groups'); the
    # round's sets; per set: its criteria, its scores (values), its assessments with units.
    queries = count(login(cast["secretariat"]), f"/admin/scoring/round/{round_obj.pk}/progress/")
    assert len(queries) == 9, "\n".join(q[:150] for q in queries)


def test_the_start_page_of_a_unit(login, cast, size):
    queries = count(login(cast["staff_a"]), "/work/")
    # The session; the user; their unit; their permissions (own, groups'); their assessments;
    # the gaps: the scores, their evidence, the required leaves.
    assert len(queries) == 8, "\n".join(q[:150] for q in queries)


def test_the_start_page_of_an_appraiser(login, cast, size):
    Round.objects.filter(year=YEAR).update(stage=Stage.APPRAISAL_1)
    for assessment in Assessment.objects.all():
        workflow.ensure_scores(assessment)
    queries = count(login(cast["appraiser_1"]), "/work/")
    # The session; the user; their unit (none); their permissions (own, groups'); the rounds
    # in appraisal; their assignments; per set: the sets, the criteria, the waiting scores.
    assert len(queries) == 10, "\n".join(q[:150] for q in queries)


def test_the_start_page_of_the_secretariat(login, cast, size):
    queries = count(login(cast["secretariat"]), "/work/")
    # The session; the user; their unit (none); their permissions (own, groups'); the
    # publications; the rounds, their sets; for each round not final, its blockers (here one
    # round in self-assessment: its assessments not submitted).
    assert len(queries) == 10, "\n".join(q[:150] for q in queries)


def test_the_submission_page(login, cast, size):
    queries = count(login(cast["head_a"]), f"/assessments/{YEAR}/so-a/submit/")
    assert len(queries) == 13, "\n".join(q[:150] for q in queries)


def test_one_row_saved_by_the_script(login, cast, size):
    client = login(cast["staff_a"])
    pk = leaf("1.1.1").pk
    url = f"/assessments/{YEAR}/so-a/leaves/{pk}/"
    client.post(url, {f"score_{pk}": "1"}, HTTP_ACCEPT="application/json")
    with CaptureQueriesContext(connection) as queries:
        response = client.post(url, {f"score_{pk}": "2"}, HTTP_ACCEPT="application/json")
    assert response.json()["saved"] is True
    sql = [q["sql"] for q in queries.captured_queries]
    assert len(sql) == ROW_SAVE, "\n".join(q[:150] for q in sql)


# One row saved: the session, the user, the unit, the permissions; the assessment, the page's
# criteria and scores; the write (savepoints, the round and the assessment locked, the missing
# score rows, the scores locked, the score and its history); the answer (the scores, the
# evidence). The same with 30 more leaves and 20 more units.
ROW_SAVE = 22
