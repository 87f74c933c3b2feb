"""On PostgreSQL: two appraisers and a stage change racing on the same assessment. Nothing is
lost, and the final state agrees with the transition log."""

import threading
from decimal import Decimal as D

import pytest
from django.db import connection, connections

from scoring import workflow
from scoring.errors import Conflict, NotAllowed
from scoring.models import Assessment, Round, Score, Stage, Transition
from tests.cast import YEAR, leaf

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]


def race(*actions):
    """Run the actions at the same moment, each in its own thread and connection."""
    barrier = threading.Barrier(len(actions))
    outcomes = [None] * len(actions)

    def runner(position, action):
        try:
            barrier.wait()
            outcomes[position] = ("ok", action())
        except Exception as error:  # the outcome is the assertion's business
            outcomes[position] = ("error", error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=runner, args=(i, a)) for i, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.fixture
def slow_checks(monkeypatch):
    """Widen the window between an appraisal's checks and its write, where a stage change that
    was not kept out by the round's lock would slip in."""
    import time

    checked = workflow.check_appraise

    def check_then_wait(*args, **kwargs):
        checked(*args, **kwargs)
        time.sleep(0.3)

    monkeypatch.setattr(workflow, "check_appraise", check_then_wait)


@pytest.mark.parametrize("attempt", range(3))
def test_two_appraisers_and_a_stage_change_racing(cast, slow_checks, attempt):
    assessment = Assessment.objects.get(unit__code="so-a", criteria_set__round__year=YEAR)
    workflow.assessment_save_self(
        assessment_id=assessment.pk,
        user=cast["staff_a"],
        leaves=[workflow.SelfInput(leaf("1.1.2").pk, D("6"), "Báo cáo")],
    )
    round_obj = Round.objects.get(year=YEAR)
    workflow.round_advance(
        round_id=round_obj.pk, user=cast["secretariat"], to_stage=Stage.APPRAISAL_1
    )
    score = Score.objects.get(assessment=assessment, criterion=leaf("1.1.2"))
    from django.contrib.auth.models import User

    chair = User.objects.create_superuser(f"chair{attempt}", "c@example.org", "x")

    def appraise(user, value):
        return lambda: workflow.score_appraise(
            assessment_id=assessment.pk,
            user=user,
            stage=Stage.APPRAISAL_1,
            items=[workflow.AppraisalInput(score.pk, score.version, value, "Thiếu báo cáo")],
        )

    outcomes = race(
        appraise(cast["appraiser_1"], D("5")),
        appraise(chair, D("4")),
        lambda: workflow.round_advance(
            round_id=round_obj.pk, user=cast["secretariat"], to_stage=Stage.EXPLANATION
        ),
    )
    first, second, stage_change = outcomes
    assert stage_change[0] == "ok", stage_change
    saved = [o for o in (first, second) if o[0] == "ok"]
    refused = [o for o in (first, second) if o[0] == "error"]
    # At most one appraisal of the same version wins; a loser is told why.
    assert len(saved) <= 1
    for _, error in refused:
        assert isinstance(error, (Conflict, NotAllowed)), error

    score.refresh_from_db()
    transition = Transition.objects.get(round=round_obj, to_state=Stage.EXPLANATION)
    round_one = [h for h in score.history.all() if h.history_change_reason == Stage.APPRAISAL_1]
    # Nothing lost: the winner's value is the score, and it is in the history.
    if saved:
        assert score.appraisal_1 in (D("5.00"), D("4.00"))
        assert [h.appraisal_1 for h in round_one] == [score.appraisal_1]
    else:
        assert score.appraisal_1 is None and round_one == []
    # Consistent with the log: every round-1 appraisal happened before round 1 closed.
    assert all(h.history_date <= transition.at for h in round_one)
    assert Round.objects.get(pk=round_obj.pk).stage == Stage.EXPLANATION
