"""Processes the tests start: each in its own session, stopped with its children, pass or fail.

:func:`popen` starts a process as the leader of a new session and remembers the session; :func:`stop`
ends it (SIGTERM to the whole group, SIGKILL after a grace period). At the end of the run,
``conftest.pytest_sessionfinish`` calls :func:`reap` to kill anything still alive in a remembered
session (a grandchild orphaned by a crashed test included), so no process a test started outlives
the test run.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

SESSIONS: set[int] = set()


def popen(args, **kwargs) -> subprocess.Popen:
    proc = subprocess.Popen(args, start_new_session=True, **kwargs)
    SESSIONS.add(proc.pid)
    return proc


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def stop(proc: subprocess.Popen, grace: float = 10) -> None:
    """Stop a process started by :func:`popen` and everything in its session."""
    if proc.poll() is None:
        _signal_group(proc, signal.SIGTERM)
        try:
            proc.wait(grace)
        except subprocess.TimeoutExpired:
            pass
    _signal_group(proc, signal.SIGKILL)    # children that outlived their leader
    if proc.poll() is None:
        proc.kill()
        proc.wait(10)


def run(args, *, timeout: float, input: str | None = None, **kwargs) -> subprocess.CompletedProcess:
    """Like ``subprocess.run(capture_output=True, text=True)``, but a timeout kills the whole session."""
    proc = popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.PIPE if input else None,
                 text=True, **kwargs)
    try:
        out, err = proc.communicate(input, timeout=timeout)
    except subprocess.TimeoutExpired:
        stop(proc, grace=2)
        raise
    finally:
        _signal_group(proc, signal.SIGKILL)
    return subprocess.CompletedProcess(args, proc.returncode, out, err)


def _session_of(pid: str) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2:].split()
    return int(fields[3])   # state ppid pgrp session ...


def survivors() -> list[int]:
    """Live processes in a session a test started."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid() and _session_of(entry) in SESSIONS:
            state = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[0]
            if state != "Z":
                found.append(int(entry))
    return found


def reap(grace: float = 3) -> list[int]:
    """Kill every process still alive in a remembered session; returns the pids that were found."""
    left = survivors()
    for pid in left:
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + grace
    while survivors() and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in survivors():
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return left
