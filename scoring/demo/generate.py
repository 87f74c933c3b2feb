"""Generate the Cần Thơ demo (PAR Index and SIPAS, rounds 2022 to 2026) and check its story.

Inputs, next to this script (the generator holds no criteria, no units and no target numbers):

- ``outline.csv``: the criteria tree (876/QĐ-BNV's eight fields as adapted for departments,
  districts and communes, plus bonus and penalty; the split of points is illustrative: 876's
  tables could not be read), in ``import_criteria``'s columns, plus the generator's own:
  ``since``/``until`` (the years a criterion exists), ``title_2022`` (its title in 2022 when it
  changed), ``district_title`` and ``commune_title`` (its title for those groups), ``step`` (the
  scoring step of self, agency, bonus and penalty leaves), ``figures`` (``worst:best`` figure of
  a target leaf), ``evidence`` (the note of full points, with ``{n}``, ``{abbr}``, ``{date}``,
  ``{q1}``, ``{year}``), ``evidence_2025`` (that note from 2025 on, where it names a department
  merged in 2025), ``shortfall`` (why points were lost) and ``na_note`` (why a leaf does not
  apply);
- ``targets.csv``: per year, group and unit, the published PAR index and SIPAS index to reach,
  the abbreviation used in document numbers, the bonus claimed and granted, the penalty, the
  leaves that do not apply (``;``-separated) and figures fixed by the story (``7.2.3=42.4``);
  2024 and 2025 are illustrative but for the city's SIPAS survey of 2024 (README.md here);
- ``data/units.csv``: the register of units with its lineage (who ceased when, and who took
  them over): read, never written.

Outputs, under ``data/<year>/<group>/`` in the formats of docs/imports.md: ``criteria.csv`` and
``bands.csv`` of every round, ``scores.csv`` and ``sipas.csv`` of the published years (2022 to
2025; 2026 is in self-assessment). The groups: departments and districts in 2022 and 2023, and
the old city's communes in 2024; departments and the new city's communes from 2025 (the
district level was abolished on 1 July 2025). Each unit's scores are built so that its
published index is exactly its target: the SIPAS elements come first (the SIPAS-fed leaves are
derived from them), then the target figures; self and agency leaves lose whole scoring steps,
and the sociological-survey leaves (hundredths) absorb the rest.

Then the files are read back and every number is recomputed with ``scoring.calculation`` (the
one calculation: no arithmetic of the index here), the facts of the 28-02-2024 reports and of
the city's SIPAS survey of 2024 are asserted, the register's lineage is checked and the 2025
changes through the mergers are compared with ``calculation.comparison``, and a summary is
printed. Deterministic (seeded per unit): running it twice writes identical files. Run from the
project root: ``python scoring/demo/generate.py``.
"""

from __future__ import annotations

import csv
import random
import sys
import time
from collections import Counter, defaultdict
from datetime import date
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))  # the project root, for scoring.calculation

from scoring import calculation as calc  # noqa: E402  (pure: needs no Django)

DATA = HERE / "data"
# Each round's groups: the district level ended on 1 July 2025, the communes are ranked from 2024.
ROUNDS = {
    2022: ("departments", "districts"),
    2023: ("departments", "districts"),
    2024: ("departments", "districts", "communes"),
    2025: ("departments", "communes"),
    2026: ("departments", "communes"),
}
FIRST_YEAR, SEED_YEARS, SCORED_YEARS = 2022, (2022, 2023), (2022, 2023, 2024, 2025)
OPEN_YEAR = 2026  # in self-assessment: criteria and bands, no scores
ELEMENTS = ("access", "procedure", "civil_servants", "result", "feedback")
# Cần Thơ's own limits, assumed: with the defaults (90/80/70/50) both reports are impossible.
BANDS = (
    ("rat-tot", "Rất tốt", "95"),
    ("tot", "Tốt", "90"),
    ("kha", "Khá", "85"),
    ("trung-binh", "Trung bình", "70"),
    ("kem", "Kém", "0"),
)
CRITERIA_COLUMNS = (
    "code",
    "parent",
    "title",
    "max_points",
    "kind",
    "guidance",
    "previous_code",
    "target",
    "rule",
    "steps",
    "direction",
    "unit_label",
    "sipas_element",
)
SCORE_COLUMNS = (
    "unit",
    "criterion",
    "self_score",
    "final_score",
    "self_figure",
    "final_figure",
    "note",
)
# SIPAS elements around the unit's index: civil servants and access rated best, feedback worst.
SIPAS_PROFILE = (Decimal("0.6"), Decimal("-0.4"), Decimal("0.9"), Decimal("0.3"))
SIPAS_RANGE = (Decimal(80), Decimal("99.5"))
D = Decimal


class Retry(Exception):
    """This draw cannot reach the target plausibly: draw again."""


# Files ----------------------------------------------------------------------------------------


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def write_csv(path: Path, header, rows) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def fmt(value: Decimal | None) -> str:
    """A number as the files write it: no useless zeros (1.25, 0.5, 10); empty for None."""
    if value is None:
        return ""
    text = f"{calc.quantize(value):f}"
    return text.rstrip("0").rstrip(".")


def vn(value: Decimal, unit: str = "") -> str:
    """A number inside a Vietnamese note: decimal comma (0,25; 42,4 %)."""
    text = fmt(value).replace(".", ",")
    return f"{text} {unit}".strip()


