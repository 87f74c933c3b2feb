"""Who may read or change what, in one place.

Pages start with one of the ``*_for_member`` / ``*_for_council`` helpers, which return the object
or raise 404 (never 403) for anything outside the user's unit or the sets they appraise. Every
write goes through one of the ``check_*`` functions, which the workflow functions call again on
the server whatever the page showed. The admin asks here too (``is_secretariat``,
``council_scope``), so every decision counts ``is_active`` the same way.
"""

from __future__ import annotations

from django.db.models import F, Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from .calculation import APPRAISED_KINDS, FIGURE_KINDS
from .errors import NotAllowed
from .models import (
    AppraiserAssignment,
    Assessment,
    AssessmentStatus,
    CriteriaSet,
    Membership,
    Round,
    Stage,
)

APPRAISAL_STAGES = (Stage.APPRAISAL_1, Stage.APPRAISAL_2)


def _active(user) -> bool:
    return user.is_authenticated and user.is_active


def unit_of(user):
    """The unit the user works for, or None (read once per request: kept on the user)."""
    if not _active(user):
        return None
    if not hasattr(user, "_cchc_unit"):
        membership = Membership.objects.select_related("unit").filter(user=user).first()
        user._cchc_unit = membership.unit if membership else None
    return user._cchc_unit


def is_secretariat(user) -> bool:
    """The secretariat (and superusers): sets up rounds, drives stages, publishes, sees all."""
    return _active(user) and (user.is_superuser or user.has_perm("scoring.drive_stages"))


def member_unit(user):
    """The unit of a unit member (staff or head: they self-assess their own unit), or None."""
    unit = unit_of(user)
    return unit if unit is not None and user.has_perm("scoring.self_assess") else None


def is_unit_member(user) -> bool:
    """Unit staff and heads."""
    return member_unit(user) is not None


def can_submit(user) -> bool:
    """The unit's head submits the self-assessment and the explanation."""
    return is_unit_member(user) and user.has_perm("scoring.submit_assessment")


# Unit staff -------------------------------------------------------------------------------------


def assessment_for_member(user, year: int, unit_code: str) -> Assessment:
    """The assessment of the user's own unit for that year, or 404."""
    unit = member_unit(user)
    if unit is None or unit.code != unit_code:
        raise Http404
    try:
        return Assessment.objects.select_related(
            "unit", "criteria_set__round", "criteria_set__group"
        ).get(unit=unit, criteria_set__round__year=year)
    except Assessment.DoesNotExist:
        raise Http404 from None


def member_assessments(user) -> QuerySet:
    """Every assessment of the user's unit (none for anyone else)."""
    if not is_unit_member(user):
        return Assessment.objects.none()
    return Assessment.objects.filter(unit=unit_of(user))


def page_mode(user, assessment: Assessment) -> str:
    """What the user may do on the assessment page now: ``self`` (self-assess), ``explain``
    (answer flagged leaves) or ``read``."""
    for mode, check in (("self", check_self_edit), ("explain", check_explain)):
        try:
            check(user, assessment)
        except NotAllowed:
            continue
        return mode
    return "read"


def why_read_only(user, assessment: Assessment) -> str:
    """Why the unit cannot change the assessment now (deadline, stage or lock)."""
    stage = assessment.criteria_set.round.stage
    check = check_explain if stage == Stage.EXPLANATION else check_self_edit
    try:
        check(user, assessment)
    except NotAllowed as refusal:
        return str(refusal)
    return _("This assessment cannot be changed now.")


# The council ------------------------------------------------------------------------------------


def assigned_field_ids(user, criteria_set, unit=None) -> frozenset[int]:
    """The fields of a set the user may appraise (all of them for a superuser); with ``unit``,
    only the assignments that cover that unit (an assignment limited to some units covers
    those only). Read once per request, set and unit (kept on the user)."""
    if not _active(user) or not user.is_staff:
        return frozenset()
    known = user.__dict__.setdefault("_cchc_fields", {})
    key = (criteria_set.pk, unit.pk if unit is not None else None)
    if key not in known:
        if user.is_superuser:
            fields = criteria_set.criteria.filter(parent=None).values_list("pk", flat=True)
        elif user.has_perm("scoring.appraise"):
            assignments = AppraiserAssignment.objects.filter(
                user=user, field__criteria_set=criteria_set
            )
            if unit is not None:
                assignments = assignments.filter(Q(units=None) | Q(units=unit))
            fields = assignments.values_list("field_id", flat=True)
        else:
            fields = []
        known[key] = frozenset(fields)
    return known[key]


