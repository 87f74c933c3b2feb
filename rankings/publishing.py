"""Freezing a year and group's results as a new published version, in one transaction."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from operations.bulk import insert_rows
from scoring import calculation
from scoring.errors import Refused
from scoring.models import LEAF_SOURCE_FIELDS, SIPAS_ELEMENTS, CriteriaSet, Stage, Unit
from scoring.results import NO_SCORE, group_results, sipas_results
from scoring.validators import control_character

from .caching import new_generation
from .models import (
    LEAF_VALUES,
    Decision,
    Publication,
    PublishedBand,
    PublishedCriterion,
    PublishedField,
    PublishedLeaf,
    PublishedResult,
    PublishedSipas,
    leaf_rows,
)

# A round set up from imported history (no workflow) or closed (final) is published.
PUBLISHABLE_STAGES = (Stage.SETUP, Stage.FINAL)


class PublishRefused(Refused):
    """Publishing was refused; ``problems`` lists every gap. Nothing was written."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


def _comparisons(year: int, units: list[Unit], model) -> dict[int, calculation.Comparison]:
    """Unit id → what it is compared with (docs/calculation.md, 9. Change): last year's latest
    publications as they stand now, and only the successor links dated within ``year``, so that
    re-publishing an older year never picks up a later merge. ``model``: PublishedResult for
    the PAR Index, PublishedSipas for SIPAS."""
    last_year = Publication.objects.latest_versions().filter(year=year - 1)
    published = {
        unit_id: (code, index)
        for unit_id, code, index in model.objects.filter(publication__in=last_year).values_list(
            "unit_id", "unit_code", "index"
        )
    }
    took_over: dict[int, list[int]] = {}
    for successor_id, predecessor_id in Unit.successors.through.objects.filter(
        to_unit__in=units, from_unit__dissolved_on__year=year
    ).values_list("to_unit_id", "from_unit_id"):
        took_over.setdefault(successor_id, []).append(predecessor_id)
    comparisons = {}
    for unit in units:
        own = published.get(unit.pk)
        predecessors = [published[pk] for pk in took_over.get(unit.pk, []) if pk in published]
        comparisons[unit.pk] = calculation.comparison(
            unit.code, own[1] if own else None, predecessors
        )
    return comparisons


def _compared(index, comparison: calculation.Comparison) -> dict:
    """A frozen result's change from last year and what it was measured against."""
    return {
        "previous_index": comparison.previous_index,
        "change": calculation.change(index, comparison.previous_index),
        "change_basis": comparison.basis or "",
        "compared_with": list(comparison.compared_with),
    }


def outdated_by(publication: Publication) -> list[Publication]:
    """The next year's publication of the same group, when it compares with an older version
    of this one, the latest (an erratum, or this year published after the next): to re-publish
    with a reason."""
    later = Publication.objects.current(publication.year + 1, publication.group_code)
    return [later] if later is not None and later.baseline_outdated(publication) else []


def stage_refusal(round_obj) -> str | None:
    """Why the round cannot be published in its current stage, or None when it can."""
    if round_obj.stage in PUBLISHABLE_STAGES:
        return None
    return _("The %(year)s round is in “%(stage)s”: open the final stage before publishing.") % {
        "year": round_obj.year,
        "stage": round_obj.get_stage_display(),
    }


def _checksum(payload: dict) -> str:
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def publish(
    *,
    year: int,
    group: str,
    reason: str = "",
    published_at: datetime | None = None,
    user=None,
    decision_number: str | None = None,
    decision_date: date | None = None,
    decision_signed_by: str | None = None,
) -> Publication:
    """Publish the results of ``year`` and ``group`` as a new version.

    Refused, listing every gap, while an applicable self or survey leaf of a ranked unit has no
    final score; refused without a reason when a version already exists (an erratum); refused
    while the round is in its workflow: a round is published in its set-up stage (history
    loaded from files) or in its final stage, never from self-assessment to round 2.

    ``decision_number``, ``decision_date`` and ``decision_signed_by`` record the People's
    Committee decision that announces the year's results (contracts.md): those given (not None)
    create or update the year's one ``Decision`` in the same transaction (``record_decision``);
    without them the year's decision stays as it is. The decision is not part of the
    publication: it changes no result and no checksum.
    """
    reason = reason.strip()
    decision = _decision_values(decision_number, decision_date, decision_signed_by)
    with transaction.atomic():
        criteria_set = (
            CriteriaSet.objects.select_for_update()
            .select_related("round", "group")
            .filter(round__year=year, group__code=group)
            .first()
        )
        if criteria_set is None:
            raise PublishRefused(
                [
                    _("there is no criteria set for %(year)s and group %(group)r")
                    % {"year": year, "group": group}
                ]
            )
        refusal = stage_refusal(criteria_set.round)
        if refusal:
            raise PublishRefused([refusal])
        results = group_results(criteria_set)
        problems = []
        for unit, codes in results.gaps:
            problems.extend(
                _("%(unit)s (%(code)s): leaf %(leaf)s has no final score")
                % {"unit": unit.name, "code": unit.code, "leaf": leaf}
                for leaf in codes
            )
        problems.extend(
            _(
                "%(unit)s (%(code)s): leaf %(leaf)s is fed from SIPAS, and the unit has no SIPAS "
                "result for %(year)s: import it first"
            )
            % {"unit": unit.name, "code": unit.code, "leaf": leaf, "year": year}
            for unit, codes in results.sipas_gaps
            for leaf in codes
        )
        problems.extend(
            _("%(unit)s (%(code)s): every scored leaf is not applicable")
            % {"unit": unit.name, "code": unit.code}
            for unit in results.unscorable
        )
        if not results.rows and not problems:
            problems.append(_("no unit of this group has scores in %(year)s") % {"year": year})
        latest = Publication.objects.current(year, group)
        if latest is not None and not reason:
            problems.append(
                _(
                    "version %(version)d is already published: a new version (an erratum) "
                    "needs a reason"
                )
                % {"version": latest.version}
            )
        if problems:
            raise PublishRefused(problems)
        # Quick copies of public pages are stale: now, and again once committed (a request
        # between the two could have copied the previous version).
        new_generation()
        transaction.on_commit(new_generation)
        if decision:
            _record(year, decision)
        return _write(results, criteria_set, latest, reason, published_at or timezone.now(), user)


