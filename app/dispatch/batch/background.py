"""A reviewed plan too large to send within the request (more than `batch_background_offers`
lines): the request checks every line as `apply_plan` does and records them (`BatchApply`);
the `dispatch.batch_apply` timer then sends `batch_apply_chunk` lines per transaction, each
slice committed with its progress, and sets itself again until the last line is sent (a
continuing kind: the scheduler runs the next slice in the same pass). The client polls
`GET /dispatch-plan/applies/{id}` for done/total and, once done, every line's outcome, in the
same shape as a plan applied within the request."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import structlog
from sqlalchemy.orm import Session

from app import clock
from app.auth.principal import Principal, load_principal
from app.config import current_settings
from app.dispatch.batch.apply import AppliedItem, check_plan, send_offers
from app.dispatch.batch.errors import BatchApplyNotFound
from app.errors import AppError
from app.jobs import store
from app.jobs.registry import register
from app.models import BatchApply, OrgUnit
from app.models.enums import WishStatus
from app.org_units.errors import OrgUnitNotFound

log = structlog.get_logger()

APPLY = "dispatch.batch_apply"
APPLYING = "applying"
DONE = "done"


def start(
    session: Session,
    *,
    unit: OrgUnit,
    actor: Principal,
    assignments: Sequence[tuple[int, int]],
    expires_in_minutes: int | None,
    note: str,
) -> BatchApply:
    """Check every line now (a line that cannot go out is decided at once) and leave the
    sending to the timer."""
    items = check_plan(session, unit=unit, actor=actor, assignments=assignments)
    now = clock.now()
    lines = [line_of(item) for item in items]
    decided = sum(_decided(line) for line in lines)
    record = BatchApply(
        unit_id=unit.id,
        actor_id=actor.user_id,
        status=APPLYING,
        total=len(lines),
        done=decided,
        sent=0,
        failed=decided,
        items=lines,
        options={"expires_in_minutes": expires_in_minutes, "note": note},
        created_at=now,
        updated_at=now,
    )
    session.add(record)
    session.flush()
    if decided == len(lines):
        _finish(record, now)
    else:
        store.set_timer(session, kind=APPLY, subject_id=record.id, run_at=now, now=now)
    log.info(
        "dispatch.batch_apply_started",
        apply_id=record.id,
        unit_id=unit.id,
        actor_id=actor.user_id,
        total=record.total,
    )
    return record


def run(session: Session, subject_id: int, now: datetime) -> None:
    """The `dispatch.batch_apply` timer: send the next slice of lines in the job's transaction,
    then set the timer again while lines remain. Sent as the coordinator who applied the plan;
    one who no longer manages the unit sends nothing more (the remaining lines fail)."""
    record = session.get(BatchApply, subject_id)
    if record is None or record.status != APPLYING:
        return
    lines: list[dict[str, Any]] = [dict(line) for line in record.items]
    waiting = [index for index, line in enumerate(lines) if not _decided(line)]
    chunk = waiting[: current_settings().batch_apply_chunk]
    unit = session.get(OrgUnit, record.unit_id)
    actor = load_principal(session, record.actor_id)
    items = [
        AppliedItem(lines[i]["wish_id"], lines[i]["volunteer_id"], version=lines[i]["version"])
        for i in chunk
    ]
    if unit is None or actor is None or not actor.manages(unit.path):
        for item in items:
            item.error = OrgUnitNotFound()
    else:
        options = record.options or {}
        send_offers(
            session,
            actor=actor,
            items=items,
            expires_in_minutes=options.get("expires_in_minutes"),
            note=options.get("note") or "",
        )
    for index, item in zip(chunk, items, strict=True):
        lines[index] = line_of(item)
    record.items = lines
    record.done += len(chunk)
    record.sent += sum(item.ok for item in items)
    record.failed += sum(not item.ok for item in items)
    record.updated_at = now
    if len(waiting) > len(chunk):
        session.flush()
        store.set_timer(session, kind=APPLY, subject_id=record.id, run_at=now, now=now)
    else:
        _finish(record, now)
        log.info(
            "dispatch.batch_applied",
            apply_id=record.id,
            unit_id=record.unit_id,
            actor_id=record.actor_id,
            sent=record.sent,
            failed=record.failed,
        )
    session.flush()


def _finish(record: BatchApply, now: datetime) -> None:
    record.status = DONE
    record.options = None
    record.finished_at = now
    record.updated_at = now


def line_of(item: AppliedItem) -> dict[str, Any]:
    """A line as it is stored and answered: its ids, the version checked, its outcome."""
    error = item.error
    return {
        "wish_id": item.wish_id,
        "volunteer_id": item.volunteer_id,
        "version": item.version,
        "status": WishStatus(item.status).value if item.status is not None else None,
        "error": None if error is None else _error(error),
    }


def _error(error: AppError) -> dict[str, Any]:
    # Through JSON once, so enum members and tuples are stored as plain strings and lists.
    details = json.loads(json.dumps(error.details or {}, default=str))
    return {"code": error.code, "message": error.message, "details": details}


def _decided(line: dict[str, Any]) -> bool:
    return line["error"] is not None or line["status"] is not None


def line_status(line: dict[str, Any]) -> WishStatus | None:
    return WishStatus(line["status"]) if line["status"] is not None else None


def visible(session: Session, *, actor: Principal, apply_id: int) -> BatchApply:
    """A background apply of a unit the caller manages; 404 otherwise."""
    record = session.get(BatchApply, apply_id)
    if record is None:
        raise BatchApplyNotFound()
    unit = session.get(OrgUnit, record.unit_id)
    if unit is None or not actor.manages(unit.path):
        raise BatchApplyNotFound()
    return record


register(APPLY, run, continuing=True)
