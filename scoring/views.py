"""The unit staff's pages: their assessments, the self-assessment, the explanation, evidence.

Every view starts with ``permissions.assessment_for_member`` (404 outside the user's unit);
writes go through ``workflow``, which checks the role, the stage and the deadline again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from . import calculation, workflow
from .calculation import ENTERED_KINDS, REQUIRED_KINDS
from .errors import Conflict, Invalid, Refused
from .forms import (
    EVIDENCE_ACCEPT,
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
    errors: list[str] = field(default_factory=list)  # why the row was not saved
    # The part of ``errors`` not already shown beside an input of the row.
    row_errors: list[str] = field(default_factory=list)


@dataclass
class Saved:
    """What one save of the page (or of one row) did: leaves changed, evidence added, and the
    rows (criterion ids) left unsaved with their reasons, which the page shows beside them."""

    changed: int = 0
    added: int = 0
    failed: dict[int, list[str]] = field(default_factory=dict)
    conflicts: set[int] = field(default_factory=set)  # failed: saved by a colleague meanwhile
    beside: set[tuple[int, str]] = field(default_factory=set)  # shown beside an input

    def row_errors(self, criterion_id: int) -> list[str]:
        return [
            m for m in self.failed.get(criterion_id, []) if (criterion_id, m) not in self.beside
        ]

    def fail(self, criterion_id: int, message: str) -> None:
        self.failed.setdefault(criterion_id, []).append(message)


def _row_ids(form) -> dict[str, int]:
    """Form field name → the criterion id its row belongs to (``score_12`` → 12)."""
    return {name: int(name.rsplit("_", 1)[1]) for name in form.fields}


def _form_failures(form, evidence_forms, saved: Saved) -> None:
    """The rows whose fields or evidence did not validate."""
    rows = _row_ids(form)
    for name, errors in form.errors.items():
        if name in rows:
            for message in errors:
                saved.fail(rows[name], message)
                saved.beside.add((rows[name], message))
    for criterion_id, evidence_form in evidence_forms.items():
        for message in evidence_form.errors.get("__all__", []):
            saved.fail(criterion_id, message)
        for name, errors in evidence_form.errors.items():
            if name != "__all__":
                for message in errors:
                    labelled = f"{evidence_form[name].label}: {message}"
                    saved.fail(criterion_id, labelled)
                    saved.beside.add((criterion_id, labelled))


def _page(
    request,
    assessment,
    mode,
    criteria,
    scores,
    form=None,
    evidence_forms=None,
    explanation_form=None,
    saved: Saved | None = None,
):
    """Everything the assessment page shows: with the criteria and scores the view loaded, one
    query more (the evidence) whatever the number of leaves."""
    evidence = _evidence_by_score(assessment)
    failed = saved.failed if saved else {}
    rows = []
    for criterion in criteria:
        score = scores.get(criterion.pk)
        row = LeafRow(
            criterion,
            score,
            _evidence_of(evidence, score),
            errors=failed.get(criterion.pk, []),
            row_errors=saved.row_errors(criterion.pk) if saved else [],
        )
        if form is not None and criterion.is_leaf and criterion.kind in ENTERED_KINDS:
            row.fields = {
                name: form[f"{name}_{criterion.pk}"]
                for name in ("score", "figure", "method", "na", "na_reason", "seen")
                if f"{name}_{criterion.pk}" in form.fields
            }
        if (
            explanation_form is not None
            and f"explanation_{criterion.pk}" in explanation_form.fields
        ):
            row.fields = {
                "explanation": explanation_form[f"explanation_{criterion.pk}"],
                "seen": explanation_form[f"seen_{criterion.pk}"],
            }
        if evidence_forms is not None:
            row.evidence_form = evidence_forms.get(criterion.pk)
        rows.append(row)

    round_obj = assessment.criteria_set.round
    return render(
        request,
        "scoring/assessment_detail.html",
        {
            "assessment": assessment,
            "round": round_obj,
            "rows": rows,
            # In the explanation stage, the flagged leaves come first, with the council's reason.
            "flagged_rows": [r for r in rows if r.score and r.score.explanation_requested]
            if mode == "explain"
            else [],
            "mode": mode,
            "read_only_reason": why_read_only(request.user, assessment) if mode == "read" else "",
            "form": form,
            "explanation_form": explanation_form,
            "progress": _progress(rows),
            "problems": [r for r in rows if r.errors],
            "show_round_1": round_obj.stage in SHOW_ROUND_1,
            "show_round_2": round_obj.stage in SHOW_ROUND_2,
            "can_submit": mode == "self" and can_submit(request.user),
            "can_submit_explanation": mode == "explain" and can_submit(request.user),
            "accept": EVIDENCE_ACCEPT,
        },
        status=400 if saved and saved.failed else 200,
    )


def _evidence_of(evidence: dict[int, list[Evidence]], score) -> list[Evidence]:
    return evidence.get(score.pk, []) if score is not None else []


def _evidence_by_score(assessment) -> dict[int, list[Evidence]]:
    evidence: dict[int, list[Evidence]] = {}
    for item in Evidence.objects.filter(score__assessment=assessment).order_by("uploaded_at"):
        evidence.setdefault(item.score_id, []).append(item)
    return evidence


def _progress(rows: list[LeafRow]) -> dict:
    """The counters above the form, each with the leaves it counts (links on the page): the
    leaves a submission needs, those not yet scored, those scored with neither evidence nor an
    explanation of the scoring."""
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
    done = {id(r) for r in scored}
    return {
        "leaves": len(leaves),
        "scored": len(scored),
        "unscored": [r.criterion for r in leaves if id(r) not in done],
        "without_evidence": [
            r.criterion
            for r in scored
            if workflow.lacks_evidence(r.score, has_evidence=bool(r.evidence))
        ],
        "claimed": calculation.claimed_points(
            r.score.self_score
            for r in rows
            if r.criterion.is_leaf and r.criterion.kind in ENTERED_KINDS and r.score
        ),
    }


def _evidence_forms(request, leaves) -> dict[int, EvidenceForm]:
    data = request.POST if request.method == "POST" else None
    files = request.FILES if request.method == "POST" else None
    return {leaf.pk: EvidenceForm(data, files, prefix=f"ev{leaf.pk}") for leaf in leaves}


def _forms(request, mode, criteria, scores, only=None):
    """The page's forms for the mode (``only``: the criterion ids of the rows to save)."""
    data = request.POST if request.method == "POST" else None
    if mode == "self":
        leaves = [c for c in criteria if c.is_leaf and c.kind in ENTERED_KINDS]
        if only is not None:
            leaves = [c for c in leaves if c.pk in only]
        form = SelfAssessmentForm(data, leaves=leaves, scores=scores)
        return form, _evidence_forms(request, leaves)
    flagged = sorted(
        (s for s in scores.values() if s.explanation_requested),
        key=lambda s: s.criterion.position,
    )
    if only is not None:
        flagged = [s for s in flagged if s.criterion_id in only]
    form = ExplanationForm(data, flagged=flagged)
    return form, _evidence_forms(request, [s.criterion for s in flagged])


