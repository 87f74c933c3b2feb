"""Template filters and tags shared by every page: one definition per repeated fragment.

``{% load cchc_tags %}`` gives ``change`` (▲ +2,10 / ▼ −0,90 / = 0,00 / new),
``{% change_cell %}`` (the change with its * link to the note saying how it was measured),
``kind_label``,
``kind_help``, ``figure``, ``rule_words``, ``time_left``, ``decimal_input``, ``{% target_line %}`` (a target leaf's
result in one line) and ``{% deadline round %}`` (the current stage's deadline line).
"""

from __future__ import annotations

from django import template
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.html import format_html
from django.utils.translation import gettext as _

from scoring import calculation
from scoring.forms import DecimalTextInput
from scoring.models import Kind, SipasResult

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


@register.simple_tag
def change_cell(value, basis, prefix, key):
    """The change, with a * linking to the note ``#<prefix>-<key>`` when it was measured against
    other units than the unit itself (a predecessor's index, or the mean of merged units')."""
    cell = change(value)
    if basis not in calculation.COMPARED_WITH_OTHERS:
        return cell
    return format_html(
        '{} <sup><a href="#{}-{}" title="{}">*</a></sup>',
        cell,
        prefix,
        key,
        _("How this change is measured"),
    )


@register.filter
def kind_label(value: str) -> str:
    """The label of a leaf kind (``self`` → "Self-assessed"); the value itself if unknown."""
    try:
        return Kind(value).label
    except ValueError:
        return value


def figure_text(value, unit_label: str = "") -> str:
    """A reported figure as people write it: no useless zeros, the reader's decimal mark, its
    unit (42,4 %; 1.250 hồ sơ)."""
    if value is None:
        return "—"
    normal = value.normalize()
    places = max(0, -normal.as_tuple().exponent)
    text = number_format(normal, places, use_l10n=True)
    return f"{text} {unit_label}".strip()


@register.filter
def figure(value, criterion) -> str:
    """``{{ leaf.figure|figure:criterion }}``: the figure with the criterion's unit label."""
    return figure_text(value, getattr(criterion, "unit_label", ""))


@register.simple_tag
def target_line(figure_value, criterion, points, max_points) -> str:
    """A target leaf's result in one line: "42,4 % (target 30 %) → 2,00 / 2,00"."""
    label = getattr(criterion, "unit_label", "")
    parts = [figure_text(figure_value, label)]
    if criterion.target is not None:
        parts.append(
            "(" + _("target %(target)s") % {"target": figure_text(criterion.target, label)} + ")"
        )
    shown = "—" if points is None else number_format(points, 2)
    return f"{' '.join(parts)} → {shown} / {number_format(max_points, 2)}"


@register.filter
def rule_words(criterion) -> str:
    """A target leaf's rule in plain words, for the methodology page."""
    label = criterion.unit_label
    lower = criterion.direction == "lower"
    if criterion.rule == "proportional":
        values = {"target": figure_text(criterion.target, label)}
        if lower:
            return (
                _(
                    "Points = maximum × target (%(target)s) ÷ figure, at most the maximum; a "
                    "figure of 0 earns the maximum."
                )
                % values
            )
        return _("Points = maximum × figure ÷ target (%(target)s), at most the maximum.") % values
    if criterion.rule == "steps":
        steps = []
        for threshold, points in calculation.parse_steps(criterion.steps):
            values = {
                "threshold": figure_text(threshold, label),
                "points": number_format(points, 2),
            }
            if lower:
                steps.append(_("at most %(threshold)s: %(points)s points") % values)
            else:
                steps.append(_("at least %(threshold)s: %(points)s points") % values)
        text = "; ".join(steps)
        return _("%(steps)s; otherwise 0 (the first step reached counts).") % {
            "steps": text[:1].upper() + text[1:]
        }
    return ""


@register.filter
def element_label(name: str) -> str:
    """The label of a SIPAS element (``access`` → "access to the service")."""
    try:
        return SipasResult._meta.get_field(name).verbose_name
    except Exception:  # an unknown name shows as it is
        return name


@register.filter
def kind_help(value: str) -> str:
    """What a unit does with a leaf of that kind, for the self-assessment page (nothing for a
    self-assessed leaf: that is the page's subject)."""
    return {
        Kind.SURVEY: _("Survey points: imported, not self-assessed."),
        Kind.AGENCY: _(
            "Scored by the appraising agency from its own records: the unit gives no score."
        ),
        Kind.TARGET: _(
            "Report the figure and its evidence: the points follow from the target and the rule."
        ),
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
    moment = round_obj.current_deadline()
    return {"deadline": moment, "passed": round_obj.deadline_passed()}


@register.filter
def decimal_input(value) -> str:
    """A value for a decimal text box, as the reader types it (0,50 in Vietnamese): what a
    ``forms.DecimalTextInput`` shows, for a box a template writes out itself."""
    return DecimalTextInput().format_value(value) or ""
