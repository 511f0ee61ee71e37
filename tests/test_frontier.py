"""The shared frontier against a real redis-server: duplicate filter, host gate, leases, hand-off, and the
one writer's idempotent, acknowledge-after-commit storing."""
from __future__ import annotations

import json
import time

import pytest

from clausewatch.crawlers.frontier import Frontier, fingerprint
from clausewatch.crawlers.item_codec import decode, encode_discovered, encode_fetched
from clausewatch.crawlers.outcome import Extraction
from clausewatch.db import connect
from clausewatch.db.documents import sync_sources
from clausewatch.db.records import Fetched


@pytest.fixture
def frontier(redis_server):
    return Frontier(redis_server.client(), "t")


def beat(frontier, *workers, ttl=30.0):
    for worker in workers:
        frontier.beat(worker, ttl, {"pid": 0})


def test_a_job_queued_twice_in_one_cycle_is_queued_once(frontier):
    assert frontier.push("a.example", b"{}", key="terms@2025-06-01") is True
    assert frontier.push("a.example", b"{}", key="terms@2025-06-01") is False
    assert frontier.push("a.example", b"{}", key="terms@2025-06-02") is True   # the next cycle
    assert frontier.queued() == 2
    assert frontier.redis.zscore(frontier.keys.dupefilter, fingerprint("terms@2025-06-01")) is not None


def test_one_request_per_host_at_a_time_and_the_delay_after_it(frontier):
    beat(frontier, "w1", "w2")
    for n in range(3):
        frontier.push("a.example", f"a{n}".encode())
    frontier.push("b.example", b"b0")
    data, host, _ = frontier.pop("w1/1", lock_s=60)
    assert (data, host) == (b"a0", "a.example")
    data, host, _ = frontier.pop("w2/1", lock_s=60)      # a.example is locked: another worker gets b
    assert (data, host) == (b"b0", "b.example")
    data, host, wait = frontier.pop("w2/2", lock_s=60)
    assert data is None and wait == "empty"              # a has work, but it is being fetched
    assert frontier.release_host("a.example", "w2/2", 0.4) is False   # only the lock holder releases
    assert frontier.release_host("a.example", "w1/1", 0.4) is True
    data, _, wait = frontier.pop("w2/3", lock_s=60)
    assert data is None and 0 < int(wait) <= 400         # the per-host delay, counted by Redis's clock
    deadline = time.monotonic() + 5
    while data is None and time.monotonic() < deadline:
        time.sleep(0.05)
        data, host, _ = frontier.pop("w2/4", lock_s=60)
    assert (data, host) == (b"a1", "a.example")


def test_a_dead_workers_requests_and_hosts_come_back(frontier):
    beat(frontier, "alive")
    frontier.beat("doomed", 0.2, {"pid": 0})
    frontier.push("a.example", b"a0")
    frontier.push("a.example", b"a1")
    assert frontier.pop("doomed/1", lock_s=600)[0] == b"a0"
    assert frontier.reap(0) == (0, 0)                    # its heartbeat is still fresh
    time.sleep(0.3)
    assert frontier.reap(0) == (1, 1)                    # requeued at the front, host freed
    assert frontier.pop("alive/1", lock_s=60)[0] == b"a0"
    assert frontier.leased() == 1 and frontier.queued() == 1


def test_a_host_lock_expires_at_its_deadline(frontier):
    beat(frontier, "slow")
    frontier.push("a.example", b"a0")
    frontier.push("a.example", b"a1")
    assert frontier.pop("slow/1", lock_s=0.2)[0] == b"a0"
    assert frontier.pop("slow/2", lock_s=0.2)[0] is None
    time.sleep(0.3)
    assert frontier.reap(0) == (0, 1)                    # the lease stays (the worker lives), the lock goes
    assert frontier.pop("slow/3", lock_s=60)[0] == b"a1"


def test_a_clean_stop_gives_back_what_the_worker_held(frontier):
    beat(frontier, "w")
    frontier.push("a.example", b"a0")
    frontier.pop("w/1", lock_s=60)
    assert frontier.reap(0, worker="w") == (1, 1)
    assert frontier.queued() == 1 and frontier.leased() == 0


def test_handoff_adds_items_queues_successors_and_drops_the_lease_at_once(frontier):
    beat(frontier, "w")
    frontier.push("a.example", b"a0", key="doc@c1#0")
    assert frontier.pop("w/1", lock_s=60)[0] == b"a0"
    added = frontier.handoff("w/1", "a.example", [{"id": "doc@c1#0", "kind": "x", "meta": "{}", "blob": b""}],
                             [("a.example", b"part", "doc@c1#0/p0"), ("a.example", b"again", "doc@c1#0/p0")], 0)
    assert added == 1
    assert frontier.leased() == 0 and frontier.queued() == 1  # the duplicate successor was filtered
    assert frontier.backlog() == 1
    assert frontier.pop("w/2", lock_s=60)[0] == b"part"       # the host was released by the hand-off


def test_the_writer_backlog_holds_workers_back(frontier):
    frontier.push("a.example", b"a0")
    frontier.redis.xadd(frontier.keys.stream, {"id": "x"})
    assert frontier.pop("w/1", lock_s=60, max_backlog=1) == (None, None, "backlog")
    assert frontier.pop("w/2", lock_s=60, max_backlog=2)[0] == b"a0"


def fetched(item_id: str, *, body: bytes | None = b"Terms\n\n1. You may use it.\n", **kw) -> Fetched:
    return Fetched(source=None, source_id="terms", url="http://a.example/terms", requested_at="2025-06-01T06:00:00Z",
                   http_status=200, format="text", body=body, item_id=item_id, **kw)


