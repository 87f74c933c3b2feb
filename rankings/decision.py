"""The decision announcing a year's results, as Word (python-docx) and PDF (fpdf2) documents.

The layout follows Decree 30/2020/NĐ-CP (Vietnamese administrative documents): the issuing body
and the number top left, the national motto with the place and date top right, the title, the
legal bases, the articles, the signer block with the recipients, then one appendix per published
group (landscape): rank, unit, field indices, points, maximum, index and band.

The builders read a ``Decision`` made only of frozen publications and the year's decision
record (``rankings.models.Decision``, read by ``rankings.official.year_decision``); they never
touch the database. The province is named by ``cchc.context.province``.

The document's own text is Vietnamese whatever the reader's language: it is an official
document of a Vietnamese authority, so its wording stays here untranslated on purpose.
"""

from __future__ import annotations

import copy
import io
import logging
import unicodedata
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path

from cchc.context import Province
from scoring.calculation import quantize

FONTS = Path(__file__).resolve().parent / "fonts"
# Noto Serif (SIL OFL 1.1), static instances subset to Latin and Vietnamese: rankings/fonts/.
FONT_FILES = {
    "": "NotoSerif-Regular.ttf",
    "B": "NotoSerif-Bold.ttf",
    "I": "NotoSerif-Italic.ttf",
    "BI": "NotoSerif-BoldItalic.ttf",
}
# Word documents name the font Decree 30 prescribes; every Vietnamese office has it.
WORD_FONT = "Times New Roman"
# fpdf2 subsets the fonts it embeds through fontTools, which logs every glyph at INFO.
logging.getLogger("fontTools").setLevel(logging.WARNING)
ROMAN = ["I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"]


# Numbers and dates the Vietnamese way ---------------------------------------------------------


def vi_number(value: Decimal | None, *, signed: bool = False) -> str:
    """``Decimal("95.255")`` → ``"95,26"``: the Vietnamese form of ``rankings.tables.decimal_text``
    (half-up to two decimals with ``scoring.calculation.quantize``, a decimal comma, None → —)
    whatever the active language, for the Vietnamese-only documents."""
    if value is None:
        return "—"
    text = f"{quantize(Decimal(value)):.2f}".replace(".", ",")
    return f"+{text}" if signed and value > 0 else text


def vi_date(day: date | None) -> str:
    """ "ngày 28 tháng 02 năm 2024": days below 10 and the months January and February written
    with two digits (Decree 30, Appendix I); dots where no date was recorded."""
    if day is None:
        return "ngày …… tháng …… năm ……"
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"ngày {day.day:02d} tháng {month} năm {day.year}"


def vi_short_date(day) -> str:
    return f"{day.day:02d}/{day.month:02d}/{day.year}"


def roman(number: int) -> str:
    return ROMAN[number - 1] if number <= len(ROMAN) else str(number)


# What the document says ---------------------------------------------------------------------


@dataclass
class AppendixRow:
    rank: int
    name: str
    fields: list[str]  # the field indices (a bonus/penalty field: its points), formatted
    points: str
    max_points: str
    index: str
    band: str


@dataclass
class Appendix:
    group_name: str
    version: int
    published_on: date
    reason: str
    checksum: str
    average: str
    # (code, title, scored): ``scored`` is False for a field of bonus or penalty points only.
    fields: list[tuple[str, str, bool]]
    rows: list[AppendixRow]
    band_counts: list[tuple[str, int]]


