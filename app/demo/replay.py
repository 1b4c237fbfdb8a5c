"""Replaying the stories' wishes through the services, on the demo city.

Each `WishStory` of `app/demo/stories.py` becomes a plan of timed steps (submit, review,
dispatch, accept, check in and out, confirm the hours, rate, close, or the story's twist), each
done through the service a user's request would go through. All stories' steps are played in
one timeline on the service clock, so that ids follow time and each volunteer's load at an
accept is what it was at that moment.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.attendance.schemas import AttendanceIn
from app.demo.city import RESIDENT_PHONE, DemoCity, DemoVolunteer, Played, scatter
from app.demo.stories import STORIES, WishStory
from app.geo import distance_m
from app.matching.service import reasons_for
from app.models import Attendance, OrgUnit, User, Wish
from app.models.enums import TASK_STATUSES, WishStatus
from app.privacy import consent
from app.records.hours.schemas import ConfirmIn
from app.records.hours.service import confirm as confirm_record
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


class StoryReplay(DemoCity):
    """The city, and the stories played on it."""

    def __init__(self, session: Session, now: datetime, set_clock: Callable[[datetime], None]):
        super().__init__(session, now, set_clock)
        self.stories: list[Story] = []
        self.proxied = 0  # residents whose account a wish placed for them created

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
        story: Played,
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

    def confirm(self, story: Played, coordinator: User) -> Wish:
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

    def at_place(self, story: Played, summary: str = "") -> AttendanceIn:
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
        lat, lng = scatter(self.rng, station.lat, station.lng, 800)
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

    def history_steps(self) -> list[tuple[datetime, Action]]:
        """Steps of the months before the stories (none here; `history.HistoryReplay` adds
        them), played in the same timeline."""
        return []

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
        for when, action in self.history_steps():
            steps.append((when, len(steps), action))
        # Play every story's steps in one timeline, so that ids follow time and each volunteer's
        # load at an accept is what it was at that moment.
        for when, _, action in sorted(steps, key=lambda s: (s[0], s[1])):
            self.set_clock(when)
            action()