# Criteria -------------------------------------------------------------------------------------


def first_year(group: str) -> int:
    """The first round of a group: its criteria set then has no links to last year."""
    return min(year for year, groups in ROUNDS.items() if group in groups)


def criteria_rows(outline: list[dict], year: int, group: str) -> list[dict]:
    """The criteria file of a year and group: the outline's rows of that year, parents' maxima
    summed, district and commune titles, the notes of full points of the year, and
    ``previous_code`` for what existed the year before (the outline's own columns kept for the
    generator)."""
    rows = [
        row
        for row in outline
        if int(row["since"] or FIRST_YEAR) <= year <= int(row["until"] or 9999)
    ]
    parents = {row["parent"] for row in rows}
    maxima: dict[str, Decimal] = defaultdict(Decimal)
    for row in reversed(rows):  # children come after their parent
        if row["code"] not in parents:
            maxima[row["code"]] = D(row["max_points"])
        if row["parent"]:
            maxima[row["parent"]] += maxima[row["code"]]
    result = []
    for row in rows:
        title = row["title"]
        if year == FIRST_YEAR and row["title_2022"]:
            title = row["title_2022"]
        if group == "districts" and row["district_title"]:
            title = row["district_title"]
        if group == "communes" and row["commune_title"]:
            title = row["commune_title"]
        existed = year > first_year(group) and int(row["since"] or FIRST_YEAR) < year
        note = row["evidence_2025"] if year >= 2025 and row["evidence_2025"] else row["evidence"]
        result.append(
            {
                **row,
                "title": title,
                "evidence": note,
                "max_points": fmt(maxima[row["code"]]),
                "previous_code": row["code"] if existed else "",
            }
        )
    return result


def leaves_of(rows: list[dict]) -> list[dict]:
    """The leaves of a criteria file, with their maximum, field and target rule parsed."""
    parents = {row["parent"] for row in rows}
    leaves = []
    for row in rows:
        if row["code"] in parents:
            continue
        rule = None
        if row["kind"] == calc.Kind.TARGET:
            rule = calc.TargetRule(
                rule=row["rule"],
                target=D(row["target"]) if row["target"] else None,
                direction=row["direction"] or calc.Direction.HIGHER,
                steps=calc.parse_steps(row["steps"]) if row["steps"] else (),
            )
        field = row["code"].split(".")[0]
        leaves.append({**row, "max": D(row["max_points"]), "field": field, "target_rule": rule})
    return leaves


# Scores ---------------------------------------------------------------------------------------


def sipas_elements(index: Decimal, rng: random.Random) -> dict[str, Decimal]:
    """Five element values whose mean is exactly ``index``."""
    for _ in range(100):
        values = [calc.quantize(index + p + D(rng.randint(-80, 80)) / 100) for p in SIPAS_PROFILE]
        values.append(index * 5 - sum(values))
        if all(SIPAS_RANGE[0] <= value <= SIPAS_RANGE[1] for value in values):
            return dict(zip(ELEMENTS, values, strict=True))
    raise ValueError(f"no SIPAS elements around {index}")


def points_for(index: Decimal, maximum: Decimal) -> Decimal:
    """The points (hundredths) nearest to index × maximum that publish exactly as ``index``."""
    guess = calc.quantize(index * maximum / 100)
    for delta in sorted(range(-20, 21), key=abs):
        points = guess + D(delta) / 100
        if calc.index_of(points, maximum) == index:
            return points
    raise ValueError(f"no points give {index} out of {maximum}")


def draw_figure(leaf: dict, level: float, rng: random.Random) -> Decimal:
    """A target leaf's figure between its ``worst`` and ``best``, better for a better unit."""
    worst, best = (D(x) for x in leaf["figures"].split(":"))
    share = abs(level + rng.gauss(0, 0.2))
    share = 2 - share if share > 1 else share  # reflected: no pile of figures at either end
    value = worst + (best - worst) * D(f"{share:.3f}")
    places = D("0.1") if leaf["unit_label"] == "%" else D(1)
    return value.quantize(places, ROUND_HALF_UP)


def deduct(finals: dict, leaves: list[dict], amount: Decimal, rng: random.Random) -> None:
    """Take ``amount`` off self and agency leaves, one scoring step at a time."""
    while amount > 0:
        open_ = [x for x in leaves if D(x["step"]) <= amount and finals[x["code"]] >= D(x["step"])]
        if not open_:
            raise Retry
        weights = [
            (3 if x["kind"] == calc.Kind.SELF else 2) if finals[x["code"]] == x["max"] else 1
            for x in open_
        ]
        leaf = rng.choices(open_, weights)[0]
        finals[leaf["code"]] -= D(leaf["step"])
        amount -= D(leaf["step"])


def spread(total: Decimal, leaves: list[dict], rng: random.Random) -> dict[str, Decimal]:
    """``total`` survey points over the leaves, in hundredths, each near the same share."""
    maximum = sum(x["max"] for x in leaves)
    finals = {}
    for x in leaves:
        share = total / maximum + D(rng.randint(-25, 25)) / 1000
        finals[x["code"]] = min(x["max"], max(calc.quantize(x["max"] * share), D(0)))
    rest = total - sum(finals.values())
    for x in rng.sample(leaves, len(leaves)):
        move = min(max(rest, -finals[x["code"]]), x["max"] - finals[x["code"]])
        finals[x["code"]] += move
        rest -= move
    assert rest == 0
    return finals


