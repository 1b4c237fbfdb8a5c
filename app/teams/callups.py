"""A wish taken as a team: the lead accepts, each member named answers for themself.

`POST /wishes/{id}/accept-as-team` applies the ordinary ACCEPT event as the team's lead (their
offer or their grab, with every rule of the wish loop: the compare-and-set that lets one taker
win, capacity, the hard constraints), then, in the same transaction, marks the wish as the
team's (`wishes.team_id`) and names the members it calls up (`team_callups`, status `named`).
Nobody is put on the service team by someone else (《志愿服务条例》第二十五条): a named member
accepts their callup, and only then joins the wish's service team (`attendance.service
.add_member`: a record of their own, their own check-in, check-out and hours), or declines,
which changes nothing for anyone else. Each member is checked against the wish's hard
constraints (age, skills and qualifications, insurance, not the requester, not suspended) when
named and again when they accept.

When the wish goes back to dispatch or is cancelled, the team lets go of it: callups not yet
answered are withdrawn and `team_id` is cleared (a hook on the wish loop's events).
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import clock
from app.attendance.service import add_member
from app.auth.principal import Principal
from app.matching.scoring import Reason
from app.models import Team, TeamCallup, User, Volunteer, Wish
from app.notifications.outbox import enqueue_many
from app.teams.errors import (
    CallupClosed,
    CallupNotFound,
    MemberNotEligible,
    NotActiveMembers,
    NotTeamLead,
    TeamNotVerified,
)
from app.teams.schemas import AcceptAsTeamIn, CallupStatus, TeamStatus
from app.teams.service import active_member_ids, seen_team
from app.wishes.access import VisibleWish, hard_reasons
from app.wishes.hooks import Moved, after_transition
from app.wishes.loading import load_wish
from app.wishes.service import apply_event
from app.wishes.state import WishEvent

# The member answers for their own time and distance by accepting; these stay hard.
NOT_HARD_FOR_MEMBERS = frozenset({Reason.OUT_OF_RADIUS, Reason.UNAVAILABLE_IN_WINDOW})


def member_reasons(session: Session, *, wish_id: int, volunteer_id: int) -> list[Reason]:
    """Why this volunteer may not serve on the wish: the hard constraints of the regulation
    (Art 15–17), judged as for a grab (`wishes.eligibility`), distance and weekly hours aside."""
    volunteer = session.get(Volunteer, volunteer_id)
    if volunteer is None:
        return [Reason.SUSPENDED]
    loaded = load_wish(session, wish_id, volunteer_id=volunteer_id)
    reasons = hard_reasons(session, volunteer, loaded, available=True)
    return [reason for reason in reasons if reason not in NOT_HARD_FOR_MEMBERS]


def accept_as_team(
    session: Session, *, wish_id: int, body: AcceptAsTeamIn, actor: Principal
) -> tuple[VisibleWish, list[TeamCallup]]:
    seen = seen_team(session, team_id=body.team_id, actor=actor)
    if not seen.leads:
        raise NotTeamLead("只有该队负责人可以代表团队接单")
    if seen.team.status != TeamStatus.VERIFIED:
        raise TeamNotVerified()
    named = list(dict.fromkeys(body.member_ids))
    active = set(active_member_ids(session, seen.team.id))
    strangers = [v for v in named if v not in active or v == actor.volunteer_id]
    if strangers:
        raise NotActiveMembers(details={"volunteer_ids": strangers})
    # The lead's own accept: an offer or a grab, the one-taker compare-and-set, capacity.
    outcome = apply_event(session=session, wish_id=wish_id, event=WishEvent.ACCEPT, actor=actor)
    unfit = {
        str(v): [r.value for r in reasons]
        for v in named
        if (reasons := member_reasons(session, wish_id=wish_id, volunteer_id=v))
    }
    if unfit:
        raise MemberNotEligible(details={"members": unfit})
    now = clock.now()
    session.execute(
        update(Wish)
        .where(Wish.id == wish_id, Wish.assignee_id == actor.volunteer_id)
        .values(team_id=seen.team.id),
        execution_options={"synchronize_session": False},
    )
    outcome.loaded.wish.team_id = seen.team.id
    callups = [
        TeamCallup(
            team_id=seen.team.id,
            wish_id=wish_id,
            volunteer_id=volunteer_id,
            status=CallupStatus.NAMED,
            named_by_id=actor.user_id,
            created_at=now,
            updated_at=now,
        )
        for volunteer_id in named
    ]
    session.add_all(callups)
    session.flush()
    _tell_named(session, seen.team, outcome.loaded.wish, callups)
    return outcome, callups


def _tell_named(session: Session, team: Team, wish: Wish, callups: list[TeamCallup]) -> None:
    """Each named member is told, and answers for themself (the coarse place only until then)."""
    users = dict(
        session.execute(
            select(Volunteer.id, Volunteer.user_id).where(
                Volunteer.id.in_([c.volunteer_id for c in callups])
            )
        ).all()
    )
    enqueue_many(
        session=session,
        messages=[
            (
                "team.callup",
                [users.get(callup.volunteer_id)],
                {
                    "callup_id": callup.id,
                    "team_id": team.id,
                    "team_name": team.name,
                    "wish_id": wish.id,
                    "title": wish.title,
                    "coarse_address": wish.coarse_address,
                    "wanted_start_at": wish.wanted_start_at.isoformat(),
                    "wanted_end_at": wish.wanted_end_at.isoformat(),
                },
            )
            for callup in callups
        ],
        wish_id=wish.id,
    )


def own_callup(session: Session, *, callup_id: int, actor: Principal) -> TeamCallup:
    row = session.get(TeamCallup, callup_id)
    if row is None or actor.volunteer_id is None or row.volunteer_id != actor.volunteer_id:
        raise CallupNotFound()
    return row


def _answer(session: Session, row: TeamCallup, status: CallupStatus) -> TeamCallup:
    moved = session.execute(
        update(TeamCallup)
        .where(TeamCallup.id == row.id, TeamCallup.status == CallupStatus.NAMED)
        .values(status=status, answered_at=clock.now(), updated_at=clock.now()),
        execution_options={"synchronize_session": False},
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise CallupClosed(details={"status": row.status})
    session.refresh(row)
    return row


def accept_callup(session: Session, *, callup_id: int, actor: Principal) -> TeamCallup:
    """The member's own yes: checked against the wish's hard constraints, then on its service
    team with a record of their own."""
    row = own_callup(session, callup_id=callup_id, actor=actor)
    if row.status != CallupStatus.NAMED:
        raise CallupClosed(details={"status": row.status})
    if row.wish_id is None:
        raise CallupNotFound()  # an activity's callup is answered through the activity
    if row.volunteer_id not in active_member_ids(session, row.team_id):
        raise NotActiveMembers(
            "您已不是该队在册成员", details={"volunteer_ids": [row.volunteer_id]}
        )
    reasons = member_reasons(session, wish_id=row.wish_id, volunteer_id=row.volunteer_id)
    if reasons:
        raise MemberNotEligible(details={"members": {str(row.volunteer_id): reasons}})
    row = _answer(session, row, CallupStatus.ACCEPTED)
    wish = session.get(Wish, row.wish_id, populate_existing=True)
    assert wish is not None
    add_member(
        session,
        wish=wish,
        volunteer_id=row.volunteer_id,
        actor_id=row.named_by_id or actor.user_id,
    )
    return row


def decline_callup(session: Session, *, callup_id: int, actor: Principal) -> TeamCallup:
    """The member's own no: nothing else changes."""
    row = own_callup(session, callup_id=callup_id, actor=actor)
    return _answer(session, row, CallupStatus.DECLINED)


