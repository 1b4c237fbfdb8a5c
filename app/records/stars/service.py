"""Star volunteers (星级志愿者): ladders, awards on crossing a threshold, public notice (公示),
objections and their resolution.

A star is reached when the volunteer's credited service time (the sum of the ledger, see
`ledger.service_minutes`) crosses a threshold of the ladder in force for their home station
(`rules_for(...).star_ladder`). Reaching it creates an award in public notice; the award takes
effect when the notice ends unless someone objects. An objection holds the award until a
coordinator of the certifying unit decides: uphold revokes it, dismiss puts it back in notice
with its original end (so it takes effect at once if that has passed).

The stored status is one of notice | held | revoked; "effective" is derived (an award in notice
whose notice has ended), so no timer has to flip it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

import structlog
from sqlalchemy import and_, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from app.auth.principal import Principal
from app.auth.separation import refuse_self
from app.models import OrgUnit, StarAward, User, Volunteer
from app.org_units.service import ancestors, in_subtree
from app.records import messages
from app.records.hours.ledger import service_minutes
from app.records.stars.errors import (
    StarAwardAlreadyHeld,
    StarAwardNotFound,
    StarAwardNotHeld,
    StarAwardNotInNotice,
    StarAwardRevoked,
    StarObjectionDecided,
)
from app.records.stars.ladders import LEVEL_RANK, Ladder, Step, ladder_for_station, load_ladder
from app.rules.records import rules_for
from app.webhooks import events as webhook_events
from app.webhooks.fanout import publish

log = structlog.get_logger()


# ---------------------------------------------------------------- statuses


class StoredStatus(StrEnum):
    NOTICE = "notice"
    HELD = "held"
    REVOKED = "revoked"


class AwardStatus(StrEnum):
    """What an award is now: stored status plus time."""

    NOTICE = "notice"  # 公示中
    HELD = "held"  # 异议处理中
    EFFECTIVE = "effective"  # 已生效
    REVOKED = "revoked"  # 已撤销


# ---------------------------------------------------------------- awarding


def certifying_unit(chain: Sequence[OrgUnit], level: str) -> OrgUnit:
    """The unit of `chain` (root first, ending with the home station) at `level`.

    When the tree has no unit at that level on this chain, the nearest existing unit above
    where it would be certifies (more senior, never less); when the level is above the root
    (e.g. a county-level deployment and a city-certified star), the root does."""
    wanted = LEVEL_RANK[level]
    for unit in chain:
        if LEVEL_RANK[unit.level] == wanted:
            return unit
    above = [u for u in chain if LEVEL_RANK[u.level] < wanted]
    return above[-1] if above else chain[0]


def awarded_stars(session: Session, volunteer_id: int) -> set[int]:
    """The stars the volunteer has an award row for, whatever its status."""
    return set(
        session.scalars(select(StarAward.star).where(StarAward.volunteer_id == volunteer_id))
    )


def after_credit(session: Session, volunteer_id: int, now: datetime) -> list[StarAward]:
    """Award every star the volunteer's total has reached and that has no award yet.

    Called by crediting in its own transaction, after each service entry is credited or
    reversed. A reversal that takes the total back under a threshold does not withdraw an
    award already made: that is for an objection (during notice) and a coordinator's decision.
    Returns the awards created now (each in notice from `now` for the unit's notice days).
    """
    # Sessions do not autoflush: write the caller's pending entry now, so that the sum below
    # includes it and any error of the caller's rows surfaces here, not in a savepoint below.
    session.flush()
    station = session.scalars(
        select(OrgUnit)
        .join(Volunteer, Volunteer.home_station_id == OrgUnit.id)
        .where(Volunteer.id == volunteer_id)
    ).one_or_none()
    if station is None:
        return []
    rules = rules_for(session, station)
    ladder = load_ladder(session, rules.star_ladder)
    if ladder is None:
        return []
    minutes = service_minutes(session, volunteer_id)
    reached = ladder.reached(minutes)
    if not reached:
        return []
    # Crediting runs this in the transaction that already holds the volunteer's lock, so no
    # concurrent credit for the same volunteer can insert between this read and the inserts
    # below: a plain check is enough. The unique (volunteer_id, star) constraint stays the
    # guard should a caller ever skip the lock; each insert then runs in a savepoint, so a
    # duplicate is skipped and never fails the crediting transaction.
    existing = awarded_stars(session, volunteer_id)
    missing = [step for step in reached if step.star not in existing]
    if not missing:
        return []
    chain = [*ancestors(session=session, unit=station), station]
    ends_at = now + timedelta(days=rules.notice_days)
    created: list[StarAward] = []
    for step in missing:
        award = StarAward(
            volunteer_id=volunteer_id,
            star=step.star,
            ladder_code=ladder.code,
            minutes_at_award=minutes,
            certifying_unit_id=certifying_unit(chain, step.level).id,
            notice_starts_at=now,
            notice_ends_at=ends_at,
            status=StoredStatus.NOTICE,
            created_at=now,
            updated_at=now,
        )
        try:
            with session.begin_nested():
                session.add(award)
                session.flush()
        except IntegrityError:
            log.info("stars.award_exists", volunteer_id=volunteer_id, star=step.star)
            continue
        created.append(award)
        messages.star_awarded(session, award)
    units = {unit.id: unit for unit in chain}
    for award in created:
        data = webhook_events.star_data(award, station, units[award.certifying_unit_id])
        publish(session, topic="star.awarded", unit=station, data=data, now=now)
    if created:
        log.info(
            "stars.awarded",
            volunteer_id=volunteer_id,
            stars=[a.star for a in created],
            ladder_code=ladder.code,
        )
    return created


# ---------------------------------------------------------------- standing


def award_status(award: StarAward, now: datetime) -> AwardStatus:
    if award.status == StoredStatus.NOTICE:
        return AwardStatus.EFFECTIVE if award.notice_ends_at <= now else AwardStatus.NOTICE
    return AwardStatus(award.status)


def highest_effective(awards: Sequence[StarAward], now: datetime) -> int:
    """The highest effective star, 0 when none."""
    return max((a.star for a in awards if award_status(a, now) == AwardStatus.EFFECTIVE), default=0)


@dataclass(frozen=True)
class StarStanding:
    volunteer: Volunteer
    name: str
    station: OrgUnit
    minutes: int
    ladder: Ladder | None
    awards: list[tuple[StarAward, OrgUnit]]
    now: datetime

    @property
    def current_star(self) -> int:
        return highest_effective([a for a, _ in self.awards], self.now)

    @property
    def next_step(self) -> Step | None:
        return self.ladder.next_step(self.minutes) if self.ladder is not None else None


def standing(
    *, session: Session, volunteer: Volunteer, station: OrgUnit, now: datetime
) -> StarStanding:
    name = session.scalar(select(User.name).where(User.id == volunteer.user_id)) or ""
    awards = session.execute(
        select(StarAward, OrgUnit)
        .join(OrgUnit, OrgUnit.id == StarAward.certifying_unit_id)
        .where(StarAward.volunteer_id == volunteer.id)
        .order_by(StarAward.star)
    ).all()
    return StarStanding(
        volunteer=volunteer,
        name=name,
        station=station,
        minutes=service_minutes(session, volunteer.id),
        ladder=ladder_for_station(session, station),
        awards=[(a, u) for a, u in awards],
        now=now,
    )


# ---------------------------------------------------------------- public notice


@dataclass(frozen=True)
class NoticeRow:
    award: StarAward
    volunteer_name: str
    station: OrgUnit
    certifying_unit: OrgUnit

    @property
    def id(self) -> int:  # the keyset of the notice's pages
        return self.award.id


def notices(
    *, session: Session, unit: OrgUnit, now: datetime, after_id: int | None, limit: int
) -> list[NoticeRow]:
    """Awards certified in the unit's subtree that are in notice (not yet ended) or held, in
    id order (keyset pages: up to `limit + 1` rows)."""
    home = aliased(OrgUnit, name="home")
    query = (
        select(StarAward, User.name, home, OrgUnit)
        .join(OrgUnit, OrgUnit.id == StarAward.certifying_unit_id)
        .join(Volunteer, Volunteer.id == StarAward.volunteer_id)
        .join(User, User.id == Volunteer.user_id)
        .join(home, home.id == Volunteer.home_station_id)
        .where(
            in_subtree(OrgUnit.path, unit.path),
            or_(
                StarAward.status == StoredStatus.HELD,
                and_(StarAward.status == StoredStatus.NOTICE, StarAward.notice_ends_at > now),
            ),
        )
    )
    if after_id is not None:
        query = query.where(StarAward.id > after_id)
    rows = session.execute(query.order_by(StarAward.id).limit(limit + 1)).all()
    return [NoticeRow(award, name, station, unit) for award, name, station, unit in rows]


# ---------------------------------------------------------------- objection and resolution


def get_award(*, session: Session, award_id: int) -> StarAward:
    award = session.get(StarAward, award_id, populate_existing=True)
    if award is None:
        raise StarAwardNotFound()
    return award


def _refuse_objection(award: StarAward, now: datetime) -> None:
    status = award_status(award, now)
    if status == AwardStatus.HELD:
        raise StarAwardAlreadyHeld()
    if status == AwardStatus.REVOKED:
        raise StarAwardRevoked()
    if status == AwardStatus.EFFECTIVE:
        raise StarAwardNotInNotice(details={"notice_ends_at": award.notice_ends_at.isoformat()})
    if award.resolved_at is not None:
        raise StarObjectionDecided()


def object_to(
    *, session: Session, award_id: int, actor: Principal, reason: str, now: datetime
) -> StarAward:
    """Any logged-in user may object while the award is in notice: it is held.

    An award carries one objection and one decision; after an objection was dismissed the
    award cannot be objected to again (the decision stays on record rather than being
    overwritten). Compare-and-set on status and notice end, so two objections cannot both win.
    """
    award = get_award(session=session, award_id=award_id)
    _refuse_objection(award, now)
    held = session.execute(
        update(StarAward)
        .where(
            StarAward.id == award_id,
            StarAward.status == StoredStatus.NOTICE,
            StarAward.notice_ends_at > now,
            StarAward.resolved_at.is_(None),
        )
        .values(
            status=StoredStatus.HELD,
            objection=reason,
            objection_by_id=actor.user_id,
            objection_at=now,
            updated_at=now,
        )
        .returning(StarAward.id)
    ).scalar_one_or_none()
    award = get_award(session=session, award_id=award_id)
    if held is None:  # someone else changed it between the read and the update
        _refuse_objection(award, now)
        raise StarAwardAlreadyHeld()
    messages.star_held(session, award)
    log.info("stars.objection", award_id=award_id, actor_id=actor.user_id)
    return award


def resolve(
    *,
    session: Session,
    award_id: int,
    actor: Principal,
    uphold: bool,
    reason: str,
    now: datetime,
) -> StarAward:
    """A coordinator of the certifying unit (or above) decides a held award: uphold revokes
    it; dismiss returns it to notice with its original end. Outside their subtree: 404."""
    award = get_award(session=session, award_id=award_id)
    certifying = session.get(OrgUnit, award.certifying_unit_id)
    assert certifying is not None  # foreign key
    if not actor.manages(certifying.path):
        raise StarAwardNotFound()
    refuse_self(session, actor, action="resolve_star_objection", volunteer_id=award.volunteer_id)
    if award.status != StoredStatus.HELD:
        raise StarAwardNotHeld(details={"status": award_status(award, now)})
    to = StoredStatus.REVOKED if uphold else StoredStatus.NOTICE
    done = session.execute(
        update(StarAward)
        .where(StarAward.id == award_id, StarAward.status == StoredStatus.HELD)
        .values(
            status=to,
            resolution=reason,
            resolved_by_id=actor.user_id,
            resolved_at=now,
            updated_at=now,
        )
        .returning(StarAward.id)
    ).scalar_one_or_none()
    award = get_award(session=session, award_id=award_id)
    if done is None:
        raise StarAwardNotHeld(details={"status": award_status(award, now)})
    messages.star_resolved(session, award, upheld=uphold, reason=reason)
    log.info("stars.resolved", award_id=award_id, actor_id=actor.user_id, upheld=uphold)
    return award