def evidence(text: str, story: dict, year: int, rng: random.Random) -> str:
    """A note of full points: ``text`` with a document number, the unit's abbreviation, a date."""
    return text.format(
        n=rng.randint(5, 320),
        abbr=story["abbr"],
        year=year,
        date=f"{rng.randint(1, 28):02d}/{rng.randint(2, 12):02d}/{year}",
        q1=f"{rng.randint(1, 28):02d}/{rng.randint(1, 3):02d}/{year}",
    )


def plan(leaves: list[dict], story: dict, elements: dict, rng: random.Random):
    """The leaves that do not apply, the final points of the self, agency and survey leaves and
    the (reported, verified) figures of the target leaves, such that the unit's index is exactly
    its target; Retry when this draw cannot do so plausibly."""
    index = D(story["par_index"])
    level = min(max((float(index) - 80) / 15, 0.0), 1.0)
    na = set(filter(None, story["not_applicable"].split(";")))
    fixed = dict(pair.split("=") for pair in filter(None, story["figures"].split(";")))
    scored = [x for x in leaves if x["kind"] in calc.SCORED_KINDS and x["code"] not in na]
    # What the self, agency and sociological-survey leaves must bring together.
    rest = points_for(index, sum(x["max"] for x in scored))
    rest -= D(story["bonus"] or 0) - D(story["penalty"] or 0)
    figures = {}
    for x in scored:
        if x["sipas_element"]:
            rest -= calc.sipas_points(x["max"], elements[x["sipas_element"]])
        elif x["kind"] == calc.Kind.TARGET:
            final = D(fixed[x["code"]]) if x["code"] in fixed else draw_figure(x, level, rng)
            reported = final
            if x["code"] not in fixed and rng.random() < 0.15:  # the council corrects the figure
                if x["direction"] == calc.Direction.LOWER:
                    reported = max(final - 1, D(0))
                elif final < D(x["figures"].split(":")[1]):
                    reported = min(final * D("1.06"), D(100)).quantize(final)
            figures[x["code"]] = (reported, final)
            rest -= calc.target_points(final, x["max"], x["target_rule"])
    graded = [x for x in scored if x["kind"] in (calc.Kind.SELF, calc.Kind.AGENCY)]
    surveys = [x for x in scored if x["kind"] == calc.Kind.SURVEY and not x["sipas_element"]]
    graded_max, survey_max = sum(x["max"] for x in graded), sum(x["max"] for x in surveys)
    # The surveys rate the unit about as well as its index; whole quarter points are lost on
    # self and agency leaves, and the surveys absorb the hundredths.
    survey_share = min(index / 100 + D(rng.randint(-20, 20)) / 1000, D("0.995"))
    wanted = graded_max - (rest - survey_max * survey_share)
    loss = max((wanted / D("0.25")).to_integral_value(ROUND_FLOOR) * D("0.25"), D(0))
    survey_points = rest - (graded_max - loss)
    if not survey_max * D("0.78") <= survey_points <= survey_max:
        raise Retry
    finals = {x["code"]: x["max"] for x in graded}
    deduct(finals, graded, loss, rng)
    finals.update(spread(survey_points, surveys, rng))
    return na, finals, figures


def score_row(x, story, year, na, finals, figures, elements, rng) -> list[str]:
    """A leaf's row of scores.csv: unit, criterion, self and final score, figures, note."""
    code, top = x["code"], x["max"]
    claim = final = reported = figure = None
    if code in na:
        note, final = x["na_note"], "na"
    elif x["sipas_element"]:  # derived when publishing: no score in the file
        share = elements[x["sipas_element"]]
        derived = calc.sipas_points(top, share)
        note = f"Quy đổi từ kết quả khảo sát SIPAS năm {year}: {vn(share, '%')} × {vn(top)}"
        note += f" = {vn(derived)} điểm"
    elif x["kind"] == calc.Kind.TARGET:  # figures only: the points follow from the rule
        reported, figure = figures[code]
        label = x["unit_label"]
        note = f"Đơn vị báo cáo {vn(reported, label)}; Hội đồng "
        if reported == figure:
            note += f"xác minh theo {x['evidence']}: đúng số liệu"
        else:
            note += f"điều chỉnh thành {vn(figure, label)} theo {x['evidence']}"
    elif x["kind"] == calc.Kind.SURVEY:
        final, note = finals[code], evidence(x["evidence"], story, year, rng)
    elif x["kind"] == calc.Kind.BONUS:
        claim, final = D(story["bonus_claim"] or 0), D(story["bonus"] or 0)
        if not claim:
            note = "Đơn vị không đề nghị điểm thưởng"
        elif final == claim:
            note = f"Cộng {vn(final)} điểm: {x['evidence']}"
        else:
            note = f"Đề nghị {vn(claim)} điểm, cộng {vn(final)} điểm: {x['shortfall']}"
    elif x["kind"] == calc.Kind.PENALTY:
        final = D(story["penalty"] or 0)
        note = f"Trừ {vn(final)} điểm do {x['shortfall']}" if final else x["evidence"]
    else:  # self (claims often the maximum, sometimes the council's score) or agency
        final = finals[code]
        if x["kind"] == calc.Kind.SELF:
            claim = final if final < top and 0.55 <= rng.random() < 0.8 else top
        if final == top:
            note = evidence(x["evidence"], story, year, rng)
        elif claim == final:
            note = f"Thống nhất điểm tự chấm; chưa đạt điểm tối đa do {x['shortfall']}"
        else:
            note = f"Trừ {vn(top - final)} điểm do {x['shortfall']}"
    final_text = final if final == "na" else fmt(final)
    return [story["unit"], code, fmt(claim), final_text, fmt(reported), fmt(figure), note]


