"""A loop that runs in a background thread of this process and stops when asked: the timer
runner and the delivery threads are both one."""

from __future__ import annotations

import threading


class BackgroundLoop:
    """Subclasses set `thread_name` and write `run_forever`, which returns once `_stop` is set
    (waiting on it between passes)."""

    thread_name = "wenming-loop"

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_forever(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        """Run in a background thread of this process."""
        self._stop.clear()
        self._thread = threading.Thread(target=self.run_forever, name=self.thread_name, daemon=True)
        self._thread.start()

    def request_stop(self) -> None:
        self._stop.set()

    def stop(self, timeout: float = 10.0) -> None:
        self.request_stop()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
