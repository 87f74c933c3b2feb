"""Who may read or change which assessment, in one place.

Every staff view starts with ``assessment_for_member`` (404, not 403, for anything outside the
user's unit) and every write goes through one of the ``can_*`` checks below, which the workflow
functions call again on the server whatever the page showed.
"""

from __future__ import annotations

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import AppraiserAssignment, Assessment, AssessmentStatus, Membership, Stage

SECRETARIAT = "Tổ giúp việc"
APPRAISER = "Hội đồng thẩm định"
UNIT_STAFF = "Cán bộ đơn vị"
UNIT_HEAD = "Lãnh đạo đơn vị"
ROLES = (SECRETARIAT, APPRAISER, UNIT_STAFF, UNIT_HEAD)


class NotAllowed(Exception):
    """A refused write; the message tells the user why (in their language)."""


def unit_of(user):
    """The unit the user works for, or None."""
    if not user.is_authenticated:
        return None
    try:
        return user.membership.unit
    except Membership.DoesNotExist:
        return None


def is_secretariat(user) -> bool:
    return user.is_active and (user.is_superuser or user.has_perm("scoring.drive_stages"))


def assessment_for_member(user, year: int, unit_code: str) -> Assessment:
    """The assessment of the user's own unit for that year, or 404."""
    unit = unit_of(user)
    if unit is None or unit.code != unit_code or not user.has_perm("scoring.self_assess"):
        raise Http404
    try:
        return Assessment.objects.select_related(
            "unit", "criteria_set__round", "criteria_set__group"
        ).get(unit=unit, criteria_set__round__year=year)
    except Assessment.DoesNotExist:
        raise Http404 from None


def assigned_field_ids(user, criteria_set) -> set[int]:
    """The fields of a set the user may appraise (all of them for a superuser)."""
    if not user.is_active or not user.is_staff:
        return set()
    if user.is_superuser:
        return set(criteria_set.criteria.filter(parent=None).values_list("pk", flat=True))
    if not user.has_perm("scoring.appraise"):
        return set()
    return set(
        AppraiserAssignment.objects.filter(user=user, field__criteria_set=criteria_set).values_list(
            "field_id", flat=True
        )
    )


def can_view_assessment(user, assessment: Assessment) -> bool:
    """Unit members of that unit, the secretariat, and council members of that round."""
    if not user.is_authenticated or not user.is_active:
        return False
    if is_secretariat(user):
        return True
    unit = unit_of(user)
    if unit is not None and unit.pk == assessment.unit_id and user.has_perm("scoring.self_assess"):
        return True
    return bool(assigned_field_ids(user, assessment.criteria_set))


def _deadline_passed(round_obj, stage: str) -> bool:
    deadline = round_obj.deadline_for(stage)
    return deadline is not None and timezone.now() > deadline


def _require_stage(round_obj, stage: str) -> None:
    if round_obj.stage != stage:
        raise NotAllowed(
            _("This is not possible now: the round is in the stage “%(current)s”, not “%(stage)s”.")
            % {"current": round_obj.get_stage_display(), "stage": Stage(stage).label}
        )
    if _deadline_passed(round_obj, stage):
        deadline = timezone.localtime(round_obj.deadline_for(stage))
        raise NotAllowed(
            _("The deadline of this stage has passed (%(deadline)s).")
            % {"deadline": deadline.strftime("%d/%m/%Y %H:%M")}
        )


def _require_member(user, assessment: Assessment, permission: str) -> None:
    unit = unit_of(user)
    if unit is None or unit.pk != assessment.unit_id or not user.has_perm(permission):
        raise NotAllowed(_("You cannot change this unit's assessment."))


def check_self_edit(user, assessment: Assessment) -> None:
    _require_member(user, assessment, "scoring.self_assess")
    _require_stage(assessment.criteria_set.round, Stage.SELF_ASSESSMENT)
    if assessment.status != AssessmentStatus.DRAFT:
        raise NotAllowed(_("The self-assessment has been submitted and is locked."))


def check_submit(user, assessment: Assessment) -> None:
    check_self_edit(user, assessment)
    if not user.has_perm("scoring.submit_assessment"):
        raise NotAllowed(_("Only the unit's head can submit the self-assessment."))


def check_explain(user, assessment: Assessment) -> None:
    _require_member(user, assessment, "scoring.self_assess")
    _require_stage(assessment.criteria_set.round, Stage.EXPLANATION)
    if assessment.status == AssessmentStatus.EXPLAINED:
        raise NotAllowed(_("The explanation has been submitted and is locked."))


def check_submit_explanation(user, assessment: Assessment) -> None:
    check_explain(user, assessment)
    if not user.has_perm("scoring.submit_assessment"):
        raise NotAllowed(_("Only the unit's head can submit the explanation."))


def check_appraise(user, assessment: Assessment, field_id: int, stage: str) -> None:
    if field_id not in assigned_field_ids(user, assessment.criteria_set):
        raise NotAllowed(_("This field is not assigned to you."))
    _require_stage(assessment.criteria_set.round, stage)


def check_drive(user) -> None:
    if not is_secretariat(user):
        raise NotAllowed(_("Only the secretariat can change stages."))