# The longest values the Decision's columns hold.
DECISION_LIMITS = {"number": 50, "signed_by": 200}


def _decision_values(number: str | None, day: date | None, signed_by: str | None) -> dict:
    """The details given (None: not given), stripped; refused when one is wrong."""
    given = {
        name: value.strip() if isinstance(value, str) else value
        for name, value in (("number", number), ("date", day), ("signed_by", signed_by))
        if value is not None
    }
    problems = decision_refusals(given)
    if problems:
        raise PublishRefused(problems)
    return given


def _record(year: int, values: dict) -> Decision:
    decision = Decision.objects.select_for_update().filter(year=year).first() or Decision(year=year)
    for name, value in values.items():
        setattr(decision, name, value)
    decision.save()
    return decision


def record_decision(
    *,
    year: int,
    number: str | None = None,
    date: date | None = None,
    signed_by: str | None = None,
) -> Decision:
    """Create or update the year's decision (``Decision``) without publishing: the details
    given (not None) replace the recorded ones, an empty text clears one. Refused (nothing
    written) when one is too long or holds a control character. The pages and documents that
    show it change at once (a new generation of quick copies; the record is part of every
    ETag)."""
    values = _decision_values(number, date, signed_by)
    with transaction.atomic():
        decision = _record(year, values)
        new_generation()
        transaction.on_commit(new_generation)
    return decision


def decision_refusals(decision: dict) -> list[str]:
    """What is wrong with the decision details: too long, or an invisible control character."""
    labels = {"number": _("decision number"), "signed_by": _("decision signed by")}
    problems = []
    for name, limit in DECISION_LIMITS.items():
        value = decision.get(name) or ""
        if len(value) > limit:
            problems.append(
                _("the %(field)s has more than %(limit)d characters")
                % {"field": labels[name], "limit": limit}
            )
        character = control_character(value)
        if character:
            problems.append(
                _("the %(field)s contains the invisible control character %(character)s")
                % {"field": labels[name], "character": character}
            )
    return problems


