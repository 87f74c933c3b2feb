"""The open data of a year: every published table and every leaf result as CSV files (UTF-8
with a byte-order mark), with a codebook in Vietnamese and English, in one zip
(``/data/<year>/``). Read from frozen publications only."""

from __future__ import annotations

import io
import zipfile

from django.conf import settings
from django.utils import timezone

from scoring.models import LEAF_SOURCE_FIELDS, SIPAS_ELEMENTS

from .exports import BOM, csv_bytes
from .models import RESULT_VALUES, Publication, PublishedField, leaf_rows

CODEBOOK_VI = """Chỉ số cải cách hành chính (Chỉ số CCHC){province}: dữ liệu mở năm {year}

Mỗi tệp là CSV, mã UTF-8 có BOM (Excel trên Windows mở đúng tiếng Việt), phân cách bằng dấu
phẩy, dòng đầu là tên cột; số thập phân dùng dấu chấm "." và hai chữ số sau dấu chấm; ô trống là
không có giá trị. Tên cột giống nhau ở mọi ngôn ngữ. Chỉ có kết quả đã công bố (phiên bản mới
nhất của mỗi khối).

rankings-<khối>.csv   mỗi dòng một đơn vị: year (năm), group (khối), version (phiên bản), rank
                      (thứ hạng), unit (mã đơn vị), name (tên), points (điểm), max_points (điểm
                      tối đa), index (chỉ số), band (mã xếp loại), band_label (xếp loại),
                      change (chỉ số trừ previous_index; trống khi không có gì để so sánh),
                      previous_index (chỉ số dùng để so sánh), change_basis (own: chỉ số của
                      chính đơn vị năm trước; predecessor: của một đơn vị mà đơn vị này tiếp
                      nhận; merged: trung bình của các đơn vị hợp nhất, kể cả chính nó; trống:
                      không có gì để so sánh), compared_with (mã các đơn vị được so sánh, cách
                      nhau bằng ";")
fields-<khối>.csv     mỗi dòng một đơn vị và một lĩnh vực: unit, field (mã lĩnh vực), title (tên),
                      points, max_points, index (trống với lĩnh vực chỉ có điểm thưởng, điểm trừ)
leaves-<khối>.csv     mỗi dòng một đơn vị và một tiêu chí: unit, criterion (mã tiêu chí), title,
                      kind (self: tự chấm; agency: cơ quan thẩm định chấm; target: theo chỉ
                      tiêu; survey: điều tra xã hội học; bonus: điểm thưởng; penalty: điểm
                      trừ), max_points, self_score (điểm tự chấm), final_score (điểm cuối
                      cùng), not_applicable (true/false: không áp dụng), note (ghi chú công
                      khai của hội đồng), self_figure và figure (số liệu của tiêu chí theo chỉ
                      tiêu, do đơn vị báo cáo và do hội đồng xác nhận; trống với tiêu chí khác)
criteria-<khối>.csv   bộ tiêu chí: code, parent (mã tiêu chí cha), title, max_points, kind,
                      previous_code (mã năm trước), và với tiêu chí theo chỉ tiêu: target (chỉ
                      tiêu), rule (proportional: tỷ lệ; steps: theo bậc), steps (các cặp
                      ngưỡng:điểm), direction (higher: càng cao càng tốt; lower: càng thấp càng
                      tốt), unit_label (đơn vị tính); sipas_element với tiêu chí lấy từ SIPAS
bands-<khối>.csv      xếp loại: code, label (tên), min_index (cận dưới, tính cả cận)
sipas-<khối>.csv      mỗi dòng một đơn vị: rank, unit, name, index (SIPAS), access (tiếp cận
                      dịch vụ), procedure (thủ tục hành chính), civil_servants (công chức),
                      result (kết quả), feedback (tiếp nhận, xử lý góp ý), change,
                      previous_index, change_basis, compared_with (như trong rankings-<khối>.csv)
versions.csv          mọi lần công bố: group, version, published_at (thời điểm công bố, giờ Việt
                      Nam), reason (lý do đính chính), checksum (SHA-256), baseline_version
                      (phiên bản kết quả năm trước được dùng để so sánh)

Cách tính: xem trang phương pháp đánh giá của từng năm và từng khối.
"""

CODEBOOK_EN = """Administrative reform index (PAR Index){province}: open data {year}

Every file is CSV, UTF-8 with a byte-order mark (so that Excel on Windows reads Vietnamese
correctly), comma-separated, with a header row; decimals use "." and two places; an empty cell
means no value. Column names are the same in every language. Only published results are
included (the latest version of each group).

rankings-<group>.csv   one row per unit: year, group, version, rank, unit (code), name, points,
                       max_points, index, band (code), band_label, change (index minus
                       previous_index; empty when there is nothing to compare with),
                       previous_index, change_basis (own: the unit's own index last year;
                       predecessor: the one unit it took over; merged: the mean of the
                       units it was formed from, itself included; empty: nothing to compare
                       with), compared_with (the unit codes compared with, separated by ";")
fields-<group>.csv     one row per unit and field: unit, field (code), title, points, max_points,
                       index (empty for a field of only bonus or penalty points)
leaves-<group>.csv     one row per unit and leaf: unit, criterion (code), title, kind
                       (self, agency, target, survey, bonus, penalty), max_points, self_score,
                       final_score, not_applicable (true/false), note (the council's public
                       note), self_figure and figure (a target leaf's figure as the unit
                       reported it and as the council verified it; empty for other leaves)
criteria-<group>.csv   the criteria tree: code, parent, title, max_points, kind, previous_code,
                       and for a target leaf its rule: target, rule (proportional or steps),
                       steps (threshold:points pairs), direction (higher or lower is better),
                       unit_label; sipas_element for a survey leaf fed from SIPAS
bands-<group>.csv      the classification: code, label, min_index (inclusive lower bound)
sipas-<group>.csv      one row per unit: rank, unit, name, index, access, procedure,
                       civil_servants, result, feedback, change, previous_index,
                       change_basis, compared_with (as in rankings-<group>.csv)
versions.csv           every publication: group, version, published_at, reason, checksum,
                       baseline_version (the version of last year's table the changes
                       compare with)

The rules of calculation: see the methodology page of each year and group.
"""


