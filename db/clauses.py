"""Clauses, their tags and entities, stored per version and pipeline version."""
from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from sqlite_utils import Database

from clausewatch.db.connection import now_iso, source_filter


def versions_to_process(db: Database, pipeline_version: str, source_ids: Iterable[str] | None = None, *,
                        retry_failed: bool = False) -> list[dict]:
    """Versions not yet processed by this pipeline version, oldest first (with ``retry_failed``, also those
    whose processing by this pipeline version failed)."""
    sql = """SELECT v.id, v.source_id, v.seq, v.chars, s.source_id AS source
             FROM versions v JOIN sources s ON s.id = v.source_id
             WHERE (v.pipeline_version IS NULL OR v.pipeline_version != ?)"""
    params: list[Any] = [pipeline_version]
    if not retry_failed:
        sql += " AND (v.failed_pipeline_version IS NULL OR v.failed_pipeline_version != ?)"
        params.append(pipeline_version)
    where, ids = source_filter(source_ids)
    return list(db.query(sql + where + " ORDER BY v.id", [*params, *ids]))


def record_processing_error(db: Database, version_id: int, pipeline_version: str, error: str) -> None:
    """The analysis of a version by this pipeline version failed: keep the reason (and any earlier clauses,
    still marked with the pipeline version that made them); it is not tried again by this pipeline version."""
    db["versions"].update(version_id, {"failed_pipeline_version": pipeline_version, "processed_at": now_iso(),
                                       "process_error": error[:2000]})


def processing_errors(db: Database) -> list[dict[str, Any]]:
    """Versions whose latest analysis failed, with their source id."""
    return list(db.query("""SELECT v.id, v.seq, v.failed_pipeline_version, v.process_error, v.processed_at,
                                   s.source_id AS source
                            FROM versions v JOIN sources s ON s.id = v.source_id
                            WHERE v.process_error IS NOT NULL ORDER BY v.id"""))


def version_text(db: Database, version_id: int) -> str:
    row = db.execute("SELECT text FROM versions WHERE id = ?", [version_id]).fetchone()
    if row is None:
        raise KeyError(f"version {version_id} not found")
    return row[0]


def replace_clauses(db: Database, version_id: int, clauses: list[dict[str, Any]], pipeline_version: str) -> int:
    """Store the analysed clauses of one version, replacing any earlier analysis, in one transaction.

    Each clause dict has the ``clauses`` columns plus ``tags`` (list of {tag, score, evidence, rule}) and
    ``entities`` (list of {type, text, value, start, end, unit?, currency?}).
    """
    with db.atomic():
        old = [r[0] for r in db.execute("SELECT id FROM clauses WHERE version_id = ?", [version_id])]
        if old:
            marks = ",".join("?" * len(old))
            db.execute(f"DELETE FROM clause_tags WHERE clause_id IN ({marks})", old)
            db.execute(f"DELETE FROM entities WHERE clause_id IN ({marks})", old)
            db.execute("DELETE FROM clauses WHERE version_id = ?", [version_id])
        tag_rows, entity_rows, clause_rows = [], [], []
        clause_id = db.execute("SELECT COALESCE(MAX(id), 0) FROM clauses").fetchone()[0]
        for clause in clauses:
            clause_id += 1  # explicit ids: one executemany instead of one INSERT per clause
            tags = clause.get("tags", [])
            row = {k: v for k, v in clause.items() if k not in ("tags", "entities")}
            row.update(id=clause_id, version_id=version_id, tags=json.dumps(sorted({t["tag"] for t in tags})))
            clause_rows.append(row)
            tag_rows += [(clause_id, t["tag"], t["score"], t.get("evidence"), t.get("rule")) for t in tags]
            for ent in clause.get("entities", []):
                value = ent.get("value")
                number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
                entity_rows.append((
                    clause_id, ent["type"], ent["text"],
                    json.dumps(value) if isinstance(value, dict | list) else (None if value is None else str(value)),
                    number, ent.get("unit"), ent.get("currency"), ent.get("start"), ent.get("end")))
        if clause_rows:
            columns = list(clause_rows[0])
            names = ", ".join(f'"{c}"' for c in columns)
            db.conn.executemany(f"INSERT INTO clauses ({names}) VALUES ({', '.join('?' * len(columns))})",
                                [[r.get(c) for c in columns] for r in clause_rows])
        db.conn.executemany("INSERT INTO clause_tags (clause_id, tag, score, evidence, rule) VALUES (?, ?, ?, ?, ?)",
                            tag_rows)
        db.conn.executemany(
            """INSERT INTO entities (clause_id, type, text, value, value_number, unit, currency, start, "end")
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""", entity_rows)
        db["versions"].update(version_id, {"pipeline_version": pipeline_version, "processed_at": now_iso(),
                                           "process_error": None, "failed_pipeline_version": None})
    return len(clauses)


def clauses_of(db: Database, version_id: int) -> list[dict[str, Any]]:
    """The stored clauses of a version with their tags and entities (as lists of dicts)."""
    rows = list(db.query("SELECT * FROM clauses WHERE version_id = ? ORDER BY ordinal", [version_id]))
    if not rows:
        return rows
    by_id = {r["id"]: r for r in rows}
    for r in rows:
        r["tags"], r["entities"] = [], []
    marks = ",".join("?" * len(by_id))
    for t in db.query(f"SELECT * FROM clause_tags WHERE clause_id IN ({marks}) ORDER BY id", list(by_id)):
        by_id[t["clause_id"]]["tags"].append(t)
    for e in db.query(f"SELECT * FROM entities WHERE clause_id IN ({marks}) ORDER BY id", list(by_id)):
        by_id[e["clause_id"]]["entities"].append(e)
    return rows
