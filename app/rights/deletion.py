"""Deleting one's account (PIPL Art 47).

What goes: the phone (and its lookup hash), the WeChat openid and unionid, the name (replaced
by a pseudonym, 已注销用户#XXXXXX), the volunteer's birth date, ID number, exact home and weekly
availability, the full address, contact phone and exact place of the wishes they placed, every
check-in and check-out fix, pending notifications to them, their push settings and WeChat
subscription counts, the responses kept for their retries, and the name on their
certificates. Their grants end, their consents are withdrawn (new rows: the consent ledger
stays whole, under the pseudonym), pending offers to them are declined, and the account is
deactivated: its sessions end and it can never sign in again (a later sign-in with the same
phone or WeChat account makes a new account).

What stays, under the pseudonym: the account row (every ledger and event names it by id), the
service records and hours, points, stars, wish events, ratings and the access log, so that
hours, events and statistics stay whole. The volunteer profile stays (suspended), placed at its
station, with the counts matching and statistics read.

Refused (409, with what is open) while the person has a wish in progress or a task to serve:
deleting then would strand a resident or a wish. Staff accounts (coordinator, admin) are the
organisation's: an admin removes those roles first.
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select, true, update
from sqlalchemy.orm import Session

from app.accounts.service import deactivate
from app.auth.principal import Principal
from app.errors import AppError, Conflict
from app.geo import cell_of
from app.models import (
    Attendance,
    Certificate,
    IdempotencyKey,
    NotificationPreference,
    Offer,
    OrgUnit,
    OutboxMessage,
    RoleGrant,
    SubscriptionQuota,
    User,
    Volunteer,
    Wish,
)
from app.models.enums import (
    TASK_STATUSES,
    AccountRole,
    AttendanceStatus,
    OfferStatus,
    VolunteerStatus,
    WishStatus,
)
from app.privacy import consent
from app.privacy.masking import PSEUDONYM_PREFIX
from app.rights import retention
from app.wishes.schemas import OptionalReasonIn
from app.wishes.service import apply_event
from app.wishes.state import WishEvent

DELETED_REASON = "账号已注销"

# A wish the requester placed is in progress until it is served (or ended).
IN_PROGRESS = frozenset(
    {
        WishStatus.SUBMITTED,
        WishStatus.APPROVED,
        WishStatus.DISPATCHING,
        WishStatus.ACCEPTED,
        WishStatus.IN_SERVICE,
    }
)


class AccountHasOpenWork(Conflict):
    code = "ACCOUNT_HAS_OPEN_WORK"
    message = "您还有进行中的心愿或服务任务，请先取消或完成后再注销账号"


class StaffAccount(Conflict):
    code = "STAFF_ACCOUNT"
    message = "协调员、管理员账号属于所在单位，请先由管理员撤销相应角色再注销"


class AlreadyDeleted(Conflict):
    code = "ACCOUNT_DELETED"
    message = "该账号已注销"


def pseudonym() -> str:
    """已注销用户#K7Q2MX: random, so it says nothing about the account or when it was made."""
    return PSEUDONYM_PREFIX + base64.b32encode(secrets.token_bytes(5)).decode("ascii")[:6]


@dataclass
class Deletion:
    pseudonym: str
    deleted_at: datetime
    erased: dict[str, int] = field(default_factory=dict)


def open_work(session: Session, user_id: int, volunteer_id: int | None) -> dict[str, list[int]]:
    """What holds a deletion back: wishes in progress, tasks, team service not yet done."""
    found: dict[str, list[int]] = {}
    wishes = session.scalars(
        select(Wish.id)
        .where(Wish.requester_id == user_id, Wish.status.in_(IN_PROGRESS))
        .order_by(Wish.id)
    ).all()
    if wishes:
        found["wishes_in_progress"] = list(wishes)
    if volunteer_id is not None:
        tasks = session.scalars(
            select(Wish.id)
            .where(Wish.assignee_id == volunteer_id, Wish.status.in_(TASK_STATUSES))
            .order_by(Wish.id)
        ).all()
        if tasks:
            found["tasks"] = list(tasks)
        team = session.scalars(
            select(Attendance.wish_id)
            .where(
                Attendance.wish_id.is_not(None),
                Attendance.volunteer_id == volunteer_id,
                Attendance.is_lead.is_(False),
                Attendance.status.in_((AttendanceStatus.ASSIGNED, AttendanceStatus.IN_SERVICE)),
            )
            .order_by(Attendance.wish_id)
        ).all()
        if team:
            found["team_service"] = [wish_id for wish_id in team if wish_id is not None]
    return found


