"""The scheduler daemon, run for real: `clausewatch schedule` in a subprocess against a replay corpus."""
from __future__ import annotations

import datetime as dt
import http.server
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from clausewatch.db import connect
from clausewatch.db.connection import StoreError
from tests import processes
from tests.conftest import ROOT, run_cli, write_corpus, write_source

TERMS_V1 = "Example Terms\n\n1. You may use the model.\n\n2. You must not use it for weapons.\n"
TERMS_V2 = "Example Terms\n\n1. You may use and modify the model.\n\n2. You must not use it for weapons.\n"
POLICY = "# Policy\n\n1. Do not harm people.\n"


@pytest.fixture
def setup(tmp_path):
    corpus = write_corpus(tmp_path / "corpus", {
        "terms/2024-01-01.txt": ("2024-01-01", TERMS_V1),
        "terms/2025-03-01.txt": ("2025-03-01", TERMS_V2),
        "policy/2024-05-01.md": ("2024-05-01", POLICY),
        "broken/2024-01-01.pdf": ("2024-01-01", "this is a text file, not a PDF\n"),
    })
    sources = tmp_path / "sources"
    write_source(sources, "example-terms", "https://example.org/terms",
                 replay=["terms/2024-01-01.txt", "terms/2025-03-01.txt"])
    write_source(sources, "example-policy", "https://example.org/policy.md", fmt="markdown",
                 replay=["policy/2024-05-01.md"], kind="use-policy")
    env = {"CLAUSEWATCH_SOURCES": str(sources), "CLAUSEWATCH_CONFIG": str(tmp_path / "none.toml"),
           "CLAUSEWATCH_DB": "", "CLAUSEWATCH_STOP_GRACE": "3"}
    return {"corpus": corpus, "sources": sources, "db": tmp_path / "cw.db", "env": env, "tmp": tmp_path}


RUNNING: list[Daemon] = []
# how long a wait may take: generous, because on a loaded machine (CI, a suite run beside others) each job of
# the daemon is a Python subprocess that may take seconds to start; a test that works ends its wait early
WAIT_SECONDS = float(os.environ.get("CLAUSEWATCH_TEST_WAIT", "300"))


@pytest.fixture(autouse=True)
def stop_daemons():
    """Every daemon a test starts is stopped with its children after the test, pass or fail."""
    yield
    while RUNNING:
        daemon = RUNNING.pop()
        processes.stop(daemon.proc)
        daemon._log.close()


class Daemon:
    """`clausewatch schedule ARGS` running in the background; its log (stderr) goes to a file."""

    def __init__(self, setup: dict, *args: str, env: dict | None = None, name: str = "schedule"):
        self.log_path = setup["tmp"] / f"{name}.log"
        self.db = setup["db"]
        self._log = self.log_path.open("w")
        self.proc = processes.popen(
            [sys.executable, "-m", "clausewatch", "schedule", "--db", str(self.db), *args],
            cwd=ROOT, env={**os.environ, **setup["env"], **(env or {})}, stdout=self._log,
            stderr=subprocess.STDOUT, text=True)
        RUNNING.append(self)

    @property
    def log(self) -> str:
        return self.log_path.read_text()

    def wait_for(self, predicate, timeout: float = WAIT_SECONDS, what: str = "") -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the daemon exited ({self.proc.returncode}) waiting for {what}:\n{self.log}")
            if self.db.exists() and _holds(predicate):
                return
            time.sleep(0.3)
        raise AssertionError(f"timed out waiting for {what}:\n{self.log[-4000:]}")

    def stop(self, sig: int = signal.SIGTERM) -> float:
        """Signal the daemon; returns how long it took to exit."""
        started = time.monotonic()
        self.proc.send_signal(sig)
        try:
            self.proc.wait(30)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            self._log.close()
        return time.monotonic() - started


def _holds(predicate) -> bool:
    """A wait condition, read while the daemon may still be creating the database: a table or file that is
    not there yet (or a database still locked by its first migration) means "not yet"."""
    try:
        return bool(predicate())
    except (sqlite3.OperationalError, StoreError, FileNotFoundError):
        return False


def job_runs(db_file: Path, job_id: str | None = None) -> list[dict]:
    db = connect(db_file, readonly=True)
    try:
        where, params = ("WHERE job_id = ?", [job_id]) if job_id else ("", [])
        return list(db.query(f"SELECT * FROM job_runs {where} ORDER BY id", params))
    finally:
        db.close()


