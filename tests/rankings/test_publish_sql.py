"""Publishing sums in the database (``scoring.results.group_totals``) and freezes leaves with
one INSERT … SELECT whose checksum text the database writes: held here to the one calculation
(``group_results``, which reads every score into ``scoring.calculation``) and to the checksum
read back (``publication_checksum``), on random groups, on whichever backend the suite runs."""

import random
from decimal import Decimal as D

import pytest
from django.db import connection

from rankings.models import Publication, PublishedLeaf
from rankings.publishing import publication_checksum, publish
from scoring.models import (
    SIPAS_ELEMENTS,
    Assessment,
    Band,
    CriteriaSet,
    Criterion,
    Round,
    Score,
    SipasResult,
    Stage,
    Unit,
    UnitGroup,
)
from scoring.results import group_results, group_totals

pytestmark = pytest.mark.django_db

NOTES = ["", "Có kế hoạch", 'a "quoted" \\ note', "line one\nline two\ttab", "emoji 🎉 \u2028 end"]


def hundredths(rng: random.Random, top: D) -> D:
    return (D(rng.randint(0, int(top * 100))) / 100).quantize(D("0.01"))


def random_group(seed: int) -> CriteriaSet:
    """A group of 3-12 units on a random tree: 1-4 fields, self, agency, survey (some fed from
    SIPAS), target, bonus and penalty leaves, some not applicable, round-2 appraisals, notes
    with quotes and new lines, figures, caps or none, ties in the index."""
    rng = random.Random(seed)
    group = UnitGroup.objects.create(code=f"g{seed}", name=f"Nhóm {seed}")
    round_obj = Round.objects.create(year=2020, stage=Stage.FINAL)
    criteria_set = CriteriaSet.objects.create(
        round=round_obj,
        group=group,
        bonus_cap=rng.choice([None, D("0.50"), D("2.00")]),
        penalty_cap=rng.choice([None, D("1.00")]),
    )
    for code, label, bound in (
        ("rat-tot", "Rất tốt", "90"),
        ("tot", "Tốt", "80"),
        ("kem", "Kém", "0"),
    ):
        Band.objects.create(criteria_set=criteria_set, code=code, label=label, min_index=D(bound))
    leaves = []
    position = 0
    for f in range(1, rng.randint(1, 4) + 1):
        position += 1
        field = Criterion.objects.create(
            criteria_set=criteria_set,
            code=str(f),
            title=f"Lĩnh vực {f}",
            max_points=0,
            kind="",
            is_leaf=False,
            position=position,
        )
        for n in range(1, rng.randint(1, 5) + 1):
            position += 1
            kind = rng.choice(["self", "self", "agency", "survey", "target", "bonus", "penalty"])
            fed = kind == "survey" and rng.random() < 0.4
            leaves.append(
                Criterion.objects.create(
                    criteria_set=criteria_set,
                    code=f"{f}.{n}",
                    title=f"Tiêu chí {f}.{n}",
                    parent=field,
                    max_points=D(rng.choice(["0.50", "1.00", "2.25", "3.00"])),
                    kind=kind,
                    position=position,
                    sipas_element=rng.choice(SIPAS_ELEMENTS) if fed else "",
                    **({"rule": "proportional", "target": D("100")} if kind == "target" else {}),
                )
            )
    for u in range(rng.randint(3, 12)):
        unit = Unit.objects.create(
            code=f"u{seed}-{u}", name=f"Đơn vị {rng.choice('ABĐE')}{u}", group=group
        )
        assessment = Assessment.objects.create(criteria_set=criteria_set, unit=unit)
        if any(leaf.sipas_element for leaf in leaves):
            SipasResult.objects.create(
                round=round_obj,
                group=group,
                unit=unit,
                **{name: hundredths(rng, D("100")) for name in SIPAS_ELEMENTS},
            )
        for leaf in leaves:
            if leaf.kind in ("bonus", "penalty") and rng.random() < 0.3:
                continue  # no score row: counts 0
            not_applicable = leaf.kind == "self" and rng.random() < 0.15
            final = None if leaf.sipas_element else hundredths(rng, leaf.max_points)
            second = (
                hundredths(rng, leaf.max_points)
                if final is not None and rng.random() < 0.3
                else None
            )
            figure = hundredths(rng, D("150")) if leaf.kind == "target" else None
            Score.objects.create(
                assessment=assessment,
                criterion=leaf,
                not_applicable=not_applicable,
                self_score=hundredths(rng, leaf.max_points)
                if leaf.kind in ("self", "bonus")
                else None,
                appraisal_1=None if not_applicable else final,
                appraisal_2=None if not_applicable else second,
                self_figure=figure,
                figure_1=figure,
                note=rng.choice(NOTES),
            )
    return criteria_set


@pytest.mark.parametrize("seed", range(30))
def test_the_database_totals_are_the_calculation(seed):
    criteria_set = random_group(seed)
    expected = group_results(criteria_set)
    assert expected.complete
    got = group_totals(criteria_set)
    assert [(r.unit.pk, r.result, r.band, r.rank) for r in got.rows] == [
        (r.unit.pk, r.result, r.band, r.rank) for r in expected.rows
    ]


