"""The demo city's activities (活动), played through the real services on the moved clock.

Four activities of 余村's station and the county centre:
- 重阳节敬老 at last 重阳节 (its date from the lunar calendar), at the station where most
  volunteers had joined by then: full, with a wait-list; one
  place given back before sign-up closed passes to the first in line (told), the rest attend
  and are credited by the station, one admitted volunteer never comes (a no-show, counted);
- 垃圾分类进万家 last month: attended and credited;
- 春节写春联 at the coming Spring Festival: sign-up open now, full, with a wait-list;
- a draft at the county centre, not yet published.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select

from app.activities import attending, publishing, signups, timers
from app.activities.rows import sessions_of
from app.activities.schemas import ActivityCreate
from app.attendance.schemas import AttendanceIn
from app.demo.city import TZ, DemoCity, DemoVolunteer
from app.jobs import store
from app.models import Activity, OrgUnit, Volunteer
from app.models.enums import OrgLevel
from app.records.hours.schemas import ConfirmIn
from app.records.hours.service import confirm as confirm_record
from app.seasons.festivals import festivals

YUCUN = "330523108204"  # 余村 station
COUNTY = "330523000000"


def _last(code: str, today: date) -> date:
    for year in (today.year, today.year - 1):
        found = next(f.gregorian_date for f in festivals(year=year) if f.code == code)
        if found < today - timedelta(days=5):
            return found
    raise RuntimeError(f"demo data: no past {code}")


def _next(code: str, today: date) -> date:
    for year in (today.year, today.year + 1):
        found = next(f.gregorian_date for f in festivals(year=year) if f.code == code)
        if found > today + timedelta(days=3):
            return found
    raise RuntimeError(f"demo data: no coming {code}")


def _local(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), TZ).astimezone(UTC)


class ActivityReplay:
    def __init__(self, city: DemoCity) -> None:
        self.city = city
        self.session = city.session

    def station(self, code: str) -> OrgUnit:
        unit = self.city.units.get(code)
        if unit is None:  # an excerpt without it: the first village station
            unit = next(u for c, u in sorted(self.city.units.items()) if c.endswith(code[-3:]))
        return unit

    def coordinator(self, unit: OrgUnit) -> int:
        user = self.city.coordinators.get(unit.code)
        if user is None:
            user = self.city.coordinators[unit.code[:9] + "000"]
        return user.id

    def eligible(self, activity: Activity, unit: OrgUnit, since: datetime) -> list[DemoVolunteer]:
        """Volunteers registered by `since` who meet the activity's constraints, nearest first."""
        out = []
        for dv in self.city.volunteers:
            volunteer = self.session.get(Volunteer, dv.volunteer.id)
            assert volunteer is not None
            if volunteer.created_at > since:
                continue
            if not signups.reasons_for(self.session, activity, unit, volunteer):
                out.append(dv)
        assert activity.lat is not None and activity.lng is not None
        lat, lng = activity.lat, activity.lng
        out.sort(key=lambda dv: abs(dv.volunteer.lat - lat) + abs(dv.volunteer.lng - lng))
        return out

    def busiest(self, start: datetime, hours: int, since: datetime) -> OrgUnit:
        """The village station with the most volunteers who could come, at `start` (the
        volunteers join the city over its first weeks, so early activities are held where
        they were)."""

        def fits(unit: OrgUnit) -> int:
            probe = Activity(
                unit_id=unit.id, lat=unit.lat, lng=unit.lng, starts_at=start,
                ends_at=start + timedelta(hours=hours), needs_insurance=False,
            )  # fmt: skip
            return len(self.eligible(probe, unit, since))

        villages = [u for u in self.city.units.values() if u.level == OrgLevel.VILLAGE]
        return max(sorted(villages, key=lambda u: u.code), key=fits)

    def publish(self, unit: OrgUnit, when: datetime, **fields: object) -> Activity:
        self.city.set_clock(when)
        assert unit.lat is not None and unit.lng is not None
        body = ActivityCreate.model_validate(
            {"unit_id": unit.id, "lat": unit.lat, "lng": unit.lng, **fields}
        )
        return publishing.create(
            session=self.session, body=body, actor=self.city.principal(self.coordinator(unit))
        )

    def sign_up(self, activity: Activity, people: list[DemoVolunteer], start: datetime) -> None:
        for i, dv in enumerate(people):
            self.city.set_clock(start + timedelta(hours=2 * i, minutes=7 * i))
            signups.sign_up(
                self.session, activity_id=activity.id, actor=self.city.principal(dv.user.id)
            )

    def attend(self, activity: Activity, people: list[DemoVolunteer], summary: str) -> None:
        """Each checks in on the spot and out at the end; the station confirms the next day."""
        sitting = sessions_of(self.session, activity.id)[0]
        assert activity.lat is not None and activity.lng is not None
        ids = []
        for i, dv in enumerate(people):
            actor = self.city.principal(dv.user.id)
            self.city.set_clock(sitting.starts_at + timedelta(minutes=2 + 3 * i))
            body = AttendanceIn(lat=activity.lat, lng=activity.lng)
            attending.attend(
                self.session,
                activity_id=activity.id,
                session_id=sitting.id,
                actor=actor,
                body=body,
                out=False,
            )
            self.city.set_clock(sitting.ends_at - timedelta(minutes=5 - i % 5))
            row = attending.attend(
                self.session,
                activity_id=activity.id,
                session_id=sitting.id,
                actor=actor,
                body=AttendanceIn(lat=activity.lat, lng=activity.lng, summary=summary),
                out=True,
            )
            ids.append(row.id)
        unit = self.session.get(OrgUnit, activity.unit_id)
        assert unit is not None
        confirmer = self.city.principal(self.coordinator(unit))
        for n, record_id in enumerate(ids):
            moment = sitting.ends_at + timedelta(hours=18, minutes=n)
            self.city.set_clock(moment)
            confirm_record(
                session=self.session,
                attendance_id=record_id,
                actor=confirmer,
                body=ConfirmIn(),
                now=moment,
            )

    def finish(self, activity: Activity) -> None:
        """The activity's timer, at sign-up closing and once no check-in can still arrive."""
        unit = self.session.get(OrgUnit, activity.unit_id)
        assert unit is not None
        for moment in (
            activity.signup_closes_at,
            timers.judged_at(self.session, activity, unit) + timedelta(minutes=1),
        ):
            self.city.set_clock(moment)
            timers.run(self.session, activity.id, moment)
        store.clear_timer(self.session, kind=timers.KIND, subject_id=activity.id)

    def play(self) -> int:
        today = self.city.today
        yucun = self.station(YUCUN)
        # 重阳节敬老: published three days before, full, a wait-list that moves once.
        day = _last("double_ninth", today)
        opened = _local(day - timedelta(days=3), 8)
        village = self.busiest(_local(day, 9), 2, opened)
        chongyang = self.publish(
            village,
            opened,
            title="重阳节敬老志愿服务",
            description="为村里老人义诊、理发、包饺子，陪老人登高赏秋",
            festival_code="double_ninth",
            festival_year=day.year,
            start_time="09:00",
            end_time="11:30",
            place=f"{village.name}文化礼堂",
            headcount=6,
            category_code="elderly_orphan_care",
            residents_may_join=True,
            signup_closes_at=_local(day - timedelta(days=1), 18).isoformat(),
        )
        people = self.eligible(chongyang, village, opened)[:9]
        self.sign_up(chongyang, people, opened + timedelta(hours=2))
        # The third gives back their place in time: the first on the wait-list moves up.
        self.city.set_clock(_local(day - timedelta(days=1), 10))
        signups.cancel(
            self.session,
            activity_id=chongyang.id,
            actor=self.city.principal(people[2].user.id),
            reason="家中老人住院，需要陪护",
        )
        admitted = [*people[:2], *people[3:7]]
        self.attend(chongyang, admitted[:-1], "为老人量血压、理发，陪老人包饺子")
        self.finish(chongyang)  # the last admitted never came: a no-show

        # 垃圾分类进村: a Saturday morning of the 诚信季 last month, everyone came.
        start = self.city.at(-18, 9)
        opened = start - timedelta(days=7)
        sorting = self.publish(
            yucun,
            opened,
            title="垃圾分类进万家",
            description="入户宣传垃圾分类，指导村民正确投放",
            place=f"{yucun.name}村民广场",
            starts_at=start.isoformat(),
            ends_at=(start + timedelta(hours=2)).isoformat(),
            headcount=4,
            category_code="environment",
        )
        people = self.eligible(sorting, yucun, opened)[3:7]
        self.sign_up(sorting, people, opened + timedelta(hours=1))
        self.attend(sorting, people, "入户发放宣传单，指导村民分类投放")
        self.finish(sorting)

        # 春节写春联: sign-up open now, full, a wait-list.
        day = _next("spring_festival", today)
        opened = self.city.now - timedelta(days=2)
        spring = self.publish(
            yucun,
            opened,
            title="迎新春 写春联 送福字",
            description="书法志愿者为村民现场写春联、送福字",
            festival_code="spring_festival",
            festival_year=day.year,
            start_time="09:00",
            end_time="12:00",
            place=f"{yucun.name}新时代文明实践站",
            headcount=4,
        )
        people = self.eligible(spring, yucun, opened)[:6]
        self.sign_up(spring, people, opened + timedelta(hours=1))

        # A draft at the county centre.
        county = self.city.units[COUNTY]
        start = self.city.at(20, 14)
        self.publish(
            county,
            self.city.now - timedelta(hours=3),
            title="诚信季 · 文明交通劝导",
            place="县城人民广场",
            starts_at=start.isoformat(),
            ends_at=(start + timedelta(hours=2)).isoformat(),
            headcount=20,
            publish=False,
        )
        self.city.set_clock(self.city.now)
        return len(self.session.scalars(select(Activity.id)).all())


def play_activities(city: DemoCity) -> int:
    """Play the demo's activities; returns how many there are."""
    return ActivityReplay(city).play()
