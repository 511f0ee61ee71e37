"""Run one job: its ``clausewatch`` command in a subprocess, with a timeout, recorded in ``job_runs``.

Only one job runs at a time (the daemon gives the scheduler a single worker thread): the scheduler is
the database's single writer. A stop request sends SIGTERM to the running command (a crawl finishes
the document it is storing; every document is stored in one transaction) and SIGKILL after a grace
period; the run is then recorded as ``interrupted``.
"""
from __future__ import annotations

import logging
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from clausewatch.db import connect
from clausewatch.db.job_runs import (
    FAILED,
    close_crawl_run_of,
    crawl_result,
    finish_job_run,
    start_job_run,
    unprocessed_versions,
)
from clausewatch.schedules.jobs import JobSpec, RunOptions

log = logging.getLogger("clausewatch.schedule")
SKIPPED_LINE = re.compile(r"^\s*skipped (?P<sid>\S+): (?P<why>.+)$", re.MULTILINE)
OUTPUT_TAIL = 60


class DigestProbe:
    """Whether ``clausewatch digest`` exists (another part of the project provides it), checked again at
    every run until it does; its help tells which options it takes."""

    def __init__(self, options: RunOptions):
        self.options = options
        self.flags: tuple[str, ...] | None = None
        self.problem = "not checked yet"

    def available(self) -> bool:
        if self.flags is not None:
            return True
        cmd = [self.options.python, "-m", "clausewatch", "digest", "--help"]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        except (OSError, subprocess.TimeoutExpired) as exc:
            self.problem = f"`clausewatch digest --help` failed: {exc}"
            return False
        if proc.returncode != 0:
            lines = [line for line in (proc.stderr or proc.stdout).splitlines() if line.strip()]
            self.problem = "`clausewatch digest` is not available" + (f" ({lines[-1].strip()})" if lines else "")
            return False
        if "--cadence" not in proc.stdout:
            self.problem = "`clausewatch digest` has no --cadence option"
            return False
        self.flags = ("--db", str(self.options.db)) if "--db" in proc.stdout else ()
        self.problem = ""
        return True


