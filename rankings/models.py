"""The read side: frozen publications. The public reads these rows and nothing else.

A publication is one version of the results of a year and group. It is written once, in one
transaction, by ``rankings.publishing``; an erratum is a new version with a reason.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Max, OuterRef, Subquery
from django.utils.translation import gettext_lazy as _

from scoring.models import FIGURE, POINTS, Unit, UnitGroup

PERCENT = {"max_digits": 5, "decimal_places": 2}


class PublicationQuerySet(models.QuerySet):
    def latest_versions(self):
        """Only the latest version of each year and group."""
        newest = (
            Publication.objects.filter(year=OuterRef("year"), group_code=OuterRef("group_code"))
            .values("year", "group_code")
            .annotate(top=Max("version"))
            .values("top")
        )
        return self.filter(version=Subquery(newest))

    def current(self, year: int, group_code: str) -> Publication | None:
        """The latest version of a year and group, or None when it was never published."""
        return self.filter(year=year, group_code=group_code).order_by("-version").first()

    def navigation(self) -> list[Publication]:
        """The latest version of every published year and group, newest year first, groups in
        their order: what the year and group switches of the public pages offer."""
        return list(self.latest_versions().order_by("-year", "group__order"))


class Publication(models.Model):
    year = models.PositiveSmallIntegerField(_("year"))
    group = models.ForeignKey(
        UnitGroup, on_delete=models.PROTECT, related_name="publications", verbose_name=_("group")
    )
    group_code = models.SlugField(_("group code"), max_length=64)
    group_name = models.CharField(_("group name"), max_length=200)
    version = models.PositiveIntegerField(_("version"))
    reason = models.TextField(_("reason"), blank=True)
    published_at = models.DateTimeField(_("published at"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        verbose_name=_("published by"),
    )
    checksum = models.CharField(_("SHA-256 checksum"), max_length=64)
    unit_count = models.PositiveIntegerField(_("units"))
    average_index = models.DecimalField(_("average index"), **PERCENT)
    sipas_average = models.DecimalField(_("average SIPAS"), **PERCENT, null=True, blank=True)
    bonus_cap = models.DecimalField(_("bonus cap"), **POINTS)
    penalty_cap = models.DecimalField(_("penalty cap"), **POINTS)
    # The version of last year's publication of the group that the changes compare with.
    baseline_version = models.PositiveIntegerField(_("baseline version"), null=True, blank=True)
    # What the checksum covers: 1 for publications made before comparisons were recorded (their
    # checksum stays valid), 2 with the baseline and every result's comparison.
    checksum_format = models.PositiveSmallIntegerField(default=2)

    objects = PublicationQuerySet.as_manager()

    class Meta:
        ordering = ["-year", "group_code", "-version"]
        verbose_name = _("publication")
        verbose_name_plural = _("publications")
        constraints = [
            models.UniqueConstraint(
                fields=["year", "group_code", "version"], name="one_version_number_per_group_year"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.year} · {self.group_name} · v{self.version}"

    @property
    def is_erratum(self) -> bool:
        return self.version > 1

    def previous_year(self) -> Publication | None:
        """The latest version of the same group's publication of the year before, or None."""
        return Publication.objects.current(self.year - 1, self.group_code)

    def baseline_outdated(self, latest_before: Publication | None = None) -> bool:
        """Last year's publication of the group has a newer version than the one the changes
        compare with, or was first published after this one (``latest_before``: that latest
        version, when the caller has it)."""
        latest = latest_before if latest_before is not None else self.previous_year()
        if latest is None:
            return False
        return self.baseline_version is None or latest.version > self.baseline_version

    def criteria_changes(self, criteria: list[PublishedCriterion] | None = None) -> dict:
        """What changed in the criteria since last year's publication of the group: leaves
        added (no ``previous_code``), removed (last year's leaves nothing links to) and changed
        (a linked leaf whose title or maximum differs). ``criteria`` are this publication's,
        when the caller has them already."""
        before = self.previous_year()
        if before is None:
            return {"previous": None}
        current = list(self.criteria.all()) if criteria is None else criteria
        old = {c.code: c for c in before.criteria.all()}
        linked = {c.previous_code for c in current if c.previous_code}
        leaves_old = {c.code for c in old.values() if c.kind}
        return {
            "previous": before,
            "added": [c for c in current if c.kind and not c.previous_code],
            "removed": [old[code] for code in sorted(leaves_old - linked)],
            "changed": [
                (c, old[c.previous_code])
                for c in current
                if c.kind
                and c.previous_code in old
                and (
                    c.max_points != old[c.previous_code].max_points
                    or c.title != old[c.previous_code].title
                )
            ],
        }


