"""The write side: units, rounds, criteria sets, assessments and every stage of their scores.

Nothing here is public. The public reads frozen copies made by ``rankings.publishing``.
"""

from __future__ import annotations

import re
from decimal import Decimal
from uuid import uuid4

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from . import calculation
from .validators import validate_multi_line, validate_single_line

POINTS = {"max_digits": 7, "decimal_places": 2}
PERCENT = {
    "max_digits": 5,
    "decimal_places": 2,
    "validators": [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
}

DEFAULT_BANDS = (
    ("rat-tot", "Rất tốt", Decimal("90")),
    ("tot", "Tốt", Decimal("80")),
    ("kha", "Khá", Decimal("70")),
    ("trung-binh", "Trung bình", Decimal("50")),
    ("kem", "Kém", Decimal("0")),
)


class UnitGroup(models.Model):
    """A group of units ranked together (city departments, districts, communes...)."""

    code = models.SlugField(_("code"), max_length=64, unique=True)
    name = models.CharField(_("name"), max_length=200, validators=[validate_single_line])
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "code"]
        verbose_name = _("unit group")
        verbose_name_plural = _("unit groups")

    def __str__(self) -> str:
        return self.name


class Unit(models.Model):
    """An agency or locality that is scored. ``dissolved_on`` is the day it ceased (a merger, a
    split, the end of the district level); ``successors`` the unit(s) that took it over then
    (several for a split, none when nothing took it over)."""

    code = models.SlugField(_("code"), max_length=100, unique=True)
    name = models.CharField(_("name"), max_length=255, validators=[validate_single_line])
    short_name = models.CharField(
        _("short name"), max_length=100, blank=True, validators=[validate_single_line]
    )
    group = models.ForeignKey(
        UnitGroup, on_delete=models.PROTECT, related_name="units", verbose_name=_("group")
    )
    dissolved_on = models.DateField(_("ceased on"), null=True, blank=True)
    dissolved_reason = models.CharField(
        _("why it ceased"),
        max_length=200,
        blank=True,
        validators=[validate_single_line],
        help_text=_("Shown on its public page, e.g. “bỏ cấp huyện”."),
    )
    successors = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="predecessors",
        verbose_name=_("successors"),
    )

    class Meta:
        ordering = ["group__order", "name"]
        verbose_name = _("unit")
        verbose_name_plural = _("units")

    def __str__(self) -> str:
        return self.name


class Stage(models.TextChoices):
    SETUP = "setup", _("Set-up")
    SELF_ASSESSMENT = "self_assessment", _("Self-assessment")
    APPRAISAL_1 = "appraisal_1", _("Appraisal, round 1")
    EXPLANATION = "explanation", _("Explanation")
    APPRAISAL_2 = "appraisal_2", _("Appraisal, round 2")
    FINAL = "final", _("Final")


# Where each appraisal round writes on a score: the points, and a target leaf's figure.
APPRAISAL_COLUMNS = {
    Stage.APPRAISAL_1: ("appraisal_1", "figure_1"),
    Stage.APPRAISAL_2: ("appraisal_2", "figure_2"),
}


class Round(models.Model):
    """One year's assessment round, with its current stage and the deadline of each stage."""

    year = models.PositiveSmallIntegerField(
        _("year"), unique=True, validators=[MinValueValidator(2000), MaxValueValidator(2200)]
    )
    stage = models.CharField(_("stage"), max_length=20, choices=Stage, default=Stage.SETUP)
    self_assessment_deadline = models.DateTimeField(
        _("self-assessment deadline"), null=True, blank=True
    )
    appraisal_1_deadline = models.DateTimeField(
        _("appraisal round 1 deadline"), null=True, blank=True
    )
    explanation_deadline = models.DateTimeField(_("explanation deadline"), null=True, blank=True)
    appraisal_2_deadline = models.DateTimeField(
        _("appraisal round 2 deadline"), null=True, blank=True
    )

    class Meta:
        ordering = ["-year"]
        verbose_name = _("round")
        verbose_name_plural = _("rounds")
        permissions = [("drive_stages", _("Can open and close the stages of a round"))]

    def __str__(self) -> str:
        return str(self.year)

    def deadline_for(self, stage: str):
        return getattr(self, f"{stage}_deadline", None)

    def current_deadline(self):
        """The deadline of the current stage, or None."""
        return self.deadline_for(self.stage)

    def deadline_passed(self, stage: str | None = None) -> bool:
        """The deadline of ``stage`` (the current one by default) has passed."""
        deadline = self.deadline_for(stage or self.stage)
        return deadline is not None and timezone.now() > deadline