def codebook(year: int) -> str:
    """The codebook of ``year``'s zip (README.txt), in Vietnamese then English, naming the
    province when one is configured."""
    name = getattr(settings, "PROVINCE_NAME", "")
    kind = getattr(settings, "PROVINCE_KIND", "tỉnh")
    province_vi = f" {kind} {name}" if name else ""
    province_en = f" of {name} {'City' if kind == 'thành phố' else 'Province'}" if name else ""
    return (
        CODEBOOK_VI.format(year=year, province=province_vi)
        + "\n"
        + "-" * 72
        + "\n\n"
        + CODEBOOK_EN.format(year=year, province=province_en)
    )


def open_data_zip(year: int, publications: list[Publication]) -> bytes:
    """The zip of ``year`` from the latest versions of its publications (one query per file and
    group, whatever the number of units)."""
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr("README.txt", BOM + codebook(year))
        for publication in publications:
            code = publication.group_code
            criteria = {c.code: c for c in publication.criteria.all()}
            bundle.writestr(
                f"rankings-{code}.csv",
                csv_bytes(
                    [
                        (
                            "year",
                            "group",
                            "version",
                            "rank",
                            "unit",
                            "name",
                            "points",
                            "max_points",
                            "index",
                            "band",
                            "band_label",
                            "change",
                            "previous_index",
                            "change_basis",
                            "compared_with",
                        ),
                        *(
                            (year, code, publication.version, *row[:-1], ";".join(row[-1]))
                            for row in publication.results.order_by("position").values_list(
                                *RESULT_VALUES
                            )
                        ),
                    ]
                ),
            )
            bundle.writestr(
                f"fields-{code}.csv",
                csv_bytes(
                    [
                        ("unit", "field", "title", "points", "max_points", "index"),
                        *PublishedField.objects.filter(result__publication=publication)
                        .order_by("result__position", "position")
                        .values_list(
                            "result__unit_code",
                            "code",
                            "title",
                            "points",
                            "max_points",
                            "index",
                        ),
                    ]
                ),
            )
            leaves = [
                (
                    "unit",
                    "criterion",
                    "title",
                    "kind",
                    "max_points",
                    "self_score",
                    "final_score",
                    "not_applicable",
                    "note",
                    "self_figure",
                    "figure",
                )
            ]
            for unit_code, leaf_code, self_score, final, na, note, self_figure, figure in leaf_rows(
                publication
            ):
                criterion = criteria.get(leaf_code)
                leaves.append(
                    (
                        unit_code,
                        leaf_code,
                        criterion.title if criterion else "",
                        criterion.kind if criterion else "",
                        criterion.max_points if criterion else "",
                        self_score,
                        final,
                        "true" if na else "false",
                        note,
                        self_figure,
                        figure,
                    )
                )
            bundle.writestr(f"leaves-{code}.csv", csv_bytes(leaves))
            bundle.writestr(
                f"criteria-{code}.csv",
                csv_bytes(
                    [
                        (
                            "code",
                            "parent",
                            "title",
                            "max_points",
                            "kind",
                            "previous_code",
                            *LEAF_SOURCE_FIELDS,
                        ),
                        *(
                            (
                                c.code,
                                c.parent_code,
                                c.title,
                                c.max_points,
                                c.kind,
                                c.previous_code,
                                *(getattr(c, name) for name in LEAF_SOURCE_FIELDS),
                            )
                            for c in sorted(criteria.values(), key=lambda c: c.position)
                        ),
                    ]
                ),
            )
            bundle.writestr(
                f"bands-{code}.csv",
                csv_bytes(
                    [
                        ("code", "label", "min_index"),
                        *publication.bands.order_by("-min_index").values_list(
                            "code", "label", "min_index"
                        ),
                    ]
                ),
            )
            sipas_rows = [
                (*row[:-1], ";".join(row[-1]))
                for row in publication.sipas.order_by("position").values_list(
                    "rank",
                    "unit_code",
                    "unit_name",
                    "index",
                    *SIPAS_ELEMENTS,
                    "change",
                    "previous_index",
                    "change_basis",
                    "compared_with",
                )
            ]
            if sipas_rows:
                bundle.writestr(
                    f"sipas-{code}.csv",
                    csv_bytes(
                        [
                            (
                                "rank",
                                "unit",
                                "name",
                                "index",
                                *SIPAS_ELEMENTS,
                                "change",
                                "previous_index",
                                "change_basis",
                                "compared_with",
                            ),
                            *sipas_rows,
                        ]
                    ),
                )
        bundle.writestr(
            "versions.csv",
            csv_bytes(
                [
                    (
                        "group",
                        "version",
                        "published_at",
                        "reason",
                        "checksum",
                        "baseline_version",
                    ),
                    *(
                        (
                            p.group_code,
                            p.version,
                            timezone.localtime(p.published_at).isoformat(),
                            p.reason,
                            p.checksum,
                            p.baseline_version,
                        )
                        for p in Publication.objects.filter(year=year).order_by(
                            "group_code", "version"
                        )
                    ),
                ]
            ),
        )
    return archive.getvalue()
