"""Errors of the points ledger."""

from __future__ import annotations

from app.errors import AppError, Conflict


class InsufficientPoints(Conflict):
    code = "INSUFFICIENT_POINTS"
    message = "积分余额不足"


class IdempotencyKeyReused(AppError):
    # The same code and status as a reused Idempotency-Key header (app/idempotency.py).
    status_code = 422
    code = "IDEMPOTENCY_KEY_REUSED"
    message = "该幂等键已用于另一笔不同的兑换"
