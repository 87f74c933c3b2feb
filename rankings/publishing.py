"""Freezing a year and group's results as a new published version, in one transaction."""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from datetime import date, datetime

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from operations.bulk import insert_dicts, insert_rows
from scoring import calculation
from scoring.errors import Refused
from scoring.models import (
    LEAF_SOURCE_FIELDS,
    SIPAS_ELEMENTS,
    Assessment,
    CriteriaSet,
    Score,
    SipasResult,
    Stage,
    Unit,
)
from scoring.results import group_totals, sipas_results
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
from .prebuild import after_commit as prebuild_after_commit

logger = logging.getLogger(__name__)

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
        to_unit__in=[unit.pk for unit in units], from_unit__dissolved_on__year=year
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


def _checksum(payload: dict, leaves_json: str | None = None) -> str:
    """The SHA-256 of the payload's JSON. ``leaves_json``: the leaves' JSON list items as the
    database wrote them (``_freeze_leaves``), put in place of ``payload["leaves"]``: the same
    text as the JSON of the leaves themselves."""
    if leaves_json is None:
        text = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    else:
        text = json.dumps(
            {**payload, "leaves": []}, sort_keys=True, ensure_ascii=False, default=str
        )
        # Keys and quotes inside strings are escaped, so this is the top-level key, once.
        head, found, tail = text.partition('"leaves": []')
        if not found:
            raise RuntimeError("the payload has no leaves")
        text = f'{head}"leaves": [{leaves_json}]{tail}'
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
    # A second connection sees only what is committed: it can share the work only when this
    # call is the whole transaction (not inside a caller's, whose writes it would not see).
    alone = not connection.in_atomic_block
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
        snapshot = _hold_scores(export=alone)
        results = group_totals(criteria_set)
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
        transaction.on_commit(prebuild_after_commit)
        if decision:
            _record(year, decision)
        return _write(
            results, criteria_set, latest, reason, published_at or timezone.now(), user, snapshot
        )


def _hold_scores(*, export: bool) -> str | None:
    """On PostgreSQL, keep every score and SIPAS result as it is until this transaction ends
    (a SHARE lock: readers go on, writers wait the few seconds of a publication), so that the
    totals, the SIPAS-fed leaves, the SIPAS table, the frozen leaves and their checksum all
    read the same values; with ``export``, return this transaction's snapshot for a second
    connection (``LeafText``). Elsewhere None (SQLite gives a transaction one view of the
    database anyway)."""
    if connection.vendor != "postgresql":
        return None
    tables = ", ".join(
        connection.ops.quote_name(model._meta.db_table) for model in (Score, SipasResult)
    )
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {tables} IN SHARE MODE")
        if not export:
            return None
        cursor.execute("SELECT pg_export_snapshot()")
        return cursor.fetchone()[0]


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
        transaction.on_commit(prebuild_after_commit)
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


