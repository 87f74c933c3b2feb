"""Races on PostgreSQL, each told apart: a lost update (two appraisers saving the same version)
and a write racing a stage change, in both orders. Each thread's position is synchronised with
events and PostgreSQL's own view of who waits for a lock, never with a sleep."""

import threading
import time
from decimal import Decimal as D

import pytest
from django.contrib.auth.models import User
from django.db import connection, connections

from scoring import workflow
from scoring.errors import Conflict, NotAllowed
from scoring.models import Assessment, Round, Score, Stage, Transition
from tests.cast import YEAR, leaf

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL"),
]

WAIT = 30  # seconds before a test gives up on a thread that never arrives (a failure)


class Paused:
    """Wrap ``workflow.<name>`` so that the first call, made inside a transaction that holds the
    round's lock, stops there until ``release()``; ``entered`` is set when it stops."""

    def __init__(self, monkeypatch, name: str):
        self.entered, self.go = threading.Event(), threading.Event()
        original = getattr(workflow, name)
        first = threading.Lock()

        def paused(*args, **kwargs):
            result = original(*args, **kwargs)
            if first.acquire(blocking=False):
                self.entered.set()
                assert self.go.wait(WAIT), "never released"
            return result

        monkeypatch.setattr(workflow, name, paused)

    def release(self):
        self.go.set()


def in_thread(action):
    """Run ``action`` in a thread with its own connection; returns (thread, outcome list)."""
    outcome = []

    def run():
        try:
            outcome.append(("ok", action()))
        except Exception as error:  # the outcome is the assertion's business
            outcome.append(("error", error))
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def wait_for_a_lock_waiter():
    """Until PostgreSQL shows a session of this test waiting for a row lock."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return
    raise AssertionError("no session ever waited for the lock")


@pytest.fixture
def round_one(cast):
    """Unit A self-assessed 1.1.2 = 6; the round is in round 1 of the appraisal."""
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
    return assessment, round_obj, score


def appraise(assessment, score, user, value):
    return lambda: workflow.score_appraise(
        assessment_id=assessment.pk,
        user=user,
        stage=Stage.APPRAISAL_1,
        items=[workflow.AppraisalInput(score.pk, score.version, value, "Thiếu báo cáo")],
    )


def round_one_history(score):
    return [h for h in score.history.all() if h.history_change_reason == Stage.APPRAISAL_1]


def test_two_appraisers_saving_the_same_version_lose_no_update(cast, round_one, monkeypatch):
    """The first holds its transaction open after its checks; the second must wait, then be
    told of the conflict: the first value stays, nothing is overwritten unseen."""
    assessment, _round, score = round_one
    chair = User.objects.create_superuser("chair", "c@example.org", "x")
    pause = Paused(monkeypatch, "check_appraise")
    first, first_outcome = in_thread(appraise(assessment, score, cast["appraiser_1"], D("5")))
    assert pause.entered.wait(WAIT)
    second, second_outcome = in_thread(appraise(assessment, score, chair, D("4")))
    wait_for_a_lock_waiter()
    pause.release()
    first.join(WAIT)
    second.join(WAIT)
    assert first_outcome[0][0] == "ok", first_outcome
    assert second_outcome[0][0] == "error" and isinstance(second_outcome[0][1], Conflict)
    score.refresh_from_db()
    assert score.appraisal_1 == D("5.00")
    assert [h.appraisal_1 for h in round_one_history(score)] == [D("5.00")]


def test_an_appraisal_waiting_for_a_stage_change_is_refused_after_it(cast, round_one, monkeypatch):
    """The secretariat closes round 1 and holds the round's lock; the appraisal waits, then is
    refused because round 1 has closed. Nothing is written."""
    assessment, round_obj, score = round_one
    pause = Paused(monkeypatch, "next_stage")
    closing, closing_outcome = in_thread(
        lambda: workflow.round_advance(
            round_id=round_obj.pk, user=cast["secretariat"], to_stage=Stage.EXPLANATION
        )
    )
    assert pause.entered.wait(WAIT)
    late, late_outcome = in_thread(appraise(assessment, score, cast["appraiser_1"], D("5")))
    wait_for_a_lock_waiter()
    pause.release()
    closing.join(WAIT)
    late.join(WAIT)
    assert closing_outcome[0][0] == "ok", closing_outcome
    assert late_outcome[0][0] == "error" and isinstance(late_outcome[0][1], NotAllowed)
    score.refresh_from_db()
    assert score.appraisal_1 is None and round_one_history(score) == []
    assert Round.objects.get(pk=round_obj.pk).stage == Stage.EXPLANATION


def test_a_stage_change_waits_for_an_appraisal_in_progress(cast, round_one, monkeypatch):
    """The appraisal holds the round's lock; closing round 1 waits for it, so the appraisal is
    saved before the stage closes, as the log says."""
    assessment, round_obj, score = round_one
    pause = Paused(monkeypatch, "check_appraise")
    saving, saving_outcome = in_thread(appraise(assessment, score, cast["appraiser_1"], D("5")))
    assert pause.entered.wait(WAIT)
    closing, closing_outcome = in_thread(
        lambda: workflow.round_advance(
            round_id=round_obj.pk, user=cast["secretariat"], to_stage=Stage.EXPLANATION
        )
    )
    wait_for_a_lock_waiter()
    pause.release()
    saving.join(WAIT)
    closing.join(WAIT)
    assert saving_outcome[0][0] == "ok" and closing_outcome[0][0] == "ok"
    score.refresh_from_db()
    transition = Transition.objects.get(round=round_obj, to_state=Stage.EXPLANATION)
    (saved,) = round_one_history(score)
    assert saved.appraisal_1 == D("5.00") and saved.history_date <= transition.at
