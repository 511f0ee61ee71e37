"""The ``pairs`` pipeline step: compare any two versions of a family, and the renditions of each document.

Runs after change detection (``clausewatch process`` and ``crawl``), so the site can show, from stored rows
only, the difference between any two versions an analyst picks (Llama 2 against Llama 4) and where the
renditions of one document (the HTML, PDF and Formex copies of an act) disagree. It uses the detector's one
entry point, :func:`clausewatch.changes.compare`, on the stored clauses.

- every pair of analysed versions of a family (a source without a family is its own), older first, that
  the detector has not compared as consecutive versions or releases (those are in ``changes``), except
  pairs across renditions of one document: that is the rendition check's job;
- the current version of each document's primary rendition against the current version of each other
  rendition (purpose ``rendition``).

Incremental: a pair compared by the current detector version is not compared again. A family keeps at most
``max_versions`` versions in play (the latest), so the number of pairs stays bounded. The results go to
``pair_comparisons`` / ``pair_changes``, never to ``changes``: no digest, feed or count sees them.
"""
from __future__ import annotations

import sys
import time
from collections.abc import Iterable
from typing import Any

from clausewatch.changes import compare
from clausewatch.db.pairs import (
    compared_pairs,
    detector_pairs,
    families_of,
    family_versions,
    record_pair,
    rendition_sets,
)
from clausewatch.stages.detect import _ClauseCache, detector_version

MAX_VERSIONS = 60  # per family: at most 60 * 59 / 2 = 1,770 pairs
MIN_PARALLEL_PAIRS = 8   # fewer pairs are compared in this process: starting the pool would cost more


def planned_pairs(db, *, source_ids: Iterable[str] | None = None,
                  max_versions: int = MAX_VERSIONS) -> list[dict[str, Any]]:
    """The comparisons still to make: ``{"purpose", "family", "document", "old", "new"}``, grouped by old version."""
    version = detector_version()
    done = compared_pairs(db, version) | detector_pairs(db)
    families = families_of(db, source_ids) if source_ids else None
    todo: list[dict[str, Any]] = []
    for family, versions in family_versions(db, families).items():
        versions = versions[-max_versions:] if max_versions > 0 else []
        for i, old in enumerate(versions):
            for new in versions[i + 1:]:
                if (old["id"], new["id"]) in done:
                    continue
                if old["document"] and old["document"] == new["document"] and old["source_pk"] != new["source_pk"]:
                    continue  # renditions of one document: the rendition check compares them
                todo.append({"purpose": "pair", "family": family, "document": None, "old": old, "new": new})
    for document, renditions in rendition_sets(db).items():
        if families is not None and renditions[0]["family"] not in families:
            continue
        primary = renditions[0]
        for other in renditions[1:]:
            if (primary["id"], other["id"]) not in done:
                todo.append({"purpose": "rendition", "family": primary["family"], "document": document,
                             "old": primary, "new": other})
    return todo


def compare_pairs(db, *, source_ids: Iterable[str] | None = None, progress: bool = False,
                  max_versions: int = MAX_VERSIONS) -> dict[str, Any]:
    """Compare and store every planned pair. Returns counts and the time taken.

    With several cores the comparisons run in pool processes (:mod:`clausewatch.stages.parallel`); this
    process reads the clauses, sends them, and stores each result as it comes."""
    from clausewatch.stages import parallel

    version = detector_version()
    todo = planned_pairs(db, source_ids=source_ids, max_versions=max_versions)
    cache = _ClauseCache(db, size=8)
    started = time.perf_counter()
    totals: dict[str, Any] = {"pairs": 0, "renditions": 0, "changes": 0, "substantive": 0, "slowest": None,
                              "failed": []}
    slowest = [0.0]
    done = [0]

    def store(item: dict[str, Any], changes: list[dict[str, Any]] | None, exc: BaseException | None,
              seconds: float) -> None:
        done[0] += 1
        old, new = item["old"], item["new"]
        if exc is not None:
            error = f"comparison with {old['source']} v{old['seq']} failed: {type(exc).__name__}: {str(exc)[:300]}"
            totals["failed"].append((new["source"], new["seq"], error))
            return
        result = record_pair(db, purpose=item["purpose"], family=item["family"], document=item["document"],
                             old_version_id=old["id"], new_version_id=new["id"], detector_version=version,
                             changes=changes, seconds=seconds)
        totals["pairs" if item["purpose"] == "pair" else "renditions"] += 1
        totals["changes"] += result["changes"]
        totals["substantive"] += result["substantive"]
        if seconds >= slowest[0]:
            slowest[0] = seconds
            totals["slowest"] = f"{old['source']} v{old['seq']} vs {new['source']} v{new['seq']} ({seconds} s)"
        if progress:
            what = "rendition check" if item["purpose"] == "rendition" else "pair"
            print(f"  [{done[0]:>4}/{len(todo)}] {what} {old['source']} v{old['seq']} vs {new['source']} "
                  f"v{new['seq']}: {result['substantive']} substantive of {result['changes']} changes ({seconds} s)",
                  file=sys.stderr, flush=True)

    here = todo
    if parallel.worth_it(len(todo) >= MIN_PARALLEL_PAIRS, len(todo)):
        here = _in_pool(todo, cache, store)
    for item in here:
        t0 = time.perf_counter()
        try:
            (old_clauses, old_text), (new_clauses, new_text) = cache.get(item["old"]), cache.get(item["new"])
            changes = [c.to_json() for c in compare(old_clauses, new_clauses, old_text=old_text, new_text=new_text)]
        except Exception as exc:  # noqa: BLE001 - one pair's failure is reported (and tried again); the others go on
            store(item, None, exc, 0.0)
            continue
        store(item, changes, None, round(time.perf_counter() - t0, 3))
    totals["seconds"] = round(time.perf_counter() - started, 2)
    totals["detector_version"] = version
    return totals


def _in_pool(todo: list[dict[str, Any]], cache: _ClauseCache, store) -> list[dict[str, Any]]:
    """Compare ``todo`` in the pool processes, a few pairs in flight; returns what is left for this
    process (a pool process died)."""
    from concurrent.futures import FIRST_COMPLETED, wait
    from concurrent.futures.process import BrokenProcessPool

    from clausewatch.stages import parallel, parallel_tasks

    window = 2 * parallel.process_count()
    # rendition checks first: each compares a whole document with another rendering of it (an act's HTML
    # with its PDF), the longest jobs by far; sent last, one would run alone on one core at the end
    queue = sorted(todo, key=lambda item: item["purpose"] != "rendition")
    running, finished = {}, set()
    try:
        while queue or running:
            while queue and len(running) < window:
                item = queue.pop(0)
                (old_clauses, old_text), (new_clauses, new_text) = cache.get(item["old"]), cache.get(item["new"])
                future = parallel.submit(parallel_tasks.compared, old_clauses, new_clauses, old_text, new_text)
                if future is None:
                    queue.insert(0, item)
                    raise BrokenProcessPool("the process pool is not available")
                running[future] = (item, time.perf_counter())
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in done:
                item, sent = running.pop(future)
                exc = future.exception()
                if isinstance(exc, BrokenProcessPool):
                    running[future] = (item, sent)
                    raise exc
                store(item, None if exc else future.result(), exc, round(time.perf_counter() - sent, 3))
                finished.add(id(item))
    except BrokenProcessPool:
        parallel.mark_broken()
    return [item for item in todo if id(item) not in finished]
