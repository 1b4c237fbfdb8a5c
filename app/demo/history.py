"""The demo city's past: about fifteen months of ordinary wishes before the stories.

So that the statistics pages have something to show over a whole year (every 四季红 season and
the festivals), the seed plays a history of generated wishes at all four stations, through the
same services as the stories: submit (by the resident, the grid worker or the station's staff
for a resident without the app), review (a few rejected, a few left unreviewed until the
dispatch ladder escalates them to the township, whose coordinator approves), directed offers or
grab, sometimes a decline, accept, check in and out, the station confirming the hours (the star
ladder awards stars as the hours add up), a rating or not, and closing (by the coordinator, or
by the ladder once the rating period is over). Some wishes are cancelled by their requester,
and some find nobody: the ladder cancels them when their window has passed.

Everything is drawn from a seeded random generator, so a seed gives the same city each time.
How many wishes a month depends on the season (more around the Spring Festival, the summer
holidays and the harvest), on the festivals' campaigns and on how many volunteers have joined
by then: the history's own volunteers join month by month. They are kept apart from the
stories' volunteers, who join later, so the stories play exactly as written.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.demo.city import (
    RESIDENT_PHONE,
    SEED,
    TZ,
    VOLUNTEER_PHONE,
    DemoVolunteer,
    scatter,
)
from app.demo.replay import Action, StoryReplay
from app.demo.stories import HENGXIWU, SHANHE, STATIONS, XIAOFENG, YUCUN
from app.dispatch import ladder
from app.matching.service import reasons_for
from app.models import ConsentText, OrgUnit, User, Wish
from app.models.enums import TASK_STATUSES, Urgency, WishStatus
from app.privacy import consent
from app.rules.dispatch import policy_for
from app.seasons.festivals import festivals
from app.seasons.service import season_on
from app.volunteers.schemas import AvailabilitySlot, InsuranceIn, QualificationIn, VolunteerRegister
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
from app.wishes.state import WishEvent

# The history starts this many days before the seeding day and its wishes are placed until
# `LAST_DAY` days before it (the stories take the last weeks).
HISTORY_DAYS = 460
LAST_DAY = 12
# How many wishes the history places (before the monthly weighting thins a few out).
HISTORY_WISHES = 320
VOLUNTEERS_PER_STATION = 11  # of the history, joining over its months
RESIDENTS_PER_STATION = 9  # with the app, placing their own wishes
FIRST_VOLUNTEER = 49  # the stories' volunteers have 1..48
FIRST_RESIDENT = 11  # the stories' residents have 1..10; proxied ones 101..

TOWNSHIP = {XIAOFENG: "安吉县孝丰镇", HENGXIWU: "安吉县孝丰镇", SHANHE: "安吉县天荒坪镇",
            YUCUN: "安吉县天荒坪镇"}  # fmt: skip
PLACE = {XIAOFENG: "孝丰社区", HENGXIWU: "横溪坞村", SHANHE: "山河村", YUCUN: "余村"}

# How busy each month is (1 = an ordinary month): the Spring Festival and 清明 visits, the
# summer holidays' tutoring, the harvest, the year's end.
MONTH_WEIGHT = {1: 1.3, 2: 1.25, 3: 1.0, 4: 1.1, 5: 0.8, 6: 0.85, 7: 1.1, 8: 1.05, 9: 1.25,
                10: 1.3, 11: 0.9, 12: 1.0}  # fmt: skip
FESTIVAL_BOOST = 1.6  # in the week before a festival


@dataclass(frozen=True)
class Kind:
    """A kind of wish the history draws from."""

    category: str
    title: str
    description: str
    skills: tuple[str, ...]
    hours: tuple[int, int]  # shortest and longest service
    seasons: tuple[str, ...] = ()  # the 四季红 seasons it belongs to (more likely then)
    festival: bool = False  # held for a festival (我们的节日)
    programme: str | None = None


KINDS: tuple[Kind, ...] = (
    Kind(
        "elderly_orphan_care",
        "陪独居老人聊天、读报",
        "老人独居，子女在外地，希望有人每周来陪着说说话、读读报纸。",
        ("companionship",),
        (1, 2),
        ("family",),
        programme="micro_wish",
    ),
    Kind(
        "elderly_orphan_care",
        "帮高龄老人打扫房间",
        "老人年纪大了弯不下腰，屋里好久没好好打扫，希望志愿者帮忙。",
        ("housework",),
        (2, 3),
        ("family",),
    ),
    Kind(
        "elderly_orphan_care",
        "教老人用手机挂号和视频",
        "老人想学用手机预约挂号、和外地的孩子视频。",
        ("computer",),
        (1, 2),
        ("family",),
        programme="micro_wish",
    ),
    Kind(
        "disability_medical",
        "陪老人去卫生院配药",
        "老人行动不便，需要每月去镇卫生院配降压药，希望有人陪同。",
        ("errands", "companionship"),
        (2, 3),
    ),
    Kind(
        "poverty_relief",
        "帮困难户代购生活用品",
        "困难户家中缺米缺油，行动不便，希望志愿者帮忙采购送上门。",
        ("errands",),
        (1, 2),
        ("family", "harvest"),
        programme="household_pairs",
    ),
    Kind(
        "rural_revival",
        "帮茶农采摘和炒制白茶",
        "茶季人手不够，希望懂农活的志愿者帮忙采茶、摊青。",
        ("agriculture",),
        (3, 4),
        ("harvest", "family"),
    ),
    Kind(
        "rural_revival",
        "帮农户在网上卖土特产",
        "家里的笋干、山核桃不会在网上卖，希望志愿者帮忙拍照上架。",
        ("computer",),
        (2, 3),
        ("harvest",),
        programme="enterprises_households",
    ),
    Kind(
        "disaster_study",
        "给留守儿童辅导作业",
        "孩子父母在外打工，作业没人辅导，希望志愿者每周来辅导。",
        ("companionship",),
        (2, 3),
        ("growth",),
    ),
    Kind(
        "culture",
        "节日文艺汇演帮忙布置会场",
        "村文化礼堂节日要办活动，需要志愿者帮忙布置会场、维持秩序。",
        ("housework",),
        (3, 4),
        ("growth", "harvest"),
        festival=True,
        programme="our_festivals",
    ),
    Kind(
        "civil_customs",
        "节日包粽子、做汤圆送老人",
        "村里组织过节，希望志愿者一起做节令食品送到独居老人家中。",
        ("housework", "companionship"),
        (2, 3),
        ("family",),
        festival=True,
        programme="our_festivals",
    ),
    Kind(
        "environment",
        "村道和河道垃圾清理",
        "村道两侧和河边垃圾较多，希望志愿者一起清理。",
        ("housework",),
        (2, 3),
        ("growth", "integrity"),
    ),
    Kind(
        "policy_talks",
        "帮老人弄懂医保缴费",
        "老人不清楚今年医保怎么缴、怎么报销，希望有人讲一讲、帮忙操作。",
        ("computer",),
        (1, 2),
        ("integrity",),
    ),
    Kind(
        "neighbourly_watch",
        "帮忙检查家里的电线插座",
        "家里插座有点松动，担心安全，希望懂维修的志愿者看看。",
        ("repair",),
        (1, 2),
        ("integrity", "family"),
    ),
    Kind(
        "neighbourly_watch",
        "帮邻居搬运过冬的柴火",
        "老人家里过冬的柴火堆在院外，希望志愿者帮忙搬进柴房。",
        ("errands",),
        (2, 3),
        ("integrity",),
    ),
)
HISTORY_SKILLS = ("companionship", "housework", "errands", "computer", "agriculture", "repair")

REJECT_REASONS = (
    "属于有偿家政服务，不在志愿服务范围内，已为您介绍社区便民服务点",
    "同一事项已有心愿在办，请勿重复提交",
    "涉及邻里纠纷，已转村调解委员会处理",
)
CANCEL_REASONS = (
    "家里人回来了，已经办好了",
    "老人住院了，暂时不需要",
    "时间改了，过几天再重新提",
)
RATINGS = (
    (5, "志愿者很热心，办得又快又好"),
    (5, "非常感谢，老人很满意"),
    (5, "服务周到，下次还找你们"),
    (4, "挺好的，就是来得稍晚了一点"),
    (4, "办得不错，谢谢"),
    (3, "事情办了，但时间比说好的短"),
    (2, "来的人不太熟悉情况"),
)
RATING_WEIGHTS = (30, 20, 15, 14, 10, 8, 3)
DECLINES = ("那天家里有事，去不了", "临时要加班，抱歉", "最近身体不太舒服")


@dataclass
class Past:
    """One wish of the history being played."""

    station: str
    kind: Kind
    created: datetime
    start: datetime
    end: datetime
    channel: str  # self | proxy (grid worker or staff for a resident without the app)
    requester: User | None = None
    proxy_for: OnBehalfOf | None = None
    wish_id: int = 0
    offered: list[DemoVolunteer] = field(default_factory=list)
    assignee: DemoVolunteer | None = None


class HistoryReplay(StoryReplay):
    """The stories, with the months before them played in the same timeline."""

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

    # ------------------------------------------------------------ drawing the wishes

    def weight(self, day: date, festival_days: set[date], progress: float) -> float:
        boost = FESTIVAL_BOOST if day in festival_days else 1.0
        return MONTH_WEIGHT[day.month] * boost * (0.55 + 0.45 * progress)

    def draw(self) -> list[Past]:
        rng = self.past_rng
        first, last = self.day(-HISTORY_DAYS + 3), self.day(-LAST_DAY)
        festival_days: set[date] = set()
        for year in range(first.year, last.year + 1):
            for f in festivals(year=year):
                festival_days |= {f.gregorian_date - timedelta(days=d) for d in range(8)}
        span = (last - first).days
        days = [first + timedelta(days=d) for d in range(span + 1)]
        weights = [self.weight(d, festival_days, i / span) for i, d in enumerate(days)]
        drawn = sorted(rng.choices(days, weights=weights, k=self.history_wishes))
        seasons = {d: season_on(session=self.session, day=d) for d in set(drawn)}
        wishes: list[Past] = []
        for d in drawn:
            season = seasons[d]
            code = season.code if season is not None else ""
            kinds = [k for k in KINDS if (not k.festival or d in festival_days)]
            kind_weights = [3.0 if code in k.seasons else 1.0 for k in kinds]
            kind = rng.choices(kinds, weights=kind_weights)[0]
            station = rng.choice(STATIONS)
            created = self.at(
                (d - self.today).days, rng.randint(8, 19), rng.choice((0, 15, 30, 45))
            )
            lead = rng.randint(1, 4)
            start = self.at((d - self.today).days + lead, rng.choice((8, 9, 9, 10, 13, 14, 14, 15)),
                            rng.choice((0, 30)))  # fmt: skip
            hours = rng.randint(*kind.hours)
            channel = "proxy" if rng.random() < 0.3 else "self"
            wishes.append(
                Past(station, kind, created, start, start + timedelta(hours=hours), channel)
            )
        return wishes

    # ------------------------------------------------------------ playing one wish

    def submit_past(self, past: Past) -> None:
        rng = self.past_rng
        station = self.units[past.station]
        assert station.lat is not None and station.lng is not None
        lat, lng = scatter(rng, station.lat, station.lng, 800)
        group, number = rng.randint(1, 9), rng.randint(1, 40)
        contact: str | None
        if past.channel == "proxy":
            proxy = self.grid_workers.get(past.station) or self.coordinators[past.station]
            known = self.proxied_residents.setdefault(past.station, [])
            version = self.text_version(consent.ConsentPurpose.PERSONAL_INFO)
            if known and rng.random() < 0.5:
                who = rng.choice(known)
            else:
                self.proxied += 1
                who = OnBehalfOf(
                    phone=RESIDENT_PHONE.format(100 + self.proxied),
                    name=self.person_name(),
                    consent=ProxyConsent(method="verbal", version=version),
                )
                known.append(who)
            past.proxy_for = who.model_copy(
                update={"consent": ProxyConsent(method="verbal", version=version)}
            )
            actor, contact = proxy, past.proxy_for.phone
        else:
            past.requester = rng.choice(self.past_residents[past.station])
            actor, contact = past.requester, past.requester.phone
        season = season_on(session=self.session, day=past.created.astimezone(TZ).date())
        place = PLACE[past.station]
        wish = create_wish(
            session=self.session,
            actor=self.principal(actor.id),
            body=WishCreate(
                category_code=past.kind.category,
                title=past.kind.title,
                description=past.kind.description,
                skill_codes=list(past.kind.skills),
                coarse_address=f"{place} {group} 组附近",
                full_address=f"{TOWNSHIP[past.station]}{place} {group} 组 {number} 号",
                contact_phone=contact,
                lat=lat,
                lng=lng,
                wanted_start_at=past.start,
                wanted_end_at=past.end,
                urgency=Urgency.HIGH if rng.random() < 0.1 else Urgency.NORMAL,
                programme_code=past.kind.programme,
                season_code=season.code if season is not None and rng.random() < 0.6 else None,
                station_id=station.id,
                on_behalf_of=past.proxy_for,
            ),
        )
        past.wish_id = wish.id
        past.requester = self.session.get(User, wish.requester_id)

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

    def dispatch_past(self, past: Past, coordinator: User, grab: bool) -> None:
        wish = self.session.get(Wish, past.wish_id)
        assert wish is not None
        if grab:
            self.event(past, WishEvent.OPEN_GRAB, coordinator, NoteIn(note="附近志愿者均可抢单"))
            return
        fitting = self.joined(past.station, past.kind.skills)
        station = self.session.get(OrgUnit, wish.station_id)
        assert station is not None
        reasons = reasons_for(
            self.session, wish=wish, station=station,
            volunteer_ids=[dv.volunteer.id for dv in fitting],
        )  # fmt: skip
        fitting = [
            dv for dv in fitting if not LEGAL_CONSTRAINTS & set(reasons.get(dv.volunteer.id, []))
        ]
        if not fitting:
            return  # nobody to ask: the ladder cancels it when its window has passed
        # The mainstays (the first to join) are asked first more often than not.
        self.past_rng.shuffle(fitting)
        if self.past_rng.random() < 0.6:
            fitting.sort(key=lambda dv: dv.volunteer.id not in self.mainstays)
        past.offered = fitting[:2]
        self.event(
            past,
            WishEvent.OFFER,
            coordinator,
            OfferIn(
                volunteer_ids=[dv.volunteer.id for dv in past.offered],
                expires_in_minutes=24 * 60,
                note="您的技能和位置都合适，请尽快回复",
            ),
        )

    def accept_past(self, past: Past, grab: bool) -> None:
        wish = self.session.get(Wish, past.wish_id)
        assert wish is not None
        if wish.status != WishStatus.DISPATCHING:
            return
        taker: DemoVolunteer | None = None
        if grab:
            by_user = {dv.user.id: dv for dv in self.past_volunteers}
            for user_id in grab_candidates(self.session, load_wish(self.session, wish.id), 30):
                dv = by_user.get(user_id)
                if dv is not None and self.has_capacity(dv):
                    taker = dv
                    break
        else:
            taker = next((dv for dv in past.offered if self.has_capacity(dv)), None)
        if taker is None:
            return
        self.event(past, WishEvent.ACCEPT, taker.user)
        past.assignee = taker

    def served(self, past: Past) -> bool:
        wish = self.session.get(Wish, past.wish_id)
        return wish is not None and past.assignee is not None and wish.status not in (
            WishStatus.APPROVED, WishStatus.DISPATCHING)  # fmt: skip

    def run_ladder(self, past: Past) -> None:
        ladder.run(self.session, wish_id=past.wish_id, now=clock.now())

    def plan_past(self, past: Past) -> list[tuple[datetime, Action]]:
        rng = self.past_rng
        coordinator = self.coordinators[past.station]
        township = self.coordinators[past.station[:9] + "000"]
        created = past.created
        steps: list[tuple[datetime, Action]] = [(created, lambda: self.submit_past(past))]
        fate = rng.random()

        def requester() -> User:
            assert past.requester is not None
            return past.requester

        def assignee() -> User:
            assert past.assignee is not None
            return past.assignee.user

        # A wish the station's coordinator placed for a resident is reviewed and closed by the
        # township (nobody approves their own).
        staff_placed = past.channel == "proxy" and past.station not in self.grid_workers
        if staff_placed:
            coordinator = township
        review = created + timedelta(minutes=rng.randint(25, 200))
        if fate < 0.05:
            reason = ReasonIn(reason=rng.choice(REJECT_REASONS))
            return [
                *steps,
                (review, lambda: self.event(past, WishEvent.REJECT, coordinator, reason)),
            ]
        if fate < 0.10:
            cancel = OptionalReasonIn(reason=rng.choice(CANCEL_REASONS))
            at = created + timedelta(minutes=rng.randint(20, 200))
            return [*steps, (at, lambda: self.event(past, WishEvent.CANCEL, requester(), cancel))]
        approver = coordinator
        if fate < 0.18:  # nobody reviewed it in time: the ladder escalates it to the township
            review_minutes = policy_for(self.session, self.units[past.station]).review_minutes
            escalated = created + timedelta(minutes=review_minutes + 1)
            steps.append((escalated, lambda: self.run_ladder(past)))
            review = escalated + timedelta(minutes=rng.randint(30, 120))
            approver = township
        note = NoteIn(note="情况属实，同意受理")
        steps.append((review, lambda: self.event(past, WishEvent.APPROVE, approver, note)))
        grab = rng.random() < 0.3
        dispatched = review + timedelta(minutes=rng.randint(10, 60))
        steps.append((dispatched, lambda: self.dispatch_past(past, approver, grab)))
        accepted = dispatched + timedelta(minutes=rng.randint(60, 300))
        if not grab and rng.random() < 0.12:
            declined = OptionalReasonIn(reason=rng.choice(DECLINES))

            def decline() -> None:
                if past.offered:
                    self.event(past, WishEvent.DECLINE, past.offered[-1].user, declined)
                    past.offered.pop()

            steps.append((dispatched + timedelta(minutes=30), decline))
        steps.append((accepted, lambda: self.accept_past(past, grab)))

        # Whoever was not served: the ladder cancels it when the window has passed.
        def unserved() -> None:
            if not self.served(past):
                self.run_ladder(past)

        steps.append((past.end + timedelta(minutes=1), unserved))

        def when_served(action: Callable[[], object]) -> Action:
            return lambda: action() if self.served(past) else None

        checked_in = past.start + timedelta(minutes=rng.randint(2, 8))
        checked_out = past.end - timedelta(minutes=rng.randint(2, 10))
        steps.append(
            (
                checked_in,
                when_served(
                    lambda: self.event(past, WishEvent.CHECK_IN, assignee(), self.at_place(past))
                ),
            )
        )
        summary = f"完成「{past.kind.title}」，群众满意"
        steps.append(
            (
                checked_out,
                when_served(
                    lambda: self.event(
                        past, WishEvent.CHECK_OUT, assignee(), self.at_place(past, summary)
                    )
                ),
            )
        )
        confirmed = checked_out + timedelta(hours=rng.randint(12, 20))
        steps.append((confirmed, when_served(lambda: self.confirm(past, coordinator))))
        rated = rng.random() < (0.55 if past.channel == "proxy" else 0.8)
        if rated:
            score, comment = rng.choices(RATINGS, weights=RATING_WEIGHTS)[0]
            rating = RateIn(score=score, comment=comment)
            at = confirmed + timedelta(hours=rng.randint(1, 40))
            steps.append(
                (at, when_served(lambda: self.event(past, WishEvent.RATE, requester(), rating)))
            )
            if rng.random() < 0.7:
                closed = at + timedelta(hours=rng.randint(20, 72))
                close = NoteIn(note="服务完成，群众满意，予以办结")
                steps.append(
                    (
                        closed,
                        when_served(lambda: self.event(past, WishEvent.CLOSE, coordinator, close)),
                    )
                )
                return sorted(steps, key=lambda s: s[0])
        # Not rated (or not closed) in time: the ladder closes the wish.
        policy = policy_for(self.session, self.units[past.station])
        autoclose = checked_out + timedelta(days=policy.autoclose_days, minutes=5)
        steps.append((autoclose, when_served(lambda: self.run_ladder(past))))
        return sorted(steps, key=lambda s: s[0])

    # ------------------------------------------------------------ the timeline

    def history_steps(self) -> list[tuple[datetime, Action]]:
        steps: list[tuple[datetime, Action]] = []
        self.publish_texts()
        self.create_past_residents()
        number = FIRST_VOLUNTEER
        # Two mainstays per station from the start; the others join month by month.
        joins = sorted(self.past_rng.uniform(10, HISTORY_DAYS - 60) for _ in range(
            (VOLUNTEERS_PER_STATION - 2) * len(STATIONS)))  # fmt: skip
        joiners: list[tuple[datetime, str, bool]] = []
        for i, code in enumerate(STATIONS):
            joiners.append((self.at(-HISTORY_DAYS + 1, 9, 10 + i), code, True))
            joiners.append((self.at(-HISTORY_DAYS + 2, 9, 10 + i), code, True))
        for j, offset in enumerate(joins):
            joiners.append((self.at(-HISTORY_DAYS + int(offset), 10, 5), STATIONS[j % 4], False))
        for when, code, core in sorted(joiners, key=lambda j: j[0]):
            steps.append((when, self.enrolment(code, number, core)))
            number += 1
        self.past = self.draw()
        for past in self.past:
            steps.extend(self.plan_past(past))
        return steps
