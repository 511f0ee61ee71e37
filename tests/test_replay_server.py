"""The replay server takes every connection a crawl opens at once: no connection waits for a SYN retry."""
from __future__ import annotations

import socket

from clausewatch.crawlers.replay import ReplayMap, ReplayServer


def test_replay_server_queues_a_burst_of_connections_while_busy(tmp_path):
    (tmp_path / "MANIFEST.yaml").write_text("files: []\n")
    server = ReplayServer(ReplayMap(tmp_path, []))
    host, port = server.httpd.server_address[:2]
    # nothing accepts yet (a busy process): the kernel must queue all of them; with http.server's backlog
    # of 5 the rest would wait for the client's SYN retry (a second) and these connects would time out
    sockets = [socket.create_connection((host, port), timeout=0.5) for _ in range(40)]
    try:
        with server:
            for s in sockets:
                s.settimeout(10)
                s.sendall(b"GET /robots.txt HTTP/1.0\r\nHost: replay\r\n\r\n")
            answers = [s.recv(64) for s in sockets]
    finally:
        for s in sockets:
            s.close()
    assert all(a.startswith(b"HTTP/1.") for a in answers)
