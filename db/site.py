"""The SQL and the pure helpers the site's pages share (timeline, version menus, diff neighbours).

The Datasette plugins run these queries on their read-only connection and shape the rows with these
functions: nothing here computes a change; it orders and groups what the pipeline stored.
"""
from __future__ import annotations

from typing import Any

from clausewatch.db.pairs import release_key

# every version of a family's sources, with what the pages need to name and order it
FAMILY_VERSIONS_SQL = """
SELECT v.id, v.seq, v.valid_from, v.fetched_at, v.chars, v.technical, v.processed_at, v.title AS version_title,
       s.id AS source_pk, s.source_id AS source, s.title AS document, s.version_label, s.release_date, s.kind,
       s.family, s.document AS document_id, s.format, s.url, s.active,
       coalesce((SELECT r.rank FROM renditions r WHERE r.source_pk = s.id), 1) AS rendition_rank
FROM sources s JOIN versions v ON v.source_id = s.id
WHERE s.family = :family"""

# the sources of a family that have no version yet (shown in the timeline as not fetched)
FAMILY_UNFETCHED_SQL = """
SELECT s.id AS source_pk, s.source_id AS source, s.title AS document, s.version_label, s.release_date, s.kind,
       s.status, s.last_error, s.active
FROM sources s WHERE s.family = :family AND NOT EXISTS (SELECT 1 FROM versions v WHERE v.source_id = s.id)"""

# the detector's comparison of each version (against its previous version or previous release)
COMPARISONS_SQL = """
SELECT cc.new_version_id, cc.old_version_id, cc.scope, cc.changes, cc.substantive
FROM change_comparisons cc JOIN versions v ON v.id = cc.new_version_id JOIN sources s ON s.id = v.source_id
WHERE s.family = :family"""

# the tags of each version of the family (document level: does any clause carry it)
FAMILY_TAGS_SQL = """
SELECT c.version_id, t.tag, count(DISTINCT c.id) AS clauses
FROM clause_tags t JOIN clauses c ON c.id = t.clause_id JOIN versions v ON v.id = c.version_id
JOIN sources s ON s.id = v.source_id
WHERE s.family = :family GROUP BY c.version_id, t.tag"""

# changes of the policies the family's licences incorporate, recorded under each licence (scope incorporated)
INCORPORATED_SQL = """
SELECT ch.source_id AS source_pk, ch.via_source_id, via.source_id AS via_source, via.title AS via_document,
       via.family AS via_family, ch.old_version_id, ch.new_version_id, nv.valid_from, count(*) AS changes,
       sum(ch.substantive) AS substantive
FROM changes ch JOIN sources s ON s.id = ch.source_id JOIN sources via ON via.id = ch.via_source_id
JOIN versions nv ON nv.id = ch.new_version_id
WHERE ch.scope = 'incorporated' AND s.family = :family
GROUP BY ch.source_id, ch.via_source_id, ch.old_version_id, ch.new_version_id"""


