"""Admins may remove each other, never the last active one: nobody could grant, reset or
reinstate anything after it."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.config import Settings
from app.models import RoleGrant, User
from app.models.enums import AccountRole
from tests.fixtures.builders import auth, make_admin

API = "/api/v1"


def admin_grant(session: Session, user: User) -> int:
    return session.scalars(
        select(RoleGrant.id).where(
            RoleGrant.user_id == user.id, RoleGrant.role == AccountRole.ADMIN
        )
    ).one()


def test_the_last_admin_cannot_remove_themself(
    client: TestClient, session: Session, settings: Settings
) -> None:
    only = make_admin(session)
    headers = auth(only, settings)
    for method, path in (
        ("POST", f"/admin/users/{only.id}/deactivate"),
        ("DELETE", f"/admin/users/{only.id}/roles/{admin_grant(session, only)}"),
    ):
        r = client.request(method, API + path, headers=headers)
        assert (r.status_code, r.json()["error"]["code"]) == (409, "LAST_ADMIN"), path
        assert "管理员" in r.json()["error"]["message"]
    session.expire_all()
    assert session.get(User, only.id).is_active  # type: ignore[union-attr]
    assert admin_grant(session, only)
    assert client.get(f"{API}/admin/users/{only.id}", headers=headers).status_code == 200


def test_with_another_active_admin_either_may_go(
    client: TestClient, session: Session, settings: Settings
) -> None:
    first, second = make_admin(session), make_admin(session)
    r = client.delete(
        f"{API}/admin/users/{first.id}/roles/{admin_grant(session, first)}",
        headers=auth(first, settings),
    )
    assert r.status_code == 200, r.text
    # `second` is now the last admin: deactivating them is refused, by anyone's hand.
    r = client.post(f"{API}/admin/users/{second.id}/deactivate", headers=auth(second, settings))
    assert (r.status_code, r.json()["error"]["code"]) == (409, "LAST_ADMIN")


def test_an_inactive_admin_does_not_count(
    client: TestClient, session: Session, settings: Settings
) -> None:
    active, dormant = make_admin(session), make_admin(session)
    headers = auth(active, settings)
    assert (
        client.post(f"{API}/admin/users/{dormant.id}/deactivate", headers=headers).status_code
        == 200
    )
    r = client.post(f"{API}/admin/users/{active.id}/deactivate", headers=headers)
    assert (r.status_code, r.json()["error"]["code"]) == (409, "LAST_ADMIN")
