"""Random wish histories with controlled timestamps, and every figure of the intake, speed and
outcomes sections computed again by brute force in Python over the same rows.

A history is a few wishes in one test tree (a county, two townships, four stations), each placed
through one of the three channels and walked through the real transition table
(`app.wishes.state.TRANSITIONS`): at every step one event the status allows, fired in one of the
roles the table lists for it, some seconds after the step before. The rows are written directly
(the wish, its event log), as the builders do, so the timestamps are exactly the ones drawn.

The brute force reads the rows back with plain selects and follows the definitions in the
sections' docstrings, one wish at a time, without SQL aggregates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Category, OrgUnit, Programme, SeasonTheme, User, Volunteer, Wish
from app.models import WishEventRecord as Event
from app.models.enums import WishStatus
from app.stats.figures import Scope
from app.wishes.state import STATUS_TIMESTAMP, TRANSITIONS, ActorRole, WishEvent
from tests.fixtures.builders import Tree, make_resident, make_tree, make_user, make_volunteer

S = WishStatus
W = WishEvent

T0 = datetime(2027, 3, 1, 0, 0, tzinfo=UTC)
GRID = 30  # seconds: timestamps and windows fall on a 30-second grid (plus jitter)
CATEGORIES = ("elderly_orphan_care", "poverty_relief", "culture")
PROGRAMMES = (None, "micro_wish", "our_festivals")
SEASONS = (None, "family", "harvest")
CHANNELS = ("self", "grid_worker", "staff")

# The event that moves the loop forward from each status (the walk favours them).
FORWARD: dict[WishStatus, tuple[WishEvent, ...]] = {
    S.SUBMITTED: (W.APPROVE,),
    S.APPROVED: (W.OFFER, W.OPEN_GRAB),
    S.DISPATCHING: (W.ACCEPT,),
    S.ACCEPTED: (W.CHECK_IN,),
    S.IN_SERVICE: (W.CHECK_OUT,),
    S.COMPLETED: (W.RATE,),
    S.RATED: (W.CLOSE,),
}
# The definitions in the sections' docstrings, written out here again: the events whose first
# instant makes each speed step and each outcome.
SPEED_STEPS: dict[str, tuple[WishEvent, ...]] = {
    "review": (W.APPROVE, W.REJECT),
    "offer": (W.OFFER, W.OPEN_GRAB),
    "accept": (W.ACCEPT,),
    "complete": (W.CHECK_OUT,),
}
OUTCOME_EVENTS: dict[str, tuple[WishEvent, ...]] = {
    "dispatched": (W.OFFER, W.OPEN_GRAB),
    "accepted": (W.ACCEPT,),
    "completed": (W.CHECK_OUT,),
    "cancelled": (W.CANCEL,),
    "escalated": (W.ESCALATE,),
}
HELD = {S.ACCEPTED, S.IN_SERVICE, S.COMPLETED, S.RATED, S.CLOSED}


@dataclass(frozen=True)
class Step:
    wait: int  # grid steps after the step before
    choice: int  # which event (below FORWARD_ODDS: the forward one)
    role: int  # which of the transition's roles
    jitter: int  # microseconds


@dataclass(frozen=True)
class WishPlan:
    station: int
    category: str
    programme: str | None
    season: str | None
    channel: str
    placed: int  # grid steps after T0
    jitter: int
    steps: tuple[Step, ...]
    score: int


FORWARD_ODDS = 5  # of 10

jitters = st.sampled_from((0, 0, 0, 250_000, 999_999))
steps = st.builds(
    Step,
    wait=st.integers(min_value=0, max_value=30),
    choice=st.integers(min_value=0, max_value=9),
    role=st.integers(min_value=0, max_value=3),
    jitter=jitters,
)
wish_plans = st.builds(
    WishPlan,
    station=st.integers(min_value=0, max_value=3),
    category=st.sampled_from(CATEGORIES),
    programme=st.sampled_from(PROGRAMMES),
    season=st.sampled_from(SEASONS),
    channel=st.sampled_from(CHANNELS),
    placed=st.integers(min_value=0, max_value=100),
    jitter=jitters,
    steps=st.lists(steps, max_size=12).map(tuple),
    score=st.integers(min_value=1, max_value=5),
)
histories = st.lists(wish_plans, min_size=0, max_size=10)


@st.composite
def windows(draw: st.DrawFn) -> tuple[int, int]:
    """A window on the grid, in grid steps after T0 (it may be empty)."""
    start = draw(st.integers(min_value=0, max_value=150))
    return start, start + draw(st.integers(min_value=0, max_value=300))


def at(grid_steps: int, jitter: int = 0) -> datetime:
    return T0 + timedelta(seconds=GRID * grid_steps, microseconds=jitter)


def scope_of(unit: OrgUnit, window: tuple[int, int]) -> Scope:
    return Scope(unit, at(window[0]), at(window[1]))


# ---------------------------------------------------------------- writing a history


@dataclass
class People:
    requester: User
    proxy: User
    volunteer: Volunteer


def people(session: Session, tree: Tree) -> People:
    _user, volunteer = make_volunteer(session, tree.stations[0])
    return People(make_resident(session), make_user(session), volunteer)


def _next(status: WishStatus, step: Step) -> tuple[WishEvent, ActorRole] | None:
    allowed = sorted(event for (s, event) in TRANSITIONS if s == status)
    if not allowed:
        return None
    forward = FORWARD.get(status, ())
    if forward and step.choice < FORWARD_ODDS:
        event = forward[step.choice % len(forward)]
    else:
        event = allowed[step.choice % len(allowed)]
    roles = sorted(TRANSITIONS[(status, event)].roles)
    return event, roles[step.role % len(roles)]


def write(session: Session, tree: Tree, who: People, plan: WishPlan) -> Wish:
    """The wish of a plan: its steps drawn from the transition table."""
    status, now = S.SUBMITTED, plan.placed
    log: list[tuple[WishEvent, ActorRole, datetime]] = []
    for step in plan.steps:
        chosen = _next(status, step)
        if chosen is None:  # a terminal status
            break
        event, role = chosen
        now += step.wait
        log.append((event, role, at(now, step.jitter)))
        status = TRANSITIONS[(status, event)].to
    return wish_with(
        session,
        tree,
        who,
        station=plan.station,
        category=plan.category,
        programme=plan.programme,
        season=plan.season,
        channel=plan.channel,
        placed_at=at(plan.placed, plan.jitter),
        log=log,
        score=plan.score,
    )


def wish_with(
    session: Session,
    tree: Tree,
    who: People,
    *,
    placed_at: datetime,
    log: list[tuple[WishEvent, ActorRole, datetime]],
    station: int = 0,
    category: str = CATEGORIES[0],
    programme: str | None = None,
    season: str | None = None,
    channel: str = "self",
    score: int = 5,
) -> Wish:
    """A wish placed at `placed_at` through `channel`, then moved by each event of `log` in
    turn (each must be in the transition table for the status it meets, in a role it lists).
    The wish row ends as the events leave it; `score` is its rating if it is rated."""
    stamps: dict[str, datetime] = {"submitted_at": placed_at}
    submitter = ActorRole.COORDINATOR if channel == "staff" else ActorRole.REQUESTER
    rows: list[tuple[WishEvent, WishStatus | None, WishStatus, ActorRole, datetime]] = [
        (W.SUBMIT, None, S.SUBMITTED, submitter, placed_at)
    ]
    status = S.SUBMITTED
    for event, role, moment in log:
        transition = TRANSITIONS.get((status, event))
        assert transition is not None and role in transition.roles, (status, event, role)
        rows.append((event, status, transition.to, role, moment))
        if transition.to != status:
            stamps[STATUS_TIMESTAMP[transition.to]] = moment
        status = transition.to
    rated = any(event == W.RATE for event, *_ in rows)
    unit = tree.stations[station]
    wish = Wish(
        station_id=unit.id,
        category_code=category,
        programme_code=programme,
        season_code=season,
        title="帮独居老人买菜",
        description="",
        coarse_address=f"{unit.name}附近",
        lat=unit.lat,
        lng=unit.lng,
        wanted_start_at=placed_at + timedelta(days=1),
        wanted_end_at=placed_at + timedelta(days=1, hours=2),
        requester_id=who.requester.id,
        proxy_id=None if channel == "self" else who.proxy.id,
        status=status,
        version=len(rows),
        assignee_id=who.volunteer.id if status in HELD else None,
        rating=score if rated else None,
        created_at=placed_at,
        updated_at=rows[-1][4],
        **stamps,
    )
    session.add(wish)
    session.flush()
    for event, before, after, role, moment in rows:
        session.add(
            Event(
                wish_id=wish.id,
                event=event,
                from_status=before,
                to_status=after,
                actor_role=role,
                data={"score": score} if event == W.RATE else {},
                created_at=moment,
            )
        )
    session.flush()
    return wish


def build(session: Session, plans: list[WishPlan]) -> Tree:
    tree = make_tree(session)
    who = people(session, tree)
    for plan in plans:
        write(session, tree, who, plan)
    return tree


# ---------------------------------------------------------------- brute force


@dataclass
class Row:
    id: int
    path: str
    category: str
    programme: str | None
    season: str | None
    proxied: bool
    rating: int | None
    events: list[Event] = field(default_factory=list)


def rows(session: Session) -> list[Row]:
    session.expire_all()
    paths = {unit_id: path for unit_id, path in session.execute(select(OrgUnit.id, OrgUnit.path))}
    found = {
        w.id: Row(
            w.id,
            paths[w.station_id],
            w.category_code,
            w.programme_code,
            w.season_code,
            w.proxy_id is not None,
            w.rating,
        )
        for w in session.scalars(select(Wish))
    }
    for e in session.scalars(select(Event).order_by(Event.id)):
        found[e.wish_id].events.append(e)
    return list(found.values())


def _first(row: Row, events: tuple[str, ...]) -> datetime | None:
    times = [e.created_at for e in row.events if e.event in events]
    return min(times) if times else None


def whole_seconds(start: datetime, end: datetime) -> int:
    return int((end.replace(microsecond=0) - start.replace(microsecond=0)).total_seconds())


def _nearest_rank(values: list[int], percent: int) -> int | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = -(-percent * len(ordered) // 100)  # ceil
    return ordered[rank - 1]


Figures = dict[tuple[str, str | None], Any]
Drills = dict[tuple[str, str | None], list[int]]


class Brute:
    """Every figure and drill of the three sections, one wish at a time."""

    def __init__(self, session: Session, scope: Scope) -> None:
        self.session = session
        self.scope = scope
        self.rows = [r for r in rows(session) if r.path.startswith(scope.unit.path)]
        self.figures: Figures = {}
        self.drills: Drills = {}

    def inside(self, moment: datetime | None) -> bool:
        return moment is not None and self.scope.starts_at <= moment < self.scope.ends_at

    def put(self, key: str, group: str | None, value: Any, wish_ids: list[int]) -> None:
        self.figures[(key, group)] = value
        self.drills[(key, group)] = sorted(set(wish_ids))

    def placed(self) -> list[Row]:
        return [r for r in self.rows if self.inside(_first(r, (W.SUBMIT,)))]

    def run(self) -> Brute:
        self.intake()
        self.speed()
        self.outcomes()
        return self

    def _catalogue(self, model: Any, counted: set[str]) -> list[tuple[str, str]]:
        entries = self.session.scalars(select(model)).all()
        return [
            (e.code, e.name)
            for e in sorted(entries, key=lambda e: (e.sort_order, e.code))
            if e.is_active or e.code in counted
        ]

    def intake(self) -> None:
        placed = self.placed()
        self.put("intake.wishes", None, len(placed), [r.id for r in placed])

        def channel(r: Row) -> str:
            if not r.proxied:
                return "self"
            submit = next(e for e in r.events if e.event == W.SUBMIT)
            return "staff" if submit.actor_role in ("coordinator", "admin") else "grid_worker"

        breakdowns: list[tuple[str, Any, Any, bool]] = [
            ("by_category", Category, lambda r: r.category, False),
            ("by_programme", Programme, lambda r: r.programme or "none", True),
            ("by_season", SeasonTheme, lambda r: r.season or "none", True),
        ]
        for name, model, of, has_none in breakdowns:
            counted = {of(r) for r in placed}
            groups = [code for code, _ in self._catalogue(model, counted)]
            if has_none:
                groups.append("none")
            for code in groups:
                chosen = [r.id for r in placed if of(r) == code]
                self.put(f"intake.{name}", code, len(chosen), chosen)
        for code in CHANNELS:
            chosen = [r.id for r in placed if channel(r) == code]
            self.put("intake.by_channel", code, len(chosen), chosen)
        proxied = [r.id for r in placed if r.proxied]
        share = len(proxied) / len(placed) if placed else None
        self.put("intake.proxy_share", None, share, proxied)

    def speed(self) -> None:
        from app.stats.speed import TIMERS

        for step, kinds in SPEED_STEPS.items():
            measured: dict[int, int] = {}
            for r in self.rows:
                submitted = _first(r, (W.SUBMIT,))
                reached = _first(r, tuple(str(k) for k in kinds))
                if submitted is not None and reached is not None and self.inside(reached):
                    measured[r.id] = whole_seconds(submitted, reached)
            values = list(measured.values())
            wish_ids = list(measured)
            self.put(f"speed.{step}.count", None, len(values), wish_ids)
            for p in (50, 90):
                seconds = _nearest_rank(values, p)
                minutes = None if seconds is None else seconds / 60
                self.put(f"speed.{step}.p{p}_minutes", None, minutes, wish_ids)
        for code, (_label, kind, left) in TIMERS.items():
            hits = [
                e
                for r in self.rows
                for e in r.events
                if e.event == kind
                and e.actor_role == "system"
                and (left is None or e.from_status == left)
                and self.inside(e.created_at)
            ]
            self.put(
                "speed.breaches", code, len({e.wish_id for e in hits}), [e.wish_id for e in hits]
            )
            self.put("speed.breach_events", code, len(hits), [e.id for e in hits])

    def outcomes(self) -> None:
        from app.stats.outcomes import RATES

        placed = self.placed()
        chosen: dict[str, list[int]] = {"placed": [r.id for r in placed]}
        for name, kinds in OUTCOME_EVENTS.items():
            chosen[name] = [
                r.id
                for r in placed
                if any(e.event in kinds and e.created_at < self.scope.ends_at for e in r.events)
            ]
        for name, wish_ids in chosen.items():
            self.put(f"outcomes.{name}", None, len(wish_ids), wish_ids)
        for name, (_label, numerator, denominator) in RATES.items():
            den = len(chosen[denominator])
            value = len(chosen[numerator]) / den if den else None
            self.put(f"outcomes.{name}", None, value, chosen[numerator])
        rated = [
            r
            for r in self.rows
            if r.rating is not None
            and any(e.event == W.RATE and self.inside(e.created_at) for e in r.events)
        ]
        rated_ids = [r.id for r in rated]
        self.put("outcomes.ratings", None, len(rated), rated_ids)
        mean = sum(r.rating or 0 for r in rated) / len(rated) if rated else None
        self.put("outcomes.satisfaction_mean", None, mean, rated_ids)
        for star in range(1, 6):
            picked = [r.id for r in rated if r.rating == star]
            self.put("outcomes.satisfaction", str(star), len(picked), picked)


def served_in_turn(session: Session, tree: Tree, who: People, channels: Sequence[str]) -> None:
    """One wish per channel, the i-th at station i % 4, placed at grid step i and taken i + 1
    steps along approve, open for grab, accept, check in, check out, rate (the last ones
    rated): a small history whose wishes stop at every step."""
    served = (
        lambda i: (W.APPROVE, ActorRole.COORDINATOR, at(i + 3)),
        lambda i: (W.OPEN_GRAB, ActorRole.COORDINATOR, at(i + 5)),
        lambda i: (W.ACCEPT, ActorRole.VOLUNTEER, at(i + 8)),
        lambda i: (W.CHECK_IN, ActorRole.VOLUNTEER, at(i + 9)),
        lambda i: (W.CHECK_OUT, ActorRole.VOLUNTEER, at(i + 9) + timedelta(hours=2)),
        lambda i: (W.RATE, ActorRole.REQUESTER, at(i + 9) + timedelta(hours=3)),
    )
    for i, channel in enumerate(channels):
        log = [step(i) for step in served[: i + 1]]
        wish_with(session, tree, who, station=i % 4, channel=channel, placed_at=at(i), log=log)