def callup_rows(
    session: Session,
    *,
    wish_id: int | None = None,
    volunteer_id: int | None = None,
    team_id: int | None = None,
    status: CallupStatus | None = None,
    limit: int = 100,
) -> list[tuple[TeamCallup, str, str]]:
    """Callups with the team's name and the member's name, newest first."""
    query = (
        select(TeamCallup, Team.name, User.name)
        .join(Team, Team.id == TeamCallup.team_id)
        .join(Volunteer, Volunteer.id == TeamCallup.volunteer_id)
        .join(User, User.id == Volunteer.user_id)
        .order_by(TeamCallup.id.desc())
        .limit(limit)
    )
    if wish_id is not None:
        query = query.where(TeamCallup.wish_id == wish_id)
    if volunteer_id is not None:
        query = query.where(TeamCallup.volunteer_id == volunteer_id)
    if team_id is not None:
        query = query.where(TeamCallup.team_id == team_id)
    if status is not None:
        query = query.where(TeamCallup.status == status)
    return [(row, team, name) for row, team, name in session.execute(query)]


# ---------------------------------------------------------------- the wish lets go of the team

GIVEN_BACK = frozenset({WishEvent.WITHDRAW, WishEvent.RELEASE})


@after_transition
def _wish_let_go(moved: Moved) -> None:
    """A team's wish given back to dispatch: unanswered callups are withdrawn and the wish is no
    longer the team's (whoever takes it next takes it for themself). A cancelled wish stays on
    the team's record; its unanswered callups are withdrawn."""
    given_back = moved.event in GIVEN_BACK
    if moved.wish.team_id is None or not (given_back or moved.event == WishEvent.CANCEL):
        return
    moved.session.execute(
        update(TeamCallup)
        .where(TeamCallup.wish_id == moved.wish.id, TeamCallup.status == CallupStatus.NAMED)
        .values(status=CallupStatus.WITHDRAWN, answered_at=moved.now, updated_at=moved.now),
        execution_options={"synchronize_session": False},
    )
    if given_back:
        moved.session.execute(
            update(Wish).where(Wish.id == moved.wish.id).values(team_id=None),
            execution_options={"synchronize_session": False},
        )
        moved.wish.team_id = None
