"""Many web hosts on one machine, for cluster tests and the scale benchmark: host ``k`` is the loopback
address ``127.0.0.(k+2)`` (Linux routes all of 127/8 to ``lo``), all on one port, so that Scrapy and the
cluster's host gate see distinct hosts exactly as on the web.

``/doc/N`` is a small licence-like text document (its words depend on N and on the farm's revision),
with an ``ETag`` and conditional answers (304); ``/robots.txt`` allows everything. Every request is
logged, one line each, to ``--log``: ``host  path  start  end  status`` (``time.monotonic()`` of this
process, seconds: start when the request was read, end when the answer was complete, just before it is
written), so a test can check that no two requests to one host overlapped and that the per-host delay
held. ``/-/revision?set=R`` (not logged) changes every document.

Run: ``python -m tests.hostfarm --hosts 20 --log FILE [--latency 0.01]``; it prints ``READY PORT``.
"""
from __future__ import annotations

import argparse
import hashlib
import http.server
import socket
import sys
import threading
import time
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

CLAUSES = ["You may use, copy and modify the model {n} for any lawful purpose.",
           "You must not use the model {n} to develop weapons or to harm people.",
           "Redistribution of model {n} must keep this notice and the acceptable use policy.",
           "The licensor may update these terms; revision {rev} applies from its publication.",
           "Commercial use by entities above {users} monthly active users requires a separate licence."]


def document(n: int, rev: int) -> bytes:
    lines = [f"Synthetic Model {n} Licence", ""]
    for i, clause in enumerate(CLAUSES, 1):
        lines += [f"{i}. " + clause.format(n=n, rev=rev, users=(n % 7 + 1) * 100_000_000), ""]
    return "\n".join(lines).encode("utf-8")


class Farm:
    def __init__(self, hosts: int, log_path: str, latency: float):
        self.hosts = hosts
        self.latency = latency
        self.revision = 1
        self.lock = threading.Lock()
        self.log = open(log_path, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 - lives with the process

    def record(self, host: str, path: str, start: float, end: float, status: int) -> None:
        with self.lock:
            self.log.write(f"{host}\t{path}\t{start:.6f}\t{end:.6f}\t{status}\n")


def handler_for(farm: Farm):
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            start = time.monotonic()
            host = self.connection.getsockname()[0]
            parts = urlsplit(self.path)
            if parts.path == "/-/revision":
                farm.revision = int(parse_qs(parts.query).get("set", [farm.revision])[0])
                self._send(200, b"ok", {})
                return
            if farm.latency:
                time.sleep(farm.latency)
            status, body, headers = self._answer(parts.path)
            # the end is when the answer is complete, before it is written: a thread of this process may
            # log late (twenty hosts share one GIL), the client cannot have it earlier than this
            end = time.monotonic()
            self._send(status, body, headers)
            farm.record(host, parts.path, start, end, status)

        def _answer(self, path: str):
            if path == "/robots.txt":
                return 200, b"User-agent: *\nAllow: /\n", {"Content-Type": "text/plain"}
            if path.startswith("/doc/") and path[5:].isdigit():
                body = document(int(path[5:]), farm.revision)
                etag = '"' + hashlib.sha1(body).hexdigest()[:16] + '"'
                if self.headers.get("If-None-Match") == etag:
                    return 304, b"", {"ETag": etag}
                return 200, body, {"Content-Type": "text/plain; charset=utf-8", "ETag": etag}
            return 404, b"not found", {"Content-Type": "text/plain"}

        def _send(self, status: int, body: bytes, headers: dict) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            if status != 304:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if status != 304:
                self.wfile.write(body)
            self.wfile.flush()

    return Handler


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):   # a killed client: expected
            super().handle_error(request, client_address)


def serve(hosts: int, log_path: str, latency: float) -> None:
    farm = Farm(hosts, log_path, latency)
    handler = handler_for(farm)
    for _ in range(20):
        servers = []
        try:
            first = Server(("127.0.0.2", 0), handler)
            servers.append(first)
            port = first.server_address[1]
            for k in range(1, hosts):
                servers.append(Server((f"127.0.0.{k + 2}", port), handler))
            break
        except OSError:
            for server in servers:
                server.server_close()
    else:
        raise SystemExit("no port free on every loopback address")
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"READY {port}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


def host_url(k: int, port: int, n: int) -> str:
    return f"http://127.0.0.{k + 2}:{port}/doc/{n}"


def write_registry(directory: Path, sources: int, hosts: int, port: int) -> None:
    """One declaration per synthetic source, spread over ``hosts`` loopback hosts of the farm."""
    directory.mkdir(parents=True)
    for n in range(sources):
        (directory / f"s{n:05d}.yaml").write_text(
            f"id: s{n:05d}\ntitle: Synthetic model licence {n}\npublisher: Synthetic Publisher\n"
            f"jurisdiction: global\nkind: license\nfamily: synthetic-{n % 50}\nversion: \"1\"\n"
            f"url: {host_url(n % hosts, port, n)}\nformat: text\nschedule: \"0 6 * * *\"\n")


def read_log(path: str) -> list[tuple[str, str, float, float, int]]:
    rows = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            host, p, start, end, status = line.rstrip("\n").split("\t")
            rows.append((host, p, float(start), float(end), int(status)))
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--log", required=True)
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args(argv)
    socket.setdefaulttimeout(60)
    serve(args.hosts, args.log, args.latency)


if __name__ == "__main__":
    sys.exit(main())
