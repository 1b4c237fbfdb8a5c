from __future__ import annotations

from app.auth.deps import AdminUser, CurrentUser
from app.db import SessionDep
from app.models import SeasonTheme
from app.routing import make_router
from app.schemas import CodePath
from app.seasons import service
from app.seasons.festivals import MAX_YEAR
from app.seasons.monthdays import Period
from app.seasons.schemas import (
    AffinitiesIn,
    CurrentSeasonOut,
    DateRangeOut,
    FestivalOut,
    FestivalsOut,
    PeriodIO,
    PeriodsIn,
    SeasonConfigOut,
    SeasonOut,
    SeasonYearOut,
    YearOut,
    YearPath,
    YearQuery,
)

router = make_router(prefix="/seasons", tags=["四季红"])


def _season(theme: SeasonTheme) -> SeasonOut:
    return SeasonOut(code=theme.code, name=theme.name, description=theme.description)


def _config(config: service.SeasonConfig) -> SeasonConfigOut:
    season = config.season
    return SeasonConfigOut(
        code=season.code,
        name=season.name,
        description=season.description,
        sort_order=season.sort_order,
        is_active=season.is_active,
        periods=[PeriodIO(start_md=p.start_md, end_md=p.end_md) for p in config.periods],
        affinities=config.affinities,
    )


@router.get("", response_model=list[SeasonConfigOut], summary="四季红：各季节的时段与类别契合度")
def seasons(
    session: SessionDep, _actor: CurrentUser, include_inactive: bool = False
) -> list[SeasonConfigOut]:
    """任何已登录用户：
    四季红的四个季节（亲情季、成长季、丰收季、诚信季）及各自的时段与各服务类别的契合度。
    include_inactive=true 时同时列出已停用的季节。
    """
    configs = service.season_configs(session=session, include_inactive=include_inactive)
    return [_config(c) for c in configs]


@router.get("/current", response_model=CurrentSeasonOut, summary="今天所在的季节")
def current(session: SessionDep, _actor: CurrentUser) -> CurrentSeasonOut:
    """任何已登录用户：今天（本市时区）所在的季节、时段、剩余天数与类别契合度；
    不在任何季节时 season 为 null。
    点单时可用来预填季节主题。
    """
    found = service.current(session=session)
    return CurrentSeasonOut(
        local_date=found.local_date,
        season=_season(found.season) if found.season is not None else None,
        period=DateRangeOut.of(found.period) if found.period is not None else None,
        days_left=found.days_left,
        affinities=found.affinities,
    )


@router.get("/year/{year}", response_model=YearOut, summary="某年的四季红日历与节日")
def year_view(year: YearPath, session: SessionDep, _actor: CurrentUser) -> YearOut:
    """任何已登录用户：某年的四季红日历，各季节的起止日期，
    以及按农历推算的传统节日（春节、元宵、清明、端午、七夕、中秋、重阳）。
    年份超出支持范围返回 400 YEAR_OUT_OF_RANGE。
    """
    view = service.year_view(session=session, year=year)
    return YearOut(
        year=view.year,
        seasons=[
            SeasonYearOut(
                **_season(s.season).model_dump(),
                ranges=[DateRangeOut.of(r) for r in s.ranges],
                days=s.days,
                festivals=[FestivalOut.of(f, s.season.code) for f in s.festivals],
            )
            for s in view.seasons
        ],
        unassigned=[DateRangeOut.of(r) for r in view.unassigned],
        festivals=[FestivalOut.of(f, code) for f, code in view.festivals],
    )


@router.get(
    "/festivals",
    response_model=FestivalsOut,
    summary="我们的节日：某年（默认今年和明年）的传统节日日期",
    description=(
        "春节、元宵、清明、端午、七夕、中秋、重阳与中国农民丰收节（秋分），按农历与节气推算。"
        "不填 `year` 时返回城市当地今年和明年的节日，便于提前策划跨年的主题活动。"
    ),
)
def festivals(session: SessionDep, _actor: CurrentUser, year: YearQuery = None) -> FestivalsOut:
    if year is not None:
        years = [year]
    else:
        this_year = service.local_date().year
        years = [y for y in (this_year, this_year + 1) if y <= MAX_YEAR]
    found = service.festivals_with_seasons(session=session, years=years)
    return FestivalsOut(years=years, festivals=[FestivalOut.of(f, code) for f, code in found])


@router.put("/{code}/periods", response_model=SeasonConfigOut, summary="管理员：设置季节的时段")
def replace_periods(
    code: CodePath, body: PeriodsIn, session: SessionDep, _admin: AdminUser
) -> SeasonConfigOut:
    """管理员：整体替换某季节的时段（可跨越年末）；
    时段与其他季节重叠返回 409 SEASON_PERIODS_OVERLAP。
    返回修改后的季节。
    """
    periods = [Period(p.start_md, p.end_md) for p in body.periods]
    return _config(service.replace_periods(session=session, season_code=code, periods=periods))


@router.put(
    "/{code}/affinities", response_model=SeasonConfigOut, summary="管理员：设置季节的类别契合度"
)
def set_affinities(
    code: CodePath, body: AffinitiesIn, session: SessionDep, _admin: AdminUser
) -> SeasonConfigOut:
    """管理员：整体替换某季节与各服务类别的契合度（匹配评分时使用）；
    类别不存在返回 400 UNKNOWN_CATEGORY。
    返回修改后的季节。
    """
    return _config(service.set_affinities(session=session, season_code=code, weights=body.weights))