def unit_scores(leaves, story, elements, year, seed) -> list[list[str]]:
    """The unit's rows; the first plausible draw of a seeded series (deterministic)."""
    for attempt in range(500):
        rng = random.Random(f"{seed}/{attempt}")
        try:
            na, finals, figures = plan(leaves, story, elements, rng)
        except Retry:
            continue
        return [score_row(x, story, year, na, finals, figures, elements, rng) for x in leaves]
    raise ValueError(f"{seed}: no plausible scores")


def generate(outline, targets, units) -> None:
    for year, groups in ROUNDS.items():
        for group in groups:
            folder = DATA / str(year) / group
            rows = criteria_rows(outline, year, group)
            table = ([row[column] for column in CRITERIA_COLUMNS] for row in rows)
            write_csv(folder / "criteria.csv", CRITERIA_COLUMNS, table)
            write_csv(folder / "bands.csv", ("code", "label", "min_index"), BANDS)
            if year not in SCORED_YEARS:
                continue
            leaves = leaves_of(rows)
            scores, sipas = [], []
            for unit in units:
                if unit["group"] != group or (year, unit["code"]) not in targets:
                    continue
                story = {**targets[year, unit["code"]], "unit": unit["code"]}
                assert story["group"] == group, f"{year} {unit['code']}: {story['group']}"
                seed = f"cchc-demo/{year}/{group}/{unit['code']}"
                elements = sipas_elements(D(story["sipas_index"]), random.Random(f"{seed}/sipas"))
                sipas.append([unit["code"], *(f"{elements[e]:.2f}" for e in ELEMENTS)])
                scores += unit_scores(leaves, story, elements, year, seed)
            write_csv(folder / "scores.csv", SCORE_COLUMNS, scores)
            write_csv(folder / "sipas.csv", ("unit", *ELEMENTS), sipas)


# Checks: the files read back, every number from scoring.calculation ---------------------------

FIELDS = (
    "Công tác chỉ đạo, điều hành cải cách hành chính",
    "Xây dựng và tổ chức thực hiện văn bản quy phạm pháp luật",
    "Cải cách thủ tục hành chính",
    "Cải cách tổ chức bộ máy hành chính nhà nước",
    "Cải cách chế độ công vụ",
    "Cải cách tài chính công",
    "Xây dựng và phát triển chính quyền điện tử, chính quyền số",
    "Tác động của cải cách hành chính đến người dân, tổ chức và phát triển kinh tế – xã hội",
    "Điểm thưởng, điểm trừ",
)


class Criterion:
    """What calc.maximum_by_kind and calc.scored_maximum read of a criterion."""

    def __init__(self, kind: str, max_points: Decimal):
        self.kind, self.max_points = kind, max_points


def check_criteria(rows: list[dict], previous: list[dict] | None, added, where: str) -> list[dict]:
    """The tree, the fields, the split of points, the kinds of leaf and the links to last year
    (every criterion linked but those ``added`` this year)."""
    codes = {row["code"] for row in rows}
    assert len(codes) == len(rows), f"{where}: duplicate codes"
    children = defaultdict(list)
    for row in rows:
        assert not row["parent"] or row["parent"] in codes, f"{where}: parent of {row['code']}"
        children[row["parent"]].append(row)
    for row in rows:
        if row["code"] in children:
            total = sum(D(child["max_points"]) for child in children[row["code"]])
            assert D(row["max_points"]) == total and not row["kind"], f"{where}: {row['code']}"
    assert tuple(row["title"] for row in children[""]) == FIELDS, f"{where}: fields"
    leaves = leaves_of(rows)
    assert all(leaf["guidance"] for leaf in leaves), f"{where}: a leaf without guidance"
    kinds = calc.maximum_by_kind(Criterion(x["kind"], x["max"]) for x in leaves)
    assert calc.scored_maximum(Criterion(x["kind"], x["max"]) for x in leaves) == 100, where
    assert kinds["survey"] == 32 and kinds["bonus"] == kinds["penalty"] == 2, kinds
    counted = Counter(x["kind"] for x in leaves)
    assert counted["bonus"] == counted["penalty"] == 1 and counted["agency"] >= 2, counted
    assert sorted(x["sipas_element"] for x in leaves if x["sipas_element"]) == sorted(ELEMENTS)
    for field in "234567":
        surveys = [x for x in leaves if x["field"] == field and x["kind"] == calc.Kind.SURVEY]
        assert [x["max"] for x in surveys] == [2], f"{where}: survey leaf of field {field}"
    payment = [x for x in leaves if x["title"] == "Tỷ lệ thanh toán trực tuyến"]
    assert len(payment) == 1 and payment[0]["target_rule"] == calc.TargetRule(
        "proportional", D(30)
    ), where
    assert payment[0]["unit_label"] == "%", where
    rules = {
        (x["target_rule"].rule, x["target_rule"].direction) for x in leaves if x["target_rule"]
    }
    assert {("steps", "higher"), ("steps", "lower")} <= rules, rules
    if previous is None:
        assert not any(row["previous_code"] for row in rows), f"{where}: links in the first year"
    else:
        before = {row["code"] for row in previous}
        unlinked = [row["code"] for row in rows if not row["previous_code"]]
        assert all(row["previous_code"] in before for row in rows if row["previous_code"]), where
        assert unlinked == added, f"{where}: unlinked {unlinked}"
    return leaves


