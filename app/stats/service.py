"""What the statistics API answers, over the registered sections (app/stats/figures.py): the
figures of a unit's subtree over a period, one figure's series over buckets, the rows one
figure counts, and the tables an export writes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.exports.sheets import Column, ColumnKind, Sheet
from app.models import (
    Activity,
    ActivitySession,
    ActivitySignup,
    Attendance,
    Category,
    HoursEntry,
    OrgUnit,
    User,
    Volunteer,
    Wish,
    WishEventRecord,
)
from app.privacy.masking import shown_name
from app.schemas import hours_of
from app.stats import all_sections as _all_sections  # noqa: F401 - every section registered
from app.stats.errors import FigureNotFound, SectionNotFound
from app.stats.figures import DrillKind, Figure, Scope, Section, compute_each, sections
from app.stats.periods import BucketKind, buckets, scope_of
from app.stats.queries import for_statistics
from app.stats.together import computed_together
from app.wishes.state import EVENT_LABELS, WishEvent

PERCENT = "%"
# The order sections are shown in; a section not named here follows, in registration order.
ORDER = ("intake", "speed", "outcomes", "people", "coverage", "seasons")


@dataclass(frozen=True)
class Computed:
    section: Section
    figures: list[Figure]


@dataclass(frozen=True)
class Point:
    label: str
    first: date
    last: date
    value: float | int | None


@dataclass(frozen=True)
class Item:
    id: int
    label: str
    at: datetime | None


@dataclass(frozen=True)
class Drilled:
    figure: Figure
    total: int
    items: list[Item]


def ordered() -> list[Section]:
    """The registered sections in the order they are shown (ORDER)."""
    found = list(sections())
    rank = {key: place for place, key in enumerate(ORDER)}
    return sorted(found, key=lambda s: (rank.get(s.key, len(ORDER)), found.index(s)))


def find_section(key: str) -> Section:
    for section in sections():
        if section.key == key:
            return section
    raise SectionNotFound(details={"section": key})


def _section_of(figure_key: str) -> Section:
    """The section a figure key belongs to (`intake.wishes` → intake)."""
    wanted = figure_key.split(".", 1)[0]
    for section in sections():
        if section.key == wanted:
            return section
    raise FigureNotFound(details={"key": figure_key})


def _pick(figures: Sequence[Figure], key: str, group: str | None) -> Figure | None:
    return next((f for f in figures if f.key == key and f.group == group), None)


def _figure(session: Session, scope: Scope, key: str, group: str | None) -> Figure:
    """The figure `key` (of `group`) over the scope; 404 when its section does not give it."""
    figures = _section_of(key).compute(session, scope)
    found = _pick(figures, key, group)
    if found is None:
        groups = sorted({f.group for f in figures if f.key == key and f.group is not None})
        raise FigureNotFound(details={"key": key, "group": group, "groups": groups})
    return found


def overview(
    session: Session, unit: OrgUnit, first: date, last: date, section: str | None = None
) -> list[Computed]:
    """Every section's figures (or the one section named) over the period: on PostgreSQL on
    several connections sharing the transaction's snapshot (`app.stats.together`)."""
    for_statistics(session)
    scope = scope_of(unit, first, last)
    chosen = [find_section(section)] if section is not None else ordered()
    figures = computed_together(session, scope, chosen)
    if figures is None:
        figures = [s.compute(session, scope) for s in chosen]
    return [Computed(s, found) for s, found in zip(chosen, figures, strict=True)]


def series(
    session: Session,
    unit: OrgUnit,
    *,
    key: str,
    group: str | None,
    first: date,
    last: date,
    kind: BucketKind,
) -> tuple[Figure, list[Point]]:
    """The figure over the whole period and its value in each bucket (None where a bucket has
    no such figure, or it is undefined there: a rate over nothing)."""
    for_statistics(session)
    cut = buckets(kind, first, last, session)
    whole = _figure(session, scope_of(unit, first, last), key, group)
    section = _section_of(key)
    scopes = [scope_of(unit, bucket.first, bucket.last) for bucket in cut]
    points = []
    for bucket, figures in zip(cut, compute_each(section, session, scopes), strict=True):
        found = _pick(figures, key, group)
        points.append(
            Point(bucket.label, bucket.first, bucket.last, found.value if found else None)
        )
    return whole, points


def drill(
    session: Session,
    unit: OrgUnit,
    *,
    key: str,
    group: str | None,
    first: date,
    last: date,
    limit: int,
    offset: int,
) -> Drilled:
    """The rows the figure counts, `limit` from `offset`, and how many there are."""
    for_statistics(session)
    scope = scope_of(unit, first, last)
    figure = _figure(session, scope, key, group)
    ids = _section_of(key).drill(session, scope, key, group)
    shown = ids[offset : offset + limit]
    return Drilled(figure, len(ids), items_of(session, figure.drill, shown))


# ---------------------------------------------------------------- drill-down rows


