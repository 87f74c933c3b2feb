"""The council's anomaly board: what in a round's scores deserves a second look
(docs/guide-council.md, "Bảng bất thường").

``find_anomalies`` reads a round in a fixed number of queries whatever the number of units and
leaves (its criteria; its assessments with their units; its scores; its evidence; the history of
its scores; last year's scores of the same leaves) and hands the rows to the ``find_*``
functions, which are pure: rows in, dataclasses out. Nothing here writes.

What a user may see is a ``permissions.Reach``: the secretariat sees every unit and field, a
council member only the fields assigned to them, for the units their assignments cover.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.db.models import BooleanField, Case, F, Q, Value, When, Window
from django.db.models.functions import Lag
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .calculation import ENTERED_KINDS, Kind, final_score
from .models import Assessment, Criterion, Evidence, Round, Score, Stage
from .permissions import Reach

DEFAULT_THRESHOLD = Decimal("50")  # a jump, in % of the leaf's maximum
LAST_HOUR = timedelta(hours=1)
# The points each stage writes, watched in the history: (stage, column, what it is called).
WATCHED_COLUMNS = (
    (Stage.SELF_ASSESSMENT, "self_score", _("self score")),
    (Stage.APPRAISAL_1, "appraisal_1", _("round-1 appraisal")),
    (Stage.APPRAISAL_2, "appraisal_2", _("round-2 appraisal")),
)
AFTER_SUBMISSION = "after_submission"
AFTER_DEADLINE = "after_deadline"
BEFORE_DEADLINE = "before_deadline"


class BadThreshold(ValueError):
    """A threshold that is not a percentage from 1 to 100."""


def parse_threshold(text: str | None) -> Decimal:
    """``?threshold=``: a percentage of the leaf's maximum from 1 to 100, with a decimal point
    or comma and an optional %; empty gives the default."""
    text = (text or "").strip().removesuffix("%").strip().replace(",", ".")
    if not text:
        return DEFAULT_THRESHOLD
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise BadThreshold(text) from None
    if not value.is_finite() or not Decimal("1") <= value <= Decimal("100"):
        raise BadThreshold(text)
    return value.quantize(Decimal("0.01"), ROUND_HALF_UP)


# What the board shows ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    """A leaf of one unit's assessment: where an entry points (the council's appraisal page)."""

    assessment_id: int
    unit: str
    code: str
    title: str
    max_points: Decimal

    @property
    def url(self) -> str:
        page = reverse("admin:scoring_assessment_appraise", args=[self.assessment_id])
        return f"{page}#leaf-{self.code}"


@dataclass(frozen=True)
class Unevidenced:
    """1. A leaf self-scored at its maximum with no evidence and no not-applicable request."""

    place: Place
    self_score: Decimal


@dataclass(frozen=True)
class Jump:
    """2. This year's self score far from last year's final score on the same leaf."""

    place: Place
    self_score: Decimal
    last_final: Decimal
    last_year: int

    @property
    def difference(self) -> Decimal:
        return self.self_score - self.last_final

    @property
    def size(self) -> Decimal:
        return abs(self.difference)

    @property
    def share(self) -> Decimal:
        """The difference in % of the leaf's maximum (whole percent, half up)."""
        share = abs(self.difference) * 100 / self.place.max_points
        return share.quantize(Decimal("1"), ROUND_HALF_UP)


@dataclass(frozen=True)
class LateChange:
    """3. A score changed after the unit's submission, after its stage's deadline, or in the
    hour before that deadline."""

    place: Place
    what: str
    old: Decimal | None
    new: Decimal | None
    at: datetime
    by: str
    why: str  # AFTER_SUBMISSION, AFTER_DEADLINE or BEFORE_DEADLINE
    reference: datetime  # the submission or the deadline

    def why_text(self) -> str:
        return {
            AFTER_SUBMISSION: _("after the unit submitted"),
            AFTER_DEADLINE: _("after the deadline"),
            BEFORE_DEADLINE: _("in the last hour before the deadline"),
        }[self.why]


@dataclass(frozen=True)
class SharedFile:
    """4. One file (one SHA-256) given as evidence by several units of the round."""

    sha256: str
    uses: list[tuple[Place, str]]  # the leaf and the file's name, for what the user may see
    other_units: int  # units using it outside what the user may see


@dataclass(frozen=True)
class AllMaximum:
    """5. A unit that gave itself the maximum on every self-assessed leaf."""

    assessment_id: int
    unit: str
    leaves: int
    points: Decimal

    @property
    def url(self) -> str:
        return reverse("admin:scoring_assessment_appraise", args=[self.assessment_id])


