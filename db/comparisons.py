"""Changes between versions: which versions were compared with which, and the changes found.

A version is compared once per change-detector version (``change_comparisons``); comparing it again
with a newer detector replaces its changes in one transaction. Scopes of a change:

- ``version``: a new version of the same source, against its previous version;
- ``release``: the first version of a source, against the latest version of the previous release of
  its family (releases ordered by release date, then version label);
- ``incorporated``: a change of a use policy, recorded again for each source that incorporates it
  (``via_source_id`` is the policy);
- ``template``: the first version of a copy of a template licence (``sources.template``), against the
  template text: the copy's deviations.

**Alerting** (``changes.alert``): a substantive change alerts (1) the first time that change (its
``fingerprint``: the clause text before and after) is seen for its source, once its version has persisted
``sources.alert_after_fetches`` fetches (the fetch that stored it, then unchanged and 304 fetches). Until
then ``alert`` is NULL; a version replaced before it persisted never alerts (0); a change seen and alerted
before (a page flapping A -> B -> A -> B) does not alert again (0). Digests and feeds send ``alert = 1``.
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from typing import Any

from sqlite_utils import Database

from clausewatch.db.connection import now_iso, source_filter

JSON_COLUMNS = ("word_diff", "cosmetic_reasons", "tags_added", "tags_removed", "entity_changes")
SCOPES = ("version", "release", "incorporated", "template")
PERSISTING_OUTCOMES = ("new_version", "unchanged", "not_modified", "technical")


def versions_to_compare(db: Database, detector_version: str,
                        source_ids: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Versions not yet compared by this detector version, oldest first, with their source's fields."""
    sql = """SELECT v.id, v.source_id, v.seq, v.valid_from, v.technical, v.pipeline_version, v.text_sha256,
                    s.source_id AS source, s.family, s.release_date, s.version_label, s.template,
                    s.alert_after_fetches
             FROM versions v JOIN sources s ON s.id = v.source_id
             WHERE NOT EXISTS (SELECT 1 FROM change_comparisons c
                               WHERE c.new_version_id = v.id AND c.detector_version = ?)"""
    where, ids = source_filter(source_ids)
    return list(db.query(sql + where + " ORDER BY v.valid_from, v.id", [detector_version, *ids]))


def previous_version(db: Database, version_id: int) -> dict[str, Any] | None:
    """The version of the same source just before ``version_id``."""
    rows = list(db.query(
        """SELECT p.* FROM versions v JOIN versions p ON p.source_id = v.source_id AND p.seq < v.seq
           WHERE v.id = ? ORDER BY p.seq DESC LIMIT 1""", [version_id]))
    return rows[0] if rows else None


def earlier_versions(db: Database, version_id: int) -> list[dict[str, Any]]:
    """The versions of the same source before ``version_id``, newest first."""
    return list(db.query(
        """SELECT p.* FROM versions v JOIN versions p ON p.source_id = v.source_id AND p.seq < v.seq
           WHERE v.id = ? ORDER BY p.seq DESC""", [version_id]))


def reverted_to(db: Database, version_id: int) -> dict[str, Any] | None:
    """The latest earlier, non-adjacent version of the same source with the same text: the new version
    returns to it (a flap: A -> B -> A)."""
    rows = list(db.query(
        """SELECT e.* FROM versions v JOIN versions e ON e.source_id = v.source_id AND e.seq < v.seq - 1
                                                     AND e.text_sha256 = v.text_sha256
           WHERE v.id = ? AND v.technical = 0 ORDER BY e.seq DESC LIMIT 1""", [version_id]))
    return rows[0] if rows else None


