"""The PDF of a record certificate (志愿服务记录证明): one A4 page, Chinese, font embedded.

The font is WenQuanYi Micro Hei, shipped in `fonts/` (a subset covering every CJK Unified
Ideograph; Apache 2.0, see `fonts/README.md`): viewers do not substitute a CJK font reliably, so
the PDF must carry its own, and reportlab embeds only TrueType outlines (it embeds the glyphs
a document uses, as `FontFile2`).
"""

from __future__ import annotations

import threading
from datetime import datetime
from functools import cache
from io import BytesIO
from pathlib import Path
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_JUSTIFY
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Paragraph, Table, TableStyle

from app import clock
from app.models import Certificate
from app.records.certificates.service import VERIFY_PATH, hours_text

FONT_FILE = Path(__file__).parent / "fonts" / "wqy-microhei-subset.ttf"
FONT = "WenQuanYiMicroHei"

RED = colors.HexColor("#9b1c1c")
INK = colors.HexColor("#1f1f1f")
GREY = colors.HexColor("#666666")
RULE = colors.HexColor("#b9b9b9")
SHADE = colors.HexColor("#f6efe6")

PAGE_W, PAGE_H = A4
MARGIN = 24 * mm  # text margin, inside the border
TEXT_W = PAGE_W - 2 * MARGIN
LABEL_W = 30 * mm

# The registered font object (and reportlab's per-document state kept on it) is shared by every
# thread; a page takes about 20 ms, so renders simply take turns. Every document set in this font
# (the exported ledger's PDF too) renders under this lock.
RENDER_LOCK = threading.Lock()


@cache
def font() -> str:
    """Register the embedded font once per process; its name."""
    pdfmetrics.registerFont(TTFont(FONT, str(FONT_FILE)))
    return FONT


def date_text(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    day = clock.to_local(moment)
    return f"{day.year}年{day.month}月{day.day}日"


def _style(size: float, *, leading: float | None = None, **kw: object) -> ParagraphStyle:
    options: dict[str, object] = {
        "fontName": font(),
        "fontSize": size,
        "leading": leading or size * 1.5,
        "textColor": INK,
        "wordWrap": "CJK",  # break between any two hanzi
    }
    return ParagraphStyle(f"cjk{size}", **{**options, **kw})


def _fields_table(
    certificate: Certificate, unit_name: str, content: str, content_size: float
) -> Table:
    label = _style(11, textColor=GREY)
    value = _style(11.5)
    content_style = _style(content_size, alignment=TA_JUSTIFY)
    hours = hours_text(certificate.minutes)
    first, last = date_text(certificate.first_service_at), date_text(certificate.last_service_at)
    period = f"{first} 至 {last}"
    rows = [
        ("志愿者姓名", Paragraph(escape(certificate.volunteer_name), value)),
        ("志愿者编号", Paragraph(str(certificate.volunteer_id), value)),
        (
            "服务时长",
            Paragraph(f"{hours} 小时（计入服务记录 {certificate.entry_count} 条）", value),
        ),
        ("服务期间", Paragraph(period, value)),
        ("服务内容", Paragraph(escape(content) or "—", content_style)),
        ("出具单位", Paragraph(escape(unit_name), value)),
        ("证明编号", Paragraph(escape(certificate.number), value)),
        ("出具日期", Paragraph(date_text(certificate.issued_at), value)),
    ]
    table = Table(
        [[Paragraph(name, label), cell] for name, cell in rows],
        colWidths=[LABEL_W, TEXT_W - LABEL_W],
    )
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, RULE),
                ("BACKGROUND", (0, 0), (0, -1), SHADE),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 5),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
                ("LEFTPADDING", (0, 0), (-1, -1), 7),
                ("RIGHTPADDING", (0, 0), (-1, -1), 7),
            ]
        )
    )
    return table


def _fitting_table(certificate: Certificate, unit_name: str, height: float) -> Table:
    """The fields table at the largest content size that fits `height`; a content summary
    too long even at the smallest size is cut (the full text is in the API and the ledger)."""
    content = certificate.content
    for size in (11, 10, 9, 8):
        table = _fields_table(certificate, unit_name, content, size)
        if table.wrap(TEXT_W, height)[1] <= height:
            return table
    keep = len(content)
    while keep > 40:
        keep -= 40
        table = _fields_table(certificate, unit_name, content[:keep] + "……", 8)
        if table.wrap(TEXT_W, height)[1] <= height:
            return table
    return _fields_table(certificate, unit_name, "……", 8)


def _fitting_size(text: str, size: float, width: float = TEXT_W) -> float:
    """`size`, or smaller so that one line of `text` fits `width` (long unit names)."""
    natural = pdfmetrics.stringWidth(text, font(), size)
    return size if natural <= width else size * width / natural


