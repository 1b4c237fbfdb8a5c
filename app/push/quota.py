"""Each user's remaining subscription messages per template.

WeChat lets a mini-program send a user one message per "accept" of
`wx.requestSubscribeMessage` for that template, and answers 43101 once none is left (or the
user turned the template off). We keep the same count: the mini-program reports each answer
(`POST /me/subscriptions`), a message takes one before it is sent (a conditional UPDATE that
never goes below zero, so two workers cannot spend the same one), a send that did not happen
gives it back, and a 43101 sets it to zero.

`hint` tells the mini-program which templates to ask for next (at most three, WeChat's limit
per `wx.requestSubscribeMessage`): those a moment of use (a wish placed, a task accepted, the
user's roles) is likely to need more of than are left.
"""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import case, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.config import Settings
from app.db import Database
from app.models import SubscriptionQuota
from app.models.enums import AccountRole

ANSWERS = ("accept", "reject", "ban", "filter")
REFUSED = "refused"  # WeChat answered 43101 to a message
# An account cannot pile up more than this many (a client reporting "accept" in a loop).
MAX_REMAINING = 50
HINT_MAX = 3  # template ids per wx.requestSubscribeMessage

# What a moment of use is likely to need: template kind → messages.
AFTER_WISH_PLACED = {"wish_update": 3}
AFTER_TASK_ACCEPTED = {"task": 2, "record": 1, "offer": 1}
BY_ROLE: dict[AccountRole, dict[str, int]] = {
    AccountRole.RESIDENT: {"wish_update": 3},
    AccountRole.GRID_WORKER: {"wish_update": 3},
    AccountRole.VOLUNTEER: {"offer": 3, "task": 2, "record": 1},
    AccountRole.COORDINATOR: {"todo": 3},
    AccountRole.ADMIN: {"todo": 1},
}

_TABLE = SubscriptionQuota.metadata.tables["subscription_quotas"]


def _where(user_id: int, template_id: str) -> tuple[object, ...]:
    return (SubscriptionQuota.user_id == user_id, SubscriptionQuota.template_id == template_id)


def take(database: Database, *, user_id: int, template_id: str) -> bool:
    """Take one message of the user's quota for the template; False when none is left."""
    with database.session(write=True) as session, session.begin():
        result = session.execute(
            update(SubscriptionQuota)
            .where(*_where(user_id, template_id), SubscriptionQuota.remaining > 0)  # type: ignore[arg-type]
            .values(remaining=SubscriptionQuota.remaining - 1)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def left(session: Session, *, user_id: int, template_id: str) -> int:
    """What is left (a read: a message takes one with `take`)."""
    found = session.scalar(
        select(SubscriptionQuota.remaining).where(*_where(user_id, template_id))  # type: ignore[arg-type]
    )
    return found or 0


def give_back(database: Database, *, user_id: int, template_id: str) -> None:
    """The message taken was not sent (WeChat did not accept it): the subscription is unused."""
    with database.session(write=True) as session, session.begin():
        session.execute(
            update(SubscriptionQuota)
            .where(*_where(user_id, template_id))  # type: ignore[arg-type]
            .values(remaining=SubscriptionQuota.remaining + 1)
        )


def refused(database: Database, *, user_id: int, template_id: str) -> None:
    """WeChat says the user has no subscription to this template (43101): none is left."""
    with database.session(write=True) as session, session.begin():
        session.execute(
            update(SubscriptionQuota)
            .where(*_where(user_id, template_id))  # type: ignore[arg-type]
            .values(remaining=0, last_result=REFUSED)
        )


def record_answers(session: Session, *, user_id: int, answers: Mapping[str, str]) -> None:
    """The user's answers to one `wx.requestSubscribeMessage`: each "accept" adds one."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    for template_id, answer in sorted(answers.items()):
        added = 1 if answer == "accept" else 0
        statement = insert(_TABLE).values(
            user_id=user_id, template_id=template_id, remaining=added, last_result=answer
        )
        excluded = statement.excluded
        total = _TABLE.c.remaining + excluded.remaining
        # "ban": WeChat has banned the template for this user; nothing can be sent.
        left = 0 if answer == "ban" else case((total > MAX_REMAINING, MAX_REMAINING), else_=total)
        session.execute(
            statement.on_conflict_do_update(
                index_elements=["user_id", "template_id"],
                set_={
                    "remaining": left,
                    "last_result": excluded.last_result,
                    "updated_at": excluded.updated_at,
                },
            )
        )


def remaining(session: Session, *, user_id: int) -> dict[str, tuple[int, str | None]]:
    """template id → (remaining, last answer)."""
    rows = session.execute(
        select(
            SubscriptionQuota.template_id,
            SubscriptionQuota.remaining,
            SubscriptionQuota.last_result,
        ).where(SubscriptionQuota.user_id == user_id)
    )
    return {row.template_id: (row.remaining, row.last_result) for row in rows}


def needs_for_roles(roles: frozenset[AccountRole]) -> dict[str, int]:
    needs: dict[str, int] = {}
    for role in sorted(roles):
        for kind, count in BY_ROLE.get(role, {}).items():
            needs[kind] = max(needs.get(kind, 0), count)
    return needs


def subscribe_hint(
    session: Session, *, actor: Principal, settings: Settings, moment: str
) -> list[str]:
    """The hint carried by the answer to placing a wish ("wish_placed") or accepting a task
    ("task_accepted")."""
    needs = AFTER_WISH_PLACED if moment == "wish_placed" else AFTER_TASK_ACCEPTED
    return hint(session, user_id=actor.user_id, settings=settings, needs=needs)


def hint(
    session: Session, *, user_id: int, settings: Settings, needs: Mapping[str, int]
) -> list[str]:
    """Template ids to ask the user for now: configured, short of what `needs` expects, and
    not banned by WeChat for this user."""
    have = remaining(session, user_id=user_id)
    ids: list[str] = []
    for kind, wanted in needs.items():
        template = settings.wechat_templates.get(kind)
        if template is None or template.id in ids:
            continue
        count, last = have.get(template.id, (0, None))
        if count < wanted and last != "ban":
            ids.append(template.id)
    return ids[:HINT_MAX]
