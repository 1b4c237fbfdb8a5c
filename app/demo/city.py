"""The demo city's people and places: units on the map, staff accounts, volunteers, residents.

`DemoCity` imports the shipped excerpt of the real division data, places the units on the map,
creates an admin and one coordinator per unit (and the grid workers), registers volunteers (some
of each station with the skills its stories need) and residents. `replay.StoryReplay` then plays
the stories' wishes through the services on this city.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.accounts.service import create_staff_user, grant_role
from app.auth.principal import Principal, load_principal
from app.auth.users import ensure_role, find_or_create_resident
from app.catalogue.service import skills_needing_qualification
from app.demo.stories import (
    COMMON_SKILLS,
    COORDINATES,
    GIVEN_NAMES,
    OTHER_SKILLS,
    RESIDENTS_PER_STATION,
    SLOT_TIMES,
    STATIONS,
    STORIES,
    SURNAMES,
    VOLUNTEERS_PER_STATION,
    LocalTime,
)
from app.models import OrgUnit, User, Volunteer
from app.models.enums import AccountRole, WishStatus
from app.org_units.importer import import_divisions
from app.org_units.service import update_unit
from app.privacy import consent
from app.volunteers.schemas import AvailabilitySlot, InsuranceIn, QualificationIn, VolunteerRegister
from app.volunteers.service import record_insurance, record_qualification, register

DATA_DIR = Path(__file__).parent / "data" / "divisions"
ROOT_CODE = "330523"
COUNTY_CODE = "330523000000"
CITY_CODE = "330500000000"
TZ = ZoneInfo("Asia/Shanghai")

ADMIN_USERNAME = "admin"
ADMIN_PASSWORD = "admin12345"
STAFF_PASSWORD = "demo12345"
VOLUNTEER_PHONE = "1390000{:04d}"
RESIDENT_PHONE = "1380000{:04d}"
GRID_WORKER_PHONE = "1370000{:04d}"
# Stations with a grid worker (网格员), who orders for residents without the app.
GRID_WORKER_STATIONS = ("330523108203",)  # 山河村
SEED = 2026

_DISPATCHED = frozenset(
    {
        WishStatus.DISPATCHING,
        WishStatus.ACCEPTED,
        WishStatus.IN_SERVICE,
        WishStatus.COMPLETED,
        WishStatus.RATED,
        WishStatus.CLOSED,
    }
)
M_PER_DEG_LAT = 111_195.0


def _moved(lat: float, lng: float, north_m: float, east_m: float) -> tuple[float, float]:
    """A point offset from (lat, lng) by metres north and east."""
    return (
        round(lat + north_m / M_PER_DEG_LAT, 6),
        round(lng + east_m / (M_PER_DEG_LAT * math.cos(math.radians(lat))), 6),
    )


def scatter(rng: random.Random, lat: float, lng: float, max_m: float) -> tuple[float, float]:
    """A point spread evenly over the disc of radius `max_m` around (lat, lng)."""
    r = max_m * math.sqrt(rng.random())
    angle = rng.uniform(0, 2 * math.pi)
    return _moved(lat, lng, r * math.cos(angle), r * math.sin(angle))


def _short_code(code: str) -> str:
    """330523108204 → 330523108204, 330523108000 → 330523108, 330500000000 → 3305."""
    for length in (4, 6, 9):
        if code[length:] == "0" * (12 - length):
            return code[:length]
    return code


class Played(Protocol):
    """A wish being played (a story's, or one of the history's)."""

    wish_id: int


@dataclass
class DemoVolunteer:
    volunteer: Volunteer
    user: User
    station: str
    skills: frozenset[str]


class DemoCity:
    """The city being built: its units, accounts and people, on the replayed clock."""

    def __init__(self, session: Session, now: datetime, set_clock: Callable[[datetime], None]):
        self.session = session
        self.now = now
        self.today = now.astimezone(TZ).date()
        self.set_clock = set_clock
        self.rng = random.Random(SEED)
        self.used_names: set[str] = set()
        self.units: dict[str, OrgUnit] = {}
        self.coordinators: dict[str, User] = {}
        self.grid_workers: dict[str, User] = {}
        self.accounts: list[tuple[str, str, str, str]] = []  # username, password, name, unit
        self.volunteers: list[DemoVolunteer] = []
        self.residents: dict[str, list[User]] = {}
        self.first_day = -60  # the units and staff accounts are set up on this day

    # ------------------------------------------------------------ time and people

    def at(self, day: int, hour: int, minute: int = 0) -> datetime:
        """A local time on a day relative to the seeding day, as UTC."""
        local = datetime.combine(self.today + timedelta(days=day), time(hour, minute), TZ)
        return local.astimezone(UTC)

    def local(self, moment: LocalTime) -> datetime:
        return self.at(*moment)

    def person_name(self) -> str:
        while True:
            name = self.rng.choice(SURNAMES) + self.rng.choice(GIVEN_NAMES)
            if name not in self.used_names:
                self.used_names.add(name)
                return name

    def text_version(self, purpose: consent.ConsentPurpose) -> str:
        text = consent.current_text(self.session, purpose, consent.today(clock.now()))
        assert text is not None, f"no consent text in force for {purpose}"
        return text.version

    def principal(self, user_id: int) -> Principal:
        found = load_principal(self.session, user_id)
        assert found is not None, f"demo user {user_id} has no principal"
        return found

    # ------------------------------------------------------------ units and accounts

    def import_units(self) -> None:
        self.set_clock(self.at(self.first_day, 9))
        import_divisions(session=self.session, source=DATA_DIR, root_code=ROOT_CODE)
        units = self.session.scalars(select(OrgUnit).where(OrgUnit.code.in_(COORDINATES))).all()
        self.units = {unit.code: unit for unit in units}
        for code, (lat, lng) in COORDINATES.items():
            update_unit(
                session=self.session, unit=self.units[code], values={"lat": lat, "lng": lng}
            )

    def staff_user(self, *, username: str, password: str, name: str, unit: str) -> User:
        """A staff account; an account that already has the username is kept as it is."""
        existing = self.session.scalars(select(User).where(User.username == username)).first()
        if existing is not None:
            self.accounts.append((username, "（原密码）", existing.name, unit))
            return existing
        user = create_staff_user(
            session=self.session, name=name, username=username, password=password
        )
        self.accounts.append((username, password, name, unit))
        return user

    def create_accounts(self) -> None:
        self.set_clock(self.at(self.first_day + 1, 10))
        admin = self.staff_user(
            username=ADMIN_USERNAME, password=ADMIN_PASSWORD, name="系统管理员", unit="全部单位"
        )
        ensure_role(session=self.session, user_id=admin.id, role=AccountRole.ADMIN)
        for code in sorted(self.units):
            unit = self.units[code]
            user = self.staff_user(
                username=f"coord-{_short_code(code)}",
                password=STAFF_PASSWORD,
                name=self.person_name(),
                unit=unit.name,
            )
            grant_role(
                session=self.session,
                user_id=user.id,
                role=AccountRole.COORDINATOR,
                org_unit_id=unit.id,
            )
            self.coordinators[code] = user
        for number, code in enumerate(GRID_WORKER_STATIONS, start=1):
            worker = find_or_create_resident(
                session=self.session,
                phone=GRID_WORKER_PHONE.format(number),
                name=self.person_name(),
            )
            grant_role(
                session=self.session,
                user_id=worker.id,
                role=AccountRole.GRID_WORKER,
                org_unit_id=self.units[code].id,
            )
            self.grid_workers[code] = worker

    # ------------------------------------------------------------ volunteers and residents

    def anchor_skills(self) -> dict[str, list[tuple[str, ...]]]:
        """Skill sets some volunteers of each station must have, so every story can be served."""
        anchors: dict[str, list[tuple[str, ...]]] = {code: [] for code in STATIONS}
        for script in STORIES:
            if not script.skills or not (script.ends_in in _DISPATCHED or script.twist):
                continue
            count = 1 if script.via == "grab" else script.offer_count
            anchors[script.station].extend([script.skills] * count)
        return anchors

    def random_skills(self, required: tuple[str, ...]) -> list[str]:
        skills = list(required)
        wanted = max(len(skills), self.rng.randint(1, 3))
        while len(skills) < wanted:
            pool = COMMON_SKILLS if self.rng.random() < 0.6 else OTHER_SKILLS
            skill = self.rng.choice(pool)
            if skill not in skills:
                skills.append(skill)
        return skills

    def availability(self, *, every_day: bool = False) -> list[AvailabilitySlot]:
        if every_day:
            return [AvailabilitySlot(weekday=day, start="00:00", end="24:00") for day in range(7)]
        days = sorted(self.rng.sample(range(7), self.rng.randint(2, 4)))
        slots = []
        for weekday in days:
            start, end = self.rng.choice(SLOT_TIMES)
            slots.append(AvailabilitySlot(weekday=weekday, start=start, end=end))
        return slots

    def birth_date(self) -> date:
        age = self.rng.randint(20, 68)
        return date(self.today.year - age, self.rng.randint(1, 12), self.rng.randint(1, 28))

    def register_volunteers(self) -> None:
        anchors = self.anchor_skills()
        number = 0
        for station_code in STATIONS:
            station = self.units[station_code]
            assert station.lat is not None and station.lng is not None
            required = anchors[station_code]
            assert len(required) <= VOLUNTEERS_PER_STATION
            for i in range(VOLUNTEERS_PER_STATION):
                number += 1
                self.set_clock(self.at(-58 + number // 2, 9 + number % 10, 15))
                is_anchor = i < len(required)
                skills = self.random_skills(required[i] if is_anchor else ())
                # Volunteers who must be able to take a story's wish live nearer the station.
                lat, lng = scatter(self.rng, station.lat, station.lng, 1200 if is_anchor else 2000)
                radius = self.rng.randrange(3000 if is_anchor else 2000, 6001, 500)
                user = find_or_create_resident(
                    session=self.session,
                    phone=VOLUNTEER_PHONE.format(number),
                    name=self.person_name(),
                )
                volunteer = register(
                    session=self.session,
                    actor=self.principal(user.id),
                    body=VolunteerRegister(
                        home_station_id=station.id,
                        lat=lat,
                        lng=lng,
                        service_radius_m=radius,
                        skill_codes=skills,
                        # Anchors are free at any hour, so that whatever window a story wants
                        # (some are "right now"), someone can serve it.
                        weekly_availability=self.availability(every_day=is_anchor),
                        max_concurrent_tasks=self.rng.randint(1, 3),
                        birth_date=self.birth_date(),
                    ),
                )
                # Volunteers agree to a location fix at check-in and check-out (PIPL Art 28),
                # to the text in force.
                consent.grant(
                    self.session,
                    user_id=user.id,
                    purpose=consent.ConsentPurpose.LOCATION,
                    version=self.text_version(consent.ConsentPurpose.LOCATION),
                    now=clock.now(),
                )
                # Coordinators have checked certificates and insurance for most volunteers
                # (and for every anchor, who must be able to take a story's wish).
                needing = skills_needing_qualification(self.session)
                qualified_skills = [c for c in skills if c in needing]
                for code in qualified_skills:
                    if is_anchor or self.rng.random() < 0.7:
                        record_qualification(
                            session=self.session,
                            volunteer=volunteer,
                            body=QualificationIn(
                                skill_code=code,
                                qualified_until=self.today.replace(year=self.today.year + 2),
                            ),
                        )
                if is_anchor or self.rng.random() < 0.75:
                    record_insurance(
                        session=self.session,
                        volunteer=volunteer,
                        body=InsuranceIn(insured_until=date(self.today.year + 1, 12, 31)),
                    )
                self.volunteers.append(
                    DemoVolunteer(volunteer, user, station_code, frozenset(skills))
                )

    def create_residents(self) -> None:
        number = 0
        for station_code, count in RESIDENTS_PER_STATION.items():
            for _ in range(count):
                number += 1
                self.set_clock(self.at(-45 + number, 19, 30))
                user = find_or_create_resident(
                    session=self.session,
                    phone=RESIDENT_PHONE.format(number),
                    name=self.person_name(),
                )
                self.residents.setdefault(station_code, []).append(user)
