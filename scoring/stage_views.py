"""The stage wizard: the secretariat closes the current stage of a round and opens the next one.

One page (``/council/stages/<year>/``) says, before anything happens, what changes for whom,
who is e-mailed (``notifications.stage_recipients``, the e-mail's own definition), and what is
left undone in the stage being closed (the blockers). Blockers warn; the secretariat may go on
after acknowledging them. It asks for the new stage's deadline, and the confirmed POST opens the
stage through ``workflow.round_advance``, which saves the deadline in the same transaction.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, Q
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from . import notifications, workflow
from .calculation import MUST_APPRAISE_KINDS, SCORED_KINDS
from .errors import Refused
from .models import (
    Assessment,
    AssessmentStatus,
    Criterion,
    Round,
    Score,
    Stage,
    UnitGroup,
)
from .permissions import round_for_secretariat

# What opening each stage changes, for whom, in plain words (the stage before it closes).
STAGE_EFFECTS = {
    Stage.SELF_ASSESSMENT: [
        gettext_lazy(
            "An assessment opens for every unit of each group that has a criteria set this year."
        ),
        gettext_lazy(
            "Unit staff can score their unit, report figures and attach evidence; the unit's "
            "head submits, until the deadline."
        ),
        gettext_lazy("Criteria sets that receive scores can no longer be changed."),
    ],
    Stage.APPRAISAL_1: [
        gettext_lazy(
            "Self-assessment closes: units can no longer change their scores or evidence, and "
            "units that have not submitted can no longer submit."
        ),
        gettext_lazy("The secretariat can no longer reopen a submission."),
        gettext_lazy(
            "Appraisers appraise the leaves of their fields and flag those the unit must "
            "explain, until the deadline."
        ),
    ],
    Stage.EXPLANATION: [
        gettext_lazy(
            "Round 1 of the appraisal closes: appraisers can no longer change round-1 scores "
            "or flags."
        ),
        gettext_lazy(
            "Units with flagged leaves answer them and may add evidence; the unit's head "
            "submits the explanation, until the deadline. Other units only read."
        ),
    ],
    Stage.APPRAISAL_2: [
        gettext_lazy(
            "The explanation closes: units that have not submitted their explanation can no "
            "longer answer."
        ),
        gettext_lazy(
            "Appraisers re-appraise the flagged leaves only, until the deadline; a leaf not "
            "re-appraised keeps its round-1 score."
        ),
    ],
    Stage.FINAL: [
        gettext_lazy(
            "The appraisal closes: nobody can change a score on the pages any more; the final "
            "score of each leaf is its round-2 score, else its round-1 score."
        ),
        gettext_lazy("The secretariat can preview and publish the results."),
    ],
}


def has_deadline(stage: str | None) -> bool:
    """The stage has a deadline field on ``Round``."""
    return stage is not None and hasattr(Round, f"{stage}_deadline")


# The blockers: what is left undone in the stage being closed ----------------------------------


@dataclass
class Blocker:
    """One kind of unfinished work: a sentence with its count, and the units (or sets) concerned,
    each with a link to where it can be seen and what is missing."""

    summary: str
    items: list[dict] = field(default_factory=list)


def _appraise_link(assessment_id: int) -> str:
    return reverse("admin:scoring_assessment_appraise", args=[assessment_id])


def _assessments(round_obj: Round):
    return (
        Assessment.objects.filter(criteria_set__round=round_obj)
        .select_related("unit")
        .order_by("unit__name")
    )


def _leaf_counts(round_obj: Round, kinds, **filters) -> Counter:
    """Criteria set id → how many leaves of ``kinds`` it has."""
    return Counter(
        Criterion.objects.filter(
            criteria_set__round=round_obj, is_leaf=True, kind__in=kinds, **filters
        ).values_list("criteria_set_id", flat=True)
    )


def _done_counts(round_obj: Round, condition: Q, kinds, **filters) -> Counter:
    """Assessment id → how many of its scores on leaves of ``kinds`` meet ``condition``."""
    return Counter(
        Score.objects.filter(
            condition,
            assessment__criteria_set__round=round_obj,
            criterion__kind__in=kinds,
            **{f"criterion__{k}": v for k, v in filters.items()},
        ).values_list("assessment_id", flat=True)
    )


def _setup_blockers(round_obj: Round) -> list[Blocker]:
    blockers = []
    without_set = (
        UnitGroup.objects.filter(
            Q(units__dissolved_on__isnull=True) | Q(units__dissolved_on__year__gte=round_obj.year)
        )
        .exclude(criteria_sets__round=round_obj)
        .annotate(unit_count=Count("units", distinct=True))
        .order_by("order", "code")
    )
    if without_set:
        blockers.append(
            Blocker(
                ngettext(
                    "%(count)d group has units but no criteria set this year",
                    "%(count)d groups have units but no criteria set this year",
                    len(without_set),
                )
                % {"count": len(without_set)},
                [
                    {
                        "name": group.name,
                        "url": reverse("admin:scoring_criteriaset_add"),
                        "detail": ngettext(
                            "%(count)d unit will not be assessed",
                            "%(count)d units will not be assessed",
                            group.unit_count,
                        )
                        % {"count": group.unit_count},
                    }
                    for group in without_set
                ],
            )
        )
    empty = (
        round_obj.criteria_sets.select_related("round", "group")
        .annotate(leaves=Count("criteria", filter=Q(criteria__is_leaf=True)))
        .filter(leaves=0)
    )
    if empty:
        blockers.append(
            Blocker(
                ngettext(
                    "%(count)d criteria set has no leaf to score",
                    "%(count)d criteria sets have no leaf to score",
                    len(empty),
                )
                % {"count": len(empty)},
                [
                    {
                        "name": str(criteria_set),
                        "url": reverse("admin:scoring_criteriaset_change", args=[criteria_set.pk]),
                        "detail": _("no criteria imported"),
                    }
                    for criteria_set in empty
                ],
            )
        )
    return blockers


def _self_assessment_blockers(round_obj: Round) -> list[Blocker]:
    drafts = list(_assessments(round_obj).filter(status=AssessmentStatus.DRAFT))
    if not drafts:
        return []
    return [
        Blocker(
            ngettext(
                "%(count)d unit has not submitted its self-assessment",
                "%(count)d units have not submitted their self-assessment",
                len(drafts),
            )
            % {"count": len(drafts)},
            [
                {
                    "name": a.unit.name,
                    "url": _appraise_link(a.pk),
                    "detail": _("not submitted"),
                }
                for a in drafts
            ],
        )
    ]


def _appraisal_1_blockers(round_obj: Round) -> list[Blocker]:
    totals = _leaf_counts(round_obj, MUST_APPRAISE_KINDS)
    done = _done_counts(
        round_obj,
        Q(appraisal_1__isnull=False) | Q(not_applicable=True),
        MUST_APPRAISE_KINDS,
    )
    items = []
    for a in _assessments(round_obj):
        total = totals[a.criteria_set_id]
        missing = total - done[a.pk]
        if missing > 0:
            items.append(
                {
                    "name": a.unit.name,
                    "url": _appraise_link(a.pk),
                    "detail": ngettext(
                        "%(missing)d of %(total)d leaf not appraised",
                        "%(missing)d of %(total)d leaves not appraised",
                        total,  # "1 of 2 leaves": the noun agrees with the total
                    )
                    % {"missing": missing, "total": total},
                }
            )
    if not items:
        return []
    return [
        Blocker(
            ngettext(
                "%(count)d unit has leaves not appraised in round 1",
                "%(count)d units have leaves not appraised in round 1",
                len(items),
            )
            % {"count": len(items)},
            items,
        )
    ]


def _explanation_blockers(round_obj: Round) -> list[Blocker]:
    flagged = Counter()
    answered = Counter()
    for assessment_id, explanation in Score.objects.filter(
        assessment__criteria_set__round=round_obj, explanation_requested=True
    ).values_list("assessment_id", "explanation"):
        flagged[assessment_id] += 1
        answered[assessment_id] += bool(explanation.strip())
    items = [
        {
            "name": a.unit.name,
            "url": _appraise_link(a.pk),
            "detail": ngettext(
                "explanation not submitted; %(answered)d of %(flagged)d flagged leaf answered",
                "explanation not submitted; %(answered)d of %(flagged)d flagged leaves answered",
                flagged[a.pk],
            )
            % {"answered": answered[a.pk], "flagged": flagged[a.pk]},
        }
        for a in _assessments(round_obj).exclude(status=AssessmentStatus.EXPLAINED)
        if flagged[a.pk]
    ]
    if not items:
        return []
    return [
        Blocker(
            ngettext(
                "%(count)d unit has not submitted its explanation",
                "%(count)d units have not submitted their explanation",
                len(items),
            )
            % {"count": len(items)},
            items,
        )
    ]


def _appraisal_2_blockers(round_obj: Round) -> list[Blocker]:
    assessments = list(_assessments(round_obj))
    blockers = []
    not_reappraised = Counter(
        Score.objects.filter(
            assessment__criteria_set__round=round_obj,
            explanation_requested=True,
            appraisal_2__isnull=True,
            not_applicable=False,
        ).values_list("assessment_id", flat=True)
    )
    items = [
        {
            "name": a.unit.name,
            "url": _appraise_link(a.pk),
            "detail": ngettext(
                "%(count)d flagged leaf keeps its round-1 score",
                "%(count)d flagged leaves keep their round-1 score",
                not_reappraised[a.pk],
            )
            % {"count": not_reappraised[a.pk]},
        }
        for a in assessments
        if not_reappraised[a.pk]
    ]
    if items:
        blockers.append(
            Blocker(
                ngettext(
                    "%(count)d unit has flagged leaves not re-appraised",
                    "%(count)d units have flagged leaves not re-appraised",
                    len(items),
                )
                % {"count": len(items)},
                items,
            )
        )
    # What publishing will list: leaves needing a final score (survey points fed from SIPAS
    # excepted: they follow from the unit's SIPAS).
    totals = _leaf_counts(round_obj, SCORED_KINDS, sipas_element="")
    done = _done_counts(
        round_obj,
        Q(appraisal_1__isnull=False) | Q(appraisal_2__isnull=False) | Q(not_applicable=True),
        SCORED_KINDS,
        sipas_element="",
    )
    items = []
    for a in assessments:
        missing = totals[a.criteria_set_id] - done[a.pk]
        if missing > 0:
            items.append(
                {
                    "name": a.unit.name,
                    "url": _appraise_link(a.pk),
                    "detail": ngettext(
                        "%(count)d leaf has no final score",
                        "%(count)d leaves have no final score",
                        missing,
                    )
                    % {"count": missing},
                }
            )
    if items:
        blockers.append(
            Blocker(
                ngettext(
                    "%(count)d unit has leaves without a final score: publishing will refuse "
                    "until they have one",
                    "%(count)d units have leaves without a final score: publishing will refuse "
                    "until they have one",
                    len(items),
                )
                % {"count": len(items)},
                items,
            )
        )
    return blockers


BLOCKERS = {
    Stage.SETUP: _setup_blockers,
    Stage.SELF_ASSESSMENT: _self_assessment_blockers,
    Stage.APPRAISAL_1: _appraisal_1_blockers,
    Stage.EXPLANATION: _explanation_blockers,
    Stage.APPRAISAL_2: _appraisal_2_blockers,
}


def stage_blockers(round_obj: Round) -> list[Blocker]:
    """What is left undone in the round's current stage, if it closes now."""
    find = BLOCKERS.get(round_obj.stage)
    return find(round_obj) if find else []