def _save(request, assessment, mode, form, evidence_forms, scores) -> Saved:
    """Save every row that is valid, each on its own: a row with an error, or one a colleague
    changed since the page showed it, is left as typed with its reason; the others are saved
    and their evidence added. A row the user did not touch is not written at all. Nothing typed
    or chosen is lost by another row's mistake."""
    saved = Saved()
    form.is_valid()
    for evidence_form in evidence_forms.values():
        evidence_form.is_valid()
    _form_failures(form, evidence_forms, saved)
    if mode == "self":
        codes = {c.code: c.pk for c in form.leaves}
    else:
        codes = {s.criterion.code: s.criterion_id for s in form.flagged}
    data = form.cleaned_data
    versions, ready = {}, []
    for pk in codes.values():
        if pk not in saved.failed:
            changed, versions[pk] = form.touched(pk, scores.get(pk))
            if changed:
                ready.append(pk)
    while ready:
        try:
            with transaction.atomic():
                saved.changed = _write_rows(request, assessment, mode, data, ready, versions)
        except Conflict as conflict:
            for code in conflict.codes:
                saved.fail(
                    codes[code],
                    _(
                        "A colleague saved this leaf after you opened the page. Your values "
                        "are kept here; the saved ones show after reloading. Save again to "
                        "replace theirs."
                    ),
                )
                saved.conflicts.add(codes[code])
        except Invalid as invalid:
            for code, message in invalid.errors.items():
                saved.fail(codes[code], message)
        else:
            break
        ready = [pk for pk in ready if pk not in saved.failed]
    if saved.failed:
        _show_as_saved(assessment, form, saved, codes.values())
    for criterion_id, evidence_form in evidence_forms.items():
        if criterion_id in saved.failed and evidence_form.errors:
            continue
        if not evidence_form.is_valid() or evidence_form.is_empty:
            continue
        try:
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
        except Refused as refusal:
            saved.fail(criterion_id, str(refusal))
        else:
            saved.added += 1
            evidence_forms[criterion_id] = EvidenceForm(prefix=f"ev{criterion_id}")
    return saved


