"""The council's pages inside the admin: appraisal, progress board, live preview.

Reading is allowed to the secretariat and to council members of the round; every write goes
through ``workflow``, which checks the assigned field, the stage and the deadline again.
"""

from __future__ import annotations

from collections import defaultdict

from django import forms
from django.contrib import messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from . import calculation, workflow
from .errors import Conflict, Invalid, Refused
from .forms import FigureField, PointsField
from .models import (
    APPRAISAL_COLUMNS,
    Assessment,
    CriteriaSet,
    Evidence,
    Kind,
    Round,
    Score,
    Stage,
)
from .permissions import (
    APPRAISAL_STAGES,
    appraisable,
    assessment_for_council,
    council_scope,
    criteria_set_for_council,
    round_for_council,
    visible_units,
)
from .results import group_results
from .validators import validate_multi_line


class AppraisalForm(forms.Form):
    """Per editable leaf: the appraised score, its reason, the flag, not applicable, the version
    the appraiser saw (optimistic locking: a newer version is a conflict, never overwritten)."""

    def __init__(self, *args, scores, stage, **kwargs):
        super().__init__(*args, **kwargs)
        self.scores = scores
        self.stage = stage
        # Outside the appraisal stages there is no score to edit (``appraisable``).
        value_field, figure_field = APPRAISAL_COLUMNS.get(stage, ("", ""))
        for score in scores:
            pk = score.pk
            if score.criterion.kind == Kind.TARGET:
                # The council verifies or corrects the figure; the points follow from the rule.
                # Only this round's own figure: the reported one is shown beside it, and
                # "accept this field" takes it; saving the page never verifies it unseen.
                self.fields[f"figure_{pk}"] = FigureField(label=_("figure"))
                self.initial[f"figure_{pk}"] = getattr(score, figure_field)
            else:
                self.fields[f"value_{pk}"] = PointsField(
                    maximum=score.criterion.max_points, label=_("score")
                )
            self.fields[f"reason_{pk}"] = forms.CharField(
                required=False,
                max_length=5000,
                validators=[validate_multi_line],
                label=_("reason"),
                widget=forms.Textarea(attrs={"rows": 2}),
            )
            self.fields[f"na_{pk}"] = forms.BooleanField(required=False, label=_("not applicable"))
            self.fields[f"note_{pk}"] = forms.CharField(
                required=False,
                max_length=5000,
                validators=[validate_multi_line],
                label=_("public note"),
                widget=forms.Textarea(attrs={"rows": 2}),
            )
            self.fields[f"version_{pk}"] = forms.IntegerField(widget=forms.HiddenInput)
            self.initial.update(
                {
                    f"value_{pk}": getattr(score, value_field),
                    f"reason_{pk}": getattr(score, f"{value_field}_reason"),
                    f"na_{pk}": score.not_applicable,
                    f"note_{pk}": score.note,
                    f"version_{pk}": score.version,
                }
            )
            if stage == Stage.APPRAISAL_1:
                self.fields[f"flag_{pk}"] = forms.BooleanField(
                    required=False, label=_("ask for an explanation")
                )
                self.initial[f"flag_{pk}"] = score.explanation_requested

    def inputs(self) -> list[workflow.AppraisalInput]:
        data = self.cleaned_data
        return [
            workflow.AppraisalInput(
                score_id=score.pk,
                version=data[f"version_{score.pk}"],
                value=data.get(f"value_{score.pk}"),
                figure=data.get(f"figure_{score.pk}"),
                reason=data[f"reason_{score.pk}"],
                flag=data.get(f"flag_{score.pk}", False),
                not_applicable=data[f"na_{score.pk}"],
                note=data[f"note_{score.pk}"] if f"note_{score.pk}" in self.data else None,
            )
            for score in self.scores
        ]


