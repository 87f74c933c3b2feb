"""The cast of the workflow (docs/architecture.md, "Tests"): staff of unit A, staff of unit B, the head of A, an
appraiser of field 1, an appraiser of field 3, the secretariat, an anonymous visitor; and a 2024
round of the small province open for self-assessment."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from scoring import workflow
from scoring.models import (
    AppraiserAssignment,
    Assessment,
    Criterion,
    Membership,
    Round,
    Stage,
    Unit,
)
from scoring.roles import APPRAISER, SECRETARIAT, UNIT_HEAD, UNIT_STAFF, ensure_roles
from tests.factories import CRITERIA, UNITS

YEAR = 2024


def make_user(username, role=None, unit=None, **flags):
    user = User.objects.create_user(
        username, email=f"{username}@example.org", password="pw", **flags
    )
    if role:
        user.groups.add(Group.objects.get(name=role))
    if unit:
        Membership.objects.create(user=user, unit=Unit.objects.get(code=unit))
    return User.objects.get(pk=user.pk)  # fresh permission cache


@pytest.fixture
def cast(db, run, write):
    ensure_roles()  # a transactional test before may have emptied the groups of the migrations
    assert run("import_units", write("units.csv", UNITS)).status == 0
    outcome = run("import_criteria", write("c.csv", CRITERIA), year=YEAR, group="departments")
    assert outcome.status == 0
    people = {
        "staff_a": make_user("staff-a", UNIT_STAFF, "so-a"),
        "staff_b": make_user("staff-b", UNIT_STAFF, "so-b"),
        "head_a": make_user("head-a", UNIT_HEAD, "so-a"),
        "appraiser_1": make_user("appraiser-1", APPRAISER, is_staff=True),
        "appraiser_3": make_user("appraiser-3", APPRAISER, is_staff=True),
        "secretariat": make_user("secretariat", SECRETARIAT, is_staff=True),
    }
    for name, code in (("appraiser_1", "1"), ("appraiser_3", "3")):
        AppraiserAssignment.objects.create(
            user=people[name],
            field=Criterion.objects.get(criteria_set__round__year=YEAR, code=code),
        )
    round_obj = Round.objects.get(year=YEAR)
    now = timezone.now()
    round_obj.self_assessment_deadline = now + timedelta(days=10)
    round_obj.appraisal_1_deadline = now + timedelta(days=20)
    round_obj.explanation_deadline = now + timedelta(days=30)
    round_obj.appraisal_2_deadline = now + timedelta(days=40)
    round_obj.save()
    workflow.round_advance(
        round_id=round_obj.pk, user=people["secretariat"], to_stage=Stage.SELF_ASSESSMENT
    )
    return people


@pytest.fixture
def assessment_a(cast):
    return Assessment.objects.get(unit__code="so-a", criteria_set__round__year=YEAR)


def leaf(code):
    return Criterion.objects.get(criteria_set__round__year=YEAR, code=code)


def set_stage(stage):
    Round.objects.filter(year=YEAR).update(stage=stage)
