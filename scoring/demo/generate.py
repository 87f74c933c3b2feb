"""Generate the demo data of Cần Thơ's PAR Index (Chỉ số CCHC) and SIPAS, rounds 2022 to 2024.

What it writes, under ``scoring/demo/data/`` (CSV, UTF-8, comma-separated, header row, ``\\n``):

- ``units.csv``: the 20 city departments and the 9 districts, in two unit groups;
- ``<year>/<group>/criteria.csv`` for 2022, 2023 and 2024: one criteria set per year and group,
  the 8 fields of the national template plus a field of bonus and penalty points, each criterion
  linked to its counterpart of the year before through ``previous_code``;
- ``<year>/<group>/scores.csv`` and ``sipas.csv`` for 2022 and 2023: every unit's self scores and
  the council's final scores, and the five SIPAS element values (the 2024 round is still in
  self-assessment, so it has criteria only).

Why: ``python manage.py load_demo`` imports these files (with the ``import_*`` commands' formats)
so that a fresh installation shows a believable site. The numbers tell the story of the Cần Thơ
2023 results published on 28-02-2024: 8 departments Rất tốt, 10 Tốt and 2 Khá; Sở Lao động –
Thương binh và Xã hội first; huyện Phong Điền first among the districts; SIPAS averages 92.27 %
(departments) and 93.93 % (districts); most units better than in 2022.

After writing, the script reads the files back, recomputes every result with ``decimal.Decimal``
by the project's rules (points, maximum, index rounded half-up, band, shared ranks, SIPAS), asserts
the story and prints a summary. It is deterministic (fixed seeds): running it again rewrites
identical files. Run it from the project root: ``python scoring/demo/generate.py``.
"""

import csv
import random
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent / "data"
SEED = "cchc-demo"

CENT = Decimal("0.01")
QUARTER = Decimal("0.25")
HUNDRED = Decimal(100)

SCORED_YEARS = (2022, 2023)
CRITERIA_YEARS = (2022, 2023, 2024)

# --------------------------------------------------------------------------------------------
# Units
# --------------------------------------------------------------------------------------------

GROUPS = {
    "departments": "Sở, ban, ngành",
    "districts": "UBND quận, huyện",
}

# code, name, short name, abbreviation used in document numbers (e.g. "12/KH-SNV")
DEPARTMENTS = [
    ("van-phong-ubnd", "Văn phòng UBND thành phố", "VP UBND", "VPUB"),
    ("so-noi-vu", "Sở Nội vụ", "Sở Nội vụ", "SNV"),
    ("so-tu-phap", "Sở Tư pháp", "Sở Tư pháp", "STP"),
    ("so-ke-hoach-dau-tu", "Sở Kế hoạch và Đầu tư", "Sở KH&ĐT", "SKHĐT"),
    ("so-tai-chinh", "Sở Tài chính", "Sở Tài chính", "STC"),
    ("so-cong-thuong", "Sở Công Thương", "Sở Công Thương", "SCT"),
    (
        "so-nong-nghiep-phat-trien-nong-thon",
        "Sở Nông nghiệp và Phát triển nông thôn",
        "Sở NN&PTNT",
        "SNNPTNT",
    ),
    ("so-giao-thong-van-tai", "Sở Giao thông vận tải", "Sở GTVT", "SGTVT"),
    ("so-xay-dung", "Sở Xây dựng", "Sở Xây dựng", "SXD"),
    ("so-tai-nguyen-moi-truong", "Sở Tài nguyên và Môi trường", "Sở TN&MT", "STNMT"),
    ("so-thong-tin-truyen-thong", "Sở Thông tin và Truyền thông", "Sở TT&TT", "STTTT"),
    (
        "so-lao-dong-thuong-binh-xa-hoi",
        "Sở Lao động – Thương binh và Xã hội",
        "Sở LĐTBXH",
        "SLĐTBXH",
    ),
    ("so-van-hoa-the-thao-du-lich", "Sở Văn hóa, Thể thao và Du lịch", "Sở VHTTDL", "SVHTTDL"),
    ("so-khoa-hoc-cong-nghe", "Sở Khoa học và Công nghệ", "Sở KH&CN", "SKHCN"),
    ("so-giao-duc-dao-tao", "Sở Giáo dục và Đào tạo", "Sở GD&ĐT", "SGDĐT"),
    ("so-y-te", "Sở Y tế", "Sở Y tế", "SYT"),
    ("thanh-tra-thanh-pho", "Thanh tra thành phố", "Thanh tra TP", "TTr"),
    ("so-ngoai-vu", "Sở Ngoại vụ", "Sở Ngoại vụ", "SNgV"),
    ("ban-dan-toc", "Ban Dân tộc", "Ban Dân tộc", "BDT"),
    (
        "ban-quan-ly-khu-che-xuat-cong-nghiep",
        "Ban Quản lý các khu chế xuất và công nghiệp Cần Thơ",
        "BQL các KCX&CN",
        "BQL",
    ),
]

# code, name, statistics code (used as the short name)
DISTRICTS = [
    ("quan-ninh-kieu", "quận Ninh Kiều", "916"),
    ("quan-o-mon", "quận Ô Môn", "917"),
    ("quan-binh-thuy", "quận Bình Thủy", "918"),
    ("quan-cai-rang", "quận Cái Răng", "919"),
    ("quan-thot-not", "quận Thốt Nốt", "923"),
    ("huyen-vinh-thanh", "huyện Vĩnh Thạnh", "924"),
    ("huyen-co-do", "huyện Cờ Đỏ", "925"),
    ("huyen-phong-dien", "huyện Phong Điền", "926"),
    ("huyen-thoi-lai", "huyện Thới Lai", "927"),
]


@dataclass(frozen=True)
class Unit:
    code: str
    name: str
    group: str
    short_name: str
    abbreviation: str


def build_units() -> list[Unit]:
    units = [
        Unit(code, name, "departments", short, abbr) for code, name, short, abbr in DEPARTMENTS
    ]
    units += [Unit(code, name, "districts", stat, "UBND") for code, name, stat in DISTRICTS]
    return units


# --------------------------------------------------------------------------------------------
# Criteria sets
# --------------------------------------------------------------------------------------------
# The sets are written as outlines, close to how the Decisions print them:
#
#   <code> <title>                                     a field or a criterion
#   <code> [<max> <kind> <evidence> <step>] <title>   a leaf
#   = <guidance>                                       (continued by further "=" lines)
#   - <shortfall>                                      why points are lost, for the council's notes
#
# <evidence> (self leaves only) names the kind of proof quoted when full points are given (see
# EVIDENCE_NOTES); <step> is the scoring granularity of the guidance: a leaf's score is always its
# maximum minus a whole number of steps. Survey leaves take any value with two decimals.
#
# The 2022 department set is the base. Codes of the base are the nodes' stable keys: the district
# set and the later years are derived by edits on these keys, and the published codes are
# renumbered, so a criterion keeps its identity (and its previous_code link) when it moves.

FIELD_POINTS = {
    "1": Decimal("10"),
    "2": Decimal("10"),
    "3": Decimal("14.5"),
    "4": Decimal("11"),
    "5": Decimal("16"),
    "6": Decimal("7"),
    "7": Decimal("16"),
    "8": Decimal("15.5"),
}

