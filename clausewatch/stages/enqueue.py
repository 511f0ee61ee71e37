"""The producer of cluster mode: due sources (and discovery listings) become job messages on the shared
frontier, with their conditional-request state, for any ``clausewatch worker`` to fetch.

``clausewatch enqueue`` and the scheduler daemon (with ``CLAUSEWATCH_REDIS_URL`` set) use it; so does the
writer, for the first fetch of sources a discovery listing revealed.

A job message (JSON; the worker's spider turns it into the same request ``clausewatch crawl`` would make)::

    {"v": 1, "kind": "document", "job": "SOURCE@CYCLE", "cycle": "CYCLE", "run": JOB_RUN_ID | null,
     "doc": {"id", "source_id", "url", "format", "selectors", "etag", "last_modified", "raw_sha256"},
     "steps": [null] | ["2024-02-21", ...], "replay": false, "enqueued_at": "..."}
    {"v": 1, "kind": "discovery", "job": "discover:ID@CYCLE", ..., "discovery": {declaration fields}}

``job`` is the duplicate-filter key: the same source queued twice in one cycle is fetched once. The
cycle of a scheduled job is the cron fire it serves; ``clausewatch enqueue`` uses the UTC day unless told.
``replay`` jobs (with their as-of steps, computed here as ``clausewatch crawl --replay`` does) are only
fetched by workers started with ``--replay``.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from clausewatch.crawlers.frontier import Frontier
from clausewatch.crawlers.registry import Discovery, Registry
from clausewatch.crawlers.replay import ReplayMap
from clausewatch.db.documents import source_rows, sync_sources
from clausewatch.stages.crawl import CrawlError, plan_crawl

STATE = ("id", "source_id", "url", "format", "selectors", "etag", "last_modified", "raw_sha256")


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def default_cycle() -> str:
    return dt.datetime.now(dt.UTC).date().isoformat()


def host_of(url: str) -> str:
    return urlsplit(url).hostname or ""


def job_message(row: dict[str, Any], *, cycle: str, steps: list[str | None] | None = None, replay: bool = False,
                run: int | None = None) -> dict[str, Any]:
    return {"v": 1, "kind": "document", "job": f"{row['source_id']}@{cycle}", "cycle": cycle, "run": run,
            "doc": {k: row.get(k) for k in STATE}, "steps": steps or [None], "replay": replay,
            "enqueued_at": now_iso()}


def discovery_message(disc: Discovery, *, cycle: str, replay: bool = False, run: int | None = None) -> dict:
    declaration = {k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(disc).items()}
    return {"v": 1, "kind": "discovery", "job": f"discover:{disc.id}@{cycle}", "cycle": cycle, "run": run,
            "discovery": declaration, "replay": replay, "enqueued_at": now_iso()}


@dataclass
class Enqueued:
    queued: list[str] = field(default_factory=list)
    duplicate: list[str] = field(default_factory=list)     # already queued in this cycle
    skipped: dict[str, str] = field(default_factory=dict)  # source id -> why it is not queued


class Producer:
    """Puts jobs on the frontier. Database access through the ``db`` each call is given (the caller's
    thread owns its connection)."""

    def __init__(self, frontier: Frontier, registry: Registry, *, replay_dir: Path | None = None,
                 as_of: str | None = None, allow_local: Any = None):
        self.frontier = frontier
        self.registry = registry
        self.replay_dir = replay_dir
        self.as_of = as_of
        self.allow_local = allow_local
        self.replay = None
        if replay_dir is not None:
            self.replay = ReplayMap(Path(replay_dir),
                                    [(s.url, s.replay) for s in registry.sources.values() if s.replay]
                                    + [(d.url, d.replay) for d in registry.discoveries.values() if d.replay])

    def sync(self, db) -> dict:
        """The declarations into the ``sources`` table (as ``clausewatch crawl`` does before it crawls)."""
        return sync_sources(db, [s.as_row() for s in self.registry.sources.values()])

    def enqueue_sources(self, db, source_ids: list[str] | None = None, *, cycle: str,
                        runs: dict[str, int] | None = None) -> Enqueued:
        """Queue a job per source (all active ones when ``source_ids`` is None)."""
        plan = plan_crawl(db, self.registry, source_ids=source_ids, replay=self.replay, as_of=self.as_of,
                          allow_local=self.allow_local)
        result = Enqueued(skipped=dict(plan.skipped))
        batch = []
        for row in plan.documents:
            message = job_message(row, cycle=cycle, steps=plan.steps.get(row["source_id"]),
                                  replay=self.replay is not None, run=(runs or {}).get(row["source_id"]))
            batch.append((row["source_id"], host_of(row["url"]), message))
        for (source_id, _, _), queued in zip(batch, self._push(batch), strict=True):
            (result.queued if queued else result.duplicate).append(source_id)
        return result

    def enqueue_discovery(self, discovery_id: str, *, cycle: str, run: int | None = None) -> Enqueued:
        disc = self.registry.discoveries.get(discovery_id)
        if disc is None:
            raise CrawlError(f"unknown discovery id: {discovery_id} (see `clausewatch sources`)")
        result = Enqueued()
        if self.replay is not None and not self.replay.steps(disc.url):
            result.skipped[discovery_id] = "no file in the replay corpus"
            return result
        message = discovery_message(disc, cycle=cycle, replay=self.replay is not None, run=run)
        queued = self._push([(discovery_id, host_of(disc.url), message)])[0]
        (result.queued if queued else result.duplicate).append(discovery_id)
        return result

    def enqueue_job(self, db, kind: str, target: str, *, cycle: str, run: int | None = None) -> Enqueued:
        """One scheduled job (``crawl`` of a source, ``discover`` of a listing): what the daemon calls."""
        if kind == "discover":
            return self.enqueue_discovery(target, cycle=cycle, run=run)
        return self.enqueue_sources(db, [target], cycle=cycle, runs={target: run} if run else None)

    def _push(self, batch: list[tuple[str, str, dict]]) -> list[bool]:
        pipe = self.frontier.redis.pipeline(transaction=False)
        for _, host, message in batch:
            self.frontier.push(host, json.dumps(message, separators=(",", ":")), key=message["job"], client=pipe)
        return [bool(x) for x in pipe.execute()] if batch else []


def enqueue_discovered(db, frontier: Frontier, discovery_id: str, *, cycle: str, replay: bool) -> list[str]:
    """Queue the first fetch of every source ``discovery_id`` revealed that was never fetched (the writer
    calls it after storing a listing, and again if it stored that listing before a crash)."""
    rows = [r for r in source_rows(db) if r.get("discovered_from") == discovery_id and not r.get("last_fetch_at")]
    pipe = frontier.redis.pipeline(transaction=False)
    for row in rows:
        message = job_message(row, cycle=cycle, replay=replay)
        frontier.push(host_of(row["url"]), json.dumps(message, separators=(",", ":")), key=message["job"],
                      client=pipe)
    results = pipe.execute() if rows else []
    return [row["source_id"] for row, queued in zip(rows, results, strict=True) if queued]