def _write(results, criteria_set, latest, reason, published_at, user) -> Publication:
    year = criteria_set.round.year
    units = [row.unit for row in results.rows]
    previous = _comparisons(year, units, PublishedResult)
    sipas = sipas_results(criteria_set.round, criteria_set.group_id)
    sipas_previous = _comparisons(year, [row.unit for row in sipas], PublishedSipas)
    baseline = Publication.objects.current(year - 1, criteria_set.group.code)
    leaves = results.leaves
    fields = results.fields
    by_id = {c.pk: c for c in results.criteria}
    bonus_cap, penalty_cap = criteria_set.bonus_cap, criteria_set.penalty_cap
    if bonus_cap is None:
        bonus_cap = calculation.default_cap(leaves, calculation.Kind.BONUS)
    if penalty_cap is None:
        penalty_cap = calculation.default_cap(leaves, calculation.Kind.PENALTY)

    publication = Publication.objects.create(
        year=year,
        group=criteria_set.group,
        group_code=criteria_set.group.code,
        group_name=criteria_set.group.name,
        version=(latest.version + 1) if latest else 1,
        reason=reason,
        published_at=published_at,
        published_by=user,
        checksum="",
        unit_count=len(results.rows),
        average_index=calculation.average([row.result.index for row in results.rows]),
        sipas_average=calculation.average([row.index for row in sipas]),
        bonus_cap=bonus_cap,
        penalty_cap=penalty_cap,
        baseline_version=baseline.version if baseline else None,
    )
    PublishedBand.objects.bulk_create(
        PublishedBand(publication=publication, code=b.code, label=b.label, min_index=b.min_index)
        for b in results.bands
    )
    PublishedCriterion.objects.bulk_create(
        PublishedCriterion(
            publication=publication,
            code=c.code,
            parent_code=by_id[c.parent_id].code if c.parent_id else "",
            field_code=c.field.code,
            title=c.title,
            guidance=c.guidance,
            max_points=c.max_points,
            kind=c.kind,
            previous_code=c.previous.code if c.previous_id else "",
            position=position,
            **{name: getattr(c, name) for name in LEAF_SOURCE_FIELDS if name != "direction"},
            direction=c.direction if c.rule else "",  # said only where there is a rule
        )
        for position, c in enumerate(results.criteria, start=1)
    )
    rows = PublishedResult.objects.bulk_create(
        PublishedResult(
            publication=publication,
            unit=row.unit,
            unit_code=row.unit.code,
            unit_name=row.unit.name,
            position=position,
            rank=row.rank,
            points=row.result.points,
            max_points=row.result.max_points,
            index=row.result.index,
            band_code=row.band.code if row.band else "",
            band_label=row.band.label if row.band else "",
            **_compared(row.result.index, previous[row.unit.pk]),
        )
        for position, row in enumerate(results.rows, start=1)
    )
    if not all(r.pk for r in rows):  # backends without RETURNING on bulk insert
        rows = list(publication.results.order_by("position"))
    titles = {f.code: f.title for f in fields}
    field_rows, frozen_leaves = [], []
    for published, row in zip(rows, results.rows, strict=True):
        for position, field in enumerate(row.result.fields, start=1):
            field_rows.append(
                (
                    published.pk,
                    field.code,
                    titles[field.code],
                    position,
                    field.points,
                    field.max_points,
                    field.index,
                )
            )
        for position, leaf in enumerate(leaves, start=1):
            score = row.scores.get(leaf.pk, NO_SCORE)
            frozen_leaves.append(
                (
                    published.pk,
                    leaf.code,
                    position,
                    score.self_score,
                    row.finals.get(leaf.pk),
                    score.not_applicable,
                    score.note,
                    score.self_figure,
                    score.final_figure,
                )
            )
    # Hundreds of thousands of rows at national scale: below the ORM (operations.bulk).
    insert_rows(
        PublishedField,
        ["result_id", "code", "title", "position", "points", "max_points", "index"],
        field_rows,
    )
    insert_rows(
        PublishedLeaf,
        ["result_id", "code", "position", *LEAF_VALUES[2:]],
        frozen_leaves,
    )
    PublishedSipas.objects.bulk_create(
        PublishedSipas(
            publication=publication,
            unit=row.unit,
            unit_code=row.unit.code,
            unit_name=row.unit.name,
            position=position,
            rank=row.rank,
            index=row.index,
            **_compared(row.index, sipas_previous[row.unit.pk]),
            **row.elements,
        )
        for position, row in enumerate(sipas, start=1)
    )
    publication.checksum = publication_checksum(publication)
    publication.save(update_fields=["checksum"])
    return publication


def publication_checksum(publication: Publication) -> str:
    """The SHA-256 of everything the publication promises (recomputed to verify a copy)."""
    return _checksum(publication_payload(publication))


def publication_payload(publication: Publication) -> dict:
    """Everything a publication promises, as plain data: what the checksum covers. A target
    leaf's rule, a SIPAS-fed leaf's element and a leaf's figures are added to its row only where
    they exist, so the payload of a publication without them is what it always was."""
    criteria = []
    for code, parent, title, max_points, kind, previous, *extra in publication.criteria.values_list(
        "code", "parent_code", "title", "max_points", "kind", "previous_code", *LEAF_SOURCE_FIELDS
    ):
        row = [code, parent, title, max_points, kind, previous]
        target, rule, steps, direction, unit_label, element = extra
        if rule:
            row += [target, rule, steps, direction, unit_label]
        if element:
            row.append(element)
        criteria.append(tuple(row))
    leaves = []
    for *values, self_figure, figure in leaf_rows(publication):
        if self_figure is not None or figure is not None:
            values += [self_figure, figure]
        leaves.append(tuple(values))
    payload = {
        "year": publication.year,
        "group": publication.group_code,
        "version": publication.version,
        "reason": publication.reason,
        "bands": list(publication.bands.values_list("code", "label", "min_index")),
        "criteria": criteria,
        "results": list(
            publication.results.values_list(
                "unit_code", "rank", "points", "max_points", "index", "band_code", "change"
            )
        ),
        "fields": list(
            PublishedField.objects.filter(result__publication=publication)
            .order_by("result__position", "position")
            .values_list("result__unit_code", "code", "points", "max_points", "index")
        ),
        "leaves": leaves,
        "sipas": list(
            publication.sipas.values_list("unit_code", "rank", "index", *SIPAS_ELEMENTS, "change")
        ),
    }
    if publication.checksum_format >= 2:
        payload["baseline_version"] = publication.baseline_version
        payload["comparisons"] = [
            list(row)
            for row in publication.results.values_list(
                "unit_code", "previous_index", "change_basis", "compared_with"
            )
        ]
        payload["sipas_comparisons"] = [
            list(row)
            for row in publication.sipas.values_list(
                "unit_code", "previous_index", "change_basis", "compared_with"
            )
        ]
    return payload
