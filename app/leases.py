"""Heartbeats for the fenced leases of the workers (timers in `app.jobs.store`, messages in
`app.delivery.engine`): while a worker holds claims, a thread renews them every third of the
lease, so long work never loses its claim to another worker; a worker that dies stops
renewing, and its claims are taken over once the lease runs out."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import structlog

log = structlog.get_logger()


@contextmanager
def heartbeat(renew: Callable[[], object], *, every: float, name: str) -> Iterator[None]:
    """Call `renew` every `every` seconds in a thread until the block ends. A failed renewal is
    logged and tried again at the next beat (the lease still has two thirds to run)."""
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(every):
            try:
                renew()
            except Exception:
                log.warning("lease.heartbeat_failed", worker=name, exc_info=True)

    thread = threading.Thread(target=beat, name=f"heartbeat-{name}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(every + 5)
