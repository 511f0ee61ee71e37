"""Open-weight models: the declared list, what their Hugging Face model cards say, the tracked licence each is
linked to (with a flag when the card and its LICENSE text disagree), and the components the card declares.

``model_documents`` keeps the last answer of each Hub document of a model (API JSON, LICENSE, README) with
its ETag / Last-Modified for conditional requests; a 304 or an error never erases what was stored.
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from sqlite_utils import Database

from clausewatch.db.connection import now_iso


def sync_models(db: Database, rows: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Insert new declared models, update changed ones, mark the undeclared inactive (their history stays)."""
    now = now_iso()
    rows = list(rows)
    known = {r["repo_id"]: r for r in db.query("SELECT * FROM models")}
    added = updated = 0
    with db.atomic():
        for row in rows:
            old = known.get(row["repo_id"])
            if old is None:
                db["models"].insert({**row, "created_at": now, "updated_at": now})
                added += 1
            elif any(old.get(k) != v for k, v in row.items()) or not old["active"]:
                db["models"].update(old["id"], {**row, "active": 1, "updated_at": now})
                updated += 1
        declared = {r["repo_id"] for r in rows}
        for repo, old in known.items():
            if repo not in declared and old["active"]:
                db["models"].update(old["id"], {"active": 0, "updated_at": now})
    return {"added": added, "updated": updated}


def model_rows(db: Database, *, families: Iterable[str] | None = None, repos: Iterable[str] | None = None,
               active_only: bool = True) -> list[dict[str, Any]]:
    where, params = (["active = 1"] if active_only else []), []
    fams, reps = list(families or []), list(repos or [])
    if fams:
        where.append(f"family IN ({','.join('?' * len(fams))})")
        params += fams
    if reps:
        where.append(f"lower(repo_id) IN ({','.join('?' * len(reps))})")
        params += [r.lower() for r in reps]
    sql = "SELECT * FROM models" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY family, repo_id"
    return list(db.query(sql, params))


def documents_of(db: Database, model_id: int) -> dict[str, dict[str, Any]]:
    """kind -> the stored document of a model (api, license, readme)."""
    return {r["kind"]: r for r in db.query("SELECT * FROM model_documents WHERE model_id = ?", [model_id])}


def record_model_document(db: Database, model_id: int, *, kind: str, url: str, http_status: int | None,
                          etag: str | None = None, last_modified: str | None = None, body: str | None = None,
                          error: str | None = None) -> str:
    """Store one fetch of a model's Hub document; returns its outcome (new, changed, unchanged, not_modified,
    error). The stored body is replaced only by a new 200 answer."""
    now = now_iso()
    old = db.execute("SELECT id, sha256 FROM model_documents WHERE model_id = ? AND kind = ?",
                     [model_id, kind]).fetchone()
    row: dict[str, Any] = {"model_id": model_id, "kind": kind, "url": url, "http_status": http_status,
                           "fetched_at": now, "error": error}
    if error:
        outcome = "error"
    elif http_status == 304:
        outcome = "not_modified"
    else:
        digest = hashlib.sha256((body or "").encode("utf-8")).hexdigest()
        outcome = "new" if old is None else ("unchanged" if old[1] == digest else "changed")
        row.update(body=body, sha256=digest, etag=etag, last_modified=last_modified)
        if outcome != "unchanged":
            row["changed_at"] = now
    with db.atomic():
        if old is None:
            db["model_documents"].insert(row)
        else:
            db["model_documents"].update(old[0], row)
        if kind == "api":
            state = {"last_fetch_at": now}
            if outcome == "error":
                state.update(status="gone" if http_status in (404, 410) else "error", last_error=error)
            else:
                state.update(status="ok", last_success_at=now, last_error=None)
            db["models"].update(model_id, state)
    return outcome


def save_link(db: Database, model_id: int, fields: dict[str, Any], parts: list[dict[str, Any]]) -> None:
    """Store what the card says and the licence it is linked to, and replace its component facts."""
    row = {**fields, "linked_at": now_iso()}
    for col in ("license_tags", "base_models"):
        if col in row:
            row[col] = json.dumps(row[col] or [])
    with db.atomic():
        db["models"].update(model_id, row)
        db.execute("DELETE FROM model_components WHERE model_id = ?", [model_id])
        if parts:
            db["model_components"].insert_all([{**p, "model_id": model_id} for p in parts])


def licence_texts(db: Database) -> dict[str, str]:
    """source_id -> text of the latest version of every licence source."""
    return {r[0]: r[1] for r in db.execute(
        """SELECT s.source_id, v.text FROM sources s JOIN versions v ON v.id =
           (SELECT x.id FROM versions x WHERE x.source_id = s.id ORDER BY x.seq DESC LIMIT 1)
           WHERE s.kind = 'license'""")}


def licence_sources(db: Database) -> list[dict[str, Any]]:
    """The tracked licence sources (what a model card can be linked to)."""
    return list(db.query("""SELECT id, source_id, url, spdx, family, version_label, title FROM sources
                            WHERE kind = 'license' ORDER BY source_id"""))


# ------------------------------------------------------------------ publication

VIEWS: dict[str, str] = {
    # one row per model: what its card says, the tracked licence it is linked to and that licence's current
    # class (effective licence), the flag, and where it sits on the openness spectrum
    "model_licences": """
SELECT m.id AS model_id, m.repo_id, 'https://huggingface.co/' || m.repo_id AS hub_url, m.family, m.publisher,
       m.title, m.card_license, m.card_license_name, m.card_license_link, s.source_id AS licence,
       s.title AS licence_title, m.matched_by, m.match_detail, r.class, r.class_label, r.version_id AS licence_version_id,
       m.flag, m.openness_level, m.openness_reason, m.gated, m.status, m.last_success_at,
       (SELECT group_concat(c.value, ', ') FROM model_components c WHERE c.model_id = m.id AND c.component = 'data')
         AS datasets,
       (SELECT group_concat(c.value, ', ') FROM model_components c WHERE c.model_id = m.id AND c.component = 'code')
         AS code,
       (SELECT c.value || coalesce(' (' || c.detail || ')', '') FROM model_components c WHERE c.model_id = m.id
        AND c.component = 'weights') AS weights,
       CASE WHEN r.version_id IS NOT NULL THEN '/-/openness/' || r.version_id END AS openness_page
FROM models m
LEFT JOIN sources s ON s.id = m.licence_source_id
LEFT JOIN openness_ratings r ON r.id = (SELECT x.id FROM openness_ratings x JOIN versions xv ON xv.id = x.version_id
                                        WHERE x.source_id = m.licence_source_id AND x.scope = 'effective'
                                        ORDER BY xv.seq DESC, x.valid_from DESC, x.id DESC LIMIT 1)
WHERE m.active = 1""",

    # one row per model and criterion of its licence's current effective rating: "which models are under a
    # licence with an output-use restriction" is criterion = 'no_output_restriction' AND verdict = 'fail'
    "model_criteria": """
SELECT ml.model_id, ml.repo_id, ml.family, ml.licence, ml.class, o.criterion, o.label, o.verdict, o.detail,
       o.reason, o.first_clause_id AS clause_id, ml.flag
FROM model_licences ml
JOIN openness_ratings r ON r.version_id = ml.licence_version_id AND r.scope = 'effective'
     AND r.id = (SELECT x.id FROM openness_ratings x WHERE x.version_id = ml.licence_version_id
                 AND x.scope = 'effective' ORDER BY x.valid_from DESC, x.id DESC LIMIT 1)
JOIN openness o ON o.rating_id = r.id""",
}
