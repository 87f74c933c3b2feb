"""The council's pages inside the admin: appraisal, progress board, live preview.

Reading is allowed to the secretariat and to council members of the round; every write goes
through ``workflow``, which checks the assigned field, the stage and the deadline again.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace

from django import forms
from django.contrib import messages
from django.db.models import F, Window
from django.db.models.functions import FirstValue, Lag, Lead
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from . import calculation, workflow
from .errors import Conflict, Refused
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

# The inputs of one leaf on the appraisal page, in the order of the page.
ROW_INPUTS = ("value", "figure", "reason", "flag", "na", "note", "version")


class AppraisalForm(forms.Form):
    """Per editable leaf: the appraised score, its reason, the flag, not applicable, the version
    the appraiser saw (optimistic locking: a newer version is a conflict, never overwritten).

    Each leaf is a row that stands on its own: a row with an error does not stop the others
    (``valid_rows``), and rows absent from the data sent are left alone (``posted``)."""

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
                self.fields[f"figure_{pk}"] = FigureField(label=_("Verified figure"))
                self.initial[f"figure_{pk}"] = getattr(score, figure_field)
            else:
                self.fields[f"value_{pk}"] = PointsField(
                    maximum=score.criterion.max_points, label=_("Score")
                )
            self.fields[f"reason_{pk}"] = forms.CharField(
                required=False,
                max_length=5000,
                validators=[validate_multi_line],
                label=_("Reason"),
                widget=forms.Textarea(attrs={"rows": 2}),
            )
            self.fields[f"na_{pk}"] = forms.BooleanField(required=False, label=_("not applicable"))
            self.fields[f"note_{pk}"] = forms.CharField(
                required=False,
                max_length=5000,
                validators=[validate_multi_line],
                label=_("Public note (shown on the unit's public page)"),
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

    def names(self, score) -> list[str]:
        return [f"{name}_{score.pk}" for name in ROW_INPUTS if f"{name}_{score.pk}" in self.fields]

    def posted(self) -> list:
        """The rows the page sent (a button that sends nothing else leaves every row alone)."""
        return [score for score in self.scores if f"version_{score.pk}" in self.data]

    def row_has_errors(self, score) -> bool:
        return any(name in self.errors for name in self.names(score))

    def edited(self) -> set[int]:
        """The scores whose row the appraiser changed on the page before sending it."""
        changed = set(self.changed_data)
        return {
            score.pk
            for score in self.posted()
            if any(n in changed for n in self.names(score) if not n.startswith("version_"))
        }

    def inputs(self, scores) -> list[workflow.AppraisalInput]:
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
            for score in scores
        ]


def _neighbours(user, assessment: Assessment) -> dict:
    """The previous and next units of the same criteria set that the user may open, in the
    order of the assessments' list (unit name): one query, whatever the number of units."""
    scope = council_scope(
        user,
        Assessment.objects.filter(criteria_set_id=assessment.criteria_set_id),
        "criteria_set",
        "unit",
    )
    order = [F("unit__name").asc(), F("pk").asc()]
    row = (
        Assessment.objects.filter(pk__in=scope.values("pk"))
        .annotate(
            previous_id=Window(Lag("pk"), order_by=order),
            previous_name=Window(Lag("unit__name"), order_by=order),
            next_id=Window(Lead("pk"), order_by=order),
            next_name=Window(Lead("unit__name"), order_by=order),
            # Filtering on a window keeps the other rows in the window (a plain ``pk=`` would
            # be applied before it and leave no neighbours).
            this_id=Window(FirstValue("pk"), partition_by=[F("pk")]),
        )
        .filter(this_id=assessment.pk)
        .values("previous_id", "previous_name", "next_id", "next_name")
    )
    found = next(iter(row), {})
    return {
        which: {"url": _appraise_url(found[f"{which}_id"]), "name": found[f"{which}_name"]}
        for which in ("previous", "next")
        if found.get(f"{which}_id")
    }


def _appraise_url(assessment_id: int, code: str | None = None) -> str:
    url = reverse("admin:scoring_assessment_appraise", args=[assessment_id])
    return f"{url}#leaf-{code}" if code else url


def _leaf_link(code: str):
    return format_html('<a href="#leaf-{}">{}</a>', code, code)