@dataclass
class Decision:
    year: int
    province: Province  # cchc.context.province(): its ``label`` names it, "thành phố Cần Thơ"
    number: str  # as recorded; "" when none was
    day: date | None
    signed_by: str
    source_url: str
    appendices: list[Appendix] = field(default_factory=list)

    # The words of the document.

    @property
    def issuing_body(self) -> str:
        return self.issuing_body_lines.replace("\n", " ")

    @property
    def issuing_body_lines(self) -> str:
        return f"ỦY BAN NHÂN DÂN\n{self.province.label.upper()}"

    @property
    def number_line(self) -> str:
        if not self.number:
            return "Số:        /QĐ-UBND"
        number = self.number if "/" in self.number else f"{self.number}/QĐ-UBND"
        return f"Số: {number}"

    @property
    def place_and_date(self) -> str:
        # Without a configured name, dots to fill in, like a number not yet recorded.
        return f"{self.province.name or '……'}, {vi_date(self.day)}"

    @property
    def subject(self) -> str:
        groups = [a.group_name for a in self.appendices]
        names = " và ".join([", ".join(groups[:-1]), groups[-1]] if len(groups) > 1 else groups)
        return (
            f"Về việc công bố Chỉ số cải cách hành chính năm {self.year} "
            f"của {names} trên địa bàn {self.province.label}"
        )

    @property
    def authority(self) -> str:
        return f"CHỦ TỊCH ỦY BAN NHÂN DÂN {self.province.label.upper()}"

    @property
    def reference(self) -> str:
        """How an appendix names the decision it belongs to."""
        number = self.number_line.removeprefix("Số:").strip() if self.number else "      /QĐ-UBND"
        return (
            f"(Kèm theo Quyết định số {number} {vi_date(self.day)} "
            f"của Chủ tịch Ủy ban nhân dân {self.province.label})"
        )

    def bases(self) -> list[str]:
        bases = [
            "Căn cứ Luật Tổ chức chính quyền địa phương;",
            "Căn cứ Nghị quyết số 76/NQ-CP ngày 15 tháng 7 năm 2021 của Chính phủ ban hành "
            "Chương trình tổng thể cải cách hành chính nhà nước giai đoạn 2021 - 2030;",
        ]
        if self.year >= 2022:
            bases.append(
                "Căn cứ Quyết định số 876/QĐ-BNV ngày 10 tháng 11 năm 2022 của Bộ trưởng Bộ Nội "
                "vụ phê duyệt Đề án “Xác định Chỉ số cải cách hành chính của các bộ, cơ quan "
                "ngang bộ, Ủy ban nhân dân các tỉnh, thành phố trực thuộc trung ương”;"
            )
        bases += [
            f"Căn cứ kết quả thẩm định của Hội đồng thẩm định Chỉ số cải cách hành chính năm "
            f"{self.year};",
            "Theo đề nghị của Giám đốc Sở Nội vụ.",
        ]
        return bases

    def articles(self) -> list[tuple[str, list[str]]]:
        listed = [
            f"Phụ lục {roman(i)}: {a.group_name} ({len(a.rows)} đơn vị, chỉ số trung bình "
            f"{a.average});"
            for i, a in enumerate(self.appendices, start=1)
        ]
        listed[-1] = listed[-1].rstrip(";") + "."
        return [
            (
                "Điều 1.",
                [
                    f"Công bố Chỉ số cải cách hành chính năm {self.year} của các cơ quan, đơn vị "
                    f"trên địa bàn {self.province.label}: chỉ số, xếp loại và xếp hạng của từng cơ quan, "
                    "đơn vị trong khối của mình, chi tiết tại các Phụ lục kèm theo:",
                    *[f"- {line}" for line in listed],
                ],
            ),
            (
                "Điều 2.",
                [
                    "Giao Sở Nội vụ đăng tải kết quả trên Cổng thông tin điện tử của "
                    f"{self.province.label} và hướng dẫn các cơ quan, đơn vị phân tích kết quả. Thủ "
                    "trưởng các cơ quan, đơn vị căn cứ kết quả Chỉ số cải cách hành chính năm "
                    f"{self.year} để khắc phục những hạn chế, nâng cao hiệu quả công tác cải "
                    "cách hành chính trong năm tiếp theo.",
                ],
            ),
            (
                "Điều 3.",
                [
                    "Quyết định này có hiệu lực kể từ ngày ký. Chánh Văn phòng Ủy ban nhân dân "
                    f"{self.province.label}, Giám đốc Sở Nội vụ, Thủ trưởng các cơ quan, đơn vị có tên "
                    "tại các Phụ lục kèm theo chịu trách nhiệm thi hành Quyết định này./.",
                ],
            ),
        ]

    def recipients(self) -> list[str]:
        party = "Thành ủy" if self.province.is_city else "Tỉnh ủy"
        return [
            "- Như Điều 3;",
            "- Bộ Nội vụ;",
            f"- Thường trực {party};",
            f"- Thường trực HĐND {self.province.kind};",
            f"- CT, các PCT UBND {self.province.kind};",
            "- Lưu: VT.",
        ]

    signer_lines = ("KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH")

    def appendix_note(self, appendix: Appendix) -> str:
        note = (
            f"Nguồn: kết quả công bố phiên bản {appendix.version} ngày "
            f"{vi_short_date(appendix.published_on)}, mã kiểm tra SHA-256 "
            f"{appendix.checksum[:16]}; {self.source_url}."
        )
        if appendix.version > 1 and appendix.reason:
            note += f" Đính chính: {appendix.reason}"
        return note


