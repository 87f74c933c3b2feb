"""The council's anomaly board (/council/anomalies/): read-only, for the secretariat and the
council members of a round, each seeing the units and fields they appraise. Mounted with
``admin.site.admin_view`` (scoring/anomalies_urls.py): anyone who is not admin staff is sent
to log in; staff who are not of the council are refused."""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.defaultfilters import floatformat
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from . import anomalies
from .models import Round, Stage
from .permissions import council_rounds, round_reach


def percent(value) -> str:
    """50 %, 12,5 % in Vietnamese."""
    return f"{floatformat(value, -2)} %"


OPEN_STAGES = (Stage.SELF_ASSESSMENT, Stage.APPRAISAL_1, Stage.EXPLANATION, Stage.APPRAISAL_2)


@require_safe
def index(request):
    """To the board of the latest open round the user follows (else their latest started
    round); a page saying so when there is none."""
    rounds = council_rounds(request.user)
    latest = (
        rounds.filter(stage__in=OPEN_STAGES).order_by("-year").first()
        or rounds.exclude(stage=Stage.SETUP).order_by("-year").first()
    )
    if latest is not None:
        return redirect("anomalies:board", year=latest.year)
    if not rounds.exists():
        raise PermissionDenied
    context = {
        **admin.site.each_context(request),
        "title": _("Anomaly board"),
        "round_opts": Round._meta,
        "no_round": True,
    }
    return TemplateResponse(request, "admin/scoring/anomalies.html", context)


@require_safe
def board(request, year: int):
    """The anomalies of one round. Queries: the session, the user, their permissions (own,
    groups'), the round, their assignments (council members), the rounds they follow, and the
    six of ``anomalies.read_round``."""
    round_obj = get_object_or_404(Round, year=year)
    reach = round_reach(request.user, round_obj)
    if not reach:
        raise PermissionDenied
    raw = request.GET.get("threshold", "")
    error = ""
    try:
        threshold = anomalies.parse_threshold(raw)
    except anomalies.BadThreshold:
        threshold = anomalies.DEFAULT_THRESHOLD
        error = _(
            "The threshold “%(value)s” is not valid: give a percentage of the leaf's maximum "
            "from 1 to 100, for example 50. The default, %(default)s, is used."
        ) % {"value": raw[:20], "default": percent(anomalies.DEFAULT_THRESHOLD)}
    found = anomalies.find_anomalies(round_obj, reach, threshold)
    context = {
        **admin.site.each_context(request),
        "title": _("Anomaly board, %(year)s round") % {"year": round_obj.year},
        "round": round_obj,
        "rounds": list(council_rounds(request.user).values_list("year", flat=True)),
        "found": found,
        "round_opts": Round._meta,
        "threshold_label": percent(threshold),
        "threshold_raw": raw[:20],
        "threshold_error": error,
        "everything": reach.everything,
    }
    return TemplateResponse(
        request, "admin/scoring/anomalies.html", context, status=400 if error else 200
    )