def finished(db_file: Path, job_id: str, outcome: str | None = None) -> int:
    return sum(1 for r in job_runs(db_file, job_id)
               if r["finished_at"] and (outcome is None or r["outcome"] == outcome))


def versions(db_file: Path, source_id: str) -> list[dict]:
    db = connect(db_file, readonly=True)
    try:
        return list(db.query("""SELECT v.* FROM versions v JOIN sources s ON s.id = v.source_id
                                WHERE s.source_id = ? ORDER BY seq""", [source_id]))
    finally:
        db.close()


def assert_clean_stop(daemon: Daemon, seconds: float) -> None:
    # a liveness bound, not a speed measure: the running job gets SIGTERM, then SIGKILL after the stop grace
    assert seconds < 60, f"the daemon took {seconds:.1f} s to exit after SIGTERM"
    assert daemon.proc.returncode == 0, daemon.log
    db = connect(daemon.db)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert db.execute("SELECT COUNT(*) FROM job_runs WHERE outcome = 'running' OR finished_at IS NULL"
                      ).fetchone()[0] == 0
    assert db.execute("SELECT COUNT(*) FROM crawl_runs WHERE status = 'running'").fetchone()[0] == 0
    db.close()


def parse(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))


def test_accelerated_schedule_cycles_without_overlap_and_sees_a_change(setup):
    daemon = Daemon(setup, "--replay", str(setup["corpus"]), "--as-of", "2024-06-01", "--every", "2")
    daemon.wait_for(lambda: min(finished(setup["db"], "crawl:example-terms", "ok"),
                                finished(setup["db"], "crawl:example-policy", "ok")) >= 3,
                    what="three successful runs of each source")
    assert_clean_stop(daemon, daemon.stop())

    runs = job_runs(setup["db"])
    # every job writes: one at a time, never overlapping
    spans = sorted((parse(r["started_at"]), parse(r["finished_at"]), r["job_id"]) for r in runs)
    for (_, end, job), (start, _, nxt) in zip(spans, spans[1:], strict=False):
        assert start >= end, f"{nxt} started at {start} before {job} finished at {end}"
    terms = [r for r in runs if r["job_id"] == "crawl:example-terms"]
    assert terms[0]["outcome"] == "ok" and terms[0]["exit_code"] == 0 and terms[0]["detail"] == "1 new version"
    assert all(r["detail"] == "no change" for r in terms[1:] if r["outcome"] == "ok")
    assert all(r["source_id"] == "example-terms" and r["duration_s"] > 0 for r in terms if r["outcome"] == "ok")
    assert [v["valid_from"] for v in versions(setup["db"], "example-terms")] == ["2024-01-01"]
    assert re.search(r"end +crawl:example-terms ok in \d+\.\d s \(1 new version\)", daemon.log)
    assert "SIGTERM: stopping" in daemon.log and "scheduler stopped" in daemon.log

    # the replay date moves forward: the next run of the same schedule stores the new text
    later = Daemon(setup, "--replay", str(setup["corpus"]), "--as-of", "2025-12-31", "--every", "2",
                   name="later")
    later.wait_for(lambda: len(versions(setup["db"], "example-terms")) == 2, what="the 2025 version")
    assert_clean_stop(later, later.stop())
    stored = versions(setup["db"], "example-terms")
    assert stored[1]["valid_from"] == "2025-03-01" and "modify" in stored[1]["text"]
    assert stored[1]["previous_id"] == stored[0]["id"]
    after = job_runs(setup["db"], "crawl:example-terms")[len(terms):]
    assert (after[0]["outcome"], after[0]["detail"]) == ("ok", "1 new version")


def overdue_at_start(log: str) -> list[str]:
    match = re.search(r"scheduler started on .*?: \d+ jobs, \d+ overdue run now(?: \((.*)\))?", log)
    assert match, log
    return match.group(1).split(", ") if match.group(1) else []