class CriteriaSet(models.Model):
    """The criteria tree of one group in one round, with its caps and classification bands."""

    round = models.ForeignKey(
        Round, on_delete=models.PROTECT, related_name="criteria_sets", verbose_name=_("round")
    )
    group = models.ForeignKey(
        UnitGroup, on_delete=models.PROTECT, related_name="criteria_sets", verbose_name=_("group")
    )
    bonus_cap = models.DecimalField(
        _("bonus cap"),
        **POINTS,
        null=True,
        blank=True,
        help_text=_("Empty: the sum of the maxima of the bonus leaves."),
    )
    penalty_cap = models.DecimalField(
        _("penalty cap"),
        **POINTS,
        null=True,
        blank=True,
        help_text=_("Empty: the sum of the maxima of the penalty leaves."),
    )

    class Meta:
        ordering = ["-round__year", "group__order"]
        verbose_name = _("criteria set")
        verbose_name_plural = _("criteria sets")
        constraints = [
            models.UniqueConstraint(fields=["round", "group"], name="one_set_per_round_and_group"),
            models.CheckConstraint(
                condition=Q(bonus_cap__isnull=True) | Q(bonus_cap__gte=0),
                name="bonus_cap_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(penalty_cap__isnull=True) | Q(penalty_cap__gte=0),
                name="penalty_cap_not_negative",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.round.year} · {self.group.name}"

    def create_default_bands(self) -> None:
        Band.objects.bulk_create(
            Band(criteria_set=self, code=code, label=label, min_index=min_index)
            for code, label, min_index in DEFAULT_BANDS
        )

    def tree_frozen(self) -> bool:
        """Scores point at its criteria, or its year and group were published: its tree can no
        longer change (``import_criteria`` and the admin both refuse)."""
        return (
            Score.objects.filter(criterion__criteria_set=self).exists()
            or self.group.publications.filter(year=self.round.year).exists()
        )

    def refresh_tree(self) -> None:
        """Restore the tree's rules after a criterion was added, moved or removed one at a time
        (the admin): a criterion with children is a parent, without a kind, its maximum the sum
        of its children's; one without children is a leaf (of kind ``self`` unless it has one);
        positions follow the tree, siblings in their former order."""
        criteria = list(self.criteria.all())
        children: dict[int | None, list[Criterion]] = {}
        for criterion in criteria:
            children.setdefault(criterion.parent_id, []).append(criterion)

        def natural(code: str) -> list:
            return [int(part) if part.isdigit() else part for part in re.split(r"[.\-_]", code)]

        ordered: list[Criterion] = []

        def walk(parent_id) -> Decimal:
            total = Decimal("0.00")
            for node in sorted(
                children.get(parent_id, []), key=lambda c: (c.position, natural(c.code))
            ):
                ordered.append(node)
                if children.get(node.pk):
                    node.max_points, node.kind, node.is_leaf = walk(node.pk), "", False
                else:
                    node.kind, node.is_leaf = node.kind or Kind.SELF, True
                total += node.max_points
            return total

        walk(None)
        for position, node in enumerate(ordered, start=1):
            node.position = position
        Criterion.objects.bulk_update(ordered, ["max_points", "kind", "is_leaf", "position"])


class Kind(models.TextChoices):
    """The leaf kinds of ``calculation.Kind``, with their labels."""

    SELF = calculation.Kind.SELF.value, _("Self-assessed")
    AGENCY = calculation.Kind.AGENCY.value, _("Scored by the appraising agency")
    TARGET = calculation.Kind.TARGET.value, _("Figure against a target")
    SURVEY = calculation.Kind.SURVEY.value, _("Survey")
    BONUS = calculation.Kind.BONUS.value, _("Bonus")
    PENALTY = calculation.Kind.PENALTY.value, _("Penalty")


class CriterionQuerySet(models.QuerySet):
    def tree(self) -> list[Criterion]:
        """The criteria in tree order, each given ``depth`` (0 for a field) and ``field`` (the
        field it belongs to, itself for a field): the one walk of a tree, in one query."""
        criteria = list(self.order_by("position", "code"))
        by_id = {criterion.pk: criterion for criterion in criteria}

        def place(criterion: Criterion) -> None:
            if hasattr(criterion, "depth"):
                return
            parent = by_id.get(criterion.parent_id)
            if parent is None:
                criterion.depth, criterion.field = 0, criterion
            else:
                place(parent)
                criterion.depth, criterion.field = parent.depth + 1, parent.field

        for criterion in criteria:
            place(criterion)
        return criteria


class Rule(models.TextChoices):
    """The rules of ``calculation.Rule``, with their labels."""

    PROPORTIONAL = calculation.Rule.PROPORTIONAL.value, _("Proportional to the target")
    STEPS = calculation.Rule.STEPS.value, _("Steps")


class Direction(models.TextChoices):
    """The directions of ``calculation.Direction``, with their labels."""

    HIGHER = calculation.Direction.HIGHER.value, _("Higher is better")
    LOWER = calculation.Direction.LOWER.value, _("Lower is better")


FIGURE = {"max_digits": 14, "decimal_places": 2}  # a reported figure: a rate or a count
# How a leaf's points are obtained, besides its kind: a target leaf's rule, a survey leaf's SIPAS
# element. One list for import_criteria, the admin, publishing and the open data.
RULE_FIELDS = ("target", "rule", "steps", "direction", "unit_label")
LEAF_SOURCE_FIELDS = (*RULE_FIELDS, "sipas_element")
SIPAS_ELEMENTS = ("access", "procedure", "civil_servants", "result", "feedback")


class Criterion(models.Model):
    """A node of a criteria tree: a field (no parent), a criterion or a sub-criterion.

    Leaves carry the points and the kind; a parent's maximum is the sum of its children's. A
    ``target`` leaf carries its rule (``target``, ``rule``, ``steps``, ``direction``,
    ``unit_label``); a ``survey`` leaf may be fed from a SIPAS element (``sipas_element``).
    """

    criteria_set = models.ForeignKey(
        CriteriaSet, on_delete=models.CASCADE, related_name="criteria", verbose_name=_("set")
    )
    code = models.CharField(_("code"), max_length=32, validators=[validate_single_line])
    parent = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="children",
        verbose_name=_("parent"),
    )
    title = models.CharField(_("title"), max_length=500, validators=[validate_single_line])
    guidance = models.TextField(_("guidance"), blank=True, validators=[validate_multi_line])
    max_points = models.DecimalField(_("maximum points"), **POINTS)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind, blank=True)
    is_leaf = models.BooleanField(_("leaf"), default=True)
    position = models.PositiveIntegerField(_("position"), default=0)
    previous = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="next_versions",
        verbose_name=_("previous year's criterion"),
    )
    target = models.DecimalField(_("target"), **FIGURE, null=True, blank=True)
    rule = models.CharField(_("rule"), max_length=20, choices=Rule, blank=True)
    steps = models.CharField(
        _("steps"),
        max_length=500,
        blank=True,
        help_text=_("threshold:points pairs separated by ';', tried in the order written"),
    )
    direction = models.CharField(
        _("direction"), max_length=10, choices=Direction, default=Direction.HIGHER
    )
    unit_label = models.CharField(
        _("unit of the figure"), max_length=20, blank=True, validators=[validate_single_line]
    )
    sipas_element = models.CharField(
        _("SIPAS element"),
        max_length=20,
        blank=True,
        choices=[(name, name) for name in SIPAS_ELEMENTS],
        help_text=_(
            "A survey leaf whose points are its maximum × the unit's share of this element"
        ),
    )

    objects = CriterionQuerySet.as_manager()

    class Meta:
        ordering = ["criteria_set", "position"]
        verbose_name = _("criterion")
        verbose_name_plural = _("criteria")
        constraints = [
            models.UniqueConstraint(
                fields=["criteria_set", "code"], name="criterion_code_unique_in_set"
            ),
            models.CheckConstraint(
                condition=Q(max_points__gte=0), name="criterion_max_not_negative"
            ),
            models.CheckConstraint(
                condition=(Q(is_leaf=True) & ~Q(kind="")) | (Q(is_leaf=False) & Q(kind="")),
                name="criterion_kind_on_leaves_only",
            ),
            models.CheckConstraint(
                condition=(Q(kind="target") & ~Q(rule="")) | (~Q(kind="target") & Q(rule="")),
                name="criterion_rule_on_target_leaves_only",
            ),
            models.CheckConstraint(
                condition=~Q(rule="proportional") | Q(target__isnull=False, target__gte=0),
                name="criterion_proportional_rule_has_target",
            ),
            models.CheckConstraint(
                condition=~Q(rule="steps") | ~Q(steps=""), name="criterion_steps_rule_has_steps"
            ),
            models.CheckConstraint(
                condition=Q(sipas_element="") | Q(kind="survey"),
                name="criterion_sipas_element_on_survey_leaves_only",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code}. {self.title}"

    def target_rule(self) -> calculation.TargetRule | None:
        """The rule of a ``target`` leaf, or None for any other."""
        if self.kind != Kind.TARGET:
            return None
        return calculation.TargetRule(
            rule=self.rule,
            target=self.target,
            direction=self.direction,
            steps=calculation.parse_steps(self.steps) if self.steps else (),
        )

    def points_for(self, figure: Decimal | None) -> Decimal | None:
        """What a figure earns on this ``target`` leaf (None for no figure)."""
        if figure is None:
            return None
        return calculation.target_points(figure, self.max_points, self.target_rule())


class Band(models.Model):
    """A classification band: a label and its inclusive lower bound on the published index."""

    criteria_set = models.ForeignKey(
        CriteriaSet, on_delete=models.CASCADE, related_name="bands", verbose_name=_("set")
    )
    code = models.SlugField(_("code"), max_length=32)
    label = models.CharField(_("label"), max_length=100, validators=[validate_single_line])
    min_index = models.DecimalField(_("lower bound"), **PERCENT)

    class Meta:
        ordering = ["criteria_set", "-min_index"]
        verbose_name = _("band")
        verbose_name_plural = _("bands")
        constraints = [
            models.UniqueConstraint(fields=["criteria_set", "code"], name="band_code_unique"),
            models.UniqueConstraint(fields=["criteria_set", "min_index"], name="band_min_unique"),
            models.CheckConstraint(
                condition=Q(min_index__gte=0) & Q(min_index__lte=100), name="band_min_in_range"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} (≥ {self.min_index})"


class AssessmentStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    EXPLAINED = "explained", _("Explanation submitted")


class Assessment(models.Model):
    """One unit's assessment in one criteria set (a year and a group)."""

    criteria_set = models.ForeignKey(
        CriteriaSet, on_delete=models.PROTECT, related_name="assessments", verbose_name=_("set")
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="assessments", verbose_name=_("unit")
    )
    status = models.CharField(
        _("status"), max_length=20, choices=AssessmentStatus, default=AssessmentStatus.DRAFT
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    explanation_submitted_at = models.DateTimeField(
        _("explanation submitted at"), null=True, blank=True
    )
    evidence_fingerprint = models.CharField(
        _("evidence fingerprint (SHA-256)"),
        max_length=64,
        blank=True,
        help_text=_("Of every evidence file's SHA-256 at submission, in order."),
    )

    class Meta:
        ordering = ["criteria_set", "unit__name"]
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        permissions = [
            ("self_assess", _("Can self-assess their own unit")),
            ("submit_assessment", _("Can submit their own unit's assessment")),
            ("appraise", _("Can appraise the fields assigned to them")),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["criteria_set", "unit"], name="one_assessment_per_set_and_unit"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit} · {self.criteria_set.round.year}"

    def scores_on(self, criteria: list[Criterion]) -> dict[int, Score]:
        """The assessment's scores by criterion id, each given its criterion from ``criteria``
        (``tree()``'s, with their depth and field): one query."""
        by_id = {c.pk: c for c in criteria}
        scores = {}
        for score in self.scores.order_by("pk"):
            score.criterion = by_id[score.criterion_id]
            scores[score.criterion_id] = score
        return scores

    def set_status(self, status: str, user, note: str = "", **values) -> None:
        """Change the status (with the other ``values`` that go with it, e.g. the time of
        submission), writing its ``Transition`` (with ``note``, e.g. why)."""
        Transition.objects.create(
            round=self.criteria_set.round,
            assessment=self,
            from_state=self.status,
            to_state=status,
            user=user,
            note=note,
        )
        self.status = status
        for name, value in values.items():
            setattr(self, name, value)
        self.save(update_fields=["status", *values])


class Score(models.Model):
    """Every stage of one leaf of one assessment, side by side; nothing overwrites a stage.

    The final score is the round-2 appraisal if there is one, else the round-1 appraisal.
    Penalty leaves hold the positive amount subtracted.
    """

    assessment = models.ForeignKey(
        Assessment, on_delete=models.CASCADE, related_name="scores", verbose_name=_("assessment")
    )
    criterion = models.ForeignKey(
        Criterion, on_delete=models.PROTECT, related_name="scores", verbose_name=_("criterion")
    )
    self_score = models.DecimalField(_("self score"), **POINTS, null=True, blank=True)
    self_figure = models.DecimalField(_("reported figure"), **FIGURE, null=True, blank=True)
    self_method = models.TextField(
        _("how it was scored"), blank=True, validators=[validate_multi_line]
    )
    not_applicable = models.BooleanField(_("not applicable"), default=False)
    not_applicable_requested = models.BooleanField(_("not applicable requested"), default=False)
    not_applicable_reason = models.TextField(
        _("reason for not applicable"), blank=True, validators=[validate_multi_line]
    )
    appraisal_1 = models.DecimalField(_("round-1 appraisal"), **POINTS, null=True, blank=True)
    figure_1 = models.DecimalField(_("round-1 figure"), **FIGURE, null=True, blank=True)
    appraisal_1_reason = models.TextField(
        _("round-1 reason"), blank=True, validators=[validate_multi_line]
    )
    explanation_requested = models.BooleanField(_("explanation requested"), default=False)
    explanation = models.TextField(_("explanation"), blank=True, validators=[validate_multi_line])
    appraisal_2 = models.DecimalField(_("round-2 appraisal"), **POINTS, null=True, blank=True)
    figure_2 = models.DecimalField(_("round-2 figure"), **FIGURE, null=True, blank=True)
    appraisal_2_reason = models.TextField(
        _("round-2 reason"), blank=True, validators=[validate_multi_line]
    )
    note = models.TextField(_("public note"), blank=True, validators=[validate_multi_line])
    version = models.PositiveIntegerField(_("version"), default=1)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords()

    class Meta:
        ordering = ["assessment", "criterion__position"]
        verbose_name = _("score")
        verbose_name_plural = _("scores")
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "criterion"], name="one_score_per_assessment_and_leaf"
            ),
            models.CheckConstraint(
                condition=Q(self_score__isnull=True) | Q(self_score__gte=0),
                name="self_score_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(appraisal_1__isnull=True) | Q(appraisal_1__gte=0),
                name="appraisal_1_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(appraisal_2__isnull=True) | Q(appraisal_2__gte=0),
                name="appraisal_2_not_negative",
            ),
            *(
                models.CheckConstraint(
                    condition=Q(**{f"{name}__isnull": True}) | Q(**{f"{name}__gte": 0}),
                    name=f"{name}_not_negative",
                )
                for name in ("self_figure", "figure_1", "figure_2")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.assessment} · {self.criterion.code}"

    @property
    def final_score(self) -> Decimal | None:
        return calculation.final_score(self.appraisal_1, self.appraisal_2)

    def record_change(self, reason: str) -> None:
        """Save what was changed on this score as its next version, the reason kept in its
        history (optimistic locking compares versions)."""
        self.version += 1
        self._change_reason = reason
        self.save()


def evidence_path(instance: Evidence, filename: str) -> str:
    # The stored name never comes from the user: only the extension is kept.
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"evidence/{instance.score.assessment_id}/{uuid4().hex}.{suffix}"


class Evidence(models.Model):
    """A document proving a score: an uploaded file, or a cited document (number, date, page)."""

    score = models.ForeignKey(
        Score, on_delete=models.CASCADE, related_name="evidence", verbose_name=_("score")
    )
    file = models.FileField(_("file"), upload_to=evidence_path, blank=True, max_length=255)
    original_name = models.CharField(_("original file name"), max_length=255, blank=True)
    size = models.PositiveBigIntegerField(_("size"), null=True, blank=True)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True)
    document_number = models.CharField(
        _("document number"), max_length=100, blank=True, validators=[validate_single_line]
    )
    document_date = models.DateField(_("document date"), null=True, blank=True)
    page = models.CharField(_("page"), max_length=50, blank=True, validators=[validate_single_line])
    description = models.CharField(
        _("description"), max_length=500, blank=True, validators=[validate_single_line]
    )
    stage = models.CharField(
        _("stage"), max_length=20, choices=Stage, default=Stage.SELF_ASSESSMENT
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("uploaded by"),
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        ordering = ["score", "uploaded_at"]
        verbose_name = _("evidence")
        verbose_name_plural = _("evidence")
        constraints = [
            models.CheckConstraint(
                condition=~Q(file="") | ~Q(document_number=""), name="evidence_file_or_document"
            ),
        ]

    def __str__(self) -> str:
        return self.original_name or self.document_number


class Transition(models.Model):
    """A stage change of a round or a status change of an assessment: who, when, from, to."""

    round = models.ForeignKey(
        Round, on_delete=models.CASCADE, related_name="transitions", verbose_name=_("round")
    )
    assessment = models.ForeignKey(
        Assessment,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="transitions",
        verbose_name=_("assessment"),
    )
    from_state = models.CharField(_("from"), max_length=30)
    to_state = models.CharField(_("to"), max_length=30)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("user"),
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)
    note = models.TextField(_("note"), blank=True, validators=[validate_multi_line])

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = _("transition")
        verbose_name_plural = _("transitions")

    def __str__(self) -> str:
        return f"{self.from_state} → {self.to_state}"


