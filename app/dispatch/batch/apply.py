"""Applying a reviewed plan: each pair is sent as an ordinary directed OFFER through
`apply_event`, one by one, each item reporting its own success or error."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt
import structlog
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.auth.separation import refuse_self
from app.dispatch.batch.errors import MatchingUnavailable, VolunteerNotEligible, WishNotApproved
from app.errors import AppError, Conflict
from app.matching.catalogue import (
    MatchingLimit,
    matching_catalogue,
    wish_facts_preloaded,
    wish_skill_codes,
)
from app.matching.scoring import REASON_TEXT, Reason, evaluate, reasons_of
from app.matching.service import normalised_weights
from app.matching.unit_volunteers import take_volunteers, unit_volunteers
from app.models import OrgUnit, Volunteer, Wish
from app.models.enums import WishStatus
from app.org_units.errors import OrgUnitNotFound
from app.wishes.errors import InvalidOfferTarget, WishChanged, WishNotFound
from app.wishes.schemas import OfferIn
from app.wishes.service import apply_event
from app.wishes.state import WishEvent

log = structlog.get_logger()


@dataclass
class AppliedItem:
    wish_id: int
    volunteer_id: int
    error: AppError | None = None
    status: WishStatus | None = None  # the wish's status once the offer went out
    version: int | None = None  # the wish's version when the line was checked

    @property
    def ok(self) -> bool:
        return self.error is None and self.status is not None


@dataclass(frozen=True)
class _WishState:
    status: WishStatus
    version: int
    path: str


def apply_plan(
    session: Session,
    *,
    unit: OrgUnit,
    actor: Principal,
    assignments: Sequence[tuple[int, int]],
    expires_in_minutes: int | None = None,
    note: str = "",
) -> list[AppliedItem]:
    """Send each (wish, volunteer) pair as a directed offer from `actor`, each in its own
    savepoint: a pair that is stale (the wish is no longer approved, the volunteer no longer
    fits, …) is reported with its error and the others still go out (`check_plan`, then
    `send_offers`)."""
    items = check_plan(session, unit=unit, actor=actor, assignments=assignments)
    send_offers(session, actor=actor, items=items, expires_in_minutes=expires_in_minutes, note=note)
    log.info(
        "dispatch.batch_applied",
        unit_id=unit.id,
        actor_id=actor.user_id,
        sent=sum(item.ok for item in items),
        failed=sum(not item.ok for item in items),
    )
    return items


def check_plan(
    session: Session,
    *,
    unit: OrgUnit,
    actor: Principal,
    assignments: Sequence[tuple[int, int]],
) -> list[AppliedItem]:
    """The plan's lines, each either marked with the error that keeps it from going out or
    holding the wish version it was checked at; sends nothing.

    Wishes outside the unit's subtree are reported as WISH_NOT_FOUND, like any wish one may not
    see; volunteers must have their home station in the subtree. Each pair is judged again by
    the hard constraints, and no volunteer gets more offers than their spare capacity: the plan
    may be minutes old. A plan that offers the coordinator a wish is refused whole."""
    if not actor.manages(unit.path):
        raise OrgUnitNotFound()
    items = [AppliedItem(wish_id, volunteer_id) for wish_id, volunteer_id in assignments]
    if len({item.wish_id for item in items}) != len(items):
        raise ValueError("each wish may appear once")
    own = session.scalar(select(Volunteer.id).where(Volunteer.user_id == actor.user_id))
    for item in items:
        if item.volunteer_id == own:
            refuse_self(session, actor, action="offer_to_self", volunteer_id=own)
    states = {
        wish_id: _WishState(WishStatus(status), version, path)
        for wish_id, status, version, path in session.execute(
            select(Wish.id, Wish.status, Wish.version, OrgUnit.path)
            .join(OrgUnit, OrgUnit.id == Wish.station_id)
            .where(Wish.id.in_([item.wish_id for item in items]))
        )
    }
    for item in items:
        state = states.get(item.wish_id)
        if state is None or not state.path.startswith(unit.path):
            item.error = WishNotFound()
        elif state.status != WishStatus.APPROVED:
            item.error = WishNotApproved(details={"status": state.status})
        else:
            item.version = state.version
    _check_fit(session, unit=unit, items=[item for item in items if item.error is None])
    return items


def send_offers(
    session: Session,
    *,
    actor: Principal,
    items: Sequence[AppliedItem],
    expires_in_minutes: int | None,
    note: str,
) -> None:
    """Send the offer of each checked line (no error yet), each in its own savepoint, and
    record its outcome on the line."""
    for item in items:
        if item.error is not None or item.version is None:
            continue
        try:
            with session.begin_nested():
                outcome = apply_event(
                    session=session,
                    wish_id=item.wish_id,
                    event=WishEvent.OFFER,
                    actor=actor,
                    payload=OfferIn(
                        volunteer_ids=[item.volunteer_id],
                        expires_in_minutes=expires_in_minutes,
                        note=note,
                    ),
                )
                # The wish must have moved from the state the check read (approved): had
                # someone dispatched it meanwhile, OFFER would still be allowed (dispatching →
                # dispatching) and add a second round of offers; undo it instead.
                if outcome.wish.version != item.version + 1:
                    raise WishChanged(details={"status": WishStatus.APPROVED})
        except AppError as exc:
            item.error = exc
        except IntegrityError:
            item.error = Conflict("数据与现有记录冲突，请刷新后重试")
        else:
            item.status = outcome.wish.status


def _check_fit(session: Session, *, unit: OrgUnit, items: list[AppliedItem]) -> None:
    """Judge each pair by the hard constraints again, as the plan did (the volunteers' spare
    capacity counted across the whole request); mark the pairs that fail."""
    if not items:
        return
    try:
        catalogue = matching_catalogue(session)
    except MatchingLimit as exc:
        raise MatchingUnavailable() from exc
    wishes = {
        wish.id: (wish, radius)
        for wish, radius in session.execute(
            select(Wish, OrgUnit.service_radius_m)
            .join(OrgUnit, OrgUnit.id == Wish.station_id)
            .where(Wish.id.in_([item.wish_id for item in items]))
        ).all()
    }
    required = wish_skill_codes(session, list(wishes))
    volunteers = unit_volunteers(
        session,
        unit_path=unit.path,
        bits=catalogue.bits,
        active_only=False,
        volunteer_ids={item.volunteer_id for item in items},
    )
    arrays = volunteers.arrays
    position = {int(v): i for i, v in enumerate(arrays.ids)}
    elsewhere = _existing_volunteers(
        session, [i.volunteer_id for i in items if i.volunteer_id not in position]
    )
    spare = np.maximum(arrays.capacity - arrays.active_tasks, 0)
    used: Counter[int] = Counter()
    qualified: dict[date, npt.NDArray[np.uint64]] = {}
    weights = normalised_weights()
    for item in items:
        at = position.get(item.volunteer_id)
        if at is None:
            key = "outside_scope" if item.volunteer_id in elsewhere else "not_found"
            item.error = InvalidOfferTarget(details={key: [item.volunteer_id]})
            continue
        wish, radius = wishes[item.wish_id]
        facts = wish_facts_preloaded(
            wish,
            station_radius_m=radius,
            catalogue=catalogue,
            required=required.get(wish.id, ()),
        )
        day = facts.service_day
        if day not in qualified:
            qualified[day] = volunteers.qualified_on(day)
        one = take_volunteers(arrays, np.array([at], dtype=np.intp), qualified=qualified[day])
        bits = int(evaluate(facts, one, weights=weights).reasons[0])
        reasons = reasons_of(bits)
        if not reasons and used[at] >= spare[at]:
            reasons = [Reason.AT_CAPACITY]
        if reasons:
            item.error = VolunteerNotEligible(
                "该志愿者不满足此心愿的条件：" + "；".join(REASON_TEXT[r] for r in reasons),
                details={"reasons": [r.value for r in reasons]},
            )
        else:
            used[at] += 1


def _existing_volunteers(session: Session, volunteer_ids: list[int]) -> set[int]:
    if not volunteer_ids:
        return set()
    return set(session.scalars(select(Volunteer.id).where(Volunteer.id.in_(volunteer_ids))))
