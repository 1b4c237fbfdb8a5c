"""户帮户亲帮亲 in the demo city: households in need at three stations, each paired with a
volunteer of its station, with weeks of visits played through the real services on the moved
clock: the station registers the household (its consent recorded) and the pairing, the helper
checks in at the door with the phone's fix and out an hour later, the station confirms the hours
the next morning; one visit indoors is recorded by hand with its reason, one visit's needs become
a wish. The visit timer runs at each of its moments as the worker would: the 横溪坞村 pairing
stopped being visited, so its helper was reminded and then the station told (it lapses).

Households' phones are the demo's fake range from 13800000301.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from app import clock
from app.auth.principal import Principal
from app.demo.city import DemoCity, DemoVolunteer
from app.demo.stories import HENGXIWU, SHANHE, YUCUN
from app.models import Attendance, OrgUnit, Pairing
from app.pairings import households, service, timer, views, visits
from app.pairings.schemas import (
    HelperIn,
    HouseholdConsent,
    HouseholdCreate,
    ManualVisitIn,
    PairingCreate,
    VisitCheckIn,
    VisitCheckOut,
    VisitWishIn,
)
from app.privacy import consent
from app.records.hours import service as hours
from app.records.hours.schemas import ConfirmIn

HOUSEHOLD_PHONE = "1380000{:04d}"
FIRST_HOUSEHOLD_PHONE = 301
METRES_PER_DEGREE = 111_000


@dataclass(frozen=True)
class Visit:
    day: int  # relative to the seeding day; at 15:00
    minutes: int = 60
    summary: str = "陪老人聊天，打扫屋子"
    needs: str = ""
    manual_reason: str = ""  # recorded by the coordinator by hand (no fix)
    wish_title: str = ""  # the needs become a wish the same evening


@dataclass(frozen=True)
class Household:
    station: str
    head_name: str
    categories: tuple[str, ...]
    coarse_address: str
    full_address: str
    offset_m: tuple[float, float]  # north, east of the station
    rhythm_days: int
    start_day: int
    visits: tuple[Visit, ...] = field(default=())


HOUSEHOLDS = (
    Household(YUCUN, "潘桂英", ("elderly_alone",), "余村 2 组", "余村 2 组 18 号",
              (220, -140), 7, -33,
              (Visit(-32, summary="第一次上门，了解老人的身体和起居"),
               Visit(-25, 70, "陪老人去村卫生室量血压"),
               Visit(-18, summary="帮老人买菜、换了灯泡"),
               Visit(-11, 55, "陪老人聊天，检查了煤气灶"),
               Visit(-4, 65, "帮老人晒被子、打扫院子"))),
    Household(YUCUN, "李秀兰", ("left_behind_children", "elderly_alone"), "余村 5 组",
              "余村 5 组 3 号", (-260, 180), 7, -30,
              (Visit(-29, summary="辅导孙子做作业"),
               Visit(-22, 75, "辅导作业，陪孩子读绘本"),
               Visit(-15, manual_reason="老人家在山坳里，手机没有信号，电话回访核实",
                     summary="陪孩子练字，帮老人修好了收音机"),
               Visit(-8, summary="辅导作业", needs="孩子上学的书包坏了，冬天还缺一件厚外套",
                     wish_title="为留守儿童添一个书包和一件冬衣"))),
    Household(HENGXIWU, "章金花", ("disability",), "横溪坞村 1 组", "横溪坞村 1 组 9 号",
              (150, 240), 14, -50,
              (Visit(-49, summary="帮行动不便的老人理发、剪指甲"),
               Visit(-35, 80, "陪同去镇卫生院复诊"),
               Visit(-21, summary="帮忙整理药品，讲解用药时间"))),
    Household(SHANHE, "钱阿毛", ("elderly_alone", "hardship"), "山河村 4 组", "山河村 4 组 21 号",
              (-180, -200), 30, -44,
              (Visit(-43, summary="上门登记老人的生活需要"),
               Visit(-13, 70, "帮老人劈柴、检查了电线"))),
)  # fmt: skip


def _local(city: DemoCity, day: int, hour: int, minute: int = 0) -> datetime:
    return city.at(day, hour, minute)


def _catch_up(city: DemoCity, pairing: Pairing, until: datetime) -> None:
    """Run the pairing's visit timer at each of its moments up to `until`, as the worker would."""
    while True:
        city.session.refresh(pairing)
        step = timer.next_step_at(pairing)
        if step is None or step > until:
            return
        city.set_clock(step)
        timer.run(city.session, pairing.id, step)


