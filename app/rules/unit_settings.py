"""Settings a unit inherits: its own, else its nearest ancestor's, else the service's defaults.

Dispatch policies and record rules are both kept this way: one row per unit that sets anything,
a column per setting (NULL: inherit). Reading the settings in force for a unit reads the rows of
its path at once and applies them root first, so the nearest unit's values win.
"""

from __future__ import annotations

from dataclasses import asdict, fields, replace
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.cache import TTLCache
from app.models import OrgUnit

T = TypeVar("T")


class InheritedSettings(Generic[T]):
    """Reads (with a short per-process cache) and writes one kind of inherited settings."""

    # Seconds a unit's settings are reused in this process (`cache.ttl`; 0 turns it off).
    cache_seconds: float = 30.0

    def __init__(self, model: type[Any], defaults: T) -> None:
        self.model = model
        self.defaults = defaults
        self.names = [f.name for f in fields(defaults)]  # type: ignore[arg-type]
        self.cache: TTLCache[int, T] = TTLCache(self.cache_seconds)

    def forget(self) -> None:
        self.cache.clear()

    def for_unit(self, session: Session, unit: OrgUnit) -> T:
        hit = self.cache.get(unit.id)
        if hit is not None:
            return hit
        settings = self._read(session, unit)
        self.cache.put(unit.id, settings)
        return settings

    def _read(self, session: Session, unit: OrgUnit) -> T:
        """The settings in force, read from the database now."""
        codes = unit.path.strip("/").split("/")
        rows = session.execute(
            select(OrgUnit.code, self.model)
            .join(self.model, self.model.org_unit_id == OrgUnit.id)
            .where(OrgUnit.code.in_(codes))
        ).all()
        by_code = {code: row for code, row in rows}
        settings = self.defaults
        for code in codes:  # root first: the nearest unit's settings are applied last
            row = by_code.get(code)
            if row is None:
                continue
            changes = {n: getattr(row, n) for n in self.names if getattr(row, n) is not None}
            settings = replace(settings, **changes)  # type: ignore[type-var]
        return settings

    def own(self, session: Session, unit: OrgUnit) -> dict[str, Any]:
        """The values the unit sets itself (NULL where it inherits)."""
        row = self._row(session, unit)
        return {n: getattr(row, n) for n in self.names} if row is not None else {}

    def effective(self, session: Session, unit: OrgUnit) -> dict[str, Any]:
        """The settings in force as stored now (not from this process's cache)."""
        return asdict(self._read(session, unit))  # type: ignore[call-overload]

    def save(self, session: Session, unit: OrgUnit, body: BaseModel) -> None:
        """Set the fields given in `body` on the unit's own row (a null clears one)."""
        row = self._row(session, unit)
        now = clock.now()
        if row is None:
            row = self.model(org_unit_id=unit.id, created_at=now, updated_at=now)
            session.add(row)
        for name, value in body.model_dump(exclude_unset=True).items():
            setattr(row, name, value)
        row.updated_at = now
        session.flush()
        self.forget()

    def _row(self, session: Session, unit: OrgUnit) -> Any:
        return session.scalars(
            select(self.model).where(self.model.org_unit_id == unit.id)
        ).one_or_none()
