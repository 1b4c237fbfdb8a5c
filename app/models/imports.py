from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.crypto.types import SealedJSON
from app.models.base import Base, IdMixin, TimestampMixin


class BulkImport(IdMixin, TimestampMixin, Base):
    """One upload of the volunteers' or staff sheet into a unit: its progress and its row errors.

    Nothing is half-imported: a file with any row error fails whole and writes no row; a good
    file is written in one transaction (at once, or by the `import.apply` timer for large files,
    which reads the validated rows from `payload` and clears it)."""

    __tablename__ = "imports"
    __table_args__ = (
        CheckConstraint("kind IN ('volunteers', 'staff')", name="kind_known"),
        CheckConstraint(
            "status IN ('validating', 'failed', 'applying', 'done')", name="status_known"
        ),
        CheckConstraint("done BETWEEN 0 AND total", name="done_range"),
        Index("ix_imports_unit_id_created_at", "unit_id", "created_at"),
    )

    kind: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    total: Mapped[int] = mapped_column(Integer, default=0)
    done: Mapped[int] = mapped_column(Integer, default=0)
    # Row errors, [{row, column, code, message}]: messages name the column and the rule, never
    # the value (no phone or ID number is ever copied here).
    errors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    # The validated rows waiting for the background apply (phones, ID numbers, password
    # hashes): sealed, and cleared once applied or failed.
    payload: Mapped[list[Any] | None] = mapped_column(SealedJSON("imports.payload"))
    finished_at: Mapped[datetime | None]