def unit_results(leaves, scores, sipas, outline, where) -> dict[str, calc.UnitResult]:
    """Every unit's result exactly as publishing sees it: SIPAS-fed leaves derived with
    sipas_points, target leaves with target_points, caps by default_cap (the set has none)."""
    steps = {row["code"]: D(row["step"]) for row in outline if row["step"]}
    by_unit: dict[str, dict[str, dict]] = defaultdict(dict)
    for row in scores:
        assert row["criterion"] not in by_unit[row["unit"]], f"{where}: duplicate row"
        by_unit[row["unit"]][row["criterion"]] = row
    results = {}
    for unit, rows in by_unit.items():
        assert set(rows) == {x["code"] for x in leaves}, f"{where}: {unit} misses leaves"
        inputs = []
        for x in leaves:
            row, cell = rows[x["code"]], f"{where}: {unit} {x['code']}"
            assert row["note"], f"{cell}: no note"
            na = row["final_score"] == "na"
            assert not na or x["kind"] in calc.SCORED_KINDS, f"{cell}: na on {x['kind']}"
            figures = [row["self_figure"], row["final_figure"]]
            wanted = x["kind"] == calc.Kind.TARGET and not na
            assert all(figures) if wanted else not any(figures), f"{cell}: figures"
            if row["self_score"]:
                assert x["kind"] in calc.SELF_SCORED_KINDS, f"{cell}: self score"
                assert D(row["self_score"]) <= x["max"], cell
            else:
                assert na or x["kind"] not in calc.SELF_SCORED_KINDS, f"{cell}: no self score"
            if na:
                final = None
            elif x["sipas_element"]:
                assert not row["final_score"], f"{cell}: a SIPAS-fed leaf takes no final score"
                final = calc.sipas_points(x["max"], D(sipas[unit][x["sipas_element"]]))
            elif x["kind"] == calc.Kind.TARGET:
                assert not row["final_score"] and not row["self_score"], cell
                final = calc.target_points(D(row["final_figure"]), x["max"], x["target_rule"])
            else:
                final = D(row["final_score"])
                assert 0 <= final <= x["max"], f"{cell}: {final}"
                if x["code"] in steps:
                    assert final % steps[x["code"]] == 0, f"{cell}: not in steps"
            inputs.append(calc.Leaf(x["code"], x["field"], x["kind"], x["max"], final, na))
        results[unit] = calc.unit_result(inputs)
    return results


def verify(outline, targets, units):
    """Read every file back and check the story; return what the summary prints."""
    names = {unit["code"]: unit["name"] for unit in units}
    par, sipas, bands, payments, na, corrected = {}, {}, {}, {}, Counter(), Counter()
    for group in dict.fromkeys(g for groups in ROUNDS.values() for g in groups):
        previous = None
        for year in (year for year, groups in ROUNDS.items() if group in groups):
            folder = DATA / str(year) / group
            rows = read_csv(folder / "criteria.csv")
            added = [row["code"] for row in outline if row["since"] == str(year)]
            leaves = check_criteria(rows, previous, added, f"{year}/{group}")
            previous = rows
            band_rows = read_csv(folder / "bands.csv")
            assert [tuple(row.values()) for row in band_rows] == list(BANDS), folder
            rules = [calc.BandRule(r["code"], r["label"], D(r["min_index"])) for r in band_rows]
            if year not in SCORED_YEARS:
                assert not (folder / "scores.csv").exists(), f"{folder}: a round in progress"
                continue
            elements = {r["unit"]: r for r in read_csv(folder / "sipas.csv")}
            scores = read_csv(folder / "scores.csv")
            na[year] += sum(row["final_score"] == "na" for row in scores)
            payment = next(x["code"] for x in leaves if x["title"] == "Tỷ lệ thanh toán trực tuyến")
            payments[year, group] = {
                r["unit"]: D(r["final_figure"]) for r in scores if r["criterion"] == payment
            }
            corrected[year] += sum(r["self_figure"] != r["final_figure"] for r in scores)
            results = unit_results(leaves, scores, elements, outline, f"{year}/{group}")
            assert sorted(results) == sorted(
                u for u in names if targets.get((year, u), {}).get("group") == group
            )
            par[year, group] = {u: r.index for u, r in results.items()}
            bands[year, group] = {
                u: calc.band_for(i, rules).label for u, i in par[year, group].items()
            }
            sipas[year, group] = {}
            for unit, row in elements.items():
                values = {e: D(row[e]) for e in ELEMENTS}
                assert all(SIPAS_RANGE[0] <= v <= SIPAS_RANGE[1] for v in values.values()), unit
                sipas[year, group][unit] = calc.sipas_index(values)
            for unit in results:
                story = targets[year, unit]
                assert par[year, group][unit] == D(story["par_index"]), f"{year} {unit}"
                assert sipas[year, group][unit] == D(story["sipas_index"]), f"{year} SIPAS {unit}"
                bounds = [D(bound) for _c, _l, bound in BANDS[:-1]]
                gap = min(abs(par[year, group][unit] - bound) for bound in bounds)
                assert gap >= D("0.05"), f"{year} {unit}: {gap} from a band bound"
    assert all(2 <= na[year] <= 3 for year in SEED_YEARS), na
    assert all(na[year] for year in SCORED_YEARS), na
    assert all(corrected[year] for year in SCORED_YEARS), "the council corrects some figures"
    assert [row["code"] for row in outline if row["since"] or row["until"]] == ["1.3.3", "1.4.3"]
    assert sorted(path.name for path in DATA.iterdir() if path.is_dir()) == [
        str(year) for year in ROUNDS
    ], "a folder of no round"
    # load_demo publishes the years with scores and opens the last one, the only one without.
    assert [year for year in ROUNDS if year not in SCORED_YEARS] == [OPEN_YEAR] == [max(ROUNDS)]
    check_story(par, sipas, bands, payments, names)
    check_sipas_2024(sipas, names)
    lineage = check_lineage(units, targets)
    check_2025(par, sipas, lineage, names)
    return par, sipas, bands, names, lineage