BASE_OUTLINE = """
1 Công tác chỉ đạo, điều hành cải cách hành chính
  1.1 Kế hoạch cải cách hành chính năm
    1.1.1 [1 self KH 0.5] Ban hành kế hoạch CCHC năm
      = Ban hành trước 31/12 năm trước: 1 điểm; ban hành chậm: 0,5 điểm; không ban hành: 0.
      - ban hành kế hoạch CCHC chậm so với thời hạn
    1.1.2 [1.5 self BC 0.25] Mức độ hoàn thành kế hoạch CCHC năm
      = Hoàn thành 100% nhiệm vụ: 1,5 điểm; mỗi nhiệm vụ chưa hoàn thành trừ 0,25 điểm.
      - còn nhiệm vụ trong kế hoạch CCHC chưa hoàn thành
    1.1.3 [0.5 self QĐ 0.5] Bố trí kinh phí thực hiện kế hoạch CCHC
      = Có bố trí kinh phí trong dự toán năm: 0,5 điểm; không bố trí: 0.
      - chưa bố trí kinh phí riêng cho nhiệm vụ CCHC
  1.2 Thông tin, báo cáo CCHC
    1.2.1 [1 self BC 0.5] Thực hiện đầy đủ, đúng thời hạn các báo cáo CCHC định kỳ
      = Đầy đủ, đúng hạn: 1 điểm; có báo cáo chậm hoặc thiếu: 0,5 điểm; không báo cáo: 0.
      - có báo cáo CCHC định kỳ gửi chậm so với thời hạn
    1.2.2 [0.5 self BC 0.5] Chất lượng báo cáo CCHC
      = Đủ nội dung, số liệu theo đề cương hướng dẫn: 0,5 điểm; thiếu nội dung, số liệu: 0.
      - báo cáo thiếu số liệu theo đề cương hướng dẫn
  1.3 Kiểm tra công tác CCHC
    1.3.1 [0.5 self KH 0.5] Ban hành kế hoạch kiểm tra CCHC
      = Ban hành trong quý I: 0,5 điểm; ban hành sau quý I hoặc không ban hành: 0.
      - ban hành kế hoạch kiểm tra CCHC sau quý I
    1.3.2 [1 self BC 0.5] Mức độ thực hiện kế hoạch kiểm tra CCHC
      = Kiểm tra đủ 100% đơn vị theo kế hoạch: 1 điểm; dưới 100%: 0,5 điểm; không kiểm tra: 0.
      - chưa kiểm tra đủ số đơn vị theo kế hoạch
    1.3.3 [0.5 self BC 0.5] Xử lý các vấn đề phát hiện qua kiểm tra
      = Xử lý hoặc kiến nghị xử lý 100% vấn đề phát hiện: 0,5 điểm; dưới 100%: 0.
      - chưa xử lý hết các vấn đề phát hiện qua kiểm tra
  1.4 Công tác tuyên truyền CCHC
    1.4.1 [0.5 self KH 0.5] Ban hành kế hoạch tuyên truyền CCHC
      = Ban hành trong quý I: 0,5 điểm; ban hành chậm hoặc không ban hành: 0.
      - ban hành kế hoạch tuyên truyền CCHC chậm
    1.4.2 [1 self BC 0.5] Mức độ thực hiện kế hoạch tuyên truyền CCHC
      = Hoàn thành 100% kế hoạch: 1 điểm; từ 80% đến dưới 100%: 0,5 điểm; dưới 80%: 0.
      - chưa thực hiện hết các hoạt động tuyên truyền theo kế hoạch
  1.5 Thực hiện nhiệm vụ CCHC được UBND thành phố giao
    1.5.1 [1 self BC 0.5] Tỷ lệ hoàn thành nhiệm vụ CCHC được UBND thành phố giao
      = Hoàn thành 100% đúng hạn: 1 điểm; có nhiệm vụ trễ hạn: 0,5 điểm;
      = có nhiệm vụ không hoàn thành: 0.
      - có nhiệm vụ được giao hoàn thành trễ hạn
  1.6 Đánh giá về công tác chỉ đạo, điều hành CCHC
    1.6.1 [1 survey] Đánh giá của đại biểu HĐND thành phố về công tác chỉ đạo, điều hành CCHC
      = Điểm điều tra xã hội học, quy đổi theo tỷ lệ ý kiến đánh giá tốt.
2 Xây dựng và tổ chức thực hiện văn bản quy phạm pháp luật
  2.1 Tham mưu xây dựng văn bản QPPL
    2.1.1 [1.5 self BC 0.25] Mức độ thực hiện chương trình xây dựng văn bản QPPL được giao
      = Hoàn thành 100% đúng hạn: 1,5 điểm; mỗi văn bản trễ hạn trừ 0,25 điểm.
      - có văn bản QPPL tham mưu ban hành trễ hạn so với chương trình
    2.1.2 [1.5 self BC 0.5] Thực hiện đúng quy trình xây dựng văn bản QPPL
      = Đúng quy trình lấy ý kiến, thẩm định: 1,5 điểm; mỗi văn bản sai quy trình trừ 0,5 điểm.
      - có dự thảo chưa lấy ý kiến đối tượng chịu tác động theo quy định
  2.2 Rà soát, hệ thống hóa văn bản QPPL
    2.2.1 [0.5 self KH 0.5] Ban hành kế hoạch rà soát, hệ thống hóa văn bản QPPL
      = Ban hành trong quý I: 0,5 điểm; ban hành chậm hoặc không ban hành: 0.
      - ban hành kế hoạch rà soát văn bản sau quý I
    2.2.2 [1 self BC 0.5] Mức độ thực hiện kế hoạch rà soát, hệ thống hóa văn bản QPPL
      = Hoàn thành 100% kế hoạch: 1 điểm; từ 70% đến dưới 100%: 0,5 điểm; dưới 70%: 0.
      - chưa hoàn thành toàn bộ kế hoạch rà soát
    2.2.3 [1 self CV 0.5] Xử lý, kiến nghị xử lý kết quả rà soát
      = Xử lý hoặc kiến nghị xử lý 100% văn bản phát hiện: 1 điểm; dưới 100%: 0,5 điểm.
      - chưa kiến nghị xử lý hết các văn bản phát hiện qua rà soát
  2.3 Theo dõi tình hình thi hành pháp luật
    2.3.1 [0.5 self KH 0.5] Ban hành kế hoạch theo dõi thi hành pháp luật
      = Ban hành đúng thời hạn: 0,5 điểm; ban hành chậm hoặc không ban hành: 0.
      - ban hành kế hoạch theo dõi thi hành pháp luật chậm
    2.3.2 [1 self BC 0.5] Mức độ thực hiện kế hoạch theo dõi thi hành pháp luật
      = Hoàn thành 100% kế hoạch: 1 điểm; từ 70% đến dưới 100%: 0,5 điểm; dưới 70%: 0.
      - chưa thực hiện đủ nội dung kế hoạch theo dõi thi hành pháp luật
    2.3.3 [0.5 self BC 0.5] Xử lý kết quả theo dõi thi hành pháp luật
      = Xử lý hoặc kiến nghị xử lý 100% vấn đề phát hiện: 0,5 điểm; dưới 100%: 0.
      - chưa kiến nghị xử lý hết vấn đề phát hiện khi theo dõi thi hành pháp luật
  2.4 Kiểm tra, xử lý văn bản QPPL
    2.4.1 [1 self BC 0.5] Tự kiểm tra văn bản QPPL do đơn vị tham mưu ban hành
      = Tự kiểm tra 100% văn bản: 1 điểm; dưới 100%: 0,5 điểm; không tự kiểm tra: 0.
      - chưa tự kiểm tra hết văn bản thuộc phạm vi
    2.4.2 [1.5 self BC 0.25] Xử lý văn bản trái pháp luật phát hiện qua kiểm tra
      = Xử lý 100% văn bản trái pháp luật đúng hạn: 1,5 điểm;
      = mỗi văn bản xử lý chậm trừ 0,25 điểm.
      - xử lý văn bản trái pháp luật chậm so với thời hạn
3 Cải cách thủ tục hành chính
  3.1 Rà soát, đánh giá, đơn giản hóa TTHC
    3.1.1 [0.5 self KH 0.5] Ban hành kế hoạch rà soát, đánh giá TTHC
      = Ban hành trong quý I: 0,5 điểm; ban hành chậm hoặc không ban hành: 0.
      - ban hành kế hoạch rà soát TTHC sau quý I
    3.1.2 [1 self BC 0.5] Mức độ thực hiện kế hoạch rà soát, đánh giá TTHC
      = Hoàn thành 100% kế hoạch: 1 điểm; từ 80% đến dưới 100%: 0,5 điểm; dưới 80%: 0.
      - chưa rà soát hết TTHC theo kế hoạch
    3.1.3 [1.5 self CV 0.75] Đề xuất phương án đơn giản hóa TTHC
      = Có phương án được cấp có thẩm quyền thông qua: 1,5 điểm;
      = có đề xuất chưa được thông qua: 0,75 điểm; không có: 0.
      - phương án đơn giản hóa TTHC đề xuất chưa được thông qua
  3.2 Công bố, công khai TTHC
    3.2.1 [1.5 self QĐ 0.75] Tham mưu công bố danh mục TTHC đúng thời hạn
      = Tham mưu công bố đúng hạn 100% TTHC: 1,5 điểm; có TTHC công bố chậm: 0,75 điểm.
      - có TTHC tham mưu công bố chậm so với ngày văn bản quy định có hiệu lực
    3.2.2 [1.5 self HT 0.25] Công khai TTHC trên Cổng Dịch vụ công và tại nơi tiếp nhận hồ sơ
      = Công khai đầy đủ, đúng quy định: 1,5 điểm; mỗi TTHC công khai thiếu, sai trừ 0,25 điểm.
      - còn TTHC chưa cập nhật kịp thời trên Cổng Dịch vụ công
  3.3 Thực hiện cơ chế một cửa, một cửa liên thông
    3.3.1 [1 self HT 0.5] Tỷ lệ TTHC tiếp nhận, trả kết quả tại Trung tâm Phục vụ hành chính công
      = Đưa 100% TTHC đủ điều kiện vào Trung tâm: 1 điểm; từ 90% đến dưới 100%: 0,5 điểm;
      = dưới 90%: 0.
      - chưa đưa hết TTHC đủ điều kiện vào Trung tâm Phục vụ hành chính công
    3.3.2 [2 self HT 0.25] Tỷ lệ hồ sơ TTHC được giải quyết đúng hạn
      = 100% hồ sơ đúng hạn: 2 điểm; mỗi 1% hồ sơ trễ hạn trừ 0,25 điểm.
      - còn hồ sơ giải quyết trễ hạn trên Hệ thống thông tin giải quyết TTHC
    3.3.3 [1 self CV 0.5] Xin lỗi người dân, tổ chức khi giải quyết hồ sơ trễ hạn
      = Có văn bản xin lỗi 100% hồ sơ trễ hạn hoặc không có hồ sơ trễ hạn: 1 điểm;
      = dưới 100%: 0,5 điểm.
      - có hồ sơ trễ hạn chưa có văn bản xin lỗi
    3.3.4 [1.5 self HT 0.25] Số hóa hồ sơ, kết quả giải quyết TTHC
      = Số hóa 100% kết quả giải quyết TTHC còn hiệu lực: 1,5 điểm;
      = mỗi 5% thấp hơn trừ 0,25 điểm.
      - tỷ lệ số hóa kết quả giải quyết TTHC chưa đạt 100%
  3.4 Tiếp nhận, xử lý phản ánh, kiến nghị về TTHC
    3.4.1 [1 self TB 0.5] Công khai địa chỉ tiếp nhận phản ánh, kiến nghị về quy định hành chính
      = Công khai đầy đủ tại trụ sở và trên Cổng thông tin điện tử: 1 điểm;
      = công khai chưa đầy đủ: 0,5 điểm.
      - chưa công khai địa chỉ tiếp nhận trên Cổng thông tin điện tử của đơn vị
    3.4.2 [2 self HT 0.25] Tỷ lệ phản ánh, kiến nghị được xử lý đúng hạn
      = Xử lý đúng hạn 100%: 2 điểm; mỗi phản ánh, kiến nghị xử lý trễ hạn trừ 0,25 điểm.
      - có phản ánh, kiến nghị xử lý trễ hạn
4 Cải cách tổ chức bộ máy hành chính nhà nước
  4.1 Tổ chức bộ máy
    4.1.1 [1.5 self QĐ 0.75] Thực hiện quy định về chức năng, nhiệm vụ và cơ cấu tổ chức
      = Trình ban hành quy định đúng thời hạn: 1,5 điểm; chậm: 0,75 điểm; không thực hiện: 0.
      - trình quy định chức năng, nhiệm vụ của phòng chuyên môn chậm
    4.1.2 [2.5 self QĐ 0.5] Sắp xếp, kiện toàn các phòng chuyên môn, đơn vị sự nghiệp trực thuộc
      = Hoàn thành 100% lộ trình sắp xếp: 2,5 điểm; mỗi nội dung chậm tiến độ trừ 0,5 điểm.
      - còn nội dung sắp xếp đơn vị trực thuộc chậm tiến độ
  4.2 Quản lý, sử dụng biên chế
    4.2.1 [1.5 self BC 0.75] Sử dụng biên chế công chức không vượt số được giao
      = Không vượt số giao và báo cáo đúng hạn: 1,5 điểm; báo cáo chậm: 0,75 điểm;
      = vượt số giao: 0.
      - báo cáo tình hình sử dụng biên chế chậm
    4.2.2 [1.5 self BC 0.5] Thực hiện tinh giản biên chế theo kế hoạch
      = Đạt 100% chỉ tiêu tinh giản: 1,5 điểm; mỗi 10% chưa đạt trừ 0,5 điểm.
      - chưa đạt chỉ tiêu tinh giản biên chế theo lộ trình
    4.2.3 [1 self QĐ 0.5] Thực hiện vị trí việc làm được cấp có thẩm quyền phê duyệt
      = Thực hiện đúng danh mục vị trí việc làm: 1 điểm; có vị trí bố trí chưa đúng: 0,5 điểm.
      - có vị trí việc làm bố trí chưa đúng danh mục được phê duyệt
  4.3 Thực hiện phân cấp, ủy quyền
    4.3.1 [1.5 self BC 0.75] Thực hiện các nhiệm vụ được phân cấp, ủy quyền
      = Thực hiện đầy đủ, đúng quy định: 1,5 điểm; có nhiệm vụ thực hiện chưa đúng: 0,75 điểm.
      - có nhiệm vụ được phân cấp thực hiện chưa đúng tiến độ
    4.3.2 [1.5 self BC 0.75] Kiểm tra, đánh giá việc thực hiện nhiệm vụ được phân cấp
      = Có kiểm tra, đánh giá và xử lý kết quả: 1,5 điểm;
      = có kiểm tra nhưng chưa xử lý kết quả: 0,75 điểm; không kiểm tra: 0.
      - chưa xử lý kết quả kiểm tra việc thực hiện phân cấp
5 Xây dựng và nâng cao chất lượng đội ngũ cán bộ, công chức, viên chức
  5.1 Vị trí việc làm và cơ cấu ngạch công chức
    5.1.1 [1 self BC 0.5] Bố trí công chức theo vị trí việc làm được phê duyệt
      = Bố trí đúng 100%: 1 điểm; có trường hợp bố trí chưa đúng: 0,5 điểm.
      - có công chức bố trí chưa phù hợp vị trí việc làm
    5.1.2 [1 self BC 0.5] Thực hiện cơ cấu ngạch công chức theo quy định
      = Đúng cơ cấu ngạch được phê duyệt: 1 điểm; chưa đúng: 0,5 điểm.
      - cơ cấu ngạch công chức chưa đúng đề án được phê duyệt
  5.2 Tuyển dụng, bổ nhiệm
    5.2.1 [1.5 self BC 0.75] Thực hiện quy định về tuyển dụng công chức, viên chức
      = Đúng quy định: 1,5 điểm; có sai sót về trình tự, thủ tục: 0,75 điểm; vi phạm: 0.
      - hồ sơ tuyển dụng viên chức còn sai sót về trình tự, thủ tục
    5.2.2 [1.5 self QĐ 0.75] Thực hiện quy định về bổ nhiệm, bổ nhiệm lại công chức lãnh đạo
      = Đúng quy định và thời hạn: 1,5 điểm; có trường hợp bổ nhiệm lại chậm: 0,75 điểm;
      = vi phạm: 0.
      - có trường hợp bổ nhiệm lại chậm so với thời hạn
  5.3 Đánh giá, xếp loại cán bộ, công chức, viên chức
    5.3.1 [1.5 self BC 0.75] Đánh giá, xếp loại chất lượng CBCCVC đúng quy định và thời hạn
      = Đúng quy định và thời hạn: 1,5 điểm; đúng quy định nhưng chậm: 0,75 điểm;
      = sai quy định: 0.
      - báo cáo kết quả đánh giá, xếp loại CBCCVC chậm
    5.3.2 [1.5 self BC 0.75] Thực hiện chế độ, chính sách theo kết quả đánh giá
      = Thực hiện đầy đủ, kịp thời: 1,5 điểm; chưa kịp thời: 0,75 điểm; không thực hiện: 0.
      - thực hiện chế độ theo kết quả đánh giá chưa kịp thời
  5.4 Đào tạo, bồi dưỡng cán bộ, công chức, viên chức
    5.4.1 [1 self KH 0.5] Ban hành kế hoạch đào tạo, bồi dưỡng CBCCVC năm
      = Ban hành trong quý I: 1 điểm; ban hành chậm: 0,5 điểm; không ban hành: 0.
      - ban hành kế hoạch đào tạo, bồi dưỡng sau quý I
    5.4.2 [2 self BC 0.25] Mức độ hoàn thành kế hoạch đào tạo, bồi dưỡng
      = Hoàn thành 100%: 2 điểm; mỗi 5% chưa hoàn thành trừ 0,25 điểm.
      - chưa hoàn thành đủ chỉ tiêu đào tạo, bồi dưỡng theo kế hoạch
  5.5 Kỷ luật, kỷ cương hành chính
    5.5.1 [1 self CV 0.5] Ban hành văn bản chấn chỉnh kỷ luật, kỷ cương hành chính
      = Có văn bản chỉ đạo và tự kiểm tra: 1 điểm; có văn bản nhưng không tự kiểm tra: 0,5 điểm.
      - chưa tổ chức tự kiểm tra việc chấp hành kỷ luật, kỷ cương
    5.5.2 [2 self BC 0.5] Chấp hành kỷ luật, kỷ cương hành chính của CBCCVC
      = Không có CBCCVC bị kỷ luật: 2 điểm; mỗi trường hợp bị kỷ luật trừ 0,5 điểm.
      - có công chức bị xử lý kỷ luật trong năm
  5.6 Đánh giá về đội ngũ cán bộ, công chức
    5.6.1 [2 survey] Đánh giá của người dân, tổ chức về tinh thần, thái độ phục vụ của công chức
      = Điểm điều tra xã hội học, quy đổi theo tỷ lệ ý kiến hài lòng.
6 Cải cách tài chính công
  6.1 Thực hiện dự toán ngân sách nhà nước
    6.1.1 [1.5 self BC 0.25] Tỷ lệ giải ngân kế hoạch vốn đầu tư công, kinh phí được giao
      = Giải ngân 100%: 1,5 điểm; mỗi 5% thấp hơn trừ 0,25 điểm.
      - tỷ lệ giải ngân kinh phí được giao chưa đạt 100%
    6.1.2 [1.5 self TB 0.75] Thực hiện công khai dự toán, quyết toán ngân sách
      = Công khai đầy đủ, đúng thời hạn: 1,5 điểm; công khai chậm hoặc thiếu: 0,75 điểm;
      = không công khai: 0.
      - công khai quyết toán ngân sách chậm
  6.2 Thực hiện cơ chế tự chủ, tự chịu trách nhiệm
    6.2.1 [1 self QĐ 0.5] Ban hành và thực hiện quy chế chi tiêu nội bộ của cơ quan
      = Ban hành, cập nhật đúng quy định: 1 điểm; chưa cập nhật theo quy định mới: 0,5 điểm.
      - quy chế chi tiêu nội bộ chưa cập nhật theo quy định mới
    6.2.2 [1 self QĐ 0.5] Thực hiện cơ chế tự chủ tại đơn vị sự nghiệp công lập trực thuộc
      = 100% đơn vị được giao tự chủ đúng lộ trình: 1 điểm; chưa đúng lộ trình: 0,5 điểm.
      - còn đơn vị sự nghiệp chưa được giao tự chủ đúng lộ trình
  6.3 Quản lý, sử dụng tài sản công
    6.3.1 [1 self QĐ 0.5] Ban hành quy chế quản lý, sử dụng tài sản công
      = Ban hành đúng quy định: 1 điểm; ban hành chậm hoặc chưa đầy đủ: 0,5 điểm.
      - quy chế quản lý tài sản công chưa đầy đủ nội dung
    6.3.2 [1 self BC 0.5] Thực hiện kiến nghị của cơ quan thanh tra, kiểm toán về tài chính
      = Thực hiện 100% kiến nghị: 1 điểm; thực hiện chưa đầy đủ: 0,5 điểm.
      - chưa thực hiện đầy đủ kiến nghị của cơ quan thanh tra, kiểm toán
7 Hiện đại hóa hành chính
  7.1 Ứng dụng công nghệ thông tin, chuyển đổi số trong hoạt động của cơ quan
    7.1.1 [1 self VB 0.25] Tỷ lệ văn bản trao đổi giữa các cơ quan dưới dạng điện tử
      = Đạt 100% (trừ văn bản mật): 1 điểm; mỗi 5% thấp hơn trừ 0,25 điểm.
      - còn văn bản gửi bằng giấy song song với bản điện tử
    7.1.2 [1 self VB 0.5] Sử dụng chữ ký số trong gửi, nhận văn bản điện tử
      = 100% văn bản đi có chữ ký số: 1 điểm; dưới 100%: 0,5 điểm.
      - còn văn bản đi chưa ký số
    7.1.3 [1 self KH 0.5] Ban hành kế hoạch chuyển đổi số năm
      = Ban hành trong quý I: 1 điểm; ban hành chậm: 0,5 điểm; không ban hành: 0.
      - ban hành kế hoạch chuyển đổi số sau quý I
  7.2 Cung cấp dịch vụ công trực tuyến
    7.2.1 [1.5 self HT 0.25] Tỷ lệ TTHC cung cấp dịch vụ công trực tuyến mức độ 3, 4
      = Đạt chỉ tiêu thành phố giao: 1,5 điểm; mỗi 5% thấp hơn chỉ tiêu trừ 0,25 điểm.
      - tỷ lệ dịch vụ công trực tuyến chưa đạt chỉ tiêu được giao
    7.2.2 [1.5 self HT 0.25] Tỷ lệ hồ sơ TTHC được tiếp nhận, xử lý trực tuyến
      = Đạt từ 50% trở lên: 1,5 điểm; mỗi 5% thấp hơn trừ 0,25 điểm.
      - tỷ lệ hồ sơ tiếp nhận trực tuyến chưa đạt 50%
    7.2.3 [1 self HT 0.5] Tỷ lệ hồ sơ thanh toán trực tuyến phí, lệ phí
      = Đạt từ 30% trở lên: 1 điểm; từ 20% đến dưới 30%: 0,5 điểm; dưới 20%: 0.
      - tỷ lệ thanh toán trực tuyến chưa đạt 30%
    7.2.4 [1 self HT 0.5] Kết nối, tích hợp dịch vụ công trực tuyến với Cổng Dịch vụ công quốc gia
      = Tích hợp 100% dịch vụ công trực tuyến: 1 điểm; dưới 100%: 0,5 điểm.
      - còn dịch vụ công trực tuyến chưa tích hợp lên Cổng Dịch vụ công quốc gia
  7.3 Áp dụng hệ thống quản lý chất lượng theo TCVN ISO 9001:2015
    7.3.1 [1 self QĐ 0.5] Duy trì, cải tiến hệ thống quản lý chất lượng
      = Duy trì, cải tiến đúng quy định: 1 điểm;
      = chưa cập nhật quy trình khi TTHC thay đổi: 0,5 điểm.
      - chưa cập nhật quy trình ISO khi TTHC thay đổi
    7.3.2 [1 self QĐ 0.5] Công bố hệ thống quản lý chất lượng phù hợp tiêu chuẩn
      = Công bố đúng thời hạn: 1 điểm; công bố chậm: 0,5 điểm; không công bố: 0.
      - công bố lại hệ thống quản lý chất lượng chậm
  7.4 Đánh giá về hiện đại hóa hành chính
    7.4.1 [2 survey] Đánh giá của người dân về sự thuận tiện khi sử dụng dịch vụ công trực tuyến
      = Điểm điều tra xã hội học, quy đổi theo tỷ lệ ý kiến hài lòng.
    7.4.2 [2 survey] Đánh giá của người dân về thông tin trên Cổng thông tin điện tử của đơn vị
      = Điểm điều tra xã hội học, quy đổi theo tỷ lệ ý kiến hài lòng.
    7.4.3 [2 survey] Đánh giá của doanh nghiệp về thanh toán trực tuyến phí, lệ phí
      = Điểm điều tra xã hội học, quy đổi theo tỷ lệ ý kiến hài lòng.
8 Tác động của cải cách hành chính đến người dân, tổ chức và phát triển kinh tế – xã hội
  8.1 Sự hài lòng của người dân, tổ chức đối với sự phục vụ của đơn vị
    8.1.1 [1.5 survey] Hài lòng về tiếp cận dịch vụ hành chính công
      = Điểm khảo sát SIPAS, quy đổi theo tỷ lệ người dân, tổ chức hài lòng.
    8.1.2 [1.5 survey] Hài lòng về thủ tục hành chính
      = Điểm khảo sát SIPAS, quy đổi theo tỷ lệ người dân, tổ chức hài lòng.
    8.1.3 [1.5 survey] Hài lòng về công chức trực tiếp giải quyết công việc
      = Điểm khảo sát SIPAS, quy đổi theo tỷ lệ người dân, tổ chức hài lòng.
    8.1.4 [1.5 survey] Hài lòng về kết quả cung ứng dịch vụ hành chính công
      = Điểm khảo sát SIPAS, quy đổi theo tỷ lệ người dân, tổ chức hài lòng.
    8.1.5 [1.5 survey] Hài lòng về tiếp nhận, giải quyết góp ý, phản ánh, kiến nghị
      = Điểm khảo sát SIPAS, quy đổi theo tỷ lệ người dân, tổ chức hài lòng.
  8.2 Tác động đến quản lý nhà nước của ngành, lĩnh vực
    8.2.1 [2 self BC 0.5] Mức độ thực hiện các chỉ tiêu phát triển kinh tế – xã hội của ngành
      = Đạt 100% chỉ tiêu được giao: 2 điểm; mỗi chỉ tiêu không đạt trừ 0,5 điểm.
      - có chỉ tiêu phát triển kinh tế – xã hội của ngành không đạt
    8.2.2 [1 self HT 0.25] Tỷ lệ phản ánh, kiến nghị của người dân được giải quyết dứt điểm
      = Giải quyết 100%: 1 điểm; mỗi 5% thấp hơn trừ 0,25 điểm.
      - còn phản ánh, kiến nghị chưa được giải quyết dứt điểm
    8.2.3 [1 self BC 0.5] Cải thiện Chỉ số năng lực cạnh tranh cấp sở, ngành (DDCI)
      = Điểm DDCI tăng so với năm trước: 1 điểm; không tăng: 0,5 điểm.
      - điểm DDCI của đơn vị không tăng so với năm trước
  8.3 Đánh giá của lãnh đạo thành phố và của công chức
    8.3.1 [2 survey] Đánh giá của lãnh đạo UBND thành phố về chất lượng tham mưu của đơn vị
      = Điểm điều tra xã hội học, quy đổi theo tỷ lệ ý kiến đánh giá tốt.
    8.3.2 [2 survey] Đánh giá của công chức về môi trường làm việc tại đơn vị
      = Điểm điều tra xã hội học, quy đổi theo tỷ lệ ý kiến hài lòng.
9 Điểm thưởng, điểm trừ
  9.1 Điểm thưởng
    9.1.1 [2 bonus 0.5] Có sáng kiến, mô hình, giải pháp mới trong CCHC được công nhận
      = Mỗi sáng kiến, mô hình được Hội đồng sáng kiến thành phố công nhận: 0,5 điểm;
      = tối đa 2 điểm.
  9.2 Điểm trừ
    9.2.1 [2 penalty 0.25] Để xảy ra vi phạm trong thực hiện nhiệm vụ CCHC bị kết luận
      = Mỗi vi phạm được cơ quan có thẩm quyền kết luận trừ 0,25 điểm; tối đa 2 điểm.
"""

