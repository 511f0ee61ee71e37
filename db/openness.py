"""Openness ratings: one rating per licence version (scope ``version``) and per effective state of it
(scope ``effective``: the licence with the versions of the policies it incorporates), one ``openness`` row
per criterion with its evidence clauses, and the verdict changes between consecutive ratings.

A rating is keyed by its *state* (``state_key``: the licence version, the scope and the policy versions),
so rating again with a newer rule keeps its id and replaces its rows in one transaction.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlite_utils import Database

from clausewatch.db.connection import now_iso, source_filter

JSON_RATING = ("policy_version_ids", "unread", "decided_by")
JSON_ROW = ("evidence_clause_ids", "evidence_tags", "evidence")
JSON_CHANGE = ("old_clause_ids", "new_clause_ids", "old_tags", "new_tags")


def _decode(row: dict[str, Any], columns: Iterable[str]) -> dict[str, Any]:
    for col in columns:
        if isinstance(row.get(col), str):
            try:
                row[col] = json.loads(row[col])
            except ValueError:
                row[col] = []
    return row


# ------------------------------------------------------------------ what to rate

def licence_sources(db: Database, source_ids: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Sources of kind ``license``; with ``source_ids``, those and the licences incorporating any of them."""
    ids = list(source_ids or [])
    rows = list(db.query("SELECT * FROM sources WHERE kind = 'license' ORDER BY family, source_id"))
    if not ids:
        return rows
    wanted = set(ids)
    return [r for r in rows if r["source_id"] in wanted or wanted & set(incorporated_ids(r))]


def incorporated_ids(source: dict[str, Any]) -> list[str]:
    value = source.get("incorporates")
    try:
        ids = json.loads(value) if isinstance(value, str) else (value or [])
    except ValueError:
        return []
    return [i for i in ids if isinstance(i, str)]


def source_by_source_id(db: Database, source_id: str) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM sources WHERE source_id = ?", [source_id]))
    return rows[0] if rows else None


def versions_of(db: Database, source_pk: int) -> list[dict[str, Any]]:
    """A source's versions, oldest first, without their text."""
    return list(db.query("""SELECT id, source_id, seq, valid_from, fetched_at, technical, pipeline_version, processed_at
                            FROM versions WHERE source_id = ? ORDER BY seq""", [source_pk]))


def rated_states(db: Database) -> dict[str, str]:
    """state_key -> rater version of every stored rating."""
    return {r[0]: r[1] for r in db.execute("SELECT state_key, rater_version FROM openness_ratings")}


def rating_by_key(db: Database, state_key: str) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM openness_ratings WHERE state_key = ?", [state_key]))
    return _decode(rows[0], JSON_RATING) if rows else None


def last_rating_of_version(db: Database, version_id: int, scope: str) -> dict[str, Any] | None:
    """The latest rating state of a version in a scope (the effective state it ended with, or has now)."""
    rows = list(db.query("""SELECT * FROM openness_ratings WHERE version_id = ? AND scope = ?
                            ORDER BY valid_from DESC, id DESC LIMIT 1""", [version_id, scope]))
    return _decode(rows[0], JSON_RATING) if rows else None


def criteria_of(db: Database, rating_id: int) -> list[dict[str, Any]]:
    return [_decode(dict(r), JSON_ROW) for r in db.query(
        "SELECT * FROM openness WHERE rating_id = ? ORDER BY id", [rating_id])]


# ------------------------------------------------------------------ writing

def save_rating(db: Database, rating: dict[str, Any], criteria: list[dict[str, Any]],
                changes: list[dict[str, Any]]) -> int:
    """Store one rating state (insert, or replace in place by ``state_key``), its criterion rows and the
    verdict changes from its predecessor, atomically. Returns the rating id."""
    now = now_iso()
    row = {**rating, "rated_at": now}
    for col in JSON_RATING:
        row[col] = json.dumps(row.get(col) or [])
    with db.atomic():
        found = db.execute("SELECT id FROM openness_ratings WHERE state_key = ?", [row["state_key"]]).fetchone()
        if found:
            rating_id = found[0]
            db["openness_ratings"].update(rating_id, row)
            db.execute("DELETE FROM openness WHERE rating_id = ?", [rating_id])
            db.execute("DELETE FROM rating_changes WHERE new_rating_id = ?", [rating_id])
        else:
            rating_id = db["openness_ratings"].insert(row).last_pk
        rows = []
        for c in criteria:
            r = {**c, "rating_id": rating_id, "version_id": row["version_id"], "scope": row["scope"],
                 "rule_version": row["rule_version"]}
            for col in JSON_ROW:
                r[col] = json.dumps(r.get(col) or [], ensure_ascii=False)
            rows.append(r)
        if rows:
            db["openness"].insert_all(rows)
        if changes:
            db["rating_changes"].insert_all([
                {**c, "new_rating_id": rating_id, "detected_at": now, "rule_version": row["rule_version"],
                 **{col: json.dumps(c.get(col) or []) for col in JSON_CHANGE}} for c in changes])
    return rating_id


