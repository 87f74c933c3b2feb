from decimal import Decimal as D

import pytest

from rankings.models import Publication, PublishedLeaf, PublishedResult
from rankings.publishing import publication_payload
from tests.factories import load_small_province

pytestmark = pytest.mark.django_db


def test_publishing_freezes_points_index_band_rank_fields_and_leaves(run, write):
    load_small_province(run, write)
    publication = Publication.objects.get()
    assert (publication.year, publication.group_code, publication.version) == (
        2023,
        "departments",
        1,
    )
    rows = list(
        publication.results.order_by("position").values_list(
            "unit_code", "rank", "points", "max_points", "index", "band_label"
        )
    )
    assert rows == [
        ("so-a", 1, D("19.50"), D("20.00"), D("97.50"), "Rất tốt"),
        ("so-c", 2, D("12.00"), D("14.00"), D("85.71"), "Tốt"),
        ("so-b", 3, D("16.50"), D("20.00"), D("82.50"), "Tốt"),
    ]
    so_b = publication.results.get(unit_code="so-b")
    assert list(so_b.fields.values_list("code", "points", "max_points", "index")) == [
        ("1", D("9.00"), D("10.00"), D("90.00")),
        ("2", D("8.00"), D("10.00"), D("80.00")),
        ("3", D("-0.50"), D("0.00"), None),
    ]
    leaf = PublishedLeaf.objects.get(result__unit_code="so-c", code="1.1.2")
    assert (leaf.not_applicable, leaf.self_score, leaf.final_score, leaf.note) == (
        True,
        D("5.00"),
        None,
        "Không có nhiệm vụ",
    )
    assert publication.average_index == D("88.57")  # (97.50 + 85.71 + 82.50) / 3 = 88.57
    assert list(publication.sipas.values_list("unit_code", "rank", "index")) == [
        ("so-b", 1, D("95.10")),
        ("so-a", 2, D("92.00")),
        ("so-c", 3, D("82.00")),
    ]
    assert len(publication.checksum) == 64


def test_a_gap_is_listed_and_nothing_is_published(run, write, unchanged_database):
    load_small_province(run, write, publish=False)
    content = "unit,criterion,self_score,final_score\nso-a,1.1.2,6,\nso-b,2.1,,\n"
    run("import_scores", write("gap.csv", content), year=2023, group="departments")
    with unchanged_database():
        outcome = run("publish", year=2023, group="departments")
    assert outcome.status == 1
    assert "Sở An (so-a): leaf 1.1.2 has no final score" in outcome.err
    assert "Sở Bình (so-b): leaf 2.1 has no final score" in outcome.err
    assert "nothing was published" in outcome.err


def test_a_bonus_without_a_value_counts_zero(run, write):
    load_small_province(run, write, publish=False)
    # so-c has no row at all for the bonus and penalty leaves.
    assert run("publish", year=2023, group="departments").status == 0
    assert PublishedResult.objects.get(unit_code="so-c").points == D("12.00")


def test_a_second_version_needs_a_reason_and_becomes_the_current_one(run, write):
    load_small_province(run, write)
    refused = run("publish", year=2023, group="departments")
    assert refused.status == 1
    assert "needs a reason" in refused.err
    assert Publication.objects.count() == 1

    content = "unit,criterion,self_score,final_score\nso-b,1.1.1,4,4\n"
    run("import_scores", write("fix.csv", content), year=2023, group="departments")
    outcome = run("publish", year=2023, group="departments", reason="Sửa điểm TC 1.1.1 của Sở Bình")
    assert outcome.status == 0, outcome.err
    current = Publication.objects.current(2023, "departments")
    assert (current.version, current.reason, current.is_erratum) == (
        2,
        "Sửa điểm TC 1.1.1 của Sở Bình",
        True,
    )
    assert current.results.get(unit_code="so-b").index == D("87.50")
    # Version 1 stays as it was.
    first = Publication.objects.get(version=1)
    assert first.results.get(unit_code="so-b").index == D("82.50")


def test_nothing_to_publish_is_refused(run, write):
    outcome = run("publish", year=2031, group="departments")
    assert outcome.status == 1
    assert "no criteria set for 2031" in outcome.err


def test_change_from_last_year_follows_a_single_predecessor(run, write):
    load_small_province(run, write, year=2022)
    # 2023: so-b is taken over by a new unit so-bb; so-a stays; so-c absorbs nobody.
    run(
        "import_units",
        write(
            "merge.csv",
            "code,name,group,group_name,successor,dissolved_on\n"
            "so-bb,Sở Bình Mới,departments,,,\nso-b,Sở Bình,departments,,so-bb,2023-03-01\n",
        ),
    )
    load_small_province(run, write, publish=False)
    scores = (
        "unit,criterion,self_score,final_score\nso-bb,1.1.1,4,4\nso-bb,1.1.2,6,6\nso-bb,2.1,,10\n"
    )
    run("import_scores", write("bb.csv", scores), year=2023, group="departments")
    assert run("publish", year=2023, group="departments").status == 0
    results = {
        r.unit_code: r for r in Publication.objects.current(2023, "departments").results.all()
    }
    assert results["so-a"].change == D("0.00")
    assert results["so-bb"].previous_index == D("82.50")  # its predecessor so-b
    assert results["so-bb"].change == D("17.50")
    assert results["so-b"].change == D("0.00")


def test_the_checksum_covers_every_published_number(run, write):
    load_small_province(run, write)
    publication = Publication.objects.get()
    import hashlib
    import json

    payload = publication_payload(publication)
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    assert hashlib.sha256(text.encode()).hexdigest() == publication.checksum
    leaf = PublishedLeaf.objects.filter(result__publication=publication).first()
    leaf.final_score = (leaf.final_score or 0) + 1
    leaf.save()
    text = json.dumps(
        publication_payload(publication), sort_keys=True, ensure_ascii=False, default=str
    )
    assert hashlib.sha256(text.encode()).hexdigest() != publication.checksum


@pytest.mark.parametrize("stage", ["self_assessment", "appraisal_1", "explanation", "appraisal_2"])
def test_the_command_refuses_to_publish_a_round_in_its_workflow(
    run, write, stage, unchanged_database
):
    from scoring.models import Round

    load_small_province(run, write, publish=False)
    Round.objects.filter(year=2023).update(stage=stage)
    with unchanged_database():
        outcome = run("publish", year=2023, group="departments")
    assert outcome.status == 1
    assert "open the final stage before publishing" in outcome.err


@pytest.mark.parametrize("stage", ["setup", "final"])
def test_a_round_is_published_in_set_up_or_final(run, write, stage):
    from scoring.models import Round

    load_small_province(run, write, publish=False)
    Round.objects.filter(year=2023).update(stage=stage)
    assert run("publish", year=2023, group="departments").status == 0
