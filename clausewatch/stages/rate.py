"""The ``rate`` pipeline step: rate every licence version for openness, alone and as the effective licence,
and record the verdict changes between consecutive ratings. Runs after change detection.

States of an effective licence: each version V of a licence is rated with the versions of the policies
it incorporates that were current on V's day (a policy stored only later counts with its first version);
while V is current, every new version of one of those policies starts a new state of V. A state is
rated once per rater version (rule version + NLP pipeline version): incremental and idempotent.

A rating's predecessor, for its verdict changes: the previous state of the same version (a policy
changed: basis ``incorporated``), else the last state of the previous version of the source (``version``),
else the last state of the previous release of its family (``release``), as the change detector pairs them.
"""
from __future__ import annotations

import sys
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from typing import Any

from clausewatch.db import openness as store
from clausewatch.db.clauses import clauses_of
from clausewatch.db.comparisons import previous_release_version, previous_version, version_on
from clausewatch.nlp.version import NLP_VERSION
from clausewatch.openness import LICENCE, POLICY, Document, Rating, Rules, facts_from_row, parse_rules, rate


@lru_cache(maxsize=1)
def load_rules() -> Rules:
    """The rule shipped with the package (``openness/rules.yaml``)."""
    return parse_rules(files("clausewatch.openness").joinpath("rules.yaml").read_text(encoding="utf-8"))


def rater_version(rules: Rules) -> str:
    """Ratings are made again when the rule or the NLP pipeline (segmentation, tags) changes."""
    return f"{rules.rule_version}+nlp{NLP_VERSION}"


@dataclass
class State:
    key: str
    source: dict[str, Any]
    version: dict[str, Any]
    scope: str
    policies: list[tuple[str, dict[str, Any] | None]] = field(default_factory=list)  # (source id, version)
    trigger: dict[str, Any] | None = None
    via_source_pk: int | None = None
    index: int = 0                       # position among the effective states of its version
    previous_key: str | None = None      # the effective state of the same version just before this one

    @property
    def day(self) -> str:
        return ((self.trigger or self.version)["valid_from"] or "")[:10]


def plan_states(db, source: dict[str, Any], pipeline_version: str = NLP_VERSION) -> tuple[list[State], bool]:
    """Every rating state of a licence source, and whether some wait for the NLP stage."""

    def _processed(version: dict[str, Any] | None) -> bool:
        return version is not None and version.get("pipeline_version") == pipeline_version

    versions = store.versions_of(db, source["id"])
    policies = []
    for name in store.incorporated_ids(source):
        row = store.source_by_source_id(db, name)
        policies.append((name, row, store.versions_of(db, row["id"]) if row else []))
    states, waiting = [], False
    for k, version in enumerate(versions):
        if not _processed(version):
            waiting = True
            continue
        states.append(State(f"{version['id']}:version", source, version, "version", trigger=version))
        start = (version["valid_from"] or "")[:10]
        end = (versions[k + 1]["valid_from"] or "")[:10] if k + 1 < len(versions) else None
        days = [(start, version, None)]
        for _, row, pversions in policies:
            for pv in pversions:
                day = (pv["valid_from"] or "")[:10]
                if day > start and (end is None or day < end):
                    days.append((day, pv, row["id"]))
        seen: set[str] = set()
        for day, trigger, via in sorted(days, key=lambda d: (d[0], d[1]["id"])):
            chosen = [(name, _policy_version(db, row, pversions, day)) for name, row, pversions in policies]
            if any(pv is not None and not _processed(pv) for _, pv in chosen):
                waiting = True
                continue
            ids = ",".join(str(pv["id"]) if pv else "-" for _, pv in chosen)
            key = f"{version['id']}:effective:{ids}"
            if key in seen:
                continue
            previous = next((s.key for s in reversed(states) if s.scope == "effective"
                             and s.version["id"] == version["id"]), None)
            seen.add(key)
            states.append(State(key, source, version, "effective", chosen, trigger, via if via else None,
                                index=len(seen) - 1, previous_key=previous))
    return states, waiting


def _policy_version(db, row, pversions: list[dict[str, Any]], day: str) -> dict[str, Any] | None:
    """The policy's version current on ``day``; before its first stored version, that first version."""
    if row is None or not pversions:
        return None
    current = version_on(db, row["id"], day)
    found = current or pversions[0]
    return next((v for v in pversions if v["id"] == found["id"]), found)


class _Clauses:
    """Clause facts of the last few versions (consecutive states share their licence and policies)."""

    def __init__(self, db, size: int = 16) -> None:
        self.db, self.size, self.items = db, size, OrderedDict()

    def document(self, name: str, role: str, version: dict[str, Any] | None) -> Document:
        if version is None:
            return Document(name, role, stored=False)
        key = (version["id"], role)
        if key not in self.items:
            rows = clauses_of(self.db, version["id"])
            self.items[key] = [facts_from_row(r, document=name, role=role) for r in rows]
            if len(self.items) > self.size:
                self.items.popitem(last=False)
        self.items.move_to_end(key)
        return Document(name, role, self.items[key], version_id=version["id"])