def items_of(session: Session, kind: DrillKind, ids: Sequence[int]) -> list[Item]:
    """The rows with these ids, each named for a coordinator to check by hand, in the order
    given. Volunteers are shown by masked name (a deleted account as 已注销用户): alone, or
    after the activity of a place taken or the occasion of a service record."""
    if not ids:
        return []
    found: dict[int, Item] = {}
    wanted = list(ids)
    if kind == DrillKind.WISHES:
        rows = session.execute(
            select(Wish.id, Wish.title, Category.name, Wish.created_at)
            .join(Category, Category.code == Wish.category_code)
            .where(Wish.id.in_(wanted))
        )
        found = {r[0]: Item(r[0], f"{r[1]}（{r[2]}）", r[3]) for r in rows}
    elif kind == DrillKind.EVENTS:
        events = session.execute(
            select(WishEventRecord.id, WishEventRecord.event, WishEventRecord.created_at).where(
                WishEventRecord.id.in_(wanted)
            )
        )
        found = {r[0]: Item(r[0], _event_label(r[1]), r[2]) for r in events}
    elif kind == DrillKind.HOURS:
        entries = session.execute(
            select(
                HoursEntry.id, HoursEntry.content, HoursEntry.minutes, HoursEntry.started_at
            ).where(HoursEntry.id.in_(wanted))
        )
        found = {r[0]: Item(r[0], f"{r[1]}（{hours_of(r[2])} 小时）", r[3]) for r in entries}
    elif kind == DrillKind.VOLUNTEERS:
        people = session.execute(
            select(Volunteer.id, User.name, Volunteer.created_at)
            .join(User, User.id == Volunteer.user_id)
            .where(Volunteer.id.in_(wanted))
        )
        found = {r[0]: Item(r[0], shown_name(r[1]), r[2]) for r in people}
    elif kind == DrillKind.UNITS:
        units = session.execute(select(OrgUnit.id, OrgUnit.name).where(OrgUnit.id.in_(wanted)))
        found = {r[0]: Item(r[0], r[1], None) for r in units}
    elif kind == DrillKind.ACTIVITIES:
        activities = session.execute(
            select(Activity.id, Activity.title, OrgUnit.name, Activity.starts_at)
            .join(OrgUnit, OrgUnit.id == Activity.unit_id)
            .where(Activity.id.in_(wanted))
        )
        found = {r[0]: Item(r[0], f"{r[1]}（{r[2]}）", r[3]) for r in activities}
    elif kind == DrillKind.SIGNUPS:
        signups = session.execute(
            select(ActivitySignup.id, Activity.title, User.name, ActivitySignup.queued_at)
            .join(Activity, Activity.id == ActivitySignup.activity_id)
            .join(User, User.id == ActivitySignup.user_id)
            .where(ActivitySignup.id.in_(wanted))
        )
        found = {r[0]: Item(r[0], f"{r[1]} · {shown_name(r[2])}", r[3]) for r in signups}
    elif kind == DrillKind.ATTENDANCES:
        records = session.execute(
            select(Attendance.id, Activity.title, User.name, Attendance.checked_in_at)
            .join(Volunteer, Volunteer.id == Attendance.volunteer_id)
            .join(User, User.id == Volunteer.user_id)
            .outerjoin(ActivitySession, ActivitySession.id == Attendance.activity_session_id)
            .outerjoin(Activity, Activity.id == ActivitySession.activity_id)
            .where(Attendance.id.in_(wanted))
        )
        found = {
            r[0]: Item(r[0], f"{r[1] or '服务记录'} · {shown_name(r[2])}", r[3]) for r in records
        }
    return [found[i] for i in wanted if i in found]


def _event_label(event: str) -> str:
    try:
        return EVENT_LABELS[WishEvent(event)]
    except ValueError:
        return event


# ---------------------------------------------------------------- exported tables

FIGURE_COLUMNS = (
    Column("指标", ColumnKind.TEXT, 28),
    Column("分组", ColumnKind.TEXT, 16),
    Column("数值", ColumnKind.NUMBER, 12),
    Column("单位", ColumnKind.TEXT, 8),
)


def shown_value(figure: Figure) -> float | int | None:
    """The value as a sheet shows it: rates (fractions) as percentages, 0.125 → 12.5."""
    if figure.value is None or figure.unit != PERCENT:
        return figure.value
    return round(figure.value * 100, 2)


def sheets(computed: Sequence[Computed], unit: OrgUnit, first: date, last: date) -> list[Sheet]:
    """One table per section: a row per figure (a breakdown's groups one row each)."""
    title = f"{unit.name}　统计时段：{first.isoformat()} 至 {last.isoformat()}"
    return [
        Sheet(
            name=c.section.label,
            columns=FIGURE_COLUMNS,
            rows=[(f.label, f.group_label, shown_value(f), f.unit) for f in c.figures],
            title=title,
            notes=("比率以百分数表示；空白为无法计算（如分母为零）。",),
        )
        for c in computed
    ]