@dataclass(frozen=True)
class Anomalies:
    round: Round
    threshold: Decimal
    unevidenced: list[Unevidenced] = field(default_factory=list)
    jumps: list[Jump] = field(default_factory=list)
    late_changes: list[LateChange] = field(default_factory=list)
    shared_files: list[SharedFile] = field(default_factory=list)
    all_maximum: list[AllMaximum] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(
            len(entries)
            for entries in (
                self.unevidenced,
                self.jumps,
                self.late_changes,
                self.shared_files,
                self.all_maximum,
            )
        )


# What is read -----------------------------------------------------------------------------------


@dataclass
class RoundRows:
    """Everything the checks read of a round, in plain rows."""

    round: Round
    reach: Reach
    leaves: dict[int, Criterion]  # leaf id → leaf, with its ``field`` (tree())
    assessments: dict[int, Assessment]  # id → assessment, with its unit
    scores: list[dict]
    evidence: list[dict]
    history: list[dict]  # only the records that may be late, each with ``previous_*``
    last_year: list[dict]

    def covers(self, assessment_id: int, criterion_id: int) -> bool:
        leaf = self.leaves.get(criterion_id)
        if leaf is None or assessment_id not in self.assessments:
            return False
        return self.reach.covers(leaf.field.pk, self.assessments[assessment_id].unit_id)

    def place(self, assessment_id: int, criterion_id: int) -> Place:
        leaf = self.leaves[criterion_id]
        return Place(
            assessment_id=assessment_id,
            unit=self.assessments[assessment_id].unit.name,
            code=leaf.code,
            title=leaf.title,
            max_points=leaf.max_points,
        )

    def order(self, assessment_id: int, criterion_id: int) -> tuple:
        leaf = self.leaves[criterion_id]
        return (self.assessments[assessment_id].unit.name, leaf.position, leaf.code)


def read_round(round_obj: Round, reach: Reach) -> RoundRows:
    """The round's rows, in 6 queries whatever its size."""
    in_round = {"assessment__criteria_set__round": round_obj}
    criteria = Criterion.objects.filter(criteria_set__round=round_obj).tree()
    leaves = {c.pk: c for c in criteria if c.is_leaf}
    assessments = {
        a.pk: a
        for a in Assessment.objects.filter(criteria_set__round=round_obj).select_related(
            "unit", "criteria_set"
        )
    }
    scores = list(
        Score.objects.filter(**in_round).values(
            "pk",
            "assessment_id",
            "criterion_id",
            "self_score",
            "not_applicable",
            "not_applicable_requested",
        )
    )
    evidence = list(
        Evidence.objects.filter(**{f"score__{k}": v for k, v in in_round.items()}).values(
            "score_id",
            "score__assessment_id",
            "score__criterion_id",
            "score__assessment__unit_id",
            "sha256",
            "file",
            "original_name",
        )
    )
    history = list(_late_history(round_obj, in_round))
    # Last year's score of the same leaf: the criterion it is linked to (``previous``), else the
    # leaf of the same code in the same group's set of the year before.
    linked = {c.previous_id for c in leaves.values() if c.previous_id}
    unlinked = {c.code for c in leaves.values() if not c.previous_id}
    last_year = list(
        Score.objects.filter(
            Q(criterion_id__in=linked)
            | Q(
                assessment__criteria_set__round__year=round_obj.year - 1,
                criterion__code__in=unlinked,
            )
        ).values(
            "criterion_id",
            "criterion__code",
            "assessment__unit_id",
            "assessment__criteria_set__group_id",
            "assessment__criteria_set__round__year",
            "appraisal_1",
            "appraisal_2",
            "not_applicable",
        )
    )
    return RoundRows(round_obj, reach, leaves, assessments, scores, evidence, history, last_year)


def previous(column: str) -> str:
    """The name under which a history record carries ``column`` of the record before it."""
    return f"previous_{column}"


