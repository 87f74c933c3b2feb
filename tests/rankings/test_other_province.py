"""Another province's published table, imported through the commands, comes out exactly.

The files in tests/data/hue/ are a province's own: its units (with a merge), its bands (Xuất sắc,
Tốt, Khá, Chưa đạt), a 200-point criteria set and two years of final scores; expected-2023.csv
is the table the province published (by hand: 179.99 / 200 = 89.995, which it published as
90.00 Xuất sắc; two units tied on 88.00; Ban Dân tộc without leaf 2.2 scored on 180 points).
"""

import csv
from decimal import Decimal as D
from pathlib import Path

import pytest
from openpyxl import Workbook

pytestmark = pytest.mark.django_db

DATA = Path(__file__).resolve().parent.parent / "data" / "hue"
GROUP = "so-nganh"


def as_xlsx(csv_path: Path, target: Path) -> str:
    """The same rows as a workbook with numbers as numbers, as a secretariat would save it."""
    workbook = Workbook()
    sheet = workbook.active
    with csv_path.open(encoding="utf-8") as handle:
        for number, row in enumerate(csv.reader(handle)):
            cells = []
            for value in row:
                try:
                    cells.append(float(value) if number and "." in value else int(value))
                except ValueError:
                    cells.append(value or None)
            sheet.append(cells)
    workbook.save(target)
    return str(target)


def import_year(run, year: int, scores: str) -> None:
    for command, path in (
        ("import_criteria", str(DATA / f"criteria-{year}.csv")),
        ("import_bands", str(DATA / "bands.csv")),
        ("import_scores", scores),
    ):
        outcome = run(command, path, year=year, group=GROUP)
        assert outcome.status == 0, (command, outcome.err)
    outcome = run("publish", year=year, group=GROUP)
    assert outcome.status == 0, outcome.err


def test_the_published_table_is_reproduced_exactly(client, run, tmp_path):
    assert run("import_units", str(DATA / "units.csv")).status == 0
    import_year(run, 2022, str(DATA / "scores-2022.csv"))
    import_year(run, 2023, as_xlsx(DATA / "scores-2023.csv", tmp_path / "scores-2023.xlsx"))

    with (DATA / "expected-2023.csv").open(encoding="utf-8") as handle:
        expected = [
            (int(row["rank"]), row["unit"], row["index"], row["band"], row["change"])
            for row in csv.DictReader(handle)
        ]
    data = client.get(f"/api/v1/rankings/2023/{GROUP}/").json()
    got = [
        (r["rank"], r["unit"], r["index"], r["band_label"], r["change"]) for r in data["results"]
    ]
    assert got == expected

    previous = client.get(f"/api/v1/rankings/2022/{GROUP}/").json()["results"]
    assert [(r["unit"], r["index"], r["band_label"]) for r in previous] == [
        ("tu-phap", "95.00", "Xuất sắc"),
        ("dan-toc", "90.00", "Xuất sắc"),
        ("cong-thuong", "88.00", "Tốt"),
        ("y-te", "85.00", "Tốt"),
        ("noi-vu", "80.00", "Tốt"),
        ("xay-dung", "75.00", "Khá"),
        ("tai-nguyen-moi-truong", "70.00", "Khá"),
    ]
    dan_toc = next(r for r in data["results"] if r["unit"] == "dan-toc")
    assert (dan_toc["points"], dan_toc["max_points"]) == ("144.00", "180.00")
    assert D(dan_toc["index"]) == D("80.00")


def test_reimporting_the_same_history_changes_nothing(run, unchanged_database, tmp_path):
    assert run("import_units", str(DATA / "units.csv")).status == 0
    import_year(run, 2022, str(DATA / "scores-2022.csv"))
    with unchanged_database():
        assert run("import_units", str(DATA / "units.csv")).status == 0
        for command, path in (
            ("import_criteria", DATA / "criteria-2022.csv"),
            ("import_bands", DATA / "bands.csv"),
            ("import_scores", DATA / "scores-2022.csv"),
        ):
            assert run(command, str(path), year=2022, group=GROUP).status == 0
