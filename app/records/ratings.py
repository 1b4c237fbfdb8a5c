"""评单 beyond the wish's own rating: the volunteers' figures and the patterns that deserve a
second look (the volunteer's rating back is attendance's: `app.attendance.service.feedback`).

The requester's rating lives on the wish (once, after completion: the wish's state machine sees
to that) and is counted on every volunteer who served it, for matching's reliability and the
honour lists; it never changes hours.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from itertools import groupby

from sqlalchemy import Text, func, select, update
from sqlalchemy.orm import Session

from app.attendance.state import SERVED
from app.models import Attendance, OrgUnit, Wish
from app.models.enums import AttendanceStatus
from app.models.volunteers import Volunteer
from app.org_units.service import in_subtree
from app.records.hours.schemas import FlagOut
from app.wishes.hooks import Moved, after_transition
from app.wishes.state import WishEvent

# A requester who rates the same volunteer 5 this soon after check-out, this often, is flagged.
QUICK_MINUTES = 10
QUICK_TIMES = 3
QUICK = timedelta(minutes=QUICK_MINUTES)
# This many check-ins in the same second within a unit's subtree are flagged.
SAME_SECOND = 3


def count_rating(session: Session, wish: Wish, score: int) -> None:
    """Add the requester's score to the assignee's and each served team member's figures."""
    served = set(
        session.scalars(
            select(Attendance.volunteer_id).where(
                Attendance.wish_id == wish.id, Attendance.status.in_(SERVED)
            )
        )
    )
    if wish.assignee_id is not None:
        served.add(wish.assignee_id)
    if not served:
        return
    session.execute(
        update(Volunteer)
        .where(Volunteer.id.in_(served))
        .values(rating_sum=Volunteer.rating_sum + score, rating_count=Volunteer.rating_count + 1),
        execution_options={"synchronize_session": False},
    )


def flags(session: Session, unit: OrgUnit, since: datetime) -> list[FlagOut]:
    """What a coordinator should look at in the unit's subtree since `since`."""
    in_tree = in_subtree(OrgUnit.path, unit.path)
    out: list[FlagOut] = []
    rows = session.execute(
        select(Attendance.id, Attendance.volunteer_id, Attendance.manual, Attendance.late_sync,
               Attendance.manual_reason, Attendance.checked_in_at)
        .join(OrgUnit, OrgUnit.id == Attendance.unit_id)
        .where(in_tree, Attendance.checked_in_at >= since,
               Attendance.status == AttendanceStatus.CHECKED_OUT,
               Attendance.manual | Attendance.late_sync)
        .order_by(Attendance.id)
    ).all()  # fmt: skip
    for rid, volunteer_id, manual, late, why, at in rows:
        common = {"attendance_ids": [rid], "volunteer_ids": [volunteer_id], "at": at}
        if manual:
            out.append(
                FlagOut(kind="MANUAL", message=f"协调员代签：{why or '未说明原因'}", **common)
            )
        if late:
            out.append(FlagOut(kind="LATE_SYNC", message="离线签到签退，事后补传", **common))

    # One requester, always 5, within minutes of check-out, for the same volunteer.
    quick = session.execute(
        select(Wish.requester_id, Attendance.volunteer_id, Attendance.id, Wish.rated_at,
               Attendance.checked_out_at)
        .join(Attendance, Attendance.wish_id == Wish.id)
        .join(OrgUnit, OrgUnit.id == Wish.station_id)
        .where(in_tree, Wish.rating == 5, Wish.rated_at >= since,
               Attendance.checked_out_at.is_not(None))
    ).all()  # fmt: skip
    pairs: dict[tuple[int, int], list[tuple[int, datetime]]] = defaultdict(list)
    for requester, volunteer_id, rid, rated_at, out_at in quick:
        if rated_at is not None and out_at is not None and rated_at - out_at <= QUICK:
            pairs[(requester, volunteer_id)].append((rid, rated_at))
    for (requester, volunteer_id), hits in sorted(pairs.items()):
        if len(hits) >= QUICK_TIMES:
            out.append(
                FlagOut(
                    kind="QUICK_FIVE_STAR",
                    message=f"同一点单人 {len(hits)} 次在签退后 {QUICK_MINUTES} 分钟内"
                    "给同一志愿者五星",
                    attendance_ids=[rid for rid, _ in hits],
                    volunteer_ids=[volunteer_id],
                    requester_id=requester,
                    at=max(at for _, at in hits),
                )
            )

    # Many check-ins at the same second: the seconds that have them, and their members, read
    # in one statement.
    second = func.substr(func.cast(Attendance.checked_in_at, Text), 1, 19)
    recent = (in_tree, Attendance.checked_in_at >= since)
    crowded = (
        select(second)
        .join(OrgUnit, OrgUnit.id == Attendance.unit_id)
        .where(*recent)
        .group_by(second)
        .having(func.count() >= SAME_SECOND)
    )
    members = session.execute(
        select(second, Attendance.id, Attendance.volunteer_id, Attendance.checked_in_at)
        .join(OrgUnit, OrgUnit.id == Attendance.unit_id)
        .where(*recent, second.in_(crowded))
        .order_by(second, Attendance.id)
    ).all()
    for _stamp, group in groupby(members, key=lambda m: m[0]):
        rows = list(group)
        out.append(
            FlagOut(
                kind="SAME_SECOND_CHECKINS",
                message=f"{len(rows)} 人在同一秒签到",
                attendance_ids=[m[1] for m in rows],
                volunteer_ids=sorted({m[2] for m in rows}),
                at=rows[0][3],
            )
        )
    return out


def _count_rating_of(moved: Moved) -> None:
    if moved.event == WishEvent.RATE and moved.wish.rating is not None:
        count_rating(moved.session, moved.wish, moved.wish.rating)


after_transition(_count_rating_of)