def prune_states(db: Database, source_pk: int, keep: Iterable[str]) -> int:
    """Delete the ratings of a source whose state no longer exists (its versions changed); returns how many."""
    keep = set(keep)
    gone = [r[0] for r in db.execute("SELECT id, state_key FROM openness_ratings WHERE source_id = ?", [source_pk])
            if r[1] not in keep]
    if not gone:
        return 0
    marks = ",".join("?" * len(gone))
    with db.atomic():
        db.execute(f"DELETE FROM rating_changes WHERE new_rating_id IN ({marks}) OR old_rating_id IN ({marks})",
                   gone + gone)
        db.execute(f"DELETE FROM openness WHERE rating_id IN ({marks})", gone)
        db.execute(f"DELETE FROM openness_ratings WHERE id IN ({marks})", gone)
    return len(gone)


# ------------------------------------------------------------------ reading for people

def ratings_of_source(db: Database, source_pk: int, scope: str | None = None) -> list[dict[str, Any]]:
    """Every rating state of a source, oldest first, with the version's seq."""
    sql = """SELECT r.*, v.seq AS version_seq FROM openness_ratings r JOIN versions v ON v.id = r.version_id
             WHERE r.source_id = ?"""
    params: list[Any] = [source_pk]
    if scope:
        sql += " AND r.scope = ?"
        params.append(scope)
    return [_decode(dict(r), JSON_RATING) for r in db.query(sql + " ORDER BY r.valid_from, v.seq, r.id", params)]


