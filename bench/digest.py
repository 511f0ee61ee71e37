"""Benchmark: a digest run of N subscribers x M changes to a local SMTP server (aiosmtpd).

    .venv/bin/python bench/digest.py [--subscribers 10000] [--changes 50]

Builds a public database with M substantive changes and a private one with N confirmed email
subscribers that all match them, starts aiosmtpd in its own process (it discards what it receives),
then runs `clausewatch digest` in a subprocess, as the scheduler does, over one reused SMTP connection.
Prints messages/s, MB/s, wall and CPU seconds, peak RSS of the digest process, and the time of a second
run that has nothing left to send.
"""
from __future__ import annotations

import argparse
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SERVER = r"""
import resource, sys, time
from aiosmtpd.controller import Controller

class Sink:
    count = 0
    size = 0
    async def handle_DATA(self, server, session, envelope):
        Sink.count += 1
        Sink.size += len(envelope.original_content or envelope.content)
        return "250 OK"

controller = Controller(Sink(), hostname="127.0.0.1", port=int(sys.argv[1]), data_size_limit=0)
controller.start()
print("ready", flush=True)
sys.stdin.read()
controller.stop()
usage = resource.getrusage(resource.RUSAGE_SELF)
print(Sink.count, Sink.size, usage.ru_utime + usage.ru_stime, flush=True)
"""

CLAUSE = ("The Licensee shall not use the Materials, or any output or results of the Materials, to improve any "
          "other large language model, excluding the Model or derivative works thereof, and shall comply with "
          "applicable laws and regulations (including trade compliance laws and regulations) in clause {n}.")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build(public: Path, private: Path, subscribers: int, changes: int) -> None:
    import json

    from clausewatch.db import connect, connect_private, now_iso
    from clausewatch.db.clauses import replace_clauses
    from clausewatch.db.documents import Fetched, record_document, source_pk, sync_sources
    from clausewatch.digest.tokens import hash_token, new_token

    db = connect(public)
    sync_sources(db, [{"source_id": "bench-license", "title": "Bench Model License", "publisher": "Bench",
                       "jurisdiction": "global", "kind": "license", "family": "bench-license",
                       "url": "https://bench.example/license", "format": "text"}])
    pk = source_pk(db, "bench-license")
    vids = []
    for day, text in (("2024-01-01", "v1"), ("2025-01-01", "v2")):
        fetched = Fetched(source=pk, url="https://bench.example/license", requested_at=now_iso(), http_status=200,
                          outcome="new_version", body=text.encode())
        vid = record_document(db, None, fetched, text=text, extractor_version="bench", valid_from=day)["version_id"]
        replace_clauses(db, vid, [{"ordinal": i, "path": f"{i + 1}", "text": CLAUSE.format(n=i), "start": 0, "end": 1,
                                   "tags": [{"tag": "restrict.output_use", "score": 1.0}], "entities": []}
                                  for i in range(changes)], "bench")
        vids.append(vid)
    old_clause, new_clause = CLAUSE, CLAUSE.replace("improve any other large language model", "train a competitor")
    with db.atomic():
        for i in range(changes):
            db["changes"].insert({
                "source_id": pk, "family": "bench-license", "scope": "version", "old_version_id": vids[0],
                "new_version_id": vids[1], "kind": "modified", "old_path": f"{i + 1}", "new_path": f"{i + 1}",
                "old_text": old_clause.format(n=i), "new_text": new_clause.format(n=i), "substantive": 1,
                "tags_added": "[]", "tags_removed": "[]", "entity_changes": "[]", "word_diff": "[]",
                "detected_at": now_iso(), "detector_version": "bench", "alert": 1})
    pdb = connect_private(private)
    now = now_iso()
    with pdb.atomic():
        pdb["subscriptions"].insert_all(
            ({"channel": "email", "address": f"reader{i}@bench.example", "filters": json.dumps({"family": ["bench-license"]}),
              "cadence": "immediate", "token_hash": hash_token(new_token()), "confirmed": 1, "created_at": now,
              "confirmed_at": now, "since_version_id": 0} for i in range(subscribers)), batch_size=1000)


def digest(env: dict) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "clausewatch", "digest", "-q"], env=env, capture_output=True,
                          text=True, cwd=ROOT)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"digest failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return {"wall": wall, "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
            "rss_mb": after.ru_maxrss / 1024, "summary": proc.stderr.strip().splitlines()[-1]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--changes", type=int, default=50)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cw-bench-digest-") as tmp:
        public, private = Path(tmp) / "cw.db", Path(tmp) / "cw-private.db"
        t0 = time.perf_counter()
        build(public, private, args.subscribers, args.changes)
        print(f"built {args.subscribers} subscribers x {args.changes} changes in {time.perf_counter() - t0:.1f} s")
        port = free_port()
        server = subprocess.Popen([sys.executable, "-c", SERVER, str(port)], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        assert server.stdout.readline().strip() == "ready"
        env = {**os.environ, "CLAUSEWATCH_DB": str(public), "CLAUSEWATCH_PRIVATE_DB": str(private),
               "CLAUSEWATCH_CONFIG": str(Path(tmp) / "none.toml"), "CLAUSEWATCH_SMTP_HOST": "127.0.0.1",
               "CLAUSEWATCH_SMTP_PORT": str(port), "CLAUSEWATCH_SMTP_FROM": "bench@clausewatch.test",
               "CLAUSEWATCH_PUBLIC_URL": "https://cw.example.org"}
        first = digest(env)
        second = digest(env)
        server.stdin.close()
        received, size, server_cpu = server.stdout.readline().split()
        received, size, server_cpu = int(received), int(size), float(server_cpu)
        server.wait(timeout=30)
    print(f"first run:  {first['summary']}")
    print(f"  server received {received} messages, {size / 1e6:.1f} MB ({size / max(received, 1) / 1024:.1f} KB each)")
    print(f"  {received / first['wall']:.0f} messages/s, {size / 1e6 / first['wall']:.1f} MB/s, "
          f"wall {first['wall']:.1f} s, peak RSS {first['rss_mb']:.0f} MB")
    print(f"  CPU: digest {first['cpu']:.1f} s ({first['cpu'] * 1000 / max(received, 1):.1f} ms a message), "
          f"SMTP server {server_cpu:.1f} s over both runs")
    print(f"second run: {second['summary']}")
    print(f"  wall {second['wall']:.1f} s, peak RSS {second['rss_mb']:.0f} MB (nothing left to send)")


if __name__ == "__main__":
    main()
