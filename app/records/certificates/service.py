"""Record certificates (记录证明): whoever recorded, certifies (谁记录谁证明).

A certificate is issued by a unit and covers only the service entries recorded by that unit or a
unit below it. At issue it snapshots the volunteer's name, the credited minutes (the sum of those
entries, corrections included), the number of credited activities, the first and last service
time and a summary of the content; the PDF and the public verification read the snapshot back,
so a certificate says the same thing however the ledger moves on afterwards.

The number is `<issuing unit code>-<issue date>-<8 random base32 characters>`: 40 random bits
per unit and day, so the public verification endpoint cannot be walked by guessing numbers.
"""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from app import clock
from app.auth.principal import Principal
from app.auth.separation import refuse_self
from app.models import Certificate, HoursEntry, OrgUnit, User, Volunteer
from app.org_units.service import acting_unit, get_unit, in_subtree
from app.privacy.masking import is_pseudonym, mask_name
from app.records.certificates.errors import (
    CertificateNotFound,
    IssuingUnitRequired,
    NothingToCertify,
)
from app.records.certificates.schemas import CertificateOut, CertificateVerification, UnitBrief
from app.schemas import hours_of

CONTENT_MAX = 1000  # Certificate.content
NUMBER_PATTERN = re.compile(r"[0-9A-Za-z]{1,12}-[0-9]{8}-[A-Z2-7]{8}", re.ASCII)
NUMBER_ATTEMPTS = 5
# The API prefix is app.main.API_PREFIX (not imported: app.main imports this module).
PDF_PATH = "/api/v1/certificates/{number}/pdf"
VERIFY_PATH = "/api/v1/public/certificates/{number}"


# ---------------------------------------------------------------- helpers


def hours_text(minutes: int) -> str:
    """Hours with up to two decimals and no trailing zeros: 90 → "1.5", 120 → "2"."""
    return f"{minutes / 60:.2f}".rstrip("0").rstrip(".")


def summarise(contents: Sequence[str], limit: int = CONTENT_MAX) -> str:
    """The distinct contents in first-seen order, joined with "；", cut to fit `limit`."""
    distinct = list(dict.fromkeys(c.strip() for c in contents if c.strip()))
    text = "；".join(distinct)
    if len(text) <= limit:
        return text
    suffix = f"等{len(distinct)}项"
    kept: list[str] = []
    used = 0
    for item in distinct:
        extra = len(item) + (1 if kept else 0)
        if used + extra + len(suffix) > limit:
            break
        kept.append(item)
        used += extra
    if not kept:  # one content longer than the limit on its own
        return distinct[0][: limit - len(suffix) - 1] + "…" + suffix
    return "；".join(kept) + suffix


def new_number(unit: OrgUnit, now: datetime) -> str:
    random_part = base64.b32encode(secrets.token_bytes(5)).decode("ascii")  # 8 characters
    return f"{unit.code}-{clock.to_local(now):%Y%m%d}-{random_part}"


def normalise_number(number: str) -> str | None:
    """The number as stored, or None when it cannot be one (the random part is upper case)."""
    number = number.strip()
    head, _, tail = number.rpartition("-")
    candidate = f"{head}-{tail.upper()}"
    return candidate if NUMBER_PATTERN.fullmatch(candidate) else None


# ---------------------------------------------------------------- issuing


@dataclass(frozen=True)
class Snapshot:
    minutes: int
    entry_count: int
    first_service_at: datetime | None
    last_service_at: datetime | None
    content: str


def snapshot(session: Session, *, volunteer_id: int, unit: OrgUnit) -> Snapshot:
    """The volunteer's service recorded by `unit` or its subtree, in one statement (one
    consistent read on every engine).

    Minutes are the sum of every service entry, corrections included (a reversal has negative
    minutes). The count, period and content come from the entries that still stand: positive
    and not reversed.
    """
    recorder = aliased(OrgUnit)
    reversal = aliased(HoursEntry)
    rows = session.execute(
        select(
            HoursEntry.minutes,
            HoursEntry.started_at,
            HoursEntry.ended_at,
            HoursEntry.content,
            HoursEntry.reverses_id,
            reversal.id.label("reversed_by"),
        )
        .join(recorder, recorder.id == HoursEntry.unit_id)
        .outerjoin(reversal, reversal.reverses_id == HoursEntry.id)
        .where(
            HoursEntry.volunteer_id == volunteer_id,
            HoursEntry.category == "service",
            in_subtree(recorder.path, unit.path),
        )
        .order_by(HoursEntry.started_at, HoursEntry.id)
    ).all()
    minutes = sum(row.minutes for row in rows)
    standing = [
        row
        for row in rows
        if row.minutes > 0 and row.reverses_id is None and row.reversed_by is None
    ]
    return Snapshot(
        minutes=minutes,
        entry_count=len(standing),
        first_service_at=min((r.started_at for r in standing), default=None),
        last_service_at=max((r.ended_at or r.started_at for r in standing), default=None),
        content=summarise([r.content for r in standing]),
    )


