"""Nobody approves themselves: the one rule of separation of duties, and its error.

A coordinator or an admin may also be a volunteer (one person, one account). In that case they
cannot confirm, credit, award, adjust, certify, suspend or reinstate themselves, send themselves
an offer, add themselves to a service team, check themselves in by hand, or approve, reject or
close a wish they ordered: another coordinator of the unit or above (or another admin) must do
it. Every route that could do one of these calls `refuse_self` before it changes anything, so
the request is refused with 403 `SELF_APPROVAL` and the transaction writes nothing.

`tests/test_self_approval.py` lists every state-changing route of the app and fails on a route
that is neither tested here nor exempted with a reason.
"""

from __future__ import annotations

import structlog
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.errors import Forbidden
from app.models import Volunteer

log = structlog.get_logger()


class SelfApproval(Forbidden):
    code = "SELF_APPROVAL"
    message = "不能为本人审批、确认、登记或调整：请由本单位或上级单位的其他协调员办理"


def concerns(
    session: Session | None,
    actor: Principal,
    *,
    user_id: int | None = None,
    volunteer_id: int | None = None,
) -> bool:
    """Whether the person the action is about (a user, or a volunteer profile) is the actor.

    A volunteer profile is compared by its user, read when it is not the actor's own profile
    as the principal knows it (a profile whose volunteer role was revoked is still theirs)."""
    if user_id is not None and user_id == actor.user_id:
        return True
    if volunteer_id is None:
        return False
    if volunteer_id == actor.volunteer_id:
        return True
    if session is None:
        return False
    owner = session.scalar(select(Volunteer.user_id).where(Volunteer.id == volunteer_id))
    return owner == actor.user_id


def refuse_self(
    session: Session | None,
    actor: Principal,
    *,
    action: str,
    user_id: int | None = None,
    volunteer_id: int | None = None,
) -> None:
    """Refuse (403 SELF_APPROVAL) when the action is about the actor themselves.

    `action` names what was refused (a stable snake_case word, in the error's details and the
    log), e.g. "confirm_service_record"."""
    if concerns(session, actor, user_id=user_id, volunteer_id=volunteer_id):
        log.warning("auth.self_approval_refused", actor_id=actor.user_id, action=action)
        raise SelfApproval(details={"action": action})
