"""The one writer of cluster mode (``clausewatch store``): drains the workers' item stream into SQLite.

* Consumer group ``writers`` on ``P:items``. Items are read in batches; a batch is stored in one
  transaction (one savepoint per item) and acknowledged (``XACK`` + ``XDEL``) only after the commit.
* At start the writer first re-reads its own pending entries (delivered before a crash, never
  acknowledged) and takes over entries another writer name left behind.
* Idempotent: each item carries an id (source, cycle, step) recorded in ``stored_items`` in the
  transaction that stores it, so an item delivered twice is stored once.
* An item that cannot be stored for a reason of its own (not one of ours, a bug) goes to the dead-letter
  stream ``P:items:dead`` with the reason; a database that cannot be written (disk full, locked) stops the
  writer with nothing acknowledged, to be stored after the restart.
* Each burst of work is one ``crawl_runs`` row (mode ``cluster``), closed after ``idle_close_s`` without
  items; before a new one opens, stale extractions are redone (``reextract``, as a crawl does).
* Discovery listings: new sources are inserted and their first fetch is queued.
* A scheduled job's ``job_runs`` row (``queued``) is closed with what its last item says.
"""
from __future__ import annotations

import os
import signal
import sqlite3
import sys
import threading
import time
from pathlib import Path
from typing import Any

from redis.exceptions import RedisError

from clausewatch.crawlers.frontier import Frontier
from clausewatch.crawlers.item_codec import StreamItem, decode
from clausewatch.crawlers.outcome import store_fetched
from clausewatch.db import connect
from clausewatch.db.documents import finish_run, record_discovered, start_run
from clausewatch.db.job_runs import finish_queued_run
from clausewatch.stages.crawl import close_stale_runs
from clausewatch.stages.enqueue import enqueue_discovered

OK_DETAIL = {"new_version": "1 new version", "technical": "1 re-extraction", "unchanged": "no change",
             "not_modified": "no change"}


