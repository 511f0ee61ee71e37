"""Stored versions -> clauses, tags and entities (incremental by pipeline version)."""
from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from typing import Any

from clausewatch.db.clauses import record_processing_error, replace_clauses, version_text, versions_to_process


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


def process_versions(db, *, source_ids: Iterable[str] | None = None, progress: bool = True,
                     retry_failed: bool = False) -> dict[str, Any]:
    """Analyse every version not yet processed by the current pipeline version.

    A version whose analysis fails gets its error recorded (``versions.process_error``, shown by
    `clausewatch status` and the site) and the others go on; it is analysed again when the pipeline
    version changes, or with ``retry_failed``. ``failed`` in the result lists ``(source, seq, error)``.
    """
    from clausewatch.nlp import NLP_VERSION, analyse

    todo = versions_to_process(db, NLP_VERSION, source_ids, retry_failed=retry_failed)
    started = time.perf_counter()
    clauses, failed = 0, []
    for i, version in enumerate(todo, 1):
        try:
            rows = clause_rows(analyse(version_text(db, version["id"])))
        except Exception as exc:  # noqa: BLE001 - one document's failure is its own error, never the run's
            error = f"processing failed: {type(exc).__name__}: {str(exc)[:500]}"
            record_processing_error(db, version["id"], NLP_VERSION, error)
            failed.append((version["source"], version["seq"], error))
            if progress:
                print(f"  [{i:>3}/{len(todo)}] {version['source']} v{version['seq']}: {error}",
                      file=sys.stderr, flush=True)
            continue
        clauses += replace_clauses(db, version["id"], rows, NLP_VERSION)
        if progress:
            print(f"  [{i:>3}/{len(todo)}] {version['source']} v{version['seq']}: {len(rows)} clauses",
                  file=sys.stderr, flush=True)
    return {"versions": len(todo), "clauses": clauses, "seconds": round(time.perf_counter() - started, 2),
            "pipeline_version": NLP_VERSION, "failed": failed}
