"""Template filters and tags shared by every page: one definition per repeated fragment.

``{% load cchc_tags %}`` gives ``change`` (▲ +2,10 / ▼ −0,90 / = 0,00 / new), ``kind_label``,
``kind_help``, ``time_left`` and ``{% deadline round %}`` (the current stage's deadline line).
"""

from __future__ import annotations

from django import template
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext as _

from scoring.models import Kind

register = template.Library()


@register.filter
def change(value):
    """A change from last year: the arrow and the sign say it, not only the colour; a true minus
    sign (−), two decimals in the reader's language; "new" when there is nothing to compare."""
    if value is None or value == "":
        return format_html('<span class="change new">{}</span>', _("new"))
    if value > 0:
        return format_html('<span class="change up">▲ +{}</span>', number_format(value, 2))
    if value < 0:
        return format_html('<span class="change down">▼ −{}</span>', number_format(-value, 2))
    return format_html('<span class="change same">= {}</span>', number_format(value, 2))


@register.filter
def kind_label(value: str) -> str:
    """The label of a leaf kind (``self`` → "Self-assessed"); the value itself if unknown."""
    try:
        return Kind(value).label
    except ValueError:
        return value


@register.filter
def kind_help(value: str) -> str:
    """What a unit does with a leaf of that kind, for the self-assessment page (nothing for a
    self-assessed leaf: that is the page's subject)."""
    return {
        Kind.SURVEY: _("Survey points: imported, not self-assessed."),
        Kind.BONUS: _("Bonus points: claim them with evidence."),
        Kind.PENALTY: _("Penalty: set by the council."),
    }.get(value, "")


@register.filter
def time_left(deadline) -> str:
    """“12 days 3 hours” until ``deadline``, in the reader's language (Django's Vietnamese
    catalogue lacks these); empty once it has passed."""
    if not deadline:
        return ""
    seconds = int((deadline - timezone.now()).total_seconds())
    if seconds <= 0:
        return ""
    days, hours, minutes = seconds // 86400, seconds % 86400 // 3600, seconds % 3600 // 60
    if days:
        return _("%(days)d days %(hours)d hours") % {"days": days, "hours": hours}
    if hours:
        return _("%(hours)d hours %(minutes)d minutes") % {"hours": hours, "minutes": minutes}
    return _("%(minutes)d minutes") % {"minutes": max(minutes, 1)}


@register.inclusion_tag("scoring/_deadline.html")
def deadline(round_obj):
    """The deadline of the round's current stage: when, and the time left or that it passed."""
    moment = round_obj.deadline_for(round_obj.stage)
    return {"deadline": moment, "passed": round_obj.deadline_passed()}