def test_restart_runs_what_is_overdue_and_nothing_else(setup):
    corpus = str(setup["corpus"])
    # first start on an empty database: every source is overdue ("never ran") and runs once
    first = Daemon(setup, "--replay", corpus, name="first")
    first.wait_for(lambda: finished(setup["db"], "crawl:example-terms") and
                   finished(setup["db"], "crawl:example-policy"), what="the start-up runs")
    assert {"crawl:example-terms", "crawl:example-policy"} <= set(overdue_at_start(first.log))
    assert_clean_stop(first, first.stop())

    # a restart right away: nothing missed its cron fire, so no crawl runs again
    before = {r["job_id"]: finished(setup["db"], r["job_id"]) for r in job_runs(setup["db"])}
    before.update((f"digest:{c}", finished(setup["db"], f"digest:{c}")) for c in ("daily", "weekly", "immediate"))
    before.setdefault("process", finished(setup["db"], "process"))
    second = Daemon(setup, "--replay", corpus, name="second")
    second.wait_for(lambda: "scheduler started" in second.log, what="the start")
    due = overdue_at_start(second.log)
    assert not [job for job in due if job.startswith("crawl:")], due
    second.wait_for(lambda: all(finished(setup["db"], job) > before[job] for job in due),
                    what="the other overdue jobs (processing, digests)")
    time.sleep(2)
    assert_clean_stop(second, second.stop())
    assert finished(setup["db"], "crawl:example-terms") == 1
    assert finished(setup["db"], "crawl:example-policy") == 1

    # the machine was off over example-terms' cron fire, and a new source was declared meanwhile
    db = connect(setup["db"])
    long_ago = "2001-01-01T00:00:00.000Z"
    db.execute("UPDATE job_runs SET started_at = ?, finished_at = ? WHERE job_id = 'crawl:example-terms'",
               [long_ago, long_ago])
    db.execute("UPDATE sources SET last_success_at = ? WHERE source_id = 'example-terms'", [long_ago])
    db.conn.commit()
    db.close()
    write_source(setup["sources"], "example-new", "https://example.org/new", replay=["terms/2024-01-01.txt"])
    third = Daemon(setup, "--replay", corpus, name="third")
    third.wait_for(lambda: finished(setup["db"], "crawl:example-terms") == 2 and
                   finished(setup["db"], "crawl:example-new") == 1, what="the overdue crawls")
    due = overdue_at_start(third.log)
    assert "crawl:example-terms" in due and "crawl:example-new" in due and "crawl:example-policy" not in due
    assert_clean_stop(third, third.stop())
    assert finished(setup["db"], "crawl:example-policy") == 1


def test_dry_run_lists_every_job_with_its_next_run_time(setup):
    db_file = setup["db"]
    out = run_cli("schedule", "--db", str(db_file), "--dry-run", env=setup["env"], check=True).stdout
    assert not db_file.exists(), "--dry-run must not create the database"
    lines = {line.split()[0]: line for line in out.splitlines() if line.startswith(("crawl:", "process", "digest:"))}
    assert {"crawl:example-terms", "crawl:example-policy", "process", "digest:daily", "digest:weekly",
            "digest:immediate"} <= set(lines)
    assert "overdue: never ran" in lines["crawl:example-terms"]

    run_cli("crawl", "--db", str(db_file), "--replay", str(setup["corpus"]), "--no-process", env=setup["env"],
            check=True)
    out = run_cli("schedule", "--db", str(db_file), "--dry-run", env=setup["env"], check=True).stdout
    crawl_lines = [line for line in out.splitlines() if line.startswith("crawl:")]
    assert len(crawl_lines) == 2
    now = dt.datetime.now(dt.UTC)
    expected = now.replace(hour=6, minute=0, second=0, microsecond=0)   # write_source declares "0 6 * * *"
    if expected <= now:
        expected += dt.timedelta(days=1)
    for line in crawl_lines:
        assert "cron 0 6 * * *" in line and expected.strftime("%Y-%m-%d %H:%M:%S") in line, line
        assert "overdue" not in line
    assert re.search(r"^\d+ jobs \(2 sources\); \d+ would run at start-up$", out, re.MULTILINE)

    every = run_cli("schedule", "--db", str(db_file), "--dry-run", "--every", "30", env=setup["env"],
                    check=True).stdout
    assert all("every 30 s" in line for line in every.splitlines() if line.startswith(("crawl:", "process")))


class _Hook(http.server.BaseHTTPRequestHandler):
    received: list[dict] = []

    def log_message(self, *args):
        pass

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        _Hook.received.append({"path": self.path, "type": self.headers.get("Content-Type"),
                               "json": json.loads(body)})
        self.send_response(204)
        self.end_headers()


@pytest.fixture
def webhook():
    _Hook.received = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/hook", _Hook.received
    server.shutdown()
    server.server_close()