# The form ---------------------------------------------------------------------------------------


class StageAdvanceForm(forms.Form):
    """The confirmation: the stage the page showed (a replay after the stage moved is refused),
    the new stage's deadline (when it has one) and, when something is left undone, the
    acknowledgement of it."""

    from_stage = forms.CharField(widget=forms.HiddenInput)
    deadline = forms.DateTimeField(
        label=gettext_lazy("Deadline"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M"],
        # What a datetime-local box sends (ISO, whatever the browser shows), and what a person
        # types where the box is plain text.
        widget=forms.DateTimeInput(
            attrs={"type": "datetime-local", "aria-describedby": "deadline-hint"},
            format="%Y-%m-%dT%H:%M",
        ),
        help_text=gettext_lazy("Vietnam time (UTC+7)."),
        error_messages={
            "required": gettext_lazy("Give the deadline of the new stage."),
            "invalid": gettext_lazy(
                "Write the deadline as a date and a time, e.g. 31/12/2026 17:00."
            ),
        },
    )
    acknowledge = forms.BooleanField(
        required=False,
        error_messages={"required": gettext_lazy("Tick the box: the warnings above apply.")},
    )

    def __init__(self, *args, round_obj: Round, following: str, blockers: list[Blocker], **kw):
        super().__init__(*args, **kw)
        self.round_obj = round_obj
        if has_deadline(following):
            self.fields["deadline"].label = _("Deadline of “%(stage)s”") % {
                "stage": Stage(following).label
            }
        else:
            del self.fields["deadline"]
        if blockers:
            self.fields["acknowledge"].required = True
            self.fields["acknowledge"].label = _(
                "I understand that %(what)s, and I want to open “%(next)s” all the same."
            ) % {"what": "; ".join(b.summary for b in blockers), "next": Stage(following).label}
        else:
            del self.fields["acknowledge"]

    def clean_deadline(self):
        deadline = self.cleaned_data["deadline"]
        if deadline is not None and deadline <= timezone.now():
            raise forms.ValidationError(_("The deadline must be in the future."))
        return deadline


# The page ---------------------------------------------------------------------------------------


def stage_wizard_view(request, year: int):
    """GET: what opening the next stage means. POST: open it (the secretariat only)."""
    round_obj = round_for_secretariat(request.user, year)
    following = workflow.next_stage(round_obj.stage)
    if following is None:
        if request.method == "POST":
            messages.error(
                request,
                _("The round %(year)s is already in its final stage.") % {"year": round_obj.year},
            )
            return redirect("stages:wizard", year=round_obj.year)
        return _render(request, round_obj, None, [], None)
    blockers = stage_blockers(round_obj)
    options = {"round_obj": round_obj, "following": following, "blockers": blockers}
    if request.method != "POST":
        stored = round_obj.deadline_for(following)
        initial = {"from_stage": round_obj.stage}
        if stored is not None:
            initial["deadline"] = timezone.localtime(stored)
        form = StageAdvanceForm(initial=initial, **options)
        return _render(request, round_obj, following, blockers, form)
    if request.POST.get("from_stage") != round_obj.stage:
        messages.error(
            request,
            _(
                "The round %(year)s is already in “%(current)s”: the stage changed since the "
                "page was shown. Nothing was changed; read the page again before going on."
            )
            % {"year": round_obj.year, "current": round_obj.get_stage_display()},
        )
        return redirect("stages:wizard", year=round_obj.year)
    form = StageAdvanceForm(request.POST, **options)
    if form.is_valid():
        try:
            workflow.round_advance(
                round_id=round_obj.pk,
                user=request.user,
                to_stage=workflow.next_stage(form.cleaned_data["from_stage"]),
                deadline=form.cleaned_data.get("deadline"),
            )
        except Refused as refusal:
            form.add_error(None, str(refusal))
        else:
            messages.success(
                request,
                _("%(year)s: “%(stage)s” is open.")
                % {"year": round_obj.year, "stage": Stage(following).label},
            )
            return redirect("admin:scoring_round_changelist")
    return _render(request, round_obj, following, blockers, form)


def _render(request, round_obj, following, blockers, form):
    recipients = notifications.stage_recipients(round_obj, following) if following else None
    context = {
        **admin.site.each_context(request),
        "opts": Round._meta,
        "title": _("Next stage of the %(year)s round") % {"year": round_obj.year},
        "round": round_obj,
        "current_label": round_obj.get_stage_display(),
        "following": following,
        "following_label": Stage(following).label if following else "",
        "effects": STAGE_EFFECTS.get(following, []),
        "recipients": recipients,
        "blockers": blockers,
        "form": form,
    }
    return TemplateResponse(request, "admin/scoring/stage_wizard.html", context)