def _save(request, assessment, form, editable_scores, stage, criteria):
    """Save every posted row that is valid and changed; then, for "accept this field", accept
    the self scores of the field's untouched leaves. Returns the page to show: a redirect when
    everything was saved, else None (the page is shown again with what was typed)."""
    form.is_valid()  # every row is checked; a row with an error is left out below
    posted = form.posted()
    valid = [score for score in posted if not form.row_has_errors(score)]
    edited = form.edited()
    by_code = {score.criterion.code: score for score in editable_scores}
    value_field = APPRAISAL_COLUMNS[stage][0]
    rejected: dict[str, str] = {}
    try:
        changed = workflow.score_appraise(
            assessment_id=assessment.pk,
            user=request.user,
            stage=stage,
            items=form.inputs(valid),
            rejected=rejected,
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
        return AppraisalForm(data, scores=editable_scores, stage=stage), None
    except Refused as refusal:
        messages.error(request, str(refusal))
        return form, None

    saved = [score for score in valid if score.criterion.code not in rejected]
    if changed:
        messages.success(request, _("Saved (%(count)d leaves changed).") % {"count": changed})
    # A note explains a score: when the score moves and the note stays, it may now say wrong.
    for score in saved:
        data = form.cleaned_data
        if score.criterion.kind in calculation.FIGURE_KINDS:
            new_value = score.criterion.points_for(data.get(f"figure_{score.pk}"))
        else:
            new_value = data.get(f"value_{score.pk}")
        note_changed = f"note_{score.pk}" in form.changed_data
        if new_value != getattr(score, value_field) and score.note.strip() and not note_changed:
            messages.warning(
                request,
                format_html(
                    _("The public note of {code} may no longer match the new score: revise it."),
                    code=_leaf_link(score.criterion.code),
                ),
            )

    anchor = ""
    target = request.POST.get("save", "")
    known = {f"leaf-{c.code}" for c in criteria if c.is_leaf} | {
        f"field-{c.code}" for c in criteria if c.parent_id is None
    }
    if target in known:
        anchor = target
    if "accept" in request.POST:
        try:
            field_id = int(request.POST["accept"])
            field = next(c for c in criteria if c.pk == field_id and c.parent_id is None)
        except (ValueError, StopIteration):
            messages.error(request, _("Invalid field."))
        else:
            anchor = f"field-{field.code}"
            try:
                outcome = workflow.field_accept(
                    assessment_id=assessment.pk,
                    field_id=field_id,
                    user=request.user,
                    skip=edited,
                )
            except Refused as refusal:
                messages.error(request, str(refusal))
            else:
                _tell_accepted(request, outcome)

    rejected_rows = [by_code[code] for code in rejected if code in by_code]
    if any(form.row_has_errors(score) for score in posted) or rejected_rows:
        # Show the page again: the rows in error with what was typed, every other row as it
        # is now (saved or accepted, with its new version: the next save neither conflicts
        # with this one nor undoes an acceptance with the empty box the page was sent with).
        in_error = {score.pk for score in posted if form.row_has_errors(score)}
        in_error |= {score.pk for score in rejected_rows}
        now = assessment.scores_on(criteria)
        current = AppraisalForm(
            scores=[now[s.criterion_id] for s in editable_scores if s.pk not in in_error],
            stage=stage,
        )
        data = request.POST.copy()
        for name, field in current.fields.items():
            value = current.initial.get(name)
            if isinstance(field, forms.BooleanField):
                data.pop(name, None)
                if value:
                    data[name] = "on"
            else:
                data[name] = "" if value is None else field.widget.format_value(value)
        shown = AppraisalForm(data, scores=editable_scores, stage=stage)
        shown.is_valid()
        for code, message in rejected.items():
            score = by_code.get(code)
            if score is not None:
                name = "figure" if f"figure_{score.pk}" in shown.fields else "value"
                shown.add_error(f"{name}_{score.pk}", message)
        return shown, None
    url = request.path + (f"#{anchor}" if anchor else "")
    if not changed and "accept" not in request.POST:
        messages.info(request, _("Nothing to save: no value was changed."))
    return form, redirect(url)


def _tell_accepted(request, outcome: workflow.FieldAccepted) -> None:
    if outcome.left_not_applicable:
        messages.warning(
            request,
            format_html(
                _(
                    "{accepted} accepted, {left} left for you: not-applicable requests ({codes}). "
                    "Decide each one: tick “not applicable” or give a score."
                ),
                accepted=len(outcome.accepted),
                left=len(outcome.left_not_applicable),
                codes=format_html_join(
                    ", ", "{}", ((_leaf_link(c),) for c in outcome.left_not_applicable)
                ),
            ),
        )
    else:
        messages.success(
            request,
            _("%(count)d self scores accepted as the appraisal.")
            % {"count": len(outcome.accepted)},
        )


def _row_errors(form, score) -> list[tuple[str, str]]:
    """(label, message) of every error of a row."""
    found = []
    for name in form.names(score):
        for message in form.errors.get(name, []):
            found.append((str(form.fields[name].label), message))
    return found


def appraise_view(model_admin, request, assessment_id: int):
    """Every leaf of an assessment side by side, the user's leaves editable in the appraisal
    stages. Queries (GET in round 1): the assessment; the existing scores and the missing
    leaves (one score row per leaf); the criteria; the user's assigned fields; the scores; the
    evidence; the previous and next units; plus the session, the user and their permissions.
    Flat in leaves and units."""
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

    form = AppraisalForm(
        request.POST if request.method == "POST" else None, scores=editable_scores, stage=stage
    )
    if request.method == "POST":
        if not editable_scores:
            messages.error(request, _("You cannot appraise this assessment now."))
            return redirect(request.path)
        form, response = _save(request, assessment, form, editable_scores, stage, criteria)
        if response is not None:
            return response
        # Shown again: the saved rows as they are now beside the rows still in error.
        scores = assessment.scores_on(criteria)
        for score in editable_scores:
            fresh = scores[score.criterion_id]
            fresh.conflict_with = getattr(score, "conflict_with", None)
            scores[score.criterion_id] = fresh

    evidence = defaultdict(list)
    for item in Evidence.objects.filter(score__assessment=assessment).order_by("uploaded_at"):
        evidence[item.score_id].append(item)
    editable_ids = {s.pk for s in editable_scores}
    rows, errors = [], []
    for criterion in criteria:
        score = scores.get(criterion.pk)
        row = {"criterion": criterion, "score": score, "evidence": []}
        if score is not None:
            row["evidence"] = evidence.get(score.pk, [])
            if score.pk in editable_ids:
                row["fields"] = {
                    name: form[f"{name}_{score.pk}"]
                    for name in ROW_INPUTS
                    if f"{name}_{score.pk}" in form.fields
                }
                row["conflict_with"] = getattr(score, "conflict_with", None)
                row["errors"] = _row_errors(form, score) if form.is_bound else []
                if row["errors"]:
                    errors.append((criterion.code, row["errors"]))
                    for name in form.names(score):
                        if name in form.errors:
                            form.fields[name].widget.attrs.update(
                                {
                                    "aria-invalid": "true",
                                    "aria-describedby": f"error-{score.pk}",
                                }
                            )
        row["can_accept"] = (
            criterion.parent_id is None and stage == Stage.APPRAISAL_1 and criterion.pk in assigned
        )
        row["can_save"] = criterion.parent_id is None and criterion.pk in assigned
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
        "errors": errors,
        "has_editable": bool(editable_scores),
        "neighbours": _neighbours(request.user, assessment),
    }
    return TemplateResponse(request, "admin/scoring/appraise.html", context)