class Decision(models.Model):
    """The People's Committee decision that announces a year's results (contracts.md,
    "Publishing follows the round"): one per year, whatever the number of groups and versions.
    Recorded by ``publish``'s decision options, by ``record_decision`` or in the admin
    (``rankings.publishing.record_decision``); every detail is optional. Shown on the public
    pages and in the decision documents (rankings/decision.py). Not part of any publication or
    its checksum: recording it changes no result and makes no erratum."""

    year = models.PositiveSmallIntegerField(_("year"), unique=True)
    number = models.CharField(
        _("decision number"), max_length=50, blank=True, help_text=_("e.g. 512/QĐ-UBND")
    )
    date = models.DateField(_("decision date"), null=True, blank=True)
    signed_by = models.CharField(_("signed by"), max_length=200, blank=True)
    recorded_at = models.DateTimeField(_("recorded at"), auto_now=True)

    class Meta:
        ordering = ["-year"]
        verbose_name = _("decision")
        verbose_name_plural = _("decisions")

    def __str__(self) -> str:
        return f"{self.year} · {self.number or '—'}"

    @property
    def has_details(self) -> bool:
        return bool(self.number or self.date or self.signed_by)

    @property
    def checksum(self) -> str:
        """A digest of what the documents and pages show of it: part of their cache key."""
        text = "\0".join(
            (
                str(self.year),
                self.number,
                self.date.isoformat() if self.date else "",
                self.signed_by,
            )
        )
        return hashlib.sha256(text.encode()).hexdigest()


class PublishedBand(models.Model):
    publication = models.ForeignKey(Publication, on_delete=models.CASCADE, related_name="bands")
    code = models.SlugField(max_length=32)
    label = models.CharField(max_length=100)
    min_index = models.DecimalField(**PERCENT)

    class Meta:
        ordering = ["publication", "-min_index"]

    def __str__(self) -> str:
        return f"{self.label} ≥ {self.min_index}"


class PublishedCriterion(models.Model):
    """The criteria tree as it was when published (methodology, leaf results)."""

    publication = models.ForeignKey(Publication, on_delete=models.CASCADE, related_name="criteria")
    code = models.CharField(max_length=32)
    parent_code = models.CharField(max_length=32, blank=True)
    field_code = models.CharField(max_length=32)
    title = models.CharField(max_length=500)
    guidance = models.TextField(blank=True)
    max_points = models.DecimalField(**POINTS)
    kind = models.CharField(max_length=10, blank=True)
    previous_code = models.CharField(max_length=32, blank=True)
    position = models.PositiveIntegerField()
    # The rule of a target leaf, and the SIPAS element of a survey leaf fed from SIPAS.
    target = models.DecimalField(**FIGURE, null=True, blank=True)
    rule = models.CharField(max_length=20, blank=True)
    steps = models.CharField(max_length=500, blank=True)
    direction = models.CharField(max_length=10, blank=True)
    unit_label = models.CharField(max_length=20, blank=True)
    sipas_element = models.CharField(max_length=20, blank=True)

    class Meta:
        ordering = ["publication", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["publication", "code"], name="published_criterion_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code}. {self.title}"


class TableQuerySet(models.QuerySet):
    """The results of a ranking table (``for_table``), as the table sorts and pages them.

    Any sort ends with the published position, so that equal values (the same points, the
    same band) keep one order and a page never repeats nor skips a unit of another page.

    A page (a slice) is read in two steps: the page's results in the requested order, with
    only the one field column the sort may name worked out, then the field columns of those
    results alone. In one query PostgreSQL worked the nine field columns out for every
    result before the page (3,300 × 9 at the end of a national table sorted by name:
    60 ms)."""

    def order_by(self, *fields):
        if fields and not any(str(f).lstrip("-") in ("position", "pk", "id") for f in fields):
            fields = (*fields, "position")
        return super().order_by(*fields)

    def __getitem__(self, k):
        if (
            isinstance(k, slice)
            and self._result_cache is None
            and self._iterable_class is models.query.ModelIterable
            and self.query.annotations
        ):
            ids = list(self.values_list("pk", flat=True)[k])
            rows = {row.pk: row for row in self.filter(pk__in=ids).order_by()}
            return [rows[pk] for pk in ids]
        return super().__getitem__(k)


class PublishedResultQuerySet(models.QuerySet):
    def for_table(self, publication: Publication, field_codes: list[str]):
        """The ranking table: every result of the publication with each field's index as a
        column (``field_<n>``), sortable and filterable in the database. One query."""
        annotations = {
            f"field_{position}": models.Subquery(
                # No ordering: a result has one field of a code, and the model's default
                # ordering would join the result and its publication in every subquery.
                PublishedField.objects.filter(result=models.OuterRef("pk"), code=code)
                .order_by()
                .values("index")[:1],
                output_field=models.DecimalField(**PERCENT),
            )
            for position, code in enumerate(field_codes)
        }
        table = self.filter(publication=publication).annotate(**annotations).order_by("position")
        return TableQuerySet(
            model=table.model, query=table.query.chain(), using=table._db, hints=table._hints
        )


class PublishedResult(models.Model):
    """A unit's frozen PAR Index result in one publication."""

    publication = models.ForeignKey(Publication, on_delete=models.CASCADE, related_name="results")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="published_results")
    unit_code = models.SlugField(max_length=100)
    unit_name = models.CharField(max_length=255)
    position = models.PositiveIntegerField()
    rank = models.PositiveIntegerField()
    points = models.DecimalField(**POINTS)
    max_points = models.DecimalField(**POINTS)
    index = models.DecimalField(**PERCENT)
    band_code = models.SlugField(max_length=32, blank=True)
    band_label = models.CharField(max_length=100, blank=True)
    previous_index = models.DecimalField(**PERCENT, null=True, blank=True)
    change = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    # own, predecessor or merged (scoring.calculation.Basis); empty: nothing to compare with.
    change_basis = models.CharField(max_length=20, blank=True)
    compared_with = models.JSONField(default=list, blank=True)  # unit codes

    objects = PublishedResultQuerySet.as_manager()

    class Meta:
        ordering = ["publication", "position"]
        constraints = [
            models.UniqueConstraint(fields=["publication", "unit"], name="published_unit_once"),
        ]
        indexes = [models.Index(fields=["unit", "publication"])]

    def __str__(self) -> str:
        return f"{self.rank}. {self.unit_name} {self.index}"


