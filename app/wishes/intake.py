"""点单: a resident places a wish, or a grid worker or coordinator for a resident with their
recorded consent. The wish enters the loop as submitted, in the station covering its place."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.auth.principal import Principal
from app.auth.users import find_or_create_resident
from app.models import (
    Category,
    Programme,
    SeasonTheme,
    Skill,
    Wish,
    WishEventRecord,
    WishSkill,
)
from app.models.enums import AccountRole
from app.notifications.outbox import enqueue
from app.org_units.service import coordinators_for, station_covering
from app.privacy import consent
from app.wishes import hooks
from app.wishes.errors import (
    InvalidTimeWindow,
    NotAResident,
    OutOfServiceArea,
    ProxyNotAllowed,
    UnknownCatalogueEntry,
)
from app.wishes.schemas import WishCreate
from app.wishes.service import wish_facts
from app.wishes.state import (
    INITIAL_STATUS,
    ActorRole,
    WishEvent,
)

log = structlog.get_logger()

MAX_WINDOW = timedelta(days=30)
MAX_LEAD = timedelta(days=366)


def _check_catalogue(session: Session, body: WishCreate) -> None:
    missing: dict[str, list[str]] = {}

    def check(model: Any, codes: list[str], name: str) -> None:
        if not codes:
            return
        found = set(
            session.scalars(
                select(model.code).where(model.code.in_(codes), model.is_active.is_(True))
            )
        )
        absent = [c for c in codes if c not in found]
        if absent:
            missing[name] = absent

    check(Category, [body.category_code], "category_code")
    check(Skill, body.skill_codes, "skill_codes")
    check(Programme, [body.programme_code] if body.programme_code else [], "programme_code")
    check(SeasonTheme, [body.season_code] if body.season_code else [], "season_code")
    if missing:
        raise UnknownCatalogueEntry(details={"unknown": missing})


def _check_window(body: WishCreate) -> None:
    now = clock.now()
    start, end = body.wanted_start_at, body.wanted_end_at
    if end <= start:
        raise InvalidTimeWindow("结束时间必须晚于开始时间")
    if end <= now:
        raise InvalidTimeWindow("期望服务时间已过去")
    if start > now + MAX_LEAD:
        raise InvalidTimeWindow("只能预约一年以内的服务")
    if end - start > MAX_WINDOW:
        raise InvalidTimeWindow("期望服务时间段不能超过 30 天")


def create_wish(*, session: Session, body: WishCreate, actor: Principal) -> Wish:
    """点单: a resident places a wish, or a grid worker or coordinator for a resident."""
    _check_catalogue(session, body)
    _check_window(body)
    station, distance = station_covering(
        session=session, lat=body.lat, lng=body.lng, station_id=body.station_id
    )
    if station is None:
        raise OutOfServiceArea(
            details={"distance_m": round(distance)} if distance is not None else {}
        )
    now = clock.now()
    proxy = body.on_behalf_of
    if proxy is not None:
        # Grid workers order for the residents of their station, coordinators inside their
        # subtree, admins anywhere; each records how the resident consented.
        staff = actor.is_admin or actor.covers(station.path)
        if not (staff or actor.grid_worker_of(station.path)):
            raise ProxyNotAllowed()
        consent.check_version(
            session, consent.ConsentPurpose.PERSONAL_INFO, proxy.consent.version, now
        )
        requester = find_or_create_resident(session=session, phone=proxy.phone, name=proxy.name)
        consent.grant(
            session,
            user_id=requester.id,
            purpose=consent.ConsentPurpose.PERSONAL_INFO,
            version=proxy.consent.version,
            method=consent.Method(proxy.consent.method),
            recorded_by_id=actor.user_id,
            now=now,
        )
        requester_id, proxy_id = requester.id, actor.user_id
        role = ActorRole.COORDINATOR if staff else ActorRole.REQUESTER
    else:
        if not actor.has(AccountRole.RESIDENT):
            raise NotAResident()
        requester_id, proxy_id = actor.user_id, None
        role = ActorRole.REQUESTER

    wish = Wish(
        station_id=station.id,
        category_code=body.category_code,
        programme_code=body.programme_code,
        season_code=body.season_code,
        title=body.title,
        description=body.description,
        coarse_address=body.coarse_address,
        full_address=body.full_address,
        contact_phone=body.contact_phone,
        # Sealed; the coarse point in the clear follows (models/wishes.py).
        lat=body.lat,
        lng=body.lng,
        wanted_start_at=body.wanted_start_at,
        wanted_end_at=body.wanted_end_at,
        urgency=body.urgency,
        requester_id=requester_id,
        proxy_id=proxy_id,
        status=INITIAL_STATUS,
        version=1,
        submitted_at=now,
        created_at=now,
        updated_at=now,
    )
    session.add(wish)
    session.flush()
    for code in body.skill_codes:
        session.add(WishSkill(wish_id=wish.id, skill_code=code))
    record = WishEventRecord(
        wish_id=wish.id,
        event=WishEvent.SUBMIT,
        from_status=None,
        to_status=INITIAL_STATUS,
        actor_id=actor.user_id,
        actor_role=role,
        data={"station_id": station.id, "proxy": proxy_id is not None},
        created_at=now,
    )
    session.add(record)
    session.flush()
    coordinators = coordinators_for(session, station)
    enqueue(
        session=session,
        topic="wish.submitted",
        recipient_ids=coordinators,
        payload=wish_facts(wish),
        wish_id=wish.id,
        wish_event_id=record.id,
    )
    hooks.run(
        hooks.Moved(
            session=session,
            wish=wish,
            station=station,
            event=WishEvent.SUBMIT,
            now=now,
            wish_event_id=record.id,
        )
    )
    log.info("wish.submitted", wish_id=wish.id, station_id=station.id, actor_id=actor.user_id)
    return wish