def ordered(versions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Versions in the family's history order: releases by date and label, then each source's versions."""
    return sorted(versions, key=release_key)


def version_name(v: dict[str, Any]) -> str:
    """How a menu names a version: "Llama 3.1 ... (3.1), version 1 of 2024-07-23"."""
    label = v.get("version_label")
    name = v.get("document") or v.get("source") or "?"
    if label and label not in name and label != "current":
        name += f" ({label})"
    fmt = v.get("format")
    if v.get("document_id") and fmt:
        name += f" [{fmt}]"
    return f"{name}, version {v.get('seq')} of {(v.get('valid_from') or '')[:10]}"


def menu(versions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``[{id, name}]`` for the two "compare" menus, in history order."""
    return [{"id": v["id"], "name": version_name(v)} for v in ordered(versions)]


def step_date(v: dict[str, Any]) -> str:
    """The day a version's text took effect: the declared release date of a release's first text (when it
    is a full date), else the day the tracker stored the text."""
    release = v.get("release_date") or ""
    if v.get("seq") == 1 and len(release) == 10:
        return release
    return (v.get("valid_from") or "")[:10]


def _short(v: dict[str, Any]) -> str:
    label = v.get("version_label")
    return label if label and label != "current" else (v.get("document") or v.get("source") or "?")


def step_name(old: dict[str, Any], new: dict[str, Any]) -> str:
    """A step as people say it: "Llama 3.1 Community License: 3.1 -> 3.2", "Gemma Terms of Use: version 1 -> 2"."""
    if old.get("source_pk") == new.get("source_pk"):
        return f"{new.get('document')}: version {old.get('seq')} \u2192 {new.get('seq')}"
    return f"{_short(old)} \u2192 {_short(new)} ({new.get('document')})"


def timeline_steps(versions: list[dict[str, Any]], comparisons: list[dict[str, Any]],
                   tags: list[dict[str, Any]], incorporated: list[dict[str, Any]] | None = None,
                   unfetched: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """One step per version of the family (renditions other than a document's primary left out), in history
    order: its date, the version it was compared with, substantive and cosmetic counts (its own changes,
    never those recorded again under a licence that incorporates a policy), the tags the document gained and
    lost, the diff to open, and the changes of incorporated policies that came with it. Sources never fetched
    are steps without a version, where their release stands."""
    by_id = {v["id"]: v for v in versions}
    compared = {c["new_version_id"]: c for c in comparisons}
    version_tags: dict[int, set[str]] = {}
    for row in tags:
        version_tags.setdefault(row["version_id"], set()).add(row["tag"])
    shown = [v for v in ordered(versions) if v.get("rendition_rank", 1) == 1]
    steps: list[dict[str, Any]] = []
    for v in shown:
        c = compared.get(v["id"])
        old = by_id.get(c["old_version_id"]) if c and c.get("old_version_id") else None
        step: dict[str, Any] = {"version": v, "old": old, "date": step_date(v), "scope": c["scope"] if c else None,
                                "compared": c is not None, "incorporated": []}
        if c and old:
            step["substantive"] = c["substantive"] or 0
            step["cosmetic"] = (c["changes"] or 0) - (c["substantive"] or 0)
            new_tags, old_tags = version_tags.get(v["id"], set()), version_tags.get(old["id"], set())
            step["gained"] = sorted(new_tags - old_tags)
            step["lost"] = sorted(old_tags - new_tags)
            step["diff"] = f"/-/diff/{old['id']}/{v['id']}"
            step["name"] = step_name(old, v)
        steps.append(step)
    # a policy's change (recorded once per licence that incorporates it) is shown once, with the licence
    # step current when it happened (the latest on or before it, else the first)
    groups: dict[tuple, dict[str, Any]] = {}
    for row in incorporated or []:
        key = (row["via_source_id"], row["old_version_id"], row["new_version_id"])
        groups.setdefault(key, {**row, "hosts": set()})["hosts"].add(row["source_pk"])
    for group in groups.values():
        candidates = [s for s in steps if s["version"]["source_pk"] in group["hosts"]]
        if not candidates:
            continue
        on_or_before = [s for s in candidates if (s["version"]["valid_from"] or "") <= (group["valid_from"] or "")]
        target = (on_or_before or candidates)[-1]
        target["incorporated"].append({**group, "cosmetic": (group["changes"] or 0) - (group["substantive"] or 0),
                                       "diff": f"/-/diff/{group['old_version_id'] or group['new_version_id']}/"
                                               f"{group['new_version_id']}"})
    for source in unfetched or []:
        if not source.get("active", 1):
            continue
        key = release_key({**source, "seq": 0})
        at = next((i for i, s in enumerate(steps) if release_key(s["version"]) > key), len(steps))
        steps.insert(at, {"version": None, "source": source, "date": source.get("release_date") or "",
                          "compared": False, "incorporated": []})
    return steps


def neighbours(steps: list[dict[str, Any]], versions: list[dict[str, Any]], old_id: int,
               new_id: int) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The timeline steps before and after the pair ``old_id`` -> ``new_id`` (for any pair of the family)."""
    position = {v["id"]: k for k, v in enumerate(ordered(versions))}
    real = [s for s in steps if s.get("diff") and s["version"]["id"] in position]
    if old_id not in position or new_id not in position:
        return None, None
    before = [s for s in real if position[s["version"]["id"]] <= position[old_id] and s["version"]["id"] != new_id]
    after = [s for s in real if position[s["version"]["id"]] > position[new_id]]
    return (before[-1] if before else None), (after[0] if after else None)
