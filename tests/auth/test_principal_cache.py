"""The per-process principal cache: changes made here show at once; decisions that matter
re-read the database even when the cached copy is stale (as in another worker process)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from app.auth.cache import principal_cache, revocation_feed
from app.auth.security import decode_access_token
from app.config import Settings
from app.models import Volunteer
from app.models.enums import VolunteerStatus, WishStatus
from tests.fixtures.builders import (
    auth,
    make_admin,
    make_coordinator,
    make_resident,
    make_tree,
    make_volunteer,
    make_wish,
)

API = "/api/v1"


@pytest.fixture
def cache_on() -> Iterator[None]:
    principal_cache.configure(60)
    revocation_feed.reset()
    try:
        yield
    finally:
        principal_cache.configure(0)
        revocation_feed.reset()


def _sid(headers: dict[str, str], settings: Settings) -> int:
    claims = decode_access_token(headers["Authorization"].removeprefix("Bearer "), settings)
    assert claims is not None
    return claims.session_id


@pytest.mark.usefixtures("cache_on")
def test_revoked_grant_ends_the_session_at_once_in_this_process(
    client: TestClient, session: Session, settings: Settings
) -> None:
    tree = make_tree(session)
    admin = make_admin(session)
    coordinator = make_coordinator(session, tree.stations[0])
    headers = auth(coordinator, settings)
    assert client.get(f"{API}/wishes/review-queue", headers=headers).status_code == 200
    assert principal_cache.get(_sid(headers, settings)) is not None
    grants = client.get(f"{API}/admin/users/{coordinator.id}", headers=auth(admin, settings))
    grant_id = grants.json()["roles"][0]["id"]
    r = client.delete(
        f"{API}/admin/users/{coordinator.id}/roles/{grant_id}", headers=auth(admin, settings)
    )
    assert r.status_code == 200
    assert principal_cache.get(_sid(headers, settings)) is None
    r = client.get(f"{API}/wishes/review-queue", headers=headers)
    assert r.status_code == 401 and r.json()["error"]["code"] == "INVALID_TOKEN"


@pytest.mark.usefixtures("cache_on")
def test_the_feed_drops_what_another_process_changed(
    client: TestClient, session: Session, settings: Settings
) -> None:
    """A volunteer registration in "another process" (a feed row written here, the cached
    copy untouched) reaches this process's cache at its next poll."""
    from app.auth.cache import forget_principal

    resident = make_resident(session)
    headers = auth(resident, settings)
    assert client.get(f"{API}/me", headers=headers).status_code == 200
    sid = _sid(headers, settings)
    cached = principal_cache.get(sid)
    assert cached is not None
    # What another process does: its own cache is dropped, a feed row written.
    forget_principal(session, resident.id)
    session.flush()
    principal_cache.put(cached)
    assert principal_cache.get(sid) is not None
    before = revocation_feed.last_id
    revocation_feed.polled_at -= 1.5  # the poll interval has passed
    assert client.get(f"{API}/me", headers=headers).status_code == 200
    assert revocation_feed.last_id is not None and before is not None
    assert revocation_feed.last_id > before
    assert principal_cache.get(sid) is not cached  # dropped by the feed, then read afresh


@pytest.mark.usefixtures("cache_on")
def test_accept_rechecks_suspension_behind_a_stale_cache(
    client: TestClient, session: Session, settings: Settings
) -> None:
    tree = make_tree(session)
    user, volunteer = make_volunteer(session, tree.stations[0])
    wish = make_wish(
        session,
        station=tree.stations[0],
        requester=make_resident(session),
        status=WishStatus.DISPATCHING,
        offer_to=[volunteer],
    )
    headers = auth(user, settings)
    assert client.get(f"{API}/me/offers", headers=headers).status_code == 200
    cached = principal_cache.get(_sid(headers, settings))
    assert cached is not None and cached.volunteer is not None and cached.volunteer.active
    # Suspended behind the service's back (no feed row): this process's copy is now stale.
    session.execute(
        update(Volunteer)
        .where(Volunteer.id == volunteer.id)
        .values(status=VolunteerStatus.SUSPENDED)
    )
    session.flush()
    r = client.post(f"{API}/wishes/{wish.id}/accept", headers=headers)
    assert r.status_code == 403 and r.json()["error"]["code"] == "VOLUNTEER_SUSPENDED"


def test_ended_sessions_and_spent_tokens_are_pruned(session: Session, settings: Settings) -> None:
    from datetime import timedelta

    from sqlalchemy import select

    from app import clock
    from app.auth.security import refresh_token_hash
    from app.auth.sessions import open_session, prune, rotate
    from app.models import AuthSession, RefreshToken
    from app.models.enums import SessionKind

    user = make_resident(session)
    old = open_session(
        session=session, user_id=user.id, kind=SessionKind.CONSUMER, settings=settings
    )
    live = open_session(
        session=session, user_id=user.id, kind=SessionKind.CONSUMER, settings=settings
    )
    rotate(session=session, refresh_token=live.refresh_token, settings=settings)
    row = session.get(AuthSession, old.session_id)
    assert row is not None
    long_ago = clock.now() - timedelta(days=31)
    row.revoked_at = long_ago
    spent = session.scalars(
        select(RefreshToken).where(
            RefreshToken.token_hash == refresh_token_hash(live.refresh_token)
        )
    ).one()
    spent.rotated_at = clock.now() - timedelta(days=8)
    session.flush()
    prune(session)
    session.expire_all()
    assert session.get(AuthSession, old.session_id) is None
    assert session.get(AuthSession, live.session_id) is not None
    tokens = session.scalars(select(RefreshToken.session_id)).all()
    assert old.session_id not in tokens
    assert tokens.count(live.session_id) == 1  # the current token stays, the spent one went