def delete_account(
    session: Session, *, actor: Principal, now: datetime, keep_key_id: int | None = None
) -> Deletion:
    """`keep_key_id`: this request's own Idempotency-Key row (its response is stored in it)."""
    # The account's rows are locked first (PostgreSQL; SQLite writers run one at a time), the
    # volunteer's before the user's, in the order an accept takes them (it locks the volunteer
    # row, then its event row's key check shares the user row): an accept running beside the
    # deletion either finishes first, and is seen as open work, or waits, and finds the
    # account gone.
    volunteer = session.scalars(
        select(Volunteer).where(Volunteer.user_id == actor.user_id).with_for_update()
    ).first()
    user = session.scalars(
        select(User).where(User.id == actor.user_id).with_for_update(key_share=True)
    ).one()
    if user.deleted_at is not None:
        raise AlreadyDeleted()
    # The account's grants, not the session's roles: a consumer session carries no staff role
    # even when the account holds one.
    staff = sorted(
        set(
            session.scalars(
                select(RoleGrant.role).where(
                    RoleGrant.user_id == user.id,
                    RoleGrant.role.in_((AccountRole.COORDINATOR, AccountRole.ADMIN)),
                )
            )
        )
    )
    if staff:
        raise StaffAccount(details={"roles": staff})
    blocking = open_work(session, user.id, volunteer.id if volunteer else None)
    if blocking:
        raise AccountHasOpenWork(details=blocking)

    result = Deletion(pseudonym=pseudonym(), deleted_at=now)
    erased = result.erased

    # Offers waiting for an answer are declined, so that the wish moves on at once.
    erased["offers_declined"] = 0
    if volunteer is not None and actor.volunteer is not None:
        pending = session.scalars(
            select(Offer.wish_id).where(
                Offer.volunteer_id == volunteer.id, Offer.status == OfferStatus.PENDING
            )
        ).all()
        for wish_id in pending:
            try:
                with session.begin_nested():
                    apply_event(
                        session=session,
                        wish_id=wish_id,
                        event=WishEvent.DECLINE,
                        actor=actor,
                        payload=OptionalReasonIn(reason=DELETED_REASON),
                    )
            except AppError:
                # The wish has moved on (its offers are being settled): the offer just ends.
                session.execute(
                    update(Offer)
                    .where(
                        Offer.wish_id == wish_id,
                        Offer.volunteer_id == volunteer.id,
                        Offer.status == OfferStatus.PENDING,
                    )
                    .values(
                        status=OfferStatus.DECLINED,
                        responded_at=now,
                        response_reason=DELETED_REASON,
                    )
                )
            erased["offers_declined"] += 1

    # Consents end; the fixes kept under location consent go with it.
    withdrawn = fixes = 0
    for purpose in consent.ConsentPurpose:
        if consent.in_force(session, user.id, purpose) is not None:
            fixes += consent.withdraw(
                session,
                user_id=user.id,
                purpose=purpose,
                now=now,
                method=consent.Method.ACCOUNT_DELETION,
            ).removed_fixes
            withdrawn += 1
    erased["consents_withdrawn"] = withdrawn
    fixes += consent.erase_fixes(session, user.id)

    # The wishes they placed keep their history, not their address (nor the fixes taken there).
    placed = session.scalars(
        select(Wish.id).where(Wish.requester_id == user.id, Wish.personal_data_erased_at.is_(None))
    ).all()
    fixes += retention.erase_wishes(session, placed, now)
    erased["wishes"] = len(placed)
    erased["fixes"] = fixes

    if volunteer is not None:
        station = session.get(OrgUnit, volunteer.home_station_id)
        assert station is not None
        # Placed at the station: matching still reads a point, and it says nothing of them.
        lat = station.lat if station.lat is not None else volunteer.lat
        lng = station.lng if station.lng is not None else volunteer.lng
        volunteer.lat, volunteer.lng, volunteer.h3_cell = lat, lng, cell_of(lat, lng)
        volunteer.home_point = None
        volunteer.birth_date = None
        volunteer.id_number = None
        for day in range(7):
            setattr(volunteer, f"avail_{day}", 0)
        volunteer.status = VolunteerStatus.SUSPENDED
        volunteer.suspended_reason = DELETED_REASON
        renamed = session.execute(
            update(Certificate)
            .where(Certificate.volunteer_id == volunteer.id)
            .values(volunteer_name=result.pseudonym),
            execution_options={"synchronize_session": False},
        )
        erased["certificates_renamed"] = renamed.rowcount  # type: ignore[attr-defined]

    # The person's messages, sent or not: the inbox keeps them for the person alone.
    dropped = session.execute(
        delete(OutboxMessage).where(OutboxMessage.recipient_id == user.id),
        execution_options={"synchronize_session": False},
    )
    erased["notifications"] = dropped.rowcount  # type: ignore[attr-defined]

    # Responses kept for retries can hold what was just erased.
    session.execute(
        delete(IdempotencyKey).where(
            IdempotencyKey.user_id == user.id,
            IdempotencyKey.id != keep_key_id if keep_key_id is not None else true(),
        ),
        execution_options={"synchronize_session": False},
    )
    session.execute(
        delete(RoleGrant).where(RoleGrant.user_id == user.id),
        execution_options={"synchronize_session": False},
    )
    for push_table in (NotificationPreference, SubscriptionQuota):  # nothing left to push
        session.execute(
            delete(push_table).where(push_table.user_id == user.id),
            execution_options={"synchronize_session": False},
        )
    user.name = result.pseudonym
    user.phone = None
    user.username = None
    user.password_hash = None
    user.wechat_openid = None
    user.wechat_unionid = None
    user.deleted_at = now
    session.flush()
    deactivate(session=session, user_id=user.id)
    return result