# Districts: field 3 has one-stop shops of the communes and land procedures.
DISTRICT_FIELD_3 = """
3 Cải cách thủ tục hành chính
  3.1 Rà soát, đánh giá, đơn giản hóa TTHC
    3.1.1 [0.5 self KH 0.5] Ban hành kế hoạch rà soát, đánh giá TTHC
      = Ban hành trong quý I: 0,5 điểm; ban hành chậm hoặc không ban hành: 0.
      - ban hành kế hoạch rà soát TTHC sau quý I
    3.1.2 [1 self BC 0.5] Mức độ thực hiện kế hoạch rà soát, đánh giá TTHC
      = Hoàn thành 100% kế hoạch: 1 điểm; từ 80% đến dưới 100%: 0,5 điểm; dưới 80%: 0.
      - chưa rà soát hết TTHC theo kế hoạch
    3.1.3 [1 self CV 0.5] Đề xuất phương án đơn giản hóa TTHC thuộc thẩm quyền cấp huyện, cấp xã
      = Có phương án được cấp có thẩm quyền thông qua: 1 điểm;
      = có đề xuất chưa được thông qua: 0,5 điểm; không có: 0.
      - phương án đơn giản hóa TTHC đề xuất chưa được thông qua
  3.2 Công khai TTHC
    3.2.1 [1.5 self HT 0.25] Công khai TTHC tại Bộ phận Một cửa cấp huyện, cấp xã
      = Công khai đầy đủ, đúng quy định: 1,5 điểm; mỗi đơn vị công khai thiếu, sai trừ 0,25 điểm.
      - còn Bộ phận Một cửa cấp xã công khai TTHC chưa đầy đủ
    3.2.2 [1.5 self HT 0.25] Cập nhật tiến độ giải quyết hồ sơ TTHC trên Hệ thống thông tin
      = 100% hồ sơ được cập nhật tiến độ: 1,5 điểm; mỗi 5% thấp hơn trừ 0,25 điểm.
      - còn hồ sơ chưa cập nhật tiến độ giải quyết trên Hệ thống
  3.3 Thực hiện cơ chế một cửa, một cửa liên thông
    3.3.1 [1 self HT 0.5] Tỷ lệ TTHC tiếp nhận, trả kết quả tại Bộ phận Một cửa cấp huyện
      = Đưa 100% TTHC đủ điều kiện vào Bộ phận Một cửa: 1 điểm; từ 90% đến dưới 100%: 0,5 điểm;
      = dưới 90%: 0.
      - chưa đưa hết TTHC đủ điều kiện vào Bộ phận Một cửa
    3.3.2 [2 self HT 0.25] Tỷ lệ hồ sơ TTHC được giải quyết đúng hạn
      = 100% hồ sơ đúng hạn: 2 điểm; mỗi 1% hồ sơ trễ hạn trừ 0,25 điểm.
      - còn hồ sơ giải quyết trễ hạn trên Hệ thống thông tin giải quyết TTHC
    3.3.3 [0.5 self CV 0.5] Xin lỗi người dân, tổ chức khi giải quyết hồ sơ trễ hạn
      = Có văn bản xin lỗi 100% hồ sơ trễ hạn hoặc không có hồ sơ trễ hạn: 0,5 điểm;
      = dưới 100%: 0.
      - có hồ sơ trễ hạn chưa có văn bản xin lỗi
    3.3.4 [1 self HT 0.25] Số hóa hồ sơ, kết quả giải quyết TTHC
      = Số hóa 100% kết quả giải quyết TTHC còn hiệu lực: 1 điểm;
      = mỗi 5% thấp hơn trừ 0,25 điểm.
      - tỷ lệ số hóa kết quả giải quyết TTHC chưa đạt 100%
    3.3.5 [1 self QĐ 0.5] Bố trí công chức, trang thiết bị tại Bộ phận Một cửa cấp xã
      = 100% xã, phường, thị trấn đạt yêu cầu: 1 điểm; còn đơn vị chưa đạt: 0,5 điểm.
      - còn Bộ phận Một cửa cấp xã chưa đủ trang thiết bị theo quy định
  3.4 Tiếp nhận, xử lý phản ánh, kiến nghị về TTHC
    3.4.1 [0.5 self TB 0.5] Công khai địa chỉ tiếp nhận phản ánh, kiến nghị về quy định hành chính
      = Công khai đầy đủ tại trụ sở UBND cấp huyện, cấp xã: 0,5 điểm; chưa đầy đủ: 0.
      - còn trụ sở UBND cấp xã chưa niêm yết địa chỉ tiếp nhận phản ánh
    3.4.2 [1.5 self HT 0.25] Tỷ lệ phản ánh, kiến nghị được xử lý đúng hạn
      = Xử lý đúng hạn 100%: 1,5 điểm; mỗi phản ánh, kiến nghị xử lý trễ hạn trừ 0,25 điểm.
      - có phản ánh, kiến nghị xử lý trễ hạn
  3.5 Giải quyết TTHC lĩnh vực đất đai
    3.5.1 [1 self HT 0.25] Tỷ lệ hồ sơ cấp Giấy chứng nhận quyền sử dụng đất giải quyết đúng hạn
      = Đúng hạn 100%: 1 điểm; mỗi 5% hồ sơ trễ hạn trừ 0,25 điểm.
      - còn hồ sơ cấp Giấy chứng nhận quyền sử dụng đất trễ hạn
    3.5.2 [0.5 self HT 0.25] Tỷ lệ hồ sơ đăng ký biến động đất đai được giải quyết đúng hạn
      = Đúng hạn 100%: 0,5 điểm; mỗi 5% hồ sơ trễ hạn trừ 0,25 điểm.
      - còn hồ sơ đăng ký biến động đất đai trễ hạn
"""