@pytest.mark.parametrize("seed", range(0, 30, 3))
def test_the_frozen_leaves_and_the_checksum_are_what_the_scores_say(seed):
    criteria_set = random_group(seed)
    expected = group_results(criteria_set)
    publication = publish(year=2020, group=criteria_set.group.code)
    # The checksum made while writing is the one read back from the rows.
    assert publication.checksum == publication_checksum(publication)
    frozen = {
        (unit, code): (self_score, final, na, note)
        for unit, code, self_score, final, na, note in PublishedLeaf.objects.filter(
            result__publication=publication
        ).values_list(
            "result__unit_code", "code", "self_score", "final_score", "not_applicable", "note"
        )
    }
    leaves = expected.leaves
    assert len(frozen) == len(expected.rows) * len(leaves)
    for row in expected.rows:
        for leaf in leaves:
            score = row.scores.get(leaf.pk)
            assert frozen[(row.unit.code, leaf.code)] == (
                score.self_score if score else None,
                row.finals.get(leaf.pk),
                score.not_applicable if score else False,
                score.note if score else "",
            )


def test_a_gap_is_refused_naming_the_leaf_as_before():
    criteria_set = random_group(1)
    score = (
        Score.objects.filter(
            assessment__criteria_set=criteria_set, criterion__kind="self", not_applicable=False
        )
        .select_related("assessment__unit", "criterion")
        .first()
    )
    score.appraisal_1 = score.appraisal_2 = None
    score.save()
    totals = group_totals(criteria_set)
    assert [(u.code, codes) for u, codes in totals.gaps] == [
        (score.assessment.unit.code, [score.criterion.code])
    ]
    with pytest.raises(Exception, match=score.criterion.code):
        publish(year=2020, group=criteria_set.group.code)
    assert not Publication.objects.exists()


postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the second connection is PostgreSQL's"
)


def _frozen_as_the_scores_say(publication, expected) -> None:
    got = {
        (unit, code): final
        for unit, code, final in PublishedLeaf.objects.filter(
            result__publication=publication
        ).values_list("result__unit_code", "code", "final_score")
    }
    assert got == {
        (row.unit.code, leaf.code): row.finals.get(leaf.pk)
        for row in expected.rows
        for leaf in expected.leaves
    }


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("seed", [0, 6, 12])
def test_published_alone_the_checksum_text_is_made_on_a_second_connection(seed, monkeypatch):
    """Called as its own transaction (the command, the admin), publishing makes the leaves'
    checksum text on a second connection beside the insert; it is the text of the rows
    written."""
    from rankings import publishing

    made = []
    result = publishing.LeafText.result

    def spy(self):
        made.append(self)
        return result(self)

    monkeypatch.setattr(publishing.LeafText, "result", spy)
    criteria_set = random_group(seed)
    expected = group_results(criteria_set)
    publication = publish(year=2020, group=criteria_set.group.code)
    assert len(made) == 1  # the second connection's text was used
    assert publication.checksum == publication_checksum(publication)
    _frozen_as_the_scores_say(publication, expected)


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.parametrize("failure", ["connect", "query"])
def test_without_a_second_connection_the_checksum_is_still_the_rows(failure, monkeypatch):
    """No second connection (the server's limit reached) or a failed query there: the insert
    makes the text, or it is read back from the rows written; the checksum is the same."""
    import psycopg2

    from rankings import publishing

    criteria_set = random_group(3)
    expected = group_results(criteria_set)
    if failure == "connect":

        def refuse(**params):
            raise psycopg2.OperationalError("too many connections")

        monkeypatch.setattr(psycopg2, "connect", refuse)
    else:
        original = publishing.LeafText.__init__

        def broken(self, *args):
            original(self, *args)
            self.sql = "SELECT no_such_column"

        monkeypatch.setattr(publishing.LeafText, "__init__", broken)
    publication = publish(year=2020, group=criteria_set.group.code)
    assert publication.checksum == publication_checksum(publication)
    _frozen_as_the_scores_say(publication, expected)


@postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_score_written_while_publishing_waits_for_the_publication(monkeypatch):
    """The totals, the frozen leaves and their checksum read the same scores: a score written
    meanwhile waits until the publication is committed (here: gives up after 200 ms)."""
    import psycopg2

    from rankings import publishing

    criteria_set = random_group(2)
    score = Score.objects.filter(assessment__criteria_set=criteria_set).first()
    outcome = []
    totals = publishing.group_totals

    def meanwhile(*args):
        other = psycopg2.connect(**connection.get_connection_params())
        try:
            with other.cursor() as cursor:
                cursor.execute("SET lock_timeout = '200ms'")
                try:
                    cursor.execute(
                        "UPDATE scoring_score SET note = 'changed' WHERE id = %s", [score.pk]
                    )
                    outcome.append("written")
                except psycopg2.errors.LockNotAvailable:
                    outcome.append("waited")
            other.rollback()
        finally:
            other.close()
        return totals(*args)

    monkeypatch.setattr(publishing, "group_totals", meanwhile)
    publish(year=2020, group=criteria_set.group.code)
    assert outcome == ["waited"]
    score.refresh_from_db()
    assert score.note != "changed"
