"""Change from last year through merges (docs/calculation.md, 9. Change): dated successor
links, the four bases (own, predecessor, merged, none) and splits, each publication's baseline
and the notice when last year is corrected after it, through the import commands, `publish`,
the API and the pages."""

from decimal import Decimal as D

import pytest

from rankings.models import Publication
from tests.factories import CRITERIA, SCORES, SIPAS

pytestmark = pytest.mark.django_db

GROUP = "departments"


def scores_for(*units: str) -> str:
    """Sở An's rows of the small province, for each of ``units`` (97.50 each)."""
    header, *rows = SCORES.splitlines()
    own = [row for row in rows if row.startswith("so-a,")]
    return (
        "\n".join([header, *(row.replace("so-a,", f"{u},", 1) for u in units for row in own)])
        + "\n"
    )


def publish_year(run, write, year, units, **options):
    assert run("import_criteria", write("c.csv", CRITERIA), year=year, group=GROUP).status == 0
    outcome = run("import_scores", write("s.csv", scores_for(*units)), year=year, group=GROUP)
    assert outcome.status == 0, outcome.err
    sipas = "\n".join([SIPAS.splitlines()[0], *(f"{u},90,90,90,90,90" for u in units)])
    assert run("import_sipas", write("p.csv", sipas + "\n"), year=year, group=GROUP).status == 0
    outcome = run("publish", year=year, group=GROUP, **options)
    assert outcome.status == 0, outcome.err
    return outcome


@pytest.fixture
def year_2023(run, write):
    """The small province's 2023, published: so-a 97.50, so-b 82.50, so-c 85.71."""
    from tests.factories import load_small_province

    load_small_province(run, write, year=2023)


def units(run, write, text: str) -> None:
    outcome = run("import_units", write("u.csv", text))
    assert outcome.status == 0, outcome.err


def by_unit(client, year=2024, kind="rankings"):
    data = client.get(f"/api/v1/{kind}/{year}/{GROUP}/").json()
    return data, {r["unit"]: r for r in data["results"]}


def test_own_predecessor_split_and_nothing_to_compare(client, run, write, year_2023):
    units(
        run,
        write,
        "code,name,group,group_name,successor,dissolved_on\n"
        "so-y,Sở Y,departments,,,\nso-z,Sở Z,departments,,,\nso-moi,Sở Mới,departments,,,\n"
        "so-c,Sở Cần,departments,,so-y;so-z,2024-07-01\n",
    )
    publish_year(run, write, 2024, ["so-a", "so-y", "so-z", "so-moi"])
    data, results = by_unit(client)
    assert data["baseline_version"] == 1 and data["baseline_outdated"] is False
    assert (results["so-a"]["change_basis"], results["so-a"]["compared_with"]) == ("own", ["so-a"])
    assert results["so-a"]["previous_index"] == "97.50" and results["so-a"]["change"] == "0.00"
    for split in ("so-y", "so-z"):  # each part of a split compares with the unit split
        assert results[split]["change_basis"] == "predecessor"
        assert results[split]["compared_with"] == ["so-c"]
        assert results[split]["previous_index"] == "85.71"
        assert results[split]["change"] == "11.79"
    assert results["so-moi"]["change_basis"] is None and results["so-moi"]["change"] is None
    _data, sipas = by_unit(client, kind="sipas")
    assert sipas["so-y"]["change_basis"] == "predecessor" and sipas["so-y"]["compared_with"] == [
        "so-c"
    ]


def test_a_merger_compares_with_the_mean_of_the_units_merged(client, run, write, year_2023):
    units(
        run,
        write,
        "code,name,group,group_name,successor,dissolved_on\n"
        "so-b,Sở Bình,departments,,so-a,2024-03-01\n"
        "so-c,Sở Cần,departments,,so-moi,2024-07-01\n"
        "so-moi,Sở Mới,departments,,,\n",
    )
    units(
        run,
        write,
        "code,name,group,group_name,successor,dissolved_on\nso-d,Sở Đông,departments,,so-moi,2024-07-01\n",
    )
    publish_year(run, write, 2024, ["so-a", "so-moi"])
    _data, results = by_unit(client)
    # so-a took over so-b: itself and so-b were ranked → the mean of 97.50 and 82.50.
    assert results["so-a"]["change_basis"] == "merged"
    assert results["so-a"]["compared_with"] == ["so-a", "so-b"]
    assert (results["so-a"]["previous_index"], results["so-a"]["change"]) == ("90.00", "7.50")
    # so-moi took over so-c (ranked) and so-d (never ranked): only so-c counts.
    assert results["so-moi"]["change_basis"] == "predecessor"
    assert results["so-moi"]["compared_with"] == ["so-c"]
    page = client.get(f"/rankings/2024/{GROUP}/").content.decode()
    assert 'href="#vs-so-a"' in page and 'id="vs-so-a"' in page
    assert "90,00" in page and '<a href="/units/so-b/">Sở Bình</a> (82,50)' in page
    # The unit page marks the same change and explains it, year by year.
    unit_page = client.get("/units/so-moi/").content.decode()
    assert 'href="#vs-par-2024"' in unit_page
    assert '<li id="vs-par-2024">2024: so với chỉ số năm trước của' in unit_page
    assert '<a href="/units/so-c/">Sở Cần</a>' in unit_page


