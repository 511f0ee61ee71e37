"""The ``changes`` pipeline step: compare each new version with what came before it, store the changes.

- a new version of a source is compared with the previous version of that source (scope ``version``);
- the first version of a source is compared with the latest version of the previous release of its
  family (scope ``release``: llama-3.1-license against llama-3-license);
- a change of a use policy is also recorded for every licence that incorporates it (scope
  ``incorporated``): the *effective* licence is the licence together with what it incorporates;
- the first version of a copy of a template licence (``template: mit`` in its declaration) is compared
  with the template (scope ``template``): its deviations, never the copyright holder;
- a version whose text is that of an earlier, non-adjacent version is recorded as reverted to it;
- for a source whose changes must persist N fetches (``alert_after_fetches``), a version replaced before
  it persisted is not the base of the next comparison: the last version that persisted is.

After comparing, the alert state of undecided changes is updated (``db.comparisons.update_alerts``).

Incremental and idempotent: a version compared by the current detector version is not compared again.
Stored clauses are used when they come from the current NLP pipeline; otherwise the version text is
analysed again (the same ``nlp.analyse`` as ``clausewatch tag`` and ``clausewatch diff``).
"""
from __future__ import annotations

import json
import sys
import time
from collections import OrderedDict
from collections.abc import Iterable
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from clausewatch.changes import ALIGN_VERSION, compare
from clausewatch.db.clauses import clauses_of, version_text
from clausewatch.db.comparisons import (
    earlier_versions,
    latest_stored_version,
    persisted,
    previous_release_version,
    record_comparison,
    reverted_to,
    update_alerts,
    versions_to_compare,
)
from clausewatch.db.documents import source_id_of, source_pk
from clausewatch.nlp.model import Clause, Entity, Segment, TagHit
from clausewatch.nlp.version import NLP_VERSION


def detector_version() -> str:
    """Changes are recomputed when the aligner or the NLP pipeline (segmentation, tags) changes."""
    return f"align{ALIGN_VERSION}+nlp{NLP_VERSION}"


def clause_from_row(row: dict[str, Any]) -> Clause:
    """A stored clause (``db.clauses.clauses_of`` row) as an ``nlp.Clause``."""
    segment = Segment(ordinal=row["ordinal"], path=row["path"], heading=row.get("heading"), label=row.get("label"),
                      text=row["text"], start=row["start"], end=row["end"], depth=row.get("depth") or 0,
                      parent=row.get("parent_ordinal"))
    tags = [TagHit(t["tag"], t.get("score") or 0.0, t.get("evidence") or "", t.get("rule") or "")
            for t in row.get("tags", [])]
    entities = [Entity(e["type"], e["text"], _entity_value(e), e.get("start") or 0, e.get("end") or 0,
                       e.get("unit"), e.get("currency")) for e in row.get("entities", [])]
    return Clause(segment, tags, entities, bool(row.get("open_relevant")))


def _entity_value(row: dict[str, Any]) -> Any:
    number = row.get("value_number")
    if number is not None:
        return int(number) if float(number).is_integer() else number
    value = row.get("value")
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def version_clauses(db, version: dict[str, Any]) -> list[Clause]:
    """The clauses of a stored version: stored ones if analysed by the current pipeline, else analysed now."""
    if version.get("pipeline_version") == NLP_VERSION:
        rows = clauses_of(db, version["id"])
        if rows:
            return [clause_from_row(r) for r in rows]
    text = version.get("text") or version_text(db, version["id"])
    from clausewatch.stages import parallel

    if parallel.active_processes():     # the pool's processes have spaCy loaded: this process need not import it
        from clausewatch.stages import parallel_tasks

        future = parallel.submit(parallel_tasks.analysed, text)
        if future is not None:
            try:
                return future.result()
            except BrokenProcessPool:
                parallel.mark_broken()
    from clausewatch.nlp import analyse

    return analyse(text)


class _ClauseCache:
    """The last few versions' clauses: consecutive comparisons share a version."""

    def __init__(self, db, size: int = 4) -> None:
        self.db, self.size, self.items = db, size, OrderedDict()

    def get(self, version: dict[str, Any]) -> tuple[list[Clause], str]:
        key = version["id"]
        if key in self.items:
            self.items.move_to_end(key)
            return self.items[key]
        text = version.get("text") or version_text(self.db, key)
        entry = (version_clauses(self.db, {**version, "text": text}), text)
        self.items[key] = entry
        if len(self.items) > self.size:
            self.items.popitem(last=False)
        return entry


