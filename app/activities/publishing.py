"""Publishing an activity: its details, its sessions (one date or a recurrence), its festival
date from the lunar calendar, and the activity's own lifecycle (publish, cancel).

An activity's details may change while it is a draft or before anyone has signed up; after
that the organiser can only cancel it (everyone signed up is told). Every change of status is a
compare-and-set on the row's status and version (`ACTIVITY_TRANSITIONS`).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from app import clock
from app.activities import timers
from app.activities.errors import (
    ActivityChanged,
    ActivityHasSignups,
    ActivityNotFound,
    ActivityStatusConflict,
    InvalidActivity,
)
from app.activities.rows import facts, move_activity, move_signups
from app.activities.schemas import ActivityCreate, ActivityFields
from app.activities.state import (
    ACTIVITY_TRANSITIONS,
    ActivityEvent,
    ActivityStatus,
    Recurrence,
    SignupEvent,
    SignupStatus,
)
from app.auth.principal import Principal
from app.models import (
    Activity,
    ActivitySession,
    ActivitySignup,
    ActivitySkill,
    Category,
    OrgUnit,
    Programme,
    SeasonTheme,
    Skill,
)
from app.notifications.outbox import enqueue
from app.org_units.service import managed_unit
from app.seasons.festivals import LUNAR_FESTIVALS, SOLAR_TERM_FESTIVALS, Festival, festivals
from app.seasons.service import season_on
from app.wishes.errors import UnknownCatalogueEntry

MAX_SESSIONS = 400
FESTIVAL_NAMES = {code: name for code, name, *_ in (*LUNAR_FESTIVALS, *SOLAR_TERM_FESTIVALS)}
_DETAILS = (
    "title", "description", "category_code", "programme_code", "season_code", "festival_code",
    "place", "lat", "lng", "starts_at", "ends_at", "recurrence", "repeat_until", "headcount",
    "min_age", "max_age", "needs_insurance", "signup_opens_at", "signup_closes_at",
    "residents_may_join", "participant_limit",
)  # fmt: skip


# Details every activity has: a request may change them, never empty them.
_REQUIRED = frozenset(
    {"title", "description", "place", "starts_at", "ends_at", "recurrence", "headcount",
     "needs_insurance", "signup_opens_at", "signup_closes_at", "residents_may_join"}
)  # fmt: skip


def festival_of(code: str, on: date) -> Festival | None:
    """The festival `code` in the Gregorian year of `on`."""
    if not 1901 <= on.year <= 2099:
        return None
    return next((f for f in festivals(year=on.year) if f.code == code), None)


def festival_date(code: str, year: int | None, today: date) -> Festival:
    """The festival's date: in `year`, or its next occurrence from `today` on."""
    years = [year] if year is not None else [today.year, today.year + 1]
    for y in years:
        found = next((f for f in festivals(year=y) if f.code == code), None)
        if found is not None and (year is not None or found.gregorian_date >= today):
            return found
    raise InvalidActivity("无法推算该节日的日期")


def _check_codes(session: Session, values: dict[str, Any], skills: list[str] | None) -> None:
    for key, model in (
        ("category_code", Category),
        ("programme_code", Programme),
        ("season_code", SeasonTheme),
    ):
        code = values.get(key)
        if code is not None and session.get(model, code) is None:
            raise UnknownCatalogueEntry(f"未知的{key}：{code}", details={key: code})
    code = values.get("festival_code")
    if code is not None and code not in FESTIVAL_NAMES:
        raise UnknownCatalogueEntry(f"未知的节日：{code}", details={"festival_code": code})
    unknown = sorted(set(skills or ()) - set(session.scalars(select(Skill.code))))
    if unknown:
        raise UnknownCatalogueEntry("未知的技能", details={"skill_codes": unknown})


def _times_from_festival(body: ActivityFields, values: dict[str, Any]) -> None:
    if body.starts_at is not None or body.festival_code is None:
        return
    if body.start_time is None or body.end_time is None:
        raise InvalidActivity("按节日定日期时须填写当天的开始和结束时间（start_time、end_time）")
    found = festival_date(body.festival_code, body.festival_year, clock.local_day(clock.now()))
    values["starts_at"] = clock.local_at(found.gregorian_date, body.start_time)
    values["ends_at"] = clock.local_at(found.gregorian_date, body.end_time)