def assessment_fields(user, assessment: Assessment) -> frozenset[int]:
    """The fields of this assessment the user may appraise (their set and its unit)."""
    return assigned_field_ids(user, assessment.criteria_set, assessment.unit)


def council_scope(
    user, queryset: QuerySet, path_to_set: str = "", path_to_unit: str | None = None
) -> QuerySet:
    """What of ``queryset`` the user may read in the admin: everything for the secretariat,
    for a council member the rows of the criteria sets they appraise (``path_to_set`` leads
    from the queryset's model to its criteria set; empty for criteria sets themselves) and,
    where ``path_to_unit`` leads to a unit, only units their assignments cover; nothing for
    anyone else."""
    if is_secretariat(user):
        return queryset
    if not _active(user) or not user.has_perm("scoring.appraise"):
        return queryset.none()
    prefix = f"{path_to_set}__" if path_to_set else ""
    assignment = f"{prefix}criteria__appraisers"
    condition = Q(**{f"{assignment}__user": user})
    if path_to_unit is not None:
        condition &= Q(**{f"{assignment}__units": None}) | Q(
            **{f"{assignment}__units": F(path_to_unit)}
        )
    return queryset.filter(condition).distinct()


def visible_units(user, criteria_set) -> set[int] | None:
    """The units of a set whose unpublished results the user may see (progress, preview):
    None for all of them (the secretariat, or assignments not limited to units)."""
    if is_secretariat(user):
        return None
    assignments = AppraiserAssignment.objects.filter(
        user=user, field__criteria_set=criteria_set
    ).prefetch_related("units")
    units: set[int] = set()
    for assignment in assignments:
        limited = {unit.pk for unit in assignment.units.all()}
        if not limited:
            return None
        units |= limited
    return units


def can_follow(user, round_obj: Round) -> bool:
    """The secretariat, and council members with a field in one of the round's sets."""
    if is_secretariat(user):
        return True
    return any(assigned_field_ids(user, s) for s in round_obj.criteria_sets.all())


def assessment_for_council(user, assessment_id: int) -> Assessment:
    """An assessment the user may read as the council, or 404."""
    assessment = get_object_or_404(
        Assessment.objects.select_related("unit", "criteria_set__round", "criteria_set__group"),
        pk=assessment_id,
    )
    if not (is_secretariat(user) or assessment_fields(user, assessment)):
        raise Http404
    return assessment


def round_for_council(user, round_id: int) -> Round:
    """A round the user may follow (progress board), or 404."""
    round_obj = get_object_or_404(Round, pk=round_id)
    if not can_follow(user, round_obj):
        raise Http404
    return round_obj


def criteria_set_for_council(user, set_id: int) -> CriteriaSet:
    """A criteria set whose preview the user may see, or 404."""
    criteria_set = get_object_or_404(
        CriteriaSet.objects.select_related("round", "group"), pk=set_id
    )
    if not can_follow(user, criteria_set.round):
        raise Http404
    return criteria_set


def appraisable(user, assessment: Assessment, scores) -> list:
    """The scores the user may appraise now, in the order given: leaves of a kind the council
    appraises, in the user's fields, in round 1; in round 2 only the flagged ones. Each score's
    ``criterion`` comes from ``tree()``, which gives it its ``field``."""
    stage = assessment.criteria_set.round.stage
    if stage not in APPRAISAL_STAGES:
        return []
    assigned = assessment_fields(user, assessment)
    return [
        score
        for score in scores
        if score.criterion.field.pk in assigned
        and score.criterion.kind in APPRAISED_KINDS | FIGURE_KINDS
        and (stage == Stage.APPRAISAL_1 or score.explanation_requested)
    ]


def can_view_assessment(user, assessment: Assessment) -> bool:
    """Unit members of that unit, the secretariat, and council members of that set."""
    if not _active(user):
        return False
    if is_secretariat(user):
        return True
    unit = member_unit(user)
    if unit is not None and unit.pk == assessment.unit_id:
        return True
    return bool(assessment_fields(user, assessment))


# Checks before every write ----------------------------------------------------------------------


