"""Errors of the statistics and the ranking of units."""

from __future__ import annotations

from app.errors import BadRequest


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


class RankingPeriodInvalid(BadRequest):
    code = "RANKING_PERIOD_INVALID"
    message = "统计时段不正确：开始日期不能晚于结束日期，且须在 1901 至 2099 年之间"
