"""Every write of the yearly workflow: atomic, row-locked, checked on the server.

Each function takes keyword arguments, locks the rows it changes (``select_for_update``), checks
the user's right through ``permissions`` (raising ``NotAllowed`` with a message for the user),
and writes a ``Transition`` for every stage or status change. Score changes are kept by the
history of ``Score``. Nothing here trusts what a page showed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from django.db import transaction
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from . import notifications
from .calculation import ENTERED_KINDS, FIGURE_KINDS, REQUIRED_KINDS
from .errors import Conflict, Invalid, NotAllowed
from .models import (
    APPRAISAL_COLUMNS,
    LEAF_SOURCE_FIELDS,
    Assessment,
    AssessmentStatus,
    Band,
    CriteriaSet,
    Criterion,
    Evidence,
    Kind,
    Round,
    Score,
    Stage,
    Transition,
)
from .permissions import (
    check_appraise,
    check_drive,
    check_explain,
    check_self_edit,
    check_submit,
    check_submit_explanation,
)

STAGE_ORDER = [
    Stage.SETUP,
    Stage.SELF_ASSESSMENT,
    Stage.APPRAISAL_1,
    Stage.EXPLANATION,
    Stage.APPRAISAL_2,
    Stage.FINAL,
]


def next_stage(stage: str) -> str | None:
    position = STAGE_ORDER.index(stage)
    return STAGE_ORDER[position + 1] if position + 1 < len(STAGE_ORDER) else None


def _lock_assessment(assessment_id: int) -> Assessment:
    """Lock the round, then the assessment (always in that order: no deadlock with a stage
    change, which locks the round). A write therefore sees the stage as it is when it commits:
    an appraisal racing a stage change either lands before the change or is refused after it."""
    round_id = (
        Assessment.objects.filter(pk=assessment_id)
        .values_list("criteria_set__round_id", flat=True)
        .get()
    )
    Round.objects.select_for_update().filter(pk=round_id).values_list("pk").get()
    return (
        Assessment.objects.select_for_update(of=("self",))
        .select_related("unit", "criteria_set__round", "criteria_set__group")
        .get(pk=assessment_id)
    )


def ensure_scores(assessment: Assessment, *, criteria=None, scores=None) -> list[Score]:
    """One score row per leaf, so every leaf can be scored, appraised and explained; returns the
    rows created. A page that has loaded the ``criteria`` and the ``scores`` (criterion id →
    score) already passes them, and nothing more is read."""
    if scores is None:
        have = set(assessment.scores.values_list("criterion_id", flat=True))
    else:
        have = set(scores)
    if criteria is None:
        missing = assessment.criteria_set.criteria.filter(is_leaf=True).exclude(pk__in=have)
    else:
        missing = [c for c in criteria if c.is_leaf and c.pk not in have]
    if not missing:
        return []
    return Score.objects.bulk_create(
        [Score(assessment=assessment, criterion=leaf) for leaf in missing], ignore_conflicts=True
    )


# Stages -----------------------------------------------------------------------------------------


@transaction.atomic
def round_advance(*, round_id: int, user, to_stage: str, deadline=None) -> Round:
    """Close the current stage and open the next one (one step forward only). ``deadline``,
    when given, becomes the new stage's deadline: saved in the same transaction, before the
    e-mails are queued, so they state it. It must be in the future, and the stage must have
    one. A replayed request (the stage already moved) is refused by the ``to_stage`` check."""
    check_drive(user)
    round_obj = Round.objects.select_for_update().get(pk=round_id)
    expected = next_stage(round_obj.stage)
    if expected is None:
        raise NotAllowed(
            _("The round %(year)s is already in its final stage.") % {"year": round_obj.year}
        )
    if to_stage != expected:
        raise NotAllowed(
            _("The round %(year)s is in “%(current)s”: the next stage can only be “%(next)s”.")
            % {
                "year": round_obj.year,
                "current": round_obj.get_stage_display(),
                "next": Stage(expected).label if expected else "—",
            }
        )
    changed = ["stage"]
    if deadline is not None:
        deadline_field = f"{to_stage}_deadline"
        if not hasattr(round_obj, deadline_field):
            raise NotAllowed(
                _("The stage “%(stage)s” has no deadline.") % {"stage": Stage(to_stage).label}
            )
        if deadline <= timezone.now():
            raise NotAllowed(_("The deadline must be in the future."))
        setattr(round_obj, deadline_field, deadline)
        changed.append(deadline_field)
    Transition.objects.create(
        round=round_obj, from_state=round_obj.stage, to_state=to_stage, user=user
    )
    round_obj.stage = to_stage
    round_obj.save(update_fields=changed)
    if to_stage == Stage.SELF_ASSESSMENT:
        for criteria_set in round_obj.criteria_sets.select_related("group"):
            _open_assessments(criteria_set)
    transaction.on_commit(lambda: notifications.stage_opened(round_obj.pk, to_stage))
    return round_obj


def _open_assessments(criteria_set: CriteriaSet) -> None:
    have = set(criteria_set.assessments.values_list("unit_id", flat=True))
    new = [
        Assessment(criteria_set=criteria_set, unit=unit)
        for unit in criteria_set.group.units.exclude(pk__in=have)
    ]
    Assessment.objects.bulk_create(new)


@transaction.atomic
def round_copy_sets(*, round_id: int, year: int, user) -> Round:
    """Copy every criteria set of a round (tree, caps, bands) into the round of ``year``, each
    criterion linked to the one it was copied from."""
    check_drive(user)
    source = Round.objects.get(pk=round_id)
    target, _created = Round.objects.get_or_create(year=year)
    if target.stage != Stage.SETUP:
        raise NotAllowed(_("The round %(year)s has already started.") % {"year": year})
    existing = set(target.criteria_sets.values_list("group_id", flat=True))
    for criteria_set in source.criteria_sets.select_related("group"):
        if criteria_set.group_id in existing:
            raise NotAllowed(
                _("The round %(year)s already has a criteria set for %(group)s.")
                % {"year": year, "group": criteria_set.group}
            )
        copy = CriteriaSet.objects.create(
            round=target,
            group=criteria_set.group,
            bonus_cap=criteria_set.bonus_cap,
            penalty_cap=criteria_set.penalty_cap,
        )
        Band.objects.bulk_create(
            Band(criteria_set=copy, code=b.code, label=b.label, min_index=b.min_index)
            for b in criteria_set.bands.all()
        )
        copies: dict[int, Criterion] = {}
        for old in criteria_set.criteria.order_by("position"):
            copies[old.pk] = Criterion.objects.create(
                criteria_set=copy,
                code=old.code,
                parent=copies.get(old.parent_id),
                title=old.title,
                guidance=old.guidance,
                max_points=old.max_points,
                kind=old.kind,
                is_leaf=old.is_leaf,
                position=old.position,
                previous=old,
                **{name: getattr(old, name) for name in LEAF_SOURCE_FIELDS},
            )
    Transition.objects.create(
        round=target,
        from_state="",
        to_state=target.stage,
        user=user,
        note=_("criteria sets copied from %(year)s") % {"year": source.year},
    )
    return target


# Self-assessment --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SelfInput:
    """A unit's entry for one leaf: its points (``self`` and ``bonus`` leaves) or its reported
    figure (``target`` leaves, whose points follow from the leaf's rule)."""

    criterion_id: int
    self_score: Decimal | None
    method: str = ""
    na_requested: bool = False
    na_reason: str = ""
    figure: Decimal | None = None
    version: int | None = None  # the version the page showed; None: no check


@transaction.atomic
def assessment_save_self(*, assessment_id: int, user, leaves: list[SelfInput]) -> int:
    """Save the unit's self scores; returns how many leaves changed. All or nothing: an invalid
    value (``Invalid``) or a leaf saved by a colleague since their page showed it (``Conflict``,
    when the input carries the version it saw) writes nothing."""
    assessment = _lock_assessment(assessment_id)
    check_self_edit(user, assessment)
    ensure_scores(assessment)
    scores = {
        s.criterion_id: s for s in assessment.scores.select_for_update().select_related("criterion")
    }
    errors, conflicts, changes = {}, [], []
    for item in leaves:
        score = scores.get(item.criterion_id)
        if score is None or score.criterion.kind not in ENTERED_KINDS:
            continue
        criterion = score.criterion
        if item.self_score is not None and not 0 <= item.self_score <= criterion.max_points:
            errors[criterion.code] = _("The score must be between 0 and %(max)s.") % {
                "max": criterion.max_points
            }
            continue
        if item.figure is not None and item.figure < 0:
            errors[criterion.code] = _("The figure must be 0 or more.")
            continue
        if item.na_requested and not item.na_reason.strip():
            errors[criterion.code] = _("Give the reason why this leaf does not apply.")
            continue
        values = {
            "self_method": item.method.strip(),
            "not_applicable_requested": item.na_requested,
            "not_applicable_reason": item.na_reason.strip() if item.na_requested else "",
        }
        if criterion.kind in FIGURE_KINDS:
            figure = None if item.na_requested else item.figure
            values["self_figure"] = figure
            values["self_score"] = criterion.points_for(figure)  # derived, never typed
        else:
            values["self_score"] = None if item.na_requested else item.self_score
        if all(getattr(score, k) == v for k, v in values.items()):
            continue
        if item.version is not None and item.version != score.version:
            conflicts.append(criterion.code)
            continue
        changes.append((score, values))
    if conflicts:
        raise Conflict(conflicts)
    if errors:
        raise Invalid(errors)
    for score, values in changes:
        for key, value in values.items():
            setattr(score, key, value)
        score.record_change("self-assessment")
    return len(changes)


def lacks_evidence(score: Score, *, has_evidence: bool) -> bool:
    """A scored leaf a submission refuses: neither evidence nor how it was scored (a leaf the
    unit asks to set aside needs neither)."""
    return not has_evidence and not score.not_applicable_requested and not score.self_method.strip()


def self_assessment_gaps(assessment: Assessment) -> dict[str, str]:
    """What stops a submission: leaf code → what is missing, in the order of the tree (a leaf
    nothing was ever saved on, without its score row yet, included)."""
    scores = {
        score.criterion_id: score
        for score in assessment.scores.filter(criterion__kind__in=REQUIRED_KINDS).prefetch_related(
            "evidence"
        )
    }
    gaps = {}
    for criterion in assessment.criteria_set.criteria.filter(
        is_leaf=True, kind__in=REQUIRED_KINDS
    ).order_by("position"):
        score = scores.get(criterion.pk)
        if score is not None and score.not_applicable_requested:
            continue
        if criterion.kind == Kind.TARGET and (score is None or score.self_figure is None):
            gaps[criterion.code] = _("no figure reported")
        elif score is None or score.self_score is None:
            gaps[criterion.code] = _("no self score")
        elif lacks_evidence(score, has_evidence=bool(score.evidence.all())):
            gaps[criterion.code] = _("no evidence and no explanation of how it was scored")
    return gaps


@transaction.atomic
def assessment_submit(*, assessment_id: int, user) -> Assessment:
    """The head submits: the assessment is locked and its evidence fingerprinted."""
    assessment = _lock_assessment(assessment_id)
    check_submit(user, assessment)
    ensure_scores(assessment)
    gaps = self_assessment_gaps(assessment)
    if gaps:
        raise Invalid(gaps)
    hashes = []
    for evidence in Evidence.objects.filter(score__assessment=assessment).exclude(file=""):
        digest = _sha256_of_stored(evidence)
        if digest != evidence.sha256:
            evidence.sha256 = digest
            evidence.save(update_fields=["sha256"])
        hashes.append(digest)
    assessment.set_status(
        AssessmentStatus.SUBMITTED,
        user,
        submitted_at=timezone.now(),
        evidence_fingerprint=hashlib.sha256("\n".join(sorted(hashes)).encode()).hexdigest(),
    )
    return assessment


@transaction.atomic
def assessment_reopen(*, assessment_id: int, user, reason: str) -> Assessment:
    """The secretariat gives a submitted self-assessment back to its unit, with a reason, while
    self-assessment is open and its deadline has not passed; the unit's head is e-mailed. The
    time of the submission and its evidence fingerprint stay in the log (the ``Transition``)."""
    check_drive(user)
    reason = reason.strip()
    if not reason:
        raise NotAllowed(_("Give the reason for reopening the submission."))
    assessment = _lock_assessment(assessment_id)
    round_obj = assessment.criteria_set.round
    if round_obj.stage != Stage.SELF_ASSESSMENT:
        raise NotAllowed(_("A submission can be reopened only while self-assessment is open."))
    if round_obj.deadline_passed():
        raise NotAllowed(
            _(
                "The self-assessment deadline has passed: the unit could not change anything. "
                "Extend the deadline of the round first."
            )
        )
    if assessment.status != AssessmentStatus.SUBMITTED:
        raise NotAllowed(
            _("%(unit)s has not submitted its self-assessment: there is nothing to reopen.")
            % {"unit": assessment.unit.name}
        )
    assessment.set_status(
        AssessmentStatus.DRAFT,
        user,
        note=_("Reopened: %(reason)s (submitted %(at)s, evidence fingerprint %(fingerprint)s)")
        % {
            "reason": reason,
            "at": date_format(timezone.localtime(assessment.submitted_at), "SHORT_DATETIME_FORMAT")
            if assessment.submitted_at
            else "—",
            "fingerprint": assessment.evidence_fingerprint or "—",
        },
        submitted_at=None,
        evidence_fingerprint="",
    )
    transaction.on_commit(lambda: notifications.assessment_reopened(assessment.pk, reason))
    return assessment


def _sha256_of_stored(evidence: Evidence) -> str:
    digest = hashlib.sha256()
    with evidence.file.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


# Evidence ---------------------------------------------------------------------------------------


def _check_evidence_write(user, assessment: Assessment, score: Score) -> str:
    """Evidence is added during self-assessment, or for a flagged leaf during explanation."""
    if assessment.criteria_set.round.stage == Stage.EXPLANATION:
        check_explain(user, assessment)
        if not score.explanation_requested:
            raise NotAllowed(_("Evidence can be added now only to leaves flagged for explanation."))
        return Stage.EXPLANATION
    check_self_edit(user, assessment)
    return Stage.SELF_ASSESSMENT


@transaction.atomic
def evidence_add(
    *,
    assessment_id: int,
    criterion_id: int,
    user,
    upload=None,
    document_number: str = "",
    document_date=None,
    page: str = "",
    description: str = "",
) -> Evidence:
    """Attach a checked file (see ``forms.EvidenceForm``) or a cited document to a leaf."""
    assessment = _lock_assessment(assessment_id)
    ensure_scores(assessment)
    score = assessment.scores.select_related("criterion").get(criterion_id=criterion_id)
    stage = _check_evidence_write(user, assessment, score)
    evidence = Evidence(
        score=score,
        document_number=document_number.strip(),
        document_date=document_date,
        page=page.strip(),
        description=description.strip(),
        stage=stage,
        uploaded_by=user,
    )
    if upload is not None:
        digest = hashlib.sha256()
        for chunk in upload.chunks():
            digest.update(chunk)
        upload.seek(0)
        evidence.sha256 = digest.hexdigest()
        evidence.size = upload.size
        evidence.original_name = upload.name[:255]
        evidence.file.save(upload.name, upload, save=False)
    if not evidence.file and not evidence.document_number:
        raise NotAllowed(_("Attach a file or cite a document number."))
    evidence.save()
    return evidence


@transaction.atomic
def evidence_delete(*, evidence_id: int, user) -> None:
    evidence = Evidence.objects.select_related("score").get(pk=evidence_id)
    assessment = _lock_assessment(evidence.score.assessment_id)
    stage = _check_evidence_write(user, assessment, evidence.score)
    if evidence.stage != stage:
        raise NotAllowed(_("Evidence of an earlier stage cannot be removed."))
    if evidence.file:
        evidence.file.delete(save=False)
    evidence.delete()


# Appraisal --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AppraisalInput:
    """The council's entry for one leaf: its points, or for a ``target`` leaf the verified or
    corrected figure (``figure``; the points follow from the rule and ``value`` is ignored)."""

    score_id: int
    version: int
    value: Decimal | None
    reason: str = ""
    flag: bool = False
    not_applicable: bool = False
    note: str | None = None  # the council's public note; None leaves it as it is
    figure: Decimal | None = None


@transaction.atomic
def score_appraise(
    *,
    assessment_id: int,
    user,
    stage: str,
    items: list[AppraisalInput],
    rejected: dict[str, str] | None = None,
) -> int:
    """Save round-1 or round-2 appraisals of leaves of the user's fields; returns how many
    leaves changed. A conflict writes nothing (``Conflict``), nor does a leaf of a field not
    the user's, or the wrong stage or a passed deadline (``NotAllowed``). A value that breaks
    a rule writes nothing either (``Invalid``), unless the caller passes ``rejected``: then
    the leaves that break a rule are left out and put into it (code → why), and the others
    are saved, so that one mistake does not cost an appraiser the rest of their page."""
    if stage not in (Stage.APPRAISAL_1, Stage.APPRAISAL_2):
        raise NotAllowed(_("Appraisal happens in round 1 or round 2 only."))
    assessment = _lock_assessment(assessment_id)
    scores = {
        s.pk: s
        for s in assessment.scores.select_for_update(of=("self",))
        .select_related("criterion")
        .filter(pk__in=[item.score_id for item in items])
    }
    field_of = {c.pk: c.field.pk for c in assessment.criteria_set.criteria.tree()}

    value_field, figure_field = APPRAISAL_COLUMNS[stage]
    reason_field = f"{value_field}_reason"
    conflicts, errors, changes = [], {}, []
    for item in items:
        score = scores.get(item.score_id)
        if score is None:
            raise NotAllowed(_("This leaf does not belong to this assessment."))
        criterion = score.criterion
        value = item.value
        values = {reason_field: item.reason.strip()}
        if criterion.kind in FIGURE_KINDS:
            if item.figure is not None and item.figure < 0:
                errors[criterion.code] = _("The figure must be 0 or more.")
                continue
            value = criterion.points_for(item.figure)
            values[figure_field] = item.figure
        values[value_field] = value
        values["not_applicable"] = item.not_applicable
        if stage == Stage.APPRAISAL_1:
            values["explanation_requested"] = item.flag
        if item.note is not None:
            values["note"] = item.note.strip()
        if all(getattr(score, k) == v for k, v in values.items()):
            continue
        check_appraise(user, assessment, field_of[criterion.pk], stage)
        if score.version != item.version:
            conflicts.append(criterion.code)
            continue
        if criterion.kind == Kind.SURVEY and value != getattr(score, value_field):
            errors[criterion.code] = _("Survey points are imported, not appraised.")
        elif value is not None and not 0 <= value <= criterion.max_points:
            errors[criterion.code] = _("The score must be between 0 and %(max)s.") % {
                "max": criterion.max_points
            }
        elif (
            value is not None
            and score.self_score is not None
            and value < score.self_score
            and not item.reason.strip()
        ):
            errors[criterion.code] = _("A score below the self score needs a reason.")
        elif stage == Stage.APPRAISAL_2 and not score.explanation_requested:
            errors[criterion.code] = _(
                "Round 2 re-appraises only the leaves flagged for explanation."
            )
        else:
            changes.append((score, values))
    if conflicts:
        raise Conflict(conflicts)
    if errors:
        if rejected is None:
            raise Invalid(errors)
        rejected.update(errors)
    for score, values in changes:
        for key, value in values.items():
            setattr(score, key, value)
        score.record_change(stage)
    return len(changes)


class FieldAccepted(NamedTuple):
    """What ``field_accept`` did: the codes of the leaves accepted, and of those left to the
    appraiser because the unit asked for them to be not applicable."""

    accepted: list[str]
    left_not_applicable: list[str]


@transaction.atomic
def field_accept(
    *, assessment_id: int, field_id: int, user, skip: Collection[int] = ()
) -> FieldAccepted:
    """Round 1: take the self score as the appraisal (a target leaf: the reported figure as
    the verified one) for every leaf of the field not yet appraised and not marked not
    applicable, except the scores in ``skip`` (what the appraiser has just edited on the
    page) and the leaves the unit asked to be not applicable: accepting a request is the
    appraiser's decision, leaf by leaf, so those are listed, never accepted."""
    assessment = _lock_assessment(assessment_id)
    check_appraise(user, assessment, field_id, Stage.APPRAISAL_1)
    in_field = {c.pk: c for c in assessment.criteria_set.criteria.tree() if c.field.pk == field_id}
    accepted, left = [], []
    for score in (
        assessment.scores.select_for_update()
        .filter(
            criterion_id__in=in_field,
            criterion__kind__in=ENTERED_KINDS,
            appraisal_1__isnull=True,
            not_applicable=False,
        )
        .exclude(pk__in=list(skip))
    ):
        code = in_field[score.criterion_id].code
        if score.not_applicable_requested:
            left.append(code)
        elif score.self_score is not None:
            score.appraisal_1 = score.self_score
            score.figure_1 = score.self_figure
            score.record_change("accept self score")
            accepted.append(code)
    order = {c.code: c.position for c in in_field.values()}
    return FieldAccepted(
        sorted(accepted, key=order.__getitem__), sorted(left, key=order.__getitem__)
    )


# Explanation ------------------------------------------------------------------------------------


@transaction.atomic
def score_explain(
    *, assessment_id: int, user, explanations: dict[int, str], versions: dict | None = None
) -> int:
    """The unit answers the flagged leaves (criterion id → text); returns how many changed. With
    ``versions`` (criterion id → the version the page showed), a leaf a colleague answered since
    is a ``Conflict``, and nothing is written."""
    assessment = _lock_assessment(assessment_id)
    check_explain(user, assessment)
    versions = versions or {}
    changes, conflicts = [], []
    for score in (
        assessment.scores.select_for_update()
        .select_related("criterion")
        .filter(criterion_id__in=explanations, explanation_requested=True)
    ):
        text = explanations[score.criterion_id].strip()
        if text == score.explanation:
            continue
        seen = versions.get(score.criterion_id)
        if seen is not None and seen != score.version:
            conflicts.append(score.criterion.code)
            continue
        changes.append((score, text))
    if conflicts:
        raise Conflict(conflicts)
    for score, text in changes:
        score.explanation = text
        score.record_change("explanation")
    return len(changes)


def explanation_gaps(assessment: Assessment) -> dict[str, str]:
    """What stops submitting the explanation: leaf code → what is missing."""
    return {
        code: _("no explanation")
        for code in assessment.scores.filter(explanation_requested=True, explanation="")
        .order_by("criterion__position")
        .values_list("criterion__code", flat=True)
    }


@transaction.atomic
def assessment_submit_explanation(*, assessment_id: int, user) -> Assessment:
    assessment = _lock_assessment(assessment_id)
    check_submit_explanation(user, assessment)
    missing = explanation_gaps(assessment)
    if missing:
        raise Invalid(missing)
    assessment.set_status(AssessmentStatus.EXPLAINED, user, explanation_submitted_at=timezone.now())
    return assessment
