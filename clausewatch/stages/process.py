"""Stored versions -> clauses, tags and entities (incremental by pipeline version)."""
from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from typing import Any

from clausewatch.db.clauses import replace_clauses, version_text, versions_to_process


def clause_rows(clauses: list) -> list[dict[str, Any]]:
    """nlp Clause objects -> rows for db.clauses.replace_clauses."""
    rows = []
    for c in clauses:
        s = c.segment
        rows.append({
            "ordinal": s.ordinal, "path": s.path, "heading": s.heading, "label": s.label, "text": s.text,
            "start": s.start, "end": s.end, "depth": s.depth, "parent_ordinal": s.parent,
            "open_relevant": int(bool(c.open_relevant)),
            "tags": [t.to_json() for t in c.tags],
            "entities": [e.to_json() for e in c.entities],
        })
    return rows


def process_versions(db, *, source_ids: Iterable[str] | None = None, progress: bool = True) -> dict[str, Any]:
    """Analyse every version not yet processed by the current pipeline version."""
    from clausewatch.nlp import NLP_VERSION, analyse

    todo = versions_to_process(db, NLP_VERSION, source_ids)
    started = time.perf_counter()
    clauses = 0
    for i, version in enumerate(todo, 1):
        rows = clause_rows(analyse(version_text(db, version["id"])))
        clauses += replace_clauses(db, version["id"], rows, NLP_VERSION)
        if progress:
            print(f"  [{i:>3}/{len(todo)}] {version['source']} v{version['seq']}: {len(rows)} clauses",
                  file=sys.stderr, flush=True)
    return {"versions": len(todo), "clauses": clauses, "seconds": round(time.perf_counter() - started, 2),
            "pipeline_version": NLP_VERSION}
