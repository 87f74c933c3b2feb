"""Generate the import files of a national-size installation, for the benchmarks.

What it writes, under ``--out`` (default ``bench/out/u<units>/``), in the formats of
``docs/imports.md`` (CSV, UTF-8, comma-separated, header row):

- ``units.csv``: one group ``communes`` ("UBND cấp xã") of ``--units`` communes (3,300 by
  default: the national count since 2025), named like real ones ("xã An Bình", "phường Tân
  Hưng"), with ASCII slug codes;
- for each of ``--years`` years from ``--first-year`` (2015-2024 by default):
  ``criteria-<year>.csv``: 9 fields and 90 leaves (88 ``self``/``survey`` leaves whose maxima sum
  to 100, one ``bonus`` and one ``penalty`` leaf in field 9), every criterion linked to last
  year's through ``previous_code`` from the second year on; each year moves a quarter point
  between two leaves and retitles one leaf, so the year-over-year notes have something to show;
  ``scores-<year>.csv``: one row per unit and leaf (3,300 x 90 = 297,000 rows), every applicable
  ``self`` and ``survey`` leaf with a final score (so ``publish`` accepts the year), a few ``na``;
  ``sipas-<year>.csv``: the five SIPAS element percentages of every unit.

Numbers are ``decimal.Decimal`` quantized half-up to two decimals and written with ``.``, as the
project does; no binary float reaches a file. Deterministic: a fixed seed, one random stream per
purpose and year, so the same options rewrite identical files.

Usage (from the project root)::

    python bench/generate.py                 # 3,300 units, 2015-2024 -> bench/out/u3300/
    python bench/generate.py --units 30      # the small size         -> bench/out/u30/
"""

from __future__ import annotations

import argparse
import csv
import random
import unicodedata
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

SEED = "cchc-bench"
GROUP = "communes"
GROUP_NAME = "UBND cấp xã"
CENT = Decimal("0.01")
QUARTER = Decimal("0.25")

# The national template (2948/QĐ-BNV): field title, points, leaves per criterion, kind of the
# leaves of each criterion ("self" or "survey"). 88 leaves summing to 100 points.
FIELDS = [
    ("Công tác chỉ đạo, điều hành CCHC", "10", (3, 3, 4), "sss"),
    ("Xây dựng và tổ chức thực hiện văn bản quy phạm pháp luật", "10", (4, 3, 3), "sss"),
    ("Cải cách thủ tục hành chính", "14.5", (4, 4, 4), "ssv"),
    ("Cải cách tổ chức bộ máy hành chính nhà nước", "11", (3, 4, 3), "sss"),
    (
        "Xây dựng và nâng cao chất lượng đội ngũ cán bộ, công chức, viên chức",
        "16",
        (4, 4, 4),
        "ssv",
    ),
    ("Cải cách tài chính công", "7", (4, 4), "ss"),
    ("Hiện đại hóa hành chính (chính quyền điện tử, chính quyền số)", "16", (4, 4, 4), "ssv"),
    (
        "Tác động của CCHC đến người dân, tổ chức và phát triển kinh tế – xã hội",
        "15.5",
        (5, 5, 4),
        "vvv",
    ),
]
BONUS_FIELD = "Điểm thưởng, điểm trừ"
BONUS_MAX = Decimal("2")
PENALTY_MAX = Decimal("2")

TOPICS = [
    "Ban hành kế hoạch",
    "Mức độ hoàn thành kế hoạch",
    "Kiểm tra, giám sát",
    "Tuyên truyền",
    "Sáng kiến, giải pháp mới",
    "Rà soát, đánh giá",
    "Công khai, minh bạch",
    "Tiếp nhận, xử lý phản ánh, kiến nghị",
    "Ứng dụng công nghệ thông tin",
    "Bố trí nhân lực",
    "Đào tạo, bồi dưỡng",
    "Thực hiện kết luận thanh tra",
]
NOTES = [
    "Đạt yêu cầu",
    "Có tài liệu kiểm chứng đầy đủ",
    "Tài liệu kiểm chứng chưa đầy đủ",
    "Ban hành chậm so với kế hoạch",
    "Chưa hoàn thành một nhiệm vụ",
    "Kết quả điều tra xã hội học",
    "Báo cáo gửi chậm",
    "Hồ sơ trễ hạn",
]
# Syllables of commune names ("An Bình", "Tân Phú"...), combined two by two.
SYLLABLES = [
    "An",
    "Bình",
    "Hòa",
    "Phú",
    "Long",
    "Tân",
    "Thạnh",
    "Mỹ",
    "Hưng",
    "Phước",
    "Thuận",
    "Lợi",
    "Đông",
    "Tây",
    "Nam",
    "Bắc",
    "Trung",
    "Hiệp",
    "Thới",
    "Vĩnh",
    "Khánh",
    "Lộc",
    "Thành",
    "Quang",
    "Đức",
    "Hải",
    "Sơn",
    "Thủy",
    "Hà",
    "Nghĩa",
    "Xuân",
    "Hạnh",
    "Phong",
    "Điền",
    "Lâm",
    "Cát",
    "Tiến",
    "Minh",
    "Hợp",
    "Kim",
    "Định",
    "Hậu",
    "Giang",
    "Châu",
    "Yên",
    "Thịnh",
    "Trường",
    "Mới",
    "Lạc",
    "Ninh",
]
SIPAS_ELEMENTS = ("access", "procedure", "civil_servants", "result", "feedback")


