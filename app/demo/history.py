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

from collections.abc import Callable
from datetime import date, datetime, timedelta

from app import clock
from app.demo.city import (
    RESIDENT_PHONE,
    TZ,
    DemoVolunteer,
    scatter,
)
from app.demo.history_people import PastPeople
from app.demo.past import (
    CANCEL_REASONS,
    DECLINES,
    FESTIVAL_BOOST,
    FIRST_VOLUNTEER,
    HISTORY_DAYS,
    KINDS,
    LAST_DAY,
    MONTH_WEIGHT,
    PLACE,
    RATING_WEIGHTS,
    RATINGS,
    REJECT_REASONS,
    TOWNSHIP,
    VOLUNTEERS_PER_STATION,
    Past,
)
from app.demo.replay import Action
from app.demo.stories import STATIONS
from app.dispatch import ladder
from app.matching.service import reasons_for
from app.models import OrgUnit, User, Wish
from app.models.enums import Urgency, WishStatus
from app.privacy import consent
from app.rules.dispatch import policy_for
from app.seasons.festivals import festivals
from app.seasons.service import season_on
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


class HistoryReplay(PastPeople):
    """The stories, with the months before them played in the same timeline."""

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
