"""Turning wishes into what each caller may see."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session, load_only

from app import clock
from app.auth.principal import VolunteerFacts
from app.geo import distance_m
from app.models import Offer, OrgUnit, Wish
from app.pagination import Page
from app.privacy.masking import mask_phone
from app.wishes.access import VisibleWish, may_reveal
from app.wishes.eligibility import distance_seen_m
from app.wishes.schemas import (
    DistanceOut,
    MyOfferOut,
    NextStepOut,
    OfferOut,
    PersonRef,
    StationRef,
    WishOut,
    WishSummary,
)
from app.wishes.service import allowed_events
from app.wishes.state import ActorRole
from app.wishes.upcoming import next_step


def wish_out(session: Session, outcome: VisibleWish) -> WishOut:
    """Three views of one wish. Volunteers who do not hold it see the public one (no requester,
    no contact, the coarse place). Whoever else sees the wish sees names, the coarse place and
    masked phones (138****1234); the full contact is revealed through `POST /wishes/{id}/reveal`,
    which logs it. The requester (or whoever ordered for them) sees their own data in full."""
    loaded, access = outcome.loaded, outcome.access
    wish, station = loaded.wish, loaded.station
    redacted = access.redacted
    full = access.own_data

    def phone(number: str | None) -> str | None:
        return number if full else mask_phone(number)

    requester = None
    if not redacted:
        person = loaded.requester
        requester = PersonRef(id=person.id, name=person.name, phone=phone(person.phone))
    assignee = None
    if loaded.assignee is not None:
        # Requesters see who is coming (the phone masked: it is the volunteer's; revealed on
        # request); other volunteers only a name.
        person = loaded.assignee
        assignee = PersonRef(
            id=person.id, name=person.name, phone=None if redacted else mask_phone(person.phone)
        )
    view = access.volunteer
    my_offer = None
    band = None
    exact = None
    if view is not None:
        if view.latest_offer is not None:
            offer = view.latest_offer
            my_offer = MyOfferOut(id=offer.id, status=offer.status, expires_at=offer.expires_at)
        if redacted:
            band = DistanceOut.of(distance_seen_m(view.volunteer, wish))
        else:
            metres = distance_m(view.volunteer.lat, view.volunteer.lng, wish.lat, wish.lng)
            band, exact = DistanceOut.of(metres), round(metres, 1)
    # Until they hold the wish, volunteers see its coarse point only; whoever else sees it, the
    # coarse point too unless it is their own (the exact place is revealed, and logged).
    lat, lng = (wish.lat, wish.lng) if full else (wish.coarse_lat, wish.coarse_lng)
    upcoming = None
    if access.roles & {ActorRole.COORDINATOR, ActorRole.ADMIN}:
        step = next_step(session, wish, station, clock.now())
        if step is not None:
            upcoming = NextStepOut(action=step.action, label=step.label, at=step.at)
    return WishOut(
        id=wish.id,
        title=wish.title,
        description=wish.description,
        category_code=wish.category_code,
        programme_code=wish.programme_code,
        season_code=wish.season_code,
        skill_codes=loaded.skill_codes(session),
        station=StationRef(id=station.id, name=station.name),
        coarse_address=wish.coarse_address,
        full_address=wish.full_address if full else None,
        contact_phone=None if redacted else phone(wish.contact_phone),
        lat=lat,
        lng=lng,
        wanted_start_at=wish.wanted_start_at,
        wanted_end_at=wish.wanted_end_at,
        urgency=wish.urgency,
        status=wish.status,
        version=wish.version,
        grab_open=wish.grab_open,
        requester=requester,
        proxy_id=None if redacted else wish.proxy_id,
        assignee=assignee,
        reject_reason=wish.reject_reason,
        cancel_reason=wish.cancel_reason,
        rating=wish.rating,
        rating_comment=wish.rating_comment,
        submitted_at=wish.submitted_at,
        approved_at=wish.approved_at,
        rejected_at=wish.rejected_at,
        dispatching_at=wish.dispatching_at,
        accepted_at=wish.accepted_at,
        in_service_at=wish.in_service_at,
        completed_at=wish.completed_at,
        rated_at=wish.rated_at,
        closed_at=wish.closed_at,
        cancelled_at=wish.cancelled_at,
        created_at=wish.created_at,
        redacted=redacted,
        masked=not full,
        can_reveal=may_reveal(access, wish.status),
        my_roles=sorted(access.roles),
        allowed_events=allowed_events(access, wish.status),
        my_offer=my_offer,
        distance=band,
        distance_m=exact,
        next_step=upcoming,
    )


def wish_summary(wish: Wish | Row[Any], distance: float | None = None) -> WishSummary:
    """A list row, from a wish or from a row of `queries.SUMMARY_COLUMNS`; `distance` is the
    one a volunteer is shown (`eligibility.distance_seen_m`), given as its band."""
    return WishSummary(
        id=wish.id,
        title=wish.title,
        category_code=wish.category_code,
        station_id=wish.station_id,
        coarse_address=wish.coarse_address,
        wanted_start_at=wish.wanted_start_at,
        wanted_end_at=wish.wanted_end_at,
        urgency=wish.urgency,
        status=wish.status,
        grab_open=wish.grab_open,
        created_at=wish.created_at,
        distance=None if distance is None else DistanceOut.of(distance),
    )


# What the ladder reads of a wish (`dispatch.timers.state_of`): a list's wishes are loaded with
# these columns only, so no sealed column is opened for a countdown.
_LADDER_COLUMNS = (
    Wish.id, Wish.station_id, Wish.status, Wish.urgency, Wish.submitted_at, Wish.approved_at,
    Wish.grab_open, Wish.grab_opened_at, Wish.escalated_at, Wish.reminded_at,
    Wish.in_service_at, Wish.completed_at, Wish.wanted_start_at, Wish.wanted_end_at,
)  # fmt: skip


def with_next_steps(session: Session, page: Page[WishSummary]) -> Page[WishSummary]:
    """Each row of a staff list with the ladder's next step, as the wish view shows it (the
    console's countdowns): the page's wishes and their stations in two queries, then each
    step read as for one wish (a dispatching wish's pending offers in one more)."""
    ids = [item.id for item in page.items]
    if not ids:
        return page
    wishes = session.scalars(
        select(Wish).where(Wish.id.in_(ids)).options(load_only(*_LADDER_COLUMNS))
    ).all()
    stations = {
        unit.id: unit
        for unit in session.scalars(
            select(OrgUnit).where(OrgUnit.id.in_({wish.station_id for wish in wishes}))
        )
    }
    now = clock.now()
    steps: dict[int, NextStepOut] = {}
    for wish in wishes:
        step = next_step(session, wish, stations[wish.station_id], now)
        if step is not None:
            steps[wish.id] = NextStepOut(action=step.action, label=step.label, at=step.at)
    for item in page.items:
        item.next_step = steps.get(item.id)
    return page


def offer_out(
    offer: Offer, wish: Wish | None = None, volunteer: VolunteerFacts | None = None
) -> OfferOut:
    """An offer; with its wish, a summary of it (with the distance band from `volunteer`'s
    home to its coarse point)."""
    out = OfferOut.model_validate(offer, from_attributes=True)
    if wish is not None:
        seen = distance_seen_m(volunteer, wish) if volunteer is not None else None
        out.wish = wish_summary(wish, seen)
    return out
