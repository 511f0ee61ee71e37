"""Per-subscription Atom feeds (RFC 4287): the newest substantive changes matching its filters."""
from __future__ import annotations

import os
import re
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from clausewatch import __version__
from clausewatch.db import now_iso
from clausewatch.db import subscriptions as store
from clausewatch.db.openness import rating_digest_items
from clausewatch.digest.compose import change_html, change_text, change_title
from clausewatch.digest.filters import change_key, describe_filters, matches
from clausewatch.digest.links import item_url, public_url

ATOM = "http://www.w3.org/2005/Atom"
FEED_LIMIT = 50
SCAN_LIMIT = 5000
_FEED_NAME = re.compile(r"^[A-Za-z0-9_-]{22}\.xml$")
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _clean(text: str) -> str:
    return _XML_INVALID.sub("", text)


def _timestamp(value: str | None) -> str:
    """An RFC 3339 date-time, as Atom requires (``2025-03-24`` -> ``2025-03-24T00:00:00Z``)."""
    if not value:
        return now_iso()
    if len(value) == 10:
        return value + "T00:00:00Z"
    return value if value.endswith("Z") or "+" in value[10:] else value + "Z"


def build_feed(subscription: dict[str, Any], changes: list[dict[str, Any]], *, updated: str | None = None) -> str:
    """Atom XML for ``subscription`` from ``changes`` (already filtered, newest first)."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        el = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            el.text = _clean(text)
        return el

    base = public_url()
    sub(feed, "id", f"{base}/-/subscriptions/feed/{subscription['id']}")
    sub(feed, "title", f"clausewatch: {describe_filters(subscription.get('filters') or {})}")
    sub(feed, "updated", _timestamp(updated or (changes[0]["detected_at"] if changes else None)))
    sub(feed, "generator", "clausewatch", version=__version__)
    sub(feed, "link", href=base, rel="alternate")
    author = sub(feed, "author")
    sub(author, "name", "clausewatch")
    for change in changes:
        link = item_url(change)
        entry = sub(feed, "entry")
        # the change's identity, not its row id: a change stored again by a new detector is the same entry
        sub(entry, "id", f"urn:clausewatch:change:{change_key(change)}")
        sub(entry, "title", change_title(change))
        sub(entry, "updated", _timestamp(change.get("detected_at")))
        if change.get("effective_date"):
            sub(entry, "published", _timestamp(change["effective_date"]))
        sub(entry, "link", href=link, rel="alternate")
        for tag in sorted(set(change.get("tags_added") or []) | set(change.get("tags_removed") or [])):
            sub(entry, "category", term=tag)
        sub(entry, "summary", change_text(change))
        sub(entry, "content", change_html(change), type="html")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode") + "\n"


def recent_items(db: Database, limit: int = SCAN_LIMIT) -> list[dict[str, Any]]:
    """The newest substantive changes and openness rating changes, newest first."""
    items = (store.substantive_changes(db, newest_first=True, limit=limit)
             + rating_digest_items(db, newest_first=True, limit=limit))
    return sorted(items, key=lambda c: c.get("detected_at") or "", reverse=True)[:limit]


def feed_changes(db: Database, subscription: dict[str, Any], *, limit: int = FEED_LIMIT,
                 recent: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """The newest ``limit`` substantive changes matching the subscription (all history, not only
    undelivered). ``recent``: the newest changes already loaded, when building many feeds."""
    if recent is None:
        recent = recent_items(db)
    filters = subscription.get("filters") or {}
    out = []
    for change in recent:
        if matches(change, filters):
            out.append(change)
            if len(out) >= limit:
                break
    return out


def subscription_feed(db: Database, subscription: dict[str, Any], *, limit: int = FEED_LIMIT,
                      recent: list[dict[str, Any]] | None = None) -> str:
    """The Atom feed of one subscription (a row of the private ``subscriptions`` table)."""
    return build_feed(subscription, feed_changes(db, subscription, limit=limit, recent=recent))


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".feed-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_feeds(db: Database, subscriptions: list[dict[str, Any]], directory: Path) -> int:
    """Write ``<feed_key>.xml`` for every subscription given (the active ones) into ``directory`` and
    remove the feeds of subscriptions that ended. Returns how many feeds were written.

    The feed key is a random 128-bit name: the folder can be served publicly without listing subscribers.
    """
    recent = recent_items(db)
    keep = set()
    for subscription in subscriptions:
        if subscription.get("feed_key"):
            name = f"{subscription['feed_key']}.xml"
            write_atomic(directory / name, subscription_feed(db, subscription, recent=recent))
            keep.add(name)
    if directory.is_dir():
        for path in directory.glob("*.xml"):
            if path.name not in keep and _FEED_NAME.match(path.name):
                path.unlink(missing_ok=True)
    return len(keep)