def test_failing_source_notifies_the_operator_once_per_streak(setup, webhook):
    url, received = webhook
    write_source(setup["sources"], "example-broken", "https://example.org/broken.pdf", fmt="pdf",
                 replay=["broken/2024-01-01.pdf"])
    daemon = Daemon(setup, "--replay", str(setup["corpus"]), "--every", "1",
                    env={"CLAUSEWATCH_OPERATOR_WEBHOOK": url, "CLAUSEWATCH_FAILURE_THRESHOLD": "2"})
    daemon.wait_for(lambda: finished(setup["db"], "crawl:example-broken", "failed") >= 3,
                    what="three failed runs of the broken source")
    assert_clean_stop(daemon, daemon.stop())

    assert len(received) == 1, received
    alert = received[0]
    assert alert["path"] == "/hook" and alert["type"] == "application/json"
    assert alert["json"]["event"] == "source_failing" and alert["json"]["source_id"] == "example-broken"
    assert alert["json"]["failures"] == 2 and alert["json"]["threshold"] == 2
    assert "extraction failed" in alert["json"]["last_error"]
    failed = [r for r in job_runs(setup["db"], "crawl:example-broken") if r["outcome"] == "failed"]
    assert all("extraction failed" in r["error"] for r in failed)
    db = connect(setup["db"], readonly=True)
    notes = list(db.query("SELECT * FROM operator_notifications"))
    assert [(n["source_id"], n["channel"], n["ok"], n["failures"], n["job_run_id"]) for n in notes] == \
        [("example-broken", "webhook", 1, 2, failed[1]["id"])]
    assert url not in json.dumps(notes), "the webhook URL must not be published"
    # the healthy sources never alerted
    assert finished(setup["db"], "crawl:example-terms", "ok") >= 1