class Runner:
    def __init__(self, options: RunOptions, *, timeout: float, stop_grace: float,
                 on_failure: Callable[[Any, JobSpec, int], None] | None = None,
                 on_new_versions: Callable[[], None] | None = None,
                 on_discovered: Callable[[], None] | None = None):
        self.options = options
        self.timeout = timeout
        self.stop_grace = stop_grace
        self.on_failure = on_failure
        self.on_new_versions = on_new_versions
        self.on_discovered = on_discovered
        self.digest = DigestProbe(options)
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._child: subprocess.Popen | None = None
        self._signalled = False
        self._reported_unavailable: set[str] = set()
        self._idle = threading.Event()
        self._idle.set()

    # ------------------------------------------------------------ called by the scheduler's worker

    def run(self, spec: JobSpec) -> dict[str, Any] | None:
        """Run ``spec`` once and record it. Returns the finished ``job_runs`` row (None when stopping)."""
        if self.stopping.is_set():
            return None
        self._idle.clear()
        try:
            return self._run(spec)
        finally:
            self._idle.set()

    def _run(self, spec: JobSpec) -> dict[str, Any] | None:
        db = connect(self.options.db)
        try:
            if spec.kind == "digest" and not self.digest.available():
                log.info("skip  %s: %s", spec.id, self.digest.problem)
                if spec.id in self._reported_unavailable:   # recorded once per daemon run, logged every time
                    return None
                self._reported_unavailable.add(spec.id)
                run_id = start_job_run(db, spec.id, spec.source_id)
                return finish_job_run(db, run_id, outcome="unavailable", error=self.digest.problem)
            run_id = start_job_run(db, spec.id, spec.source_id)
            started_at = db["job_runs"].get(run_id)["started_at"]
            command = spec.command(self.options, self.digest.flags or ())
            log.info("start %s", spec.id)
            started = time.monotonic()
            returncode = None
            try:
                returncode, output, timed_out, signalled, pid = self._execute(command)
                outcome, error, detail = self._judge(db, spec, returncode, output, timed_out, signalled, pid,
                                                     started_at)
            except Exception as exc:   # the scheduler's own fault (database error ...): record it, keep running
                outcome, error, detail = "failed", f"scheduler error: {type(exc).__name__}: {exc}", None
            row = finish_job_run(db, run_id, outcome=outcome, exit_code=returncode, error=error, detail=detail)
            took = time.monotonic() - started
            log.info("end   %s %s in %.1f s%s", spec.id, outcome, took,
                     f": {error}" if error else (f" ({detail})" if detail else ""))
            self._after(db, spec, row)
            return row
        finally:
            db.close()

    def _execute(self, command: list[str]) -> tuple[int | None, str, bool, bool, int | None]:
        with self._lock:
            if self.stopping.is_set():
                return None, "", False, True, None
            try:
                proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                        errors="replace", start_new_session=True)
            except OSError as exc:
                return None, f"cannot start {command[0]}: {exc}", False, False, None
            self._child, self._signalled = proc, False
        timed_out = False
        try:
            output, _ = proc.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            self._terminate(proc)
            output, _ = proc.communicate()
        with self._lock:
            self._child = None
            signalled = self._signalled
        return proc.returncode, output or "", timed_out, signalled, proc.pid

    def _judge(self, db, spec: JobSpec, returncode: int | None, output: str, timed_out: bool, signalled: bool,
               pid: int | None, started_at: str) -> tuple[str, str | None, str | None]:
        """outcome, error, detail of a finished command."""
        crawls = spec.kind in ("crawl", "discover")
        result = crawl_result(db, pid, started_at, spec.source_id if spec.kind == "crawl" else None) \
            if crawls and pid is not None else None
        if pid is not None and (signalled or timed_out or (returncode or 0) < 0):
            # a killed crawl could not close its crawl run (its stored documents are whole: one transaction each)
            close_crawl_run_of(db, pid, started_at, "stopped by the scheduler")
        finished_anyway = bool(result and result["status"] == "ok")   # the signal came after its work was done
        if signalled and returncode != 0 and not finished_anyway:
            return "interrupted", "stopped by the scheduler (shutdown)", None
        if timed_out:
            return "timeout", f"did not finish within {self.timeout:g} s (stopped)", None
        if returncode is None:
            return "failed", output or "could not start", None
        if returncode != 0 and not (signalled and finished_anyway):
            if spec.kind == "crawl" and result and result["last_outcome"] in ("error", "gone") and result["error"]:
                return "failed", result["error"], None    # the fetch's own error says more than the exit code
            return "failed", f"exit code {returncode}: {error_line(output)}", None
        if not crawls:
            return "ok", None, last_line(output)
        if result is None:
            return "failed", "the crawl recorded no run", None
        if result["fetches"] == 0:
            reasons = {m["sid"]: m["why"].strip() for m in SKIPPED_LINE.finditer(output)}
            return "skipped", None, reasons.get(spec.source_id or "", "nothing fetched")
        news = result["new_versions"]
        detail = f"{news} new version{'s' if news != 1 else ''}" if news else "no change"
        if spec.kind == "crawl" and result["last_outcome"] in ("error", "gone"):
            return "failed", result["error"], None
        if result["failed"]:
            detail += f", {result['failed']} fetches failed: {result['error']}"
        return "ok", None, detail

    def _after(self, db, spec: JobSpec, row: dict[str, Any]) -> None:
        if self.stopping.is_set():
            return
        if spec.kind == "crawl" and row["outcome"] in FAILED and self.on_failure:
            self.on_failure(db, spec, row["id"])
        if spec.kind in ("crawl", "discover") and row["outcome"] == "ok":
            if self.on_new_versions and unprocessed_versions(db):
                self.on_new_versions()
            if spec.kind == "discover" and self.on_discovered:
                self.on_discovered()

    # ------------------------------------------------------------ stopping

    def _terminate(self, proc: subprocess.Popen) -> None:
        _signal_group(proc, signal.SIGTERM)
        try:
            proc.wait(self.stop_grace)
        except subprocess.TimeoutExpired:
            _signal_group(proc, signal.SIGKILL)

    def stop(self) -> None:
        """No new job starts; the running command gets SIGTERM now and SIGKILL after the grace period."""
        with self._lock:
            self.stopping.set()
            proc = self._child
            if proc is None or proc.poll() is not None:
                return
            self._signalled = True
        _signal_group(proc, signal.SIGTERM)
        timer = threading.Timer(self.stop_grace, _signal_group, [proc, signal.SIGKILL])
        timer.daemon = True
        timer.start()

    def kill(self) -> None:
        with self._lock:
            self.stopping.set()
            proc = self._child
            if proc is not None:
                self._signalled = True
        if proc is not None:
            _signal_group(proc, signal.SIGKILL)

    def wait_idle(self, timeout: float) -> bool:
        return self._idle.wait(timeout)


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, sig)   # the command runs in its own session: its children stop too
    except (ProcessLookupError, PermissionError):
        pass


def error_line(output: str) -> str:
    """The line that says what went wrong: our CLI's error line, else the last line (a traceback's)."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith("clausewatch: error:"):
            return line.removeprefix("clausewatch: error:").strip()
    return lines[-1][:500] if lines else "no output"


def last_line(output: str) -> str | None:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return lines[-1][:500] if lines else None


def db_lock_path(db: Path) -> Path:
    return db.with_name(db.name + ".schedule.lock")
