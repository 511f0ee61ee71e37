"""Atom feeds of the substantive changes (RFC 4287), paged (RFC 5005): every entry is reachable, none is cut.

- ``/-/feeds/changes.atom``            every substantive change (a policy's change once, not again per licence)
- ``/-/feeds/family/<family>.atom``    the changes of one family, with the policies its licences incorporate
                                       (a policy's change once, however many of its licences incorporate it)
- ``/-/feeds/tag/<tag>.atom``          changes of clauses that carry, gain or lose a tag (or a tag group)
- the former addresses ``/clausewatch/changes_feed.atom``, ``family_feed.atom?family=``, ``tag_feed.atom?tag=``
  answer the same feeds

Newest first, :data:`PAGE_SIZE` entries a page; ``?page=N`` for the others, linked with ``first``, ``previous``,
``next`` and ``last``; the subtitle says how many changes there are. Links are absolute, from the public
address the operator configured (``CLAUSEWATCH_PUBLIC_URL``, passed in the plugin configuration by
``clausewatch serve``), and the feed carries ``xml:base``. ``published`` is the day the changed text took
effect, ``updated`` when the tracker detected the change. Rows come from the ``change_feed`` view.
"""
from __future__ import annotations

import hashlib
import json
import re
import xml.etree.ElementTree as ET
from typing import Any
from urllib.parse import urlencode

from datasette import hookimpl
from datasette.utils.asgi import NotFound, Response

DB = "clausewatch"
ATOM = "http://www.w3.org/2005/Atom"
XML_NS = "http://www.w3.org/XML/1998/namespace"
PAGE_SIZE = 50
_NAME = re.compile(r"^[a-z0-9][a-z0-9._\-]*$")
_XML_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")

ENTRY_SQL = """SELECT f.change_id, f.atom_title, f.atom_content_html, f.tags, f.source, f.family, f.change_kind,
       ch.detected_at, ch.effective_date, ch.scope, ch.old_path, ch.new_path, ch.old_version_id, ch.new_version_id,
       ch.via_source_id, ch.tags_added, ch.tags_removed, nv.seq AS new_seq, nv.valid_from, s.release_date,
       coalesce(ch.old_version_id, nv.previous_id, ch.new_version_id) AS diff_old
FROM change_feed f JOIN changes ch ON ch.id = f.change_id JOIN versions nv ON nv.id = ch.new_version_id
JOIN sources s ON s.id = ch.source_id"""


def _clean(text: str | None) -> str:
    return _XML_INVALID.sub("", text or "")


def _timestamp(value: str | None) -> str:
    """RFC 3339 as Atom wants it: ``2025-03-24`` -> ``2025-03-24T00:00:00Z``."""
    if not value:
        return "1970-01-01T00:00:00Z"
    value = value.strip().replace(" ", "T")
    if len(value) == 10:
        return value + "T00:00:00Z"
    return value if value.endswith("Z") or "+" in value[10:] else value + "Z"


def took_effect(row: dict[str, Any]) -> str | None:
    """The day the changed text took effect: a release's declared date for its first text, else the day the
    text became the source's text."""
    release = row.get("release_date") or ""
    if row.get("new_seq") == 1 and len(release) == 10:
        return release
    return row.get("effective_date") or (row.get("valid_from") or "")[:10] or None


def entry_id(row: dict[str, Any]) -> str:
    """What the change is (not its row id, which a new detector version may reuse)."""
    parts = [row.get(k) for k in ("source", "via_source_id", "scope", "old_version_id", "new_version_id",
                                  "change_kind", "old_path", "new_path")]
    digest = hashlib.sha256(json.dumps(parts, default=str).encode("utf-8")).hexdigest()[:20]
    return f"tag:clausewatch,2024:change/{row['source']}/{digest}"


def public_base(datasette, request) -> str:
    config = datasette.plugin_config("clausewatch") or {}
    base = str(config.get("public_url") or "").rstrip("/")
    if base:
        return base
    return f"{request.scheme}://{request.host}"


def _feed_filter(kind: str, value: str | None) -> tuple[str, dict[str, Any], str, str]:
    """WHERE clause, params, title and HTML page of one feed."""
    if kind == "all":
        return "f.scope != 'incorporated'", {}, "clausewatch: substantive changes", "/"
    if kind == "family":
        # a policy's change recorded under each licence of the family that incorporates it: listed once
        once = """(f.scope != 'incorporated' OR f.change_id = (SELECT min(c2.id) FROM changes c1 JOIN changes c2
                   ON c2.scope = 'incorporated' AND c2.via_source_id = c1.via_source_id
                   AND c2.new_version_id = c1.new_version_id AND c2.old_version_id IS c1.old_version_id
                   AND c2.kind = c1.kind AND c2.old_path IS c1.old_path AND c2.new_path IS c1.new_path
                   AND c2.family IS c1.family WHERE c1.id = f.change_id))"""
        return (f"f.family = :value AND {once}", {"value": value}, f"clausewatch: substantive changes of {value}",
                f"/-/timeline/{value}")
    return ("f.scope != 'incorporated' AND EXISTS (SELECT 1 FROM json_each(f.tags) WHERE value = :value "
            "OR value LIKE :value || '.%')", {"value": value}, f"clausewatch: substantive changes touching {value}",
            f"/-/search?tag={value}")