@dataclass(frozen=True)
class Leaf:
    code: str
    parent: str
    title: str
    max_points: Decimal
    kind: str


def money(value: Decimal) -> str:
    """A decimal as the import files carry it: ``.`` and at most two decimals."""
    text = format(value.quantize(CENT, rounding=ROUND_HALF_UP), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def ascii_slug(text: str) -> str:
    plain = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    plain = "".join(c for c in plain if not unicodedata.combining(c)).lower()
    return "-".join("".join(c if c.isalnum() else " " for c in plain).split())


# Units ------------------------------------------------------------------------------------------


def make_units(count: int) -> list[tuple[str, str]]:
    """(code, name) of ``count`` communes; unique names, a number added only when needed."""
    rng = random.Random(f"{SEED}-units")
    pairs = [(a, b) for a in SYLLABLES for b in SYLLABLES if a != b]
    rng.shuffle(pairs)
    units, names, codes = [], set(), set()
    for i in range(count):
        first, second = pairs[i % len(pairs)]
        base = name = f"{'phường' if rng.random() < 0.28 else 'xã'} {first} {second}"
        number = 1
        while name in names:  # more communes than pairs of syllables: number them
            number += 1
            name = f"{base} {number}"
        names.add(name)
        code = base_code = ascii_slug(name)
        number = 1
        while code in codes:  # "Thạnh" and "Thành" are both "thanh" without their marks
            number += 1
            code = f"{base_code}-{number}"
        codes.add(code)
        units.append((code, name))
    return units


# Criteria ---------------------------------------------------------------------------------------


def split_quarters(total: Decimal, parts: int) -> list[Decimal]:
    """``total`` split in ``parts`` multiples of 0.25, as equal as possible, summing exactly."""
    quarters = int(total / QUARTER)
    base, extra = divmod(quarters, parts)
    return [(base + (1 if i < extra else 0)) * QUARTER for i in range(parts)]


def base_criteria() -> tuple[list[tuple[str, str, str]], list[Leaf]]:
    """The first year's set: parents (code, parent, title) and leaves."""
    parents, leaves = [], []
    for f, (title, points, shape, kinds) in enumerate(FIELDS, start=1):
        parents.append((str(f), "", title))
        maxima = iter(split_quarters(Decimal(points), sum(shape)))
        for c, (count, kind) in enumerate(zip(shape, kinds, strict=True), start=1):
            code = f"{f}.{c}"
            topic = TOPICS[(f * 3 + c) % len(TOPICS)]
            parents.append((code, str(f), f"{topic} ({title.split(' (')[0]})"))
            for n in range(1, count + 1):
                leaves.append(
                    Leaf(
                        code=f"{code}.{n}",
                        parent=code,
                        title=f"{TOPICS[(f + c + n) % len(TOPICS)]}: nội dung {code}.{n}",
                        max_points=next(maxima),
                        kind="survey" if kind == "v" else "self",
                    )
                )
    parents.append(("9", "", BONUS_FIELD))
    leaves.append(
        Leaf("9.1", "9", "Điểm thưởng: sáng kiến CCHC được công nhận", BONUS_MAX, "bonus")
    )
    leaves.append(
        Leaf("9.2", "9", "Điểm trừ: vi phạm trong thực hiện CCHC", PENALTY_MAX, "penalty")
    )
    return parents, leaves


def evolve(leaves: list[Leaf], year: int) -> list[Leaf]:
    """Next year's leaves: a quarter point moved between two leaves of one field, one retitled."""
    rng = random.Random(f"{SEED}-criteria-{year}")
    leaves = list(leaves)
    scored = [i for i, leaf in enumerate(leaves) if leaf.kind in ("self", "survey")]
    field = rng.choice(sorted({leaves[i].code.split(".")[0] for i in scored}))
    same = [i for i in scored if leaves[i].code.split(".")[0] == field]
    give, take = rng.sample(same, 2)
    if leaves[give].max_points > QUARTER:
        leaves[give] = replace(leaves[give], max_points=leaves[give].max_points - QUARTER)
        leaves[take] = replace(leaves[take], max_points=leaves[take].max_points + QUARTER)
    renamed = rng.choice(scored)
    title = leaves[renamed].title.split(" (sửa đổi")[0]
    leaves[renamed] = replace(leaves[renamed], title=f"{title} (sửa đổi {year})")
    return leaves


def write_criteria(path: Path, parents, leaves: list[Leaf], linked: bool) -> None:
    children: dict[str, list[Leaf]] = {}
    for leaf in leaves:
        children.setdefault(leaf.parent, []).append(leaf)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["code", "parent", "title", "max_points", "kind", "previous_code"])
        for code, parent, title in parents:
            writer.writerow([code, parent, title, "", "", code if linked else ""])
            for leaf in children.get(code, []):
                writer.writerow(
                    [
                        leaf.code,
                        leaf.parent,
                        leaf.title,
                        money(leaf.max_points),
                        leaf.kind,
                        leaf.code if linked else "",
                    ]
                )