def session_times(
    starts_at: datetime, ends_at: datetime, recurrence: str, repeat_until: datetime | None
) -> list[tuple[datetime, datetime]]:
    """Every session's times: the first, repeated (in local time) until `repeat_until`'s day."""
    if recurrence == Recurrence.ONCE:
        return [(starts_at, ends_at)]
    if repeat_until is None:
        raise InvalidActivity("重复活动须填写 repeat_until")
    last = clock.local_day(repeat_until)
    start, length = clock.to_local(starts_at), ends_at - starts_at
    out: list[tuple[datetime, datetime]] = []
    n = 0
    while True:
        if recurrence == Recurrence.MONTHLY:
            month = start.month - 1 + n
            try:
                at = start.replace(year=start.year + month // 12, month=month % 12 + 1)
            except ValueError:  # no such day in that month (the 31st): skipped
                n += 1
                continue
        else:
            at = start + timedelta(days=n * (1 if recurrence == Recurrence.DAILY else 7))
        if at.date() > last:
            break
        out.append((at, at + length))
        n += 1
        if len(out) > MAX_SESSIONS:
            raise InvalidActivity(f"重复活动最多 {MAX_SESSIONS} 场", details={"max": MAX_SESSIONS})
    return out


def _validate(session: Session, a: Activity) -> None:
    if a.ends_at <= a.starts_at:
        raise InvalidActivity("结束时间须晚于开始时间")
    if a.ends_at - a.starts_at > timedelta(hours=24):
        raise InvalidActivity("每场活动不超过 24 小时；多日活动请设为每日重复")
    if a.signup_closes_at <= a.signup_opens_at:
        raise InvalidActivity("报名截止时间须晚于报名开始时间")
    if a.signup_closes_at > a.ends_at and a.recurrence == Recurrence.ONCE:
        raise InvalidActivity("报名截止时间不能晚于活动结束")
    if a.min_age is not None and a.max_age is not None and a.min_age > a.max_age:
        raise InvalidActivity("最小年龄不能大于最大年龄")
    if (a.lat is None) != (a.lng is None):
        raise InvalidActivity("经纬度须同时填写")
    if a.participant_limit is not None and not a.residents_may_join:
        raise InvalidActivity("不接受居民参加的活动不设居民名额")


def _apply(session: Session, a: Activity, body: ActivityFields, fresh: bool) -> None:
    values = body.model_dump(include=set(_DETAILS), exclude_unset=True)
    _check_codes(session, values, body.skill_codes)
    _times_from_festival(body, values)
    emptied = sorted(k for k in _REQUIRED if k in values and values[k] is None)
    if emptied:
        raise InvalidActivity("这些项不能为空：" + "、".join(emptied), details={"fields": emptied})
    category = values.get("category_code")
    if category is not None:
        cat = session.get(Category, category)
        assert cat is not None
        # The category's own constraints unless the organiser set the activity's.
        values.setdefault("needs_insurance", cat.risky)
        if "min_age" not in values and "max_age" not in values:
            values.update(min_age=cat.min_age, max_age=cat.max_age)
    for key, value in values.items():
        setattr(a, key, value)
    if fresh:
        a.signup_opens_at = a.signup_opens_at or clock.now()
        a.signup_closes_at = a.signup_closes_at or a.starts_at
    if a.season_code is None and a.starts_at is not None:
        season = season_on(session=session, day=clock.local_day(a.starts_at))
        a.season_code = season.code if season is not None else None
    if a.starts_at is None or a.ends_at is None:
        raise InvalidActivity("请填写活动时间（或按节日定日期）")
    _validate(session, a)


def _write_sessions(session: Session, a: Activity, skills: list[str] | None) -> None:
    times = session_times(a.starts_at, a.ends_at, a.recurrence, a.repeat_until)
    session.execute(delete(ActivitySession).where(ActivitySession.activity_id == a.id))
    session.add_all(ActivitySession(activity_id=a.id, starts_at=s, ends_at=e) for s, e in times)
    if skills is not None:
        session.execute(delete(ActivitySkill).where(ActivitySkill.activity_id == a.id))
        session.add_all(
            ActivitySkill(activity_id=a.id, skill_code=c) for c in dict.fromkeys(skills)
        )
    session.flush()


def create(*, session: Session, body: ActivityCreate, actor: Principal) -> Activity:
    unit = managed_unit(session=session, actor=actor, unit_id=body.unit_id)
    a = Activity(
        unit_id=unit.id,
        status=ActivityStatus.DRAFT,
        admitted=0,
        recurrence=Recurrence.ONCE,
        created_by_id=actor.user_id,
        description="",
        version=1,
    )
    _apply(session, a, body, fresh=True)
    session.add(a)
    session.flush()
    _write_sessions(session, a, body.skill_codes)
    if body.publish:
        return transition(session=session, activity=a, unit=unit, event=ActivityEvent.PUBLISH)
    return a


def managed(session: Session, activity_id: int, actor: Principal) -> tuple[Activity, OrgUnit]:
    """An activity the caller organises (their subtree's); 404 otherwise."""
    found = session.execute(
        select(Activity, OrgUnit)
        .join(OrgUnit, OrgUnit.id == Activity.unit_id)
        .where(Activity.id == activity_id)
        .execution_options(populate_existing=True)
    ).one_or_none()
    if found is None or not actor.manages(found[1].path):
        raise ActivityNotFound()
    return found[0], found[1]


def signup_count(session: Session, activity_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(ActivitySignup)
            .where(ActivitySignup.activity_id == activity_id)
        )
        or 0
    )


