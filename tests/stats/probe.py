"""A small real statistics section for the API's tests: every figure an SQL aggregate over the
unit's subtree and window, every drill the ids those aggregates count, one figure of each drill
kind, a breakdown by category and a rate."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from app.models import Category, HoursEntry, OrgUnit, Wish, WishEventRecord
from app.models.enums import OrgLevel, WishStatus
from app.org_units.service import in_subtree
from app.stats.figures import SECTIONS, DrillKind, Figure, Scope, Section, register

KEY = "probe"


def _wishes(scope: Scope) -> Select[tuple[int]]:
    return (
        select(Wish.id)
        .join(OrgUnit, OrgUnit.id == Wish.station_id)
        .where(
            in_subtree(OrgUnit.path, scope.unit.path),
            Wish.submitted_at >= scope.starts_at,
            Wish.submitted_at < scope.ends_at,
        )
    )


def _events(scope: Scope) -> Select[tuple[int]]:
    return (
        select(WishEventRecord.id)
        .join(Wish, Wish.id == WishEventRecord.wish_id)
        .join(OrgUnit, OrgUnit.id == Wish.station_id)
        .where(
            in_subtree(OrgUnit.path, scope.unit.path),
            WishEventRecord.created_at >= scope.starts_at,
            WishEventRecord.created_at < scope.ends_at,
        )
    )


def _hours(scope: Scope) -> Select[tuple[int]]:
    return (
        select(HoursEntry.id)
        .join(OrgUnit, OrgUnit.id == HoursEntry.unit_id)
        .where(
            in_subtree(OrgUnit.path, scope.unit.path),
            HoursEntry.category == "service",
            HoursEntry.started_at >= scope.starts_at,
            HoursEntry.started_at < scope.ends_at,
        )
    )


def _stations(scope: Scope) -> Select[tuple[int]]:
    return select(OrgUnit.id).where(
        in_subtree(OrgUnit.path, scope.unit.path), OrgUnit.level == OrgLevel.VILLAGE
    )


def compute(session: Session, scope: Scope) -> list[Figure]:
    wishes = _wishes(scope).subquery()
    total = session.scalar(select(func.count()).select_from(wishes)) or 0
    closed = session.scalar(
        select(func.count()).select_from(
            _wishes(scope).where(Wish.status == WishStatus.CLOSED).subquery()
        )
    )
    figures = [
        Figure(f"{KEY}.wishes", "点单数", total, "件", DrillKind.WISHES),
        *(
            Figure(f"{KEY}.wishes", "点单数", n, "件", DrillKind.WISHES, code, name)
            for code, name, n in session.execute(
                select(Wish.category_code, Category.name, func.count())
                .join(Category, Category.code == Wish.category_code)
                .where(Wish.id.in_(select(wishes.c.id)))
                .group_by(Wish.category_code, Category.name)
                .order_by(Wish.category_code)
            )
        ),
        Figure(
            f"{KEY}.closed_rate",
            "办结率",
            (closed or 0) / total if total else None,
            "%",
            DrillKind.WISHES,
        ),
        Figure(f"{KEY}.events", "事件数", _count(session, _events(scope)), "件", DrillKind.EVENTS),
        Figure(
            f"{KEY}.hours",
            "服务时长",
            round(
                (
                    session.scalar(
                        select(func.coalesce(func.sum(HoursEntry.minutes), 0)).where(
                            HoursEntry.id.in_(_hours(scope))
                        )
                    )
                    or 0
                )
                / 60,
                2,
            ),
            "小时",
            DrillKind.HOURS,
        ),
        Figure(
            f"{KEY}.volunteers",
            "服务志愿者",
            _count(session, _served_by(scope)),
            "人",
            DrillKind.VOLUNTEERS,
        ),
        Figure(
            f"{KEY}.stations", "实践站", _count(session, _stations(scope)), "个", DrillKind.UNITS
        ),
    ]
    return figures


def _served_by(scope: Scope) -> Select[tuple[int]]:
    return select(HoursEntry.volunteer_id).where(HoursEntry.id.in_(_hours(scope))).distinct()


def _count(session: Session, query: Select[tuple[int]]) -> int:
    return session.scalar(select(func.count()).select_from(query.subquery())) or 0


def drill(session: Session, scope: Scope, key: str, group: str | None) -> list[int]:
    name = key.removeprefix(f"{KEY}.")
    query: Select[tuple[int]]
    if name == "wishes":
        query = _wishes(scope)
        if group is not None:
            query = query.where(Wish.category_code == group)
    elif name == "closed_rate":
        query = _wishes(scope).where(Wish.status == WishStatus.CLOSED)
    elif name == "events":
        query = _events(scope)
    elif name == "hours":
        query = _hours(scope)
    elif name == "volunteers":
        query = _served_by(scope)
    else:
        query = _stations(scope)
    return sorted(session.scalars(query))


SECTION = Section(key=KEY, label="测试板块", compute=compute, drill=drill)


@contextmanager
def registered() -> Iterator[Section]:
    """The probe section registered for the duration."""
    register(SECTION)
    try:
        yield SECTION
    finally:
        SECTIONS.remove(SECTION)