def test_a_later_merger_never_changes_an_earlier_year(client, run, write, year_2023):
    publish_year(run, write, 2024, ["so-a", "so-b", "so-c"])
    before = by_unit(client)[1]
    # The 2025 merger is recorded, then 2024 is published again (an erratum).
    units(
        run,
        write,
        "code,name,group,group_name,successor,dissolved_on\nso-b,Sở Bình,departments,,so-a,2025-07-01\n",
    )
    assert run("publish", year=2024, group=GROUP, reason="Đính chính").status == 0
    after = by_unit(client)[1]
    for code in ("so-a", "so-b", "so-c"):
        keys = ("previous_index", "change", "change_basis", "compared_with")
        assert {k: after[code][k] for k in keys} == {k: before[code][k] for k in keys}
    assert after["so-a"]["change_basis"] == "own"


def test_an_erratum_of_last_year_marks_this_year_outdated(client, run, write, year_2023):
    publish_year(run, write, 2024, ["so-a", "so-b", "so-c"])
    assert by_unit(client)[0]["baseline_outdated"] is False
    fix = "unit,criterion,self_score,final_score\nso-b,1.1.1,4,4\n"
    assert run("import_scores", write("fix.csv", fix), year=2023, group=GROUP).status == 0
    from scoring.models import Round, Stage

    Round.objects.filter(year=2023).update(stage=Stage.SETUP)
    erratum = run("publish", year=2023, group=GROUP, reason="Đính chính 1.1.1")
    assert erratum.status == 0
    assert "2024 departments (version 1) compares with an older version" in erratum.out
    data, results = by_unit(client)
    assert data["baseline_version"] == 1 and data["baseline_outdated"] is True
    assert results["so-b"]["previous_index"] == "82.50"  # still what it was published with
    page = client.get(f"/rankings/2024/{GROUP}/", HTTP_ACCEPT_LANGUAGE="en")
    assert 'id="baseline"' in page.content.decode()
    # Published again, 2024 compares with the corrected 2023.
    republished = run("publish", year=2024, group=GROUP, reason="Theo đính chính 2023")
    assert republished.status == 0
    data, results = by_unit(client)
    assert data["baseline_version"] == 2 and data["baseline_outdated"] is False
    assert results["so-b"]["previous_index"] == "87.50"


def test_last_year_published_after_this_year_is_an_outdated_baseline(client, run, write):
    from tests.factories import load_small_province

    load_small_province(run, write, year=2023, publish=False)
    publish_year(run, write, 2024, ["so-a"])
    assert by_unit(client)[0]["baseline_version"] is None
    published = run("publish", year=2023, group=GROUP)
    assert published.status == 0
    assert "2024 departments (version 1) compares with an older version" in published.out
    assert by_unit(client)[0]["baseline_outdated"] is True


def test_downloads_and_open_data_say_what_each_change_compares_with(client, run, write, year_2023):
    import csv
    import io
    import zipfile

    units(
        run,
        write,
        "code,name,group,group_name,successor,dissolved_on\nso-b,Sở Bình,departments,,so-a,2024-03-01\n",
    )
    publish_year(run, write, 2024, ["so-a"])
    table = list(
        csv.DictReader(
            io.StringIO(client.get(f"/rankings/2024/{GROUP}/?_export=csv").content.decode())
        )
    )
    row = table[0]
    assert (row["previous_index"], row["change_basis"], row["compared_with"]) == (
        "90.00",
        "merged",
        "so-a;so-b",
    )
    bundle = zipfile.ZipFile(io.BytesIO(client.get("/data/2024/").content))
    ranking = list(csv.DictReader(io.StringIO(bundle.read(f"rankings-{GROUP}.csv").decode())))
    assert ranking[0]["compared_with"] == "so-a;so-b"
    versions = list(csv.DictReader(io.StringIO(bundle.read("versions.csv").decode())))
    assert versions[0]["baseline_version"] == "1"
    assert Publication.objects.current(2024, GROUP).results.get().previous_index == D("90.00")
