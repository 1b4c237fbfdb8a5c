"""One worker process: the timers (`jobs.scheduler.Scheduler`) and the deliveries
(`delivery.engine.Deliverer`) side by side, as `wenming worker` runs them. Any number may run at
once, beside web servers started with SCHEDULER_ENABLED=false.

SIGTERM (or SIGINT) stops it gracefully: the timer step and the message in hand are finished,
the claims not started are given back at once. A worker killed outright (SIGKILL) gives nothing
back: its claims are taken over by the other workers once their lease (WORKER_LEASE_SECONDS)
has run out.
"""

from __future__ import annotations

import signal
import threading
from typing import Any

import structlog

from app import wiring as _wiring  # noqa: F401 - every domain's handlers registered
from app.config import Settings
from app.db import Database
from app.delivery.engine import Deliverer
from app.jobs.scheduler import Scheduler

log = structlog.get_logger()


class Worker:
    def __init__(self, database: Database, settings: Settings, *, interval: float) -> None:
        self.scheduler = Scheduler(database, interval=interval, settings=settings)
        self.deliverers = [
            Deliverer(database, settings=settings) for _ in range(settings.delivery_concurrency)
        ]

    @property
    def name(self) -> str:
        return self.scheduler.worker

    def request_stop(self, *_args: Any) -> None:
        self.scheduler.request_stop()
        for deliverer in self.deliverers:
            deliverer.request_stop()

    def run(self) -> None:
        """Run until asked to stop (signals are handled when called from the main thread)."""
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self.request_stop)
            signal.signal(signal.SIGINT, self.request_stop)
        for deliverer in self.deliverers:
            deliverer.start()
        try:
            self.scheduler.run_forever()
        finally:
            self.request_stop()
            for deliverer in self.deliverers:
                deliverer.stop(timeout=deliverer.settings.worker_lease_seconds)
        log.info("worker.stopped", worker=self.name)
