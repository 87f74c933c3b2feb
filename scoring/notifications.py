"""E-mail to unit staff and council members at the moments the workflow promises.

Sent after the transaction commits; a mail server that fails is logged, never a lost stage change.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mass_mail
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from .models import AppraiserAssignment, Assessment, AssessmentStatus, Round, Stage

logger = logging.getLogger(__name__)
REMINDER_DAYS = 3


def _unit_addresses(unit_ids) -> dict[int, list[str]]:
    addresses: dict[int, list[str]] = {}
    users = (
        get_user_model()
        .objects.filter(is_active=True, membership__unit_id__in=unit_ids)
        .exclude(email="")
    )
    for unit_id, email in users.values_list("membership__unit_id", "email"):
        addresses.setdefault(unit_id, []).append(email)
    return addresses


def _appraiser_addresses(round_obj: Round) -> list[str]:
    return sorted(
        set(
            AppraiserAssignment.objects.filter(
                field__criteria_set__round=round_obj, user__is_active=True
            )
            .exclude(user__email="")
            .values_list("user__email", flat=True)
        )
    )


def _deadline_text(round_obj: Round, stage: str) -> str:
    deadline = round_obj.deadline_for(stage)
    if deadline is None:
        return _("no deadline set")
    return date_format(timezone.localtime(deadline), "SHORT_DATETIME_FORMAT")


def _send(messages: list[tuple[str, str, str, list[str]]]) -> int:
    messages = [m for m in messages if m[3]]
    if not messages:
        return 0
    try:
        return send_mass_mail(messages, fail_silently=False)
    except Exception:  # a mail server down must not undo the workflow
        logger.exception("could not send %d e-mails", len(messages))
        return 0


def _stage_opened_text(round_obj: Round, stage: str) -> tuple[str, str]:
    values = {
        "year": round_obj.year,
        "stage": Stage(stage).label,
        "deadline": _deadline_text(round_obj, stage),
    }
    subject = _("[CCHC %(year)s] Stage opened: %(stage)s") % values
    body = (
        _("The stage “%(stage)s” of the %(year)s round is open.\nDeadline: %(deadline)s.") % values
    )
    return subject, body


def stage_opened(round_id: int, stage: str) -> int:
    """Tell every unit (and the council, for appraisal stages) that a stage has opened."""
    with translation.override(settings.LANGUAGE_CODE):
        round_obj = Round.objects.get(pk=round_id)
        sender = settings.DEFAULT_FROM_EMAIL
        assessments = Assessment.objects.filter(criteria_set__round=round_obj).select_related(
            "unit"
        )
        addresses = _unit_addresses(assessments.values_list("unit_id", flat=True))
        messages = []
        flagged = set()
        if stage == Stage.EXPLANATION:
            flagged = set(
                assessments.filter(scores__explanation_requested=True).values_list("pk", flat=True)
            )
        for assessment in assessments:
            to = addresses.get(assessment.unit_id, [])
            if stage == Stage.EXPLANATION:
                if assessment.pk not in flagged:
                    continue
                codes = ", ".join(
                    assessment.scores.filter(explanation_requested=True)
                    .order_by("criterion__position")
                    .values_list("criterion__code", flat=True)
                )
                subject = _("[CCHC %(year)s] Explanation requested") % {"year": round_obj.year}
                body = _(
                    "The appraisal council asks %(unit)s to explain these leaves: %(codes)s.\n"
                    "Deadline: %(deadline)s."
                ) % {
                    "unit": assessment.unit.name,
                    "codes": codes,
                    "deadline": _deadline_text(round_obj, stage),
                }
            else:
                subject, body = _stage_opened_text(round_obj, stage)
            messages.append((subject, body, sender, to))
        if stage in (Stage.APPRAISAL_1, Stage.APPRAISAL_2):
            subject, body = _stage_opened_text(round_obj, stage)
            messages.append((subject, body, sender, _appraiser_addresses(round_obj)))
        return _send(messages)


def assessment_reopened(assessment_id: int, reason: str) -> int:
    """Tell the unit's head that the secretariat has reopened its submitted self-assessment."""
    with translation.override(settings.LANGUAGE_CODE):
        assessment = Assessment.objects.select_related("unit", "criteria_set__round").get(
            pk=assessment_id
        )
        round_obj = assessment.criteria_set.round
        heads = list(
            get_user_model()
            .objects.filter(
                is_active=True,
                membership__unit=assessment.unit,
                groups__permissions__codename="submit_assessment",
            )
            .exclude(email="")
            .values_list("email", flat=True)
            .distinct()
        )
        subject = _("[CCHC %(year)s] Self-assessment reopened: %(unit)s") % {
            "year": round_obj.year,
            "unit": assessment.unit.name,
        }
        body = _(
            "The secretariat has reopened the self-assessment of %(unit)s for %(year)s.\n"
            "Reason: %(reason)s\n"
            "Correct it and submit it again before %(deadline)s."
        ) % {
            "unit": assessment.unit.name,
            "year": round_obj.year,
            "reason": reason,
            "deadline": _deadline_text(round_obj, Stage.SELF_ASSESSMENT),
        }
        return _send([(subject, body, settings.DEFAULT_FROM_EMAIL, heads)])


def deadline_reminders(now=None) -> int:
    """Remind, three days before the current stage's deadline, those who still have work."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    sent = 0
    with translation.override(settings.LANGUAGE_CODE):
        for round_obj in Round.objects.exclude(stage__in=[Stage.SETUP, Stage.FINAL]):
            deadline = round_obj.current_deadline()
            if deadline is None or timezone.localdate(deadline) - today != timedelta(
                days=REMINDER_DAYS
            ):
                continue
            stage_label = round_obj.get_stage_display()
            subject = _("[CCHC %(year)s] %(days)d days left: %(stage)s") % {
                "year": round_obj.year,
                "days": REMINDER_DAYS,
                "stage": stage_label,
            }
            body = _("The stage “%(stage)s” closes at %(deadline)s.") % {
                "stage": stage_label,
                "deadline": _deadline_text(round_obj, round_obj.stage),
            }
            assessments = Assessment.objects.filter(criteria_set__round=round_obj)
            if round_obj.stage == Stage.SELF_ASSESSMENT:
                waiting = assessments.filter(status=AssessmentStatus.DRAFT)
            elif round_obj.stage == Stage.EXPLANATION:
                waiting = assessments.filter(scores__explanation_requested=True).exclude(
                    status=AssessmentStatus.EXPLAINED
                )
            else:
                waiting = assessments.none()
            addresses = _unit_addresses(waiting.values_list("unit_id", flat=True))
            messages = [
                (subject, body, settings.DEFAULT_FROM_EMAIL, to) for to in addresses.values()
            ]
            if round_obj.stage in (Stage.APPRAISAL_1, Stage.APPRAISAL_2):
                messages.append(
                    (subject, body, settings.DEFAULT_FROM_EMAIL, _appraiser_addresses(round_obj))
                )
            sent += _send(messages)
    return sent