def _write_rows(request, assessment, mode, data, rows, versions) -> int:
    if mode == "self":
        return workflow.assessment_save_self(
            assessment_id=assessment.pk,
            user=request.user,
            leaves=[
                workflow.SelfInput(
                    criterion_id=pk,
                    self_score=data.get(f"score_{pk}"),
                    figure=data.get(f"figure_{pk}"),
                    method=data.get(f"method_{pk}", ""),
                    na_requested=data.get(f"na_{pk}", False),
                    na_reason=data.get(f"na_reason_{pk}", ""),
                    version=versions.get(pk),
                )
                for pk in rows
            ],
        )
    return workflow.score_explain(
        assessment_id=assessment.pk,
        user=request.user,
        explanations={pk: data.get(f"explanation_{pk}", "") for pk in rows},
        versions={pk: versions.get(pk) for pk in rows},
    )


def _show_as_saved(assessment, form, saved: Saved, rows) -> None:
    """The page comes back with errors: each row that was not refused now shows what is saved
    (its new version), so that editing it again is not taken for a colleague's conflict; a row
    in conflict shows nothing seen, so that saving it again is a deliberate overwrite."""
    fresh = {s.criterion_id: s for s in assessment.scores.select_related("criterion")}
    form.data = form.data.copy()
    for pk in rows:
        if pk in saved.conflicts:
            form.data[f"seen_{pk}"] = ""
        elif pk not in saved.failed and pk in fresh:
            form.data[f"seen_{pk}"] = form.seen_of(fresh[pk])


def _saved_message(saved: Saved) -> str:
    now = date_format(timezone.localtime(), "H:i")
    if saved.added:
        return _("Saved at %(time)s: %(count)d leaves changed, %(files)d evidence added.") % {
            "time": now,
            "count": saved.changed,
            "files": saved.added,
        }
    return _("Saved at %(time)s: %(count)d leaves changed.") % {
        "time": now,
        "count": saved.changed,
    }


@login_required
def assessment_view(request, year: int, unit: str):
    """The self-assessment, the explanation, or the assessment to read. Queries (GET): the
    session, the user, their unit, their permissions; the assessment; the criteria; the
    scores; the evidence. Flat in leaves.

    A POST saves every valid row on its own (``_save``): one mistake leaves its row as typed,
    marked, and listed at the top; the rest is saved. "Remove" on an evidence saves the page
    first, then asks (or removes at once when the page's script has asked already)."""
    assessment = assessment_for_member(request.user, year, unit)
    mode = page_mode(request.user, assessment)
    criteria = assessment.criteria_set.criteria.tree()
    scores = assessment.scores_on(criteria)
    if mode == "read":
        if request.method == "POST":
            messages.error(request, why_read_only(request.user, assessment))
            return redirect(request.path)
        return _page(request, assessment, mode, criteria, scores)

    form, evidence_forms = _forms(request, mode, criteria, scores)
    forms_by_mode = ({"form": form} if mode == "self" else {"explanation_form": form}) | {
        "evidence_forms": evidence_forms
    }
    if request.method != "POST":
        return _page(request, assessment, mode, criteria, scores, **forms_by_mode)
    try:
        saved = _save(request, assessment, mode, form, evidence_forms, scores)
    except Refused as refusal:  # the stage closed or the deadline passed meanwhile
        messages.error(request, str(refusal))
        return redirect(request.path)
    remove = _evidence_to_remove(request, assessment)
    confirmed = remove is not None and request.POST.get("remove_confirmed") == "1"
    if confirmed:  # the page's script asked already: removed whatever the other rows say
        _delete_evidence(request, remove)
    if saved.failed:
        messages.warning(request, _saved_message(saved))
        if remove is not None and not confirmed:
            messages.info(
                request, _("The evidence was not removed: correct the marked rows first.")
            )
        scores = assessment.scores_on(criteria)
        return _page(request, assessment, mode, criteria, scores, **forms_by_mode, saved=saved)
    messages.success(request, _saved_message(saved))
    if remove is not None and not confirmed:
        return redirect(reverse("scoring:evidence_delete", args=[year, unit, remove.pk]))
    if request.POST.get("then") == "submit":  # saved first, then on to the submission page
        name = "scoring:submit" if mode == "self" else "scoring:submit_explanation"
        return redirect(reverse(name, args=[year, unit]))
    anchor = remove.score.criterion.code if confirmed else request.POST.get("save", "")
    if anchor not in {c.code for c in criteria}:  # back to a row of the page, or to its top
        anchor = ""
    return redirect(request.path + (f"#leaf-{anchor}" if anchor else ""))


