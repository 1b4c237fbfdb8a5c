from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.delivery import channels
from tests.dispatch.conftest import frozen

__all__ = ["frozen"]


@pytest.fixture
def channel() -> Iterator[dict[str, channels.Handler]]:
    """Register test channels for one test; the registry is restored afterwards."""
    saved = dict(channels._HANDLERS)
    added: dict[str, channels.Handler] = {}

    class Registry(dict[str, channels.Handler]):
        def __setitem__(self, name: str, handler: channels.Handler) -> None:
            channels.register(name, handler)
            super().__setitem__(name, handler)

    registry = Registry(added)
    try:
        yield registry
    finally:
        channels._HANDLERS.clear()
        channels._HANDLERS.update(saved)