def _issue(
    session: Session, *, volunteer: Volunteer, unit: OrgUnit, actor: Principal, now: datetime
) -> Certificate:
    facts = snapshot(session, volunteer_id=volunteer.id, unit=unit)
    if facts.minutes <= 0:
        raise NothingToCertify(details={"unit_id": unit.id})
    name = session.scalar(select(User.name).where(User.id == volunteer.user_id))
    assert name is not None
    for _ in range(NUMBER_ATTEMPTS):
        number = new_number(unit, now)
        if session.scalar(select(Certificate.id).where(Certificate.number == number)) is None:
            break
    else:  # 40 random bits per unit and day: not expected to happen
        raise RuntimeError("could not draw an unused certificate number")
    certificate = Certificate(
        number=number,
        volunteer_id=volunteer.id,
        unit_id=unit.id,
        volunteer_name=name,
        minutes=facts.minutes,
        entry_count=facts.entry_count,
        first_service_at=facts.first_service_at,
        last_service_at=facts.last_service_at,
        content=facts.content,
        issued_at=now,
        issued_by_id=actor.user_id,
    )
    session.add(certificate)
    session.flush()
    return certificate


@dataclass(frozen=True)
class Issued:
    """A certificate and its issuing unit (`id` for keyset pagination)."""

    certificate: Certificate
    unit: OrgUnit

    @property
    def id(self) -> int:
        return self.certificate.id


def issuing_unit_for_staff(
    session: Session, *, actor: Principal, station: OrgUnit, unit_id: int | None
) -> OrgUnit:
    """The unit named (which the coordinator must manage), else the coordinator's own unit over
    the volunteer's home station."""
    unit = acting_unit(session=session, actor=actor, station=station, unit_id=unit_id)
    if unit is None:  # an admin without a unit of their own
        raise IssuingUnitRequired()
    return unit


def issue_for_volunteer(
    *,
    session: Session,
    actor: Principal,
    volunteer: Volunteer,
    station: OrgUnit,
    unit_id: int | None,
    now: datetime,
) -> Issued:
    """A coordinator issues a certificate for a volunteer they can see (never for themselves:
    they ask through `issue_for_self`, where the unit, not they, certifies)."""
    refuse_self(session, actor, action="issue_certificate", user_id=volunteer.user_id)
    unit = issuing_unit_for_staff(session, actor=actor, station=station, unit_id=unit_id)
    return Issued(_issue(session, volunteer=volunteer, unit=unit, actor=actor, now=now), unit)


def issue_for_self(*, session: Session, actor: Principal, unit_id: int, now: datetime) -> Issued:
    """A volunteer asks a unit that recorded their service for a certificate."""
    assert actor.volunteer_id is not None
    volunteer = session.get(Volunteer, actor.volunteer_id)
    unit = get_unit(session=session, unit_id=unit_id)
    assert volunteer is not None
    return Issued(_issue(session, volunteer=volunteer, unit=unit, actor=actor, now=now), unit)


# ---------------------------------------------------------------- reading


def find(session: Session, number: str) -> Issued:
    stored = normalise_number(number)
    if stored is None:
        raise CertificateNotFound()
    row = session.execute(
        select(Certificate, OrgUnit)
        .join(OrgUnit, OrgUnit.id == Certificate.unit_id)
        .where(Certificate.number == stored)
    ).one_or_none()
    if row is None:
        raise CertificateNotFound()
    return Issued(row[0], row[1])


def readable(session: Session, *, actor: Principal, number: str) -> Issued:
    """The certificate, for the volunteer it certifies or a coordinator of the issuing unit."""
    found = find(session, number)
    if found.certificate.volunteer_id != actor.volunteer_id and not actor.manages(found.unit.path):
        raise CertificateNotFound()
    return found


def verify(session: Session, number: str) -> CertificateVerification:
    found = find(session, number)
    certificate, unit = found.certificate, found.unit
    return CertificateVerification(
        valid=True,
        number=certificate.number,
        # A deleted account's certificates name its pseudonym: the record stays, the name not.
        volunteer_name="已注销用户"
        if is_pseudonym(certificate.volunteer_name)
        else mask_name(certificate.volunteer_name),
        unit_name=unit.name,
        issued_date=f"{clock.to_local(certificate.issued_at):%Y-%m-%d}",
        hours=hours_of(certificate.minutes),
    )


def list_for_volunteer(
    session: Session, *, volunteer_id: int, before_id: int | None, limit: int
) -> Sequence[Issued]:
    """Newest first, `limit + 1` rows for the page."""
    query = (
        select(Certificate, OrgUnit)
        .join(OrgUnit, OrgUnit.id == Certificate.unit_id)
        .where(Certificate.volunteer_id == volunteer_id)
    )
    if before_id is not None:
        query = query.where(Certificate.id < before_id)
    rows = session.execute(query.order_by(Certificate.id.desc()).limit(limit + 1)).all()
    return [Issued(row[0], row[1]) for row in rows]


def certificate_out(issued: Issued) -> CertificateOut:
    certificate, unit = issued.certificate, issued.unit
    return CertificateOut(
        number=certificate.number,
        volunteer_id=certificate.volunteer_id,
        volunteer_name=certificate.volunteer_name,
        unit=UnitBrief(id=unit.id, name=unit.name),
        minutes=certificate.minutes,
        hours=hours_of(certificate.minutes),
        entry_count=certificate.entry_count,
        first_service_at=certificate.first_service_at,
        last_service_at=certificate.last_service_at,
        content=certificate.content,
        issued_at=certificate.issued_at,
        pdf_path=PDF_PATH.format(number=certificate.number),
        verify_path=VERIFY_PATH.format(number=certificate.number),
    )