def appraise_view(model_admin, request, assessment_id: int):
    """Every leaf of an assessment side by side, the user's leaves editable in the appraisal
    stages. Queries (GET in round 1): the assessment; the existing scores and the missing
    leaves (one score row per leaf); the criteria; the user's assigned fields; the scores; the
    evidence; plus the session, the user and their permissions. Flat in leaves and units."""
    assessment = assessment_for_council(request.user, assessment_id)
    round_obj = assessment.criteria_set.round
    stage = round_obj.stage if round_obj.stage in APPRAISAL_STAGES else None
    criteria = assessment.criteria_set.criteria.tree()
    scores = assessment.scores_on(criteria)
    if stage and workflow.ensure_scores(assessment, criteria=criteria, scores=scores):
        scores = assessment.scores_on(criteria)
    in_order = sorted(scores.values(), key=lambda s: s.criterion.position)
    editable_scores = appraisable(request.user, assessment, in_order)
    assigned = {score.criterion.field.pk for score in editable_scores}

    if request.method == "POST" and "accept" in request.POST:
        try:
            field_id = int(request.POST["accept"])
            count = workflow.field_accept(
                assessment_id=assessment.pk, field_id=field_id, user=request.user
            )
        except (ValueError, Refused) as refusal:
            messages.error(request, str(refusal) or _("Invalid field."))
        else:
            messages.success(
                request, _("%(count)d self scores accepted as the appraisal.") % {"count": count}
            )
        return redirect(request.path)

    form = AppraisalForm(
        request.POST if request.method == "POST" else None, scores=editable_scores, stage=stage
    )
    if request.method == "POST":
        if not editable_scores:
            messages.error(request, _("You cannot appraise this assessment now."))
            return redirect(request.path)
        if form.is_valid():
            try:
                changed = workflow.score_appraise(
                    assessment_id=assessment.pk,
                    user=request.user,
                    stage=stage,
                    items=form.inputs(),
                )
            except Conflict as conflict:
                messages.error(request, str(conflict))
                # Keep what the appraiser typed; show the newer values beside it, and accept
                # the next save as a deliberate overwrite of what they have now seen.
                data = request.POST.copy()
                fresh = {s.pk: s for s in assessment.scores.all()}
                for score in editable_scores:
                    if score.criterion.code in conflict.codes:
                        data[f"version_{score.pk}"] = fresh[score.pk].version
                        score.conflict_with = fresh[score.pk]
                form = AppraisalForm(data, scores=editable_scores, stage=stage)
                form.is_valid()
            except Invalid as invalid:
                for code, message in invalid.errors.items():
                    messages.error(request, f"{code}: {message}")
            except Refused as refusal:
                messages.error(request, str(refusal))
            else:
                messages.success(
                    request, _("Saved (%(count)d leaves changed).") % {"count": changed}
                )
                return redirect(request.path)

    evidence = defaultdict(list)
    for item in Evidence.objects.filter(score__assessment=assessment).order_by("uploaded_at"):
        evidence[item.score_id].append(item)
    editable_ids = {s.pk for s in editable_scores}
    rows = []
    for criterion in criteria:
        score = scores.get(criterion.pk)
        row = {"criterion": criterion, "score": score, "evidence": []}
        if score is not None:
            row["evidence"] = evidence.get(score.pk, [])
            if score.pk in editable_ids:
                row["fields"] = {
                    name: form[f"{name}_{score.pk}"]
                    for name in ("value", "figure", "reason", "na", "version", "flag", "note")
                    if f"{name}_{score.pk}" in form.fields
                }
                row["conflict_with"] = getattr(score, "conflict_with", None)
        row["can_accept"] = (
            criterion.parent_id is None and stage == Stage.APPRAISAL_1 and criterion.pk in assigned
        )
        rows.append(row)

    context = {
        **model_admin.admin_site.each_context(request),
        "opts": Assessment._meta,
        "title": _("Appraisal: %(unit)s, %(year)s")
        % {"unit": assessment.unit, "year": round_obj.year},
        "assessment": assessment,
        "round": round_obj,
        "stage": stage,
        "rows": rows,
        "form": form,
        "has_editable": bool(editable_scores),
    }
    return TemplateResponse(request, "admin/scoring/appraise.html", context)


def progress_view(model_admin, request, round_id: int):
    """Units × fields: what is scored, submitted, appraised, flagged and explained. Queries:
    the round; its sets; per set its criteria, its scores and its assessments with their units
    (plus the session, the user and their permissions): flat in units and leaves."""
    round_obj = round_for_council(request.user, round_id)
    boards = []
    for criteria_set in round_obj.criteria_sets.select_related("group").order_by("group__order"):
        criteria = criteria_set.criteria.tree()
        by_id = {c.pk: c for c in criteria}
        fields = [c for c in criteria if c.parent_id is None]
        cells = defaultdict(lambda: defaultdict(int))
        # What the unit enters (a self score, a target leaf's figure) and what needs a final
        # score from the council or an import (scored kinds not derived from SIPAS).
        entered = {c.pk for c in criteria if c.is_leaf and c.kind in calculation.REQUIRED_KINDS}
        needs_final = {
            c.pk
            for c in criteria
            if c.is_leaf and c.kind in calculation.SCORED_KINDS and not c.sipas_element
        }
        for row in Score.objects.filter(assessment__criteria_set=criteria_set).values_list(
            "assessment_id",
            "criterion_id",
            "self_score",
            "self_figure",
            "appraisal_1",
            "appraisal_2",
            "explanation_requested",
            "explanation",
            "not_applicable",
        ):
            assessment_id, criterion_id, self_score, figure, a1, a2, flagged, explanation, na = row
            criterion = by_id[criterion_id]
            cell = cells[(assessment_id, criterion.field.pk)]
            if criterion_id in entered and (self_score is not None or figure is not None):
                cell["scored"] += 1
            if criterion_id in needs_final and (calculation.final_score(a1, a2) is not None or na):
                cell["appraised"] += 1
            if flagged:
                cell["flagged"] += 1
                if explanation:
                    cell["explained"] += 1
        leaf_counts = defaultdict(int)
        self_counts = defaultdict(int)
        for criterion in criteria:
            if criterion.pk in needs_final:
                leaf_counts[criterion.field.pk] += 1
            if criterion.pk in entered:
                self_counts[criterion.field.pk] += 1
        assessments = council_scope(
            request.user, criteria_set.assessments.select_related("unit"), "criteria_set", "unit"
        )
        units = [
            {
                "assessment": assessment,
                "cells": [
                    {
                        **cells[(assessment.pk, field.pk)],
                        "total": leaf_counts[field.pk],
                        "self_total": self_counts[field.pk],
                    }
                    for field in fields
                ],
            }
            for assessment in assessments.order_by("unit__name")
        ]
        boards.append({"criteria_set": criteria_set, "fields": fields, "units": units})
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": Round._meta,
        "title": _("Progress of the %(year)s round") % {"year": round_obj.year},
        "round": round_obj,
        "boards": boards,
    }
    return TemplateResponse(request, "admin/scoring/progress.html", context)


def preview_view(model_admin, request, set_id: int):
    """The group's ranking from the current scores, by the publishing calculation. Not public."""
    criteria_set = criteria_set_for_council(request.user, set_id)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": CriteriaSet._meta,
        "title": _("Preview (not published): %(set)s") % {"set": criteria_set},
        "results": group_results(criteria_set, units=visible_units(request.user, criteria_set)),
    }
    return TemplateResponse(request, "admin/scoring/preview.html", context)