def _evidence_to_remove(request, assessment) -> Evidence | None:
    try:
        pk = int(request.POST.get("remove", ""))
    except ValueError:
        return None
    return (
        Evidence.objects.select_related("score__criterion")
        .filter(pk=pk, score__assessment=assessment)
        .first()
    )


def _seen_answer(form, saved: Saved, criterion_id: int, score) -> dict:
    """What the script keeps as the row's ``seen`` after a save: what is saved now, or nothing
    after a conflict (saving again is then a deliberate overwrite); unchanged after an error."""
    if criterion_id in saved.conflicts:
        return {"seen": ""}
    if saved.failed or score is None:
        return {}
    return {"seen": form.seen_of(score)}


def _delete_evidence(request, evidence: Evidence) -> None:
    try:
        workflow.evidence_delete(evidence_id=evidence.pk, user=request.user)
    except Refused as refusal:
        messages.error(request, str(refusal))
    else:
        messages.success(
            request, _("Evidence removed: %(name)s.") % {"name": _evidence_name(evidence)}
        )


def _evidence_name(evidence: Evidence) -> str:
    if evidence.file:
        return evidence.original_name
    return _("document %(number)s") % {"number": evidence.document_number}


@login_required
@require_POST
def leaf_save_view(request, year: int, unit: str, criterion_id: int):
    """Save one row of the page (its values and a chosen file): what the page's script sends as
    the user types. Answers JSON for the script, or goes back to the row without it."""
    assessment = assessment_for_member(request.user, year, unit)
    mode = page_mode(request.user, assessment)
    wants_json = "application/json" in request.headers.get("Accept", "")
    if mode == "read":
        message = why_read_only(request.user, assessment)
        if wants_json:
            return JsonResponse({"saved": False, "errors": [message]}, status=409)
        messages.error(request, message)
        return redirect(reverse("scoring:assessment", args=[year, unit]))
    criteria = assessment.criteria_set.criteria.tree()
    scores = assessment.scores_on(criteria)
    form, evidence_forms = _forms(request, mode, criteria, scores, only={criterion_id})
    if not evidence_forms:
        raise Http404
    try:
        saved = _save(request, assessment, mode, form, evidence_forms, scores)
    except Refused as refusal:
        saved = Saved(failed={criterion_id: [str(refusal)]})
    if not wants_json:
        if saved.failed:
            for message in saved.failed[criterion_id]:
                messages.error(request, message)
        else:
            messages.success(request, _saved_message(saved))
        code = next(c.code for c in criteria if c.pk == criterion_id)
        return redirect(reverse("scoring:assessment", args=[year, unit]) + f"#leaf-{code}")
    scores = assessment.scores_on(criteria)
    by_score = _evidence_by_score(assessment)
    rows = [
        LeafRow(c, scores.get(c.pk), _evidence_of(by_score, scores.get(c.pk))) for c in criteria
    ]
    score = scores.get(criterion_id)  # none yet when nothing was ever saved on the leaf
    evidence = by_score.get(score.pk, []) if score else []
    progress = _progress(rows)
    return JsonResponse(
        {
            "saved": not saved.failed,
            "saved_at": date_format(timezone.localtime(), "H:i"),
            "message": _saved_message(saved) if not saved.failed else "",
            "errors": saved.failed.get(criterion_id, []),
            **_seen_answer(form, saved, criterion_id, score),
            "evidence_html": render_to_string(
                "scoring/_evidence_list.html",
                {"evidence": evidence, "mode": mode, "year": year, "unit": unit},
                request=request,
            ),
            "progress": {
                "scored": progress["scored"],
                "leaves": progress["leaves"],
                "without_evidence": len(progress["without_evidence"]),
                "lists": {
                    name: [c.code for c in progress[name]]
                    for name in ("unscored", "without_evidence")
                },
                "claimed": number_format(progress["claimed"], 2),
            },
        },
        status=200 if not saved.failed else 400,
    )