def update_details(
    *, session: Session, activity_id: int, body: ActivityFields, actor: Principal
) -> Activity:
    a, _unit = managed(session, activity_id, actor)
    if a.status not in (ActivityStatus.DRAFT, ActivityStatus.PUBLISHED):
        raise ActivityStatusConflict()
    if signup_count(session, a.id):
        raise ActivityHasSignups()
    version = a.version
    _apply(session, a, body, fresh=False)
    session.flush()
    moved = session.execute(
        update(Activity)
        .where(Activity.id == a.id, Activity.version == version)
        .values(version=version + 1),
        execution_options={"synchronize_session": False},
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise ActivityChanged()
    _write_sessions(session, a, body.skill_codes)
    session.refresh(a)
    if a.status == ActivityStatus.PUBLISHED:
        timers.schedule(session, a, clock.now())
    return a


def transition(
    *,
    session: Session,
    activity: Activity,
    unit: OrgUnit,
    event: ActivityEvent,
    reason: str | None = None,
) -> Activity:
    """Apply `event` to the activity (compare-and-set on status and version), then its effects:
    publishing starts its timer; cancelling cancels every sign-up, with notice."""
    source = ActivityStatus(activity.status)
    if (source, event) not in ACTIVITY_TRANSITIONS:
        raise ActivityStatusConflict(details={"status": source.value, "event": event.value})
    now = clock.now()
    values: dict[str, Any] = {}
    if event == ActivityEvent.PUBLISH:
        values["published_at"] = now
    elif event == ActivityEvent.CANCEL:
        values.update(cancelled_at=now, cancel_reason=reason, admitted=0)
    if move_activity(session, activity, event, **values) is None:
        raise ActivityChanged()
    if event == ActivityEvent.PUBLISH:
        timers.schedule(session, activity, now)
    elif event == ActivityEvent.CANCEL:
        told = move_signups(
            session,
            activity_id=activity.id,
            event=SignupEvent.CANCEL,
            statuses=(SignupStatus.ADMITTED, SignupStatus.WAITING),
            values={"cancelled_at": now, "cancel_reason": (reason or "活动已取消")[:200]},
        )
        enqueue(
            session=session,
            topic="activity.cancelled",
            recipient_ids=told,
            payload={**facts(activity), "reason": reason},
        )
        timers.unschedule(session, activity)
    return activity