async def _feed(datasette, request, kind: str, value: str | None) -> Response:
    if kind != "all" and not (value and _NAME.match(value)):
        raise NotFound(f"Name a {kind}: /-/feeds/{kind}/NAME.atom")
    try:
        page = max(1, int(request.args.get("page") or 1))
    except ValueError:
        page = 1
    where, params, title, html_page = _feed_filter(kind, value)
    db = datasette.get_database(DB)
    total = (await db.execute(f"SELECT count(*) FROM change_feed f WHERE f.substantive = 1 AND f.alert = 1 AND {where}",
                              params)).first()[0]
    pages = max(1, -(-total // PAGE_SIZE))
    rows = [dict(r) for r in (await db.execute(
        f"{ENTRY_SQL} WHERE f.substantive = 1 AND f.alert = 1 AND {where} ORDER BY ch.detected_at DESC, ch.id DESC "
        "LIMIT :limit OFFSET :offset", {**params, "limit": PAGE_SIZE, "offset": (page - 1) * PAGE_SIZE})).rows]
    latest = (await db.execute(f"SELECT max(f.atom_updated) FROM change_feed f WHERE f.substantive = 1 AND f.alert = 1 AND {where}",
                               params)).first()[0]
    if latest is None:
        latest = (await db.execute("SELECT max(coalesce(finished_at, started_at)) FROM crawl_runs")).first()[0]
    labels = {}
    try:
        labels = {r[0]: r[1] for r in (await db.execute("SELECT term, label FROM glossary WHERE type = 'tag'")).rows}
    except Exception:  # noqa: BLE001 - not published by this version yet: categories without labels
        pass
    base = public_base(datasette, request)
    xml = build_feed(rows, base=base, path=request.path, args={k: request.args.get(k) for k in request.args
                                                                 if k != "page"},
                     page=page, pages=pages, total=total, title=title, html_page=html_page, updated=latest,
                     feed_id=f"tag:clausewatch,2024:feed/{kind}" + (f"/{value}" if value else ""), labels=labels)
    return Response(xml, content_type="application/atom+xml; charset=utf-8")


def build_feed(rows: list[dict[str, Any]], *, base: str, path: str, args: dict[str, str], page: int, pages: int,
               total: int, title: str, html_page: str, updated: str | None, feed_id: str,
               labels: dict[str, str]) -> str:
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed", {f"{{{XML_NS}}}base": base + "/"})

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        el = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attrs)
        if text is not None:
            el.text = _clean(text)
        return el

    def page_url(n: int) -> str:
        query = {**args, **({"page": str(n)} if n > 1 else {})}
        return base + path + (("?" + urlencode(query)) if query else "")

    sub(feed, "id", feed_id)
    sub(feed, "title", title)
    first, last = (page - 1) * PAGE_SIZE + 1, min(page * PAGE_SIZE, total)
    sub(feed, "subtitle", f"{total} substantive change{'s' if total != 1 else ''}"
        + (f"; entries {first} to {last}, page {page} of {pages} (newest first)" if total else ""))
    sub(feed, "updated", _timestamp(updated))
    sub(feed, "generator", "clausewatch")
    sub(feed, "link", href=page_url(page), rel="self", type="application/atom+xml")
    sub(feed, "link", href=base + html_page, rel="alternate", type="text/html")
    sub(feed, "link", href=page_url(1), rel="first")
    sub(feed, "link", href=page_url(pages), rel="last")
    if page > 1:
        sub(feed, "link", href=page_url(page - 1), rel="previous")
    if page < pages:
        sub(feed, "link", href=page_url(page + 1), rel="next")
    author = sub(feed, "author")
    sub(author, "name", "clausewatch")
    for row in rows:
        entry = sub(feed, "entry")
        sub(entry, "id", entry_id(row))
        sub(entry, "title", row["atom_title"])
        sub(entry, "published", _timestamp(took_effect(row) or row.get("detected_at")))
        sub(entry, "updated", _timestamp(row.get("detected_at")))
        sub(entry, "link", href=f"{base}/-/diff/{row['diff_old']}/{row['new_version_id']}#change-{row['change_id']}",
            rel="alternate", type="text/html")
        try:
            tags = json.loads(row.get("tags") or "[]")
        except ValueError:
            tags = []
        for tag in sorted(t for t in tags if isinstance(t, str)):
            sub(entry, "category", term=tag, label=labels.get(tag, tag))
        sub(entry, "content", row["atom_content_html"], type="html")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode") + "\n"


async def all_feed(datasette, request):
    return await _feed(datasette, request, "all", None)


async def family_feed(datasette, request):
    return await _feed(datasette, request, "family", request.url_vars.get("name") or request.args.get("family"))


async def tag_feed(datasette, request):
    return await _feed(datasette, request, "tag", request.url_vars.get("name") or request.args.get("tag"))


@hookimpl
def register_routes():
    return [
        (r"^/-/feeds/changes\.atom$", all_feed),
        (r"^/-/feeds/family/(?P<name>[^/]+)\.atom$", family_feed),
        (r"^/-/feeds/tag/(?P<name>[^/]+)\.atom$", tag_feed),
        (r"^/clausewatch/changes_feed\.atom$", all_feed),
        (r"^/clausewatch/family_feed\.atom$", family_feed),
        (r"^/clausewatch/tag_feed\.atom$", tag_feed),
    ]