def appendix_headings(appendix: Appendix) -> list[str]:
    return [
        "Xếp hạng",
        "Cơ quan, đơn vị",
        *[f"LV{code}" for code, _title, _scored in appendix.fields],
        "Điểm đạt",
        "Điểm tối đa",
        "Chỉ số",
        "Xếp loại",
    ]


def field_legend(appendix: Appendix) -> str:
    return "; ".join(
        f"LV{code}: {title}" + ("" if scored else " (điểm cộng, trừ; không tính chỉ số)")
        for code, title, scored in appendix.fields
    )


def band_summary(appendix: Appendix) -> str:
    return "Xếp loại: " + "; ".join(f"{label}: {count}" for label, count in appendix.band_counts)


def _nfc(text: str) -> str:
    """Precomposed letters: fonts draw ế as one glyph, not e + two combining marks."""
    return unicodedata.normalize("NFC", text)


# Word ---------------------------------------------------------------------------------------


def build_docx(decision: Decision) -> bytes:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    document = Document()
    styles = document.styles["Normal"]
    styles.font.name = WORD_FONT
    styles.font.size = Pt(14)
    styles.element.rPr.rFonts.set(qn("w:eastAsia"), WORD_FONT)
    styles.paragraph_format.space_after = Pt(0)
    core = document.core_properties
    core.title = _nfc(f"Quyết định công bố Chỉ số cải cách hành chính năm {decision.year}")
    core.language = "vi-VN"
    core.author = _nfc(decision.issuing_body)

    section = document.sections[0]
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.top_margin = section.bottom_margin = Cm(2)
    section.left_margin, section.right_margin = Cm(3), Cm(1.5)

    def paragraph(
        container, text="", *, bold=False, italic=False, size=14, align="center", indent=None
    ):
        p = container.add_paragraph()
        p.alignment = {
            "center": WD_ALIGN_PARAGRAPH.CENTER,
            "left": WD_ALIGN_PARAGRAPH.LEFT,
            "right": WD_ALIGN_PARAGRAPH.RIGHT,
            "justify": WD_ALIGN_PARAGRAPH.JUSTIFY,
        }[align]
        if indent is not None:
            p.paragraph_format.first_line_indent = Cm(indent)
        if text:
            run = p.add_run(_nfc(text))
            run.bold, run.italic, run.font.size = bold, italic, Pt(size)
        return p

    def rule(container, width_cm: float, cell_width_cm: float):
        """A short centred line under a heading: an empty paragraph's bottom border, between
        indents."""
        p = container.add_paragraph()
        side = max((cell_width_cm - width_cm) / 2, 0)
        p.paragraph_format.left_indent = p.paragraph_format.right_indent = Cm(side)
        p.paragraph_format.space_after = Pt(6)
        properties = p._p.get_or_add_pPr()
        borders = OxmlElement("w:pBdr")
        bottom = OxmlElement("w:bottom")
        for name, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1")):
            bottom.set(qn(name), value)
        bottom.set(qn("w:color"), "000000")
        borders.append(bottom)
        properties.append(borders)
        run = p.add_run()
        run.font.size = Pt(2)
        return p

    def no_borders(table):
        properties = table._tbl.tblPr
        borders = OxmlElement("w:tblBorders")
        for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
            element = OxmlElement(f"w:{edge}")
            element.set(qn("w:val"), "nil")
            borders.append(element)
        properties.append(borders)

    def first_paragraph(cell):
        # A new cell holds one empty paragraph: reuse it rather than leave a blank line.
        return cell.paragraphs[0]

    # The heading: issuing body and number | national motto, place and date.
    head = document.add_table(rows=1, cols=2)
    no_borders(head)
    head.alignment = WD_TABLE_ALIGNMENT.CENTER
    left, right = head.rows[0].cells
    left.width, right.width = Cm(6.5), Cm(10)
    p = first_paragraph(left)
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for position, line in enumerate(decision.issuing_body_lines.split("\n")):
        run = p.add_run(_nfc(line))
        run.bold, run.font.size = True, Pt(13)
        if position == 0:
            run.add_break()
    rule(left, 2.5, 6.5)
    paragraph(left, decision.number_line, size=13)
    p = first_paragraph(right)
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = p.add_run("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    run.bold, run.font.size = True, Pt(13)
    paragraph(right, "Độc lập - Tự do - Hạnh phúc", bold=True, size=14)
    rule(right, 5.5, 10)
    paragraph(right, decision.place_and_date, italic=True, size=14)

    paragraph(document)
    paragraph(document, "QUYẾT ĐỊNH", bold=True)
    paragraph(document, decision.subject, bold=True)
    rule(document, 4, 16.5)
    paragraph(document, decision.authority, bold=True)
    paragraph(document)
    for basis in decision.bases():
        p = paragraph(document, basis, italic=True, align="justify", indent=1.27)
        p.paragraph_format.space_after = Pt(6)
    paragraph(document)
    paragraph(document, "QUYẾT ĐỊNH:", bold=True)
    paragraph(document)
    for title, lines in decision.articles():
        for position, line in enumerate(lines):
            p = paragraph(document, align="justify", indent=1.27)
            p.paragraph_format.space_after = Pt(6)
            if position == 0:
                run = p.add_run(title + " ")
                run.bold = True
            p.add_run(_nfc(line))

    # Recipients | signer.
    paragraph(document)
    foot = document.add_table(rows=1, cols=2)
    no_borders(foot)
    left, right = foot.rows[0].cells
    left.width, right.width = Cm(8), Cm(8.5)
    p = first_paragraph(left)
    run = p.add_run("Nơi nhận:")
    run.bold, run.italic, run.font.size = True, True, Pt(12)
    for line in decision.recipients():
        paragraph(left, line, size=11, align="left")
    p = first_paragraph(right)
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = p.add_run(decision.signer_lines[0])
    run.bold = True
    paragraph(right, decision.signer_lines[1], bold=True)
    for _ in range(4):
        paragraph(right)
    paragraph(right, decision.signed_by or "", bold=True)

    # One appendix per group, landscape.
    for number, appendix in enumerate(decision.appendices, start=1):
        landscape = document.add_section()
        landscape.orientation = WD_ORIENT.LANDSCAPE
        landscape.page_width, landscape.page_height = Cm(29.7), Cm(21)
        landscape.top_margin = landscape.bottom_margin = Cm(1.5)
        landscape.left_margin = landscape.right_margin = Cm(1.5)
        paragraph(document, f"Phụ lục {roman(number)}", bold=True)
        paragraph(
            document,
            f"CHỈ SỐ CẢI CÁCH HÀNH CHÍNH NĂM {decision.year} CỦA {appendix.group_name.upper()}",
            bold=True,
        )
        paragraph(document, decision.reference, italic=True, size=12)
        paragraph(document, field_legend(appendix), italic=True, size=10, align="justify")
        paragraph(document, size=8)
        headings = appendix_headings(appendix)
        table = document.add_table(rows=1, cols=len(headings))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        widths = [1.4, 6.4] + [1.35] * len(appendix.fields) + [1.5, 1.5, 1.5, 2.0]
        for cell, text, width in zip(table.rows[0].cells, headings, widths, strict=True):
            cell.width = Cm(width)
            p = first_paragraph(cell)
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            run = p.add_run(text)
            run.bold, run.font.size = True, Pt(10)
        # The heading row repeats on every page.
        header_properties = table.rows[0]._tr.get_or_add_trPr()
        repeat = OxmlElement("w:tblHeader")
        repeat.set(qn("w:val"), "true")
        header_properties.append(repeat)
        # Every row is a copy of one formatted row with its texts set: python-docx's own
        # add_row and its cells took 10 ms a row, 33 s for a national group of 3,300 units
        # (longer than a server worker may take), the copy 0.1 ms.
        prototype = table.add_row()
        for position, (cell, width) in enumerate(zip(prototype.cells, widths, strict=True)):
            cell.width = Cm(width)
            p = first_paragraph(cell)
            p.alignment = (
                WD_ALIGN_PARAGRAPH.LEFT
                if position in (1, len(widths) - 1)
                else WD_ALIGN_PARAGRAPH.CENTER
                if position == 0
                else WD_ALIGN_PARAGRAPH.RIGHT
            )
            run = p.add_run("-")
            run.font.size = Pt(10)
            run.bold = position == len(widths) - 2  # the index
        row_xml = prototype._tr
        table._tbl.remove(row_xml)
        for row in appendix.rows:
            values = [
                str(row.rank),
                row.name,
                *row.fields,
                row.points,
                row.max_points,
                row.index,
                row.band,
            ]
            tr = copy.deepcopy(row_xml)
            for text_element, text in zip(tr.iter(qn("w:t")), values, strict=True):
                text_element.text = _nfc(text)
            table._tbl.append(tr)
        paragraph(document, size=6)
        for text in (band_summary(appendix), decision.appendix_note(appendix)):
            paragraph(document, text, italic=True, size=10, align="justify")

    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


# PDF ----------------------------------------------------------------------------------------


def build_pdf(decision: Decision) -> bytes:
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos
    from fpdf.fonts import FontFace

    class Document(FPDF):
        def header(self):
            # Page numbers at the top centre from the second page (Decree 30).
            if self.page_no() > 1:
                self.set_font("Noto", "", 10)
                self.set_y(8)
                self.cell(0, 5, str(self.page_no()), align="C")
                self.set_y(self.t_margin)

    pdf = Document(orientation="P", unit="mm", format="A4")
    for style, name in FONT_FILES.items():
        pdf.add_font("Noto", style, str(FONTS / name))
    pdf.set_title(_nfc(f"Quyết định công bố Chỉ số cải cách hành chính năm {decision.year}"))
    pdf.set_author(_nfc(decision.issuing_body))
    pdf.set_lang("vi-VN")
    pdf.set_creator("cchc")
    pdf.set_margins(30, 20, 15)
    pdf.set_auto_page_break(True, 20)
    pdf.add_page()
    width = pdf.epw

    def text(line, *, style="", size=13, align="C", w=None, x=None, height=None):
        pdf.set_font("Noto", style, size)
        if x is not None:
            pdf.set_x(x)
        pdf.multi_cell(
            w or 0,
            height or size * 0.5,
            _nfc(line),
            align=align,
            new_x=XPos.LMARGIN,
            new_y=YPos.NEXT,
        )

    # The heading, two columns.
    top = pdf.get_y()
    left_w, right_w = 68, width - 68
    left_x, right_x = pdf.l_margin - 8, pdf.l_margin - 8 + left_w
    pdf.set_xy(left_x, top)
    text(decision.issuing_body_lines, style="B", size=12, w=left_w, x=left_x)
    y = pdf.get_y() + 1
    pdf.set_line_width(0.3)
    pdf.line(left_x + left_w / 2 - 12, y, left_x + left_w / 2 + 12, y)
    pdf.set_y(y + 2)
    text(decision.number_line, size=12, w=left_w, x=left_x)
    left_bottom = pdf.get_y()
    pdf.set_xy(right_x, top)
    text("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", style="B", size=12, w=right_w + 8, x=right_x)
    text("Độc lập - Tự do - Hạnh phúc", style="B", size=13, w=right_w + 8, x=right_x)
    y = pdf.get_y() + 1
    middle = right_x + (right_w + 8) / 2
    pdf.line(middle - 26, y, middle + 26, y)
    pdf.set_y(y + 3)
    text(decision.place_and_date, style="I", size=13, w=right_w + 8, x=right_x)
    pdf.set_y(max(left_bottom, pdf.get_y()) + 8)

    text("QUYẾT ĐỊNH", style="B", size=14)
    text(decision.subject, style="B", size=14)
    y = pdf.get_y() + 1
    pdf.line(pdf.l_margin + width / 2 - 20, y, pdf.l_margin + width / 2 + 20, y)
    pdf.set_y(y + 5)
    text(decision.authority, style="B", size=14)
    pdf.ln(4)

    def paragraphs(items, *, style=""):
        """Justified paragraphs with a first-line indent; an item may be (bold lead, text)."""
        with pdf.text_columns(text_align="JUSTIFY", line_height=1.3) as columns:
            for item in items:
                lead, line = item if isinstance(item, tuple) else ("", item)
                with columns.paragraph(first_line_indent=12.7, bottom_margin=1.8) as paragraph:
                    if lead:
                        pdf.set_font("Noto", "B", 13)
                        paragraph.write(_nfc(lead) + " ")
                    pdf.set_font("Noto", style, 13)
                    paragraph.write(_nfc(line))

    paragraphs(decision.bases(), style="I")
    pdf.ln(2)
    text("QUYẾT ĐỊNH:", style="B", size=14)
    pdf.ln(3)
    paragraphs(
        [
            (title, line) if position == 0 else line
            for title, lines in decision.articles()
            for position, line in enumerate(lines)
        ]
    )

    # Recipients | signer, kept together on one page.
    if pdf.get_y() > pdf.h - 75:
        pdf.add_page()
    pdf.ln(4)
    top = pdf.get_y()
    half = width / 2
    pdf.set_xy(pdf.l_margin, top)
    pdf.set_font("Noto", "BI", 12)
    pdf.cell(half, 6, "Nơi nhận:", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    for line in decision.recipients():
        pdf.set_font("Noto", "", 11)
        pdf.cell(half, 5, _nfc(line), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_xy(pdf.l_margin + half, top)
    for line in decision.signer_lines:
        text(line, style="B", size=13, w=half, x=pdf.l_margin + half)
    pdf.set_y(pdf.get_y() + 24)
    text(decision.signed_by or " ", style="B", size=13, w=half, x=pdf.l_margin + half)

    # One appendix per group, landscape.
    for number, appendix in enumerate(decision.appendices, start=1):
        pdf.set_margins(15, 15, 15)
        pdf.set_auto_page_break(True, 12)
        pdf.add_page(orientation="L")
        text(f"Phụ lục {roman(number)}", style="B", size=13)
        text(
            f"CHỈ SỐ CẢI CÁCH HÀNH CHÍNH NĂM {decision.year} CỦA {appendix.group_name.upper()}",
            style="B",
            size=13,
        )
        text(decision.reference, style="I", size=11)
        pdf.ln(2)
        pdf.set_font("Noto", "I", 9)
        pdf.multi_cell(
            0, 4.3, _nfc(field_legend(appendix)), align="J", new_x=XPos.LMARGIN, new_y=YPos.NEXT
        )
        pdf.ln(2)
        headings = appendix_headings(appendix)
        fields = len(appendix.fields)
        widths = [14, 84] + [12] * fields + [16, 16, 15, 20]
        scale = min(1, (pdf.epw - 0.01) / sum(widths))
        widths = [int(w * scale * 100) / 100 for w in widths]
        size = 8.5
        name_room = widths[1] - 2
        pdf.set_font("Noto", "", size)
        with pdf.table(
            col_widths=widths,
            width=sum(widths),
            text_align=("CENTER", "LEFT", *["RIGHT"] * (fields + 3), "LEFT"),
            line_height=4.2,
            headings_style=FontFace(emphasis="BOLD", size_pt=size),
            repeat_headings=1,
            padding=(0.8, 1, 0.8, 1),
        ) as table:
            heading = table.row()
            for label in headings:
                heading.cell(label, align="CENTER")
            for row in appendix.rows:
                cells = table.row()
                cells.cell(str(row.rank))
                # A long name is set smaller rather than broken over two lines.
                name = _nfc(row.name)
                name_size = size
                while name_size > 6 and pdf.get_string_width(name) * name_size / size > name_room:
                    name_size -= 0.25
                cells.cell(name, style=FontFace(size_pt=name_size))
                for value in row.fields:
                    cells.cell(value)
                cells.cell(row.points)
                cells.cell(row.max_points)
                cells.cell(row.index, style=FontFace(emphasis="BOLD"))
                cells.cell(_nfc(row.band))
        pdf.ln(2)
        for line in (band_summary(appendix), decision.appendix_note(appendix)):
            pdf.set_font("Noto", "I", 9)
            pdf.multi_cell(0, 4.5, _nfc(line), align="J", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(1)
    return bytes(pdf.output())