# Districts: criteria reworded for a district People's Committee (key -> changed attributes).
DISTRICT_CHANGES = {
    "2.1.1": {
        "title": "Mức độ thực hiện chương trình xây dựng văn bản QPPL của HĐND, UBND quận, huyện",
    },
    "2.4.1": {
        "title": "Kiểm tra văn bản QPPL do HĐND, UBND xã, phường, thị trấn ban hành",
        "guidance": "Kiểm tra 100% văn bản của cấp xã: 1 điểm; dưới 100%: 0,5 điểm; "
        "không kiểm tra: 0.",
        "shortfall": "chưa kiểm tra hết văn bản QPPL của cấp xã",
    },
    "4.3.2": {"title": "Kiểm tra việc thực hiện nhiệm vụ phân cấp cho UBND xã, phường, thị trấn"},
    "5.1.2": {
        "title": "Bố trí số lượng cán bộ, công chức cấp xã theo quy định",
        "guidance": "Đúng số lượng quy định: 1 điểm; vượt hoặc thiếu so với quy định: 0,5 điểm.",
        "shortfall": "còn xã bố trí vượt số lượng công chức quy định",
    },
    "6.2.2": {
        "title": "Thực hiện cơ chế tự chủ tại trường học, đơn vị sự nghiệp công lập trực thuộc"
    },
    "8.2.1": {
        "title": "Mức độ thực hiện các chỉ tiêu kinh tế – xã hội do HĐND quận, huyện giao",
        "shortfall": "có chỉ tiêu phát triển kinh tế – xã hội của địa phương không đạt",
    },
    "8.2.3": {
        "title": "Tác động của CCHC đến thu hút đầu tư, phát triển doanh nghiệp trên địa bàn",
        "guidance": "Số doanh nghiệp thành lập mới tăng so với năm trước: 1 điểm; không tăng: "
        "0,5 điểm.",
        "shortfall": "số doanh nghiệp thành lập mới trên địa bàn không tăng",
    },
    "8.3.1": {
        "title": "Đánh giá của lãnh đạo UBND thành phố về chỉ đạo, điều hành của địa phương",
    },
}

