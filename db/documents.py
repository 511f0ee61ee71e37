"""Sources, crawl runs, fetches, snapshots and versions.

Every document a crawl stores goes in through :func:`record_document` in one transaction: a fetch
row, its snapshots, the version (only when the extracted text changed) and the source's state.
A crash can lose the document being stored, never half of it.
"""
from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterable
from typing import Any

from sqlite_utils import Database

from clausewatch.db.connection import now_iso
from clausewatch.db.records import Fetched

JSON_COLUMNS = ("selectors", "incorporates")


def _insert(db: Database, table: str, row: dict[str, Any]) -> int:
    """One plain INSERT on the hot path of storing a fetch (sqlite-utils' insert reads the table's schema
    on every call: most of a fetch's storing time at thousands of items). Values are scalars."""
    columns = ", ".join(f"[{k}]" for k in row)
    cursor = db.execute(f"INSERT INTO [{table}] ({columns}) VALUES ({', '.join('?' * len(row))})", list(row.values()))
    return cursor.lastrowid


def _update(db: Database, table: str, pk: int, values: dict[str, Any]) -> None:
    assignments = ", ".join(f"[{k}] = ?" for k in values)
    db.execute(f"UPDATE [{table}] SET {assignments} WHERE id = ?", [*values.values(), pk])


