"""The load generator: worker processes, each running threads with keep-alive connections.

Each thread owns one TCP connection and sends pre-built HTTP/1.1 requests back to back
(closed loop: one request in flight per connection, so `concurrency` = connections). The
response parser reads only the status line, `content-length` and the body, which keeps the
client's CPU per request small: the machine has two cores shared by the server, the database and
this client. Latency is measured from just before `sendall` to the last byte of the body.

Timing: every process waits for the same monotonic start time (CLOCK_MONOTONIC is system-wide
on Linux), runs a warm-up whose requests are not recorded, then records every request that
*starts* inside the measured window. Requests that fail at the socket level count as status 0.

Two kinds of work:
- `cycle`: each thread loops over its own list of requests (read endpoints);
- `once`: the requests are groups (one group per volunteer, sent in order by one thread); the
  threads of a process share a queue of groups and every request is sent exactly once (accept).
  A thread with nothing left stops; `exhausted` tells the caller the pool ran dry.
"""

from __future__ import annotations

import collections
import contextlib
import multiprocessing as mp
import os
import signal
import socket
import threading
import time
from array import array
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from typing import Any


def build_request(
    method: str, path: str, host: str, token: str | None = None, body: bytes = b""
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Accept: application/json"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    if method in ("POST", "PUT", "PATCH") or body:
        lines.append("Content-Type: application/json")
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


class _Conn:
    """One keep-alive connection with a minimal HTTP/1.1 response reader."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.sock: socket.socket | None = None
        self.buf = b""

    def _connect(self) -> socket.socket:
        sock = socket.create_connection((self.host, self.port), timeout=60)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock, self.buf = sock, b""
        return sock

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            finally:
                self.sock = None

    def request(self, raw: bytes) -> tuple[int, bytes]:
        """Send one request and read the whole response: (status, body)."""
        for attempt in range(2):
            sock = self.sock or self._connect()
            try:
                sock.sendall(raw)
                return self._read(sock)
            except (ConnectionError, TimeoutError, OSError):
                self.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def _read(self, sock: socket.socket) -> tuple[int, bytes]:
        buf = self.buf
        while True:
            end = buf.find(b"\r\n\r\n")
            if end >= 0:
                break
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed before the response head")
            buf += chunk
        head = buf[:end]
        status = int(head[9:12])
        lower = head.lower()
        i = lower.find(b"\r\ncontent-length:")
        if i < 0:
            # Not produced by this server (it always sends a length); give up the connection.
            self.buf = b""
            self.close()
            return status, b""
        j = lower.find(b"\r\n", i + 2)
        length = int(head[i + 17 : j if j >= 0 else len(head)].strip())
        start = end + 4
        while len(buf) - start < length:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed in the middle of a body")
            buf += chunk
        body = buf[start : start + length]
        self.buf = buf[start + length :]
        if b"\r\nconnection: close" in lower:
            self.close()
        return status, body


@dataclass
class PhaseResult:
    latencies_s: array = field(default_factory=lambda: array("d"))
    statuses: array = field(default_factory=lambda: array("H"))
    warmup_requests: int = 0
    warmup_errors: int = 0
    error_samples: list[str] = field(default_factory=list)
    exhausted: bool = False
    client_cpu_s: float = 0.0
    ok_total: int = 0  # 2xx responses, warm-up included (accept: wishes taken)

    def merge(self, other: PhaseResult) -> None:
        self.latencies_s.extend(other.latencies_s)
        self.statuses.extend(other.statuses)
        self.warmup_requests += other.warmup_requests
        self.warmup_errors += other.warmup_errors
        self.error_samples.extend(other.error_samples[: max(0, 5 - len(self.error_samples))])
        self.exhausted = self.exhausted or other.exhausted
        self.client_cpu_s += other.client_cpu_s
        self.ok_total += other.ok_total


def _thread_loop(
    conn: _Conn,
    next_request: Any,
    t_measure: float,
    t_end: float,
    out: PhaseResult,
    lock: threading.Lock,
) -> None:
    lat = array("d")
    st = array("H")
    warm = warm_err = ok = 0
    samples: list[str] = []
    exhausted = False
    clock = time.monotonic
    try:
        while True:
            raw = next_request()
            if raw is None:
                exhausted = clock() < t_end
                break
            t0 = clock()
            if t0 >= t_end:
                break
            try:
                status, body = conn.request(raw)
            except OSError as exc:
                status, body = 0, repr(exc).encode()
            t1 = clock()
            if 200 <= status < 300:
                ok += 1
            elif len(samples) < 3:
                first_line = raw.split(b"\r\n", 1)[0].decode("latin-1")
                samples.append(f"{status} {first_line}: {body[:300].decode('utf-8', 'replace')}")
            if t0 < t_measure:
                warm += 1
                warm_err += not (200 <= status < 300)
            else:
                lat.append(t1 - t0)
                st.append(status)
    finally:
        conn.close()
    with lock:
        out.latencies_s.extend(lat)
        out.statuses.extend(st)
        out.warmup_requests += warm
        out.warmup_errors += warm_err
        out.ok_total += ok
        out.error_samples.extend(samples[: max(0, 5 - len(out.error_samples))])
        out.exhausted = out.exhausted or exhausted


def _process_main(
    host: str,
    port: int,
    mode: str,
    work: list[Any],
    threads: int,
    t_start: float,
    t_measure: float,
    t_end: float,
    pipe: Connection,
) -> None:
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    cpu0 = time.process_time()
    out = PhaseResult()
    lock = threading.Lock()
    conns = [_Conn(host, port) for _ in range(threads)]
    makers = []
    if mode == "cycle":
        # work: one list of raw requests per thread
        for reqs in work:

            def make(reqs: list[bytes] = reqs) -> Any:
                state = {"i": 0}

                def next_request() -> bytes:
                    i = state["i"]
                    state["i"] = i + 1
                    return reqs[i % len(reqs)]

                return next_request

            makers.append(make())
    else:
        # work: groups of raw requests, shared by the threads of this process
        groups: collections.deque[list[bytes]] = collections.deque(work)

        def make_once() -> Any:
            mine: collections.deque[bytes] = collections.deque()

            def next_request() -> bytes | None:
                if not mine:
                    try:
                        mine.extend(groups.popleft())
                    except IndexError:
                        return None
                return mine.popleft()

            return next_request

        makers = [make_once() for _ in range(threads)]
    # Connect before the start so that connection set-up is not measured.
    for conn in conns:
        with contextlib.suppress(OSError):
            conn._connect()
    delay = t_start - time.monotonic()
    if delay > 0:
        time.sleep(delay)
    workers = [
        threading.Thread(
            target=_thread_loop, args=(conns[i], makers[i], t_measure, t_end, out, lock)
        )
        for i in range(threads)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    out.client_cpu_s = time.process_time() - cpu0
    pipe.send(out)
    pipe.close()


def run_phase(
    *,
    host: str,
    port: int,
    mode: str,
    work: list[Any],
    concurrency: int,
    processes: int,
    warmup_s: float,
    duration_s: float,
) -> PhaseResult:
    """Run one phase. `work`: cycle mode, a list of raw requests (spread over the threads);
    once mode, a list of groups of raw requests (spread over the processes)."""
    processes = max(1, min(processes, concurrency))
    per_proc = [concurrency // processes + (i < concurrency % processes) for i in range(processes)]
    chunks: list[list[Any]] = []
    if mode == "cycle":
        thread_lists: list[list[bytes]] = [[] for _ in range(concurrency)]
        for i, raw in enumerate(work):
            thread_lists[i % concurrency].append(raw)
        # a thread with no requests of its own borrows the whole list, rotated
        for i, lst in enumerate(thread_lists):
            if not lst:
                thread_lists[i] = work[i % len(work) :] + work[: i % len(work)]
        k = 0
        for n in per_proc:
            chunks.append(thread_lists[k : k + n])
            k += n
    else:
        for p in range(processes):
            chunks.append(work[p::processes])
    ctx = mp.get_context("fork")
    t_start = time.monotonic() + 0.3 + 0.05 * processes
    t_measure = t_start + warmup_s
    t_end = t_measure + duration_s
    procs = []
    pipes = []
    for p in range(processes):
        recv, send = ctx.Pipe(duplex=False)
        proc = ctx.Process(
            target=_process_main,
            args=(host, port, mode, chunks[p], per_proc[p], t_start, t_measure, t_end, send),
            daemon=True,
        )
        proc.start()
        send.close()
        procs.append(proc)
        pipes.append(recv)
    total = PhaseResult()
    try:
        for recv, proc in zip(pipes, procs, strict=True):
            try:
                part: PhaseResult = recv.recv()
            except EOFError as exc:
                raise RuntimeError(f"load process {proc.pid} died") from exc
            total.merge(part)
        for proc in procs:
            proc.join(timeout=10)
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
                proc.join(timeout=5)
    return total


# ---------------------------------------------------------------- a null server for calibration

_NULL_RESPONSE = (
    b'HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 11\r\n\r\n{"id": 123}'
)


def null_server(port_pipe: Connection) -> None:
    """A minimal asyncio HTTP server that answers every request at once (client calibration)."""
    import asyncio

    signal.signal(signal.SIGTERM, signal.SIG_DFL)

    class Proto(asyncio.Protocol):
        def connection_made(self, transport: Any) -> None:
            self.transport = transport
            self.buf = b""

        def data_received(self, data: bytes) -> None:
            self.buf += data
            n = self.buf.count(b"\r\n\r\n")
            if n:
                self.buf = self.buf[self.buf.rfind(b"\r\n\r\n") + 4 :]
                self.transport.write(_NULL_RESPONSE * n)

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(Proto, "127.0.0.1", 0, backlog=1024)
        port_pipe.send(server.sockets[0].getsockname()[1])
        port_pipe.close()
        await server.serve_forever()

    asyncio.run(main())


def start_null_server() -> tuple[Any, int]:
    ctx = mp.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=null_server, args=(send,), daemon=True)
    proc.start()
    send.close()
    port = int(recv.recv())
    return proc, port


def cpu_seconds(pids: list[int]) -> dict[int, float]:
    """utime + stime of each of these processes that is still there, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    out: dict[int, float] = {}
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            out[pid] = (int(fields[11]) + int(fields[12])) / tick
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
    return out


def cpu_delta(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between two samples (processes born in between count from zero)."""
    return sum(t - before.get(pid, 0.0) for pid, t in after.items())


def postgres_backends(database: str) -> list[int]:
    """PostgreSQL backend processes connected to this database (by their process title)."""
    found = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                title = f.read()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
        if title.startswith(b"postgres: ") and f" {database} ".encode() in title:
            found.append(int(name))
    return found


def descendants(pid: int) -> list[int]:
    """The process and all its descendants (uvicorn's supervisor and workers)."""
    children: dict[int, list[int]] = collections.defaultdict(list)
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (FileNotFoundError, ProcessLookupError, IndexError, ValueError):
            continue
        children[ppid].append(int(name))
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children.get(p, []))
    return found


def machine_busy() -> tuple[float, float]:
    """(busy seconds, total seconds) of all CPUs since boot, from /proc/stat."""
    tick = os.sysconf("SC_CLK_TCK")
    with open("/proc/stat") as f:
        parts = [int(x) for x in f.readline().split()[1:]]
    idle = parts[3] + (parts[4] if len(parts) > 4 else 0)
    total = sum(parts[:8])
    return (total - idle) / tick, total / tick