def persistence(db: Database, version: dict[str, Any]) -> tuple[int, bool]:
    """(fetches the version persisted, whether a later version replaced it). Counted from the fetch
    records: the fetch that stored it, then unchanged, 304 and technical fetches until the next version."""
    nxt = db.execute("""SELECT id, fetched_at FROM versions WHERE source_id = ? AND seq > ? AND technical = 0
                        ORDER BY seq LIMIT 1""", [version["source_id"], version["seq"]]).fetchone()
    first = db.execute("SELECT min(id) FROM fetches WHERE version_id = ?", [version["id"]]).fetchone()[0]
    marks = ",".join("?" * len(PERSISTING_OUTCOMES))
    sql = f"SELECT count(*) FROM fetches WHERE source_id = ? AND part IS NULL AND outcome IN ({marks})"
    params: list[Any] = [version["source_id"], *PERSISTING_OUTCOMES]
    next_first = db.execute("SELECT min(id) FROM fetches WHERE version_id = ?", [nxt[0]]).fetchone()[0] if nxt else None
    if first is not None:
        sql += " AND id >= ?"
        params.append(first)
        if next_first is not None:
            sql += " AND id < ?"
            params.append(next_first)
    else:   # a version stored without a fetch (a reviewed held page): by time
        sql += " AND requested_at >= ?"
        params.append(version["fetched_at"])
        if nxt:
            sql += " AND requested_at < ?"
            params.append(nxt[1])
    return db.execute(sql, params).fetchone()[0], nxt is not None


def alert_after(db: Database, source_pk: int) -> int:
    row = db.execute("SELECT alert_after_fetches FROM sources WHERE id = ?", [source_pk]).fetchone()
    return max(int(row[0] or 1), 1) if row else 1


def persisted(db: Database, version: dict[str, Any], needed: int | None = None) -> bool | None:
    """True once the version persisted ``needed`` fetches (the source's ``alert_after_fetches``), False when
    it was replaced before that, None while it is the latest and still short of it."""
    needed = alert_after(db, version["source_id"]) if needed is None else needed
    if needed <= 1:
        return True
    count, replaced = persistence(db, version)
    if count >= needed:
        return True
    return False if replaced else None


def update_alerts(db: Database) -> dict[str, int]:
    """Decide ``changes.alert`` for the rows still undecided (see the module docstring). Returns counts."""
    groups = db.execute("SELECT DISTINCT source_id, via_source_id FROM changes WHERE alert IS NULL").fetchall()
    counts = {"alerting": 0, "silent": 0, "waiting": 0}
    decided: list[tuple[int, int]] = []
    states: dict[int, bool | None] = {}
    for source_pk, via in groups:
        rows = db.execute(
            """SELECT c.id, c.substantive, c.fingerprint, c.alert, v.id, v.source_id, v.seq, v.fetched_at
               FROM changes c JOIN versions v ON v.id = c.new_version_id
               WHERE c.source_id = ? AND c.via_source_id IS ? ORDER BY v.seq, c.id""", [source_pk, via]).fetchall()
        seen: set[str] = set()
        for cid, substantive, fingerprint, alert, vid, vsource, seq, fetched_at in rows:
            if alert is not None:
                if alert == 1:
                    seen.add(fingerprint)
                continue
            if not substantive:
                decided.append((0, cid))
                counts["silent"] += 1
                continue
            if vid not in states:
                states[vid] = persisted(db, {"id": vid, "source_id": vsource, "seq": seq, "fetched_at": fetched_at})
            state = states[vid]
            if state is None:
                counts["waiting"] += 1
                continue
            value = 1 if state and fingerprint not in seen else 0
            if value:
                seen.add(fingerprint)
            decided.append((value, cid))
            counts["alerting" if value else "silent"] += 1
    if decided:
        with db.atomic():
            db.conn.executemany("UPDATE changes SET alert = ? WHERE id = ?", decided)
    return counts


def fingerprint(change: dict[str, Any]) -> str:
    """What a change is, whichever versions it is found between: its clause texts before and after."""
    texts = [" ".join((change.get(k) or "").split()) for k in ("old_text", "new_text")]
    return hashlib.sha256(json.dumps(texts, ensure_ascii=False).encode("utf-8")).hexdigest()[:32]


