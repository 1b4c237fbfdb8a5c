"""The errors of the exports (the station's ledger), with their stable codes."""

from __future__ import annotations

from app.errors import BadRequest, TooManyRequests


class LedgerPeriodInverted(BadRequest):
    code = "LEDGER_PERIOD_INVERTED"
    message = "开始日期不能晚于结束日期"


class LedgerPeriodTooLong(BadRequest):
    code = "LEDGER_PERIOD_TOO_LONG"
    message = "台账时段最长 1 年，请分段导出"


class LedgerDateOutOfRange(BadRequest):
    code = "LEDGER_DATE_OUT_OF_RANGE"
    message = "台账日期应在 2000 年 1 月 1 日至 2099 年 12 月 31 日之间"


class LedgerTooLargeForPdf(BadRequest):
    code = "LEDGER_TOO_LARGE_FOR_PDF"
    message = "台账行数过多，无法生成 PDF，请缩短时段、选择下级单位或导出 Excel"


class LedgerPdfBusy(TooManyRequests):
    code = "LEDGER_PDF_BUSY"
    message = "另一份台账 PDF 正在生成，请稍后再试，或导出 Excel"
