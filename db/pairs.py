"""Comparisons of any two versions of a family, and of the renditions of one document (``pair_comparisons``,
``pair_changes``).

These are answers to questions ("what differs between Llama 2 and Llama 4?", "do the PDF and the HTML of
the act say the same?"), not events: they are kept apart from ``changes`` (what happened between
consecutive versions and releases), so digests, feeds, "latest changes" and every count, which read
``changes``, never see them. Purposes:

- ``pair``: two versions of one family (or of one source) that the change detector did not compare as
  consecutive versions or releases;
- ``rendition``: the current versions of two renditions of one document (sources sharing ``document``),
  the primary rendition first.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from sqlite_utils import Database

from clausewatch.db.connection import now_iso

PURPOSES = ("pair", "rendition")
JSON_COLUMNS = ("word_diff", "cosmetic_reasons", "tags_added", "tags_removed", "entity_changes")
FORMAT_RANK = {"html": 0, "markdown": 1, "text": 2, "xml": 3, "pdf": 4}


def natural_label(label: str | None) -> list[tuple[int, Any]]:
    """A version label as a sort key: 3 < 3.1 < 3.2 < 3.10 < 4."""
    return [(0, int(part)) if part.isdigit() else (1, part.lower())
            for part in re.findall(r"\d+|[^\d\s.]+", label or "")]


def release_key(row: dict[str, Any]) -> tuple:
    """Where a version stands in its family's history: release date, version label, source, then seq."""
    return (row.get("release_date") or "9999", natural_label(row.get("version_label")), row.get("source") or "",
            row.get("seq") or 0)


_VERSIONS = """SELECT v.id, v.seq, v.valid_from, v.technical, v.pipeline_version, v.source_id AS source_pk,
       s.source_id AS source, coalesce(s.family, s.source_id) AS family, s.release_date, s.version_label,
       s.document, s.format
FROM versions v JOIN sources s ON s.id = v.source_id
WHERE v.processed_at IS NOT NULL"""


def family_versions(db: Database, families: Iterable[str] | None = None) -> dict[str, list[dict[str, Any]]]:
    """The analysed versions of each family (a source without a family is its own), in history order."""
    sql, params = _VERSIONS, []
    if families is not None:
        wanted = sorted(set(families))
        if not wanted:
            return {}
        sql += f" AND coalesce(s.family, s.source_id) IN ({','.join('?' * len(wanted))})"
        params = wanted
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in db.query(sql, params):
        groups.setdefault(row["family"], []).append(row)
    for rows in groups.values():
        rows.sort(key=release_key)
    return dict(sorted(groups.items()))


def families_of(db: Database, source_ids: Iterable[str]) -> list[str]:
    ids = list(source_ids)
    marks = ",".join("?" * len(ids))
    return [r[0] for r in db.execute(
        f"SELECT DISTINCT coalesce(family, source_id) FROM sources WHERE source_id IN ({marks})", ids)]


def rendition_sets(db: Database) -> dict[str, list[dict[str, Any]]]:
    """Per document id: the current (latest analysed) version of each active rendition, primary first
    (the order of the ``renditions`` view: a rendition with a version, then html, markdown, text, xml, pdf)."""
    rows = db.query("""
        SELECT s.document, s.source_id AS source, s.format, s.family, v.id, v.seq, v.valid_from, v.pipeline_version,
               v.source_id AS source_pk
        FROM sources s JOIN versions v ON v.id = (SELECT x.id FROM versions x WHERE x.source_id = s.id
                                                  AND x.processed_at IS NOT NULL ORDER BY x.seq DESC LIMIT 1)
        WHERE s.document IS NOT NULL AND s.active = 1""")
    sets: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        sets.setdefault(row["document"], []).append(row)
    for rows_ in sets.values():
        rows_.sort(key=lambda r: (FORMAT_RANK.get(r["format"], 9), r["source"]))
    return {doc: rows_ for doc, rows_ in sorted(sets.items()) if len(rows_) > 1}


def detector_pairs(db: Database) -> set[tuple[int, int]]:
    """(old, new) version pairs the change detector compared (their changes are in ``changes``; the detector
    compares them again itself when its version changes)."""
    return {(r[0], r[1]) for r in db.execute(
        "SELECT old_version_id, new_version_id FROM change_comparisons WHERE old_version_id IS NOT NULL")}


def compared_pairs(db: Database, detector_version: str) -> set[tuple[int, int]]:
    """(old, new) pairs already in ``pair_comparisons`` for this detector version."""
    return {(r[0], r[1]) for r in db.execute(
        "SELECT old_version_id, new_version_id FROM pair_comparisons WHERE detector_version = ?", [detector_version])}


def record_pair(db: Database, *, purpose: str, family: str | None, document: str | None, old_version_id: int,
                new_version_id: int, detector_version: str, changes: list[dict[str, Any]],
                seconds: float | None = None) -> dict[str, int]:
    """Store one comparison and its changes (``Change.to_json()`` dicts), replacing any earlier one of the pair."""
    if purpose not in PURPOSES:
        raise ValueError(f"purpose {purpose!r} is not one of {', '.join(PURPOSES)}")
    substantive = sum(1 for c in changes if c["substantive"])
    with db.atomic():
        old = db.execute("SELECT id FROM pair_comparisons WHERE old_version_id = ? AND new_version_id = ?",
                         [old_version_id, new_version_id]).fetchone()
        if old:
            db.execute("DELETE FROM pair_changes WHERE comparison_id = ?", [old[0]])
            db.execute("DELETE FROM pair_comparisons WHERE id = ?", [old[0]])
        pk = db["pair_comparisons"].insert({
            "purpose": purpose, "family": family, "document": document, "old_version_id": old_version_id,
            "new_version_id": new_version_id, "detector_version": detector_version, "compared_at": now_iso(),
            "changes": len(changes), "substantive": substantive, "seconds": seconds}).last_pk
        rows = []
        for c in changes:
            row = {"comparison_id": pk, "old_version_id": old_version_id, "new_version_id": new_version_id,
                   "kind": c["kind"], "old_path": c.get("old_path"), "new_path": c.get("new_path"),
                   "old_text": c.get("old_text"), "new_text": c.get("new_text"),
                   "substantive": int(bool(c["substantive"]))}
            for col in JSON_COLUMNS:
                row[col] = json.dumps(c.get(col) or [], ensure_ascii=False)
            rows.append(row)
        if rows:
            db["pair_changes"].insert_all(rows)
    return {"changes": len(changes), "substantive": substantive}


def pair_changes_of(db: Database, old_version_id: int, new_version_id: int) -> list[dict[str, Any]]:
    """The stored changes of one pair (JSON columns decoded), in order."""
    rows = list(db.query("SELECT * FROM pair_changes WHERE old_version_id = ? AND new_version_id = ? ORDER BY id",
                         [old_version_id, new_version_id]))
    for row in rows:
        for col in JSON_COLUMNS:
            row[col] = json.loads(row[col]) if row.get(col) else []
        row["substantive"] = bool(row["substantive"])
    return rows
