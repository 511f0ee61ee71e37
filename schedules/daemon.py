"""The scheduler daemon: one APScheduler ``BlockingScheduler`` (UTC) that runs every job in turn.

* Job defaults: a generous ``misfire_grace_time`` (a late job still runs), ``coalesce`` (missed fires
  run once), ``max_instances=1``; one worker thread, so that jobs run one at a time and the daemon is
  the database's only writer (Datasette and ``clausewatch serve`` read concurrently, WAL).
* Jobs live in a memory job store rebuilt at every start; what is due is decided from the database
  (see :func:`schedules.jobs.overdue_reason`), so no ``replace_existing`` trap and no pickled state.
* A lock file beside the database keeps a second daemon from running on the same database.
* SIGTERM/SIGINT: no new job starts, the running command gets SIGTERM (SIGKILL after the grace
  period), its run is recorded as ``interrupted`` and the daemon exits.
* Cluster mode (a producer given): crawl and discovery jobs are queued on Redis for the workers
  (:mod:`clausewatch.schedules.cluster`); processing and digests still run here as subprocesses.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import logging
import os
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_MISSED
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from clausewatch.crawlers.registry import load_registry
from clausewatch.db import connect
from clausewatch.db.job_runs import (
    close_open_runs,
    discovered_sources,
    last_attempts,
    last_successes,
    unprocessed_versions,
)
from clausewatch.schedules.cluster import EXECUTOR as CLUSTER_EXECUTOR
from clausewatch.schedules.cluster import ClusterJobs
from clausewatch.schedules.jobs import UTC, JobSpec, RunOptions, build_specs, overdue_reason
from clausewatch.schedules.notify import Notifier, NotifyConfig
from clausewatch.schedules.runner import Runner, db_lock_path

log = logging.getLogger("clausewatch.schedule")
MISFIRE_GRACE_S = 3600


class ScheduleError(RuntimeError):
    """The daemon cannot start (database locked by another daemon, bad setting ...)."""


@dataclass
class PlannedJob:
    spec: JobSpec
    trigger: BaseTrigger
    next_run: dt.datetime | None       # the trigger's next fire
    overdue: str | None                # why it runs at start-up instead


def plan_jobs(options: RunOptions, schedules: dict[str, str], *, now: dt.datetime | None = None,
              registry_dir: Path | None = None, readonly: bool = False) -> list[PlannedJob]:
    """Every job with its trigger, next fire time and whether it is overdue now."""
    now = now or dt.datetime.now(UTC)
    registry = load_registry(registry_dir)
    successes, attempts, discovered, unprocessed = {}, {}, [], 0
    if options.db.exists() or not readonly:
        db = connect(options.db, readonly=readonly)
        try:
            successes, attempts = last_successes(db), last_attempts(db)
            discovered, unprocessed = discovered_sources(db), unprocessed_versions(db)
        finally:
            db.close()
    planned = []
    for spec in build_specs(registry, discovered, schedules):
        trigger = spec.trigger(options.every)
        reason = overdue_reason(spec, trigger, now, last_success=successes.get(spec.source_id or ""),
                                last_attempt=attempts.get(spec.id), unprocessed=unprocessed)
        planned.append(PlannedJob(spec, trigger, trigger.get_next_fire_time(None, now), reason))
    return planned


def plan_table(planned: list[PlannedJob], options: RunOptions,
               digest_problem: str = "") -> tuple[tuple[str, ...], list[tuple[str, ...]], str]:
    """The ``--dry-run`` listing: headers, one row per job with its trigger and next run time (UTC), a summary."""
    rows = []
    for job in planned:
        when = "now" if job.overdue else (job.next_run.strftime("%Y-%m-%d %H:%M:%S") if job.next_run else "never")
        note = f"overdue: {job.overdue}" if job.overdue else ""
        if job.spec.kind == "digest" and digest_problem:
            note = f"unavailable for now: {digest_problem}"
        rows.append((job.spec.id, job.spec.describe_trigger(options.every), when, note))
    sources = sum(1 for j in planned if j.spec.kind == "crawl")
    due = sum(1 for j in planned if j.overdue)
    return (("job", "trigger", "next run (UTC)", "note"), rows,
            f"{len(planned)} jobs ({sources} sources); {due} would run at start-up")


class Daemon:
    def __init__(self, options: RunOptions, schedules: dict[str, str], notify: NotifyConfig, *,
                 timeout: float = 3600, stop_grace: float = 5.0, producer=None, watch_s: float = 30.0):
        self.options = options
        self.schedules = schedules
        self.notifier = Notifier(notify)
        self.runner = Runner(options, timeout=timeout, stop_grace=stop_grace,
                             on_failure=self.notifier.after_failure, on_new_versions=self._process_now,
                             on_discovered=self._add_discovered)
        executors = {"default": ThreadPoolExecutor(max_workers=1)}
        self.cluster: ClusterJobs | None = None
        if producer is not None:   # cluster mode: crawls are queued for the workers (schedules/cluster.py)
            self.cluster = ClusterJobs(producer, options, notifier=self.notifier, stopping=self.runner.stopping,
                                       process_now=self._process_now, add_discovered=self._add_discovered)
            executors[CLUSTER_EXECUTOR] = ThreadPoolExecutor(max_workers=1)
        self.watch_s = min(watch_s, options.every) if options.every else watch_s
        self.scheduler = BlockingScheduler(
            timezone=UTC, executors=executors,
            job_defaults={"misfire_grace_time": MISFIRE_GRACE_S, "coalesce": True, "max_instances": 1})
        self._signals = 0
        self._lock_file: IO[str] | None = None

    # ------------------------------------------------------------ life cycle

    def run(self) -> int:
        """Start, run until SIGTERM/SIGINT, stop cleanly. Returns the exit status."""
        self._acquire_lock()
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        try:
            db = connect(self.options.db)
            closed = close_open_runs(db, "the scheduler stopped before this run finished")
            db.close()
            if closed:
                log.info("closed %d run(s) left open by a previous scheduler as interrupted", closed)
            if self.cluster is not None:
                self.cluster.start()
                log.info("cluster mode: crawl and discovery jobs are queued for `clausewatch worker`s, "
                         "`clausewatch store` writes what they fetch")
            planned = plan_jobs(self.options, self.schedules)
            now = dt.datetime.now(UTC)
            for job in planned:
                self._add(job, now)
            if self.cluster is not None:
                self.scheduler.add_job(self.cluster.watch, IntervalTrigger(seconds=self.watch_s, timezone=UTC),
                                       id="cluster:watch", name="cluster:watch", executor=CLUSTER_EXECUTOR)
            if not self.runner.digest.available():
                log.info("digest jobs unavailable for now: %s (checked again at each run)", self.runner.digest.problem)
            due = [j.spec.id for j in planned if j.overdue]
            shown = due if len(due) <= 12 else due[:10] + [f"and {len(due) - 10} more"]
            log.info("scheduler started on %s: %d jobs, %d overdue run now%s", self.options.db, len(planned),
                     len(due), f" ({', '.join(shown)})" if due else "")
            self.scheduler.add_listener(self._on_event, EVENT_JOB_MISSED | EVENT_JOB_ERROR)
            if not self._signals:   # a signal during start-up: do not start at all
                self.scheduler.start()
            if not self.runner.wait_idle(self.runner.stop_grace + 3):
                log.warning("the running job did not stop in time")
            db = connect(self.options.db)
            close_open_runs(db, "the scheduler stopped before this run finished")
            db.close()
            log.info("scheduler stopped")
            return 0
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            self._release_lock()

    def _add(self, job: PlannedJob, now: dt.datetime) -> None:
        extra = {"next_run_time": now} if job.overdue else {}
        func = self.runner.run
        if self.cluster is not None and job.spec.kind in ("crawl", "discover"):
            self.cluster.register(job.spec, job.trigger)
            func, extra["executor"] = self.cluster.enqueue, CLUSTER_EXECUTOR
        self.scheduler.add_job(func, job.trigger, args=[job.spec], id=job.spec.id, name=job.spec.id, **extra)

    def _on_signal(self, signum: int, frame: object) -> None:
        self._signals += 1
        name = signal.Signals(signum).name
        if self._signals > 1:
            log.info("%s again: killing the running job", name)
            self.runner.kill()
            return
        log.info("%s: stopping (the running job gets SIGTERM, SIGKILL after %g s)", name, self.runner.stop_grace)
        # stop from another thread: the handler may have interrupted the scheduler while it held its locks
        threading.Thread(target=self._stop, name="schedule-stop", daemon=True).start()

    def _stop(self) -> None:
        self.runner.stop()
        for _ in range(100):   # a signal during start-up: wait until the scheduler runs, then stop it
            if self.scheduler.running:
                self.scheduler.shutdown(wait=False)
                return
            time.sleep(0.05)

    def _on_event(self, event) -> None:
        if event.code == EVENT_JOB_MISSED:
            log.warning("missed %s: it was due at %s, more than %d s ago", event.job_id,
                        event.scheduled_run_time.strftime("%Y-%m-%d %H:%M:%S"), MISFIRE_GRACE_S)
        elif event.exception is not None:
            log.error("error %s: %s: %s", event.job_id, type(event.exception).__name__, event.exception)

    # ------------------------------------------------------------ called from the worker after a job

    def _process_now(self) -> None:
        if self.scheduler.running and self.scheduler.get_job("process"):
            self.scheduler.modify_job("process", next_run_time=dt.datetime.now(UTC))

    def _add_discovered(self) -> None:
        known = {job.id for job in self.scheduler.get_jobs()}
        now = dt.datetime.now(UTC)
        for job in plan_jobs(self.options, self.schedules, now=now):
            if job.spec.id not in known and self.scheduler.running:
                log.info("new job %s (discovered source)", job.spec.id)
                self._add(job, now)

    # ------------------------------------------------------------ one daemon per database

    def _acquire_lock(self) -> None:
        path = db_lock_path(self.options.db)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "?"
            handle.close()
            raise ScheduleError(f"{self.options.db}: another `clausewatch schedule` is running on this database "
                                f"(pid {holder}, lock {path})") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._lock_file = handle

    def _release_lock(self) -> None:
        if self._lock_file is not None:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)
            self._lock_file.close()
            self._lock_file = None
