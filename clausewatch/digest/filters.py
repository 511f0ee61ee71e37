"""What a subscription selects: its filters (family, tag, kind, jurisdiction), checked when subscribing
and applied to each substantive change when a digest is made."""
from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from clausewatch.crawlers.registry import KINDS as DOCUMENT_KINDS
from clausewatch.db import connect
from clausewatch.db import subscriptions as store

CHANGE_KINDS = ("added", "removed", "modified", "moved", "rating")  # rating: an openness verdict changed
FILTER_KEYS = ("family", "tag", "kind", "jurisdiction")
_FAMILY = re.compile(r"^[a-z0-9][a-z0-9.\-]*[a-z0-9]$")
_TAG = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$")
_JURISDICTION = re.compile(r"^(global|[A-Z]{2}(-[A-Z0-9]{1,3})?)$")


class SubscriptionError(ValueError):
    """A subscription request or token that cannot be honoured, with a one-line reason."""


def normalise_filters(raw: dict[str, list[str] | tuple[str, ...]],
                      known: dict[str, set[str]] | None = None) -> dict[str, list[str]]:
    """Checked, de-duplicated filter values. ``known`` (family/jurisdiction/kind values that exist) turns
    a typo into an error instead of a subscription that never receives anything."""
    known = known or {}
    out: dict[str, list[str]] = {}
    for key in FILTER_KEYS:
        values = []
        for value in raw.get(key) or ():
            value = value.strip()
            if key == "jurisdiction":
                value = "global" if value.lower() == "global" else value.upper()
            elif key in ("family", "tag", "kind"):
                value = value.lower()
            shape = {"family": _FAMILY, "tag": _TAG, "jurisdiction": _JURISDICTION}.get(key)
            if shape and not shape.match(value):
                raise SubscriptionError(f"--{key} {value!r} is not a valid {key}")
            pool = set(known.get(key) or ())
            if key == "kind":
                pool |= set(CHANGE_KINDS) | set(DOCUMENT_KINDS)
            if key == "jurisdiction" and pool:
                ok = any(j == value or j.startswith(value + "-") for j in pool)
            else:
                ok = not pool or value in pool
            if not ok:
                raise SubscriptionError(f"--{key} {value!r} matches no tracked document (known: "
                                        f"{', '.join(sorted(pool))})")
            if value not in values:
                values.append(value)
        if values:
            out[key] = values
    return out


def _tag_hit(tags: set[str], wanted: list[str]) -> bool:
    return any(t == w or t.startswith(w + ".") for t in tags for w in wanted)


def matches(change: dict[str, Any], filters: dict[str, list[str]]) -> bool:
    """Whether a change (a row of :func:`db.subscriptions.substantive_changes`) passes the filters.

    Values of one filter are alternatives (OR); different filters must all hold (AND). ``family`` is the
    change's family (or its source's); ``jurisdiction`` J matches J and its subdivisions (US matches
    US-CA); ``kind`` is a document kind (license, use-policy, ...) or a change kind (added, removed,
    modified, moved, or rating: an openness verdict changed); ``tag`` T matches T and its sub-tags (``restrict`` matches ``restrict.geographic``)
    among the tags the change adds or removes and the tags of the changed clause before or after it.
    """
    families = filters.get("family")
    if families and change.get("family") not in families and change.get("source_family") not in families:
        return False
    places = filters.get("jurisdiction")
    if places:
        where = change.get("jurisdiction") or ""
        if not any(where == j or where.startswith(j + "-") for j in places):
            return False
    kinds = filters.get("kind")
    if kinds:
        change_kinds = [k for k in kinds if k in CHANGE_KINDS]
        document_kinds = [k for k in kinds if k not in CHANGE_KINDS]
        if change_kinds and change.get("kind") not in change_kinds:
            return False
        if document_kinds and change.get("document_kind") not in document_kinds:
            return False
    tags = filters.get("tag")
    if tags:
        seen = set()
        for col in ("tags_added", "tags_removed", "new_clause_tags", "old_clause_tags"):
            seen.update(t for t in change.get(col) or () if isinstance(t, str))
        if not _tag_hit(seen, tags):
            return False
    return True


def is_new_for(change: dict[str, Any], subscription: dict[str, Any]) -> bool:
    """A change of a version compared after the subscription started (a new detector version storing an
    old change again does not make it new: its version is not)."""
    return change["new_version_id"] > (subscription.get("since_version_id") or 0)


def change_key(change: dict[str, Any]) -> str:
    """What a change is, independent of its row id: stable when the detector stores the same change again."""
    parts = [change.get(k) for k in ("source_id", "via_source_id", "scope", "old_version_id", "new_version_id",
                                     "kind", "old_path", "new_path", "old_text", "new_text")]
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False, default=str).encode("utf-8")).hexdigest()[:32]


def describe_filters(filters: dict[str, list[str]]) -> str:
    return "; ".join(f"{k}={','.join(v)}" for k, v in filters.items()) or "every substantive change"


def known_values(public_path: Path | None) -> dict[str, set[str]]:
    """Families, jurisdictions and document kinds declared in the registry or stored in the database."""
    known: dict[str, set[str]] = {"family": set(), "jurisdiction": set(), "kind": set()}
    try:
        from clausewatch.crawlers.registry import load_registry

        for source in load_registry().sources.values():
            known["family"].add(source.family)
            known["jurisdiction"].add(source.jurisdiction)
            known["kind"].add(source.kind)
    except Exception:  # noqa: BLE001 - a broken registry must not block subscribing; the db still helps
        pass
    if public_path is not None and public_path.exists():
        for key, values in store.known_filter_values(connect(public_path, readonly=True)).items():
            known[key] |= values
    return known