def _percent(part: int, whole: int) -> int | None:
    """A share in whole percent, rounded down: 100 % only when nothing is missing."""
    return part * 100 // whole if whole else None


def _status(done: int, total: int) -> dict:
    """A cell's status in words and a sign as well as a colour."""
    if not total:
        return {"code": "none", "sign": "–", "label": _("nothing to appraise")}
    if done >= total:
        return {"code": "done", "sign": "✓", "label": _("complete")}
    if done:
        return {"code": "partial", "sign": "◐", "label": _("in progress")}
    return {"code": "todo", "sign": "○", "label": _("not started")}


COUNTS = ("scored", "self_total", "appraised", "total", "flagged", "explained")


def progress_view(model_admin, request, round_id: int):
    """Units × fields: what is scored, submitted, appraised, flagged and explained, with totals
    per unit and per field and, per unit, how many leaves still lack a final score (a link to
    the first of them). Queries: the round; its sets; per set its criteria, its scores and its
    assessments with their units (plus the session, the user and their permissions): flat in
    units and leaves."""
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
        needs_final = [
            c
            for c in criteria
            if c.is_leaf and c.kind in calculation.SCORED_KINDS and not c.sipas_element
        ]
        needs_final_ids = {c.pk for c in needs_final}
        done = set()  # (assessment id, criterion id) with a final score or not applicable
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
            if criterion_id in needs_final_ids and (
                calculation.final_score(a1, a2) is not None or na
            ):
                cell["appraised"] += 1
                done.add((assessment_id, criterion_id))
            if flagged:
                cell["flagged"] += 1
                if explanation:
                    cell["explained"] += 1
        leaf_counts = defaultdict(int)
        self_counts = defaultdict(int)
        for criterion in criteria:
            if criterion.pk in needs_final_ids:
                leaf_counts[criterion.field.pk] += 1
            if criterion.pk in entered:
                self_counts[criterion.field.pk] += 1
        assessments = council_scope(
            request.user, criteria_set.assessments.select_related("unit"), "criteria_set", "unit"
        )
        units = []
        field_totals = [defaultdict(int) for _field in fields]
        grand = defaultdict(int)
        for assessment in assessments.order_by("unit__name"):
            unit_cells = []
            unit_total = defaultdict(int)
            for position, field in enumerate(fields):
                cell = {
                    **cells[(assessment.pk, field.pk)],
                    "total": leaf_counts[field.pk],
                    "self_total": self_counts[field.pk],
                }
                for key in COUNTS:
                    unit_total[key] += cell.get(key, 0)
                    field_totals[position][key] += cell.get(key, 0)
                    grand[key] += cell.get(key, 0)
                cell["field"] = field
                cell["percent"] = _percent(cell.get("appraised", 0), cell["total"])
                cell["status"] = _status(cell.get("appraised", 0), cell["total"])
                unit_cells.append(cell)
            missing = unit_total["total"] - unit_total["appraised"]
            first = next((c.code for c in needs_final if (assessment.pk, c.pk) not in done), None)
            units.append(
                {
                    "assessment": assessment,
                    "cells": unit_cells,
                    "total": {
                        **unit_total,
                        "percent": _percent(unit_total["appraised"], unit_total["total"]),
                        "status": _status(unit_total["appraised"], unit_total["total"]),
                    },
                    "missing": missing,
                    "missing_label": ngettext(
                        "%(count)d leaf without a final score",
                        "%(count)d leaves without a final score",
                        missing,
                    )
                    % {"count": missing},
                    "url": _appraise_url(assessment.pk),
                    "missing_url": _appraise_url(assessment.pk, first),
                }
            )
        totals = [
            {
                **total,
                "percent": _percent(total["appraised"], total["total"]),
                "status": _status(total["appraised"], total["total"]),
            }
            for total in field_totals
        ]
        boards.append(
            {
                "criteria_set": criteria_set,
                "fields": fields,
                "units": units,
                "totals": totals,
                "grand": {
                    **grand,
                    "percent": _percent(grand["appraised"], grand["total"]),
                    "status": _status(grand["appraised"], grand["total"]),
                },
            }
        )
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": Round._meta,
        "title": _("Progress of the %(year)s round") % {"year": round_obj.year},
        "round": round_obj,
        "boards": boards,
    }
    return TemplateResponse(request, "admin/scoring/progress.html", context)