def current_ratings(db: Database, scope: str = "effective", families: Iterable[str] | None = None,
                    source_ids: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """The latest rating of each licence source's latest rated version (one per source), with the source."""
    where, params = source_filter(source_ids)
    fams = list(families or [])
    if fams:
        where += f" AND s.family IN ({','.join('?' * len(fams))})"
        params += fams
    sql = f"""SELECT r.*, s.source_id AS source, s.title AS document, s.family, s.publisher, s.version_label,
                     v.seq AS version_seq
              FROM openness_ratings r JOIN sources s ON s.id = r.source_id JOIN versions v ON v.id = r.version_id
              WHERE r.scope = ? AND r.id = (SELECT x.id FROM openness_ratings x JOIN versions xv ON xv.id = x.version_id
                                            WHERE x.source_id = r.source_id AND x.scope = r.scope
                                            ORDER BY xv.seq DESC, x.valid_from DESC, x.id DESC LIMIT 1){where}
              ORDER BY s.family, s.release_date, s.source_id"""
    return [_decode(dict(r), JSON_RATING) for r in db.query(sql, [scope, *params])]


def rating_changes_of(db: Database, source_pk: int | None = None, scope: str | None = None) -> list[dict[str, Any]]:
    where, params = [], []
    if source_pk is not None:
        where.append("rc.source_id = ?")
        params.append(source_pk)
    if scope:
        where.append("rc.scope = ?")
        params.append(scope)
    sql = """SELECT rc.*, s.source_id AS source, via.source_id AS via_source FROM rating_changes rc
             JOIN sources s ON s.id = rc.source_id LEFT JOIN sources via ON via.id = rc.via_source_id"""
    if where:
        sql += " WHERE " + " AND ".join(where)
    return [_decode(dict(r), JSON_CHANGE) for r in db.query(sql + " ORDER BY rc.id", params)]


# ------------------------------------------------------------------ digests

def rating_digest_items(db: Database, *, after_version_id: int = 0, newest_first: bool = False,
                        limit: int | None = None) -> list[dict[str, Any]]:
    """Verdict changes of effective licences as digest items, shaped like the rows of
    ``db.subscriptions.substantive_changes``: ``kind = 'rating'``, ``id`` the negative rating-change id (so it
    never meets a clause change's id in the delivery log), ``new_version_id`` the version that caused it."""
    if not db["rating_changes"].exists():
        return []
    sql = """SELECT rc.*, s.source_id AS source, s.title AS source_title, s.jurisdiction, s.kind AS document_kind,
                    s.family AS source_family, s.url AS source_url, via.source_id AS via_source,
                    via.title AS via_title, nv.seq AS new_version_seq, ov.seq AS old_version_seq,
                    os.source_id AS old_source,
                    coalesce((SELECT o.label FROM openness o WHERE o.rating_id = rc.new_rating_id
                              AND o.criterion = rc.criterion), rc.criterion) AS criterion_label
             FROM rating_changes rc JOIN sources s ON s.id = rc.source_id
             LEFT JOIN sources via ON via.id = rc.via_source_id
             JOIN versions nv ON nv.id = rc.new_version_id LEFT JOIN versions ov ON ov.id = rc.old_version_id
             LEFT JOIN sources os ON os.id = ov.source_id
             WHERE rc.scope = 'effective' AND rc.trigger_version_id > ?
             ORDER BY rc.id""" + (" DESC" if newest_first else "")
    params: list[Any] = [after_version_id]
    if limit is not None:
        sql += " LIMIT ?"
        params.append(limit)
    items = []
    for r in db.query(sql, params):
        r = _decode(dict(r), JSON_CHANGE)
        items.append({
            **r, "id": -r["id"], "rating_change_id": r["id"], "kind": "rating", "scope": f"rating:{r['basis']}",
            "licence_new_version_id": r["new_version_id"], "new_version_id": r["trigger_version_id"],
            "old_path": r["criterion"], "new_path": r["criterion"],
            "old_text": r["old_verdict"], "new_text": r["new_verdict"], "substantive": True,
            "tags_added": sorted(set(r["new_tags"]) - set(r["old_tags"])),
            "tags_removed": sorted(set(r["old_tags"]) - set(r["new_tags"])),
            "new_clause_tags": r["new_tags"], "old_clause_tags": r["old_tags"], "entity_changes": [],
            "word_diff": [], "cosmetic_reasons": [], "link_path": f"/-/openness/{r['new_version_id']}"})
    return items


# ------------------------------------------------------------------ publication

_LATEST_RATED = """(SELECT x.id FROM openness_ratings x JOIN versions xv ON xv.id = x.version_id
                     WHERE x.source_id = {alias}.source_id AND x.scope = {alias}.scope
                     ORDER BY xv.seq DESC, x.valid_from DESC, x.id DESC LIMIT 1)"""

# criterion -> column of openness_matrix (kept in the order of clausewatch.openness.rules.CRITERIA)
MATRIX_CRITERIA = ("use_any_purpose", "study", "redistribute", "modify", "commercial_use", "no_threshold",
                   "no_use_restriction", "no_output_restriction", "no_geographic_exclusion", "no_remote_restriction",
                   "no_unilateral_changes", "copyleft", "attribution")

VIEWS: dict[str, str] = {
    # one row per licence version: the class of the effective licence (its latest state) and of the licence
    # text alone; what the family timeline shows (`SELECT class FROM version_openness WHERE version_id = ?`)
    "version_openness": """
SELECT v.id AS version_id, s.source_id AS source, s.title AS document, s.family, s.version_label, v.seq AS version_seq,
       v.valid_from,
       e.class, e.class_label, e.id AS rating_id, e.rule_version,
       o.class AS licence_text_class, o.class_label AS licence_text_class_label,
       (SELECT count(*) FROM openness_ratings k WHERE k.version_id = v.id AND k.scope = 'effective') AS effective_states,
       '/-/openness/' || v.id AS openness_page
FROM versions v
JOIN sources s ON s.id = v.source_id
LEFT JOIN openness_ratings e ON e.id = (SELECT x.id FROM openness_ratings x WHERE x.version_id = v.id
                                        AND x.scope = 'effective' ORDER BY x.valid_from DESC, x.id DESC LIMIT 1)
LEFT JOIN openness_ratings o ON o.version_id = v.id AND o.scope = 'version'
WHERE s.kind = 'license'""",

    # every criterion of every rating, with the document: filter on criterion and verdict
    "openness_criteria": f"""
SELECT o.id, o.rating_id, s.source_id AS source, s.title AS document, s.family, r.scope, o.version_id,
       v.seq AS version_seq, r.valid_from, o.criterion, o.verdict, o.detail, o.reason, o.first_clause_id AS clause_id,
       o.evidence_clause_ids, o.evidence_tags, r.class, o.rule_version,
       CASE WHEN r.id = {_LATEST_RATED.format(alias='r')} THEN 1 ELSE 0 END AS is_current
FROM openness o
JOIN openness_ratings r ON r.id = o.rating_id
JOIN sources s ON s.id = r.source_id
JOIN versions v ON v.id = o.version_id""",

    # the current effective rating of every licence, one column per criterion
    "openness_matrix": f"""
SELECT s.source_id AS source, s.title AS document, s.family, s.publisher, r.version_id, v.seq AS version_seq,
       r.valid_from, r.class, r.class_label,
       {', '.join(f"(SELECT verdict FROM openness o WHERE o.rating_id = r.id AND o.criterion = '{c}') AS {c}"
                  for c in MATRIX_CRITERIA)},
       r.rule_version, '/-/openness/' || r.version_id AS openness_page
FROM openness_ratings r
JOIN sources s ON s.id = r.source_id
JOIN versions v ON v.id = r.version_id
WHERE r.scope = 'effective' AND r.id = {_LATEST_RATED.format(alias='r')}""",

    "rating_change_list": """
SELECT rc.id AS rating_change_id, s.source_id AS source, s.title AS document, rc.family, rc.scope, rc.basis,
       via.source_id AS via_source, rc.criterion, rc.old_verdict, rc.new_verdict, rc.old_detail, rc.new_detail,
       rc.old_class, rc.new_class, rc.old_version_id, rc.new_version_id, rc.new_reason, rc.effective_date,
       rc.detected_at, '/-/openness/' || rc.new_version_id AS openness_page
FROM rating_changes rc
JOIN sources s ON s.id = rc.source_id
LEFT JOIN sources via ON via.id = rc.via_source_id
ORDER BY rc.id DESC""",
}
