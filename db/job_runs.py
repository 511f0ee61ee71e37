"""Run history of the scheduler (``job_runs``) and the operator notifications it sent.

Times are UTC ISO 8601 with milliseconds (``2025-01-31T06:00:01.250Z``) so that runs a fraction of a
second apart still order and never seem to overlap. Compare them with other tables' times after parsing
(:func:`parse_time`), not as strings.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlite_utils import Database

# outcomes that close a run; "running" is the only open one
OUTCOMES = ("ok", "failed", "timeout", "interrupted", "skipped", "unavailable")
FAILED = ("failed", "timeout")
# a finished attempt serves its scheduled fire: it is not repeated on restart
ATTEMPTED = ("ok", "failed", "timeout", "skipped")
# cluster mode: a crawl job handed to the workers, open until the writer stores its result; it serves its
# fire from the moment it is queued (the duplicate filter would drop the same job queued again anyway)
QUEUED = "queued"


def now_ms() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(value: str | None) -> dt.datetime | None:
    """A stored UTC timestamp (with or without fraction, ``Z`` or offset) as an aware datetime."""
    if not value:
        return None
    parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def start_job_run(db: Database, job_id: str, source_id: str | None = None) -> int:
    return db["job_runs"].insert({"job_id": job_id, "source_id": source_id, "started_at": now_ms(),
                                  "outcome": "running"}).last_pk


def finish_job_run(db: Database, run_id: int, *, outcome: str, exit_code: int | None = None,
                   error: str | None = None, detail: str | None = None) -> dict[str, Any]:
    if outcome not in OUTCOMES:
        raise ValueError(f"job run outcome {outcome!r} is not one of {', '.join(OUTCOMES)}")
    row = db["job_runs"].get(run_id)
    finished = now_ms()
    started = parse_time(row["started_at"])
    duration = (parse_time(finished) - started).total_seconds() if started else None
    db["job_runs"].update(run_id, {"finished_at": finished, "outcome": outcome, "exit_code": exit_code,
                                   "error": error, "detail": detail,
                                   "duration_s": round(duration, 3) if duration is not None else None})
    return db["job_runs"].get(run_id)


def queue_job_run(db: Database, job_id: str, source_id: str | None = None) -> int:
    """A cluster job handed to the workers: open (outcome ``queued``) until :func:`finish_queued_run`."""
    return db["job_runs"].insert({"job_id": job_id, "source_id": source_id, "started_at": now_ms(),
                                  "outcome": QUEUED}).last_pk


def finish_queued_run(db: Database, run_id: int, *, outcome: str, error: str | None = None,
                      detail: str | None = None) -> bool:
    """Close a queued run with what the writer stored (only once: False when it was closed already)."""
    row = db.execute("SELECT outcome FROM job_runs WHERE id = ?", [run_id]).fetchone()
    if row is None or row[0] != QUEUED:
        return False
    finish_job_run(db, run_id, outcome=outcome, error=error, detail=detail)
    return True


def finished_failures_since(db: Database, since: str) -> list[dict[str, Any]]:
    """Crawl runs that ended failed or timed out at or after ``since`` (cluster mode: the writer closes them)."""
    marks = ",".join("?" * len(FAILED))
    return list(db.query(f"""SELECT id, job_id, source_id, finished_at FROM job_runs
                             WHERE outcome IN ({marks}) AND finished_at >= ? AND job_id LIKE 'crawl:%'
                             ORDER BY id""", [*FAILED, since]))


def close_open_runs(db: Database, reason: str) -> int:
    """Close every run still marked running (left by a scheduler that died) as interrupted."""
    with db.atomic():
        cursor = db.execute(
            "UPDATE job_runs SET outcome = 'interrupted', finished_at = ?, error = ? WHERE outcome = 'running'",
            [now_ms(), reason])
    return cursor.rowcount


def close_crawl_run_of(db: Database, pid: int, since: str, reason: str) -> int:
    """Mark the crawl run started by process ``pid`` (killed before it could close it) as interrupted."""
    with db.atomic():
        cursor = db.execute(
            """UPDATE crawl_runs SET status = 'interrupted', error = ?, finished_at = ?
               WHERE pid = ? AND status = 'running' AND started_at >= ?""",
            [reason, now_ms()[:19] + "Z", pid, since[:19] + "Z"])
    return cursor.rowcount


def last_attempts(db: Database) -> dict[str, dt.datetime]:
    """job_id -> end of its latest finished attempt, or when it was queued (interrupted runs do not count)."""
    marks = ",".join("?" * (len(ATTEMPTED) + 1))
    rows = db.execute(f"""SELECT job_id, MAX(COALESCE(finished_at, started_at)) FROM job_runs
                          WHERE outcome IN ({marks}) AND (finished_at IS NOT NULL OR outcome = ?)
                          GROUP BY job_id""", [*ATTEMPTED, QUEUED, QUEUED]).fetchall()
    return {job_id: parse_time(at) for job_id, at in rows if at}


def last_successes(db: Database) -> dict[str, dt.datetime]:
    """source_id -> its last successful fetch, whoever ran it (the scheduler or `clausewatch crawl`)."""
    rows = db.execute("SELECT source_id, last_success_at FROM sources WHERE last_success_at IS NOT NULL")
    return {sid: parse_time(at) for sid, at in rows.fetchall()}


def discovered_sources(db: Database) -> list[dict[str, Any]]:
    """Active sources added by a discovery listing (they are not in the registry files)."""
    return list(db.query("""SELECT source_id, schedule, discovered_from FROM sources
                            WHERE active = 1 AND discovered_from IS NOT NULL ORDER BY source_id"""))


def unprocessed_versions(db: Database) -> int:
    return db.execute("SELECT COUNT(*) FROM versions WHERE processed_at IS NULL").fetchone()[0]


def crawl_result(db: Database, pid: int, since: str, source_id: str | None) -> dict[str, Any] | None:
    """What the crawl process ``pid`` (started at ``since`` or later) did, for one source or all.

    Returns None when that process left no crawl run; else the run id, its status, the outcome of the
    source's last fetch (None when nothing was fetched), its error, and how many new versions it stored.
    """
    run = db.execute("SELECT id, status, error FROM crawl_runs WHERE pid = ? AND started_at >= ? "
                     "ORDER BY id DESC LIMIT 1", [pid, since[:19] + "Z"]).fetchone()
    if run is None:
        return None
    where, params = "f.run_id = ? AND f.part IS NULL", [run[0]]
    if source_id is not None:
        where += " AND s.source_id = ?"
        params.append(source_id)
    fetches = db.execute(f"""SELECT f.outcome, f.error, s.source_id FROM fetches f
                             JOIN sources s ON s.id = f.source_id WHERE {where} ORDER BY f.id""",
                         params).fetchall()
    failed = [(sid, error) for outcome, error, sid in fetches if outcome in ("error", "gone")]
    last = fetches[-1] if fetches else None
    return {"run_id": run[0], "status": run[1], "run_error": run[2], "fetches": len(fetches),
            "last_outcome": last[0] if last else None,
            "error": "; ".join(error if source_id else f"{sid}: {error}" for sid, error in failed[-3:]) or None,
            "failed": len(failed),
            "new_versions": sum(1 for outcome, _, _ in fetches if outcome == "new_version")}


def failure_streak(db: Database, job_id: str) -> dict[str, Any]:
    """Failed runs of ``job_id`` since its last success (skipped and interrupted runs are neutral),
    and whether the operator was already told about this streak."""
    last_ok = db.execute("SELECT COALESCE(MAX(id), 0) FROM job_runs WHERE job_id = ? AND outcome = 'ok'",
                         [job_id]).fetchone()[0]
    marks = ",".join("?" * len(FAILED))
    failures = list(db.query(f"""SELECT id, started_at, outcome, error FROM job_runs
                                 WHERE job_id = ? AND id > ? AND outcome IN ({marks}) ORDER BY id""",
                             [job_id, last_ok, *FAILED]))
    notified = db.execute("""SELECT COUNT(*) FROM operator_notifications
                             WHERE job_id = ? AND ok = 1 AND job_run_id > ?""", [job_id, last_ok]).fetchone()[0]
    return {"count": len(failures), "runs": failures, "notified": notified > 0}


def record_notification(db: Database, *, job_id: str, source_id: str | None, job_run_id: int, failures: int,
                        channel: str, ok: bool, error: str | None = None) -> int:
    return db["operator_notifications"].insert({
        "job_id": job_id, "source_id": source_id, "job_run_id": job_run_id, "failures": failures,
        "channel": channel, "sent_at": now_ms(), "ok": int(ok), "error": error}).last_pk


def recent_runs(db: Database, limit: int = 20) -> list[dict[str, Any]]:
    return list(db.query("SELECT * FROM job_runs ORDER BY id DESC LIMIT ?", [limit]))