def test_items_cross_the_stream_unchanged():
    item = fetched("terms@c#0", etag='"x"', parts=[("p1.xml", b"<p>one</p>", {"url": "http://a.example/p1.xml"})])
    extraction = Extraction("new_version", text="Terms\n\n1. You may use it. é", title="Terms",
                            state={"replay_as_of": "2025-01-01"})
    back = decode({k.encode(): (v.encode() if isinstance(v, str) else v)
                   for k, v in encode_fetched(item, extraction, job_run=7, final=False).items()})
    assert back.item_id == "terms@c#0" and back.job_run == 7 and back.final is False
    assert back.fetched == item and back.extraction == extraction
    none = decode(encode_fetched(fetched("terms@c#1", body=None, error="HTTP 500"), Extraction("error")))
    assert none.fetched.body is None and none.extraction.text is None
    listing = decode(encode_discovered("d@c#0", "d", [{"source_id": "x"}], cycle="c", replay=True))
    assert listing.kind == "discovered" and listing.sources == [{"source_id": "x"}] and listing.replay
    with pytest.raises(ValueError):
        decode({b"id": b"1", b"kind": b"fetched", b"meta": b"not json"})


def test_the_writer_stores_an_item_once_and_acknowledges_after_the_commit(tmp_path, frontier):
    from clausewatch.stages.store import Writer

    db_path = tmp_path / "cw.db"
    db = connect(db_path)
    sync_sources(db, [{"source_id": "terms", "title": "Terms", "url": "http://a.example/terms", "format": "text"}])
    db.close()
    entry = encode_fetched(fetched("terms@c#0"), Extraction("new_version", text="Terms\n\n1. You may use it."))
    for _ in range(2):    # delivered twice (a worker re-fetched after its lease was reaped)
        frontier.redis.xadd(frontier.keys.stream, entry)
    frontier.redis.xadd(frontier.keys.stream, {"id": "junk", "kind": "fetched", "meta": "{}"})
    frontier.ensure_group()
    # a writer that read the entries and died before acknowledging them
    assert len(frontier.read("writer", count=10, block_ms=100)) == 3
    result = Writer(db_path, frontier, exit_when_idle=0.2, idle_close_s=0.1, progress=False).run()
    assert result["counts"] == {"new_version": 1, "duplicate": 1}
    db = connect(db_path)
    assert db.execute("SELECT COUNT(*) FROM versions").fetchone()[0] == 1
    assert db.execute("SELECT COUNT(*) FROM fetches").fetchone()[0] == 1
    assert [r[0] for r in db.execute("SELECT item_id FROM stored_items")] == ["terms@c#0"]
    assert frontier.backlog() == 0 and frontier.redis.xpending(frontier.keys.stream, "writers")["pending"] == 0
    dead = frontier.redis.xrange(frontier.keys.dead)
    assert len(dead) == 1 and b"format" in dead[0][1][b"error"]
    run = list(db.query("SELECT * FROM crawl_runs"))[0]
    assert run["mode"] == "cluster" and run["status"] == "ok" and run["new_versions"] == 1


def test_job_messages_are_json_a_person_can_read(tmp_path, frontier):
    from clausewatch.crawlers.registry import Registry
    from clausewatch.stages.enqueue import Producer

    db = connect(tmp_path / "cw.db")
    sync_sources(db, [{"source_id": "terms", "title": "Terms", "url": "https://a.example/terms", "format": "text",
                       "etag": '"v1"'}])
    producer = Producer(frontier, Registry())
    first = producer.enqueue_sources(db, cycle="2025-06-01")
    again = producer.enqueue_sources(db, cycle="2025-06-01")
    assert first.queued == ["terms"] and again.duplicate == ["terms"]
    raw = frontier.redis.lrange(f"{frontier.keys.queue}:host:a.example", 0, -1)
    message = json.loads(raw[0])
    assert message["job"] == "terms@2025-06-01" and message["doc"]["etag"] == '"v1"' and message["steps"] == [None]


def test_processes_that_open_a_new_database_together_all_open_it(tmp_path):
    # the writer, the scheduler and `clausewatch serve` start together under systemd: migrations once
    import subprocess
    import sys

    from tests import processes

    code = "import sys; from clausewatch.db import connect; connect(sys.argv[1]).close()"
    procs = [processes.popen([sys.executable, "-c", code, str(tmp_path / "cw.db")], stderr=subprocess.PIPE, text=True)
             for _ in range(6)]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 6, errors
    db = connect(tmp_path / "cw.db")
    names = [r[0] for r in db.execute("SELECT name FROM _sqlite_migrations WHERE migration_set = 'clausewatch'")]
    assert len(names) == len(set(names)) and "m1701_stored_items" in names   # each applied once


def test_a_lease_held_too_long_goes_back_even_from_a_live_worker(frontier):
    # a request its worker lost (say to a Redis outage while handing it on) must not stay leased forever
    beat(frontier, "w")
    frontier.push("a.example", b"a0")
    frontier.pop("w/1", lock_s=60)
    assert frontier.reap(0, lease_max_s=60) == (0, 0)
    time.sleep(0.2)
    assert frontier.reap(0, lease_max_s=0.1) == (1, 0)
    assert frontier.queued() == 1 and frontier.leased() == 0


def test_a_lease_whose_reply_was_lost_is_given_back(frontier):
    beat(frontier, "w")
    frontier.push("a.example", b"a0")
    frontier.push("a.example", b"a1")
    frontier.pop("w/1", lock_s=60)          # the worker never saw this reply (Redis went away)
    assert frontier.give_back("w/1", 0) is True
    assert frontier.give_back("w/1", 0) is False
    assert frontier.pop("w/2", lock_s=60)[0] == b"a0"   # first again, and its host free
