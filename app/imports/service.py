"""An upload from start to finish: the file read and every row checked within the request; a
file with any row error is recorded `failed` with its errors and writes nothing; a good file is
written whole in one transaction, within the request when it is small (and always for staff,
whose initial passwords are never stored), else by the `import.apply` timer from the sealed
validated rows while the client polls `GET /imports/{id}`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import clock
from app.accounts import service as accounts
from app.auth.principal import Principal
from app.auth.security import hash_password
from app.auth.users import find_or_create_resident, user_by_phone
from app.config import current_settings
from app.errors import AppError
from app.imports import validate
from app.imports.columns import read_rows
from app.imports.errors import ImportNotFound
from app.imports.schemas import ImportKind, ImportOut, ImportStatus, RowError
from app.jobs import store
from app.jobs.registry import register
from app.models import BulkImport, OrgUnit
from app.models.enums import AccountRole
from app.org_units.service import managed_unit
from app.volunteers import service as volunteers
from app.volunteers.schemas import VolunteerRegister

APPLY = "import.apply"
_REGISTRATION_FIELDS = frozenset(VolunteerRegister.model_fields)


class RowRefused(Exception):
    """A row the services refused while writing: the whole file rolls back."""

    def __init__(self, row: int, code: str, message: str, column: str | None = None) -> None:
        super().__init__(code)
        self.error = {"row": row, "column": column, "code": code, "message": message}


def start(
    *, session: Session, actor: Principal, unit_id: int, kind: ImportKind, data: bytes
) -> BulkImport:
    """Check the file and every row; then fail, write, or leave the writing to the timer."""
    settings = current_settings()
    root = managed_unit(session=session, actor=actor, unit_id=unit_id)
    staff = kind == ImportKind.STAFF
    max_rows = settings.import_staff_max_rows if staff else settings.import_max_rows
    rows = read_rows(data, kind, max_rows=max_rows, max_bytes=settings.import_max_bytes)
    now = clock.now()
    record = BulkImport(
        kind=kind.value,
        unit_id=root.id,
        actor_id=actor.user_id,
        status=ImportStatus.VALIDATING.value,
        total=len(rows),
        done=0,
        errors=[],
        error_count=0,
        created_at=now,
        updated_at=now,
    )
    session.add(record)
    session.flush()
    if staff:
        checked = validate.staff(session, actor=actor, root=root, rows=rows)
    else:
        checked = validate.volunteers(session, root=root, rows=rows)
    if checked.errors:
        _fail(session, record, checked.errors)
    elif staff or len(rows) <= settings.import_background_rows:
        apply(session, record, checked.rows)
    else:
        record.status = ImportStatus.APPLYING.value
        record.payload = checked.rows
        session.flush()
        store.set_timer(session, kind=APPLY, subject_id=record.id, run_at=now, now=now)
    return record


def _fail(session: Session, record: BulkImport, errors: list[dict[str, Any]]) -> None:
    record.status = ImportStatus.FAILED.value
    record.errors = errors[: current_settings().import_max_errors]
    record.error_count = len(errors)
    record.done = 0
    record.payload = None
    record.finished_at = clock.now()
    session.flush()


def apply(session: Session, record: BulkImport, rows: list[dict[str, Any]]) -> None:
    """Write every row in a savepoint of the current transaction: all of them, or (a row
    refused after the file was checked, e.g. a phone registered meanwhile) none."""
    record.status = ImportStatus.APPLYING.value
    session.flush()
    write = _staff_row if record.kind == ImportKind.STAFF else _volunteer_row
    current = 0
    try:
        with session.begin_nested():
            for row in rows:
                current = int(row["row"])
                write(session, row, record.actor_id)
    except RowRefused as refused:
        _fail(session, record, [refused.error])
        return
    except AppError as exc:
        _fail(
            session,
            record,
            [{"row": current, "column": None, "code": exc.code, "message": exc.message}],
        )
        return
    except IntegrityError:
        _fail(
            session,
            record,
            [
                {
                    "row": current,
                    "column": None,
                    "code": "CONFLICT",
                    "message": "数据与现有记录冲突（可能刚被他人登记），请重新上传",
                }
            ],
        )
        return
    record.status = ImportStatus.DONE.value
    record.done = record.total
    record.payload = None
    record.finished_at = clock.now()
    session.flush()


def _volunteer_row(session: Session, row: dict[str, Any], actor_id: int) -> None:
    if user_by_phone(session, row["phone"]) is not None:
        raise RowRefused(row["row"], "PHONE_TAKEN", "该手机号已有账号，不能重复导入", "手机号")
    user = find_or_create_resident(session=session, phone=row["phone"], name=row["name"])
    body = VolunteerRegister.model_validate(
        {key: value for key, value in row.items() if key in _REGISTRATION_FIELDS}
    )
    volunteers.create_profile(session=session, user_id=user.id, body=body, actor_id=actor_id)


def _staff_row(session: Session, row: dict[str, Any], _actor_id: int) -> None:
    # Staff files are small (IMPORT_STAFF_MAX_ROWS): each initial password is hashed here.
    user = accounts.create_staff_user(
        session=session,
        name=row["name"],
        username=row["username"],
        password=row["password"],
        password_hash=hash_password(row["password"]),
        phone=row["phone"],
        must_change_password=True,
    )
    accounts.grant_role(
        session=session, user_id=user.id, role=AccountRole(row["role"]), org_unit_id=row["unit_id"]
    )


def run(session: Session, subject_id: int, _now: datetime) -> None:
    """The `import.apply` timer: write a checked file's rows, in the job's transaction."""
    record = session.get(BulkImport, subject_id)
    if record is None or record.status != ImportStatus.APPLYING.value:
        return
    apply(session, record, list(record.payload or []))


def visible(*, session: Session, actor: Principal, import_id: int) -> BulkImport:
    """An import its author, or staff managing its unit, may see; 404 otherwise."""
    record = session.get(BulkImport, import_id)
    if record is None:
        raise ImportNotFound()
    if record.actor_id != actor.user_id:
        unit = session.get(OrgUnit, record.unit_id)
        if unit is None or not actor.manages(unit.path):
            raise ImportNotFound()
    return record


def import_out(record: BulkImport) -> ImportOut:
    return ImportOut(
        id=record.id,
        status=ImportStatus(record.status),
        kind=ImportKind(record.kind),
        unit_id=record.unit_id,
        total=record.total,
        done=record.done,
        error_count=record.error_count,
        errors=[RowError.model_validate(error) for error in record.errors or []],
        created_at=record.created_at,
        finished_at=record.finished_at,
    )


register(APPLY, run)