def _require_stage(round_obj, stage: str) -> None:
    if round_obj.stage != stage:
        raise NotAllowed(
            _("This is not possible now: the round is in the stage “%(current)s”, not “%(stage)s”.")
            % {"current": round_obj.get_stage_display(), "stage": Stage(stage).label}
        )
    if round_obj.deadline_passed(stage):
        deadline = timezone.localtime(round_obj.deadline_for(stage))
        raise NotAllowed(
            _("The deadline of this stage has passed (%(deadline)s).")
            % {"deadline": date_format(deadline, "SHORT_DATETIME_FORMAT")}
        )


def _require_member(user, assessment: Assessment) -> None:
    unit = member_unit(user)
    if unit is None or unit.pk != assessment.unit_id:
        raise NotAllowed(_("You cannot change this unit's assessment."))


def check_self_edit(user, assessment: Assessment) -> None:
    _require_member(user, assessment)
    _require_stage(assessment.criteria_set.round, Stage.SELF_ASSESSMENT)
    if assessment.status != AssessmentStatus.DRAFT:
        raise NotAllowed(_("The self-assessment has been submitted and is locked."))


def check_submit(user, assessment: Assessment) -> None:
    check_self_edit(user, assessment)
    if not user.has_perm("scoring.submit_assessment"):
        raise NotAllowed(_("Only the unit's head can submit the self-assessment."))


def check_explain(user, assessment: Assessment) -> None:
    _require_member(user, assessment)
    _require_stage(assessment.criteria_set.round, Stage.EXPLANATION)
    if assessment.status == AssessmentStatus.EXPLAINED:
        raise NotAllowed(_("The explanation has been submitted and is locked."))


def check_submit_explanation(user, assessment: Assessment) -> None:
    check_explain(user, assessment)
    if not user.has_perm("scoring.submit_assessment"):
        raise NotAllowed(_("Only the unit's head can submit the explanation."))


def check_appraise(user, assessment: Assessment, field_id: int, stage: str) -> None:
    if field_id not in assessment_fields(user, assessment):
        raise NotAllowed(_("This field is not assigned to you."))
    _require_stage(assessment.criteria_set.round, stage)


def check_drive(user) -> None:
    if not is_secretariat(user):
        raise NotAllowed(_("Only the secretariat can change stages."))


# The anomaly board ------------------------------------------------------------------------------


class Reach:
    """What of a round a user may read as the council: ``everything`` (the secretariat), else
    the ``fields`` assigned to them for every unit of their set and the (field, unit) ``pairs``
    of assignments limited to some units. Empty (false) for anyone else."""

    def __init__(self, everything: bool = False, fields=(), pairs=()) -> None:
        self.everything = everything
        self.fields = frozenset(fields)
        self.pairs = frozenset(pairs)

    def __bool__(self) -> bool:
        return self.everything or bool(self.fields or self.pairs)

    def covers(self, field_id: int, unit_id: int) -> bool:
        """The user may read this field of this unit's assessment."""
        return self.everything or field_id in self.fields or (field_id, unit_id) in self.pairs


def round_reach(user, round_obj: Round) -> Reach:
    """The fields and units of a round the user may read as the council, in one query (none
    for the secretariat): the same assignments as ``assigned_field_ids`` and ``council_scope``."""
    if is_secretariat(user):
        return Reach(everything=True)
    if not _active(user) or not user.is_staff or not user.has_perm("scoring.appraise"):
        return Reach()
    fields, pairs = set(), set()
    for field_id, unit_id in AppraiserAssignment.objects.filter(
        user=user, field__criteria_set__round=round_obj
    ).values_list("field_id", "units"):
        if unit_id is None:
            fields.add(field_id)
        else:
            pairs.add((field_id, unit_id))
    return Reach(fields=fields, pairs=pairs)


def council_rounds(user) -> QuerySet:
    """The rounds the user may follow as the council, latest first: every round for the
    secretariat, the rounds of their assignments for a council member, none for anyone else."""
    if is_secretariat(user):
        return Round.objects.order_by("-year")
    if not _active(user) or not user.is_staff or not user.has_perm("scoring.appraise"):
        return Round.objects.none()
    return Round.objects.filter(criteria_sets__criteria__appraisers__user=user).distinct()


# The stage wizard -------------------------------------------------------------------------------


def round_for_secretariat(user, year: int) -> Round:
    """The round of ``year`` for the stage wizard: the secretariat only (403 for anyone else
    who reaches it: the admin has already sent the others to its login page), 404 for an
    unknown year."""
    from django.core.exceptions import PermissionDenied  # appended here: the top is shared

    if not is_secretariat(user):
        raise PermissionDenied
    return get_object_or_404(Round, year=year)