def render(certificate: Certificate, *, unit_name: str) -> bytes:
    """The certificate as a one-page PDF."""
    with RENDER_LOCK:
        return _render(certificate, unit_name)


def _render(certificate: Certificate, unit_name: str) -> bytes:
    name = font()
    buffer = BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1, initialFontName=name)
    canvas.setTitle(f"志愿服务记录证明 {certificate.number}")
    canvas.setAuthor(unit_name)
    canvas.setSubject("志愿服务记录证明")
    canvas.setCreator("文明实践志愿服务派单系统")

    # Border: a heavy outer rule and a fine inner one.
    canvas.setStrokeColor(RED)
    canvas.setLineWidth(2.2)
    canvas.rect(12 * mm, 12 * mm, PAGE_W - 24 * mm, PAGE_H - 24 * mm)
    canvas.setLineWidth(0.6)
    canvas.rect(14.5 * mm, 14.5 * mm, PAGE_W - 29 * mm, PAGE_H - 29 * mm)

    # Title, drawn filled and stroked to read as bold (the font has one weight).
    y = PAGE_H - 46 * mm
    canvas.saveState()  # the render mode and spacing are page state: keep them to the title
    title = canvas.beginText()
    title.setFont(name, 28)
    title.setFillColor(RED)
    title.setTextRenderMode(2)
    canvas.setStrokeColor(RED)
    canvas.setLineWidth(0.7)
    text = "志愿服务记录证明"
    spacing = 4
    width = pdfmetrics.stringWidth(text, name, 28) + spacing * (len(text) - 1)
    title.setTextOrigin((PAGE_W - width) / 2, y)
    title.setCharSpace(spacing)
    title.textOut(text)
    canvas.drawText(title)
    canvas.restoreState()
    canvas.setFillColor(GREY)
    canvas.setFont(name, 10)
    canvas.drawRightString(PAGE_W - MARGIN, y - 12 * mm, f"证明编号：{certificate.number}")

    # The certifying sentence.
    hours = hours_text(certificate.minutes)
    unit = escape(unit_name)
    first = date_text(certificate.first_service_at)
    last = date_text(certificate.last_service_at)
    name_markup = f"<u>{escape(certificate.volunteer_name)}</u>"
    hours_markup = f"<font color='#9b1c1c'>{hours}</font>"
    body = Paragraph(
        f"兹证明{name_markup}（志愿者编号：{certificate.volunteer_id}）于 {first} 至 {last}"
        f" 期间，参加由{unit}及其所属单位记录的志愿服务，累计服务时长 {hours_markup} 小时。",
        _style(13.5, leading=26, firstLineIndent=27, alignment=TA_JUSTIFY),
    )
    y -= 22 * mm
    _, height = body.wrap(TEXT_W, PAGE_H)
    body.drawOn(canvas, MARGIN, y - height)
    y -= height + 8 * mm

    # The closing statement, signature and verification line take the bottom of the page; the
    # fields table gets what is left.
    statement = Paragraph(
        f"以上志愿服务记录由{unit}依据《志愿服务条例》和《志愿服务记录与证明出具办法》"
        "如实记录，特此证明。",
        _style(12, leading=22, firstLineIndent=24, alignment=TA_JUSTIFY),
    )
    _, statement_h = statement.wrap(TEXT_W, PAGE_H)
    bottom = 30 * mm + 34 * mm + statement_h + 6 * mm
    table = _fitting_table(certificate, unit_name, y - bottom)
    _, table_h = table.wrap(TEXT_W, y - bottom)
    table.drawOn(canvas, MARGIN, y - table_h)
    y -= table_h + 8 * mm
    statement.drawOn(canvas, MARGIN, y - statement_h)
    y -= statement_h + 16 * mm

    # Signature block, right-aligned: the issuing unit (seal) and the date.
    canvas.setFillColor(INK)
    signature = f"出具单位：{unit_name}（盖章）"
    canvas.setFont(name, _fitting_size(signature, 12.5))
    canvas.drawRightString(PAGE_W - MARGIN, y, signature)
    canvas.setFont(name, 12.5)
    canvas.drawRightString(PAGE_W - MARGIN, y - 9 * mm, date_text(certificate.issued_at))

    # Verification line.
    canvas.setStrokeColor(RULE)
    canvas.setLineWidth(0.5)
    canvas.line(MARGIN, 30 * mm, PAGE_W - MARGIN, 30 * mm)
    canvas.setFillColor(GREY)
    canvas.setFont(name, 9)
    verify = VERIFY_PATH.format(number=certificate.number)
    canvas.drawString(MARGIN, 25 * mm, f"查验：{verify}")
    canvas.drawString(
        MARGIN, 20.5 * mm, "凭证明编号可查验本证明的真伪；查验结果仅显示脱敏后的姓名。"
    )
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
