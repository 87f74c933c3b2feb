"""E-mail to unit staff and council members at the moments the workflow promises.

Sent after the transaction commits; a mail server that fails is logged, never a lost stage change.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mass_mail
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from .models import AppraiserAssignment, Assessment, AssessmentStatus, Round, Score, Stage, Unit

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


def absolute_url(path: str) -> str:
    """``path`` on this site as a link an e-mail can carry (``SITE_URL``)."""
    return settings.SITE_URL.rstrip("/") + path


def appraiser_start_path() -> str:
    """Where a council member starts work: their start page."""
    return reverse("start")


@dataclass
class StageRecipients:
    """Who is told that a stage opened: each unit told (with its staff addresses, possibly
    none) and the council members. One definition for the e-mail and for the stage wizard."""

    units: list[tuple[Unit, list[str]]] = field(default_factory=list)
    appraisers: list[str] = field(default_factory=list)
    flagged: dict[int, list[str]] = field(default_factory=dict)  # unit id → flagged leaf codes

    @property
    def unit_addresses(self) -> int:
        return sum(len(to) for _unit, to in self.units)

    @property
    def units_without_address(self) -> list[Unit]:
        return [unit for unit, to in self.units if not to]


def stage_recipients(round_obj: Round, stage: str) -> StageRecipients:
    """Who ``stage_opened`` e-mails when ``stage`` opens: every unit with an assessment that
    year (when self-assessment opens, every unit of a group with a criteria set: their
    assessments open with it); for the explanation stage only the units with flagged leaves;
    and, for the appraisal stages, every council member assigned a field that year."""
    assessments = Assessment.objects.filter(criteria_set__round=round_obj)
    unit_ids = set(assessments.values_list("unit_id", flat=True))
    if stage == Stage.SELF_ASSESSMENT:
        unit_ids |= set(
            Unit.objects.filter(group__criteria_sets__round=round_obj).values_list("pk", flat=True)
        )
    recipients = StageRecipients()
    if stage == Stage.EXPLANATION:
        for unit_id, code in (
            Score.objects.filter(
                assessment__criteria_set__round=round_obj, explanation_requested=True
            )
            .order_by("assessment__unit_id", "criterion__position")
            .values_list("assessment__unit_id", "criterion__code")
        ):
            recipients.flagged.setdefault(unit_id, []).append(code)
        unit_ids &= set(recipients.flagged)
    addresses = _unit_addresses(unit_ids)
    recipients.units = [
        (unit, addresses.get(unit.pk, []))
        for unit in Unit.objects.filter(pk__in=unit_ids).order_by("name")
    ]
    if stage in (Stage.APPRAISAL_1, Stage.APPRAISAL_2):
        recipients.appraisers = _appraiser_addresses(round_obj)
    return recipients


def _stage_opened_text(round_obj: Round, stage: str, link: str) -> tuple[str, str]:
    values = {
        "year": round_obj.year,
        "stage": Stage(stage).label,
        "deadline": _deadline_text(round_obj, stage),
    }
    subject = _("[CCHC %(year)s] Stage opened: %(stage)s") % values
    body = (
        _("The stage “%(stage)s” of the %(year)s round is open.\nDeadline: %(deadline)s.") % values
        + "\n"
        + _("Open: %(link)s") % {"link": link}
    )
    return subject, body


def stage_opened(round_id: int, stage: str) -> int:
    """Tell every unit (and the council, for appraisal stages) that a stage has opened, each
    with the link to the page they work on: a unit its assessment, a council member their
    start page."""
    with translation.override(settings.LANGUAGE_CODE):
        round_obj = Round.objects.get(pk=round_id)
        sender = settings.DEFAULT_FROM_EMAIL
        recipients = stage_recipients(round_obj, stage)
        messages = []
        for unit, to in recipients.units:
            link = absolute_url(reverse("scoring:assessment", args=[round_obj.year, unit.code]))
            if stage == Stage.EXPLANATION:
                subject = _("[CCHC %(year)s] Explanation requested") % {"year": round_obj.year}
                body = _(
                    "The appraisal council asks %(unit)s to explain these leaves: %(codes)s.\n"
                    "Deadline: %(deadline)s."
                ) % {
                    "unit": unit.name,
                    "codes": ", ".join(recipients.flagged[unit.pk]),
                    "deadline": _deadline_text(round_obj, stage),
                }
                body += "\n" + _("Open: %(link)s") % {"link": link}
            else:
                subject, body = _stage_opened_text(round_obj, stage, link)
            messages.append((subject, body, sender, to))
        if recipients.appraisers:
            subject, body = _stage_opened_text(
                round_obj, stage, absolute_url(appraiser_start_path())
            )
            messages.append((subject, body, sender, recipients.appraisers))
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