def _late_history(round_obj: Round, in_round: dict):
    """The round's score history, narrowed by the database to the records that may be late
    changes (see ``find_late_changes``): a watched column that differs from the record before
    (or is set on a score's first record), saved after the unit's submission (self score) or
    from an hour before its stage's deadline on. Each record carries the watched columns of
    the one before it (``previous(column)``, a ``Lag`` over the score's history by date), so
    that the rows fetched grow with the late changes, not with every save.

    The conditions are one ``Case`` over the window annotations: Django then filters on it
    outside the windowed subquery (QUALIFY), so the dates never prune the records a ``Lag``
    reads, whatever deadlines the round has."""
    history = Score.history.filter(**in_round)
    lags = {
        previous(column): Window(
            Lag(column), partition_by=[F("id")], order_by=[F("history_date"), F("history_id")]
        )
        for _stage, column, _label in WATCHED_COLUMNS
    }
    cases = []
    for stage, column, _label in WATCHED_COLUMNS:
        before = previous(column)
        changed = (
            Q(**{f"{column}__isnull": False, f"{before}__isnull": True})
            | Q(**{f"{column}__isnull": True, f"{before}__isnull": False})
            | Q(**{f"{column}__lt": F(before)})
            | Q(**{f"{column}__gt": F(before)})
        )
        when = Q()
        if column == "self_score":
            when |= Q(history_date__gt=F("assessment__submitted_at"))
        deadline = round_obj.deadline_for(stage)
        if deadline:
            when |= Q(history_date__gte=deadline - LAST_HOUR)
        if when:
            cases.append(When(changed & when, then=Value(True)))
    return (
        history.annotate(**lags)
        .annotate(may_be_late=Case(*cases, default=Value(False), output_field=BooleanField()))
        .filter(may_be_late=True)
        .order_by("id", "history_date", "history_id")
        .values(
            "id",
            "assessment_id",
            "criterion_id",
            "history_type",
            "history_date",
            "history_user__username",
            *(column for _stage, column, _label in WATCHED_COLUMNS),
            *lags,
        )
    )


def find_anomalies(round_obj: Round, reach: Reach, threshold: Decimal = DEFAULT_THRESHOLD):
    """Every anomaly of the round the user may see (``reach``), in 6 queries."""
    rows = read_round(round_obj, reach)
    return Anomalies(
        round=round_obj,
        threshold=threshold,
        unevidenced=find_unevidenced_maxima(rows),
        jumps=find_jumps(rows, threshold),
        late_changes=find_late_changes(rows),
        shared_files=find_shared_files(rows),
        all_maximum=find_all_maximum(rows),
    )


# The checks (pure) ------------------------------------------------------------------------------


def _self_scored(rows: RoundRows, score: dict) -> bool:
    """A self score given by the unit on a leaf it enters, not asked to be set aside."""
    leaf = rows.leaves.get(score["criterion_id"])
    return (
        leaf is not None
        and leaf.kind in ENTERED_KINDS
        and score["self_score"] is not None
        and not score["not_applicable_requested"]
        and not score["not_applicable"]
        and rows.covers(score["assessment_id"], score["criterion_id"])
    )


def find_unevidenced_maxima(rows: RoundRows) -> list[Unevidenced]:
    """1. Leaves self-scored at their maximum without any evidence (a file or a cited
    document) and without a not-applicable request."""
    with_evidence = {e["score_id"] for e in rows.evidence}
    found = [
        s
        for s in rows.scores
        if _self_scored(rows, s)
        and rows.leaves[s["criterion_id"]].max_points > 0
        and s["self_score"] == rows.leaves[s["criterion_id"]].max_points
        and s["pk"] not in with_evidence
    ]
    found.sort(key=lambda s: rows.order(s["assessment_id"], s["criterion_id"]))
    return [
        Unevidenced(rows.place(s["assessment_id"], s["criterion_id"]), s["self_score"])
        for s in found
    ]


def find_jumps(rows: RoundRows, threshold: Decimal) -> list[Jump]:
    """2. Self scores at least ``threshold`` % of the leaf's maximum away from the same unit's
    final score on the same leaf last year (linked leaf, else same code and group a year
    before). Leaves without a final score last year, or not applicable then, are left out."""
    by_link, by_code = {}, {}
    for row in rows.last_year:
        final = final_score(row["appraisal_1"], row["appraisal_2"])
        if final is None or row["not_applicable"]:
            continue
        value = (final, row["assessment__criteria_set__round__year"])
        by_link[(row["assessment__unit_id"], row["criterion_id"])] = value
        if row["assessment__criteria_set__round__year"] == rows.round.year - 1:
            key = (
                row["assessment__unit_id"],
                row["assessment__criteria_set__group_id"],
                row["criterion__code"],
            )
            by_code[key] = value
    found = []
    for score in rows.scores:
        if not _self_scored(rows, score):
            continue
        leaf = rows.leaves[score["criterion_id"]]
        unit_id = rows.assessments[score["assessment_id"]].unit_id
        if leaf.previous_id:
            last = by_link.get((unit_id, leaf.previous_id))
        else:
            group_id = rows.assessments[score["assessment_id"]].criteria_set.group_id
            last = by_code.get((unit_id, group_id, leaf.code))
        if last is None or leaf.max_points <= 0:
            continue
        if abs(score["self_score"] - last[0]) * 100 >= threshold * leaf.max_points:
            found.append((score, last))
    found.sort(key=lambda item: rows.order(item[0]["assessment_id"], item[0]["criterion_id"]))
    return [
        Jump(
            place=rows.place(score["assessment_id"], score["criterion_id"]),
            self_score=score["self_score"],
            last_final=last[0],
            last_year=last[1],
        )
        for score, last in found
    ]


