"""The demo city's activities (活动), played through the real services on the moved clock.

Four activities, each at the station where most volunteers could come, and the county centre:
- 垃圾分类进万家 last month: full, with a wait-list; one place given back before sign-up
  closed passes to the first in line (told), the rest attend and are credited by the station,
  one admitted volunteer never comes (a no-show, counted);
- 重阳节敬老 (its date from the lunar calendar) at last 重阳节 if the city's volunteers had
  joined by then (full, attended and credited), else at the coming one (sign-up open, full,
  with a wait-list);
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

    def filled(self, activity: Activity, unit: OrgUnit, opened: datetime) -> list[DemoVolunteer]:
        """Sign up the headcount and two more (who wait), as many as fit."""
        people = self.eligible(activity, unit, opened)[: activity.headcount + 2]
        self.sign_up(activity, people, opened + timedelta(hours=1))
        return people

    def play(self) -> int:
        today = self.city.today
        # 垃圾分类进万家, last month: full, a place given back in time passes to the first on
        # the wait-list (told); everyone admitted but one came and was credited; one no-show.
        start = self.city.at(-18, 9)
        opened = start - timedelta(days=5)
        village = self.busiest(start, 2, opened)
        sorting = self.publish(
            village,
            opened,
            title="垃圾分类进万家",
            description="入户宣传垃圾分类，指导村民正确投放",
            place=f"{village.name}村民广场",
            starts_at=start.isoformat(),
            ends_at=(start + timedelta(hours=2)).isoformat(),
            headcount=5,
            category_code="environment",
            signup_closes_at=(start - timedelta(days=1)).isoformat(),
        )
        people = self.eligible(sorting, village, opened)[:7]
        if len(people) < 7:
            raise RuntimeError("demo data: too few volunteers for the activities")
        self.sign_up(sorting, people, opened + timedelta(hours=2))
        self.city.set_clock(start - timedelta(days=2))
        signups.cancel(
            self.session,
            activity_id=sorting.id,
            actor=self.city.principal(people[1].user.id),
            reason="家中老人住院，需要陪护",
        )
        admitted = [people[0], *people[2:6]]
        self.attend(sorting, admitted[:-1], "入户发放宣传单，指导村民分类投放")
        self.finish(sorting)  # the last admitted never came: a no-show

        # 重阳节敬老: at last 重阳节 if the city's volunteers had joined by then (attended and
        # credited), else at the coming one (sign-up open, full, a wait-list).
        day = _last("double_ninth", today)
        opened = _local(day - timedelta(days=3), 8)
        village = self.busiest(_local(day, 9), 2, opened)
        fields: dict[str, object] = {
            "title": "重阳节敬老志愿服务",
            "description": "为村里老人义诊、理发、包饺子，陪老人登高赏秋",
            "festival_code": "double_ninth",
            "start_time": "09:00",
            "end_time": "11:30",
            "headcount": 4,
            "category_code": "elderly_orphan_care",
            "residents_may_join": True,
        }
        probe = Activity(
            unit_id=village.id, lat=village.lat, lng=village.lng, starts_at=_local(day, 9),
            ends_at=_local(day, 11, 30), needs_insurance=False,
        )  # fmt: skip
        if len(self.eligible(probe, village, opened)) >= 4:
            chongyang = self.publish(
                village, opened, festival_year=day.year, place=f"{village.name}文化礼堂", **fields
            )
            people = self.filled(chongyang, village, opened)
            self.attend(chongyang, people[:4], "为老人量血压、理发，陪老人包饺子")
            self.finish(chongyang)
        else:
            day = _next("double_ninth", today)
            opened = self.city.now - timedelta(days=1)
            village = self.busiest(_local(day, 9), 2, opened)
            chongyang = self.publish(
                village, opened, festival_year=day.year, place=f"{village.name}文化礼堂", **fields
            )
            self.filled(chongyang, village, opened)

        # 春节写春联: sign-up open now, full, a wait-list.
        day = _next("spring_festival", today)
        opened = self.city.now - timedelta(days=2)
        village = self.busiest(_local(day, 9), 3, opened)
        spring = self.publish(
            village,
            opened,
            title="迎新春 写春联 送福字",
            description="书法志愿者为村民现场写春联、送福字",
            festival_code="spring_festival",
            festival_year=day.year,
            start_time="09:00",
            end_time="12:00",
            place=f"{village.name}新时代文明实践站",
            headcount=4,
        )
        self.filled(spring, village, opened)

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
