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


class EarlyAnalyses:
    """Analyses started in the pool processes as the crawl stores each new version (connected to the
    crawl's ``on_version``), so the NLP runs on the other cores while the crawl fetches; ``process_versions``
    uses them. At most ``limit`` wait at a time (the texts wait in memory); later versions are analysed by
    ``process_versions`` as usual."""

    def __init__(self, limit: int = 64) -> None:
        self.futures: dict[int, Any] = {}
        self.limit = limit

    def __call__(self, version_id: int, text: str, **_: Any) -> None:
        from clausewatch.stages import parallel, parallel_tasks

        waiting = sum(1 for f in self.futures.values() if not f.done())
        if waiting >= self.limit or parallel.pool() is None:
            return
        if not self.futures:
            parallel.warm_up()
        future = parallel.submit_soon(parallel_tasks.analysed_rows, text)   # the reactor never waits for the pool
        if future is not None:
            self.futures[version_id] = future


def process_versions(db, *, source_ids: Iterable[str] | None = None, progress: bool = True,
                     retry_failed: bool = False, early: EarlyAnalyses | None = None) -> dict[str, Any]:
    """Analyse every version not yet processed by the current pipeline version.

    With several cores the analyses run in pool processes (:mod:`clausewatch.stages.parallel`) while this
    process, the store's one writer, stores each result as it comes. A version whose analysis fails gets its
    error recorded (``versions.process_error``, shown by `clausewatch status` and the site) and the others go
    on; it is analysed again when the pipeline version changes, or with ``retry_failed``. ``failed`` in the
    result lists ``(source, seq, error)``.
    """
    from clausewatch.nlp import NLP_VERSION
    from clausewatch.stages import parallel

    todo = versions_to_process(db, NLP_VERSION, source_ids, retry_failed=retry_failed)
    started = time.perf_counter()
    counts = {"clauses": 0, "done": 0}
    failed: list[tuple[str, int, str]] = []

    def store(version: dict[str, Any], rows: list[dict[str, Any]] | None, exc: BaseException | None) -> None:
        counts["done"] += 1
        where = f"  [{counts['done']:>3}/{len(todo)}] {version['source']} v{version['seq']}"
        if exc is not None:
            error = f"processing failed: {type(exc).__name__}: {str(exc)[:500]}"
            record_processing_error(db, version["id"], NLP_VERSION, error)
            failed.append((version["source"], version["seq"], error))
            if progress:
                print(f"{where}: {error}", file=sys.stderr, flush=True)
            return
        counts["clauses"] += replace_clauses(db, version["id"], rows, NLP_VERSION)
        if progress:
            print(f"{where}: {len(rows)} clauses", file=sys.stderr, flush=True)

    here = todo
    started_early = {v["id"]: early.futures[v["id"]] for v in todo if early and v["id"] in early.futures}
    if started_early or parallel.worth_it(sum(v.get("chars") or 0 for v in todo) >= parallel.MIN_PARALLEL_CHARS,
                                         len(todo)):
        # the longest first, so the last job to finish is a short one
        here = _in_pool(db, sorted(todo, key=lambda v: -(v.get("chars") or 0)), store, started_early)
    from clausewatch.nlp import analyse

    for version in here:
        try:
            rows = clause_rows(analyse(version_text(db, version["id"])))
        except Exception as exc:  # noqa: BLE001 - one document's failure is its own error, never the run's
            store(version, None, exc)
            continue
        store(version, rows, None)
    return {"versions": len(todo), "clauses": counts["clauses"], "seconds": round(time.perf_counter() - started, 2),
            "pipeline_version": NLP_VERSION, "failed": failed, "processes": parallel.active_processes()}


def _in_pool(db, todo: list[dict[str, Any]], store, started: dict[int, Any] | None = None) -> list[dict[str, Any]]:
    """Analyse ``todo`` in the pool processes, a few versions in flight at a time (texts are read as they
    are sent; ``started``: analyses already running, by version id), storing each result here; returns the
    versions left for this process (a pool process died)."""
    from concurrent.futures import FIRST_COMPLETED, wait
    from concurrent.futures.process import BrokenProcessPool

    from clausewatch.stages import parallel, parallel_tasks

    window = 2 * parallel.process_count()
    started = started or {}
    running = {future: v for v in todo for future in [started.get(v["id"])] if future is not None}
    queue, finished = [v for v in todo if v["id"] not in started], set()
    try:
        while queue or running:
            while queue and sum(1 for f in running if not f.done()) < window:
                version = queue.pop(0)
                future = parallel.submit(parallel_tasks.analysed_rows, version_text(db, version["id"]))
                if future is None:
                    queue.insert(0, version)
                    raise BrokenProcessPool("the process pool is not available")
                running[future] = version
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                version = running.pop(future)
                exc = future.exception()
                if isinstance(exc, BrokenProcessPool):
                    running[future] = version
                    raise exc
                store(version, None if exc else future.result(), exc)
                finished.add(version["id"])
    except BrokenProcessPool:
        parallel.mark_broken()     # a pool process died (killed, out of memory): the rest is analysed here
    return [v for v in todo if v["id"] not in finished]