def preview_view(model_admin, request, set_id: int):
    """The group's ranking from the current scores, by the publishing calculation. Not public.
    What is missing is told per unit as a count, with a link to the unit's appraisal page at
    its first leaf without a final score (the codes, a wall on a real set, are behind it)."""
    criteria_set = criteria_set_for_council(request.user, set_id)
    results = group_results(criteria_set, units=visible_units(request.user, criteria_set))
    gaps = []
    if results.gaps:
        assessment_of = dict(criteria_set.assessments.values_list("unit_id", "pk"))
        for unit, codes in results.gaps:
            gaps.append(
                {
                    "unit": unit,
                    "count": len(codes),
                    "label": ngettext(
                        "%(count)d leaf without a final score",
                        "%(count)d leaves without a final score",
                        len(codes),
                    )
                    % {"count": len(codes)},
                    "codes": codes,
                    "url": _appraise_url(assessment_of[unit.pk], codes[0]),
                }
            )
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": CriteriaSet._meta,
        "title": _("Preview (not published): %(set)s") % {"set": criteria_set},
        "gaps": gaps,
        # The missing final scores are told above as counts; the shared list keeps the rest.
        "results": replace(results, gaps=[]),
        "complete": results.complete,
    }
    return TemplateResponse(request, "admin/scoring/preview.html", context)
