"""Consent (PIPL Art 14, 28, 29): versioned texts, grants that name the version agreed, and
withdrawals that take back what relied on them.

Texts are data (`consent_texts`, append-only): the version in force for a purpose is the latest
whose effective date has come. A grant must name that version (a client showing an older text
is told so); a withdrawal of location consent erases the check-in and check-out fixes kept
under it. The `consents` ledger is append-only: the latest row per (user, purpose) is in force.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import clock
from app.errors import BadRequest, Conflict, NotFound
from app.models import Attendance, Consent, ConsentText, Volunteer


class ConsentPurpose(StrEnum):
    LOCATION = "location"  # 签到签退时的精确位置（敏感个人信息，单独同意）
    PERSONAL_INFO = "personal_info"  # 点单与上门服务所需的姓名、电话、详细地址


class Method(StrEnum):
    APP = "app"  # the person, in the mini-program
    VERBAL = "verbal"  # told to whoever ordered for them (口头)
    WRITTEN = "written"  # signed on paper, kept by the station (书面)
    IN_PERSON = "in_person"  # face to face, confirmed by the person (当面确认)
    ACCOUNT_DELETION = "account_deletion"


PROXY_METHODS = (Method.VERBAL, Method.WRITTEN, Method.IN_PERSON)


class ConsentTextNotFound(NotFound):
    code = "CONSENT_TEXT_NOT_FOUND"
    message = "该授权事项暂无生效的授权文本"


class ConsentVersionUnknown(BadRequest):
    code = "CONSENT_VERSION_UNKNOWN"
    message = "授权文本版本不存在，请刷新后阅读最新文本再同意"


class ConsentVersionStale(Conflict):
    code = "CONSENT_VERSION_STALE"
    message = "授权文本已更新，请阅读最新版本后再同意"


class ConsentVersionExists(Conflict):
    code = "CONSENT_VERSION_EXISTS"
    message = "该授权事项已有此版本的文本；已发布的文本不能修改，请使用新的版本号"


class EffectiveDateInPast(BadRequest):
    code = "EFFECTIVE_DATE_IN_PAST"
    message = "生效日期不能早于今天"


def today(now: datetime) -> date:
    return clock.local_day(now)


def current_text(session: Session, purpose: str, on: date) -> ConsentText | None:
    return session.scalars(
        select(ConsentText)
        .where(ConsentText.purpose == purpose, ConsentText.effective_date <= on)
        .order_by(ConsentText.effective_date.desc(), ConsentText.id.desc())
        .limit(1)
    ).first()


def text_version(session: Session, purpose: str, version: str) -> ConsentText | None:
    return session.scalars(
        select(ConsentText).where(ConsentText.purpose == purpose, ConsentText.version == version)
    ).one_or_none()


def check_version(session: Session, purpose: str, version: str, now: datetime) -> ConsentText:
    """The text a grant names: it must exist and be the one in force now."""
    current = current_text(session, purpose, today(now))
    if current is None:
        raise ConsentTextNotFound(details={"purpose": purpose})
    if version == current.version:
        return current
    known = text_version(session, purpose, version) is not None
    details = {"purpose": purpose, "version": version, "current_version": current.version}
    if known:
        raise ConsentVersionStale(details=details)
    raise ConsentVersionUnknown(details=details)


def latest(session: Session, user_id: int, purpose: str) -> Consent | None:
    return session.scalars(
        select(Consent)
        .where(Consent.user_id == user_id, Consent.purpose == purpose)
        .order_by(Consent.id.desc())
        .limit(1)
    ).first()


def in_force(session: Session, user_id: int, purpose: str) -> Consent | None:
    """The latest consent row for the purpose, if it grants."""
    row = latest(session, user_id, purpose)
    return row if row is not None and row.granted else None


def grant(
    session: Session,
    *,
    user_id: int,
    purpose: str,
    version: str,
    now: datetime,
    method: Method = Method.APP,
    recorded_by_id: int | None = None,
) -> Consent:
    check_version(session, purpose, version, now)
    row = Consent(
        user_id=user_id,
        purpose=purpose,
        granted=True,
        version=version,
        method=method,
        recorded_by_id=recorded_by_id,
        created_at=now,
    )
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class Withdrawal:
    row: Consent
    removed_fixes: int


def withdraw(
    session: Session,
    *,
    user_id: int,
    purpose: str,
    now: datetime,
    method: Method = Method.APP,
) -> Withdrawal:
    """Record the withdrawal and erase what was kept under the consent (Art 47): for location,
    every check-in and check-out fix of the person's service records."""
    row = Consent(user_id=user_id, purpose=purpose, granted=False, method=method, created_at=now)
    session.add(row)
    session.flush()
    removed = erase_fixes(session, user_id) if purpose == ConsentPurpose.LOCATION else 0
    return Withdrawal(row, removed)


def erase_fixes(session: Session, user_id: int) -> int:
    """Erase the person's stored check-in and check-out fixes; how many fixes went."""
    volunteer_id = session.scalar(select(Volunteer.id).where(Volunteer.user_id == user_id))
    if volunteer_id is None:
        return 0
    removed = 0
    for column in (Attendance.check_in_fix, Attendance.check_out_fix):
        result = session.execute(
            update(Attendance)
            .where(Attendance.volunteer_id == volunteer_id, column.is_not(None))
            .values({column.key: None}),
            execution_options={"synchronize_session": False},
        )
        removed += result.rowcount  # type: ignore[attr-defined]
    return removed


def publish(
    session: Session,
    *,
    purpose: str,
    version: str,
    title: str,
    body: str,
    effective_date: date,
    actor_id: int,
    now: datetime,
) -> ConsentText:
    if text_version(session, purpose, version) is not None:
        raise ConsentVersionExists(details={"purpose": purpose, "version": version})
    if effective_date < today(now):
        raise EffectiveDateInPast()
    text = ConsentText(
        purpose=purpose,
        version=version,
        title=title,
        body=body,
        effective_date=effective_date,
        created_by_id=actor_id,
        created_at=now,
    )
    session.add(text)
    session.flush()
    return text