def _helper(city: DemoCity, station: str, index: int) -> DemoVolunteer:
    """The station's volunteers in the order they registered; pairings take one each."""
    return [v for v in city.volunteers if v.station == station][index]


def play_pairings(city: DemoCity) -> None:
    """Register the households, pair them and play their visits (see the module's text)."""
    version = city.text_version(consent.ConsentPurpose.PERSONAL_INFO)
    taken: dict[str, int] = {}
    for number, script in enumerate(HOUSEHOLDS):
        station: OrgUnit = city.units[script.station]
        coordinator = city.principal(city.coordinators[script.station].id)
        helper = _helper(city, script.station, taken.get(script.station, 0))
        taken[script.station] = taken.get(script.station, 0) + 1
        volunteer = city.principal(helper.user.id)
        assert station.lat is not None and station.lng is not None
        lat = station.lat + script.offset_m[0] / METRES_PER_DEGREE
        lng = station.lng + script.offset_m[1] / METRES_PER_DEGREE
        door = {"lat": round(lat, 6), "lng": round(lng, 6)}

        city.set_clock(_local(city, script.start_day - 1, 10))
        household = households.create(
            session=city.session,
            body=HouseholdCreate(
                station_id=station.id,
                head_name=script.head_name,
                phone=HOUSEHOLD_PHONE.format(FIRST_HOUSEHOLD_PHONE + number),
                full_address=script.full_address,
                coarse_address=script.coarse_address,
                category_codes=list(script.categories),
                consent=HouseholdConsent(method="written", version=version),
                **door,
            ),
            actor=coordinator,
            now=clock.now(),
        )
        city.set_clock(_local(city, script.start_day - 1, 10, 20))
        pairing = service.create(
            session=city.session,
            body=PairingCreate(
                household_id=household.id,
                helper=HelperIn(kind="volunteer", volunteer_id=helper.volunteer.id),
                rhythm_days=script.rhythm_days,
                start_date=clock.local_day(_local(city, script.start_day, 9)),
                note="签订结对帮扶协议，约定定期上门走访",
            ),
            actor=coordinator,
            now=clock.now(),
        )
        for visit in script.visits:
            _catch_up(city, pairing, _local(city, visit.day, 15))
            _play_visit(city, pairing.id, visit, door, volunteer, coordinator, version)
        _catch_up(city, pairing, city.now)


def _play_visit(
    city: DemoCity,
    pairing_id: int,
    visit: Visit,
    door: dict[str, float],
    volunteer: Principal,
    coordinator: Principal,
    version: str,
) -> None:
    """One visit: checked in and out by the helper (or recorded by hand), its needs made a wish
    that evening, its hours confirmed by the station the next morning."""
    start = _local(city, visit.day, 15)
    end = start + timedelta(minutes=visit.minutes)
    if visit.manual_reason:
        recorded = end + timedelta(hours=2)
        city.set_clock(recorded)
        made = visits.record_manual(
            session=city.session,
            pairing_id=pairing_id,
            actor=coordinator,
            body=ManualVisitIn(
                started_at=start,
                ended_at=end,
                reason=visit.manual_reason,
                summary=visit.summary,
                needs=visit.needs,
            ),
            now=recorded,
        )
    else:
        city.set_clock(start)
        made = visits.check_in(
            session=city.session,
            pairing_id=pairing_id,
            actor=volunteer,
            body=VisitCheckIn(**door),
            now=start,
        )
        city.set_clock(end)
        visits.check_out(
            session=city.session,
            visit_id=made.id,
            actor=volunteer,
            body=VisitCheckOut(**door, summary=visit.summary, needs=visit.needs),
            now=end,
        )
    if visit.wish_title:
        ordered = _local(city, visit.day, 18)
        city.set_clock(ordered)
        visits.to_wish(
            session=city.session,
            visit_id=made.id,
            actor=coordinator,
            body=VisitWishIn(
                title=visit.wish_title,
                consent=HouseholdConsent(method="verbal", version=version),
                wanted_start_at=_local(city, 2, 9),
                wanted_end_at=_local(city, 9, 18),
            ),
            now=ordered,
        )
    record = views.record_of(city.session, made.id)
    confirmed = _local(city, visit.day + 1, 10)
    if record is not None and confirmed < city.now:
        city.set_clock(confirmed)
        _confirm(city, record, coordinator, confirmed)


def _confirm(city: DemoCity, record: Attendance, actor: Principal, at: datetime) -> None:
    hours.confirm(
        session=city.session,
        attendance_id=record.id,
        actor=actor,
        body=ConfirmIn(note="站点电话回访家庭，走访属实"),
        now=at,
    )
