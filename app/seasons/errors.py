"""Errors of the 四季红 seasons and the festival calendar."""

from __future__ import annotations

from app.errors import BadRequest, Conflict, NotFound


class SeasonNotFound(NotFound):
    code = "SEASON_NOT_FOUND"
    message = "季节主题不存在"


class SeasonPeriodInvalid(BadRequest):
    code = "SEASON_PERIOD_INVALID"
    message = "时段日期不正确，应为实际存在的月-日（MM-DD），如 02-29、12-31"


class SeasonPeriodsOverlap(Conflict):
    code = "SEASON_PERIODS_OVERLAP"
    message = "时段与已有时段重叠，同一天只能属于一个季节"


class UnknownCategory(BadRequest):
    code = "UNKNOWN_CATEGORY"
    message = "所选服务类别不存在或已停用"


class AffinityWeightInvalid(BadRequest):
    code = "AFFINITY_WEIGHT_INVALID"
    message = "契合度应在 0 到 1 之间"


class YearOutOfRange(BadRequest):
    code = "YEAR_OUT_OF_RANGE"
    message = "年份超出范围，应在 1901 至 2099 年之间"