def _natural(label: str | None) -> list[tuple[int, Any]]:
    return [(0, int(part)) if part.isdigit() else (1, part.lower())
            for part in re.findall(r"\d+|[^\d\s.]+", label or "")]


def release_order(db: Database, family: str) -> list[dict[str, Any]]:
    """The sources of a family as releases: by release date, then version label (3 < 3.1 < 3.10)."""
    rows = list(db.query("SELECT * FROM sources WHERE family = ?", [family]))
    return sorted(rows, key=lambda r: (r["release_date"] or "9999", _natural(r["version_label"]), r["source_id"]))


def previous_release_version(db: Database, source_pk: int, before: str | None = None) -> dict[str, Any] | None:
    """The latest version of the release before ``source_pk`` in its family (valid on ``before`` if given).

    Releases without any stored version are skipped, and so are sources released the same day: they are
    copies or renderings of the same release (compare them with `clausewatch diff`), not its predecessor.
    """
    row = db.execute("SELECT family FROM sources WHERE id = ?", [source_pk]).fetchone()
    if row is None or not row[0]:
        return None
    releases = release_order(db, row[0])
    position = next((k for k, r in enumerate(releases) if r["id"] == source_pk), None)
    if position is None:
        return None
    day = releases[position]["release_date"]
    for release in reversed(releases[:position]):
        if day and release["release_date"] == day:
            continue  # another copy or rendering of the same release (HTML vs PDF, two repositories)
        version = version_on(db, release["id"], before) if before else None
        version = version or latest_stored_version(db, release["id"])
        if version:
            return version
    return None


def latest_stored_version(db: Database, source_pk: int) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM versions WHERE source_id = ? ORDER BY seq DESC LIMIT 1", [source_pk]))
    return rows[0] if rows else None


def version_on(db: Database, source_pk: int, day: str) -> dict[str, Any] | None:
    """The version of a source current on ``day`` (YYYY-MM-DD): the last one valid from that day or before."""
    rows = list(db.query(
        """SELECT * FROM versions WHERE source_id = ? AND substr(valid_from, 1, 10) <= ?
           ORDER BY valid_from DESC, seq DESC LIMIT 1""", [source_pk, day]))
    return rows[0] if rows else None


def version_row(db: Database, version_id: int) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM versions WHERE id = ?", [version_id]))
    return rows[0] if rows else None


def incorporating_sources(db: Database, source_pk: int) -> list[dict[str, Any]]:
    """Sources whose declaration incorporates the source ``source_pk`` (a licence and its use policy)."""
    return list(db.query(
        """SELECT s.* FROM sources s, json_each(CASE WHEN json_valid(s.incorporates) THEN s.incorporates
                                                    ELSE '[]' END) j
           WHERE j.value = (SELECT source_id FROM sources WHERE id = ?) ORDER BY s.source_id""", [source_pk]))


def record_comparison(db: Database, *, source_pk: int, new_version: dict[str, Any], old_version_id: int | None,
                      scope: str, detector_version: str, changes: list[dict[str, Any]],
                      seconds: float | None = None, error: str | None = None,
                      reverted_to_version_id: int | None = None) -> dict[str, int]:
    """Store the changes found for ``new_version`` (replacing those of any earlier detector) atomically.

    Each change dict has the keys of ``changes.align.Change.to_json()``. Changes are recorded for the
    source itself and, with scope ``incorporated``, for every source that incorporates it.
    """
    now = now_iso()
    family = db.execute("SELECT family FROM sources WHERE id = ?", [source_pk]).fetchone()[0]
    rows = [_row(c, source_pk=source_pk, family=family, scope=scope, old_version_id=old_version_id,
                 new_version=new_version, detected_at=now, detector_version=detector_version,
                 reverted_to_version_id=reverted_to_version_id) for c in changes]
    for host in incorporating_sources(db, source_pk):
        if host["id"] == source_pk:
            continue
        rows += [_row(c, source_pk=host["id"], family=host["family"], scope="incorporated",
                      old_version_id=old_version_id, new_version=new_version, detected_at=now,
                      detector_version=detector_version, via_source_id=source_pk,
                      reverted_to_version_id=reverted_to_version_id) for c in changes]
    with db.atomic():
        db.execute("DELETE FROM changes WHERE new_version_id = ?", [new_version["id"]])
        db.execute("DELETE FROM change_comparisons WHERE new_version_id = ?", [new_version["id"]])
        if rows:
            db["changes"].insert_all(rows)
        db["change_comparisons"].insert({
            "source_id": source_pk, "new_version_id": new_version["id"], "old_version_id": old_version_id,
            "scope": scope, "detector_version": detector_version, "compared_at": now, "changes": len(changes),
            "substantive": sum(1 for c in changes if c["substantive"]), "seconds": seconds, "error": error,
            "reverted_to_version_id": reverted_to_version_id,
        })
    return {"changes": len(changes), "rows": len(rows), "substantive": sum(1 for c in changes if c["substantive"])}