# Scores and SIPAS -------------------------------------------------------------------------------


def clamp(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)


def quality(units, years) -> dict[tuple[str, int], float]:
    """Each unit's share of the points each year: a level, a trend, some noise."""
    rng = random.Random(f"{SEED}-quality")
    result = {}
    for code, _name in units:
        level = clamp(rng.gauss(0.80, 0.08), 0.35, 0.97)
        trend = rng.gauss(0.006, 0.01)
        for offset, year in enumerate(years):
            result[code, year] = clamp(level + trend * offset + rng.gauss(0, 0.025), 0.2, 0.995)
    return result


def write_scores(path: Path, units, leaves: list[Leaf], year: int, q) -> int:
    rng = random.Random(f"{SEED}-scores-{year}")
    rows = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["unit", "criterion", "self_score", "final_score", "note"])
        for code, _name in units:
            share = q[code, year]
            for leaf in leaves:
                self_score, final, note = score(rng, leaf, share)
                writer.writerow([code, leaf.code, self_score, final, note])
                rows += 1
    return rows


def score(rng: random.Random, leaf: Leaf, share: float) -> tuple[str, str, str]:
    """(self_score, final_score, note) of one unit on one leaf, as the file's text."""
    top = leaf.max_points
    note = rng.choice(NOTES) if rng.random() < 0.15 else ""
    if leaf.kind == "self":
        if rng.random() < 0.003:
            return "", "na", "Không có nhiệm vụ này trong năm"
        steps = int(top / QUARTER)
        got = round(clamp(rng.gauss(share, 0.12), 0, 1) * steps)
        final = got * QUARTER
        claimed = min(steps, got + (1 if rng.random() < 0.3 else 0)) * QUARTER
        if claimed > final and not note:
            note = "Trừ điểm: tài liệu kiểm chứng chưa đầy đủ"
        return money(claimed), money(final), note
    if leaf.kind == "survey":
        hundredths = int(top * 100)
        final = Decimal(round(clamp(rng.gauss(share, 0.06), 0, 1) * hundredths)) / 100
        return "", money(final), note
    if leaf.kind == "bonus":
        claimed = Decimal(rng.choice((0, 0, 0, 0, 1, 2, 3, 4))) * Decimal("0.5")
        if claimed == 0:
            return "", "" if rng.random() < 0.5 else "0", note
        final = claimed - (QUARTER * 2 if rng.random() < 0.3 else 0)
        return money(claimed), money(final), note or "Sáng kiến được công nhận"
    # penalty: set by the council, a positive amount subtracted
    amount = Decimal(rng.choice((0, 0, 0, 0, 0, 0, 1, 2))) * Decimal("0.5")
    if amount == 0:
        return "", "" if rng.random() < 0.5 else "0", ""
    return "", money(amount), note or "Báo cáo gửi chậm"


def write_sipas(path: Path, units, year: int, q) -> None:
    rng = random.Random(f"{SEED}-sipas-{year}")
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["unit", *SIPAS_ELEMENTS])
        for code, _name in units:
            level = 70 + 25 * q[code, year]
            writer.writerow(
                [code]
                + [
                    money(Decimal(round(clamp(rng.gauss(level, 3), 40, 100) * 100)) / 100)
                    for _element in SIPAS_ELEMENTS
                ]
            )


# Main -------------------------------------------------------------------------------------------


def generate(units_count: int, years_count: int, first_year: int, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    units = make_units(units_count)
    with (out / "units.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["code", "name", "group", "group_name"])
        for code, name in units:
            writer.writerow([code, name, GROUP, GROUP_NAME])
    years = list(range(first_year, first_year + years_count))
    q = quality(units, years)
    parents, leaves = base_criteria()
    assert len(leaves) == 90, len(leaves)
    for year in years:
        if year != first_year:
            leaves = evolve(leaves, year)
        scored = sum(leaf.max_points for leaf in leaves if leaf.kind in ("self", "survey"))
        assert scored == 100, scored
        write_criteria(out / f"criteria-{year}.csv", parents, leaves, linked=year != first_year)
        rows = write_scores(out / f"scores-{year}.csv", units, leaves, year, q)
        write_sipas(out / f"sipas-{year}.csv", units, year, q)
        print(f"{year}: {len(leaves)} leaves, {rows} score rows")
    print(f"{len(units)} units, {len(years)} years -> {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=3300, help="communes (default 3300)")
    parser.add_argument("--years", type=int, default=10, help="years (default 10)")
    parser.add_argument("--first-year", type=int, default=2015, help="first year (default 2015)")
    parser.add_argument("--out", type=Path, help="folder (default bench/out/u<units>)")
    args = parser.parse_args()
    out = args.out or Path(__file__).resolve().parent / "out" / f"u{args.units}"
    generate(args.units, args.years, args.first_year, out)


if __name__ == "__main__":
    main()