# 2023: a new leaf in field 1 takes the points of the dropped one.
ADDED_2023 = """
    1.4.3 [0.5 self CT 0.5] Tuyên truyền CCHC trên Cổng thông tin điện tử và mạng xã hội
      = Có chuyên mục CCHC cập nhật thường xuyên: 0,5 điểm; không có hoặc không cập nhật: 0.
      - chuyên mục CCHC trên Cổng thông tin điện tử chưa cập nhật thường xuyên
"""

# Full-points notes by evidence kind; {n}, {abbr} and {date} are filled in per unit.
EVIDENCE_NOTES = {
    "KH": "Có Kế hoạch số {n}/KH-{abbr} ngày {date}",
    "BC": "Có Báo cáo số {n}/BC-{abbr} ngày {date}",
    "QĐ": "Có Quyết định số {n}/QĐ-{abbr} ngày {date}",
    "CV": "Có Công văn số {n}/{abbr}-VP ngày {date}",
    "TB": "Có Thông báo số {n}/TB-{abbr} ngày {date}",
    "HT": "Đạt yêu cầu theo số liệu trên Hệ thống thông tin giải quyết TTHC thành phố",
    "VB": "Đạt yêu cầu theo số liệu trên Hệ thống quản lý văn bản và điều hành",
    "CT": "Có chuyên mục CCHC trên Cổng thông tin điện tử, cập nhật thường xuyên",
}

KINDS = ("self", "survey", "bonus", "penalty")
SCORED_KINDS = ("self", "survey")  # the leaves that make up the maximum


@dataclass(frozen=True)
class Node:
    """A field, criterion or sub-criterion; leaves have max_points and a kind."""

    key: str
    title: str
    max_points: Decimal | None = None
    kind: str = ""
    evidence: str = ""
    step: Decimal | None = None
    guidance: str = ""
    shortfall: str = ""

    @property
    def parent_key(self) -> str:
        return self.key.rpartition(".")[0]

    @property
    def field_key(self) -> str:
        return self.key.split(".")[0]

    @property
    def is_leaf(self) -> bool:
        return self.max_points is not None


LEAF_LINE = re.compile(r"^(?P<key>[\d.]+) \[(?P<spec>[^\]]+)\] (?P<title>.+)$")
PARENT_LINE = re.compile(r"^(?P<key>[\d.]+) (?P<title>.+)$")


def parse_leaf(key: str, title: str, spec: list[str]) -> Node:
    max_points, kind, *rest = spec
    if kind not in KINDS:
        raise ValueError(f"{key}: unknown kind {kind!r}")
    evidence = rest.pop(0) if kind == "self" else ""
    if evidence and evidence not in EVIDENCE_NOTES:
        raise ValueError(f"{key}: unknown evidence {evidence!r}")
    step = Decimal(rest[0]) if rest else CENT
    leaf = Node(key, title, Decimal(max_points), kind, evidence, step)
    if leaf.max_points % step:
        raise ValueError(f"{key}: maximum {max_points} is not a multiple of the step {step}")
    return leaf


def parse_outline(text: str) -> list[Node]:
    nodes: list[Node] = []
    for raw in text.strip().splitlines():
        line = raw.strip()
        if line.startswith("= "):
            guidance = f"{nodes[-1].guidance} {line[2:]}".strip()
            nodes[-1] = replace(nodes[-1], guidance=guidance)
        elif line.startswith("- "):
            nodes[-1] = replace(nodes[-1], shortfall=line[2:])
        elif match := LEAF_LINE.match(line):
            nodes.append(parse_leaf(match["key"], match["title"], match["spec"].split()))
        elif match := PARENT_LINE.match(line):
            nodes.append(Node(match["key"], match["title"]))
        else:
            raise ValueError(f"unreadable outline line: {raw!r}")
    return nodes


def position(nodes: list[Node], key: str) -> int:
    return next(i for i, node in enumerate(nodes) if node.key == key)


def subtree_end(nodes: list[Node], key: str) -> int:
    """Index just after the node and its descendants (the list is in pre-order)."""
    end = position(nodes, key) + 1
    while end < len(nodes) and nodes[end].key.startswith(f"{key}."):
        end += 1
    return end


def update(nodes: list[Node], key: str, **changes) -> list[Node]:
    index = position(nodes, key)
    return [*nodes[:index], replace(nodes[index], **changes), *nodes[index + 1 :]]


def drop(nodes: list[Node], key: str) -> list[Node]:
    return [*nodes[: position(nodes, key)], *nodes[subtree_end(nodes, key) :]]


def insert_after(nodes: list[Node], key: str, new: list[Node]) -> list[Node]:
    end = subtree_end(nodes, key)
    return [*nodes[:end], *new, *nodes[end:]]


def replace_subtree(nodes: list[Node], key: str, new: list[Node]) -> list[Node]:
    start = position(nodes, key)
    return [*nodes[:start], *new, *nodes[subtree_end(nodes, key) :]]


def district_nodes(nodes: list[Node]) -> list[Node]:
    nodes = replace_subtree(nodes, "3", parse_outline(DISTRICT_FIELD_3))
    for key, changes in DISTRICT_CHANGES.items():
        nodes = update(nodes, key, **changes)
    return nodes


def nodes_2023(nodes: list[Node]) -> list[Node]:
    # Decree 42/2022 replaced "levels 3 and 4" of online services by "full" and "partial".
    nodes = update(nodes, "7.2.1", title="Cung cấp dịch vụ công trực tuyến toàn trình")
    # Points shift inside field 7: online payment weighs more, the integration less.
    nodes = update(
        nodes,
        "7.2.3",
        max_points=Decimal("1.5"),
        step=QUARTER,
        guidance="Đạt từ 30% trở lên: 1,5 điểm; mỗi 5% thấp hơn trừ 0,25 điểm.",
    )
    nodes = update(
        nodes,
        "7.2.4",
        max_points=Decimal("0.5"),
        step=Decimal("0.5"),
        guidance="Tích hợp 100% dịch vụ công trực tuyến: 0,5 điểm; dưới 100%: 0.",
    )
    # The inspection plan is no longer scored on its own; online communication is.
    nodes = drop(nodes, "1.3.1")
    return insert_after(nodes, "1.4.2", parse_outline(ADDED_2023))


def nodes_2024(nodes: list[Node]) -> list[Node]:
    return update(
        nodes, "7.2.2", title="Tỷ lệ hồ sơ TTHC được tiếp nhận, xử lý trực tuyến toàn trình"
    )


@dataclass
class CriteriaSet:
    year: int
    group: str
    nodes: list[Node]
    previous: "CriteriaSet | None" = None
    codes: dict[str, str] = field(init=False)
    maxima: dict[str, Decimal] = field(init=False)

    def __post_init__(self) -> None:
        self.codes = number_nodes(self.nodes)
        self.maxima = sum_maxima(self.nodes)

    @property
    def leaves(self) -> list[Node]:
        return [node for node in self.nodes if node.is_leaf]

    def rows(self) -> list[list[str]]:
        previous_codes = self.previous.codes if self.previous else {}
        return [
            [
                self.codes[node.key],
                self.codes.get(node.parent_key, ""),
                node.title,
                fmt(self.maxima[node.key]),
                node.kind,
                node.guidance,
                previous_codes.get(node.key, ""),
            ]
            for node in self.nodes
        ]


def number_nodes(nodes: list[Node]) -> dict[str, str]:
    """Published codes: children are numbered 1, 2, 3... in order under their parent's code."""
    counters: Counter[str] = Counter()
    codes: dict[str, str] = {}
    for node in nodes:
        counters[node.parent_key] += 1
        prefix = f"{codes[node.parent_key]}." if node.parent_key else ""
        codes[node.key] = f"{prefix}{counters[node.parent_key]}"
    return codes


def sum_maxima(nodes: list[Node]) -> dict[str, Decimal]:
    maxima: dict[str, Decimal] = defaultdict(Decimal)
    for node in reversed(nodes):  # children come after their parent
        if node.is_leaf:
            maxima[node.key] = node.max_points
        if node.parent_key:
            maxima[node.parent_key] += maxima[node.key]
    return dict(maxima)


def build_criteria_sets() -> dict[tuple[int, str], CriteriaSet]:
    base = parse_outline(BASE_OUTLINE)
    derive = {2022: lambda nodes: nodes, 2023: nodes_2023, 2024: nodes_2024}
    sets: dict[tuple[int, str], CriteriaSet] = {}
    for group in GROUPS:
        nodes = district_nodes(base) if group == "districts" else base
        previous = None
        for year in CRITERIA_YEARS:
            nodes = derive[year](nodes)
            previous = sets[year, group] = CriteriaSet(year, group, nodes, previous)
    return sets


# --------------------------------------------------------------------------------------------
# The story: published indices, bonus and penalty points, not-applicable leaves, SIPAS
# --------------------------------------------------------------------------------------------

