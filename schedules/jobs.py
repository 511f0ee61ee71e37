"""What the scheduler runs: one job per source (its declared cron), processing, digests, discoveries.

A job is a ``clausewatch`` command run in a subprocess (Scrapy's reactor cannot restart in one process).
Which jobs are due at start-up is decided from the database (last success of a source, last finished
run of a job), never from a job store: restarting the daemon neither repeats nor forgets a run.
"""
from __future__ import annotations

import datetime as dt
import sys
from dataclasses import dataclass
from pathlib import Path

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

UTC = dt.UTC
CADENCES = ("immediate", "daily", "weekly")
DEFAULT_SCHEDULES = {
    "process": "*/15 * * * *",
    "digest:immediate": "*/10 * * * *",
    "digest:daily": "0 7 * * *",
    "digest:weekly": "0 7 * * mon",  # APScheduler numbers weekdays from Monday = 0: use names
}


@dataclass(frozen=True)
class RunOptions:
    """How every job's command line is built (from `clausewatch schedule` options)."""

    db: Path
    replay: Path | None = None
    as_of: str | None = None
    every: float | None = None
    python: str = sys.executable


@dataclass(frozen=True)
class JobSpec:
    id: str                       # crawl:SOURCE | discover:ID | process | digest:CADENCE
    kind: str                     # crawl | discover | process | digest
    schedule: str                 # cron expression (minute hour day month weekday), UTC
    source_id: str | None = None
    cadence: str | None = None

    def trigger(self, every: float | None = None) -> BaseTrigger:
        """The declared cron, or an interval of ``every`` seconds (demos and tests)."""
        if every:
            return IntervalTrigger(seconds=every, timezone=UTC)
        return CronTrigger.from_crontab(self.schedule, timezone=UTC)

    def describe_trigger(self, every: float | None = None) -> str:
        return f"every {every:g} s" if every else f"cron {self.schedule}"

    def command(self, options: RunOptions, digest_flags: tuple[str, ...] = ()) -> list[str]:
        base = [options.python, "-m", "clausewatch"]
        if self.kind in ("crawl", "discover"):
            args = ["crawl", "--db", str(options.db), "--no-process"]
            if self.kind == "crawl":
                args += ["--source", str(self.source_id)]
            else:
                args += ["--discovery", self.id.split(":", 1)[1]]
            if options.replay is not None:
                args += ["--replay", str(options.replay)]
            if options.as_of:
                args += ["--as-of", options.as_of]
            return base + args
        if self.kind == "process":
            return base + ["process", "--db", str(options.db)]
        if self.kind == "digest":
            return base + ["digest", "--cadence", str(self.cadence), *digest_flags]
        raise ValueError(f"job {self.id}: unknown kind {self.kind!r}")


def build_specs(registry, discovered: list[dict], schedules: dict[str, str]) -> list[JobSpec]:
    """Jobs for a loaded registry, the sources discovered so far (rows with ``source_id``, ``schedule``,
    ``discovered_from``) and the configured schedules of the processing and digest jobs."""
    specs = [JobSpec(f"crawl:{s.id}", "crawl", s.schedule, source_id=s.id)
             for s in sorted(registry.sources.values(), key=lambda s: s.id)]
    declared = {s.source_id for s in specs}
    for row in discovered:
        if row["source_id"] not in declared and row.get("schedule"):
            specs.append(JobSpec(f"crawl:{row['source_id']}", "crawl", row["schedule"], source_id=row["source_id"]))
    specs += [JobSpec(f"discover:{d.id}", "discover", d.schedule) for d in
              sorted(registry.discoveries.values(), key=lambda d: d.id)]
    specs.append(JobSpec("process", "process", schedules["process"]))
    specs += [JobSpec(f"digest:{c}", "digest", schedules[f"digest:{c}"], cadence=c) for c in CADENCES]
    return specs


def configured_schedules(setting) -> dict[str, str]:
    """The processing and digest crons from config (``process_schedule``, ``digest_daily_schedule`` ...).

    Each is checked here so that a bad one is reported before the daemon starts."""
    result = {}
    for key, default in DEFAULT_SCHEDULES.items():
        name = "process_schedule" if key == "process" else f"digest_{key.split(':')[1]}_schedule"
        value = str(setting(name, default))
        try:
            CronTrigger.from_crontab(value, timezone=UTC)
        except ValueError as exc:
            raise ValueError(f"setting {name} = {value!r} is not a cron expression: {exc}") from None
        result[key] = value
    return result


def previous_fire(trigger: BaseTrigger, now: dt.datetime) -> dt.datetime | None:
    """The latest time at or before ``now`` when ``trigger`` fired (None if it never did within 5 years)."""
    if isinstance(trigger, IntervalTrigger):
        return now - trigger.interval
    second = dt.timedelta(seconds=1)
    for window in (dt.timedelta(hours=2), dt.timedelta(days=2), dt.timedelta(days=32),
                   dt.timedelta(days=367), dt.timedelta(days=5 * 366)):
        fire = trigger.get_next_fire_time(None, now - window)
        if fire is None or fire > now:
            continue
        while True:
            following = trigger.get_next_fire_time(fire, fire + second)
            if following is None or following > now:
                return fire
            fire = following
    return None


def overdue_reason(spec: JobSpec, trigger: BaseTrigger, now: dt.datetime, *,
                   last_success: dt.datetime | None, last_attempt: dt.datetime | None,
                   unprocessed: int = 0) -> str | None:
    """Why ``spec`` must run at start-up rather than wait for its next fire (None: it waits).

    A fire is served by a success or by any finished attempt (a failure too: it is retried at the next
    fire, not at every restart); an interrupted run serves nothing.
    """
    if spec.kind == "process":
        return f"{unprocessed} stored versions not processed yet" if unprocessed else None
    last = max([t for t in (last_success, last_attempt) if t is not None], default=None)
    previous = previous_fire(trigger, now)
    if last is None:
        return "never ran"
    if previous is not None and last < previous:
        return f"last run {_short(last)} is older than the scheduled {_short(previous)}"
    return None


def _short(when: dt.datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
