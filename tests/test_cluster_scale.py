"""The cluster at scale: 10,000 sources on 20 hosts, 3 worker processes and the writer, a real
redis-server. Every source is fetched exactly once and stored once; one request per host at a time
across the workers, with the per-host delay between them (the hosts' own request log says so); then a
worker and the writer are killed with SIGKILL in the middle of the next cycle, and the restarted
cluster finishes it with nothing lost and nothing stored twice."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections import defaultdict
from pathlib import Path

import pytest

from clausewatch.db import connect
from tests.conftest import ROOT
from tests.hostfarm import read_log, write_registry

SOURCES, HOSTS, DELAY = 10_000, 20, 0.03
CRASH_SOURCES = 3_000          # the second cycle, with the crashes, re-fetches this many
CLI = [sys.executable, "-m", "clausewatch"]


def politeness_violations(rows: list[tuple]) -> list[str]:
    """Pairs of consecutive requests to one host that overlapped or came closer than the per-host delay
    (after the end of one, before the start of the next: Scrapy's delay counts from a start, ours is stricter)."""
    by_host = defaultdict(list)
    for row in rows:
        by_host[row[0]].append(row)
    found = []
    for host, requests in by_host.items():
        requests.sort(key=lambda r: r[2])
        for before, after in zip(requests, requests[1:], strict=False):
            if after[2] < before[3]:
                found.append(f"{host}: {after[1]} started {before[3] - after[2]:.4f} s before {before[1]} ended")
            elif after[2] - before[3] < DELAY - 0.0005:   # the log's rounding
                found.append(f"{host}: {after[1]} {after[2] - before[3]:.4f} s after {before[1]} (delay {DELAY})")
    return found


class Cluster:
    def __init__(self, tmp_path: Path, spawn, env: dict[str, str]):
        self.tmp, self.spawn, self.env = tmp_path, spawn, {**os.environ, **env}
        self.logs: list[Path] = []

    def start(self, command: str, *args: str) -> subprocess.Popen:
        log = self.tmp / f"{command}-{len(self.logs)}.log"
        self.logs.append(log)
        with log.open("w") as out:
            return self.spawn([*CLI, command, *args], env=self.env, cwd=ROOT, stdout=out, stderr=out)

    def tails(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text()[-1500:]}" for log in self.logs)


def count(db_file: Path, sql: str, params=()) -> int:
    db = connect(db_file, readonly=True)
    try:
        return db.execute(sql, list(params)).fetchone()[0]
    finally:
        db.close()


def wait_for(predicate, seconds: float, what: str, cluster: Cluster) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if predicate():
                return
        except Exception:  # noqa: BLE001 - the database or a table not there yet
            pass
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}\n{cluster.tails()}")


