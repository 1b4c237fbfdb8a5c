"""Benchmark data, written through the ORM and the services (never the API).

Two areas of one county:

- the *main* area: 4 townships x 4 village stations on a 3 km grid, residents, coordinators at
  every level, `volunteers` volunteers scattered around the stations (various radii, skills,
  capacities, a few suspended), and wishes placed with `create_wish` and moved with
  `apply_event` as a coordinator: most approved and opened for grab, some only submitted, some
  accepted. The read endpoints (detail, open near me) run against this area.
- the *accept* area, ~100 km east: its own township and stations, where wishes already open for
  grab (inserted in bulk, like `tests/fixtures/builders.make_wish`) are paired one to one with
  volunteers standing next to them who have the skills and the capacity. Every pair must be
  accepted with 200. Keeping these wishes away from the main area keeps them out of the
  "open near me" candidates, so the read phases see a few hundred open wishes, not thousands.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from app import clock
from app import wiring as _wiring  # noqa: F401 - every domain's handlers registered
from app.auth.principal import Principal, load_principal
from app.auth.users import ensure_role
from app.config import Settings
from app.db import Database, make_engine
from app.geo import cell_of, coarse
from app.models import OrgUnit, RoleGrant, User, Volunteer, VolunteerSkill, Wish, WishSkill
from app.models.enums import AccountRole, OrgLevel, Urgency, VolunteerStatus, WishStatus
from app.org_units.service import create_unit
from app.volunteers.availability import FULL_DAY
from app.wishes.errors import AtCapacity
from app.wishes.handlers.dispatch import grab_candidates
from app.wishes.intake import create_wish
from app.wishes.loading import load_wish
from app.wishes.schemas import WishCreate
from app.wishes.service import apply_event
from app.wishes.state import WishEvent

# 安吉县 (Anji county), and about one kilometre in degrees there.
BASE_LAT, BASE_LNG = 30.6380, 119.6800
KM_LAT = 0.009
KM_LNG = 0.0104
ACCEPT_AREA_LNG = BASE_LNG + 1.0  # ~95 km east of the main area

CITY, COUNTY = "330500000000", "330523000000"
COMMON_SKILLS = ["companionship", "housework", "errands", "repair", "computer", "driving"]
CATEGORIES = ["elderly_orphan_care", "poverty_relief", "neighbourly_watch", "culture"]
# Free at any hour, every day (these categories have no age limit and no risk).
ALWAYS_AVAILABLE = {f"avail_{day}": FULL_DAY for day in range(7)}
# Skills such as repair and driving need a qualification; the volunteers hold valid ones.
QUALIFIED_UNTIL = date(2099, 12, 31)
ACCEPT_CAPACITY = 10  # each accept-area volunteer takes this many wishes (max_concurrent_tasks)


@dataclass
class Seeded:
    unit_ids: list[int]
    # (wish id, user id of the reader: the requester or a coordinator over the station)
    detail: list[tuple[int, int]]
    # user ids of active main-area volunteers
    open_users: list[int]
    # accept pairs grouped by volunteer: each group is [(wish id, volunteer's user id), ...]
    accept_groups: list[list[tuple[int, int]]]
    counts: dict[str, int] = field(default_factory=dict)


def _near(rng: random.Random, lat: float, lng: float, sigma_km: float) -> tuple[float, float]:
    return (
        lat + rng.gauss(0, sigma_km) * KM_LAT,
        lng + rng.gauss(0, sigma_km) * KM_LNG,
    )


class _Phones:
    def __init__(self) -> None:
        self.n = 0

    def next(self) -> str:
        self.n += 1
        return f"139{self.n:08d}"


def _users(session: Session, phones: _Phones, names: str, count: int) -> list[User]:
    users = [User(name=f"{names}{i + 1}", phone=phones.next()) for i in range(count)]
    session.add_all(users)
    session.flush()
    return users


def _grant(session: Session, users: list[User], role: AccountRole) -> None:
    session.execute(insert(RoleGrant), [{"user_id": u.id, "role": role} for u in users])


def _tree(session: Session) -> tuple[list[OrgUnit], list[OrgUnit], list[OrgUnit], OrgUnit]:
    """(main stations, main townships, accept stations, county)."""
    city = create_unit(
        session=session,
        code=CITY,
        name="湖州市",
        level=OrgLevel.CITY,
        parent_id=None,
        lat=BASE_LAT,
        lng=BASE_LNG,
    )
    county = create_unit(
        session=session,
        code=COUNTY,
        name="安吉县",
        level=OrgLevel.COUNTY,
        parent_id=city.id,
        lat=BASE_LAT,
        lng=BASE_LNG,
    )
    stations: list[OrgUnit] = []
    townships: list[OrgUnit] = []
    for t in range(4):
        row, col = divmod(t, 2)
        town = create_unit(
            session=session,
            code=f"330523{101 + t:03d}000",
            name=f"镇{t + 1}",
            level=OrgLevel.TOWNSHIP,
            parent_id=county.id,
            lat=BASE_LAT + row * 6 * KM_LAT,
            lng=BASE_LNG + col * 6 * KM_LNG,
        )
        townships.append(town)
        for s in range(4):
            srow, scol = divmod(s, 2)
            stations.append(
                create_unit(
                    session=session,
                    code=f"330523{101 + t:03d}{200 + s:03d}",
                    name=f"村{t + 1}-{s + 1}",
                    level=OrgLevel.VILLAGE,
                    parent_id=town.id,
                    lat=BASE_LAT + (row * 2 + srow) * 3 * KM_LAT,
                    lng=BASE_LNG + (col * 2 + scol) * 3 * KM_LNG,
                    service_radius_m=5000,
                )
            )
    accept_town = create_unit(
        session=session,
        code="330523190000",
        name="接单镇",
        level=OrgLevel.TOWNSHIP,
        parent_id=county.id,
        lat=BASE_LAT,
        lng=ACCEPT_AREA_LNG,
    )
    accept_stations = [
        create_unit(
            session=session,
            code=f"330523190{200 + s:03d}",
            name=f"接单村{s + 1}",
            level=OrgLevel.VILLAGE,
            parent_id=accept_town.id,
            lat=BASE_LAT + (s // 2) * 4 * KM_LAT,
            lng=ACCEPT_AREA_LNG + (s % 2) * 4 * KM_LNG,
            service_radius_m=5000,
        )
        for s in range(4)
    ]
    return stations, townships, accept_stations, county


def _principal(session: Session, user_id: int) -> Principal:
    found = load_principal(session, user_id)
    assert found is not None
    return found


def seed(
    url: str,
    settings: Settings,
    *,
    volunteers: int,
    open_wishes: int,
    accept_pool: int,
    rng_seed: int = 20261126,
) -> Seeded:
    rng = random.Random(rng_seed)
    database = Database(make_engine(url, settings))
    phones = _Phones()
    now = clock.now()
    try:
        with database.session(write=True) as session, session.begin():
            stations, townships, accept_stations, county = _tree(session)

            # Coordinators: one per station, township and the county.
            coordinators: dict[int, User] = {}
            for unit in [county, *townships, *stations]:
                (user,) = _users(session, phones, f"协调员{unit.code}-", 1)
                ensure_role(
                    session=session,
                    user_id=user.id,
                    role=AccountRole.COORDINATOR,
                    org_unit_id=unit.id,
                )
                coordinators[unit.id] = user
            county_coordinator = _principal(session, coordinators[county.id].id)

            residents = _users(session, phones, "居民", 600)
            _grant(session, residents, AccountRole.RESIDENT)

            # Main-area volunteers.
            vol_users = _users(session, phones, "志愿者", volunteers)
            _grant(session, vol_users, AccountRole.RESIDENT)
            _grant(session, vol_users, AccountRole.VOLUNTEER)
            vol_rows = []
            for user in vol_users:
                home = rng.choice(stations)
                assert home.lat is not None and home.lng is not None
                lat, lng = _near(rng, home.lat, home.lng, 1.5)
                vol_rows.append(
                    Volunteer(
                        user_id=user.id,
                        home_station_id=home.id,
                        lat=lat,
                        lng=lng,
                        service_radius_m=rng.choice([2000, 3000, 3000, 5000, 5000]),
                        h3_cell=cell_of(lat, lng),
                        **ALWAYS_AVAILABLE,
                        max_concurrent_tasks=rng.randint(2, 5),
                        status=VolunteerStatus.SUSPENDED
                        if rng.random() < 0.05
                        else VolunteerStatus.ACTIVE,
                    )
                )
            session.add_all(vol_rows)
            session.flush()
            skill_rows = [
                {"volunteer_id": v.id, "skill_code": code, "qualified_until": QUALIFIED_UNTIL}
                for v in vol_rows
                for code in rng.sample(COMMON_SKILLS, rng.randint(0, 3))
            ]
            if skill_rows:
                session.execute(insert(VolunteerSkill), skill_rows)
            _refresh_skill_masks(session)

            # Main-area wishes, through the services: submitted, approved, opened for grab.
            detail: list[tuple[int, int]] = []
            submitted_only = max(10, open_wishes // 6)
            to_accept = max(10, open_wishes // 8)
            grab_ids: list[int] = []
            for i in range(open_wishes + submitted_only + to_accept):
                station = rng.choice(stations)
                assert station.lat is not None and station.lng is not None
                resident = rng.choice(residents)
                lat, lng = _near(rng, station.lat, station.lng, 1.0)
                start = now + timedelta(days=rng.randint(1, 20), hours=rng.randint(0, 10))
                body = WishCreate(
                    category_code=rng.choice(CATEGORIES),
                    title=f"心愿{i + 1}：帮独居老人买菜",
                    description="每周两次，需要帮忙提重物。",
                    skill_codes=rng.sample(COMMON_SKILLS, 1) if rng.random() < 0.3 else [],
                    coarse_address=f"{station.name}附近",
                    full_address=f"{station.name} {rng.randint(1, 9)} 组 {rng.randint(1, 60)} 号",
                    contact_phone="13800000000",
                    lat=lat,
                    lng=lng,
                    wanted_start_at=start,
                    wanted_end_at=start + timedelta(hours=2),
                    urgency=rng.choice(list(Urgency)),
                    station_id=station.id,
                )
                wish = create_wish(
                    session=session, body=body, actor=_principal(session, resident.id)
                )
                if i >= open_wishes and i < open_wishes + submitted_only:
                    pass  # stays submitted
                else:
                    apply_event(
                        session=session,
                        wish_id=wish.id,
                        event=WishEvent.APPROVE,
                        actor=county_coordinator,
                    )
                    apply_event(
                        session=session,
                        wish_id=wish.id,
                        event=WishEvent.OPEN_GRAB,
                        actor=county_coordinator,
                    )
                    if i < open_wishes:
                        grab_ids.append(wish.id)
                    else:
                        _accept_somebody(session, wish.id, station)
                # Readers: the requester, and coordinators of the station, township and county.
                town_id = station.parent_id
                assert town_id is not None
                detail.append((wish.id, resident.id))
                detail.append((wish.id, coordinators[station.id].id))
                detail.append((wish.id, coordinators[rng.choice([town_id, county.id])].id))

            open_users = [v.user_id for v in vol_rows if v.status == VolunteerStatus.ACTIVE]

            # The accept area: volunteer next to a station, with ACCEPT_CAPACITY wishes each.
            groups: list[list[tuple[int, int]]] = []
            n_vol = math.ceil(accept_pool / ACCEPT_CAPACITY)
            acc_users = _users(session, phones, "接单志愿者", n_vol)
            _grant(session, acc_users, AccountRole.RESIDENT)
            _grant(session, acc_users, AccountRole.VOLUNTEER)
            acc_vols = []
            for user in acc_users:
                home = rng.choice(accept_stations)
                assert home.lat is not None and home.lng is not None
                lat, lng = _near(rng, home.lat, home.lng, 0.5)
                acc_vols.append(
                    Volunteer(
                        user_id=user.id,
                        home_station_id=home.id,
                        lat=lat,
                        lng=lng,
                        service_radius_m=5000,
                        h3_cell=cell_of(lat, lng),
                        **ALWAYS_AVAILABLE,
                        max_concurrent_tasks=ACCEPT_CAPACITY,
                        status=VolunteerStatus.ACTIVE,
                    )
                )
            session.add_all(acc_vols)
            session.flush()
            vol_skill = {v.id: rng.choice(COMMON_SKILLS) for v in acc_vols}
            session.execute(
                insert(VolunteerSkill),
                [
                    {
                        "volunteer_id": v.id,
                        "skill_code": vol_skill[v.id],
                        "qualified_until": QUALIFIED_UNTIL,
                    }
                    for v in acc_vols
                ],
            )
            _refresh_skill_masks(session)
            station_by_id = {s.id: s for s in accept_stations}
            wish_rows = []
            owners = []
            for v in acc_vols:
                home = station_by_id[v.home_station_id]
                assert home.lat is not None and home.lng is not None
                for _ in range(ACCEPT_CAPACITY):
                    lat, lng = _near(rng, home.lat, home.lng, 0.5)
                    start = now + timedelta(days=rng.randint(1, 20))
                    wish_rows.append(
                        {
                            "station_id": home.id,
                            "category_code": rng.choice(CATEGORIES),
                            "title": "帮忙搬运年货",
                            "description": "两箱米面油",
                            "coarse_address": f"{home.name}附近",
                            "full_address": f"{home.name} 1 组 {rng.randint(1, 60)} 号",
                            "contact_phone": "13800000000",
                            "coarse_lat": coarse(lat),
                            "coarse_lng": coarse(lng),
                            "exact_point": (lat, lng),
                            "wanted_start_at": start,
                            "wanted_end_at": start + timedelta(hours=2),
                            "urgency": Urgency.NORMAL,
                            "requester_id": rng.choice(residents).id,
                            "status": WishStatus.DISPATCHING,
                            "version": 3,
                            "grab_open": True,
                            "submitted_at": now,
                            "approved_at": now,
                            "dispatching_at": now,
                            "created_at": now,
                            "updated_at": now,
                        }
                    )
                    owners.append(v)
            wish_ids = list(
                session.scalars(
                    insert(Wish).returning(Wish.id, sort_by_parameter_order=True), wish_rows
                )
            )
            wish_skill_rows = []
            by_volunteer: dict[int, list[tuple[int, int]]] = {}
            for wish_id, v in zip(wish_ids, owners, strict=True):
                if rng.random() < 0.3:
                    wish_skill_rows.append({"wish_id": wish_id, "skill_code": vol_skill[v.id]})
                by_volunteer.setdefault(v.id, []).append((wish_id, v.user_id))
            if wish_skill_rows:
                session.execute(insert(WishSkill), wish_skill_rows)
            groups = list(by_volunteer.values())
            rng.shuffle(groups)

            unit_ids = [u.id for u in [county, *townships, *stations, *accept_stations]]
            counts = {
                "stations": len(stations) + len(accept_stations),
                "residents": len(residents),
                "volunteers": len(vol_rows),
                "accept_volunteers": len(acc_vols),
                "open_wishes": len(grab_ids),
                "submitted_wishes": submitted_only,
                "accepted_wishes": to_accept,
                "accept_pool": len(wish_ids),
            }
            counts["wishes_total"] = session.scalar(select(func.count()).select_from(Wish)) or 0
        _analyze(database)
    finally:
        database.engine.dispose()
    return Seeded(
        unit_ids=unit_ids,
        detail=detail,
        open_users=open_users,
        accept_groups=groups,
        counts=counts,
    )


def _accept_somebody(session: Session, wish_id: int, station: OrgUnit) -> None:
    """Have the nearest eligible volunteer grab the wish (an accepted wish for the detail mix)."""
    for user_id in grab_candidates(session, load_wish(session, wish_id), 20):
        try:
            with session.begin_nested():
                apply_event(
                    session=session,
                    wish_id=wish_id,
                    event=WishEvent.ACCEPT,
                    actor=_principal(session, user_id),
                )
            return
        except AtCapacity:
            continue
    raise RuntimeError(f"nobody could accept wish {wish_id}")


def _refresh_skill_masks(session: Session) -> None:
    """Volunteers' skill masks from their skill rows (what the volunteers service keeps)."""
    session.execute(
        text(
            "UPDATE volunteers SET skill_bits = COALESCE((SELECT SUM(CAST(1 AS BIGINT) << s.bit)"
            " FROM volunteer_skills vs JOIN skills s ON s.code = vs.skill_code"
            " WHERE vs.volunteer_id = volunteers.id), 0)"
        )
    )


def _analyze(database: Database) -> None:
    """Planner statistics, as autovacuum (PostgreSQL) or `PRAGMA optimize` would leave them."""
    with database.engine.connect() as conn:
        if database.is_sqlite:
            conn.exec_driver_sql("ANALYZE")
        else:
            conn.execute(text("ANALYZE"))
        conn.commit()


def accepted_count(url: str, settings: Settings, wish_ids: list[int]) -> int:
    """How many of these wishes are now accepted (to check the accept phase's 200s)."""
    database = Database(make_engine(url, settings))
    try:
        with database.session(write=False) as session:
            total = 0
            for i in range(0, len(wish_ids), 500):
                chunk = wish_ids[i : i + 500]
                total += (
                    session.scalar(
                        select(func.count())
                        .select_from(Wish)
                        .where(Wish.id.in_(chunk), Wish.status == WishStatus.ACCEPTED)
                    )
                    or 0
                )
            return total
    finally:
        database.engine.dispose()