# The published PAR index of every unit; the scores are built to give exactly these.
PAR_TARGETS = {
    (2023, "departments"): {
        "so-lao-dong-thuong-binh-xa-hoi": "95.25",
        "so-khoa-hoc-cong-nghe": "94.10",
        "so-van-hoa-the-thao-du-lich": "93.42",
        "so-noi-vu": "92.86",
        "so-tu-phap": "91.73",
        "van-phong-ubnd": "91.05",
        "so-thong-tin-truyen-thong": "90.64",
        "so-ke-hoach-dau-tu": "90.00",
        "so-giao-duc-dao-tao": "89.37",
        "so-tai-chinh": "88.12",
        "so-y-te": "86.45",
        "ban-dan-toc": "86.45",
        "so-cong-thuong": "85.18",
        "so-ngoai-vu": "84.03",
        "thanh-tra-thanh-pho": "83.26",
        "ban-quan-ly-khu-che-xuat-cong-nghiep": "82.57",
        "so-xay-dung": "81.34",
        "so-nong-nghiep-phat-trien-nong-thon": "80.71",
        "so-giao-thong-van-tai": "78.46",
        "so-tai-nguyen-moi-truong": "76.88",
    },
    (2022, "departments"): {
        "so-lao-dong-thuong-binh-xa-hoi": "93.15",
        "so-khoa-hoc-cong-nghe": "91.82",
        "so-noi-vu": "91.20",
        "so-van-hoa-the-thao-du-lich": "90.36",
        "so-giao-duc-dao-tao": "90.27",
        "van-phong-ubnd": "89.64",
        "so-tu-phap": "88.95",
        "so-tai-chinh": "88.90",
        "so-thong-tin-truyen-thong": "87.83",
        "so-ke-hoach-dau-tu": "86.72",
        "so-y-te": "83.90",
        "ban-dan-toc": "82.10",
        "so-cong-thuong": "81.47",
        "thanh-tra-thanh-pho": "80.44",
        "ban-quan-ly-khu-che-xuat-cong-nghiep": "79.80",
        "so-giao-thong-van-tai": "79.12",
        "so-ngoai-vu": "78.65",
        "so-nong-nghiep-phat-trien-nong-thon": "77.35",
        "so-xay-dung": "76.58",
        "so-tai-nguyen-moi-truong": "68.94",
    },
    (2023, "districts"): {
        "huyen-phong-dien": "93.64",
        "huyen-vinh-thanh": "92.18",
        "huyen-thoi-lai": "90.85",
        "huyen-co-do": "88.47",
        "quan-cai-rang": "87.20",
        "quan-binh-thuy": "85.36",
        "quan-o-mon": "82.91",
        "quan-thot-not": "79.48",
        "quan-ninh-kieu": "77.15",
    },
    (2022, "districts"): {
        "huyen-phong-dien": "90.12",
        "huyen-vinh-thanh": "88.75",
        "quan-cai-rang": "88.02",
        "huyen-thoi-lai": "87.30",
        "huyen-co-do": "84.66",
        "quan-binh-thuy": "83.19",
        "quan-o-mon": "79.57",
        "quan-ninh-kieu": "78.33",
        "quan-thot-not": "76.24",
    },
}

# Bonus points: (claimed by the unit, granted by the council).
BONUSES = {
    (2022, "departments"): {
        "van-phong-ubnd": ("0.5", "0.5"),
        "so-noi-vu": ("1", "0.5"),
        "so-y-te": ("0.5", "0"),
    },
    (2023, "departments"): {
        "so-lao-dong-thuong-binh-xa-hoi": ("1", "0.5"),
        "so-khoa-hoc-cong-nghe": ("1", "1"),
        "so-y-te": ("1", "0"),
    },
    (2022, "districts"): {"huyen-phong-dien": ("0.5", "0.5")},
    (2023, "districts"): {
        "huyen-phong-dien": ("1", "0.5"),
        "huyen-vinh-thanh": ("0.5", "0.5"),
    },
}

# Penalty points set by the council: (amount, reason).
PENALTIES = {
    (2022, "departments"): {
        "so-giao-thong-van-tai": ("0.25", "có 01 hồ sơ trễ hạn không thông báo, xin lỗi người dân"),
    },
    (2023, "departments"): {
        "so-tai-nguyen-moi-truong": (
            "0.5",
            "có 02 trường hợp vi phạm trong giải quyết hồ sơ đất đai bị kết luận",
        ),
    },
    (2023, "districts"): {
        "quan-ninh-kieu": ("0.25", "có 01 công chức gây phiền hà cho người dân bị kết luận"),
    },
}

NO_PENALTY = "Không có vi phạm bị kết luận trong năm"

# Leaves that do not apply to a unit (by key), with the council's note.
NOT_APPLICABLE_NOTES = {
    "3.3.1": "Không áp dụng: đơn vị không có TTHC tiếp nhận tại Trung tâm Phục vụ hành chính công",
    "6.2.2": "Không áp dụng: đơn vị không có đơn vị sự nghiệp công lập trực thuộc",
}
NOT_APPLICABLE = {
    (year, "departments"): {
        "ban-dan-toc": "3.3.1",
        "so-ngoai-vu": "3.3.1",
        "thanh-tra-thanh-pho": "6.2.2",
    }
    for year in SCORED_YEARS
}

# Points lost in a whole field, fixed by the story (year, group, unit -> field key -> points).
FIELD_LOSSES = {
    (2023, "departments", "so-lao-dong-thuong-binh-xa-hoi"): {"1": Decimal("0.25")},
}

# SIPAS index of every unit; the five element values are generated around it.
SIPAS_TARGETS = {
    (2023, "departments"): {
        "so-lao-dong-thuong-binh-xa-hoi": "96.82",
        "so-giao-duc-dao-tao": "96.15",
        "so-noi-vu": "95.47",
        "so-van-hoa-the-thao-du-lich": "94.48",
        "so-tu-phap": "94.12",
        "so-khoa-hoc-cong-nghe": "93.95",
        "van-phong-ubnd": "93.58",
        "so-thong-tin-truyen-thong": "93.21",
        "so-ke-hoach-dau-tu": "92.64",
        "thanh-tra-thanh-pho": "92.47",
        "so-cong-thuong": "92.05",
        "so-tai-chinh": "91.87",
        "so-y-te": "91.36",
        "so-xay-dung": "90.92",
        "so-nong-nghiep-phat-trien-nong-thon": "90.36",
        "so-ngoai-vu": "90.15",
        "ban-dan-toc": "89.92",
        "so-giao-thong-van-tai": "89.74",
        "so-tai-nguyen-moi-truong": "88.63",
        "ban-quan-ly-khu-che-xuat-cong-nghiep": "87.51",
    },
    (2022, "departments"): {
        "so-lao-dong-thuong-binh-xa-hoi": "94.86",
        "so-giao-duc-dao-tao": "94.10",
        "so-noi-vu": "93.62",
        "so-van-hoa-the-thao-du-lich": "92.71",
        "so-tu-phap": "92.40",
        "van-phong-ubnd": "91.95",
        "so-khoa-hoc-cong-nghe": "91.88",
        "so-thong-tin-truyen-thong": "91.52",
        "so-ke-hoach-dau-tu": "90.87",
        "thanh-tra-thanh-pho": "90.78",
        "so-tai-chinh": "90.35",
        "so-cong-thuong": "89.96",
        "so-y-te": "89.43",
        "ban-dan-toc": "88.95",
        "so-nong-nghiep-phat-trien-nong-thon": "88.74",
        "so-xay-dung": "88.60",
        "so-ngoai-vu": "88.27",
        "so-giao-thong-van-tai": "88.12",
        "so-tai-nguyen-moi-truong": "86.95",
        "ban-quan-ly-khu-che-xuat-cong-nghiep": "86.14",
    },
    (2023, "districts"): {
        "huyen-thoi-lai": "97.12",
        "huyen-phong-dien": "95.86",
        "huyen-co-do": "95.20",
        "huyen-vinh-thanh": "94.73",
        "quan-thot-not": "94.05",
        "quan-cai-rang": "93.48",
        "quan-ninh-kieu": "92.83",
        "quan-binh-thuy": "92.65",
        "quan-o-mon": "89.45",
    },
    (2022, "districts"): {
        "huyen-thoi-lai": "90.84",
        "huyen-phong-dien": "89.96",
        "huyen-vinh-thanh": "88.73",
        "huyen-co-do": "87.65",
        "quan-cai-rang": "87.12",
        "quan-ninh-kieu": "86.71",
        "quan-binh-thuy": "86.40",
        "quan-thot-not": "85.91",
        "quan-o-mon": "84.27",
    },
}

SIPAS_ELEMENTS = ("access", "procedure", "civil_servants", "result", "feedback")
# Typical profile: civil servants and access are rated best, feedback handling worst (sum 0).
SIPAS_PROFILE = (Decimal("0.6"), Decimal("-0.4"), Decimal("0.9"), Decimal("0.3"), Decimal("-1.4"))
SIPAS_ELEMENT_RANGE = (Decimal("80"), Decimal("99.5"))

# --------------------------------------------------------------------------------------------
# Generating scores and SIPAS values
# --------------------------------------------------------------------------------------------


def fmt(value: Decimal) -> str:
    """A score as the files write it: at most two decimals, no trailing zeros (1.25, 0.5, 10)."""
    text = f"{value.quantize(CENT):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def vn(value: Decimal) -> str:
    """A number inside a Vietnamese note: decimal comma (0,25)."""
    return fmt(value).replace(".", ",")


def published_index(points: Decimal, maximum: Decimal) -> Decimal:
    index = min(max(points / maximum * HUNDRED, Decimal(0)), HUNDRED)
    return index.quantize(CENT, rounding=ROUND_HALF_UP)


def points_for_index(target: Decimal, maximum: Decimal) -> Decimal:
    """The smallest points (in hundredths) whose published index is the target."""
    points = (target * maximum / HUNDRED).quantize(CENT, rounding=ROUND_FLOOR) - 5 * CENT
    for _ in range(20):
        if published_index(points, maximum) == target:
            return points
        points += CENT
    raise ValueError(f"no points give the index {target} out of {maximum}")


def deduct(
    finals: dict[str, Decimal], leaves: list[Node], amount: Decimal, rng: random.Random
) -> None:
    """Take `amount` off the leaves, one scoring step at a time, preferring untouched leaves."""
    while amount > 0:
        candidates = [
            leaf for leaf in leaves if leaf.step <= amount and finals[leaf.key] >= leaf.step
        ]
        if not candidates:
            raise ValueError(f"cannot deduct {amount} more points")
        weights = [3 if finals[leaf.key] == leaf.max_points else 1 for leaf in candidates]
        leaf = rng.choices(candidates, weights)[0]
        finals[leaf.key] -= leaf.step
        amount -= leaf.step


def final_scores(
    leaves: list[Node],
    target: Decimal,
    loss: Decimal,
    fixed: dict[str, Decimal],
    rng: random.Random,
) -> dict[str, Decimal]:
    """Final scores of the applicable self and survey leaves, `loss` points below the maximum.

    Survey leaves get a share of their maximum that follows the unit's level; self leaves lose
    whole scoring steps; the survey leaves absorb what is not a multiple of a quarter point.
    """
    finals = {leaf.key: leaf.max_points for leaf in leaves}
    locked: set[str] = set()
    for field_key, field_loss in fixed.items():
        field_leaves = [leaf for leaf in leaves if leaf.field_key == field_key]
        deduct(finals, [leaf for leaf in field_leaves if leaf.kind == "self"], field_loss, rng)
        locked.update(leaf.key for leaf in field_leaves)
        loss -= field_loss

    surveys = [leaf for leaf in leaves if leaf.kind == "survey" and leaf.key not in locked]
    level = Decimal("0.5") + target / 200
    for leaf in surveys:
        share = level + Decimal(rng.randint(-20, 20)) / 1000
        finals[leaf.key] = min(leaf.max_points, (leaf.max_points * share).quantize(CENT))
    survey_loss = sum(leaf.max_points - finals[leaf.key] for leaf in surveys)
    self_loss = ((loss - survey_loss) / QUARTER).to_integral_value(ROUND_FLOOR) * QUARTER
    if self_loss < 0:
        raise ValueError(f"survey points alone lose more than {loss}")
    best_survey = max(surveys, key=lambda leaf: finals[leaf.key])
    finals[best_survey.key] -= loss - survey_loss - self_loss

    selfs = [leaf for leaf in leaves if leaf.kind == "self" and leaf.key not in locked]
    deduct(finals, selfs, self_loss, rng)
    return finals