def ranked(indices: dict[str, Decimal], names: dict[str, str]) -> list[calc.Ranked]:
    return calc.rank((unit, names[unit], index) for unit, index in indices.items())


def check_story(par, sipas, bands, payments, names) -> None:
    """The city's report of 28-02-2024 (the seed) and NSMT's of 29-02-2024 (domain.md §6)."""
    departments, districts = (
        ranked(par[2023, "departments"], names),
        ranked(par[2023, "districts"], names),
    )
    assert [r.key for r in departments[:3]] == [
        "so-lao-dong-thuong-binh-xa-hoi",
        "so-khoa-hoc-cong-nghe",
        "so-van-hoa-the-thao-du-lich",
    ] and [r.rank for r in departments[:3]] == [1, 2, 3]
    assert departments[-1].key == "so-tai-nguyen-moi-truong" and departments[-1].rank == 20
    assert [r.key for r in districts[:2]] == ["huyen-phong-dien", "huyen-vinh-thanh"]
    assert [r.rank for r in districts[:2]] == [1, 2]
    assert districts[-1].key == "quan-ninh-kieu" and districts[-1].rank == 9
    counts = Counter(bands[2023, "departments"].values())
    assert counts == {"Rất tốt": 8, "Tốt": 10, "Khá": 2}, counts
    so = Counter(
        band for u, band in bands[2023, "departments"].items() if names[u].startswith("Sở")
    )
    assert so == {"Rất tốt": 5, "Tốt": 9, "Khá": 2}, so
    assert Counter(bands[2023, "districts"].values()) == {"Rất tốt": 2, "Tốt": 7}
    for group, now, before, gain in (
        ("departments", "92.27", "90.51", "1.76"),
        ("districts", "93.93", "87.51", "6.42"),
    ):
        averages = [calc.average(list(par[year, group].values())) for year in SEED_YEARS]
        assert averages == [D(before), D(now)], (group, averages)
        assert calc.change(averages[1], averages[0]) == D(gain), group
        sipas_averages = [calc.average(list(sipas[year, group].values())) for year in SEED_YEARS]
        assert not set(sipas_averages) & set(averages), f"{group}: SIPAS averages are PAR's"
    changes = {
        group: [calc.change(par[2023, group][u], par[2022, group][u]) for u in par[2023, group]]
        for group in ("departments", "districts")
    }
    assert all(change > 0 for change in changes["districts"]), "every district improved"
    worse = sum(change <= 0 for change in changes["departments"])
    assert 2 <= worse <= 3, f"{worse} departments did not improve"
    assert all(index > 80 for year in SEED_YEARS for index in par[year, "departments"].values())
    top = [r.key for r in ranked(sipas[2023, "departments"], names)[:3]]
    assert top == ["so-lao-dong-thuong-binh-xa-hoi", "so-giao-duc-dao-tao", "so-noi-vu"], top
    order = ranked(sipas[2023, "districts"], names)
    assert order[0].key == "huyen-thoi-lai" and order[-1].key == "quan-o-mon", order
    assert order[-1].rank == 9 and order[1].rank == 2
    paid = {**payments[2023, "departments"], **payments[2023, "districts"]}
    assert paid["so-tai-chinh"] == D("42.4") and all(15 <= v <= 60 for v in paid.values()), paid


def check_sipas_2024(sipas, names) -> None:
    """The city's own SIPAS survey of 2024 (Viện Kinh tế – Xã hội thành phố, reported by Lao
    Động; the README of the demo): the averages, the highest and the lowest units."""
    departments = ranked(sipas[2024, "departments"], names)
    assert calc.average([r.index for r in departments]) == D("94.41")
    top = [(r.key, r.index, r.rank) for r in departments[:4]]
    assert top[0] == ("so-thong-tin-truyen-thong", D("98.00"), 1), top
    assert sorted(top[1:3]) == [
        ("so-khoa-hoc-cong-nghe", D("96.93"), 2),
        ("so-van-hoa-the-thao-du-lich", D("96.93"), 2),
    ], top
    assert top[3][2] == 4, top  # the tie shares rank 2; the next is 4th
    assert (departments[-1].key, departments[-1].index) == ("so-xay-dung", D("89.32"))
    assert departments[-1].rank == 20 and departments[-2].index > departments[-1].index
    districts = ranked(sipas[2024, "districts"], names)
    assert calc.average([r.index for r in districts]) == D("93.53")
    assert (districts[0].key, districts[0].index, districts[0].rank) == (
        "quan-o-mon",
        D("96.73"),
        1,
    )
    assert (districts[-1].key, districts[-1].index, districts[-1].rank) == (
        "quan-ninh-kieu",
        D("91.69"),
        9,
    )
    assert districts[1].index < districts[0].index and districts[-2].index > districts[-1].index


