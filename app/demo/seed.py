"""The demo city: 湖州市 → 安吉县, two townships and four village stations, ready to use.

`seed_demo` imports the shipped excerpt of the real division data, places the units on the map,
creates an admin and one coordinator per unit, registers volunteers and residents, and plays
the wishes of `app/demo/stories.py` through the loop. Everything goes through the services a
user's request would go through, so each wish has a coherent event history, offers and outbox
rows.

The stories are replayed in time order on the service clock (`app.clock`), from about two
months before the moment of seeding up to it: finished wishes were served in the past, open ones
want service in the future. The clock is put back afterwards; do not seed inside a process that
is serving requests at the same time.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import BaseModel
from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from app import clock
from app import wiring as _wiring  # noqa: F401 - every domain's handlers registered
from app.accounts.service import create_staff_user, grant_role
from app.attendance.schemas import AttendanceIn
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
    WishStory,
)
from app.geo import distance_m
from app.matching.service import reasons_for
from app.models import Attendance, OrgUnit, OutboxMessage, User, Volunteer, Wish
from app.models.enums import TASK_STATUSES, AccountRole, WishStatus
from app.org_units.importer import import_divisions
from app.org_units.service import update_unit
from app.privacy import consent
from app.records.hours import confirm as confirm_record
from app.records.schemas import ConfirmIn
from app.volunteers.schemas import (
    AvailabilitySlot,
    InsuranceIn,
    QualificationIn,
    VolunteerRegister,
)
from app.volunteers.service import record_insurance, record_qualification, register
from app.wishes.handlers.dispatch import LEGAL_CONSTRAINTS, grab_candidates
from app.wishes.intake import create_wish
from app.wishes.loading import load_wish
from app.wishes.schemas import (
    NoteIn,
    OfferIn,
    OnBehalfOf,
    OptionalReasonIn,
    ProxyConsent,
    RateIn,
    ReasonIn,
    WishCreate,
)
from app.wishes.service import apply_event
from app.wishes.state import WishEvent

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


def _scatter(rng: random.Random, lat: float, lng: float, max_m: float) -> tuple[float, float]:
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


@contextmanager
def _replayed_clock() -> Iterator[Callable[[datetime], None]]:
    """Lets the seed set the service clock to each moment of the demo's history.

    Restores whatever clock was in force before (a test's frozen clock, or the wall clock).
    """
    previous = clock.get_clock()
    try:
        yield lambda moment: clock.set_clock(lambda: moment)
    finally:
        clock.set_clock(previous)


@dataclass
class DemoVolunteer:
    volunteer: Volunteer
    user: User
    station: str
    skills: frozenset[str]


@dataclass
class Story:
    """One `WishStory` being played: the wish it made and who took part."""

    script: WishStory
    requester: User | None  # None until a proxy's wish creates the resident's account
    proxy_for: OnBehalfOf | None = None
    wish_id: int = 0
    offered: list[DemoVolunteer] = field(default_factory=list)
    assignee: DemoVolunteer | None = None


# A story's action; what it returns (the wish, mostly) is not used.
Action = Callable[[], object]
Step = tuple[datetime, int, Action]


class DemoSeeder:
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
        self.stories: list[Story] = []
        self.proxied = 0

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
        self.set_clock(self.at(-60, 9))
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
        self.set_clock(self.at(-59, 10))
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
                lat, lng = _scatter(self.rng, station.lat, station.lng, 1200 if is_anchor else 2000)
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

    # ------------------------------------------------------------ picking volunteers

    def has_capacity(self, dv: DemoVolunteer) -> bool:
        active = self.session.scalar(
            select(func.count())
            .select_from(Wish)
            .where(Wish.assignee_id == dv.volunteer.id, Wish.status.in_(TASK_STATUSES))
        )
        return (active or 0) < dv.volunteer.max_concurrent_tasks

    def offer_targets(self, story: Story, wish: Wish) -> list[DemoVolunteer]:
        """Volunteers in the offering coordinator's area who fit the wish, nearest first."""
        script = story.script
        area = script.station if script.offer_by == "village" else script.station[:9]
        fitting = [
            dv
            for dv in self.volunteers
            if dv.station.startswith(area)
            and set(script.skills) <= dv.skills
            and self.has_capacity(dv)
        ]
        station = self.session.get(OrgUnit, wish.station_id)
        assert station is not None
        reasons = reasons_for(
            self.session,
            wish=wish,
            station=station,
            volunteer_ids=[dv.volunteer.id for dv in fitting],
        )
        fitting = [
            dv for dv in fitting if not LEGAL_CONSTRAINTS & set(reasons.get(dv.volunteer.id, []))
        ]
        fitting.sort(key=lambda dv: distance_m(dv.volunteer.lat, dv.volunteer.lng, *wish.point))
        if not fitting:
            raise RuntimeError(f"demo data: nobody can be offered {script.title!r}")
        return fitting[: script.offer_count]

    def grab_taker(self, wish: Wish) -> DemoVolunteer:
        """The nearest volunteer who may grab the wish (the real eligibility query)."""
        by_user = {dv.user.id: dv for dv in self.volunteers}
        for user_id in grab_candidates(self.session, load_wish(self.session, wish.id), limit=50):
            dv = by_user.get(user_id)
            if dv is not None and self.has_capacity(dv):
                return dv
        raise RuntimeError(f"demo data: nobody may grab {wish.title!r}")

    # ------------------------------------------------------------ the stories

    def event(
        self,
        story: Story,
        event: WishEvent,
        actor: User | None,
        payload: BaseModel | None = None,
    ) -> Wish:
        return apply_event(
            session=self.session,
            wish_id=story.wish_id,
            event=event,
            actor=self.principal(actor.id) if actor is not None else None,
            payload=payload,
        ).wish

    def confirm(self, story: Story, coordinator: User) -> Wish:
        """The coordinator confirms the lead's service record: hours enter the ledger."""
        record = self.session.scalars(
            select(Attendance.id).where(Attendance.wish_id == story.wish_id)
        ).one()
        actor = self.principal(coordinator.id)
        confirm_record(session=self.session, attendance_id=record, actor=actor, body=ConfirmIn(),
                       now=clock.now())  # fmt: skip
        wish = self.session.get(Wish, story.wish_id)
        assert wish is not None
        return wish

    def at_place(self, story: Story, summary: str = "") -> AttendanceIn:
        """The volunteer's phone at the wish's place."""
        wish = self.session.get(Wish, story.wish_id)
        assert wish is not None
        lat, lng = wish.point
        return AttendanceIn(lat=lat, lng=lng, summary=summary)

    def window(self, script: WishStory) -> tuple[datetime, datetime]:
        if script.window is None:  # being served right now
            return self.now - timedelta(minutes=70), self.now + timedelta(minutes=110)
        day, hour, minute, hours = script.window
        start = self.at(day, hour, minute)
        return start, start + timedelta(hours=hours)

    def submit(self, story: Story) -> None:
        script = story.script
        station = self.units[script.station]
        assert station.lat is not None and station.lng is not None
        lat, lng = _scatter(self.rng, station.lat, station.lng, 800)
        start, end = self.window(script)
        contact: str | None
        if story.proxy_for is not None:
            # The station's grid worker orders for the resident; where there is none, its
            # coordinator.
            proxy = self.grid_workers.get(script.station) or self.coordinators[script.station]
            actor, contact = proxy, story.proxy_for.phone
        else:
            assert story.requester is not None
            actor, contact = story.requester, story.requester.phone
        wish = create_wish(
            session=self.session,
            actor=self.principal(actor.id),
            body=WishCreate(
                category_code=script.category,
                title=script.title,
                description=script.description,
                skill_codes=list(script.skills),
                coarse_address=script.coarse_address,
                full_address=script.full_address,
                contact_phone=contact,
                lat=lat,
                lng=lng,
                wanted_start_at=start,
                wanted_end_at=end,
                urgency=script.urgency,
                programme_code=script.programme,
                season_code=script.season,
                station_id=station.id,
                on_behalf_of=story.proxy_for,
            ),
        )
        story.wish_id = wish.id
        story.requester = self.session.get(User, wish.requester_id)

    def dispatch(self, story: Story) -> None:
        script = story.script
        coordinator = self.coordinators[script.station]
        wish = self.session.get(Wish, story.wish_id)
        assert wish is not None
        if script.via == "grab":
            self.event(story, WishEvent.OPEN_GRAB, coordinator, NoteIn(note="附近志愿者均可抢单"))
            return
        if script.offer_by == "township":
            coordinator = self.coordinators[script.station[:9] + "000"]
        story.offered = self.offer_targets(story, wish)
        days = 3 if script.ends_in == WishStatus.DISPATCHING else 1
        self.event(
            story,
            WishEvent.OFFER,
            coordinator,
            OfferIn(
                volunteer_ids=[dv.volunteer.id for dv in story.offered],
                expires_in_minutes=days * 24 * 60,
                note="您的技能和位置都合适，请尽快回复",
            ),
        )

    def accept(self, story: Story) -> None:
        wish = self.session.get(Wish, story.wish_id)
        assert wish is not None
        if story.script.via == "grab":
            taker = self.grab_taker(wish)
        else:
            taker = next((dv for dv in story.offered if self.has_capacity(dv)), story.offered[0])
        self.event(story, WishEvent.ACCEPT, taker.user)
        story.assignee = taker

    def plan(self, story: Story) -> list[tuple[datetime, Action]]:
        """The story's steps and when each happens."""
        script = story.script
        coordinator = self.coordinators[script.station]
        created = self.local(script.created)
        steps: list[tuple[datetime, Action]] = [(created, lambda: self.submit(story))]
        review = created + timedelta(hours=1, minutes=30)
        ends_in = script.ends_in

        def requester() -> User:
            assert story.requester is not None
            return story.requester

        def assignee() -> User:
            assert story.assignee is not None
            return story.assignee.user

        if ends_in == WishStatus.SUBMITTED:
            return steps
        if ends_in == WishStatus.REJECTED:
            reason = ReasonIn(reason=script.reason or "")
            return [
                *steps,
                (review, lambda: self.event(story, WishEvent.REJECT, coordinator, reason)),
            ]
        if ends_in == WishStatus.CANCELLED and script.twist is None:
            cancel = OptionalReasonIn(reason=script.reason or "")
            return [
                *steps,
                (
                    created + timedelta(hours=9),
                    lambda: self.event(story, WishEvent.CANCEL, requester(), cancel),
                ),
            ]
        steps.append(
            (
                review,
                lambda: self.event(
                    story, WishEvent.APPROVE, coordinator, NoteIn(note="情况属实，同意受理")
                ),
            )
        )
        if ends_in == WishStatus.APPROVED and script.twist is None:
            return steps
        steps.append((created + timedelta(hours=2, minutes=30), lambda: self.dispatch(story)))
        if ends_in == WishStatus.DISPATCHING:
            if script.decline:
                decline = OptionalReasonIn(reason=script.decline)
                steps.append(
                    (
                        created + timedelta(hours=6),
                        lambda: self.event(
                            story, WishEvent.DECLINE, story.offered[-1].user, decline
                        ),
                    )
                )
            return steps
        steps.append((created + timedelta(hours=5), lambda: self.accept(story)))

        if script.twist is not None:
            assert script.twist_at is not None
            twist_reason = script.reason or ""

            def twist() -> Wish:
                if script.twist == "withdraw":  # the volunteer gives the wish back (Art 22)
                    withdraw = ReasonIn(reason=twist_reason)
                    return self.event(story, WishEvent.WITHDRAW, assignee(), withdraw)
                cancel = OptionalReasonIn(reason=twist_reason)
                return self.event(story, WishEvent.CANCEL, coordinator, cancel)

            return [*steps, (self.local(script.twist_at), twist)]
        if ends_in == WishStatus.ACCEPTED:
            return steps
        start, end = self.window(script)
        steps.append(
            (
                start + timedelta(minutes=5),
                lambda: self.event(story, WishEvent.CHECK_IN, assignee(), self.at_place(story)),
            )
        )
        if ends_in == WishStatus.IN_SERVICE:
            return steps
        checked_out = end - timedelta(minutes=20)
        steps.append(
            (
                checked_out,
                lambda: self.event(
                    story, WishEvent.CHECK_OUT, assignee(), self.at_place(story, script.summary)
                ),
            )
        )
        if ends_in == WishStatus.COMPLETED:
            return steps
        # The station confirms the hours the next morning.
        steps.append((checked_out + timedelta(hours=16), lambda: self.confirm(story, coordinator)))
        if script.rating is not None:
            score, comment = script.rating
            rated = checked_out + timedelta(hours=20)
            rating = RateIn(score=score, comment=comment)
            steps.append((rated, lambda: self.event(story, WishEvent.RATE, requester(), rating)))
            if ends_in == WishStatus.RATED:
                return steps
            closed = rated + timedelta(days=2)
            note = NoteIn(note=script.close_note or "")
            return [*steps, (closed, lambda: self.event(story, WishEvent.CLOSE, coordinator, note))]
        # Not rated in time: the system's timer closes the wish.
        timeout = NoteIn(note="评价期已过，系统自动办结")
        return [
            *steps,
            (
                checked_out + timedelta(days=7),
                lambda: self.event(story, WishEvent.CLOSE, None, timeout),
            ),
        ]

    def play_stories(self) -> None:
        self.proxy_text_version = self.text_version(consent.ConsentPurpose.PERSONAL_INFO)
        next_resident: Counter[str] = Counter()
        steps: list[Step] = []
        for script in STORIES:
            if script.proxy:
                # An elderly resident without the app: the wish placed for them creates their
                # account.
                self.proxied += 1
                story = Story(
                    script=script,
                    requester=None,
                    proxy_for=OnBehalfOf(
                        phone=RESIDENT_PHONE.format(100 + self.proxied),
                        name=self.person_name(),
                        # The station explains the text to the resident, who agrees aloud.
                        consent=ProxyConsent(method="verbal", version=self.proxy_text_version),
                    ),
                )
            else:
                residents = self.residents[script.station]
                story = Story(
                    script=script,
                    requester=residents[next_resident[script.station] % len(residents)],
                )
                next_resident[script.station] += 1
            self.stories.append(story)
            planned = self.plan(story)
            moments = [when for when, _ in planned]
            if (
                moments != sorted(moments)
                or len(set(moments)) != len(moments)
                or moments[-1] >= self.now
            ):
                raise RuntimeError(f"demo data: the steps of {script.title!r} are out of order")
            steps.extend((when, len(steps), action) for when, action in planned)
        # Play every story's steps in one timeline, so that ids follow time and each volunteer's
        # load at an accept is what it was at that moment.
        for when, _, action in sorted(steps, key=lambda s: (s[0], s[1])):
            self.set_clock(when)
            action()

    # ------------------------------------------------------------ summary

    def summary(self) -> str:
        statuses = Counter(
            self.session.scalars(
                select(Wish.status).where(Wish.id.in_([s.wish_id for s in self.stories]))
            )
        )
        county = self.units[COUNTY_CODE]
        n_listed_residents = sum(len(r) for r in self.residents.values())
        n_residents = n_listed_residents + self.proxied
        n_volunteers = len(self.volunteers)
        lines = [
            f"[bold green]演示城市已载入[/bold green]：{self.units[CITY_CODE].name} → {county.name}"
            "，2 个实践所、4 个实践站",
            f"单位 {len(self.units)} 个，志愿者 {n_volunteers} 名，"
            f"群众 {n_residents} 名，心愿 {len(self.stories)} 条",
            "心愿状态："
            + "，".join(
                f"{status} {statuses[status]}" for status in WishStatus if statuses[status]
            ),
            "",
            "[bold]登录账号[/bold]（POST /api/v1/auth/login）：",
        ]
        for username, password, name, unit in self.accounts:
            lines.append(f"  [cyan]{username:<20}[/cyan] {password:<11} {unit}（{name}）")
        inboxes = self.session.execute(
            select(func.count(), func.count(distinct(OutboxMessage.recipient_id))).where(
                OutboxMessage.recipient_id.is_not(None)
            )
        ).one()
        lines.append(
            f"消息 {inboxes[0]} 条，发给 {inboxes[1]} 人："
            "各自登录后查看 GET /api/v1/me/notifications"
        )
        lines += [
            "",
            "志愿者与群众用手机号登录（POST /api/v1/auth/dev-login，仅开发环境）：",
            f"  志愿者 {VOLUNTEER_PHONE.format(1)} … {VOLUNTEER_PHONE.format(n_volunteers)}，"
            f"群众 {RESIDENT_PHONE.format(1)} … {RESIDENT_PHONE.format(n_listed_residents)}，"
            f"网格员 {GRID_WORKER_PHONE.format(1)}（{self.units[GRID_WORKER_STATIONS[0]].name}）",
        ]
        return "\n".join(lines)


def seed_demo(*, session: Session) -> str:
    """Load the demo city; does nothing if its county is already there. Does not commit."""
    existing = session.scalar(select(OrgUnit.name).where(OrgUnit.code == COUNTY_CODE))
    if existing is not None:
        return f"[yellow]演示数据已存在[/yellow]（{existing}，{COUNTY_CODE}），未做任何改动"
    now = clock.now()
    with _replayed_clock() as set_clock:
        seeder = DemoSeeder(session, now, set_clock)
        seeder.import_units()
        seeder.create_accounts()
        seeder.register_volunteers()
        seeder.create_residents()
        seeder.play_stories()
        session.flush()
    return seeder.summary()