def rate_state(state: State, clauses: _Clauses, rules: Rules) -> Rating:
    docs = [clauses.document(state.source["source_id"], LICENCE, state.version)]
    if state.scope == "effective":
        docs += [clauses.document(name, POLICY, pv) for name, pv in state.policies]
    return rate(docs, rules)


def criterion_rows(rating: Rating, rules: Rules) -> list[dict[str, Any]]:
    rows = []
    for v in rating.verdicts:
        ids = v.clause_ids
        crit = rules.criteria[v.criterion]
        rows.append({"criterion": v.criterion, "label": crit.label, "short": crit.short, "verdict": v.verdict, "detail": v.detail or None, "reason": v.reason,
                     "first_clause_id": ids[0] if ids else None, "evidence_clause_ids": ids,
                     "evidence_tags": v.tags, "evidence": [e.to_json() for e in v.evidence]})
    return rows


def _predecessor(db, state: State) -> tuple[dict[str, Any] | None, str]:
    if state.previous_key:
        return store.rating_by_key(db, state.previous_key), "incorporated"
    before = previous_version(db, state.version["id"])
    basis = "version"
    if before is None:
        before = previous_release_version(db, state.source["id"], before=state.day or None)
        basis = "release"
    if before is None:
        return None, basis
    return store.last_rating_of_version(db, before["id"], state.scope), basis


def verdict_changes(db, state: State, rating: Rating, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows of ``rating_changes``: each criterion whose verdict differs from the predecessor's, and the class."""
    old, basis = _predecessor(db, state)
    if old is None:
        return []
    old_rows = {r["criterion"]: r for r in store.criteria_of(db, old["id"])}
    common = {
        "source_id": state.source["id"], "family": state.source.get("family"), "scope": state.scope,
        "basis": basis, "via_source_id": state.via_source_pk if basis == "incorporated" else None,
        "old_rating_id": old["id"], "old_version_id": old["version_id"], "new_version_id": state.version["id"],
        "trigger_version_id": (state.trigger or state.version)["id"], "old_class": old["class"],
        "new_class": rating.klass, "effective_date": state.day or None}
    out = []
    for row in rows:
        before = old_rows.get(row["criterion"])
        if before is None or before["verdict"] == row["verdict"]:
            continue
        out.append({**common, "criterion": row["criterion"], "old_verdict": before["verdict"],
                    "new_verdict": row["verdict"], "old_detail": before.get("detail"), "new_detail": row["detail"],
                    "old_reason": before["reason"], "new_reason": row["reason"],
                    "old_clause_ids": before["evidence_clause_ids"], "new_clause_ids": row["evidence_clause_ids"],
                    "old_tags": before["evidence_tags"], "new_tags": row["evidence_tags"]})
    if old["class"] != rating.klass:
        out.append({**common, "criterion": "class", "old_verdict": old["class"], "new_verdict": rating.klass,
                    "old_detail": old["class_label"], "new_detail": rating.class_label,
                    "old_reason": old.get("class_reason"), "new_reason": rating.class_reason,
                    "old_clause_ids": [], "new_clause_ids": [], "old_tags": [], "new_tags": []})
    return out


def rate_versions(db, *, source_ids: Iterable[str] | None = None, progress: bool = False,
                  rules: Rules | None = None, pipeline_version: str = NLP_VERSION) -> dict[str, Any]:
    """Rate every licence state not yet rated by the current rater version; returns counts.

    Only versions analysed by ``pipeline_version`` (the current NLP pipeline) are rated."""
    rules = rules or load_rules()
    rater = rater_version(rules)
    started = time.perf_counter()
    done = store.rated_states(db)
    plan: list[State] = []
    waiting = 0
    for source in store.licence_sources(db, source_ids):
        states, wait = plan_states(db, source, pipeline_version)
        waiting += wait
        if not wait:
            store.prune_states(db, source["id"], [s.key for s in states])
        plan += states
    plan.sort(key=lambda s: (s.day, s.version["id"], s.scope != "version", s.index))
    todo = [s for s in plan if done.get(s.key) != rater]
    clauses = _Clauses(db)
    totals = {"states": len(todo), "licences": len({s.source["id"] for s in todo}), "changes": 0,
              "waiting": waiting, "rater_version": rater}
    for k, state in enumerate(todo, 1):
        rating = rate_state(state, clauses, rules)
        rows = criterion_rows(rating, rules)
        changes = verdict_changes(db, state, rating, rows)
        store.save_rating(db, {
            "state_key": state.key, "source_id": state.source["id"], "version_id": state.version["id"],
            "scope": state.scope, "policy_version_ids": [pv["id"] if pv else None for _, pv in state.policies],
            "unread": rating.unread, "trigger_version_id": (state.trigger or state.version)["id"],
            "valid_from": state.day or None, "class": rating.klass, "class_label": rating.class_label,
            "class_reason": rating.class_reason, "decided_by": rating.decided_by, "rule_version": rating.rule_version,
            "rater_version": rater}, rows, changes)
        totals["changes"] += len(changes)
        if progress:
            print(f"  [{k:>3}/{len(todo)}] {state.source['source_id']} v{state.version['seq']} ({state.scope}): "
                  f"{rating.class_label}" + (f", {len(changes)} verdict changes" if changes else ""),
                  file=sys.stderr, flush=True)
    totals["seconds"] = round(time.perf_counter() - started, 2)
    return totals
