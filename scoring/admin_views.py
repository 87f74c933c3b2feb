"""The council's pages inside the admin: appraisal, progress board, live preview.

Reading is allowed to the secretariat and to council members of the round; every write goes
through ``workflow``, which checks the assigned field, the stage and the deadline again.
"""

from __future__ import annotations

from collections import defaultdict

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

from . import workflow
from .forms import PointsField
from .models import Assessment, CriteriaSet, Evidence, Kind, Round, Stage
from .permissions import NotAllowed, assigned_field_ids, can_view_assessment, is_secretariat
from .results import field_codes, group_results
from .validators import validate_multi_line
from .views import deadline_info

APPRAISAL_STAGES = (Stage.APPRAISAL_1, Stage.APPRAISAL_2)


class AppraisalForm(forms.Form):
    """Per editable leaf: the appraised score, its reason, the flag, not applicable, the version
    the appraiser saw (optimistic locking: a newer version is a conflict, never overwritten)."""

    def __init__(self, *args, scores, stage, **kwargs):
        super().__init__(*args, **kwargs)
        self.scores = scores
        self.stage = stage
        value_field = "appraisal_1" if stage == Stage.APPRAISAL_1 else "appraisal_2"
        for score in scores:
            pk = score.pk
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
                value=data[f"value_{score.pk}"],
                reason=data[f"reason_{score.pk}"],
                flag=data.get(f"flag_{score.pk}", False),
                not_applicable=data[f"na_{score.pk}"],
                note=data[f"note_{score.pk}"] if f"note_{score.pk}" in self.data else None,
            )
            for score in self.scores
        ]


def appraise_view(model_admin, request, assessment_id: int):
    assessment = get_object_or_404(
        Assessment.objects.select_related("unit", "criteria_set__round", "criteria_set__group"),
        pk=assessment_id,
    )
    if not can_view_assessment(request.user, assessment):
        raise Http404
    round_obj = assessment.criteria_set.round
    stage = round_obj.stage if round_obj.stage in APPRAISAL_STAGES else None
    if stage:
        workflow.ensure_scores(assessment)
    criteria = list(assessment.criteria_set.criteria.order_by("position"))
    tops = field_codes(criteria)
    assigned = assigned_field_ids(request.user, assessment.criteria_set)
    assigned_codes = {c.code for c in criteria if c.pk in assigned}
    scores = {
        s.criterion_id: s for s in assessment.scores.select_related("criterion").order_by("pk")
    }

    def editable(score) -> bool:
        if not stage or tops[score.criterion_id] not in assigned_codes:
            return False
        if score.criterion.kind not in workflow.APPRAISED_KINDS:
            return False
        return stage == Stage.APPRAISAL_1 or score.explanation_requested

    editable_scores = [s for s in scores.values() if editable(s)]
    editable_scores.sort(key=lambda s: s.criterion.position)

    if request.method == "POST" and "accept" in request.POST:
        try:
            field_id = int(request.POST["accept"])
            count = workflow.field_accept_self(
                assessment_id=assessment.pk, field_id=field_id, user=request.user
            )
        except (ValueError, NotAllowed) as refusal:
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
                changed = workflow.scores_appraise(
                    assessment_id=assessment.pk,
                    user=request.user,
                    stage=stage,
                    items=form.inputs(),
                )
            except workflow.Conflict as conflict:
                messages.error(request, str(conflict))
                # Keep what the appraiser typed; show the newer values beside it, and accept
                # the next save as a deliberate overwrite of what they have now seen.
                data = request.POST.copy()
                fresh = {s.pk: s for s in assessment.scores.select_related("criterion")}
                for score in editable_scores:
                    if score.criterion.code in conflict.codes:
                        data[f"version_{score.pk}"] = fresh[score.pk].version
                        score.conflict_with = fresh[score.pk]
                form = AppraisalForm(data, scores=editable_scores, stage=stage)
                form.is_valid()
            except workflow.Invalid as invalid:
                for code, message in invalid.errors.items():
                    messages.error(request, f"{code}: {message}")
            except NotAllowed as refusal:
                messages.error(request, str(refusal))
            else:
                messages.success(
                    request, _("Saved (%(count)d leaves changed).") % {"count": changed}
                )
                return redirect(request.path)

    evidence = defaultdict(list)
    for item in Evidence.objects.filter(score__assessment=assessment).order_by("uploaded_at"):
        evidence[item.score_id].append(item)
    by_id = {c.pk: c for c in criteria}
    editable_ids = {s.pk for s in editable_scores}
    rows = []
    for criterion in criteria:
        depth, parent = 0, criterion.parent_id
        while parent:
            depth, parent = depth + 1, by_id[parent].parent_id
        score = scores.get(criterion.pk)
        row = {"criterion": criterion, "depth": depth, "score": score, "evidence": []}
        if score is not None:
            row["evidence"] = evidence.get(score.pk, [])
            if score.pk in editable_ids:
                row["fields"] = {
                    name: form[f"{name}_{score.pk}"]
                    for name in ("value", "reason", "na", "version", "flag", "note")
                    if f"{name}_{score.pk}" in form.fields
                }
                row["conflict_with"] = getattr(
                    next((s for s in editable_scores if s.pk == score.pk), None),
                    "conflict_with",
                    None,
                )
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
        "deadline": deadline_info(round_obj),
        "rows": rows,
        "form": form,
        "has_editable": bool(editable_scores),
    }
    return TemplateResponse(request, "admin/scoring/appraise.html", context)