# Lineage: the register of units -----------------------------------------------------------------

MERGER_DAY, NEW_CITY_DAY = date(2025, 3, 1), date(2025, 7, 1)


def successors_of(unit: dict) -> list[str]:
    return [code for code in unit["successor"].split(";") if code]


def taken_over(units: list[dict], year: int) -> dict[str, list[str]]:
    """Unit → the units it took over during ``year``: only links dated within the year, as
    publishing follows them (docs/calculation.md, 9)."""
    took: dict[str, list[str]] = defaultdict(list)
    for unit in units:
        if unit["dissolved_on"] and date.fromisoformat(unit["dissolved_on"]).year == year:
            for code in successors_of(unit):
                took[code].append(unit["code"])
    return took


def check_lineage(units: list[dict], targets: dict) -> dict:
    """The register (``import_units``' columns ``successor``, ``dissolved_on``,
    ``dissolved_reason``): the March 2025 mergers of departments, the end of the districts and
    the July 2025 communes; who is ranked in 2024 and in 2025. Returns the numbers."""
    by_code = {unit["code"]: unit for unit in units}
    assert len(by_code) == len(units), "duplicate codes"
    ceased = defaultdict(list)
    for unit in units:
        day = date.fromisoformat(unit["dissolved_on"]) if unit["dissolved_on"] else None
        for code in successors_of(unit):
            assert day, f"{unit['code']}: a successor needs the day it ceased"
            successor = by_code[code]
            assert successor["group"] == unit["group"], f"{unit['code']} → {code}"
            assert not successor["dissolved_on"], f"{unit['code']} → {code}: a chain"
        if day:
            assert unit["dissolved_reason"], f"{unit['code']}: why it ceased"
            ceased[unit["group"], day].append(unit)
    assert sorted((group, day, len(v)) for (group, day), v in ceased.items()) == [
        ("communes", NEW_CITY_DAY, 80),
        ("departments", MERGER_DAY, 7),
        ("districts", NEW_CITY_DAY, 9),
    ], sorted(ceased)
    assert all(len(successors_of(u)) == 1 for u in ceased["departments", MERGER_DAY])
    assert all(
        not successors_of(u) and u["dissolved_reason"] == "bỏ cấp huyện"
        for u in ceased["districts", NEW_CITY_DAY]
    )
    old_communes = ceased["communes", NEW_CITY_DAY]
    splits = [u["code"] for u in old_communes if len(successors_of(u)) > 1]
    assert all(successors_of(u) for u in old_communes) and len(splits) == 3, splits
    active = [unit for unit in units if not unit["dissolved_on"]]
    groups = Counter(unit["group"] for unit in active)
    assert groups == {"departments": 15, "communes": 103}, groups
    kinds = Counter(u["name"].split()[0] for u in active if u["group"] == "communes")
    assert kinds == {"phường": 31, "xã": 72}, kinds
    # Who is ranked: every unit of 2024 ceased or carried on; 2025 ranks the units of today.
    ranked_in = {
        year: Counter(row["group"] for (y, _u), row in targets.items() if y == year)
        for year in (2024, 2025)
    }
    assert ranked_in[2024] == {"departments": 20, "districts": 9, "communes": 80}, ranked_in
    assert all((2024, u["code"]) in targets for group_day in ceased.values() for u in group_day)
    assert {u for (y, u) in targets if y == 2025} == {u["code"] for u in active}
    new = [u["code"] for u in active if (2024, u["code"]) not in targets]
    took = taken_over(units, 2025)
    assert all(took[code] or by_code[code]["group"] == "communes" for code in new), new
    kept = [u for u in active if u["group"] == "departments" and (2024, u["code"]) in targets]
    assert len(kept) == 13, "the departments that kept their name keep their code"
    return {
        "units": units,
        "ceased": {key: len(v) for key, v in ceased.items()},
        "successor_links": sum(len(successors_of(u)) for u in units),
        "splits": splits,
        "new": new,
        "took_over": took,
    }


def comparisons(year: int, indices: dict, units: list[dict]) -> dict[str, calc.Comparison]:
    """Unit → what its change compares with (calculation.comparison): last year's indices in
    whatever group the unit then was, through the links dated within ``year``."""
    before = {}
    for (y, _group), values in indices.items():
        if y == year - 1:
            before.update(values)
    took = taken_over(units, year)
    return {
        unit: calc.comparison(unit, before.get(unit), [(p, before.get(p)) for p in took[unit]])
        for (y, _group), values in indices.items()
        if y == year
        for unit in values
    }