class _Slow(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802
        _Slow.hits.append(self.path)
        if self.path == "/robots.txt":
            body = b"User-agent: *\nAllow: /\n"
        else:
            time.sleep(20)   # a server that hangs: the crawl is still waiting when the daemon is stopped
            body = TERMS_V1.encode()
        try:
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass


def test_sigterm_during_a_crawl_stops_it_without_a_partial_version(setup):
    _Slow.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sources = setup["tmp"] / "live-sources"
    write_source(sources, "slow-terms", f"http://127.0.0.1:{server.server_address[1]}/terms")
    env = {"CLAUSEWATCH_SOURCES": str(sources), "CLAUSEWATCH_ALLOW_LOCAL": "1"}
    try:
        daemon = Daemon(setup, env=env)
        daemon.wait_for(lambda: "/terms" in _Slow.hits, what="the crawl to request the slow page")
        seconds = daemon.stop()
    finally:
        server.shutdown()
        server.server_close()
    assert_clean_stop(daemon, seconds)
    runs = job_runs(setup["db"], "crawl:slow-terms")
    assert [(r["outcome"], r["error"]) for r in runs] == [("interrupted", "stopped by the scheduler (shutdown)")]
    db = connect(setup["db"], readonly=True)
    assert db.execute("SELECT COUNT(*) FROM versions").fetchone()[0] == 0
    assert [r[0] for r in db.execute("SELECT status FROM crawl_runs")] == ["interrupted"]


def test_a_second_daemon_on_the_same_database_is_refused(setup):
    daemon = Daemon(setup, "--replay", str(setup["corpus"]))
    try:
        daemon.wait_for(lambda: "scheduler started" in daemon.log, what="the start")
        other = run_cli("schedule", "--db", str(setup["db"]), env=setup["env"], timeout=60)
        assert other.returncode == 2
        assert "another `clausewatch schedule` is running on this database" in other.stderr
    finally:
        assert_clean_stop(daemon, daemon.stop(signal.SIGINT))


def test_bad_settings_are_one_line_errors(setup):
    out = run_cli("schedule", "--db", str(setup["db"]), "--dry-run",
                  env={**setup["env"], "CLAUSEWATCH_PROCESS_SCHEDULE": "every hour"})
    assert out.returncode == 2 and "setting process_schedule = 'every hour' is not a cron expression" in out.stderr
    out = run_cli("schedule", "--db", str(setup["db"]), "--as-of", "2024-01-01", env=setup["env"])
    assert out.returncode == 2 and "--as-of needs --replay" in out.stderr
    out = run_cli("schedule", "--db", str(setup["db"]), "--dry-run",
                  env={**setup["env"], "CLAUSEWATCH_FAILURE_THRESHOLD": "0"})
    assert out.returncode == 2 and "failure_threshold" in out.stderr



# ---------------------------------------------------------------- in-process: triggers, overdue, email alerts

def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


@pytest.mark.parametrize("cron, now, previous", [
    ("0 6 * * *", "2025-01-02 05:00:00", "2025-01-01 06:00:00"),
    ("0 6 * * *", "2025-01-02 06:00:00", "2025-01-02 06:00:00"),
    ("*/15 * * * *", "2025-01-02 10:59:59", "2025-01-02 10:45:00"),
    ("0 4 * * mon", "2025-01-08 12:00:00", "2025-01-06 04:00:00"),    # a Wednesday: last Monday
    ("25 9 4 * *", "2025-03-01 00:00:00", "2025-02-04 09:25:00"),
    ("0 0 1 1 *", "2025-06-01 00:00:00", "2025-01-01 00:00:00"),
])
def test_previous_fire_of_a_cron(cron, now, previous):
    from clausewatch.schedules.jobs import JobSpec, previous_fire

    trigger = JobSpec("crawl:x", "crawl", cron, source_id="x").trigger()
    assert previous_fire(trigger, utc(now)) == utc(previous)


def test_overdue_reason():
    from clausewatch.schedules.jobs import JobSpec, overdue_reason

    spec = JobSpec("crawl:x", "crawl", "0 6 * * *", source_id="x")
    trigger, now = spec.trigger(), utc("2025-01-02 07:00:00")
    assert overdue_reason(spec, trigger, now, last_success=None, last_attempt=None) == "never ran"
    assert overdue_reason(spec, trigger, now, last_success=utc("2025-01-02 06:01:00"), last_attempt=None) is None
    # a failed attempt after the fire serves it; an old success does not
    assert overdue_reason(spec, trigger, now, last_success=utc("2024-12-01 06:00:00"),
                          last_attempt=utc("2025-01-02 06:00:30")) is None
    assert "older than the scheduled 2025-01-02 06:00:00" in overdue_reason(
        spec, trigger, now, last_success=utc("2025-01-01 06:00:05"), last_attempt=utc("2025-01-01 06:00:05"))
    every = spec.trigger(every=60)
    assert overdue_reason(spec, every, now, last_success=utc("2025-01-02 06:59:30"), last_attempt=None) is None
    assert overdue_reason(spec, every, now, last_success=utc("2025-01-02 06:58:00"), last_attempt=None)
    process = JobSpec("process", "process", "*/15 * * * *")
    assert overdue_reason(process, process.trigger(), now, last_success=None, last_attempt=None) is None
    assert overdue_reason(process, process.trigger(), now, last_success=None, last_attempt=None,
                          unprocessed=3) == "3 stored versions not processed yet"


def test_email_alert_through_a_real_smtp_server(tmp_path):
    from aiosmtpd.controller import Controller

    from clausewatch.db.job_runs import finish_job_run, start_job_run
    from clausewatch.schedules.jobs import JobSpec
    from clausewatch.schedules.notify import Notifier, NotifyConfig

    class Inbox:
        messages: list = []

        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
            Inbox.messages.append((envelope.mail_from, envelope.rcpt_tos, envelope.content.decode()))
            return "250 OK"

    with socket.socket() as sock:      # Controller(port=0) does not start: bind a free port first
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    controller = Controller(Inbox(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        db = connect(tmp_path / "cw.db")
        spec = JobSpec("crawl:x", "crawl", "0 6 * * *", source_id="x")
        notifier = Notifier(NotifyConfig(threshold=2, email="ops@example.org", smtp_host="127.0.0.1",
                                         smtp_port=port, smtp_from="cw@example.org"))
        sent = []
        for attempt in range(4):
            run = start_job_run(db, spec.id, spec.source_id)
            finish_job_run(db, run, outcome="failed", exit_code=0, error=f"connection refused ({attempt})")
            sent.append(notifier.after_failure(db, spec, run))
        ok = start_job_run(db, spec.id, spec.source_id)
        finish_job_run(db, ok, outcome="ok", exit_code=0)
        for _ in range(2):                # a new streak alerts again
            run = start_job_run(db, spec.id, spec.source_id)
            finish_job_run(db, run, outcome="timeout", error="did not finish")
            sent.append(notifier.after_failure(db, spec, run))
    finally:
        controller.stop()
    assert sent == [[], ["email"], [], [], [], ["email"]]
    sender, rcpts, body = Inbox.messages[0]
    assert sender == "cw@example.org" and rcpts == ["ops@example.org"]
    assert "Subject: clausewatch: source x failed 2 times in a row" in body
    assert "connection refused (1)" in body
