"""The unit staff's pages: their assessments, the self-assessment, the explanation, evidence.

Every view starts with ``permissions.assessment_for_member`` (404 outside the user's unit);
writes go through ``workflow``, which checks the role, the stage and the deadline again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import calculation, workflow
from .calculation import ENTERED_KINDS, REQUIRED_KINDS
from .errors import Invalid, Refused
from .forms import (
    EVIDENCE_TYPES,
    EvidenceForm,
    ExplanationForm,
    FigureField,
    SelfAssessmentForm,
)
from .models import Criterion, Evidence, Kind, Score, Stage
from .permissions import (
    assessment_for_member,
    can_submit,
    can_view_assessment,
    check_submit,
    check_submit_explanation,
    member_assessments,
    page_mode,
    unit_of,
    why_read_only,
)

# What a unit enters: points (self, bonus) or a figure (target).

# After which stages the unit sees the council's round-1 and round-2 appraisals.
SHOW_ROUND_1 = {Stage.EXPLANATION, Stage.APPRAISAL_2, Stage.FINAL}
SHOW_ROUND_2 = {Stage.FINAL}


@login_required
def assessment_list_view(request):
    assessments = member_assessments(request.user).select_related(
        "criteria_set__round", "criteria_set__group"
    )
    return render(
        request,
        "scoring/assessment_list.html",
        {
            "unit": unit_of(request.user),
            "assessments": assessments.order_by("-criteria_set__round__year"),
        },
    )


@dataclass
class LeafRow:
    criterion: Criterion  # from tree(): with its depth
    score: Score | None
    evidence: list[Evidence] = field(default_factory=list)
    fields: dict = field(default_factory=dict)
    evidence_form: EvidenceForm | None = None


def _page(
    request,
    assessment,
    mode,
    criteria,
    scores,
    form=None,
    evidence_forms=None,
    explanation_form=None,
):
    """Everything the assessment page shows: with the criteria and scores the view loaded, one
    query more (the evidence) whatever the number of leaves."""
    evidence: dict[int, list[Evidence]] = {}
    for item in Evidence.objects.filter(score__assessment=assessment).order_by("uploaded_at"):
        evidence.setdefault(item.score_id, []).append(item)
    rows = []
    for criterion in criteria:
        score = scores.get(criterion.pk)
        row = LeafRow(criterion, score, evidence.get(score.pk, []) if score else [])
        if form is not None and criterion.is_leaf and criterion.kind in ENTERED_KINDS:
            row.fields = {
                name: form[f"{name}_{criterion.pk}"]
                for name in ("score", "figure", "method", "na", "na_reason")
                if f"{name}_{criterion.pk}" in form.fields
            }
        if (
            explanation_form is not None
            and f"explanation_{criterion.pk}" in explanation_form.fields
        ):
            row.fields = {"explanation": explanation_form[f"explanation_{criterion.pk}"]}
        if evidence_forms is not None:
            row.evidence_form = evidence_forms.get(criterion.pk)
        rows.append(row)

    # The leaves a submission needs (self scores and target figures), as the submission checks.
    leaves = [r for r in rows if r.criterion.is_leaf and r.criterion.kind in REQUIRED_KINDS]
    scored = [
        r
        for r in leaves
        if r.score
        and (
            r.score.self_score is not None
            or r.score.self_figure is not None
            or r.score.not_applicable_requested
        )
    ]
    claimed = calculation.claimed_points(
        r.score.self_score
        for r in rows
        if r.criterion.is_leaf and r.criterion.kind in ENTERED_KINDS and r.score
    )
    round_obj = assessment.criteria_set.round
    return render(
        request,
        "scoring/assessment_detail.html",
        {
            "assessment": assessment,
            "round": round_obj,
            "rows": rows,
            "mode": mode,
            "read_only_reason": why_read_only(request.user, assessment) if mode == "read" else "",
            "form": form,
            "explanation_form": explanation_form,
            "progress": {
                "leaves": len(leaves),
                "scored": len(scored),
                "without_evidence": sum(
                    1
                    for r in scored
                    if not r.evidence
                    and not r.score.not_applicable_requested
                    and not r.score.self_method.strip()
                ),
                "claimed": claimed,
            },
            "show_round_1": round_obj.stage in SHOW_ROUND_1,
            "show_round_2": round_obj.stage in SHOW_ROUND_2,
            "can_submit": mode == "self" and can_submit(request.user),
            "can_submit_explanation": mode == "explain" and can_submit(request.user),
        },
        status=400 if request.method == "POST" else 200,
    )


def _evidence_forms(request, leaves) -> dict[int, EvidenceForm]:
    data = request.POST if request.method == "POST" else None
    files = request.FILES if request.method == "POST" else None
    return {leaf.pk: EvidenceForm(data, files, prefix=f"ev{leaf.pk}") for leaf in leaves}


@login_required
def assessment_view(request, year: int, unit: str):
    """The self-assessment, the explanation, or the assessment to read. Queries (GET): the
    session, the user, their unit, their permissions; the assessment; the criteria; the
    scores; the evidence. Flat in leaves."""
    assessment = assessment_for_member(request.user, year, unit)
    mode = page_mode(request.user, assessment)
    criteria = assessment.criteria_set.criteria.tree()
    scores = assessment.scores_on(criteria)
    data = request.POST if request.method == "POST" else None
    page = {"criteria": criteria, "scores": scores}

    if mode == "self":
        own = [c for c in criteria if c.is_leaf and c.kind in ENTERED_KINDS]
        form = SelfAssessmentForm(data, leaves=own, scores=scores)
        evidence_forms = _evidence_forms(request, own)
        if request.method == "POST":
            valid = form.is_valid() & all(f.is_valid() for f in evidence_forms.values())
            if valid and _save_self(request, assessment, form, own, evidence_forms):
                return redirect(request.path)
        return _page(request, assessment, mode, **page, form=form, evidence_forms=evidence_forms)

    if mode == "explain":
        flagged = [s for s in scores.values() if s.explanation_requested]
        flagged.sort(key=lambda s: s.criterion.position)
        form = ExplanationForm(data, flagged=flagged)
        evidence_forms = _evidence_forms(request, [s.criterion for s in flagged])
        if request.method == "POST":
            valid = form.is_valid() & all(f.is_valid() for f in evidence_forms.values())
            if valid and _save_explanation(request, assessment, form, flagged, evidence_forms):
                return redirect(request.path)
        return _page(
            request, assessment, mode, **page, explanation_form=form, evidence_forms=evidence_forms
        )

    if request.method == "POST":
        messages.error(request, why_read_only(request.user, assessment))
        return redirect(request.path)
    return _page(request, assessment, mode, **page)


def _add_evidence(request, assessment, evidence_forms) -> None:
    for criterion_id, evidence_form in evidence_forms.items():
        if evidence_form.is_empty:
            continue
        workflow.evidence_add(
            assessment_id=assessment.pk,
            criterion_id=criterion_id,
            user=request.user,
            upload=evidence_form.cleaned_data.get("file"),
            document_number=evidence_form.cleaned_data.get("document_number", ""),
            document_date=evidence_form.cleaned_data.get("document_date"),
            page=evidence_form.cleaned_data.get("page", ""),
            description=evidence_form.cleaned_data.get("description", ""),
        )


def _save_self(request, assessment, form, leaves, evidence_forms) -> bool:
    inputs = [
        workflow.SelfInput(
            criterion_id=leaf.pk,
            self_score=form.cleaned_data.get(f"score_{leaf.pk}"),
            figure=form.cleaned_data.get(f"figure_{leaf.pk}"),
            method=form.cleaned_data[f"method_{leaf.pk}"],
            na_requested=form.cleaned_data[f"na_{leaf.pk}"],
            na_reason=form.cleaned_data[f"na_reason_{leaf.pk}"],
        )
        for leaf in leaves
    ]
    try:
        with transaction.atomic():
            changed = workflow.assessment_save_self(
                assessment_id=assessment.pk, user=request.user, leaves=inputs
            )
            _add_evidence(request, assessment, evidence_forms)
    except Invalid as invalid:
        for code, message in invalid.errors.items():
            messages.error(request, f"{code}: {message}")
        return False
    except Refused as refusal:
        messages.error(request, str(refusal))
        return False
    messages.success(request, _("Saved (%(count)d leaves changed).") % {"count": changed})
    return True


def _save_explanation(request, assessment, form, flagged, evidence_forms) -> bool:
    texts = {s.criterion_id: form.cleaned_data[f"explanation_{s.criterion_id}"] for s in flagged}
    try:
        with transaction.atomic():
            changed = workflow.score_explain(
                assessment_id=assessment.pk, user=request.user, explanations=texts
            )
            _add_evidence(request, assessment, evidence_forms)
    except Refused as refusal:
        messages.error(request, str(refusal))
        return False
    messages.success(request, _("Saved (%(count)d explanations changed).") % {"count": changed})
    return True


def _confirm(request, assessment, *, action, check, title, question):
    """A confirmation page (GET), then the workflow action (POST)."""
    if request.method == "POST":
        try:
            action(assessment_id=assessment.pk, user=request.user)
        except Invalid as invalid:
            messages.error(request, _("Not submitted. Complete these leaves first:"))
            for code, message in invalid.errors.items():
                messages.error(request, f"{code}: {message}")
        except Refused as refusal:
            messages.error(request, str(refusal))
        else:
            messages.success(request, _("Submitted."))
        return redirect(
            reverse(
                "scoring:assessment",
                args=[assessment.criteria_set.round.year, assessment.unit.code],
            )
        )
    try:
        check(request.user, assessment)
    except Refused as refusal:
        messages.error(request, str(refusal))
        return redirect(
            reverse(
                "scoring:assessment",
                args=[assessment.criteria_set.round.year, assessment.unit.code],
            )
        )
    return render(
        request,
        "scoring/confirm.html",
        {"assessment": assessment, "title": title, "question": question},
    )


@login_required
def assessment_submit_view(request, year: int, unit: str):
    assessment = assessment_for_member(request.user, year, unit)
    return _confirm(
        request,
        assessment,
        action=workflow.assessment_submit,
        check=check_submit,
        title=_("Submit the self-assessment"),
        question=_(
            "After submission the unit can no longer change its scores or evidence, and the "
            "evidence files are fingerprinted. Submit the self-assessment of %(unit)s for "
            "%(year)s?"
        )
        % {"unit": assessment.unit.name, "year": year},
    )


@login_required
def explanation_submit_view(request, year: int, unit: str):
    assessment = assessment_for_member(request.user, year, unit)
    return _confirm(
        request,
        assessment,
        action=workflow.assessment_submit_explanation,
        check=check_submit_explanation,
        title=_("Submit the explanation"),
        question=_(
            "After submission the explanations can no longer be changed. Submit the explanation "
            "of %(unit)s for %(year)s?"
        )
        % {"unit": assessment.unit.name, "year": year},
    )


@login_required
@require_POST
def evidence_delete_view(request, year: int, unit: str, pk: int):
    assessment = assessment_for_member(request.user, year, unit)
    evidence = get_object_or_404(Evidence, pk=pk, score__assessment=assessment)
    try:
        workflow.evidence_delete(evidence_id=evidence.pk, user=request.user)
    except Refused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(request, _("Evidence removed."))
    return redirect(reverse("scoring:assessment", args=[year, unit]))


@login_required
def target_points_view(request, year: int, unit: str, criterion_id: int):
    """What a figure would earn on a target leaf of the user's own assessment (JSON), for the
    page to show as the figure is typed; the one calculation answers."""
    assessment = assessment_for_member(request.user, year, unit)
    criterion = get_object_or_404(
        Criterion, pk=criterion_id, criteria_set=assessment.criteria_set, kind=Kind.TARGET
    )
    field = FigureField()
    try:
        figure = field.clean(request.GET.get("figure", ""))
    except ValidationError as error:
        return JsonResponse({"points": None, "text": " ".join(error.messages)})
    points = criterion.points_for(figure)
    text = (
        "—"
        if points is None
        else f"{number_format(points, 2)} / {number_format(criterion.max_points, 2)}"
    )
    response = JsonResponse({"points": None if points is None else f"{points:.2f}", "text": text})
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def evidence_download_view(request, pk: int):
    """A private evidence file, to those who may see its assessment only (404 otherwise)."""
    evidence = get_object_or_404(
        Evidence.objects.select_related("score__assessment__criteria_set"), pk=pk
    )
    if not evidence.file or not can_view_assessment(request.user, evidence.score.assessment):
        raise Http404
    extension = evidence.file.name.rsplit(".", 1)[-1].lower()
    response = FileResponse(
        evidence.file.open("rb"),
        as_attachment=True,
        filename=evidence.original_name or f"evidence.{extension}",
        content_type=EVIDENCE_TYPES.get(extension, ("application/octet-stream",))[0],
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