def check_2025(par, sipas, lineage, names) -> None:
    """The first year of the new city: 15 departments and 103 communes, each change compared
    through the mergers; the four bases (docs/calculation.md, 9, whose worked example is Sở
    Nông nghiệp và Môi trường's)."""
    assert len(par[2025, "departments"]) == 15 and len(par[2025, "communes"]) == 103
    compared = comparisons(2025, par, lineage["units"])
    basis = {
        group: Counter(compared[u].basis for u in par[2025, group])
        for group in ("departments", "communes")
    }
    assert basis["departments"] == {"own": 9, "merged": 5, "predecessor": 1}, basis
    # Communes: 71 formed only from Hậu Giang's and Sóc Trăng's, never ranked here.
    assert basis["communes"] == {None: 71, "merged": 28, "predecessor": 4}, basis
    own = compared["so-tu-phap"]
    assert (own.basis, own.compared_with) == ("own", ("so-tu-phap",))
    assert own.previous_index == par[2024, "departments"]["so-tu-phap"]
    one = compared["so-dan-toc-ton-giao"]
    assert (one.basis, one.compared_with) == ("predecessor", ("ban-dan-toc",))
    merged = compared["so-nong-nghiep-moi-truong"]
    assert merged.basis == "merged" and merged.compared_with == (
        "so-nong-nghiep-phat-trien-nong-thon",
        "so-tai-nguyen-moi-truong",
    )
    assert merged.previous_index == D("88.13")  # (90.35 + 85.90) / 2, half-up
    assert calc.change(par[2025, "departments"]["so-nong-nghiep-moi-truong"], D("88.13")) == D(
        "3.27"
    )
    assert compared["so-noi-vu"].compared_with == ("so-noi-vu", "so-lao-dong-thuong-binh-xa-hoi")
    commune = compared["xa-thanh-phu"]
    assert (commune.basis, commune.compared_with) == ("predecessor", ("huyen-co-do-xa-thanh-phu",))
    assert compared["phuong-vi-thanh"] == calc.NOTHING_TO_COMPARE
    # A split ward counts in both new wards it was divided among.
    split = "quan-binh-thuy-phuong-long-tuyen"
    assert split in compared["phuong-an-binh"].compared_with
    assert split in compared["phuong-long-tuyen"].compared_with
    assert names["phuong-an-binh"] == "phường An Bình" != names["quan-ninh-kieu-phuong-an-binh"]
    sipas_compared = comparisons(2025, sipas, lineage["units"])
    assert sipas_compared["so-nong-nghiep-moi-truong"].basis == "merged"
    assert sipas_compared["phuong-vi-thanh"].basis is None


# Summary --------------------------------------------------------------------------------------


def summary(par, sipas, bands, names, outline, lineage) -> None:
    for group in ("departments", "communes"):
        leaves = leaves_of(criteria_rows(outline, 2025, group))
        kinds = calc.maximum_by_kind(Criterion(x["kind"], x["max"]) for x in leaves)
        fields = [
            fmt(
                calc.scored_maximum(
                    Criterion(x["kind"], x["max"]) for x in leaves if x["field"] == f
                )
            )
            for f in "12345678"
        ]
        print(f"2025 {group} set: {len(leaves)} leaves; fields {'/'.join(fields)}", end=" ")
        print("(illustrative); " + ", ".join(f"{k} {fmt(points)}" for k, points in kinds.items()))
    print("bands (assumed): " + ", ".join(f"{label} ≥ {bound}" for _c, label, bound in BANDS))
    ceased = ", ".join(
        f"{count} {group} on {day}" for (group, day), count in sorted(lineage["ceased"].items())
    )
    print(
        f"lineage: ceased {ceased}; {lineage['successor_links']} successor links, "
        f"{len(lineage['splits'])} splits; {len(lineage['new'])} new units in 2025"
    )
    for (year, group), indices in sorted(par.items()):
        sipas_rank = {r.key: r.rank for r in ranked(sipas[year, group], names)}
        compared = comparisons(year, par, lineage["units"])
        order = ranked(indices, names)
        print(f"\n{year} {group}")
        shown_rows = order if len(order) <= 30 else [*order[:5], None, *order[-3:]]
        for r in shown_rows:
            if r is None:
                print(f"    … {len(order) - 8} more")
                continue
            comparison = compared[r.key]
            change = calc.change(r.index, comparison.previous_index)
            shown = "" if change is None else f"{change:+}"
            basis = {"own": "", None: ""}.get(comparison.basis, comparison.basis)
            print(
                f"{r.rank:>3} {names[r.key]:<52} {r.index:>6} {bands[year, group][r.key]:<10}"
                f" {shown:>6} {basis:<11} SIPAS {sipas[year, group][r.key]:>6}"
                f" ({sipas_rank[r.key]})"
            )
        counts = Counter(bands[year, group].values())
        bases = Counter(compared[u].basis or "none" for u in indices)
        print(
            f"    average {calc.average(list(indices.values()))}, SIPAS average "
            f"{calc.average(list(sipas[year, group].values()))}; "
            + ", ".join(f"{label} {counts[label]}" for _c, label, _b in BANDS if counts[label])
            + "; change: "
            + ", ".join(f"{basis} {n}" for basis, n in sorted(bases.items()))
        )


def main() -> None:
    started = time.perf_counter()
    outline = read_csv(HERE / "outline.csv")
    targets = {(int(row["year"]), row["unit"]): row for row in read_csv(HERE / "targets.csv")}
    units = read_csv(DATA / "units.csv")
    generate(outline, targets, units)
    par, sipas, bands, names, lineage = verify(outline, targets, units)
    summary(par, sipas, bands, names, outline, lineage)
    print(f"\nAll checks passed in {time.perf_counter() - started:.1f} s; files under {DATA}")


if __name__ == "__main__":
    main()
