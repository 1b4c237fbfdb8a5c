"""Sheets as a PDF for printing and filing: A4 landscape, the record certificate's embedded CJK
font (registered once, by `app.records.certificates.pdf.font`), one table per sheet whose header
row repeats on every page it runs over, and "第 n 页 / 共 m 页" at the foot of each page.

Numbers and dates are written as they read in the workbook (1,234.50, 12.5%, 2026-12-02, local
date-times); text cells wrap between any two hanzi.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from datetime import date, datetime
from io import BytesIO
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    CondPageBreak,
    Flowable,
    LongTable,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    TableStyle,
)

from app.exports.cells import column_width, finite, is_number, local_naive
from app.exports.sheets import Cell, Column, ColumnKind, Sheet
from app.records.certificates.pdf import RENDER_LOCK, font

PAGE = landscape(A4)
MARGIN = 14 * mm
FRAME_W = PAGE[0] - 2 * MARGIN
INK = colors.HexColor("#1f1f1f")
GREY = colors.HexColor("#666666")
RULE = colors.HexColor("#b9b9b9")
HEAD = colors.HexColor("#dde8f4")
STRIPE = colors.HexColor("#f7f7f7")
NUMERIC = frozenset({ColumnKind.INTEGER, ColumnKind.NUMBER, ColumnKind.PERCENT})
CREATOR = "文明实践志愿服务派单系统"
CELL_SIZE = 9
CELL_LEADING = 11.5
PADDING = 4


def document(sheets: Sequence[Sheet], title: str, author: str) -> bytes:
    """The sheets as the bytes of a PDF."""
    with RENDER_LOCK:
        buffer = BytesIO()
        doc = SimpleDocTemplate(
            buffer,
            pagesize=PAGE,
            leftMargin=MARGIN,
            rightMargin=MARGIN,
            topMargin=MARGIN,
            bottomMargin=MARGIN + 4 * mm,
            title=title,
            author=author,
            creator=CREATOR,
            subject=title,
        )
        story: list[Flowable] = [
            Paragraph(_markup(title), _style(16, leading=22)),
            Spacer(1, 4 * mm),
        ]
        for sheet in sheets:
            story.extend(_sheet_flowables(sheet))
        doc.build(story, canvasmaker=_NumberedCanvas)
        return buffer.getvalue()


def _style(size: float, *, leading: float | None = None, **kw: Any) -> ParagraphStyle:
    options: dict[str, Any] = {
        "fontName": font(),
        "fontSize": size,
        "leading": leading or size * 1.35,
        "textColor": INK,
        "wordWrap": "CJK",
    }
    return ParagraphStyle(f"export{size}", **{**options, **kw})


def _markup(text: str) -> str:
    """Text made safe for reportlab's paragraph markup: escaped, control characters dropped."""
    return escape(_plain(text)).replace("\n", "<br/>")


def _plain(text: str) -> str:
    """Text for a plain table cell: control characters but line breaks dropped."""
    return "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch)[0] != "C")


def cell_text(value: Cell, kind: ColumnKind) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if is_number(value):
        if not finite(value):
            return ""
        if kind is ColumnKind.PERCENT:
            return f"{value * 100:.1f}%"
        if kind is ColumnKind.NUMBER:
            return f"{value:,.2f}"
        return str(value) if isinstance(value, int) else f"{value:,.2f}"
    if isinstance(value, datetime):
        moment = local_naive(value)
        return moment.date().isoformat() if kind is ColumnKind.DATE else f"{moment:%Y-%m-%d %H:%M}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _widths(columns: Sequence[Column], rows: Sequence[Sequence[Cell]]) -> list[float]:
    """Column widths in points: each column's measured width, scaled to the frame."""
    measured = [
        column_width(column, (r[i] for r in rows if i < len(r))) for i, column in enumerate(columns)
    ]
    total = sum(measured) or 1
    return [FRAME_W * m / total for m in measured]


def _sheet_flowables(sheet: Sheet) -> list[Flowable]:
    heading = sheet.name if not sheet.title else f"{sheet.name}　{sheet.title}"
    out: list[Flowable] = [
        CondPageBreak(40 * mm),
        Paragraph(_markup(heading), _style(12.5, leading=18, spaceBefore=4, spaceAfter=6)),
    ]
    columns = list(sheet.columns)
    if columns:
        head_style = _style(9.5, leading=12)
        text_style = _style(CELL_SIZE, leading=CELL_LEADING)
        number_style = _style(CELL_SIZE, leading=CELL_LEADING, alignment=2)
        header = [Paragraph(_markup(c.header), head_style) for c in columns]
        widths = _widths(columns, sheet.rows)
        room = [w - 2 * PADDING for w in widths]
        styles = [number_style if c.kind in NUMERIC else text_style for c in columns]

        def cell(value: Cell, i: int) -> str | Paragraph:
            # A Paragraph only where the text must wrap: plain strings lay out far faster.
            text = _plain(cell_text(value, columns[i].kind))
            if "\n" not in text and stringWidth(text, font(), CELL_SIZE) <= room[i]:
                return text
            return Paragraph(_markup(text), styles[i])

        body = [
            [cell(row[i] if i < len(row) else None, i) for i in range(len(columns))]
            for row in sheet.rows
        ]
        table = LongTable([header, *body], colWidths=widths, repeatRows=1)
        commands: list[tuple[Any, ...]] = [
            ("GRID", (0, 0), (-1, -1), 0.4, RULE),
            ("BACKGROUND", (0, 0), (-1, 0), HEAD),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("FONT", (0, 1), (-1, -1), font(), CELL_SIZE, CELL_LEADING),
            ("TEXTCOLOR", (0, 1), (-1, -1), INK),
            ("TOPPADDING", (0, 0), (-1, -1), 3),
            ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
            ("LEFTPADDING", (0, 0), (-1, -1), PADDING),
            ("RIGHTPADDING", (0, 0), (-1, -1), PADDING),
            *(
                ("ALIGN", (i, 1), (i, -1), "RIGHT")
                for i, c in enumerate(columns)
                if c.kind in NUMERIC
            ),
        ]
        if len(body) > 1:
            commands.append(("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, STRIPE]))
        table.setStyle(TableStyle(commands))
        out.append(table)
        if not body:
            out.append(Paragraph("（无记录）", _style(9, textColor=GREY, spaceBefore=3)))
    for note in sheet.notes:
        out.append(Paragraph(_markup(note), _style(9, textColor=GREY, spaceBefore=3)))
    out.append(Spacer(1, 6 * mm))
    return out


class _NumberedCanvas(Canvas):
    """Holds each page back until the end, so that every foot can say how many pages there are."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("pageCompression", 1)
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []

    def showPage(self) -> None:  # reportlab's name
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            self.setFont(font(), 8.5)
            self.setFillColor(GREY)
            self.drawCentredString(PAGE[0] / 2, MARGIN - 2 * mm, f"第 {number} 页 / 共 {total} 页")
            super().showPage()
        super().save()
