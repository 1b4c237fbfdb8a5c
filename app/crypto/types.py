"""Column types that keep personal data sealed in the database and plain in Python.

`user.phone = "13800001234"` stores `enc1:...`; reading `user.phone` gives the number back.
The sealing is randomised, so a sealed column cannot be compared in SQL: comparing one (other
than with NULL) raises at once instead of silently matching nothing. Phone lookups go through
the keyed hash (`auth.users.user_by_phone`).
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Text, TypeDecorator
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import operators

from app.crypto.sealing import keyring

Point = tuple[float, float]


class SealedColumnComparison(TypeError):
    pass


class SealedType(TypeDecorator[Any]):
    """Base: a value sealed under `context` (the column's name, bound into the ciphertext)."""

    impl = Text
    cache_ok = True

    def __init__(self, context: str) -> None:
        super().__init__()
        self.context = context

    class comparator_factory(TypeDecorator.Comparator[Any]):
        def operate(self, op: Any, *other: Any, **kwargs: Any) -> Any:
            if op in (operators.is_, operators.is_not) or (
                op in (operators.eq, operators.ne) and other and other[0] is None
            ):
                return super().operate(op, *other, **kwargs)
            raise SealedColumnComparison(
                "sealed columns cannot be compared in SQL (each sealing is different); "
                "look phones up with auth.users.user_by_phone"
            )

        def reverse_operate(self, op: Any, other: Any, **kwargs: Any) -> Any:
            return self.operate(op, other, **kwargs)

    def dump(self, value: Any) -> str:
        raise NotImplementedError

    def load(self, text: str) -> Any:
        raise NotImplementedError

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return keyring().encrypt(self.dump(value), self.context)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        return self.load(keyring().decrypt(value, self.context))


class SealedText(SealedType):
    cache_ok = True

    def dump(self, value: Any) -> str:
        if not isinstance(value, str):
            raise TypeError(f"{self.context}: text expected")
        return value

    def load(self, text: str) -> str:
        return text


class SealedPoint(SealedType):
    """A (lat, lng) pair, exact to the float."""

    cache_ok = True

    def dump(self, value: Any) -> str:
        lat, lng = value
        return f"{float(lat)!r},{float(lng)!r}"

    def load(self, text: str) -> Point:
        lat, _, lng = text.partition(",")
        return float(lat), float(lng)


class SealedJSON(SealedType):
    """A JSON document (notification payloads)."""

    cache_ok = True

    def dump(self, value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)

    def load(self, text: str) -> Any:
        return json.loads(text)
