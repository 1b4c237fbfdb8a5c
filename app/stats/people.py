"""The "people" section (志愿者队伍): registered, new and active volunteers, credited hours and
star levels of a scope. The base rules (what is registered, credited, active) are in
`app.stats.evidence`.

- `people.registered`: volunteers whose home station is in the subtree, registered before the
  window ends.
- `people.new`: of those, registered in the window.
- `people.active`: volunteers with a positive net of credited service minutes in the window, on
  entries recorded by units of the subtree (wherever they live).
- `people.hours`: the net credited service hours of the window (corrections included).
- `people.hours_per_active`: hours over active volunteers (None when nobody was active).
- `people.by_star`, one group per star level (0 = no star): registered volunteers by the
  highest star in effect at the window's end (an award in notice whose notice ended by then;
  held and revoked awards are not in effect), as `records.stars.service.highest_effective`.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from app.models import StarAward, Volunteer
from app.stats import evidence
from app.stats.figures import DrillKind, Figure, Scope, Section, register

KEY = "people"
MAX_SHOWN_STAR = 5  # levels 0..5 are always listed; a higher one only when someone holds it
STAR_LABELS = ("未评星", "一星", "二星", "三星", "四星", "五星")

LABELS = {
    "people.registered": "注册志愿者",
    "people.new": "新注册志愿者",
    "people.active": "活跃志愿者",
    "people.hours": "服务时长",
    "people.hours_per_active": "人均服务时长",
    "people.by_star": "星级志愿者",
}


def star_label(star: int) -> str:
    return STAR_LABELS[star] if star < len(STAR_LABELS) else f"{star}星"


def _stars(session: Session, scope: Scope) -> dict[int, int]:
    """volunteer id → highest star in effect at the window's end, for registered volunteers
    (those with no star absent)."""
    rows = session.execute(
        select(StarAward.volunteer_id, func.max(StarAward.star))
        .where(
            StarAward.volunteer_id.in_(evidence.registered(scope)),
            StarAward.status == "notice",
            StarAward.notice_ends_at <= scope.ends_at,
        )
        .group_by(StarAward.volunteer_id)
    )
    return {int(volunteer): int(star) for volunteer, star in rows}


def _levels(stars: dict[int, int]) -> list[int]:
    return sorted(set(range(MAX_SHOWN_STAR + 1)) | set(stars.values()))


def _at_star(session: Session, scope: Scope, star: int) -> list[int]:
    registered = evidence.ids(session, evidence.registered(scope))
    stars = _stars(session, scope)
    return [v for v in registered if stars.get(v, 0) == star]


def compute(session: Session, scope: Scope) -> list[Figure]:
    # Registered and new in one pass over the volunteers, active and hours in one over the
    # window's entries (the same rows `evidence.registered`, `active` and `hours` read).
    volunteers = evidence.registered(scope).add_columns(_new(scope).label("new")).subquery()
    registered, new = session.execute(
        select(func.count(), func.count(case((volunteers.c.new, 1))))
    ).one()
    entries = evidence.credited(scope).subquery()
    per_volunteer = (
        select(func.sum(entries.c.minutes).label("net")).group_by(entries.c.volunteer_id).subquery()
    )
    active, net = session.execute(
        select(
            func.count(case((per_volunteer.c.net > 0, 1))),
            func.coalesce(func.sum(per_volunteer.c.net), 0),
        )
    ).one()
    registered, new, active = int(registered), int(new), int(active)
    hours = round(int(net) / 60, 2)
    people = [
        Figure("people.registered", LABELS["people.registered"], registered, "人", _V),
        Figure("people.new", LABELS["people.new"], new, "人", _V),
        Figure("people.active", LABELS["people.active"], active, "人", _V),
        Figure("people.hours", LABELS["people.hours"], hours, "小时", _H),
        Figure(
            "people.hours_per_active",
            LABELS["people.hours_per_active"],
            round(hours / active, 2) if active else None,
            "小时",
            _H,
        ),
    ]
    stars = _stars(session, scope)
    by_star: dict[int, int] = {}
    for star in stars.values():
        by_star[star] = by_star.get(star, 0) + 1
    by_star[0] = registered - sum(by_star.values())
    for star in _levels(stars):
        people.append(
            Figure(
                "people.by_star",
                LABELS["people.by_star"],
                by_star.get(star, 0),
                "人",
                _V,
                group=str(star),
                group_label=star_label(star),
            )
        )
    return people


_V = DrillKind.VOLUNTEERS
_H = DrillKind.HOURS


def _new(scope: Scope) -> ColumnElement[bool]:
    return and_(Volunteer.created_at >= scope.starts_at, Volunteer.created_at < scope.ends_at)


def drill(session: Session, scope: Scope, key: str, group: str | None) -> list[int]:
    if key == "people.registered":
        return evidence.ids(session, evidence.registered(scope))
    if key == "people.new":
        return evidence.ids(session, evidence.registered(scope, _new(scope)))
    if key == "people.active":
        return evidence.ids(session, evidence.active(evidence.credited(scope)))
    if key in ("people.hours", "people.hours_per_active"):
        return evidence.ids(session, evidence.credited(scope))
    if key == "people.by_star" and group is not None and group.isdigit():
        return _at_star(session, scope, int(group))
    return []


SECTION = register(Section(key=KEY, label="志愿者队伍", compute=compute, drill=drill))
