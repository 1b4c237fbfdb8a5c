"""The people of the demo city's history: the consent texts in force when it starts, the
residents who place its wishes and the volunteers who join month by month (`history.py` plays
their wishes)."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.demo.city import (
    RESIDENT_PHONE,
    SEED,
    VOLUNTEER_PHONE,
    DemoVolunteer,
    scatter,
)
from app.demo.past import (
    FIRST_RESIDENT,
    HISTORY_DAYS,
    HISTORY_SKILLS,
    HISTORY_WISHES,
    RESIDENTS_PER_STATION,
    Past,
)
from app.demo.replay import Action, StoryReplay
from app.demo.stories import STATIONS
from app.models import ConsentText, User, Wish
from app.models.enums import TASK_STATUSES
from app.privacy import consent
from app.volunteers.schemas import AvailabilitySlot, InsuranceIn, QualificationIn, VolunteerRegister
from app.volunteers.service import record_insurance, record_qualification, register
from app.wishes.schemas import (
    OnBehalfOf,
)


class PastPeople(StoryReplay):
    """The city with the history's people, who join over its months."""

    def __init__(self, session: Session, now: datetime, set_clock: Callable[[datetime], None]):
        super().__init__(session, now, set_clock)
        self.past_rng = random.Random(SEED + 1)
        self.past_volunteers: list[DemoVolunteer] = []
        self.past_residents: dict[str, list[User]] = {}
        self.proxied_residents: dict[str, list[OnBehalfOf]] = {}
        self.past: list[Past] = []
        self.mainstays: set[int] = set()
        self.history_wishes = HISTORY_WISHES
        self.first_day = -HISTORY_DAYS - 2

    # ------------------------------------------------------------ time

    def day(self, offset: int) -> date:
        return self.today + timedelta(days=offset)

    def started(self) -> datetime:
        return self.at(-HISTORY_DAYS, 8)

    # ------------------------------------------------------------ people

    def publish_texts(self) -> None:
        """The consent texts in force when the history starts: the first versions, reworded
        at New Year 2026 (migration 0009's texts), kept as they were."""
        self.set_clock(self.started())
        admin = self.session.scalars(select(User).where(User.username == "admin")).one()
        for purpose in (consent.ConsentPurpose.LOCATION, consent.ConsentPurpose.PERSONAL_INFO):
            first = self.session.scalars(
                select(ConsentText)
                .where(ConsentText.purpose == purpose)
                .order_by(ConsentText.effective_date, ConsentText.id)
                .limit(1)
            ).one()
            if first.effective_date <= self.day(-HISTORY_DAYS):
                continue
            consent.publish(
                self.session,
                purpose=purpose,
                version=f"{self.day(-HISTORY_DAYS).year}-demo",
                title=first.title,
                body=first.body,
                effective_date=self.day(-HISTORY_DAYS),
                actor_id=admin.id,
                now=clock.now(),
            )

    def create_past_residents(self) -> None:
        number = FIRST_RESIDENT
        for i in range(RESIDENTS_PER_STATION):
            for code in STATIONS:
                self.set_clock(self.at(-HISTORY_DAYS + i * 20, 19, 30))
                user = self.find_resident(RESIDENT_PHONE.format(number))
                self.past_residents.setdefault(code, []).append(user)
                number += 1

    def find_resident(self, phone: str) -> User:
        from app.auth.users import find_or_create_resident

        return find_or_create_resident(session=self.session, phone=phone, name=self.person_name())

    def enrolment(self, code: str, number: int, core: bool) -> Action:
        return lambda: self.enrol(code, number, core)

    def enrol(self, code: str, number: int, core: bool) -> None:
        """A volunteer of the history joins (the coordinator checks their papers at once)."""
        rng = self.past_rng
        station = self.units[code]
        assert station.lat is not None and station.lng is not None
        skills = rng.sample(HISTORY_SKILLS, rng.randint(2, 3))
        if core:  # the station's mainstays can do most of what is asked
            skills = ["companionship", "housework", "errands"]
        lat, lng = scatter(rng, station.lat, station.lng, 1500)
        user = self.find_resident(VOLUNTEER_PHONE.format(number))
        volunteer = register(
            session=self.session,
            actor=self.principal(user.id),
            body=VolunteerRegister(
                home_station_id=station.id,
                lat=lat,
                lng=lng,
                service_radius_m=rng.randrange(3500, 6001, 500),
                skill_codes=skills,
                weekly_availability=[
                    AvailabilitySlot(weekday=d, start="08:00", end="21:00") for d in range(7)
                ],
                max_concurrent_tasks=3 if core else rng.randint(1, 3),
                birth_date=date(self.today.year - rng.randint(22, 66), rng.randint(1, 12), 8),
            ),
        )
        consent.grant(
            self.session,
            user_id=user.id,
            purpose=consent.ConsentPurpose.LOCATION,
            version=self.text_version(consent.ConsentPurpose.LOCATION),
            now=clock.now(),
        )
        from app.catalogue.service import skills_needing_qualification

        for skill in set(skills) & set(skills_needing_qualification(self.session)):
            record_qualification(
                session=self.session,
                volunteer=volunteer,
                body=QualificationIn(
                    skill_code=skill, qualified_until=self.today.replace(year=self.today.year + 2)
                ),
            )
        record_insurance(
            session=self.session,
            volunteer=volunteer,
            body=InsuranceIn(insured_until=date(self.today.year + 1, 12, 31)),
        )
        self.past_volunteers.append(DemoVolunteer(volunteer, user, code, frozenset(skills)))
        if core:
            self.mainstays.add(volunteer.id)

    def joined(self, code: str, skills: tuple[str, ...]) -> list[DemoVolunteer]:
        """The history's volunteers of the station who can do it and have room, mainstays
        first, then nearest first."""
        active = dict(
            self.session.execute(
                select(Wish.assignee_id, func.count())
                .where(Wish.status.in_(TASK_STATUSES), Wish.assignee_id.is_not(None))
                .group_by(Wish.assignee_id)
            ).all()
        )
        return [
            dv
            for dv in self.past_volunteers
            if dv.station == code
            and set(skills) <= dv.skills
            and active.get(dv.volunteer.id, 0) < dv.volunteer.max_concurrent_tasks
        ]