def _submission(request, assessment, *, action, check, gaps, title, question, next_steps):
    """The submission page: completeness first, what still blocks (each a link to its row), who
    submits (the head), what happens next; the workflow action on the confirmed POST."""
    year, code = assessment.criteria_set.round.year, assessment.unit.code
    page_url = reverse("scoring:assessment", args=[year, code])
    if request.method == "POST":
        try:
            action(assessment_id=assessment.pk, user=request.user)
        except Invalid as invalid:
            messages.error(request, _("Not submitted. Complete these leaves first:"))
            for leaf_code, message in invalid.errors.items():
                messages.error(request, f"{leaf_code}: {message}")
            return redirect(request.path)
        except Refused as refusal:
            messages.error(request, str(refusal))
            return redirect(request.path)
        messages.success(request, _("Submitted."))
        return redirect(page_url)
    try:
        check(request.user, assessment)
    except Refused as refusal:
        refused = str(refusal)
    else:
        refused = ""
    criteria = {
        c.code: c
        for c in assessment.criteria_set.criteria.filter(is_leaf=True).order_by("position")
    }
    blockers = [
        {
            "code": leaf_code,
            "title": criteria[leaf_code].title,
            "reason": reason,
            "url": f"{page_url}#leaf-{leaf_code}",
        }
        for leaf_code, reason in sorted(
            gaps(assessment).items(), key=lambda item: criteria[item[0]].position
        )
    ]
    heads = (
        get_user_model()
        .objects.filter(is_active=True, membership__unit=assessment.unit)
        .filter(
            Q(
                user_permissions__codename="submit_assessment",
                user_permissions__content_type__app_label="scoring",
            )
            | Q(
                groups__permissions__codename="submit_assessment",
                groups__permissions__content_type__app_label="scoring",
            )
        )
        .distinct()
        .order_by("last_name", "username")
    )
    return render(
        request,
        "scoring/submit.html",
        {
            "assessment": assessment,
            "round": assessment.criteria_set.round,
            "title": title,
            "question": question,
            "next_steps": next_steps,
            "blockers": blockers,
            "refused": refused,
            "heads": heads,
            "page_url": page_url,
            **_completeness(assessment),
        },
    )


def _completeness(assessment) -> dict:
    criteria = assessment.criteria_set.criteria.tree()
    scores = assessment.scores_on(criteria)
    evidence = _evidence_by_score(assessment)
    rows = [
        LeafRow(c, scores.get(c.pk), _evidence_of(evidence, scores.get(c.pk))) for c in criteria
    ]
    flagged = [r.score for r in rows if r.score and r.score.explanation_requested]
    return {
        "progress": _progress(rows),
        "flagged": len(flagged),
        "explained": sum(1 for s in flagged if s.explanation.strip()),
    }


@login_required
def assessment_submit_view(request, year: int, unit: str):
    assessment = assessment_for_member(request.user, year, unit)
    return _submission(
        request,
        assessment,
        action=workflow.assessment_submit,
        check=check_submit,
        gaps=workflow.self_assessment_gaps,
        title=_("Submit the self-assessment"),
        question=_("Submit the self-assessment of %(unit)s for %(year)s?")
        % {"unit": assessment.unit.name, "year": year},
        next_steps=[
            _("The scores and the evidence are locked; the evidence files are fingerprinted."),
            _(
                "The council appraises every leaf. If it asks for explanations, the unit is "
                "e-mailed and answers them on this page in the explanation stage."
            ),
            _("The secretariat can give the submission back while self-assessment is open."),
        ],
    )


@login_required
def explanation_submit_view(request, year: int, unit: str):
    assessment = assessment_for_member(request.user, year, unit)
    return _submission(
        request,
        assessment,
        action=workflow.assessment_submit_explanation,
        check=check_submit_explanation,
        gaps=workflow.explanation_gaps,
        title=_("Submit the explanation"),
        question=_("Submit the explanation of %(unit)s for %(year)s?")
        % {"unit": assessment.unit.name, "year": year},
        next_steps=[
            _("The explanations are locked."),
            _(
                "The council re-appraises the flagged leaves in round 2, then the results are published."
            ),
        ],
    )


@login_required
def evidence_delete_view(request, year: int, unit: str, pk: int):
    """Removing an evidence asks first (GET: the question; POST: the removal)."""
    assessment = assessment_for_member(request.user, year, unit)
    evidence = get_object_or_404(
        Evidence.objects.select_related("score__criterion"), pk=pk, score__assessment=assessment
    )
    criterion = evidence.score.criterion
    back = reverse("scoring:assessment", args=[year, unit]) + f"#leaf-{criterion.code}"
    if request.method == "POST":
        _delete_evidence(request, evidence)
        return redirect(back)
    return render(
        request,
        "scoring/confirm.html",
        {
            "assessment": assessment,
            "title": _("Remove evidence"),
            "question": _("Remove %(name)s from %(code)s. %(title)s? Your other entries are saved.")
            % {"name": _evidence_name(evidence), "code": criterion.code, "title": criterion.title},
            "confirm_label": _("Yes, remove"),
            "back": back,
        },
    )


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
