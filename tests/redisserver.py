"""A real Debian ``redis-server`` for a test: on 127.0.0.1, a free port, its own folder, started through
:mod:`tests.processes` so that it stops pass or fail. Without AOF it keeps nothing on disk; with
``appendonly=True`` it can be killed and started again on the same files (crash-recovery tests).
"""
from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from tests import processes


def redis_available() -> str | None:
    """Why there is no redis-server to test with (None: there is)."""
    if shutil.which("redis-server") is None:
        return "redis-server is not installed (make test installs it as root: scripts/ensure-redis)"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    def __init__(self, directory: Path, *, appendonly: bool = False):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.appendonly = appendonly
        self.port = 0
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        for _ in range(5):   # a free port can be taken between the probe and the bind: try another
            self.port = self.port or free_port()
            args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
                    "--save", "", "--appendonly", "yes" if self.appendonly else "no",
                    "--appendfsync", "always", "--protected-mode", "yes", "--logfile", "redis.log",
                    "--daemonize", "no"]
            self.proc = processes.popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if self._wait_ready():
                return self
            processes.stop(self.proc, grace=2)
            self.port = 0
        log = (self.directory / "redis.log")
        raise RuntimeError("redis-server did not start: " + (log.read_text()[-1000:] if log.exists() else "no log"))

    def _wait_ready(self, seconds: float = 10) -> bool:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                    sock.sendall(b"PING\r\n")
                    if sock.recv(64).startswith(b"+PONG"):
                        return True
            except OSError:
                pass
            time.sleep(0.05)
        return False

    def client(self):
        import redis

        return redis.Redis.from_url(self.url)

    def kill(self) -> None:
        """SIGKILL: what a power cut does to the server (with AOF fsync always, nothing acknowledged is lost)."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None:
            processes.stop(self.proc, grace=5)
            self.proc = None

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
