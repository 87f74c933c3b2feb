"""Each person's start page after logging in (``/work/``): their own work, and the next step.

- Unit staff and heads: their unit's assessment of each open round, how complete it is, what
  is asked of them now, and the next action (continue, answer the flagged leaves, submit).
- Council members: in each round in an appraisal stage, the units and fields waiting for them
  (round 1: the leaves of their fields not yet appraised; round 2: only the flagged leaves not
  yet re-appraised), with counts and a link to the first waiting leaf.
- The secretariat: each round not yet final, its stage and deadline, what blocks closing the
  stage (the stage wizard's own list), and the next actions.

Queries are flat in units and leaves: one per round and set for the tree, one for the scores.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from rankings.models import Publication

from .calculation import MUST_APPRAISE_KINDS
from .models import AssessmentStatus, Round, Score, Stage
from .permissions import (
    APPRAISAL_STAGES,
    is_secretariat,
    member_assessments,
    member_unit,
    round_reach,
)
from .stage_views import stage_blockers
from .workflow import explanation_gaps, self_assessment_gaps


def admin_login(request):
    """The admin's login page sends to the one login page, with where to go after it."""
    query = request.GET.urlencode()
    return HttpResponseRedirect(reverse("login") + (f"?{query}" if query else ""))


@login_required
@require_safe
def start_view(request):
    user = request.user
    context = {"unit": member_unit(user)}
    if context["unit"] is not None:
        context["unit_work"] = _unit_work(user)
    if is_secretariat(user):
        context["rounds"] = _secretariat_work()
    elif user.is_staff and user.has_perm("scoring.appraise"):
        context["appraisals"] = _appraiser_work(user)
    return render(request, "scoring/start.html", context)


def _unit_work(user) -> list[dict]:
    """The unit's assessments of rounds that are not final, latest first, with what to do."""
    work = []
    assessments = (
        member_assessments(user)
        .select_related("criteria_set__round", "unit")
        .exclude(criteria_set__round__stage__in=[Stage.SETUP, Stage.FINAL])
        .order_by("-criteria_set__round__year")
    )
    for assessment in assessments:
        round_obj = assessment.criteria_set.round
        item = {"assessment": assessment, "round": round_obj}
        url = reverse("scoring:assessment", args=[round_obj.year, assessment.unit.code])
        item["url"] = url
        if round_obj.stage == Stage.SELF_ASSESSMENT and assessment.status == AssessmentStatus.DRAFT:
            gaps = self_assessment_gaps(assessment)
            item["todo"] = [
                {"code": code, "reason": reason, "url": f"{url}#leaf-{code}"}
                for code, reason in gaps.items()
            ]
            item["action"] = "self"
        elif (
            round_obj.stage == Stage.EXPLANATION
            and assessment.status == AssessmentStatus.SUBMITTED
            and assessment.scores.filter(explanation_requested=True).exists()
        ):
            gaps = explanation_gaps(assessment)
            item["todo"] = [
                {"code": code, "reason": reason, "url": f"{url}#leaf-{code}"}
                for code, reason in gaps.items()
            ]
            item["action"] = "explain"
        else:
            item["action"] = "wait"
        work.append(item)
    return work


def _appraiser_work(user) -> list[dict]:
    """Per round in an appraisal stage: the (unit, field) cells with leaves waiting for the
    user, each with its count and a link to the first waiting leaf."""
    work = []
    for round_obj in Round.objects.filter(stage__in=APPRAISAL_STAGES).order_by("-year"):
        reach = round_reach(user, round_obj)
        if not reach:
            continue
        stage = round_obj.stage
        value_field = "appraisal_1" if stage == Stage.APPRAISAL_1 else "appraisal_2"
        cells: dict[tuple[int, int], dict] = {}
        units: dict[int, dict] = {}
        for criteria_set in round_obj.criteria_sets.order_by("group__order"):
            tree = criteria_set.criteria.tree()
            field_of = {c.pk: c.field for c in tree if c.is_leaf}
            scores = (
                Score.objects.filter(
                    assessment__criteria_set=criteria_set,
                    criterion__kind__in=MUST_APPRAISE_KINDS,
                    not_applicable=False,
                    **{f"{value_field}__isnull": True},
                )
                .select_related("assessment__unit", "criterion")
                .order_by("assessment__unit__name", "criterion__position")
            )
            if stage == Stage.APPRAISAL_2:
                scores = scores.filter(explanation_requested=True)
            for score in scores:  # ``reach`` keeps the user's fields and units
                field = field_of[score.criterion_id]
                if not reach.covers(field.pk, score.assessment.unit_id):
                    continue
                key = (score.assessment_id, field.pk)
                if key not in cells:
                    cells[key] = {
                        "field": field,
                        "count": 0,
                        "url": reverse(
                            "admin:scoring_assessment_appraise", args=[score.assessment_id]
                        )
                        + f"#leaf-{score.criterion.code}",
                    }
                    unit = units.setdefault(
                        score.assessment_id,
                        {"unit": score.assessment.unit, "cells": [], "count": 0},
                    )
                    unit["cells"].append(cells[key])
                cells[key]["count"] += 1
                units[score.assessment_id]["count"] += 1
        work.append(
            {
                "round": round_obj,
                "units": sorted(units.values(), key=lambda u: u["unit"].name),
                "total": sum(u["count"] for u in units.values()),
            }
        )
    return work


def _secretariat_work() -> list[dict]:
    """Every round not final: stage, deadline, what blocks closing the stage."""
    work = []
    published = set(Publication.objects.values_list("year", "group_id").distinct())
    for round_obj in Round.objects.prefetch_related("criteria_sets__group").order_by("-year"):
        unpublished = [
            s
            for s in round_obj.criteria_sets.all()
            if (round_obj.year, s.group_id) not in published
        ]
        if round_obj.stage == Stage.FINAL and not unpublished:
            continue
        work.append(
            {
                "round": round_obj,
                "blockers": stage_blockers(round_obj),
                "unpublished": unpublished,
            }
        )
    return work