class Writer:
    def __init__(self, db_path: Path, frontier: Frontier, *, name: str = "writer", batch: int = 200,
                 block_ms: int = 500, idle_close_s: float = 30.0, exit_when_idle: float = 0.0,
                 claim_idle_ms: int = 60000, progress: bool = True, report_every: float = 10.0):
        self.db_path = db_path
        self.frontier = frontier
        self.name = name
        self.batch = batch
        self.block_ms = block_ms
        self.idle_close_s = idle_close_s
        self.exit_when_idle = exit_when_idle
        self.claim_idle_ms = claim_idle_ms
        self.progress = progress
        self.report_every = report_every
        self.stop = threading.Event()
        self.run_id: int | None = None
        self.counts: dict[str, int] = {}
        self.stored = 0
        self.last_item = time.monotonic()

    def say(self, line: str) -> None:
        if self.progress:
            print(line, file=sys.stderr, flush=True)

    # ------------------------------------------------------------ the loop

    def run(self) -> dict[str, Any]:
        """Drain until :attr:`stop` is set (SIGTERM) or, with ``exit_when_idle``, the cluster is idle."""
        db = connect(self.db_path)
        closed = close_stale_runs(db)
        if closed:
            self.say(f"  closed {closed} crawl run(s) left open by a killed process")
        self.frontier.ensure_group()
        claimed = self.frontier.claim_stale(self.name, self.claim_idle_ms)
        if claimed:
            self.say(f"  took over {claimed} item(s) another writer left unacknowledged")
        started, reported, done_at_report = time.monotonic(), time.monotonic(), 0
        pending = True   # first the entries delivered to this name before a crash
        idle_since: float | None = None
        try:
            while not self.stop.is_set():
                try:
                    pending, idle_since, done = self._step(db, pending, idle_since)
                except RedisError as exc:   # restarting: what was read and not acknowledged is read again
                    self.say(f"  Redis unreachable ({exc}); trying again in 1 s")
                    self.stop.wait(1)
                    pending = True
                    continue
                if done:
                    break
                if self.progress and time.monotonic() - reported >= self.report_every:
                    rate = (self.stored - done_at_report) / (time.monotonic() - reported)
                    reported, done_at_report = time.monotonic(), self.stored
                    self.say(f"  stored {self.stored:,} items ({self._summary()}), {rate:,.0f} items/s, "
                             f"{self.frontier.backlog():,} waiting")
        finally:
            if self.run_id is not None:
                self._close_run(db)
            db.close()
        seconds = time.monotonic() - started
        return {"stored": self.stored, "counts": dict(self.counts), "seconds": round(seconds, 2)}

    def _step(self, db, pending: bool, idle_since: float | None) -> tuple[bool, float | None, bool]:
        """Read and store one batch; returns (still reading pending entries, idle since, stop now)."""
        entries = self.frontier.read(self.name, count=self.batch, block_ms=self.block_ms, pending=pending)
        if pending and not entries:
            return False, idle_since, False
        if entries:
            self._store_batch(db, entries)
            return pending, None, False
        now = time.monotonic()
        if self.run_id is not None and now - self.last_item >= self.idle_close_s:
            self._close_run(db)
        if self.exit_when_idle > 0:
            if not self.frontier.idle() or self.frontier.backlog():
                return pending, None, False
            if idle_since is None:
                return pending, now, False
            if now - idle_since >= self.exit_when_idle:
                self.say(f"  nothing to store and nothing in flight for {self.exit_when_idle:g} s")
                return pending, idle_since, True
        return pending, idle_since, False

    def _summary(self) -> str:
        return ", ".join(f"{n:,} {k.replace('_', ' ')}" for k, n in sorted(self.counts.items())) or "nothing"

    def _open_run(self, db) -> None:
        from clausewatch.stages.reextract import reextract

        reextract(db, progress=self.progress)   # stale extractions first, as a crawl does
        self.run_id = start_run(db, mode="cluster", pid=os.getpid())
        self.say(f"crawl #{self.run_id}: storing what the workers fetch")

    def _close_run(self, db) -> None:
        run = finish_run(db, self.run_id, status="ok", count_sources=True)
        self.say(f"crawl #{run['id']} ok: {run['sources']} sources, {run['requests']} requests, "
                 f"{run['new_versions']} new versions, {run['technical']} re-extractions, "
                 f"{run['not_modified'] + run['unchanged']} unchanged, {run['held']} held, {run['errors']} errors")
        self.run_id = None

    # ------------------------------------------------------------ one batch, one transaction

    def _store_batch(self, db, entries: list) -> None:
        if self.run_id is None:
            self._open_run(db)
        stored, dead, discovered = [], [], []
        with db.atomic():
            for entry_id, fields in entries:
                try:
                    item = decode(fields)
                except ValueError as exc:
                    dead.append((entry_id, fields, str(exc)))
                    continue
                try:
                    with db.atomic():
                        outcome = self._store_one(db, item)
                except (sqlite3.OperationalError, OSError):
                    raise   # the database itself: nothing of this batch is acknowledged
                except Exception as exc:  # noqa: BLE001 - this item, not the database
                    dead.append((entry_id, fields, f"{item.item_id}: {type(exc).__name__}: {exc}"))
                    continue
                stored.append(entry_id)
                self.counts[outcome] = self.counts.get(outcome, 0) + 1
                if item.kind == "discovered":   # stored now or before a crash: queue what it revealed
                    discovered.append(item)
        # after the commit; the first fetch of discovered sources is queued before their listing is
        # acknowledged (a crash in between queues them again: the duplicate filter drops the second)
        for item in discovered:
            queued = enqueue_discovered(db, self.frontier, item.discovery, cycle=item.cycle or "discovered",
                                        replay=bool(item.replay))
            if queued:
                self.say(f"  discovered by {item.discovery}: {', '.join(queued)} (first fetch queued)")
        self.frontier.ack(stored)
        for entry_id, fields, error in dead:
            self.say(f"  cannot store stream entry {entry_id!r}: {error} (kept in the dead-letter stream)")
            self.frontier.bury(entry_id, fields, error)
        self.stored += len(stored)
        self.last_item = time.monotonic()

    def _store_one(self, db, item: StreamItem) -> str:
        if item.kind == "discovered":
            return self._store_discovered(db, item)
        result = store_fetched(db, self.run_id, item.fetched, item.extraction)
        outcome = result["outcome"]
        if outcome != "duplicate" and item.final and item.job_run:
            if outcome in ("error", "gone"):
                finish_queued_run(db, item.job_run, outcome="failed", error=item.fetched.error)
            elif outcome == "held":
                finish_queued_run(db, item.job_run, outcome="ok", detail=f"held for review: {result['hold']}")
            else:
                finish_queued_run(db, item.job_run, outcome="ok", detail=OK_DETAIL.get(outcome, outcome))
        return outcome

    def _store_discovered(self, db, item: StreamItem) -> str:
        added = record_discovered(db, item.item_id, [] if item.error else item.sources)
        if added is None:
            return "duplicate"
        if item.job_run:
            if item.error:
                finish_queued_run(db, item.job_run, outcome="failed", error=item.error)
            else:
                finish_queued_run(db, item.job_run, outcome="ok",
                                  detail=f"{len(added)} new source{'s' if len(added) != 1 else ''}")
        return "discovered"


def run_writer(db_path: Path, frontier: Frontier, **options: Any) -> dict[str, Any]:
    """Run a writer until SIGTERM/SIGINT (the batch being stored is committed and acknowledged first)."""
    writer = Writer(db_path, frontier, **options)

    def on_signal(signum, frame):
        writer.say(f"  {signal.Signals(signum).name}: stopping after this batch")
        writer.stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        return writer.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