def self_claim(leaf: Node, final: Decimal, rng: random.Random) -> Decimal:
    """What the unit claimed: often the maximum, sometimes the council's score or in between."""
    if final == leaf.max_points:
        return final
    between = [final + k * leaf.step for k in range(1, int((leaf.max_points - final) / leaf.step))]
    roll = rng.random()
    if roll < 0.55 or (roll >= 0.8 and not between):
        return leaf.max_points
    if roll < 0.8:
        return final
    return rng.choice(between)


def evidence_note(leaf: Node, unit: Unit, year: int, rng: random.Random) -> str:
    month = rng.randint(1, 3) if leaf.evidence == "KH" else rng.randint(2, 12)
    date = f"{rng.randint(1, 28):02d}/{month:02d}/{year}"
    return EVIDENCE_NOTES[leaf.evidence].format(
        n=rng.randint(5, 320), abbr=unit.abbreviation, date=date
    )


def self_note(
    leaf: Node, claim: Decimal, final: Decimal, unit: Unit, year: int, rng: random.Random
) -> str:
    if claim < final:
        return "Chấm đủ điểm sau giải trình: đơn vị bổ sung tài liệu kiểm chứng"
    if final == leaf.max_points:
        return evidence_note(leaf, unit, year, rng)
    if claim == final:
        return f"Thống nhất điểm tự chấm; chưa đạt điểm tối đa do {leaf.shortfall}"
    if claim == leaf.max_points:
        return f"Trừ {vn(claim - final)} điểm do {leaf.shortfall}"
    return f"Trừ {vn(claim - final)} điểm so với điểm tự chấm do {leaf.shortfall}"


def bonus_note(claim: Decimal, final: Decimal) -> str:
    if claim == 0:
        return "Đơn vị không đề nghị điểm thưởng"
    if final == 0:
        return "Không cộng điểm: sáng kiến chưa được Hội đồng sáng kiến thành phố công nhận"
    if final < claim:
        return (
            f"Cộng {vn(final)} điểm; sáng kiến còn lại chưa được Hội đồng sáng kiến "
            "thành phố công nhận"
        )
    return f"Cộng {vn(final)} điểm: sáng kiến được Hội đồng sáng kiến thành phố công nhận"


def unit_score_rows(cset: CriteriaSet, unit: Unit, rng: random.Random) -> list[list[str]]:
    """One row per leaf: unit, criterion, self_score, final_score, note."""
    key = (cset.year, cset.group)
    target = Decimal(PAR_TARGETS[key][unit.code])
    bonus_claim, bonus_final = map(Decimal, BONUSES.get(key, {}).get(unit.code, ("0", "0")))
    penalty, penalty_reason = PENALTIES.get(key, {}).get(unit.code, ("0", ""))
    penalty = Decimal(penalty)
    na_key = NOT_APPLICABLE.get(key, {}).get(unit.code)
    fixed = FIELD_LOSSES.get((cset.year, cset.group, unit.code), {})

    scored = [leaf for leaf in cset.leaves if leaf.kind in SCORED_KINDS and leaf.key != na_key]
    maximum = sum(leaf.max_points for leaf in scored)
    points = points_for_index(target, maximum)
    loss = maximum - (points - bonus_final + penalty)
    finals = final_scores(scored, target, loss, fixed, rng)

    selfs = [leaf for leaf in scored if leaf.kind == "self"]
    claims = {leaf.key: self_claim(leaf, finals[leaf.key], rng) for leaf in selfs}
    if rng.random() < 0.15:  # now and then the council gives more than the unit claimed
        full = [leaf for leaf in selfs if finals[leaf.key] == leaf.max_points]
        raised = rng.choice(full)
        claims[raised.key] = raised.max_points - raised.step

    rows = []
    for leaf in cset.leaves:
        if leaf.key == na_key:
            cells = ("", "na", NOT_APPLICABLE_NOTES[na_key])
        elif leaf.kind == "survey":
            cells = ("", fmt(finals[leaf.key]), f"Điểm điều tra xã hội học năm {cset.year}")
        elif leaf.kind == "bonus":
            cells = (fmt(bonus_claim), fmt(bonus_final), bonus_note(bonus_claim, bonus_final))
        elif leaf.kind == "penalty":
            note = f"Trừ {vn(penalty)} điểm do {penalty_reason}" if penalty else NO_PENALTY
            cells = ("", fmt(penalty), note)
        else:
            claim, final = claims[leaf.key], finals[leaf.key]
            note = self_note(leaf, claim, final, unit, cset.year, rng)
            cells = (fmt(claim), fmt(final), note)
        rows.append([unit.code, cset.codes[leaf.key], *cells])
    return rows


def sipas_elements(target: Decimal, rng: random.Random) -> list[Decimal]:
    """Five element values whose mean is exactly the target (the last noise balances the rest)."""
    low, high = SIPAS_ELEMENT_RANGE
    for _ in range(1000):
        noise = [Decimal(rng.randint(-80, 80)) / 100 for _ in range(4)]
        noise.append(-sum(noise))
        values = [target + bias + delta for bias, delta in zip(SIPAS_PROFILE, noise, strict=True)]
        if all(low <= value <= high for value in values):
            return values
    raise ValueError(f"no SIPAS elements found around {target}")


# --------------------------------------------------------------------------------------------
# Writing
# --------------------------------------------------------------------------------------------


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def rng_for(*parts: object) -> random.Random:
    """One generator per unit and purpose, so that changing one unit leaves the others alone."""
    return random.Random("-".join(map(str, (SEED, *parts))))


def write_all(units: list[Unit], sets: dict[tuple[int, str], CriteriaSet]) -> None:
    write_csv(
        DATA_DIR / "units.csv",
        ["code", "name", "group", "group_name", "short_name"],
        [[u.code, u.name, u.group, GROUPS[u.group], u.short_name] for u in units],
    )
    for (year, group), cset in sets.items():
        folder = DATA_DIR / str(year) / group
        write_csv(
            folder / "criteria.csv",
            ["code", "parent", "title", "max_points", "kind", "guidance", "previous_code"],
            cset.rows(),
        )
        if year not in SCORED_YEARS:
            continue
        members = [unit for unit in units if unit.group == group]
        score_rows = []
        for unit in members:
            score_rows += unit_score_rows(cset, unit, rng_for("par", year, group, unit.code))
        write_csv(
            folder / "scores.csv",
            ["unit", "criterion", "self_score", "final_score", "note"],
            score_rows,
        )
        sipas_rows = []
        for unit in members:
            target = Decimal(SIPAS_TARGETS[year, group][unit.code])
            values = sipas_elements(target, rng_for("sipas", year, group, unit.code))
            sipas_rows.append([unit.code, *(f"{value:.2f}" for value in values)])
        write_csv(folder / "sipas.csv", ["unit", *SIPAS_ELEMENTS], sipas_rows)


# --------------------------------------------------------------------------------------------
# Verifying: read the files back and recompute everything
# --------------------------------------------------------------------------------------------

BANDS = (
    ("Rất tốt", Decimal(90)),
    ("Tốt", Decimal(80)),
    ("Khá", Decimal(70)),
    ("Trung bình", Decimal(50)),
    ("Kém", Decimal(0)),
)
BAND_MARGIN = Decimal("0.05")


@dataclass
class Result:
    unit: str
    points: Decimal
    maximum: Decimal
    index: Decimal
    band: str
    field_points: dict[str, tuple[Decimal, Decimal]]
    rank: int = 0


def read_csv(path: Path) -> list[dict[str, str]]:
    raw = path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf"), f"{path}: BOM"
    assert b"\r" not in raw, f"{path}: CR line ending"
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def number(text: str, where: str) -> Decimal:
    value = Decimal(text)
    assert value.as_tuple().exponent >= -2, f"{where}: more than two decimals in {text!r}"
    assert value >= 0, f"{where}: negative value {text!r}"
    return value


def band_of(index: Decimal) -> str:
    return next(label for label, lower in BANDS if index >= lower)


def competition_ranks(values: dict[str, Decimal]) -> dict[str, int]:
    """Highest first; equal values share a rank and the next rank is skipped (1, 2, 2, 4)."""
    ordered = sorted(values.values(), reverse=True)
    return {unit: ordered.index(value) + 1 for unit, value in values.items()}


Leaves = dict[str, tuple[str, Decimal]]  # leaf code -> (kind, max_points)


def check_criteria(
    year: int, group: str, rows: list[dict[str, str]], previous: set[str] | None
) -> Leaves:
    """Check one criteria file; return its leaves as code -> (kind, max_points)."""
    where = f"{year}/{group}/criteria.csv"
    by_code = {row["code"]: row for row in rows}
    assert len(by_code) == len(rows), f"{where}: duplicate codes"
    children = defaultdict(list)
    for row in rows:
        assert row["parent"] == row["code"].rpartition(".")[0], f"{where}: parent of {row['code']}"
        assert not row["parent"] or row["parent"] in by_code, f"{where}: orphan {row['code']}"
        children[row["parent"]].append(row["code"])
    leaves = {}
    for row in rows:
        code, maximum = row["code"], number(row["max_points"], where)
        if code in children:
            total = sum(number(by_code[child]["max_points"], where) for child in children[code])
            assert maximum == total, f"{where}: {code} max {maximum} is not the sum {total}"
            assert not row["kind"], f"{where}: kind on parent {code}"
        else:
            assert row["kind"] in KINDS, f"{where}: kind of {code}"
            assert code.count(".") == 2, f"{where}: leaf {code} is not a sub-criterion"
            assert row["guidance"], f"{where}: no guidance for {code}"
            leaves[code] = (row["kind"], maximum)
        assert row["title"], f"{where}: no title for {code}"
        if previous is None:
            assert not row["previous_code"], f"{where}: previous_code in the first year"
        elif row["previous_code"]:
            assert row["previous_code"] in previous, f"{where}: unknown previous of {code}"

    criteria = [code for code in by_code if code.count(".") == 1]
    assert len(criteria) >= 30 and len(leaves) >= 60, f"{where}: too small"
    fields = {code: number(by_code[code]["max_points"], where) for code in FIELD_POINTS}
    assert fields == FIELD_POINTS, f"{where}: field points {fields}"
    kinds = Counter(kind for kind, _ in leaves.values())
    assert kinds["bonus"] == kinds["penalty"] == 1, f"{where}: bonus and penalty leaves"
    scored = sum(m for kind, m in leaves.values() if kind in SCORED_KINDS)
    assert scored == HUNDRED, f"{where}: self and survey leaves total {scored}"
    survey = sum(m for kind, m in leaves.values() if kind == "survey")
    assert 15 <= survey <= 25, f"{where}: survey points {survey}"
    if previous is not None:
        unlinked = [row["code"] for row in rows if not row["previous_code"]]
        assert len(unlinked) == (1 if year == 2023 else 0), f"{where}: unlinked {unlinked}"
    return leaves