class SipasResult(models.Model):
    """A unit's satisfaction survey (SIPAS) results of one year: the five element indices (%)."""

    round = models.ForeignKey(
        Round, on_delete=models.PROTECT, related_name="sipas_results", verbose_name=_("round")
    )
    group = models.ForeignKey(
        UnitGroup, on_delete=models.PROTECT, related_name="sipas_results", verbose_name=_("group")
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="sipas_results", verbose_name=_("unit")
    )
    access = models.DecimalField(_("access to the service"), **PERCENT)
    procedure = models.DecimalField(_("administrative procedure"), **PERCENT)
    civil_servants = models.DecimalField(_("civil servants"), **PERCENT)
    result = models.DecimalField(_("result of the service"), **PERCENT)
    feedback = models.DecimalField(_("handling of feedback"), **PERCENT)
    index = models.DecimalField(
        _("SIPAS index"),
        **PERCENT,
        null=True,
        blank=True,
        help_text=_(
            "Set when computed from questionnaires: the mean of the exact element shares, "
            "rounded once. Empty: the mean of the five element values."
        ),
    )

    history = HistoricalRecords()

    class Meta:
        ordering = ["round", "group", "unit__name"]
        verbose_name = _("SIPAS result")
        verbose_name_plural = _("SIPAS results")
        constraints = [
            models.UniqueConstraint(fields=["round", "unit"], name="one_sipas_per_round_and_unit"),
            *(
                models.CheckConstraint(
                    condition=Q(**{f"{name}__gte": 0}) & Q(**{f"{name}__lte": 100}),
                    name=f"sipas_{name}_in_range",
                )
                for name in SIPAS_ELEMENTS
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit} · {self.round.year}"

    def elements(self) -> dict[str, Decimal]:
        return {name: getattr(self, name) for name in SIPAS_ELEMENTS}

    def sipas_index(self) -> Decimal:
        """The unit's SIPAS: the stored exact one (from questionnaires), else the mean of its
        five element values."""
        if self.index is not None:
            return self.index
        return calculation.sipas_index(self.elements())


class Membership(models.Model):
    """The unit a user works for. What they may do there comes from their role (group)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="membership",
        verbose_name=_("user"),
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.CASCADE, related_name="members", verbose_name=_("unit")
    )

    class Meta:
        ordering = ["unit__name", "user__username"]
        verbose_name = _("unit membership")
        verbose_name_plural = _("unit memberships")

    def __str__(self) -> str:
        return f"{self.user} · {self.unit}"


class AppraiserAssignment(models.Model):
    """A council member appraises one field of one criteria set (a round and a group)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="appraisals",
        verbose_name=_("appraiser"),
    )
    field = models.ForeignKey(
        Criterion,
        on_delete=models.CASCADE,
        related_name="appraisers",
        verbose_name=_("field"),
        limit_choices_to={"parent__isnull": True},
    )
    units = models.ManyToManyField(
        Unit,
        blank=True,
        related_name="appraiser_assignments",
        verbose_name=_("units"),
        help_text=_("Empty: every unit of the group. Otherwise only these units (e.g. by area)."),
    )

    class Meta:
        ordering = ["field__criteria_set", "field__position", "user__username"]
        verbose_name = _("appraiser assignment")
        verbose_name_plural = _("appraiser assignments")
        constraints = [
            models.UniqueConstraint(fields=["user", "field"], name="assign_a_field_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.field.criteria_set} · {self.field.code}"

    def clean(self):

        if self.field_id and self.field.parent_id is not None:
            raise ValidationError({"field": _("Choose a field (a criterion without a parent).")})