def test_ten_thousand_sources_three_workers_one_writer_and_crashes(tmp_path, redis_server, spawn, cli):
    log = tmp_path / "requests.log"
    farm = spawn([sys.executable, "-m", "tests.hostfarm", "--hosts", str(HOSTS), "--log", str(log),
                  "--latency", "0.005"], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    ready = farm.stdout.readline().split()
    if ready[:1] != ["READY"]:
        pytest.skip("the loopback addresses 127.0.0.2-21 cannot be bound here")
    port = int(ready[1])
    write_registry(tmp_path / "sources", SOURCES, HOSTS, port)
    db_file = tmp_path / "cw.db"
    env = {"CLAUSEWATCH_SOURCES": str(tmp_path / "sources"), "CLAUSEWATCH_DB": str(db_file),
           "CLAUSEWATCH_REDIS_URL": redis_server.url, "CLAUSEWATCH_ALLOW_LOCAL": "1",
           "CLAUSEWATCH_DOWNLOAD_DELAY": str(DELAY), "CLAUSEWATCH_WORKER_TTL": "3"}
    cluster = Cluster(tmp_path, spawn, env)

    # ---- one cycle of 10,000 sources: fetched exactly once, stored once, politely
    out = cli("enqueue", "--cycle", "one", env=env, check=True, timeout=300)
    assert "queued 10,000 jobs" in out.stderr
    procs = [cluster.start("worker", "--exit-when-idle", "3", "-q") for _ in range(3)]
    procs.append(cluster.start("store", "--exit-when-idle", "4"))
    for proc in procs:
        assert proc.wait(900) == 0, cluster.tails()
    rows = read_log(str(log))
    docs = [r for r in rows if r[1].startswith("/doc/")]
    fetched = defaultdict(int)
    for row in docs:
        fetched[row[1]] += 1
    assert len(fetched) == SOURCES and set(fetched.values()) == {1}          # each exactly once
    assert {r[4] for r in docs} == {200}
    assert len(rows) - len(docs) <= 3 * HOSTS                                 # robots.txt, once per worker and host
    assert politeness_violations(rows) == []
    assert count(db_file, "SELECT COUNT(*) FROM versions") == SOURCES
    assert count(db_file, "SELECT COUNT(DISTINCT source_id) FROM versions") == SOURCES
    assert count(db_file, "SELECT COUNT(*) FROM fetches WHERE part IS NULL") == SOURCES
    assert count(db_file, "SELECT COUNT(*) FROM stored_items") == SOURCES
    client = redis_server.client()
    assert client.xlen("clausewatch:items") == 0 and client.xlen("clausewatch:items:dead") == 0

    # ---- the next cycle changes every document; a worker and the writer die half way through
    urllib.request.urlopen(f"http://127.0.0.2:{port}/-/revision?set=2").read()
    crash = [f"s{n:05d}" for n in range(CRASH_SOURCES)]
    out = cli("enqueue", "--cycle", "two", *[x for sid in crash for x in ("--source", sid)], env=env, check=True,
              timeout=300)
    assert f"queued {CRASH_SOURCES:,} jobs" in out.stderr
    before = len(rows)
    stored = "SELECT COUNT(*) FROM stored_items WHERE item_id LIKE '%@two#%'"
    workers = [cluster.start("worker", "-q", "--name", "doomed")] + [cluster.start("worker", "-q") for _ in range(2)]
    writer = cluster.start("store")
    wait_for(lambda: count(db_file, stored) >= CRASH_SOURCES * 0.25, 300, "a quarter stored", cluster)
    workers[0].send_signal(signal.SIGKILL)
    assert workers[0].wait(10) == -signal.SIGKILL
    # what the dead worker held: given back to the queue when its heartbeat expires (3 s), fetched again
    held = [t for t in client.hkeys("clausewatch:documents:requests:leases") if t.startswith(b"doomed:")]
    wait_for(lambda: count(db_file, stored) >= CRASH_SOURCES * 0.55, 300, "half stored", cluster)
    writer.send_signal(signal.SIGKILL)
    assert writer.wait(10) == -signal.SIGKILL
    time.sleep(1)                                   # the workers go on fetching into the stream meanwhile
    workers.append(cluster.start("worker", "-q"))
    writer = cluster.start("store")
    wait_for(lambda: count(db_file, stored) == CRASH_SOURCES and client.xlen("clausewatch:items") == 0
             and int(client.get("clausewatch:documents:requests:queued") or 0) == 0
             and client.hlen("clausewatch:documents:requests:leases") == 0, 600, "the cycle stored", cluster)
    for proc in [*workers[1:], writer]:
        proc.terminate()
        assert proc.wait(60) == 0, cluster.tails()

    # nothing lost, nothing stored twice
    per_source = connect(db_file, readonly=True).execute(
        "SELECT s.source_id, COUNT(v.id) FROM sources s LEFT JOIN versions v ON v.source_id = s.id "
        "GROUP BY s.id").fetchall()
    versions = dict(per_source)
    assert all(versions[sid] == 2 for sid in crash)
    assert sum(versions.values()) == SOURCES + CRASH_SOURCES
    assert count(db_file, "SELECT COUNT(*) FROM fetches WHERE part IS NULL") == SOURCES + CRASH_SOURCES
    assert count(db_file, "SELECT COUNT(*) FROM stored_items") == SOURCES + CRASH_SOURCES
    assert client.xlen("clausewatch:items:dead") == 0
    rows = read_log(str(log))
    second = [r for r in rows[before:] if r[1].startswith("/doc/")]
    again = defaultdict(int)
    for row in second:
        again[row[1]] += 1
    assert set(again) == {f"/doc/{n}" for n in range(CRASH_SOURCES)}
    refetched = sum(1 for n in again.values() if n > 1)
    assert refetched <= len(held)  # only what the killed worker had taken and not handed on
    assert politeness_violations(rows) == []   # across the crash too: a dead worker's host locks expire