class TemplateMissing(Exception):
    """The template a copy is compared with has no stored version yet: compare the copy later."""


def comparison_base(db, new: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """What a new version is compared with, and the scope: the previous version of its source (or, when
    changes must persist, the last one that did); for a first version, its template or previous release."""
    earlier = earlier_versions(db, new["id"])
    if earlier:
        needed = max(int(new.get("alert_after_fetches") or 1), 1)
        if needed > 1:
            for candidate in earlier:
                if persisted(db, candidate, needed):
                    return candidate, "version"
        return earlier[0], "version"
    if new.get("template"):
        return _template_base(db, new["template"]), "template"
    old = previous_release_version(db, new["source_id"], before=(new["valid_from"] or "")[:10] or None)
    return old, "release" if old else "first"


def _template_base(db, template: str) -> dict[str, Any]:
    pk = source_pk(db, template)
    if pk is not None:
        version = latest_stored_version(db, pk)
        if version is None:
            raise TemplateMissing(template)
        return version
    from clausewatch.crawlers.templates import template_text

    text = template_text(template)
    if text is None:
        raise TemplateMissing(template)
    return {"id": f"template:{template}", "text": text, "source_id": None, "seq": 0}


def detect_changes(db, *, source_ids: Iterable[str] | None = None, progress: bool = False) -> dict[str, Any]:
    """Compare every version not yet compared by this detector version; store the changes; decide alerts.
    Returns counts."""
    version = detector_version()
    todo = versions_to_compare(db, version, source_ids)
    cache = _ClauseCache(db)
    started = time.perf_counter()
    totals: dict[str, Any] = {"versions": len(todo), "changes": 0, "substantive": 0, "incorporated_rows": 0,
                              "reverted": 0, "deferred": 0, "failed": []}
    for k, new in enumerate(todo, 1):
        t0 = time.perf_counter()
        try:
            old, scope = comparison_base(db, new)
        except TemplateMissing as missing:
            totals["deferred"] += 1
            if progress:
                print(f"  [{k:>3}/{len(todo)}] {new['source']} v{new['seq']}: template {missing} not stored yet, "
                      "compared later", file=sys.stderr, flush=True)
            continue
        back = None if new["technical"] else reverted_to(db, new["id"])
        changes: list[dict[str, Any]] = []
        error = None
        if old is not None and not new["technical"]:
            try:
                (old_clauses, old_text), (new_clauses, new_text) = cache.get(old), cache.get(new)
                changes = [c.to_json() for c in compare(old_clauses, new_clauses, old_text=old_text,
                                                        new_text=new_text, template_copy=bool(new.get("template")))]
            except Exception as exc:  # noqa: BLE001 - one pair's failure is recorded; the others go on
                error = f"comparison failed: {type(exc).__name__}: {str(exc)[:500]}"
                totals["failed"].append((new["source"], new["seq"], error))
        old_id = old["id"] if old and isinstance(old["id"], int) else None
        result = record_comparison(db, source_pk=new["source_id"], new_version=new,
                                   old_version_id=old_id, scope=scope,
                                   detector_version=version, changes=changes,
                                   seconds=round(time.perf_counter() - t0, 3), error=error,
                                   reverted_to_version_id=back["id"] if back else None)
        totals["reverted"] += int(back is not None)
        totals["changes"] += result["changes"]
        totals["substantive"] += result["substantive"]
        totals["incorporated_rows"] += result["rows"] - result["changes"]
        if progress:
            if old is None:
                against = "nothing before it"
            elif scope == "template" and old["source_id"] is None:
                against = f"the {new['template']} template"
            else:
                against = f"{source_id_of(db, old['source_id'])} v{old['seq']} ({scope})"
            flap = f"; reverted to the version of {(back['valid_from'] or '')[:10]}" if back else ""
            outcome = error or f"{result['substantive']} substantive of {result['changes']} changes{flap}"
            print(f"  [{k:>3}/{len(todo)}] {new['source']} v{new['seq']} vs {against}: {outcome}",
                  file=sys.stderr, flush=True)
    totals["alerts"] = update_alerts(db)
    totals["seconds"] = round(time.perf_counter() - started, 2)
    totals["detector_version"] = version
    return totals
