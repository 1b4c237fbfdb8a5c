"""The two lifecycles of activities as data: the activity's and each sign-up's.

`ACTIVITY_TRANSITIONS[(status, event)]` and `SIGNUP_TRANSITIONS[(status, event)]` say where an
event takes a row; the services apply them with a compare-and-set on the row's status (and the
activity's version), so of two writers only one moves a row. Imports nothing from the database.
"""

from __future__ import annotations

from enum import StrEnum


class ActivityStatus(StrEnum):
    DRAFT = "draft"  # 草稿
    PUBLISHED = "published"  # 已发布（报名中或进行中）
    CANCELLED = "cancelled"  # 已取消
    FINISHED = "finished"  # 已结束（最后一场结束后由计时器结束）


class ActivityEvent(StrEnum):
    PUBLISH = "publish"
    CANCEL = "cancel"
    FINISH = "finish"


class SignupStatus(StrEnum):
    ADMITTED = "admitted"  # 已录取（占名额）
    WAITING = "waiting"  # 候补
    CANCELLED = "cancelled"  # 已取消
    NO_SHOW = "no_show"  # 录取后未到


class SignupEvent(StrEnum):
    CANCEL = "cancel"  # by the person, or with the activity
    PROMOTE = "promote"  # a place came free: the first on the wait-list moves up
    NO_SHOW = "no_show"  # admitted, attended no session
    LAPSE = "lapse"  # still waiting when the activity ended


class Recurrence(StrEnum):
    ONCE = "once"
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class SignupRole(StrEnum):
    VOLUNTEER = "volunteer"
    PARTICIPANT = "participant"  # a resident joining the activity (no place, no hours)


A, AE = ActivityStatus, ActivityEvent
S, SE = SignupStatus, SignupEvent

ACTIVITY_TRANSITIONS: dict[tuple[ActivityStatus, ActivityEvent], ActivityStatus] = {
    (A.DRAFT, AE.PUBLISH): A.PUBLISHED,
    (A.DRAFT, AE.CANCEL): A.CANCELLED,
    (A.PUBLISHED, AE.CANCEL): A.CANCELLED,
    (A.PUBLISHED, AE.FINISH): A.FINISHED,
}

SIGNUP_TRANSITIONS: dict[tuple[SignupStatus, SignupEvent], SignupStatus] = {
    (S.ADMITTED, SE.CANCEL): S.CANCELLED,
    (S.WAITING, SE.CANCEL): S.CANCELLED,
    (S.WAITING, SE.PROMOTE): S.ADMITTED,
    (S.ADMITTED, SE.NO_SHOW): S.NO_SHOW,
    (S.WAITING, SE.LAPSE): S.CANCELLED,
}

# Sign-ups that hold a place or wait for one.
ACTIVE_SIGNUPS = frozenset({S.ADMITTED, S.WAITING})


def activity_sources(event: ActivityEvent) -> list[ActivityStatus]:
    return [status for (status, e) in ACTIVITY_TRANSITIONS if e == event]
