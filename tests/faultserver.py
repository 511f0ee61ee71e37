"""A configurable hostile HTTP server on a loopback address, for fault-injection tests of the crawler.

Each path is given a *behaviour*: a function ``(handler, hit) -> None`` that writes whatever it likes
(or nothing) on the socket. Helpers below build the usual ones: a normal reply, an error status with
Retry-After, a connection reset, a hang, a slow drip, a redirect, a gzip bomb, a body shorter than its
Content-Length. ``phase`` switches behaviours between two crawls of the same sources (a good document
first, then the fault, so that each case also checks that history is kept).

    with FaultServer() as server:
        server.route("/terms", by_phase(ok(TEXT), status(503)))
        server.url("/terms")  # http://127.0.0.1:PORT/terms
        server.hits_of("/terms")
"""
from __future__ import annotations

import gzip
import http.server
import re
import socket
import struct
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field

Behaviour = Callable[["_Handler", "Hit"], None]


@dataclass
class Hit:
    path: str
    at: float
    headers: dict[str, str]
    phase: int = 1
    index: int = 0           # 0 for the first request to this path in this phase


@dataclass
class FaultServer:
    host: str = "127.0.0.1"
    robots: bytes | dict[int, bytes] = b"User-agent: *\nDisallow:\n"
    phase: int = 1
    routes: dict[str, Behaviour] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)

    def __post_init__(self):
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        handler = type("Handler", (_Handler,), {"fault": self})
        self.httpd = _Server((self.host, 0), handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True,
                                       name=f"fault-{self.port}")

    # ---------------------------------------------------------------- lifecycle

    def start(self) -> FaultServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.stopping.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> FaultServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # ---------------------------------------------------------------- configuration and inspection

    @property
    def origin(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return self.origin + path

    def route(self, path: str, behaviour: Behaviour) -> str:
        self.routes[path] = behaviour
        return self.url(path)

    def hits_of(self, path: str, phase: int | None = None) -> list[Hit]:
        with self._lock:
            return [h for h in self.hits if h.path == path and (phase is None or h.phase == phase)]

    def _record(self, path: str, headers: dict[str, str]) -> Hit:
        with self._lock:
            index = sum(1 for h in self.hits if h.path == path and h.phase == self.phase)
            hit = Hit(path, time.monotonic(), headers, self.phase, index)
            self.hits.append(hit)
            return hit


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False   # hung handlers must not keep the test waiting
    request_queue_size = 128   # a backlog of 5 drops connections a crawl opens at once (a 1 s SYN retry)


class _Handler(http.server.BaseHTTPRequestHandler):
    fault: FaultServer
    protocol_version = "HTTP/1.0"

    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        path = self.path.split("?")[0]
        hit = self.fault._record(path, {k: v for k, v in self.headers.items()})
        if path == "/robots.txt" and path not in self.fault.routes:
            robots = self.fault.robots
            body = robots.get(self.fault.phase, b"") if isinstance(robots, dict) else robots
            return ok(body, "text/plain")(self, hit)
        behaviour = self.fault.routes.get(path)
        if behaviour is None:
            return status(404)(self, hit)
        try:
            behaviour(self, hit)
        except (BrokenPipeError, ConnectionResetError, OSError):
            pass  # the crawler gave up on us: that is the point of most behaviours

    def do_POST(self) -> None:  # noqa: N802 - webhooks: the body is read and dropped, then as for GET
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(min(length, 10 * 1024 * 1024))
        self.do_GET()

    def send_raw(self, code: int, headers: dict[str, str], body: bytes = b"") -> None:
        self.send_response(code)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if body:
            self.wfile.write(body)
        self.wfile.flush()


# ---------------------------------------------------------------- behaviours

def ok(body: bytes | str, content_type: str = "text/plain; charset=utf-8", headers: dict | None = None) -> Behaviour:
    data = body.encode("utf-8") if isinstance(body, str) else body

    def reply(handler: _Handler, hit: Hit) -> None:
        handler.send_raw(200, {"Content-Type": content_type, "Content-Length": str(len(data)), **(headers or {})},
                         data)
    return reply


def status(code: int, body: bytes = b"", headers: dict | None = None) -> Behaviour:
    def reply(handler: _Handler, hit: Hit) -> None:
        handler.send_raw(code, {"Content-Type": "text/html", "Content-Length": str(len(body)), **(headers or {})},
                         body)
    return reply


def redirect(location: str | Callable[[], str], code: int = 302) -> Behaviour:
    def reply(handler: _Handler, hit: Hit) -> None:
        target = location() if callable(location) else location
        handler.send_raw(code, {"Location": target, "Content-Length": "0"})
    return reply


def sequence(*behaviours: Behaviour) -> Behaviour:
    """The n-th request (in the current phase) gets the n-th behaviour; the last one repeats."""
    def reply(handler: _Handler, hit: Hit) -> None:
        behaviours[min(hit.index, len(behaviours) - 1)](handler, hit)
    return reply


def by_phase(*behaviours: Behaviour) -> Behaviour:
    """Phase 1 gets the first behaviour, phase 2 the second ... (the last one repeats)."""
    def reply(handler: _Handler, hit: Hit) -> None:
        behaviours[min(handler.fault.phase, len(behaviours)) - 1](handler, hit)
    return reply


def reset() -> Behaviour:
    """Read the request, then abort the connection with a TCP RST (SO_LINGER 0)."""
    def reply(handler: _Handler, hit: Hit) -> None:
        handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        handler.connection.close()
        handler.close_connection = True
    return reply


def hang(seconds: float = 30.0) -> Behaviour:
    """Accept the request and say nothing (until the server stops or ``seconds`` pass)."""
    def reply(handler: _Handler, hit: Hit) -> None:
        handler.fault.stopping.wait(seconds)
    return reply


def drip(body: bytes, interval: float = 0.2, content_type: str = "text/plain") -> Behaviour:
    """Headers at once, then the body one byte every ``interval`` seconds."""
    def reply(handler: _Handler, hit: Hit) -> None:
        handler.send_raw(200, {"Content-Type": content_type, "Content-Length": str(len(body))})
        for i in range(len(body)):
            if handler.fault.stopping.wait(interval):
                return
            handler.wfile.write(body[i:i + 1])
            handler.wfile.flush()
    return reply


def truncated(body: bytes, sent: int, content_type: str = "text/plain") -> Behaviour:
    """Announce ``len(body)`` bytes, send ``sent`` of them, close."""
    def reply(handler: _Handler, hit: Hit) -> None:
        handler.send_raw(200, {"Content-Type": content_type, "Content-Length": str(len(body))}, body[:sent])
    return reply


def unbounded(chunk: bytes, total: int, content_type: str = "text/plain") -> Behaviour:
    """A body of ``total`` bytes without Content-Length (the size is only known while reading)."""
    def reply(handler: _Handler, hit: Hit) -> None:
        handler.send_raw(200, {"Content-Type": content_type})
        sent = 0
        while sent < total and not handler.fault.stopping.is_set():
            handler.wfile.write(chunk)
            sent += len(chunk)
    return reply


_BOMBS: dict[int, bytes] = {}


def gzip_bomb_bytes(inflated: int) -> bytes:
    """A gzip stream of ``inflated`` zero bytes (about 1000 times smaller), built without holding it inflated."""
    if inflated not in _BOMBS:
        compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: gzip container
        block = bytes(1 << 20)
        parts, left = [], inflated
        while left > 0:
            parts.append(compressor.compress(block[:min(left, len(block))]))
            left -= len(block)
        parts.append(compressor.flush())
        _BOMBS[inflated] = b"".join(parts)
    return _BOMBS[inflated]


def gzip_bomb(inflated: int, content_type: str = "text/html") -> Behaviour:
    data = gzip_bomb_bytes(inflated)

    def reply(handler: _Handler, hit: Hit) -> None:
        handler.send_raw(200, {"Content-Type": content_type, "Content-Encoding": "gzip",
                               "Content-Length": str(len(data))}, data)
    return reply


def gzipped(body: bytes, content_type: str = "text/plain; charset=utf-8") -> Behaviour:
    data = gzip.compress(body)

    def reply(handler: _Handler, hit: Hit) -> None:
        handler.send_raw(200, {"Content-Type": content_type, "Content-Encoding": "gzip",
                               "Content-Length": str(len(data))}, data)
    return reply


def delayed(seconds: float, behaviour: Behaviour) -> Behaviour:
    """``behaviour`` after ``seconds`` (a slow but honest server)."""
    def reply(handler: _Handler, hit: Hit) -> None:
        if not handler.fault.stopping.wait(seconds):
            behaviour(handler, hit)
    return reply


# ---------------------------------------------------------------- loopback hosts

def loopback_host(n: int) -> str:
    """``127.0.0.n`` when this system routes it (Linux does), else ``127.0.0.1``.

    Scrapy fetches one request at a time per host: slow cases on hosts of their own run side by side.
    """
    host = f"127.0.0.{n}"
    try:
        with socket.socket() as probe:
            probe.bind((host, 0))
    except OSError:
        return "127.0.0.1"
    return host


# ---------------------------------------------------------------- the fault matrix (scripts/fault_matrix.py)

def fault(case: str, injected: str, expected: str) -> Callable:
    """Describe a test as a row of the fault matrix (docs/reliability.md); see :func:`fault_matrix_row`."""
    def mark(fn: Callable) -> Callable:
        fn.fault = {"case": case, "injected": injected, "expected": expected}  # type: ignore[attr-defined]
        return fn
    return mark


try:
    import pytest
except ImportError:  # pragma: no cover - the server itself needs no pytest
    pytest = None

if pytest is not None:
    @pytest.fixture(autouse=True)
    def fault_matrix_row(request, record_property):
        """Writes the test's matrix row into the JUnit XML (``-o junit_family=xunit1``)."""
        info = getattr(request.function, "fault", None)
        if info:
            for key, value in info.items():
                record_property(f"fault_{key}", value)
        yield

    @pytest.fixture
    def observed(record_property):
        """``observed("...")``: what the crawler actually did, shown in the matrix's "observed" column.

        Ports and temporary paths are masked, so that the matrix changes only when behaviour does."""
        def record(text: str) -> None:
            text = _TMP.sub("…/", _PORT.sub(r"\1:PORT", " ".join(str(text).split())))
            record_property("fault_observed", text[:300])
        return record


_PORT = re.compile(r"(127\.0\.0\.\d+|\[::1\]|localhost):\d{2,5}")
_TMP = re.compile(r"/\S*?/pytest-\d+/[^/\s]+/")


# ---------------------------------------------------------------- reading what a crawl stored

FAST_CRAWL_ENV = {
    "CLAUSEWATCH_TIMEOUT": "1",              # a hung server costs 1 s per attempt
    "CLAUSEWATCH_DOWNLOAD_DELAY": "0",
    "CLAUSEWATCH_RETRY_TIMES": "1",          # two attempts
    "CLAUSEWATCH_RETRY_BASE_DELAY": "0.2",
    "CLAUSEWATCH_RETRY_MAX_DELAY": "3",
    "CLAUSEWATCH_MAX_BYTES": "200000",
}


def query(db_file, sql: str, params: tuple | list = ()) -> list[dict]:
    """Rows as dicts, through a read-only connection (the crawler may be writing)."""
    import sqlite3

    conn = sqlite3.connect(f"file:{db_file}?mode=ro", uri=True, timeout=30)
    conn.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in conn.execute(sql, params)]
    finally:
        conn.close()


def source_row(db_file, source_id: str) -> dict:
    rows = query(db_file, "SELECT * FROM sources WHERE source_id = ?", [source_id])
    assert rows, f"no source {source_id}"
    return rows[0]


def fetches_of(db_file, source_id: str) -> list[dict]:
    return query(db_file, """SELECT f.* FROM fetches f JOIN sources s ON s.id = f.source_id
                             WHERE s.source_id = ? AND f.part IS NULL ORDER BY f.id""", [source_id])


def versions_of(db_file, source_id: str) -> list[dict]:
    return query(db_file, """SELECT v.* FROM versions v JOIN sources s ON s.id = v.source_id
                             WHERE s.source_id = ? ORDER BY v.seq""", [source_id])


def held_of(db_file, source_id: str) -> list[dict]:
    return query(db_file, """SELECT h.* FROM held_versions h JOIN sources s ON s.id = h.source_id
                             WHERE s.source_id = ? ORDER BY h.id""", [source_id])