def _write(results, criteria_set, latest, reason, published_at, user, snapshot) -> Publication:
    """Write the publication: its few rows through the ORM, its fields by COPY, its frozen
    leaves with one INSERT … SELECT from the scores (``_freeze_leaves``), and its checksum from
    what was written, without reading the rows back. With a ``snapshot`` (``_hold_scores``)
    the leaves' checksum text is made on a second connection meanwhile (``LeafText``)."""
    text = None
    if snapshot and results.leaves and results.rows:
        text = LeafText(snapshot, criteria_set, results.leaves, results.rows).start()
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
    bands = PublishedBand.objects.bulk_create(
        PublishedBand(publication=publication, code=b.code, label=b.label, min_index=b.min_index)
        for b in results.bands
    )
    criteria = PublishedCriterion.objects.bulk_create(
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
    # Thousands of rows at national scale: below the ORM (operations.bulk), like the fields.
    rows = [
        {
            **_ranked(publication, row, position),
            "points": row.result.points,
            "max_points": row.result.max_points,
            "index": row.result.index,
            "band_code": row.band.code if row.band else "",
            "band_label": row.band.label if row.band else "",
            **_compared(row.result.index, previous[row.unit.pk]),
        }
        for position, row in enumerate(results.rows, start=1)
    ]
    insert_dicts(PublishedResult, rows, timezone.now())
    result_ids = dict(publication.results.values_list("unit_id", "pk"))
    titles = {f.code: f.title for f in fields}
    field_rows = [
        (
            result_ids[row.unit.pk],
            field.code,
            titles[field.code],
            position,
            field.points,
            field.max_points,
            field.index,
        )
        for row in results.rows
        for position, field in enumerate(row.result.fields, start=1)
    ]
    # Tens of thousands of rows at national scale: below the ORM (operations.bulk).
    insert_rows(
        PublishedField,
        ["result_id", "code", "title", "position", "points", "max_points", "index"],
        field_rows,
    )
    leaves_json = _freeze_leaves(publication, criteria_set, leaves, results.rows, result_ids, text)
    sipas_rows = [
        {
            **_ranked(publication, row, position),
            "index": row.index,
            **_compared(row.index, sipas_previous[row.unit.pk]),
            **row.elements,
        }
        for position, row in enumerate(sipas, start=1)
    ]
    insert_dicts(PublishedSipas, sipas_rows, timezone.now())
    # The payload from what was written (publication_payload reads the same back).
    codes = {result_ids[row.unit.pk]: row.unit.code for row in results.rows}
    payload = {
        "year": publication.year,
        "group": publication.group_code,
        "version": publication.version,
        "reason": publication.reason,
        "bands": [
            (b.code, b.label, b.min_index) for b in sorted(bands, key=lambda b: -b.min_index)
        ],
        "criteria": [_criterion_values(c) for c in criteria],
        "results": [
            tuple(r[name] for name in ("unit_code", "rank", "points", "max_points", "index"))
            + (r["band_code"], r["change"])
            for r in rows
        ],
        "fields": [(codes[row[0]], row[1], *row[4:]) for row in field_rows],
        "leaves": _leaf_payload(publication) if leaves_json is None else [],
        "sipas": [
            (
                r["unit_code"],
                r["rank"],
                r["index"],
                *(r[name] for name in SIPAS_ELEMENTS),
                r["change"],
            )
            for r in sipas_rows
        ],
        "baseline_version": publication.baseline_version,
        "comparisons": [_comparison_values(r) for r in rows],
        "sipas_comparisons": [_comparison_values(r) for r in sipas_rows],
    }
    publication.checksum = _checksum(payload, leaves_json)
    publication.save(update_fields=["checksum"])
    return publication


def _ranked(publication, row, position: int) -> dict:
    """What a published result and a published SIPAS row begin with: the unit, as it is named
    now, and its place in the table."""
    return {
        "publication_id": publication.pk,
        "unit_id": row.unit.pk,
        "unit_code": row.unit.code,
        "unit_name": row.unit.name,
        "position": position,
        "rank": row.rank,
    }


def _comparison_values(row: dict) -> list:
    return [row["unit_code"], row["previous_index"], row["change_basis"], row["compared_with"]]


def _criterion_values(criterion) -> tuple:
    """A published criterion as the checksum covers it: a target leaf's rule and a SIPAS-fed
    leaf's element only where they exist, so a payload without them is what it always was."""
    row = [
        criterion.code,
        criterion.parent_code,
        criterion.title,
        criterion.max_points,
        criterion.kind,
        criterion.previous_code,
    ]
    if criterion.rule:
        row += [
            criterion.target,
            criterion.rule,
            criterion.steps,
            criterion.direction,
            criterion.unit_label,
        ]
    if criterion.sipas_element:
        row.append(criterion.sipas_element)
    return tuple(row)


# What a frozen leaf is made of, from the unit's score (``s``, absent when the unit has none:
# then nothing is entered and the leaf is applicable) and the leaf (``m``).
_FROZEN = {
    "self_score": "s.self_score",
    "final_score": "COALESCE(s.appraisal_2, s.appraisal_1)",
    "not_applicable": "COALESCE(s.not_applicable, %(false)s)",
    "note": "COALESCE(s.note, '')",
    "self_figure": "s.self_figure",
    "figure": "COALESCE(s.figure_2, s.figure_1)",
}


def _derived(rows) -> list[tuple]:
    """(assessment, leaf, points) of every SIPAS-fed leaf (``group_totals`` gives ``finals``
    for those leaves only)."""
    return [(row.assessment, pk, points) for row in rows for pk, points in row.finals.items()]


def _leaf_source(units: str, criteria_set, leaves, derived) -> tuple[str, list]:
    """SQL (and its parameters) for every frozen leaf of every unit in ``units``: a relation
    ``u`` giving ``result_id``, ``result_position``, ``unit_code`` and ``assessment_id`` (its
    own parameters come first). On PostgreSQL a SIPAS-fed leaf takes its ``derived`` points;
    elsewhere ``_freeze_leaves`` sets them after."""
    quote = connection.ops.quote_name
    postgres = connection.vendor == "postgresql"
    mapping = " UNION ALL ".join(
        f"SELECT {int(leaf.pk)} AS id, %s AS code, {position} AS position, "
        f"{1 if leaf.sipas_element else 0} AS fed"
        for position, leaf in enumerate(leaves, start=1)
    )
    frozen = {name: sql % {"false": "FALSE" if postgres else "0"} for name, sql in _FROZEN.items()}
    if postgres and derived:
        frozen["final_score"] = (
            f"CASE WHEN m.fed = 1 THEN d.points ELSE {frozen['final_score']} END"
        )
    sql = (
        f"SELECT u.result_id, u.result_position, u.unit_code, m.code, m.position, "
        f"{', '.join(f'{sql} AS {name}' for name, sql in frozen.items())} "
        f"FROM {units} CROSS JOIN ({mapping}) m "
        # The set's scores, joined by hash (see _PLAN), not looked up one by one.
        f"LEFT JOIN (SELECT * FROM {quote(Score._meta.db_table)} WHERE assessment_id IN "
        f"(SELECT id FROM {quote(Assessment._meta.db_table)} WHERE criteria_set_id = %s)) s "
        f"ON s.assessment_id = u.assessment_id AND s.criterion_id = m.id "
    )
    params = [*(leaf.code for leaf in leaves), criteria_set.pk]
    if postgres and derived:
        sql += (
            "LEFT JOIN unnest(%s::bigint[], %s::bigint[], %s::numeric[]) "
            "AS d(assessment_id, criterion_id, points) "
            "ON d.assessment_id = u.assessment_id AND d.criterion_id = m.id "
        )
        params += [list(values) for values in zip(*derived, strict=True)]
    return sql, params


# How PostgreSQL runs the leaves' statements: the checksum's 300,000 rows sorted in memory, and
# planned without JIT or nested loops: the results were written in this transaction, so the
# planner expects a few rows where there are thousands, and would look up 300,000 scores one
# by one (1 s at national scale) instead of joining them by hash (0.4 s).
_PLAN = ("SET LOCAL work_mem = '256MB'", "SET LOCAL jit = off", "SET LOCAL enable_nestloop = off")


def _freeze_leaves(publication, criteria_set, leaves, rows, result_ids, text=None) -> str | None:
    """Copy every leaf of every published unit from its score into ``PublishedLeaf`` with one
    INSERT … SELECT (a leaf without a score is frozen empty and applicable). A SIPAS-fed leaf
    takes the points derived from the unit's SIPAS (``rows[].finals``).

    On PostgreSQL it returns the leaves as the checksum's JSON text, made by the database
    (``_leaf_json``): by ``text`` (a ``LeafText`` already computing it beside this insert, on a
    second connection), or else by the same statement from the rows it inserts; nothing is read
    back row by row. Elsewhere it returns None and the checksum reads the rows (``leaf_rows``).
    The foreign key to the result is not a database constraint (rankings.models.PublishedLeaf):
    every row comes from a join with this publication's results, and the number inserted is
    checked."""
    postgres = connection.vendor == "postgresql"
    if not leaves or not rows:
        return "" if postgres else None
    quote = connection.ops.quote_name
    derived = _derived(rows)
    units = (
        f"(SELECT r.id AS result_id, r.position AS result_position, r.unit_code, "
        f"a.id AS assessment_id FROM {quote(PublishedResult._meta.db_table)} r "
        f"JOIN {quote(Assessment._meta.db_table)} a "
        f"ON a.unit_id = r.unit_id AND a.criteria_set_id = %s WHERE r.publication_id = %s) u"
    )
    source, params = _leaf_source(units, criteria_set, leaves, derived)
    params = [criteria_set.pk, publication.pk, *params]
    columns = ["result_id", "code", "position", *LEAF_VALUES[2:]]
    target = quote(PublishedLeaf._meta.db_table)
    names = ", ".join(quote(c) for c in columns)
    insert = f"INSERT INTO {target} ({names}) SELECT {names} FROM ({source}) src"
    with connection.cursor() as cursor:
        if postgres:
            for statement in _PLAN:
                cursor.execute(statement)
            if text is not None:
                cursor.execute(insert, params)
                inserted = cursor.rowcount
            else:
                cursor.execute(
                    f"WITH src AS MATERIALIZED ({source}), "
                    f"ins AS (INSERT INTO {target} ({names}) SELECT {names} FROM src "
                    f"RETURNING 1) "
                    f"SELECT (SELECT COUNT(*) FROM ins), {_leaf_text_of('src')} FROM src",
                    params,
                )
                inserted, made = cursor.fetchone()
            cursor.execute("SET LOCAL enable_nestloop = DEFAULT")
        else:
            cursor.execute(insert, params)
            inserted = cursor.rowcount
            if derived:
                code_of = {leaf.pk: leaf.code for leaf in leaves}
                cursor.executemany(
                    f"UPDATE {target} SET {quote('final_score')} = %s WHERE "
                    f"{quote('result_id')} = %s AND {quote('code')} = %s",
                    [
                        (points, result_ids[row.unit.pk], code_of[pk])
                        for row in rows
                        for pk, points in row.finals.items()
                    ],
                )
    if inserted != len(rows) * len(leaves):
        raise RuntimeError(f"froze {inserted} leaves instead of {len(rows) * len(leaves)}")
    if not postgres:
        return None
    if text is None:
        return made or ""
    try:
        return text.result()
    except Exception:  # the second connection failed: make the text from the rows written
        logger.warning("publish: the leaves' text was read back", exc_info=True)
        return _written_leaf_json(publication)


def _written_leaf_json(publication) -> str:
    """The checksum's text of the leaves this transaction wrote (``_leaf_json``)."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {_leaf_text_of('src')} FROM (SELECT r.position AS "
            f"result_position, r.unit_code, l.* FROM {quote(PublishedLeaf._meta.db_table)} l "
            f"JOIN {quote(PublishedResult._meta.db_table)} r ON r.id = l.result_id "
            f"WHERE r.publication_id = %s) src",
            [publication.pk],
        )
        return cursor.fetchone()[0] or ""


class LeafText:
    """The frozen leaves' checksum text (``_leaf_json``), computed on a second connection while
    this one writes the publication: the same statement as the leaves' insert, from the same
    scores, on the snapshot this transaction exported once it held the scores' table lock
    (``publish``), so both read exactly the same rows. The two cores of a small server then
    share the publication's two largest pieces of work.

    ``start`` returns None when it cannot run (no second connection): the insert then makes the
    text itself. ``result`` waits for it, or raises what went wrong there."""

    def __init__(self, snapshot: str, criteria_set, leaves, rows):
        units = (
            "(SELECT NULL::bigint AS result_id, * FROM unnest(%s::int[], %s::text[], "
            "%s::bigint[]) AS x(result_position, unit_code, assessment_id)) u"
        )
        source, params = _leaf_source(units, criteria_set, leaves, _derived(rows))
        self.sql = f"SELECT {_leaf_text_of('src')} FROM ({source}) src"
        self.params = [
            list(range(1, len(rows) + 1)),
            [row.unit.code for row in rows],
            [row.assessment for row in rows],
            *params,
        ]
        self.snapshot = snapshot
        self.connect_params = connection.get_connection_params()
        self.database = connection.Database
        self._text: str | None = None
        self._error: BaseException | None = None
        self._thread = None

    def start(self) -> LeafText | None:
        try:
            self._other = self.database.connect(**self.connect_params)
        except self.database.Error:
            return None
        self._thread = threading.Thread(target=self._run, name="publish-leaf-text", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        other = self._other
        try:
            other.set_session(isolation_level="REPEATABLE READ", readonly=True)
            with other.cursor() as cursor:
                cursor.execute("SET TRANSACTION SNAPSHOT %s", [self.snapshot])
                for statement in _PLAN:
                    cursor.execute(statement)
                cursor.execute(self.sql, self.params)
                self._text = cursor.fetchone()[0] or ""
        except BaseException as error:  # handed to the publishing thread by result()
            self._error = error
        finally:
            try:
                other.rollback()
            finally:
                other.close()

    def result(self) -> str:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._text


def _json_text(column: str) -> str:
    """SQL for a text column as ``json.dumps(..., ensure_ascii=False)`` writes it."""
    return f"to_json({column})::text"


def _json_decimal(column: str) -> str:
    """SQL for a decimal as ``json.dumps(..., default=str)`` writes it: its text, quoted, or
    null (a numeric's text keeps its scale, like ``str(Decimal)``)."""
    return f"COALESCE('\"' || {column}::text || '\"', 'null')"


def _leaf_text_of(table: str) -> str:
    """SQL for the checksum's text of every frozen leaf in ``table`` (its rows as
    ``_leaf_json`` writes them, unit by unit in rank order, leaves in tree order): the one
    aggregate of the insert, the second connection and the read-back."""
    return (
        f"string_agg({_leaf_json(table)}, ', ' ORDER BY {table}.result_position, {table}.position)"
    )


def _leaf_json(table: str) -> str:
    """SQL for one frozen leaf as the checksum's JSON writes it (``publication_payload``):
    ``[unit, code, self score, final score, not applicable, note]``, and the two figures after
    them only when the leaf has one. Held to the Python payload by the tests."""
    t = table
    figures = (
        f"CASE WHEN {t}.self_figure IS NULL AND {t}.figure IS NULL THEN '' ELSE "
        f"', ' || {_json_decimal(f'{t}.self_figure')} || ', ' || {_json_decimal(f'{t}.figure')} "
        f"END"
    )
    return (
        f"'[' || {_json_text(f'{t}.unit_code')} || ', ' || {_json_text(f'{t}.code')} || ', ' || "
        f"{_json_decimal(f'{t}.self_score')} || ', ' || {_json_decimal(f'{t}.final_score')} || "
        f"', ' || CASE WHEN {t}.not_applicable THEN 'true' ELSE 'false' END || ', ' || "
        f"{_json_text(f'{t}.note')} || {figures} || ']'"
    )


def publication_checksum(publication: Publication) -> str:
    """The SHA-256 of everything the publication promises (recomputed to verify a copy)."""
    return _checksum(publication_payload(publication))


def publication_payload(publication: Publication) -> dict:
    """Everything a publication promises, as plain data: what the checksum covers. A target
    leaf's rule, a SIPAS-fed leaf's element and a leaf's figures are added to its row only where
    they exist, so the payload of a publication without them is what it always was."""
    criteria = [_criterion_values(c) for c in publication.criteria.all()]
    leaves = _leaf_payload(publication)
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


def _leaf_payload(publication: Publication) -> list[tuple]:
    """The frozen leaves as the checksum covers them: a leaf's figures only where it has one."""
    leaves = []
    for *values, self_figure, figure in leaf_rows(publication):
        if self_figure is not None or figure is not None:
            values += [self_figure, figure]
        leaves.append(tuple(values))
    return leaves
