"""The intake, speed and outcomes sections on small hand-made histories: the edges the property
test reaches only by chance (empty windows, the subtree's edge, the window's half-open ends,
nearest-rank percentiles, each ladder timer), each with the exact numbers and drill-downs."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import OrgUnit
from app.models import WishEventRecord as Event
from app.stats import intake, outcomes, speed
from app.stats.figures import Scope, Section, sections
from app.wishes.state import ActorRole, WishEvent
from tests.fixtures.builders import Tree, make_tree
from tests.stats.history import T0, People, people, wish_with

W = WishEvent
R = ActorRole
SECTIONS: tuple[Section, ...] = (intake.SECTION, speed.SECTION, outcomes.SECTION)


def m(minutes: float, microseconds: int = 0) -> datetime:
    return T0 + timedelta(minutes=minutes, microseconds=microseconds)


@pytest.fixture
def world(session: Session) -> tuple[Tree, People]:
    tree = make_tree(session)
    return tree, people(session, tree)


def values(session: Session, scope: Scope) -> dict[tuple[str, str | None], Any]:
    return {(f.key, f.group): f.value for s in SECTIONS for f in s.compute(session, scope)}


def drill(session: Session, scope: Scope, key: str, group: str | None = None) -> list[int]:
    section = next(s for s in SECTIONS if key.startswith(s.key + "."))
    return section.drill(session, scope, key, group)


def event_ids(session: Session, wish_id: int, event: WishEvent) -> list[int]:
    return list(
        session.scalars(
            select(Event.id)
            .where(Event.wish_id == wish_id, Event.event == event)
            .order_by(Event.id)
        )
    )


def test_each_section_registers_once() -> None:
    """Importing a section registers it (the order is app/stats/all_sections.py's)."""
    registered = [s.key for s in sections()]
    for section in SECTIONS:
        assert registered.count(section.key) == 1
        assert section in sections()


def test_an_empty_window_counts_nothing(session: Session, world: tuple[Tree, People]) -> None:
    tree, who = world
    wish_with(
        session,
        tree,
        who,
        placed_at=m(0),
        log=[(W.APPROVE, R.COORDINATOR, m(10)), (W.OPEN_GRAB, R.SYSTEM, m(20))],
    )
    for starts, ends in ((m(0), m(0)), (m(5), m(5)), (m(30), m(90))):
        scope = Scope(tree.city, starts, ends)
        for section in SECTIONS:
            for figure in section.compute(session, scope):
                if figure.unit in ("%", "分钟", "分"):
                    assert figure.value is None, figure
                else:
                    assert figure.value == 0, figure
                assert section.drill(session, scope, figure.key, figure.group) == []


def test_the_subtree_excludes_siblings_and_other_trees(
    session: Session, world: tuple[Tree, People]
) -> None:
    tree, who = world
    placed = [
        wish_with(
            session,
            tree,
            who,
            station=station,
            placed_at=m(station),
            log=[(W.APPROVE, R.COORDINATOR, m(10 + station))],
        ).id
        for station in range(4)
    ]
    other = make_tree(session)
    stranger = wish_with(session, other, who, placed_at=m(1), log=[]).id

    def scope(unit: OrgUnit) -> Scope:
        return Scope(unit, m(0), m(60))

    assert drill(session, scope(tree.county), "intake.wishes") == placed
    assert drill(session, scope(tree.city), "intake.wishes") == placed
    assert drill(session, scope(other.city), "intake.wishes") == [stranger]
    assert drill(session, scope(tree.townships[0]), "intake.wishes") == placed[:2]
    assert drill(session, scope(tree.townships[1]), "intake.wishes") == placed[2:]
    assert drill(session, scope(tree.stations[1]), "speed.review.count") == [placed[1]]
    township = values(session, scope(tree.townships[1]))
    assert township[("intake.wishes", None)] == 2
    assert township[("speed.review.count", None)] == 2
    assert township[("speed.review.p50_minutes", None)] == 10.0  # 12 - 2
    assert township[("outcomes.placed", None)] == 2


def test_window_ends_are_half_open(session: Session, world: tuple[Tree, People]) -> None:
    tree, who = world
    at_start = wish_with(
        session,
        tree,
        who,
        placed_at=m(0),
        log=[(W.APPROVE, R.COORDINATOR, m(60)), (W.CANCEL, R.REQUESTER, m(60))],
    ).id
    last_moment = wish_with(session, tree, who, placed_at=m(60, -1), log=[]).id
    at_end = wish_with(
        session, tree, who, placed_at=m(60), log=[(W.REJECT, R.COORDINATOR, m(70))]
    ).id
    first = Scope(tree.county, m(0), m(60))
    second = Scope(tree.county, m(60), m(120))

    assert drill(session, first, "intake.wishes") == [at_start, last_moment]
    assert drill(session, second, "intake.wishes") == [at_end]
    # The review at the first window's end belongs to the second.
    assert drill(session, first, "speed.review.count") == []
    assert drill(session, second, "speed.review.count") == [at_start, at_end]
    assert values(session, second)[("speed.review.p90_minutes", None)] == 60.0
    # An outcome at the window's end is not yet one of the window's cohort.
    assert values(session, first)[("outcomes.cancelled", None)] == 0
    assert values(session, first)[("outcomes.cancellation_rate", None)] == 0.0
    assert drill(session, Scope(tree.county, m(0), m(60, 1)), "outcomes.cancelled") == [at_start]


def test_percentiles_are_nearest_rank(session: Session, world: tuple[Tree, People]) -> None:
    tree, who = world
    # Reviews after 1..10 minutes, placed in a shuffled order.
    for minutes in (7, 3, 10, 1, 5, 9, 2, 8, 6, 4):
        wish_with(
            session,
            tree,
            who,
            placed_at=m(minutes),
            log=[(W.APPROVE, R.COORDINATOR, m(2 * minutes))],
        )
    found = values(session, Scope(tree.county, m(0), m(30)))
    assert found[("speed.review.count", None)] == 10
    assert found[("speed.review.p50_minutes", None)] == 5.0  # rank ceil(5.0) = 5
    assert found[("speed.review.p90_minutes", None)] == 9.0  # rank ceil(9.0) = 9
    # Seven values (reviews of 1..7 minutes, placed at 1..7, reviewed before 15).
    found = values(session, Scope(tree.county, m(0), m(15)))
    assert found[("speed.review.count", None)] == 7
    assert found[("speed.review.p50_minutes", None)] == 4.0  # rank ceil(3.5) = 4
    assert found[("speed.review.p90_minutes", None)] == 7.0  # rank ceil(6.3) = 7


def test_minutes_count_whole_seconds(session: Session, world: tuple[Tree, People]) -> None:
    """Both instants are cut to the second: 59.000001 s is 59 s, and a placing at .999999 s
    to a review a second later is one second."""
    tree, who = world
    wish_with(
        session,
        tree,
        who,
        placed_at=m(0, 999_999),
        log=[
            (W.APPROVE, R.COORDINATOR, m(0, 1_000_000)),
            (W.OFFER, R.COORDINATOR, m(1, 999_999)),
            (W.ACCEPT, R.VOLUNTEER, m(90, 500_000)),
        ],
    )
    found = values(session, Scope(tree.county, m(0), m(120)))
    assert found[("speed.review.p50_minutes", None)] == 1 / 60
    assert found[("speed.offer.p50_minutes", None)] == 1.0
    assert found[("speed.accept.p50_minutes", None)] == 90.0


def test_channels_and_catalogue_breakdowns(session: Session, world: tuple[Tree, People]) -> None:
    tree, who = world
    ids = {
        channel: wish_with(
            session,
            tree,
            who,
            placed_at=m(i),
            log=[],
            channel=channel,
            category="culture" if i else "poverty_relief",
            programme="our_festivals" if i == 2 else None,
            season="harvest" if i else None,
        ).id
        for i, channel in enumerate(("self", "grid_worker", "staff"))
    }
    scope = Scope(tree.county, m(0), m(10))
    found = values(session, scope)
    assert [found[("intake.by_channel", c)] for c in ("self", "grid_worker", "staff")] == [1, 1, 1]
    assert found[("intake.proxy_share", None)] == 2 / 3
    assert drill(session, scope, "intake.proxy_share") == [ids["grid_worker"], ids["staff"]]
    assert drill(session, scope, "intake.by_channel", "staff") == [ids["staff"]]
    assert found[("intake.by_category", "culture")] == 2
    assert found[("intake.by_category", "elderly_orphan_care")] == 0  # listed, though none
    assert found[("intake.by_programme", "our_festivals")] == 1
    assert found[("intake.by_programme", "none")] == 2
    assert found[("intake.by_season", "harvest")] == 2
    assert drill(session, scope, "intake.by_season", "none") == [ids["self"]]
    keys = [(f.key, f.group) for f in intake.compute(session, scope)]
    assert keys.index(("intake.by_programme", "micro_wish")) < keys.index(
        ("intake.by_programme", "none")
    )


def test_each_timer_counts_its_wishes_and_events(
    session: Session, world: tuple[Tree, People]
) -> None:
    tree, who = world
    unanswered = wish_with(
        session,
        tree,
        who,
        placed_at=m(0),
        log=[
            (W.ESCALATE, R.SYSTEM, m(240)),  # review_overdue
            (W.ESCALATE, R.COORDINATOR, m(250)),  # by hand: not a timer
            (W.APPROVE, R.COORDINATOR, m(260)),
            (W.ESCALATE, R.SYSTEM, m(270)),  # dispatch_overdue
            (W.OPEN_GRAB, R.SYSTEM, m(280)),  # grab_opened
            (W.ESCALATE, R.SYSTEM, m(400)),  # grab_overdue
            (W.ACCEPT, R.VOLUNTEER, m(410)),
            (W.REMIND, R.SYSTEM, m(420)),  # checkin_reminder
            (W.RELEASE, R.SYSTEM, m(450)),  # no_show
        ],
    ).id
    expired = wish_with(
        session,
        tree,
        who,
        placed_at=m(0),
        log=[
            (W.APPROVE, R.COORDINATOR, m(5)),
            (W.OFFER, R.SYSTEM, m(6)),
            (W.EXPIRE, R.SYSTEM, m(36)),  # offer_expired
            (W.OFFER, R.COORDINATOR, m(37)),
            (W.EXPIRE, R.SYSTEM, m(67)),  # offer_expired again
            (W.CANCEL, R.SYSTEM, m(500)),  # window_missed
        ],
    ).id
    late = wish_with(
        session,
        tree,
        who,
        placed_at=m(0),
        log=[
            (W.APPROVE, R.COORDINATOR, m(5)),
            (W.OPEN_GRAB, R.COORDINATOR, m(6)),  # by hand: not a timer
            (W.ACCEPT, R.VOLUNTEER, m(7)),
            (W.CHECK_IN, R.VOLUNTEER, m(8)),
            (W.REMIND, R.COORDINATOR, m(9)),  # by hand
            (W.REMIND, R.SYSTEM, m(600)),  # checkout_reminder, outside the window
            (W.CANCEL, R.COORDINATOR, m(601)),
        ],
    ).id
    scope = Scope(tree.county, m(0), m(600))
    found = values(session, scope)
    expected_wishes = {
        "review_overdue": [unanswered],
        "dispatch_overdue": [unanswered],
        "grab_overdue": [unanswered],
        "offer_expired": [expired],
        "grab_opened": [unanswered],
        "window_missed": [expired],
        "checkin_reminder": [unanswered],
        "no_show": [unanswered],
        "checkout_reminder": [],
    }
    assert set(expected_wishes) == set(speed.TIMERS)
    for code, wish_ids in expected_wishes.items():
        assert found[("speed.breaches", code)] == len(wish_ids), code
        assert drill(session, scope, "speed.breaches", code) == wish_ids, code
    assert found[("speed.breach_events", "offer_expired")] == 2
    assert drill(session, scope, "speed.breach_events", "offer_expired") == event_ids(
        session, expired, W.EXPIRE
    )
    escalations = event_ids(session, unanswered, W.ESCALATE)
    assert drill(session, scope, "speed.breach_events", "review_overdue") == escalations[:1]
    assert drill(session, scope, "speed.breach_events", "grab_overdue") == escalations[3:]
    wider = Scope(tree.county, m(0), m(601))
    assert drill(session, wider, "speed.breaches", "checkout_reminder") == [late]


def test_rates_and_satisfaction(session: Session, world: tuple[Tree, People]) -> None:
    tree, who = world
    served = [W.APPROVE, W.OFFER, W.ACCEPT, W.CHECK_IN, W.CHECK_OUT, W.RATE]
    roles = {
        W.APPROVE: R.COORDINATOR,
        W.OFFER: R.COORDINATOR,
        W.ACCEPT: R.VOLUNTEER,
        W.CHECK_IN: R.VOLUNTEER,
        W.CHECK_OUT: R.VOLUNTEER,
        W.RATE: R.REQUESTER,
    }

    def walk(events: list[WishEvent], start: int, *extra: tuple[WishEvent, ActorRole]) -> Any:
        log = [(e, roles[e], m(start + 1 + i)) for i, e in enumerate(events)]
        log += [(e, r, m(start + 1 + len(log) + i)) for i, (e, r) in enumerate(extra)]
        return log

    five = wish_with(session, tree, who, placed_at=m(0), log=walk(served, 0), score=5).id
    also_five = wish_with(session, tree, who, placed_at=m(1), log=walk(served, 1), score=5).id
    three = wish_with(session, tree, who, placed_at=m(2), log=walk(served, 2), score=3).id
    accepted = wish_with(session, tree, who, placed_at=m(3), log=walk(served[:3], 3)).id
    cancelled = wish_with(
        session, tree, who, placed_at=m(4), log=walk(served[:2], 4, (W.CANCEL, R.REQUESTER))
    ).id
    escalated = wish_with(
        session, tree, who, placed_at=m(5), log=walk([], 5, (W.ESCALATE, R.SYSTEM))
    ).id
    # Placed before the window, rated within it: a rating, not one of the cohort.
    earlier = wish_with(session, tree, who, placed_at=m(-100), log=walk(served, 0), score=1).id
    # Rated after the window: neither.
    wish_with(session, tree, who, placed_at=m(-100), log=walk(served, 100), score=2)

    scope = Scope(tree.county, m(0), m(60))
    found = values(session, scope)
    assert found[("outcomes.placed", None)] == 6
    assert found[("outcomes.dispatched", None)] == 5
    assert found[("outcomes.accepted", None)] == 4
    assert found[("outcomes.completed", None)] == 3
    assert found[("outcomes.acceptance_rate", None)] == 4 / 5
    assert found[("outcomes.completion_rate", None)] == 3 / 4
    assert found[("outcomes.cancellation_rate", None)] == 1 / 6
    assert found[("outcomes.escalation_rate", None)] == 1 / 6
    assert drill(session, scope, "outcomes.acceptance_rate") == [five, also_five, three, accepted]
    assert drill(session, scope, "outcomes.cancellation_rate") == [cancelled]
    assert drill(session, scope, "outcomes.escalated") == [escalated]
    assert found[("outcomes.ratings", None)] == 4
    assert found[("outcomes.satisfaction_mean", None)] == (5 + 5 + 3 + 1) / 4
    stars = [found[("outcomes.satisfaction", str(s))] for s in range(1, 6)]
    assert stars == [1, 0, 1, 0, 2]
    assert drill(session, scope, "outcomes.satisfaction", "5") == [five, also_five]
    assert drill(session, scope, "outcomes.satisfaction_mean") == sorted(
        [five, also_five, three, earlier]
    )


@pytest.mark.parametrize(
    ("key", "group"),
    [
        ("intake.wishes", "x"),
        ("intake.by_category", None),
        ("speed.review.p75_minutes", None),
        ("speed.breaches", "nothing"),
        ("outcomes.satisfaction", "6"),
        ("outcomes.nothing", None),
    ],
)
def test_an_unknown_figure_is_a_key_error(
    session: Session, world: tuple[Tree, People], key: str, group: str | None
) -> None:
    tree, _who = world
    with pytest.raises(KeyError):
        drill(session, Scope(tree.county, m(0), m(60)), key, group)