class PublishedField(models.Model):
    result = models.ForeignKey(PublishedResult, on_delete=models.CASCADE, related_name="fields")
    code = models.CharField(max_length=32)
    title = models.CharField(max_length=500)
    position = models.PositiveIntegerField()
    points = models.DecimalField(**POINTS)
    max_points = models.DecimalField(**POINTS)
    index = models.DecimalField(**PERCENT, null=True, blank=True)

    class Meta:
        ordering = ["result", "position"]

    def __str__(self) -> str:
        return f"{self.code} {self.points}/{self.max_points}"


class PublishedLeaf(models.Model):
    # Not a database constraint: publishing writes 300,000 of these in one INSERT … SELECT
    # joined to the publication's results, which is what the constraint would check again row
    # by row at COMMIT (rankings/publishing.py: _freeze_leaves counts what it inserted).
    # Deleting a result still deletes its leaves (Django's CASCADE).
    result = models.ForeignKey(
        PublishedResult, on_delete=models.CASCADE, related_name="leaves", db_constraint=False
    )
    code = models.CharField(max_length=32)
    position = models.PositiveIntegerField()
    self_score = models.DecimalField(**POINTS, null=True, blank=True)
    final_score = models.DecimalField(**POINTS, null=True, blank=True)
    not_applicable = models.BooleanField(default=False)
    note = models.TextField(blank=True)
    # A target leaf's figures: as the unit reported it and as the council verified it.
    self_figure = models.DecimalField(**FIGURE, null=True, blank=True)
    figure = models.DecimalField(**FIGURE, null=True, blank=True)

    class Meta:
        ordering = ["result", "position"]

    def __str__(self) -> str:
        return f"{self.code} {self.final_score}"


# A frozen result as the API and the open data give it, in their order.
RESULT_VALUES = (
    "rank",
    "unit_code",
    "unit_name",
    "points",
    "max_points",
    "index",
    "band_code",
    "band_label",
    "change",
    "previous_index",
    "change_basis",
    "compared_with",
)


# A frozen leaf as the checksum and the open data read it, one row per unit and leaf.
LEAF_VALUES = (
    "result__unit_code",
    "code",
    "self_score",
    "final_score",
    "not_applicable",
    "note",
    "self_figure",
    "figure",
)


def leaf_rows(publication):
    """Every frozen leaf of a publication as ``LEAF_VALUES`` tuples, unit by unit in rank
    order, leaves in tree order."""
    return (
        PublishedLeaf.objects.filter(result__publication=publication)
        .order_by("result__position", "position")
        .values_list(*LEAF_VALUES)
    )


class PublishedSipas(models.Model):
    publication = models.ForeignKey(Publication, on_delete=models.CASCADE, related_name="sipas")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="published_sipas")
    unit_code = models.SlugField(max_length=100)
    unit_name = models.CharField(max_length=255)
    position = models.PositiveIntegerField()
    rank = models.PositiveIntegerField()
    index = models.DecimalField(**PERCENT)
    access = models.DecimalField(**PERCENT)
    procedure = models.DecimalField(**PERCENT)
    civil_servants = models.DecimalField(**PERCENT)
    result = models.DecimalField(**PERCENT)
    feedback = models.DecimalField(**PERCENT)
    previous_index = models.DecimalField(**PERCENT, null=True, blank=True)
    change = models.DecimalField(max_digits=6, decimal_places=2, null=True, blank=True)
    change_basis = models.CharField(max_length=20, blank=True)
    compared_with = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["publication", "position"]
        constraints = [
            models.UniqueConstraint(fields=["publication", "unit"], name="published_sipas_once"),
        ]

    def __str__(self) -> str:
        return f"{self.rank}. {self.unit_name} {self.index}"
