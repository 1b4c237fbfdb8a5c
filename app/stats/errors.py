"""Errors of the statistics API (periods, buckets, figure keys, sections) and of the ranking
of units."""

from __future__ import annotations

from app.errors import BadRequest, NotFound


class PeriodInverted(BadRequest):
    code = "STATS_PERIOD_INVERTED"
    message = "开始日期不能晚于结束日期"


class PeriodTooLong(BadRequest):
    code = "STATS_PERIOD_TOO_LONG"
    message = "统计时段最长 3 年"


class TooManyDays(BadRequest):
    code = "STATS_TOO_MANY_BUCKETS"
    message = "按日统计最多 366 天，请缩短时段或改为按周、按月统计"


class DateOutOfRange(BadRequest):
    code = "STATS_DATE_OUT_OF_RANGE"
    message = "统计日期应在 2000 年 1 月 1 日至 2099 年 12 月 31 日之间"


class FigureNotFound(NotFound):
    code = "STATS_FIGURE_NOT_FOUND"
    message = "统计指标不存在（或没有该分组）"


class SectionNotFound(NotFound):
    code = "STATS_SECTION_NOT_FOUND"
    message = "统计板块不存在"


class SectionRequired(BadRequest):
    code = "STATS_SECTION_REQUIRED"
    message = "导出 CSV 须指定一个统计板块（section）"


class RankingIndicatorUnknown(BadRequest):
    code = "RANKING_INDICATOR_UNKNOWN"
    message = "考核指标不存在"


class RankingIndicatorRepeated(BadRequest):
    code = "RANKING_INDICATOR_REPEATED"
    message = "同一考核指标只能设置一次权重"


class RankingWeightOutOfRange(BadRequest):
    code = "RANKING_WEIGHT_OUT_OF_RANGE"
    message = "权重应为 0 到 100 之间的整数"


class RankingWeightsAllZero(BadRequest):
    code = "RANKING_WEIGHTS_ALL_ZERO"
    message = "至少要有一项考核指标的权重大于 0"


class RankingPeriodTooLong(BadRequest):
    code = "RANKING_PERIOD_TOO_LONG"
    message = "考核时段最长 3 年"


class RankingPeriodInvalid(BadRequest):
    code = "RANKING_PERIOD_INVALID"
    message = "统计时段不正确：开始日期不能晚于结束日期，且须在 1901 至 2099 年之间"