def _row(change: dict[str, Any], *, source_pk: int, family: str | None, scope: str, old_version_id: int | None,
         new_version: dict[str, Any], detected_at: str, detector_version: str,
         via_source_id: int | None = None, reverted_to_version_id: int | None = None) -> dict[str, Any]:
    row = {
        "source_id": source_pk, "family": family, "scope": scope, "old_version_id": old_version_id,
        "new_version_id": new_version["id"], "via_source_id": via_source_id, "kind": change["kind"],
        "old_path": change.get("old_path"), "new_path": change.get("new_path"),
        "old_text": change.get("old_text"), "new_text": change.get("new_text"),
        "substantive": int(bool(change["substantive"])), "detected_at": detected_at,
        "effective_date": (new_version.get("valid_from") or "")[:10] or None, "detector_version": detector_version,
        "fingerprint": fingerprint(change), "reverted_to_version_id": reverted_to_version_id,
        "alert": None if change["substantive"] else 0,
    }
    for col in JSON_COLUMNS:
        row[col] = json.dumps(change.get(col) or [], ensure_ascii=False)
    return row


def changes_of(db: Database, *, source_id: str | None = None, new_version_id: int | None = None,
               scope: str | None = None, substantive: bool | None = None,
               since_id: int | None = None) -> list[dict[str, Any]]:
    """Stored changes (JSON columns decoded) with their source id, title and the incorporated source id."""
    where, params = [], []
    if source_id is not None:
        where.append("s.source_id = ?")
        params.append(source_id)
    if new_version_id is not None:
        where.append("c.new_version_id = ?")
        params.append(new_version_id)
    if scope is not None:
        where.append("c.scope = ?")
        params.append(scope)
    if substantive is not None:
        where.append("c.substantive = ?")
        params.append(int(substantive))
    if since_id is not None:
        where.append("c.id > ?")
        params.append(since_id)
    sql = """SELECT c.*, s.source_id AS source, s.title AS source_title, via.source_id AS via_source,
                    rv.valid_from AS reverted_to_date
             FROM changes c JOIN sources s ON s.id = c.source_id LEFT JOIN sources via ON via.id = c.via_source_id
             LEFT JOIN versions rv ON rv.id = c.reverted_to_version_id"""
    if where:
        sql += " WHERE " + " AND ".join(where)
    rows = list(db.query(sql + " ORDER BY c.id", params))
    for row in rows:
        for col in JSON_COLUMNS:
            row[col] = json.loads(row[col]) if row.get(col) else []
        row["substantive"] = bool(row["substantive"])
    return rows


def comparisons_of(db: Database, source_id: str | None = None) -> list[dict[str, Any]]:
    sql = """SELECT c.*, s.source_id AS source, rv.valid_from AS reverted_to_date FROM change_comparisons c
             JOIN sources s ON s.id = c.source_id LEFT JOIN versions rv ON rv.id = c.reverted_to_version_id"""
    params: list[Any] = []
    if source_id:
        sql += " WHERE s.source_id = ?"
        params.append(source_id)
    return list(db.query(sql + " ORDER BY c.id", params))