def compute_results(leaves: Leaves, rows: list[dict[str, str]], where: str) -> dict[str, Result]:
    """Points, maximum, index, band and rank of every unit (domain rules §3)."""
    bonus_cap = sum(m for kind, m in leaves.values() if kind == "bonus")
    penalty_cap = sum(m for kind, m in leaves.values() if kind == "penalty")
    by_unit: dict[str, dict[str, dict[str, str]]] = defaultdict(dict)
    for row in rows:
        assert row["criterion"] not in by_unit[row["unit"]], f"{where}: duplicate row"
        by_unit[row["unit"]][row["criterion"]] = row

    results = {}
    for unit, unit_rows in by_unit.items():
        assert set(unit_rows) == set(leaves), f"{where}: {unit} does not score every leaf"
        points = maximum = bonus = penalty = Decimal(0)
        fields: dict[str, tuple[Decimal, Decimal]] = {}
        for code, row in unit_rows.items():
            kind, leaf_max = leaves[code]
            cell = f"{where}: {unit} {code}"
            assert row["note"], f"{cell}: no note"
            if row["final_score"] == "na":
                assert not row["self_score"] and kind in SCORED_KINDS, cell
                continue
            final = number(row["final_score"], cell)
            assert final <= leaf_max, f"{cell}: final above the maximum"
            if row["self_score"]:
                assert kind in ("self", "bonus"), f"{cell}: self score on a {kind} leaf"
                assert number(row["self_score"], cell) <= leaf_max, f"{cell}: self above max"
            else:
                assert kind in ("survey", "penalty"), f"{cell}: no self score"
            if kind == "bonus":
                bonus += final
            elif kind == "penalty":
                penalty += final
            else:
                points += final
                maximum += leaf_max
                field_key = code.split(".")[0]
                got, of = fields.get(field_key, (Decimal(0), Decimal(0)))
                fields[field_key] = (got + final, of + leaf_max)
        points += min(bonus, bonus_cap) - min(penalty, penalty_cap)
        index = published_index(points, maximum)
        results[unit] = Result(unit, points, maximum, index, band_of(index), fields)

    ranks = competition_ranks({unit: result.index for unit, result in results.items()})
    for unit, result in results.items():
        result.rank = ranks[unit]
    return results


def compute_sipas(rows: list[dict[str, str]], where: str) -> dict[str, Decimal]:
    indices = {}
    low, high = SIPAS_ELEMENT_RANGE
    for row in rows:
        values = [number(row[element], f"{where}: {row['unit']}") for element in SIPAS_ELEMENTS]
        assert all(low <= value <= high for value in values), f"{where}: {row['unit']} range"
        indices[row["unit"]] = (sum(values) / 5).quantize(CENT, rounding=ROUND_HALF_UP)
    return indices


def mean(values) -> Decimal:
    values = list(values)
    return (sum(values) / len(values)).quantize(CENT, rounding=ROUND_HALF_UP)


def by_rank(results: dict[str, Result]) -> list[Result]:
    return sorted(results.values(), key=lambda result: (result.rank, result.unit))


def check_story(par: dict, sipas: dict, units: list[Unit]) -> None:
    """The 2023 results of Cần Thơ as published on 28-02-2024, and their 2022 background."""
    for (year, group), results in par.items():
        members = {unit.code for unit in units if unit.group == group}
        assert set(results) == members, f"{year} {group}: units"
        assert set(sipas[year, group]) == members, f"{year} {group}: SIPAS units"
        for unit, result in results.items():
            assert result.index == Decimal(PAR_TARGETS[year, group][unit]), f"{year} {unit}"
            distance = min(abs(result.index - lower) for _, lower in BANDS[:-1])
            on_limit = result.index == Decimal(90)
            assert distance >= BAND_MARGIN or on_limit, f"{year} {unit}: near a band limit"
        assert sum(r.index == Decimal(90) for r in results.values()) <= 1, f"{year} {group}"
        for unit, index in sipas[year, group].items():
            assert index == Decimal(SIPAS_TARGETS[year, group][unit]), f"{year} SIPAS {unit}"

    departments = par[2023, "departments"]
    ranked = by_rank(departments)
    bands = Counter(result.band for result in ranked)
    assert bands == Counter({"Rất tốt": 8, "Tốt": 10, "Khá": 2}), bands
    top = departments["so-lao-dong-thuong-binh-xa-hoi"]
    expected_top = (1, Decimal("95.25"), Decimal("100"), Decimal("95.25"))
    assert (top.rank, top.points, top.maximum, top.index) == expected_top, top
    assert top.field_points["1"] == (Decimal("9.75"), Decimal("10")), top.field_points["1"]
    assert departments["so-khoa-hoc-cong-nghe"].rank == 2
    assert departments["so-van-hoa-the-thao-du-lich"].rank == 3
    assert [r.unit for r in ranked if r.rank == 20] == ["so-tai-nguyen-moi-truong"]
    assert any(r.index == Decimal(90) and r.band == "Rất tốt" for r in ranked)
    ties = [rank for rank, n in Counter(r.rank for r in ranked).items() if n > 1]
    assert len(ties) == 1 and 3 < ties[0] < 18, f"ties at ranks {ties}"
    assert Counter(r.rank for r in ranked)[ties[0]] == 2

    districts = par[2023, "districts"]
    assert districts["huyen-phong-dien"].rank == 1
    assert districts["huyen-vinh-thanh"].rank == 2
    assert [r.unit for r in districts.values() if r.rank == 9] == ["quan-ninh-kieu"]
    district_bands = Counter(r.band for r in districts.values())
    assert district_bands["Rất tốt"] + district_bands["Tốt"] >= 6, district_bands
    assert district_bands["Khá"] >= 1 and len(district_bands) == 3, district_bands

    for (year, group), results in par.items():
        if year == 2022 or group != "departments":
            assert len(set(r.rank for r in results.values())) == len(results), f"{year} {group}"

    last_year = par[2022, "departments"]["so-lao-dong-thuong-binh-xa-hoi"]
    assert last_year.index == Decimal("93.15")
    assert top.index - last_year.index == Decimal("2.10")
    for group, needed in (("departments", 15), ("districts", 7)):
        now, before = par[2023, group], par[2022, group]
        improved = sum(now[unit].index > before[unit].index for unit in now)
        assert improved >= needed, f"{group}: only {improved} improved"
    assert set(r.band for r in par[2022, "departments"].values()) >= {"Khá", "Trung bình"}

    for (year, group), expected in {
        (2023, "departments"): "92.27",
        (2022, "departments"): "90.51",
        (2023, "districts"): "93.93",
        (2022, "districts"): "87.51",
    }.items():
        assert mean(sipas[year, group].values()) == Decimal(expected), f"SIPAS {year} {group}"
    sipas_ranks = competition_ranks(sipas[2023, "departments"])
    leaders = ["so-lao-dong-thuong-binh-xa-hoi", "so-giao-duc-dao-tao", "so-noi-vu"]
    for rank, unit in enumerate(leaders, start=1):
        assert list(sipas_ranks.values()).count(rank) == 1 and sipas_ranks[unit] == rank, unit
    district_ranks = competition_ranks(sipas[2023, "districts"])
    assert [u for u, r in district_ranks.items() if r == 1] == ["huyen-thoi-lai"]
    assert [u for u, r in district_ranks.items() if r == 9] == ["quan-o-mon"]


def verify(units: list[Unit]) -> tuple[dict, dict]:
    unit_rows = read_csv(DATA_DIR / "units.csv")
    expected = [[u.code, u.name, u.group, GROUPS[u.group], u.short_name] for u in units]
    assert [list(row.values()) for row in unit_rows] == expected, "units.csv"

    par, sipas, na_count = {}, {}, Counter()
    for group in GROUPS:
        previous = None
        for year in CRITERIA_YEARS:
            folder = DATA_DIR / str(year) / group
            leaves = check_criteria(year, group, read_csv(folder / "criteria.csv"), previous)
            previous = {row["code"] for row in read_csv(folder / "criteria.csv")}
            if year not in SCORED_YEARS:
                assert not (folder / "scores.csv").exists(), f"{year}: scores of an open round"
                continue
            scores = read_csv(folder / "scores.csv")
            na_count[year] += sum(row["final_score"] == "na" for row in scores)
            par[year, group] = compute_results(leaves, scores, f"{year}/{group}/scores.csv")
            sipas[year, group] = compute_sipas(read_csv(folder / "sipas.csv"), f"{year} SIPAS")
    assert all(2 <= na_count[year] <= 3 for year in SCORED_YEARS), na_count
    check_story(par, sipas, units)
    return par, sipas


# --------------------------------------------------------------------------------------------
# Summary
# --------------------------------------------------------------------------------------------


def print_summary(par: dict, sipas: dict) -> None:
    for (year, group), results in sorted(par.items()):
        sipas_index = sipas[year, group]
        sipas_rank = competition_ranks(sipas_index)
        previous = par.get((year - 1, group), {})
        print(f"\n{year} · {group} ({GROUPS[group]})")
        print(
            f"{'rank':>4}  {'unit':<38} {'points':>6} {'max':>6} {'index':>6}  {'band':<10}"
            f" {'change':>6}  {'SIPAS':>6} {'rank':>4}"
        )
        for result in by_rank(results):
            before = previous.get(result.unit)
            change = f"{result.index - before.index:+.2f}" if before else ""
            print(
                f"{result.rank:>4}  {result.unit:<38} {result.points:>6.2f} {result.maximum:>6.2f}"
                f" {result.index:>6.2f}  {result.band:<10} {change:>6}"
                f"  {sipas_index[result.unit]:>6} {sipas_rank[result.unit]:>4}"
            )
        bands = Counter(result.band for result in results.values())
        counts = ", ".join(f"{label} {bands[label]}" for label, _ in BANDS)
        print(f"      {counts}; mean SIPAS {mean(sipas_index.values())}")


def main() -> None:
    units = build_units()
    sets = build_criteria_sets()
    write_all(units, sets)
    par, sipas = verify(units)
    print_summary(par, sipas)
    print(f"\nAll checks passed; files written under {DATA_DIR}")


if __name__ == "__main__":
    main()
