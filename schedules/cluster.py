"""The daemon in cluster mode (``CLAUSEWATCH_REDIS_URL`` set): a due crawl or discovery job is queued for
the workers instead of run as a ``clausewatch crawl`` subprocess.

* Queueing is a call to the producer the app gives the daemon (``clausewatch.stages.enqueue.Producer``;
  this package runs commands and queues jobs, it does not reach into the crawler). It takes a few
  milliseconds, on an executor of its own, so processing or a digest never holds queueing back.
* Each queued job is a ``job_runs`` row with outcome ``queued``, which the writer closes (``ok``,
  ``failed``) when it stores the job's result. It serves its fire from the moment it is queued: a restart
  does not queue it again (and if it did, the duplicate filter would drop it: same cycle).
* The cycle of a job is the fire it serves (the cron's latest fire time; with ``--every``, the interval
  window), so the same source queued twice for one fire is fetched once.
* Every ``watch`` seconds: processing runs when stored versions wait for it, operator alerts go out for
  failed runs the writer closed, and sources a discovery listing revealed get their own crawl job.
"""
from __future__ import annotations

import datetime as dt
import logging
import math
import threading
from collections.abc import Callable
from typing import Any

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from clausewatch.db import connect
from clausewatch.db.job_runs import (
    discovered_sources,
    finish_queued_run,
    finished_failures_since,
    now_ms,
    queue_job_run,
    unprocessed_versions,
)
from clausewatch.schedules.jobs import UTC, JobSpec, RunOptions, previous_fire

log = logging.getLogger("clausewatch.schedule")
EXECUTOR = "queue"


def cycle_of(trigger: BaseTrigger, now: dt.datetime) -> str:
    """The fire a job run at ``now`` serves: its duplicate-filter cycle."""
    if isinstance(trigger, IntervalTrigger):
        seconds = trigger.interval.total_seconds()
        start = math.floor(now.timestamp() / seconds) * seconds
        return dt.datetime.fromtimestamp(start, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    fire = previous_fire(trigger, now) or now
    return fire.astimezone(UTC).strftime("%Y-%m-%dT%H:%MZ")


class ClusterJobs:
    def __init__(self, producer: Any, options: RunOptions, *, notifier, stopping: threading.Event,
                 process_now: Callable[[], None], add_discovered: Callable[[], None]):
        self.producer = producer
        self.options = options
        self.notifier = notifier
        self.stopping = stopping
        self.process_now = process_now
        self.add_discovered = add_discovered
        self.triggers: dict[str, BaseTrigger] = {}
        self.specs: dict[str, JobSpec] = {}
        self._local = threading.local()
        self._since = now_ms()
        self._alerted: set[int] = set()
        self._discovered: int | None = None

    def _db(self):
        db = getattr(self._local, "db", None)   # one connection per executor thread, kept open
        if db is None:
            db = self._local.db = connect(self.options.db)
        return db

    def start(self) -> None:
        """Declarations into the ``sources`` table, as a crawl does before it starts."""
        db = connect(self.options.db)
        try:
            self.producer.sync(db)
        finally:
            db.close()

    def register(self, spec: JobSpec, trigger: BaseTrigger) -> None:
        self.triggers[spec.id] = trigger
        self.specs[spec.id] = spec

    def enqueue(self, spec: JobSpec) -> None:
        """The job function of a crawl or discovery job in cluster mode."""
        if self.stopping.is_set():
            return
        db = self._db()
        cycle = cycle_of(self.triggers[spec.id], dt.datetime.now(UTC))
        target = spec.source_id if spec.kind == "crawl" else spec.id.split(":", 1)[1]
        run_id = queue_job_run(db, spec.id, spec.source_id)
        try:
            result = self.producer.enqueue_job(db, spec.kind, target, cycle=cycle, run=run_id)
        except Exception as exc:  # noqa: BLE001 - Redis down, a bad declaration: a failed run, alerts follow
            error = f"could not queue: {type(exc).__name__}: {exc}"
            finish_queued_run(db, run_id, outcome="failed", error=error)
            log.error("fail  %s: %s", spec.id, error)
            if spec.kind == "crawl":
                self.notifier.after_failure(db, spec, run_id)
            return
        if result.queued:
            log.info("queue %s (cycle %s)", spec.id, cycle)
        elif result.duplicate:
            finish_queued_run(db, run_id, outcome="skipped", detail=f"already queued in cycle {cycle}")
            log.info("skip  %s: already queued in cycle %s", spec.id, cycle)
        else:
            why = result.skipped.get(target, "nothing to queue")
            finish_queued_run(db, run_id, outcome="skipped", detail=why)
            log.info("skip  %s: %s", spec.id, why)

    def watch(self) -> None:
        """Processing, alerts and new jobs after what the writer stored (run every few seconds)."""
        if self.stopping.is_set():
            return
        db = self._db()
        since, self._since = self._since, now_ms()
        for row in finished_failures_since(db, since):
            spec = self.specs.get(row["job_id"])
            if spec is not None and row["id"] not in self._alerted:
                self._alerted.add(row["id"])
                self.notifier.after_failure(db, spec, row["id"])
        if len(self._alerted) > 10000:
            self._alerted.clear()
        if unprocessed_versions(db):
            self.process_now()
        discovered = len(discovered_sources(db))
        if self._discovered is not None and discovered != self._discovered:
            self.add_discovered()
        self._discovered = discovered
