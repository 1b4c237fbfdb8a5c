"""A volunteer's record, exported for upload to the national volunteer service system.

The layout is documented in docs/record-export.md. JSON carries the regulation's five kinds of
record (basic information, service, training, awards, evaluations); CSV carries the ledger, one
row per entry, with the same fields as the JSON entries.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.models import Attendance, OrgUnit, User, Volunteer, Wish
from app.records.hours.ledger import entries, sums
from app.schemas import hours_of

FORMAT = "wenming-volunteer-record/1"
CSV_COLUMNS = [
    "record_kind",
    "entry_id",
    "started_at",
    "ended_at",
    "hours",
    "content",
    "service_category",
    "recording_unit_code",
    "recording_unit_name",
    "verification",
    "reverses_entry_id",
    "replaces_entry_id",
    "reason",
]


def _local(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    return clock.to_local(moment).isoformat(timespec="minutes")


def record(session: Session, volunteer: Volunteer) -> dict[str, Any]:
    user = session.get(User, volunteer.user_id)
    station = session.get(OrgUnit, volunteer.home_station_id)
    assert user is not None and station is not None
    kinds: dict[str, list[dict[str, Any]]] = {
        "service": [],
        "training": [],
        "award": [],
        "evaluation": [],
    }
    ledger_rows = entries(session, volunteer.id)
    for entry, unit in ledger_rows:
        kinds[entry.category].append(
            {
                "entry_id": entry.id,
                "started_at": _local(entry.started_at),
                "ended_at": _local(entry.ended_at),
                "hours": hours_of(entry.minutes),
                "content": entry.content,
                "service_category": entry.category_code,
                "recording_unit_code": unit.code,
                "recording_unit_name": unit.name,
                "verification": entry.verification,
                "reverses_entry_id": entry.reverses_id,
                "replaces_entry_id": entry.replaces_id,
                "reason": entry.reason,
            }
        )
    rated = session.execute(
        select(Wish.id, Wish.rating, Wish.rated_at, Wish.category_code)
        .join(Attendance, Attendance.wish_id == Wish.id)
        .where(Attendance.volunteer_id == volunteer.id, Wish.rating.is_not(None))
        .order_by(Wish.rated_at)
    ).all()
    totals = sums(ledger_rows)
    return {
        "format": FORMAT,
        "exported_at": _local(clock.now()),
        "basic": {
            "volunteer_id": volunteer.id,
            "name": user.name,
            "phone": user.phone,
            "id_number": volunteer.id_number,
            "birth_date": volunteer.birth_date.isoformat() if volunteer.birth_date else None,
            "home_unit_code": station.code,
            "home_unit_name": station.name,
            "registered_at": _local(volunteer.created_at),
        },
        "service": kinds["service"],
        "training": kinds["training"],
        "awards": kinds["award"],
        "evaluations": [
            *kinds["evaluation"],
            *(
                {"wish_id": wid, "rating": score, "rated_at": _local(at), "service_category": c}
                for wid, score, at, c in rated
            ),
        ],
        "totals": {
            "service_hours": hours_of(totals.get("service", 0)),
            "training_hours": hours_of(totals.get("training", 0)),
        },
    }


def json_bytes(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2).encode()


def as_csv(data: dict[str, Any]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for kind, key in (("service", "service"), ("training", "training"), ("award", "awards")):
        for row in data[key]:
            writer.writerow({"record_kind": kind, **row})
    for row in data["evaluations"]:
        if "entry_id" in row:
            writer.writerow({"record_kind": "evaluation", **row})
    # UTF-8 with BOM so that spreadsheet programs read the Chinese correctly.
    return "\ufeff" + buffer.getvalue()