def find_late_changes(rows: RoundRows) -> list[LateChange]:
    """3. Points changed (self score, round-1 or round-2 appraisal) after the unit submitted
    (self score only), after the stage's deadline, or in the hour before it. A change is read
    from a score's history: a record against the one before it (``previous(column)``, read with
    it); the first record against an empty row (scores are created empty for the unit to fill,
    or with a creation record). ``rows.history`` may hold only the records that can be late
    (``read_round`` asks the database for no more); the checks here decide."""
    found = []
    for record in rows.history:
        if record["history_type"] == "-" or not rows.covers(
            record["assessment_id"], record["criterion_id"]
        ):
            continue
        assessment = rows.assessments[record["assessment_id"]]
        at = record["history_date"]
        for stage, column, label in WATCHED_COLUMNS:
            old = record[previous(column)]
            if old == record[column]:
                continue
            deadline = rows.round.deadline_for(stage)
            if column == "self_score" and assessment.submitted_at and at > assessment.submitted_at:
                why, reference = AFTER_SUBMISSION, assessment.submitted_at
            elif deadline and at > deadline:
                why, reference = AFTER_DEADLINE, deadline
            elif deadline and at >= deadline - LAST_HOUR:
                why, reference = BEFORE_DEADLINE, deadline
            else:
                continue
            found.append(
                LateChange(
                    place=rows.place(record["assessment_id"], record["criterion_id"]),
                    what=str(label),
                    old=old,
                    new=record[column],
                    at=at,
                    by=record["history_user__username"] or "",
                    why=why,
                    reference=reference,
                )
            )
    found.sort(key=lambda c: (c.place.unit, c.place.code, c.at))
    return found


def find_shared_files(rows: RoundRows) -> list[SharedFile]:
    """4. Files with the same SHA-256 given as evidence by different units of the round. Only
    the uses the user may see are listed, with the number of other units."""
    uses = defaultdict(list)
    for evidence in rows.evidence:
        if evidence["file"] and evidence["sha256"]:
            uses[evidence["sha256"]].append(evidence)
    found = []
    for sha256, group in uses.items():
        units = {e["score__assessment__unit_id"] for e in group}
        if len(units) < 2:
            continue
        seen = [
            e for e in group if rows.covers(e["score__assessment_id"], e["score__criterion_id"])
        ]
        if not seen:
            continue
        seen.sort(key=lambda e: rows.order(e["score__assessment_id"], e["score__criterion_id"]))
        found.append(
            SharedFile(
                sha256=sha256,
                uses=[
                    (
                        rows.place(e["score__assessment_id"], e["score__criterion_id"]),
                        e["original_name"],
                    )
                    for e in seen
                ],
                other_units=len(units - {e["score__assessment__unit_id"] for e in seen}),
            )
        )
    found.sort(key=lambda f: (f.uses[0][0].unit, f.uses[0][0].code, f.sha256))
    return found


def find_all_maximum(rows: RoundRows) -> list[AllMaximum]:
    """5. Units whose self scores are the maximum on every self-assessed leaf (of the fields
    the user may see) that they did not ask to set aside, every one of them scored."""
    scores = {(s["assessment_id"], s["criterion_id"]): s for s in rows.scores}
    self_leaves = defaultdict(list)
    for leaf in rows.leaves.values():
        if leaf.kind == Kind.SELF:
            self_leaves[leaf.criteria_set_id].append(leaf)
    found = []
    for assessment in rows.assessments.values():
        leaves, points = 0, Decimal("0")
        for leaf in self_leaves[assessment.criteria_set_id]:
            if not rows.reach.covers(leaf.field.pk, assessment.unit_id):
                continue
            score = scores.get((assessment.pk, leaf.pk))
            if score and (score["not_applicable_requested"] or score["not_applicable"]):
                continue
            if score is None or score["self_score"] != leaf.max_points:
                break
            leaves, points = leaves + 1, points + score["self_score"]
        else:
            if leaves:
                found.append(AllMaximum(assessment.pk, assessment.unit.name, leaves, points))
    found.sort(key=lambda a: a.unit)
    return found