def sha256(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode("utf-8")
    return hashlib.sha256(data).hexdigest()


# ---------------------------------------------------------------- sources

def sync_sources(db: Database, rows: Iterable[dict[str, Any]], *, deactivate_missing: bool = True) -> dict:
    """Insert or update declared sources (by ``source_id``); sources no longer declared become inactive.

    Discovered sources (``discovered_from`` set) are never deactivated here. Returns counts.
    """
    now = now_iso()
    seen, added, updated = set(), 0, 0
    with db.atomic():
        for row in rows:
            row = {k: (json.dumps(v) if k in JSON_COLUMNS and v is not None else v) for k, v in row.items()}
            seen.add(row["source_id"])
            existing = db.execute("SELECT id FROM sources WHERE source_id = ?", [row["source_id"]]).fetchone()
            if existing:
                db["sources"].update(existing[0], {**row, "active": 1, "updated_at": now})
                updated += 1
            else:
                db["sources"].insert({**row, "active": 1, "created_at": now, "updated_at": now})
                added += 1
        deactivated = 0
        if deactivate_missing:
            for pk, sid in db.execute(
                "SELECT id, source_id FROM sources WHERE active = 1 AND discovered_from IS NULL"
            ).fetchall():
                if sid not in seen:
                    db["sources"].update(pk, {"active": 0, "updated_at": now})
                    deactivated += 1
    return {"added": added, "updated": updated, "deactivated": deactivated}


def add_discovered_sources(db: Database, rows: Iterable[dict[str, Any]]) -> list[str]:
    """Insert newly discovered sources that are not known by id or URL. Returns the new ids."""
    added = []
    now = now_iso()
    with db.atomic():
        for row in rows:
            known = db.execute("SELECT 1 FROM sources WHERE source_id = ? OR url = ?",
                               [row["source_id"], row["url"]]).fetchone()
            if known:
                continue
            row = {k: (json.dumps(v) if k in JSON_COLUMNS and v is not None else v) for k, v in row.items()}
            db["sources"].insert({**row, "active": 1, "created_at": now, "updated_at": now})
            added.append(row["source_id"])
    return added


def record_discovered(db: Database, item_id: str, rows: Iterable[dict[str, Any]]) -> list[str] | None:
    """Cluster mode: the sources one discovery listing revealed, stored once per item id.

    Returns the ids of the sources added, or None when this item was stored before."""
    with db.atomic():
        if db.execute("SELECT 1 FROM stored_items WHERE item_id = ?", [item_id]).fetchone():
            return None
        added = add_discovered_sources(db, rows)
        db["stored_items"].insert({"item_id": item_id, "fetch_id": None, "stored_at": now_iso()})
    return added


def source_rows(db: Database, *, active_only: bool = True) -> list[dict[str, Any]]:
    where = "WHERE active = 1" if active_only else ""
    rows = list(db.query(f"SELECT * FROM sources {where} ORDER BY source_id"))
    for row in rows:
        for col in JSON_COLUMNS:
            if row.get(col):
                row[col] = json.loads(row[col])
    return rows


def source_pk(db: Database, source_id: str) -> int | None:
    row = db.execute("SELECT id FROM sources WHERE source_id = ?", [source_id]).fetchone()
    return row[0] if row else None


# ---------------------------------------------------------------- runs

def start_run(db: Database, *, mode: str, as_of: str | None = None, corpus: str | None = None,
              pid: int | None = None, sources: int = 0) -> int:
    return db["crawl_runs"].insert({"started_at": now_iso(), "mode": mode, "as_of": as_of, "corpus": corpus,
                                    "pid": pid, "sources": sources, "status": "running"}).last_pk


def finish_run(db: Database, run_id: int, *, status: str, error: str | None = None,
               count_sources: bool = False) -> dict[str, Any]:
    counts = dict(db.execute(
        """SELECT outcome, COUNT(*) FROM fetches WHERE run_id = ? AND part IS NULL GROUP BY outcome""", [run_id]
    ).fetchall())
    totals = db.execute("SELECT COUNT(*), COALESCE(SUM(bytes), 0) FROM fetches WHERE run_id = ?",
                        [run_id]).fetchone()
    update = {
        "finished_at": now_iso(), "status": status, "error": error, "requests": totals[0], "bytes": totals[1],
        "not_modified": counts.get("not_modified", 0), "unchanged": counts.get("unchanged", 0),
        "new_versions": counts.get("new_version", 0), "technical": counts.get("technical", 0),
        "held": counts.get("held", 0), "errors": counts.get("error", 0) + counts.get("gone", 0),
    }
    if count_sources:   # a cluster writer's run: the sources it stored a fetch of
        update["sources"] = db.execute("SELECT COUNT(DISTINCT source_id) FROM fetches WHERE run_id = ?",
                                       [run_id]).fetchone()[0]
    db["crawl_runs"].update(run_id, update)
    return db["crawl_runs"].get(run_id)


# ---------------------------------------------------------------- snapshots and versions

def store_snapshot(db: Database, body: bytes, content_type: str | None = None) -> int:
    digest = sha256(body)
    row = db.execute("SELECT id FROM snapshots WHERE sha256 = ?", [digest]).fetchone()
    if row:
        return row[0]
    return _insert(db, "snapshots", {
        "sha256": digest, "size": len(body), "compression": "zlib", "content": zlib.compress(body, 6),
        "content_type": content_type, "first_seen_at": now_iso(),
    })


def snapshot_bytes(db: Database, snapshot_id: int) -> bytes:
    row = db.execute("SELECT compression, content FROM snapshots WHERE id = ?", [snapshot_id]).fetchone()
    if row is None:
        raise KeyError(f"snapshot {snapshot_id} not found")
    return zlib.decompress(row[1]) if row[0] == "zlib" else row[1]


def latest_version(db: Database, source: int) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM versions WHERE source_id = ? ORDER BY seq DESC LIMIT 1", [source]))
    return rows[0] if rows else None


def record_document(db: Database, run_id: int | None, fetched: Fetched, *, text: str | None = None,
                    title: str | None = None, extractor_version: str | None = None,
                    valid_from: str | None = None, hold_reason: str | None = None,
                    state: dict[str, Any] | None = None, extraction_key: str | None = None) -> dict[str, Any]:
    """Store one fetched document atomically. Returns ``{"outcome", "version_id", "fetch_id"}``.

    ``text`` is the extracted text (None when there is nothing to extract: 304, errors). A new version
    row is written only when the text differs from the source's latest version; when the raw bytes are
    the same as those of the latest version (same extractor input) but the text differs, the version is
    marked technical (a re-extraction, not a change of the document).

    A record with an ``item_id`` (cluster mode) is stored once: the id is recorded in ``stored_items`` in the
    same transaction, and storing it again returns outcome ``duplicate`` and changes nothing.
    """
    now = fetched.requested_at
    result: dict[str, Any] = {"outcome": fetched.outcome, "version_id": None}
    with db.atomic():
        if fetched.item_id is not None:
            stored = db.execute("SELECT fetch_id FROM stored_items WHERE item_id = ?", [fetched.item_id]).fetchone()
            if stored is not None:   # delivered again (a writer restart, a re-run request): stored once
                result.update(outcome="duplicate", fetch_id=stored[0])
                return result
        snapshot_id = store_snapshot(db, fetched.body, fetched.content_type) if fetched.body else None
        part_ids = [(name, store_snapshot(db, body, meta.get("content_type")), meta)
                    for name, body, meta in fetched.parts]
        outcome = fetched.outcome
        version_id = None
        if text is not None and hold_reason is None:
            text_hash = sha256(text)
            latest = latest_version(db, fetched.source)
            if latest and latest["text_sha256"] == text_hash:
                outcome = "unchanged"
            else:
                raw_same = latest is not None and _version_raw(db, latest["id"]) == _raw_key(snapshot_id, part_ids)
                outcome = "technical" if raw_same else "new_version"
                version_id = _insert(db, "versions", {
                    "source_id": fetched.source, "seq": (latest["seq"] + 1) if latest else 1,
                    "fetched_at": now, "valid_from": valid_from or now[:10], "title": title, "text": text,
                    "text_sha256": text_hash, "chars": len(text), "extractor_version": extractor_version or "?",
                    "extraction_key": extraction_key, "technical": int(raw_same),
                    "previous_id": latest["id"] if latest else None,
                })
                links = [{"version_id": version_id, "snapshot_id": snapshot_id, "part": None, "ordinal": 0}]
                links += [{"version_id": version_id, "snapshot_id": sid, "part": name, "ordinal": i + 1}
                          for i, (name, sid, _) in enumerate(part_ids)]
                for link in links:
                    _insert(db, "version_snapshots", link)
        elif hold_reason is not None:
            outcome = "held"
        fetch_id = _insert(db, "fetches", {
            "run_id": run_id, "source_id": fetched.source, "url": fetched.url, "final_url": fetched.final_url,
            "requested_at": now, "as_of": fetched.as_of, "http_status": fetched.http_status,
            "etag": fetched.etag, "last_modified": fetched.last_modified, "content_type": fetched.content_type,
            "bytes": len(fetched.body) if fetched.body else 0, "duration_ms": fetched.duration_ms,
            "outcome": outcome, "error": fetched.error, "snapshot_id": snapshot_id, "version_id": version_id,
        })
        for name, sid, meta in part_ids:
            _insert(db, "fetches", {
                "run_id": run_id, "source_id": fetched.source, "url": meta.get("url", name), "part": name,
                "requested_at": meta.get("requested_at", now), "as_of": fetched.as_of,
                "http_status": meta.get("http_status"), "etag": meta.get("etag"),
                "last_modified": meta.get("last_modified"), "content_type": meta.get("content_type"),
                "bytes": meta.get("bytes"), "duration_ms": meta.get("duration_ms"), "outcome": "part",
                "snapshot_id": sid,
            })
        if hold_reason is not None:
            db["held_versions"].insert({
                "source_id": fetched.source, "fetch_id": fetch_id, "held_at": now, "reason": hold_reason,
                "text": text or "", "text_sha256": sha256(text or ""), "snapshot_id": snapshot_id,
            })
        _update_source_state(db, fetched, outcome, snapshot_id, version_id, state or {})
        if fetched.item_id is not None:
            _insert(db, "stored_items", {"item_id": fetched.item_id, "fetch_id": fetch_id, "stored_at": now_iso()})
    result.update(outcome=outcome, version_id=version_id, fetch_id=fetch_id)
    return result


def _raw_key(snapshot_id: int | None, part_ids: list) -> tuple:
    return (snapshot_id, *[sid for _, sid, _ in part_ids])


def _version_raw(db: Database, version_id: int) -> tuple:
    return tuple(r[0] for r in db.execute(
        "SELECT snapshot_id FROM version_snapshots WHERE version_id = ? ORDER BY ordinal", [version_id]))


def _update_source_state(db: Database, fetched: Fetched, outcome: str, snapshot_id: int | None,
                         version_id: int | None, state: dict[str, Any]) -> None:
    now = fetched.requested_at
    update: dict[str, Any] = {"last_fetch_at": now, "updated_at": now_iso(), **state}
    if outcome in ("error", "gone"):
        row = db.execute("SELECT consecutive_failures FROM sources WHERE id = ?", [fetched.source]).fetchone()
        update.update(last_error=fetched.error, last_error_at=now, consecutive_failures=(row[0] if row else 0) + 1,
                      status=outcome)
    else:
        update.update(last_success_at=now, consecutive_failures=0, status="held" if outcome == "held" else "ok")
        if outcome != "held":
            if fetched.etag is not None or fetched.last_modified is not None or outcome != "not_modified":
                update.update(etag=fetched.etag, last_modified=fetched.last_modified)
            if snapshot_id is not None:
                update["raw_sha256"] = db.execute("SELECT sha256 FROM snapshots WHERE id = ?",
                                                  [snapshot_id]).fetchone()[0]
        if version_id is not None and outcome == "new_version":
            update["last_change_at"] = now
    _update(db, "sources", fetched.source, update)


def version_snapshots(db: Database, version_id: int) -> list[dict[str, Any]]:
    """The raw inputs of a version, main document first: [{part, body, content_type}]."""
    rows = db.execute(
        """SELECT vs.part, vs.snapshot_id, s.content_type FROM version_snapshots vs
           JOIN snapshots s ON s.id = vs.snapshot_id WHERE vs.version_id = ? ORDER BY vs.ordinal""",
        [version_id]).fetchall()
    return [{"part": part, "body": snapshot_bytes(db, sid), "content_type": ctype, "snapshot_id": sid}
            for part, sid, ctype in rows]


def add_reextracted_version(db: Database, source: int, latest: dict[str, Any], *, text: str | None,
                            title: str | None, extractor_version: str, extraction_key: str) -> int | None:
    """Store the re-extraction of ``latest``'s snapshots as a technical version when the text differs;
    otherwise only record the new extraction key. Returns the new version id, if any."""
    with db.atomic():
        if text is None or sha256(text) == latest["text_sha256"]:
            db["versions"].update(latest["id"], {"extraction_key": extraction_key})
            return None
        now = now_iso()
        version_id = db["versions"].insert({
            "source_id": source, "seq": latest["seq"] + 1, "fetched_at": now, "valid_from": latest["valid_from"],
            "title": title, "text": text, "text_sha256": sha256(text), "chars": len(text),
            "extractor_version": extractor_version, "extraction_key": extraction_key, "technical": 1,
            "previous_id": latest["id"]}).last_pk
        links = db.execute("SELECT snapshot_id, part, ordinal FROM version_snapshots WHERE version_id = ?",
                           [latest["id"]]).fetchall()
        db["version_snapshots"].insert_all([{"version_id": version_id, "snapshot_id": sid, "part": part,
                                             "ordinal": ordinal} for sid, part, ordinal in links])
        return version_id


def versions_of(db: Database, source: int) -> list[dict[str, Any]]:
    return list(db.query("SELECT * FROM versions WHERE source_id = ? ORDER BY seq", [source]))


def running_runs(db: Database) -> list[dict[str, Any]]:
    return list(db.query("SELECT id, pid, started_at FROM crawl_runs WHERE status = 'running'"))


def mark_run_interrupted(db: Database, run_id: int, reason: str) -> None:
    db["crawl_runs"].update(run_id, {"status": "interrupted", "error": reason, "finished_at": now_iso()})


def held_rows(db: Database, status: str | None = "pending") -> list[dict[str, Any]]:
    where, params = ("WHERE h.status = ?", [status]) if status else ("", [])
    return list(db.query(
        f"""SELECT h.id, s.source_id, h.held_at, h.reason, h.status, length(h.text) AS chars
            FROM held_versions h JOIN sources s ON s.id = h.source_id {where} ORDER BY h.id""", params))


def review_held(db: Database, held_id: int, *, accept: bool, extractor_version: str) -> int | None:
    """Accept a held page as the source's next version (returns its id), or reject it. Either way the
    held row stays, with its decision."""
    row = db.execute("SELECT source_id, text, text_sha256, snapshot_id, held_at, status FROM held_versions "
                     "WHERE id = ?", [held_id]).fetchone()
    if row is None:
        raise KeyError(f"no held page #{held_id}")
    source, text, text_hash, snapshot_id, held_at, status = row
    if status != "pending":
        raise ValueError(f"held page #{held_id} was already {status}")
    with db.atomic():
        version_id = None
        if accept:
            latest = latest_version(db, source)
            version_id = db["versions"].insert({
                "source_id": source, "seq": (latest["seq"] + 1) if latest else 1, "fetched_at": held_at,
                "valid_from": held_at[:10], "text": text, "text_sha256": text_hash, "chars": len(text),
                "extractor_version": extractor_version, "technical": 0,
                "previous_id": latest["id"] if latest else None}).last_pk
            if snapshot_id:
                db["version_snapshots"].insert({"version_id": version_id, "snapshot_id": snapshot_id,
                                                "part": None, "ordinal": 0})
            db["sources"].update(source, {"status": "ok", "last_change_at": now_iso()})
        db["held_versions"].update(held_id, {"status": "accepted" if accept else "rejected",
                                             "reviewed_at": now_iso()})
    return version_id


def snapshot_versions(db: Database, sha256_hex: str) -> tuple[int | None, list[int]]:
    """The snapshot stored with this content hash (or None) and the versions extracted from it."""
    row = db.execute("SELECT id FROM snapshots WHERE sha256 = ?", [sha256_hex]).fetchone()
    if row is None:
        return None, []
    return row[0], [r[0] for r in db.execute(
        "SELECT version_id FROM version_snapshots WHERE snapshot_id = ? ORDER BY version_id", [row[0]])]


def last_fetch_error(db: Database, source_id: str) -> str | None:
    """The error of the source's latest failed fetch, if any."""
    row = db.execute("""SELECT f.error FROM fetches f JOIN sources s ON s.id = f.source_id
                        WHERE s.source_id = ? AND f.error IS NOT NULL ORDER BY f.id DESC LIMIT 1""",
                     [source_id]).fetchone()
    return row[0] if row else None


def source_by_id(db: Database, source_id: str) -> dict[str, Any] | None:
    """The ``sources`` row of a source id."""
    rows = list(db.query("SELECT * FROM sources WHERE source_id = ?", [source_id]))
    return rows[0] if rows else None


def source_id_of(db: Database, source_pk: int) -> str | None:
    """The source id of a ``sources`` primary key."""
    row = db.execute("SELECT source_id FROM sources WHERE id = ?", [source_pk]).fetchone()
    return row[0] if row else None