def _can_follow(user, round_obj: Round) -> bool:
    if is_secretariat(user):
        return True
    return any(assigned_field_ids(user, s) for s in round_obj.criteria_sets.all())


def progress_view(model_admin, request, round_id: int):
    """Units × fields: what is scored, submitted, appraised, flagged and explained."""
    round_obj = get_object_or_404(Round, pk=round_id)
    if not _can_follow(request.user, round_obj):
        raise PermissionDenied
    boards = []
    for crit_set in round_obj.criteria_sets.select_related("group").order_by("group__order"):
        criteria = list(crit_set.criteria.all())
        tops = field_codes(criteria)
        kinds = {c.pk: c.kind for c in criteria if c.is_leaf}
        fields = [c for c in sorted(criteria, key=lambda c: c.position) if c.parent_id is None]
        cells = defaultdict(lambda: defaultdict(int))
        for row in crit_set.assessments.values_list(
            "pk",
            "scores__criterion_id",
            "scores__self_score",
            "scores__appraisal_1",
            "scores__appraisal_2",
            "scores__explanation_requested",
            "scores__explanation",
            "scores__not_applicable",
        ):
            assessment_id, criterion_id, self_score, a1, a2, flagged, explanation, na = row
            if criterion_id is None:
                continue
            cell = cells[(assessment_id, tops[criterion_id])]
            cell["leaves"] += 1
            if kinds.get(criterion_id) == Kind.SELF and (self_score is not None):
                cell["scored"] += 1
            if (a2 if a2 is not None else a1) is not None or na:
                cell["appraised"] += 1
            if flagged:
                cell["flagged"] += 1
                if explanation:
                    cell["explained"] += 1
        leaf_counts = defaultdict(int)
        self_counts = defaultdict(int)
        for criterion in criteria:
            if criterion.is_leaf:
                leaf_counts[tops[criterion.pk]] += 1
                if criterion.kind == Kind.SELF:
                    self_counts[tops[criterion.pk]] += 1
        units = []
        for assessment in crit_set.assessments.select_related("unit").order_by("unit__name"):
            units.append(
                {
                    "assessment": assessment,
                    "cells": [
                        {
                            **cells[(assessment.pk, f.code)],
                            "total": leaf_counts[f.code],
                            "self_total": self_counts[f.code],
                        }
                        for f in fields
                    ],
                }
            )
        boards.append({"criteria_set": crit_set, "fields": fields, "units": units})
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": Round._meta,
        "title": _("Progress of the %(year)s round") % {"year": round_obj.year},
        "round": round_obj,
        "deadline": deadline_info(round_obj),
        "boards": boards,
    }
    return TemplateResponse(request, "admin/scoring/progress.html", context)


def preview_view(model_admin, request, set_id: int):
    """The group's ranking from the current scores, by the publishing calculation. Not public."""
    crit_set = get_object_or_404(CriteriaSet.objects.select_related("round", "group"), pk=set_id)
    if not _can_follow(request.user, crit_set.round):
        raise PermissionDenied
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": CriteriaSet._meta,
        "title": _("Preview (not published): %(set)s") % {"set": crit_set},
        "results": group_results(crit_set),
    }
    return TemplateResponse(request, "admin/scoring/preview.html", context)
