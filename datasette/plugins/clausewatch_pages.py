"""clausewatch pages for Datasette: home, clause page and version diff page (register_routes).

- ``/``                         home: search box, honest figures, ready questions, topics, latest substantive
                                changes, documents by family with their timelines
- ``/-/clause/<id>``            one clause: path, heading, text with tag evidence and entities highlighted,
                                tags, its version, source link, the same clause in the previous/next version
- ``/-/diff/<old>/<new>``       the changes between two versions rendered inline (<del>/<ins>), with the
                                previous and next step of the family's timeline and two menus to compare others
- ``/-/diff/<new>``             redirects to the diff against the version it was compared with

The diff page shows only what the pipeline stored: the change detector's rows (``changes``, each with its
word diff) for consecutive versions and releases, the pairs step's rows (``pair_changes``) for any other two
versions of a family; for two versions never compared it says so. Everything is read through Datasette's
read-only connection; the plugins import nothing of clausewatch but ``clausewatch.db`` (SQL and pure helpers).
"""
from __future__ import annotations

import html
import json
import re
from typing import Any

from datasette import hookimpl
from datasette.utils.asgi import NotFound, Response

from clausewatch.db.pairs import release_key
from clausewatch.db.site import (
    COMPARISONS_SQL,
    FAMILY_TAGS_SQL,
    FAMILY_VERSIONS_SQL,
    INCORPORATED_SQL,
    menu,
    neighbours,
    timeline_steps,
)

DB = "clausewatch"


# ------------------------------------------------------------------ text helpers (pure)

def change_ops(change: dict[str, Any]) -> list[tuple[str, str]]:
    """``[(equal|delete|insert, words)]`` of a stored change: the word diff the detector stored with it."""
    ops = _json_list(change.get("word_diff"))
    if ops:
        return [(op, text) for op, text in ops if text]
    # a change the detector found no shared words in: all of it deleted, all of it inserted
    return [(op, text) for op, text in (("delete", change.get("old_text")), ("insert", change.get("new_text")))
            if text]


def ops_html(ops: list[tuple[str, str]]) -> str:
    """Word-diff operations as HTML: deletions in <del>, insertions in <ins>, words separated by spaces."""
    tags = {"delete": "del", "insert": "ins"}
    return " ".join(f"<{tags[op]}>{html.escape(text)}</{tags[op]}>" if op in tags else html.escape(text)
                    for op, text in ops)


def find_span(text: str, needle: str | None) -> tuple[int, int] | None:
    """Where ``needle`` occurs in ``text``: exact, then ignoring case and runs of whitespace."""
    if not needle or not needle.strip():
        return None
    at = text.find(needle)
    if at >= 0:
        return at, at + len(needle)
    pattern = r"\s+".join(re.escape(w) for w in needle.split())
    m = re.search(pattern, text, re.I)
    return (m.start(), m.end()) if m else None


def highlight(text: str, marks: list[tuple[int, int, str, str]]) -> str:
    """``text`` as HTML with each mark ``(start, end, css_class, title)`` wrapped in <mark>; overlaps merge."""
    marks = [m for m in marks if 0 <= m[0] < m[1] <= len(text)]
    cuts = sorted({0, len(text), *[m[0] for m in marks], *[m[1] for m in marks]})
    out = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        piece = html.escape(text[a:b])
        active = [m for m in marks if m[0] <= a and m[1] >= b]
        if active:
            classes = " ".join(sorted({m[2] for m in active}))
            title = html.escape("; ".join(dict.fromkeys(m[3] for m in active)), quote=True)
            piece = f'<mark class="{classes}" title="{title}">{piece}</mark>'
        out.append(piece)
    return "".join(out)


def _json_list(value: Any) -> list:
    try:
        parsed = json.loads(value) if isinstance(value, str) else value
    except ValueError:
        return []
    return parsed if isinstance(parsed, list) else []


# ------------------------------------------------------------------ queries

async def _rows(datasette, sql: str, params: dict | list | None = None) -> list[dict[str, Any]]:
    result = await datasette.get_database(DB).execute(sql, params or {})
    return [dict(r) for r in result.rows]


async def _one(datasette, sql: str, params: dict | list) -> dict[str, Any] | None:
    rows = await _rows(datasette, sql, params)
    return rows[0] if rows else None


VERSION_SQL = """SELECT v.id, v.seq, v.source_id AS source_pk, v.valid_from, v.fetched_at, v.title, v.chars,
       v.technical, v.previous_id, v.processed_at, s.source_id AS source, s.title AS document, s.publisher,
       s.kind, s.family, s.jurisdiction, s.url, s.version_label, s.release_date, s.format, s.document AS document_id,
       (SELECT n.id FROM versions n WHERE n.source_id = v.source_id AND n.seq > v.seq ORDER BY n.seq LIMIT 1) AS next_id,
       (SELECT p.id FROM versions p WHERE p.source_id = v.source_id AND p.seq < v.seq ORDER BY p.seq DESC LIMIT 1)
         AS prev_id
FROM versions v JOIN sources s ON s.id = v.source_id WHERE v.id = :id"""


async def _version(datasette, version_id: int) -> dict[str, Any]:
    version = await _one(datasette, VERSION_SQL, {"id": version_id})
    if version is None:
        raise NotFound(f"No version {version_id}")
    return version


async def _render(datasette, request, template: str, context: dict[str, Any]) -> Response:
    return Response.html(await datasette.render_template(template, context, request=request))


# ------------------------------------------------------------------ pages

async def _glossary(datasette) -> dict[str, dict[str, Any]]:
    try:
        rows = await _rows(datasette, "SELECT term, type, grp, label, definition FROM glossary ORDER BY ordinal")
    except Exception:  # noqa: BLE001 - not published by this version yet: ids stay ids
        return {}
    return {r["term"]: r for r in rows}


FIGURES_SQL = """WITH states AS MATERIALIZED (SELECT state, count(*) AS n FROM source_health GROUP BY state)
SELECT
    (SELECT count(*) FROM sources WHERE active = 1) AS sources,
    coalesce((SELECT n FROM states WHERE state = 'ok'), 0) AS ok,
    coalesce((SELECT n FROM states WHERE state = 'never fetched'), 0) AS never_fetched,
    coalesce((SELECT sum(n) FROM states WHERE state IN ('failing', 'processing error')), 0) AS failing,
    coalesce((SELECT n FROM states WHERE state = 'held for review'), 0) AS held,
    (SELECT count(*) FROM versions) AS versions,
    (SELECT count(*) FROM current_clauses WHERE source NOT IN (SELECT source FROM renditions WHERE rank > 1)) AS clauses,
    (SELECT count(*) FROM changes WHERE substantive = 1 AND scope != 'incorporated') AS changes,
    (SELECT max(finished_at) FROM crawl_runs) AS last_crawl"""

DOCUMENTS_SQL = """SELECT s.family, s.kind, s.source_id AS source, s.title, s.format, s.document, s.release_date,
       s.version_label, coalesce(r.rank, 1) AS rendition_rank, h.state,
       (SELECT max(v.valid_from) FROM versions v WHERE v.source_id = s.id) AS last_change_at,
       (SELECT v.id FROM versions v WHERE v.source_id = s.id ORDER BY v.seq DESC LIMIT 1) AS latest_version
FROM sources s JOIN source_health h ON h.source_pk = s.id LEFT JOIN renditions r ON r.source_pk = s.id
WHERE s.active = 1"""


async def home(datasette, request) -> Response:
    figures = await _one(datasette, FIGURES_SQL, {})
    changes = await _rows(datasette, """SELECT change_id, document, source, family, change_kind,
        coalesce(new_path, old_path) AS path, old_version_id, new_version_id, new_valid_from, detected_at
        FROM clause_changes WHERE substantive = 1 AND alert = 1 AND via_source IS NULL
        ORDER BY role = 'context', change_id DESC LIMIT 12""")
    documents = await _rows(datasette, DOCUMENTS_SQL)
    families: dict[tuple, dict[str, Any]] = {}
    # primary renditions before the others, so "also as PDF" finds the document it belongs to
    for d in sorted(documents, key=lambda r: (r["rendition_rank"] > 1, release_key({**r, "seq": 0}))):
        f = families.setdefault((d["kind"] or "", d["family"] or d["source"]), {
            "kind": d["kind"], "family": d["family"] or d["source"], "documents": [], "last_change": None})
        if d["rendition_rank"] > 1:
            primary = next((x for x in f["documents"] if x["document"] == d["document"]), None)
            if primary is not None:
                primary["also"].append(d)
                continue
        f["documents"].append({**d, "also": []})
        f["last_change"] = max(filter(None, [f["last_change"], d["last_change_at"]]), default=None)
    labels = await _glossary(datasette)
    topics = [{"term": t, "label": g["label"], "tags": [x for x in labels.values() if x["type"] == "tag"
                                                           and x["grp"] == t]}
              for t, g in labels.items() if g["type"] == "tag group"]
    queries = (datasette.metadata("queries", database=DB) or {})
    return await _render(datasette, request, "cw_home.html", {
        "figures": figures, "changes": changes, "families": sorted(families.values(), key=lambda f: (
            f["kind"] or "", f["family"])), "topics": topics, "labels": labels,
        "queries": [{"name": k, "title": v.get("title", k), "description": v.get("description", "")}
                    for k, v in queries.items()],
    })


async def clause_page(datasette, request) -> Response:
    clause_id = int(request.url_vars["clause_id"])
    clause = await _one(datasette, "SELECT * FROM clauses WHERE id = :id", {"id": clause_id})
    if clause is None:
        raise NotFound(f"No clause {clause_id}")
    version = await _version(datasette, clause["version_id"])
    tags = await _rows(datasette, "SELECT tag, score, evidence, rule FROM clause_tags WHERE clause_id = :id "
                                  "ORDER BY score DESC, tag", {"id": clause_id})
    entities = await _rows(datasette, "SELECT type, text, value, unit, currency, start, \"end\" FROM entities "
                                      "WHERE clause_id = :id ORDER BY start", {"id": clause_id})
    text = clause["text"]
    marks = []
    for t in tags:
        t["span"] = find_span(text, t["evidence"])
        if t["span"]:
            marks.append((*t["span"], "evidence", t["tag"]))
    for e in entities:
        span = (e["start"], e["end"]) if e["start"] is not None and e["end"] is not None else None
        if not span or text[span[0]:span[1]] != e["text"]:
            span = find_span(text, e["text"])
        if span:
            marks.append((*span, "entity", f"{e['type']} = {e['value']}"))
    neighbours_ = {}
    for key in ("prev_id", "next_id"):
        if version[key]:
            neighbours_[key] = await _one(datasette, """SELECT c.id, c.text, v.seq, v.valid_from FROM clauses c
                JOIN versions v ON v.id = c.version_id WHERE c.version_id = :v AND c.path = :path LIMIT 1""",
                                         {"v": version[key], "path": clause["path"]})
    history = await _rows(datasette, """SELECT change_id, change_kind, substantive, scope, old_version_id,
        new_version_id, old_version_seq, new_version_seq, new_valid_from,
        (SELECT s.title FROM versions o JOIN sources s ON s.id = o.source_id WHERE o.id = old_version_id) AS old_document
        FROM clause_changes WHERE source = :source AND via_source IS NULL AND (new_path = :path OR old_path = :path)
        ORDER BY new_version_seq DESC, change_id DESC""", {"source": version["source"], "path": clause["path"]})
    return await _render(datasette, request, "cw_clause.html", {
        "clause": clause, "version": version, "tags": tags, "entities": entities,
        "text_html": highlight(text, marks), "neighbours": neighbours_, "history": history,
        "labels": await _glossary(datasette),
    })


PAIR_CHANGES_SQL = """SELECT id AS change_id, kind AS change_kind, substantive, old_path, new_path, old_text,
       new_text, word_diff, cosmetic_reasons, tags_added, tags_removed, entity_changes, NULL AS via_source
FROM pair_changes WHERE old_version_id = :old AND new_version_id = :new ORDER BY id"""


async def diff_page(datasette, request) -> Response:
    old_id, new_id = int(request.url_vars["old_id"]), int(request.url_vars["new_id"])
    if old_id == new_id:  # one version against itself: the version itself
        await _version(datasette, new_id)
        return Response.redirect(datasette.urls.path(f"/-/version/{new_id}"))
    old, new = await _version(datasette, old_id), await _version(datasette, new_id)
    only_substantive = request.args.get("substantive") == "1"
    pair = {"old": old_id, "new": new_id}
    # incorporated copies (the same change recorded for each licence that incorporates a policy) are left out
    rows = await _rows(datasette, """SELECT * FROM clause_changes WHERE new_version_id = :new
        AND old_version_id = :old AND via_source IS NULL ORDER BY change_id""", pair)
    detector = await _one(datasette, """SELECT scope FROM change_comparisons WHERE new_version_id = :new
        AND old_version_id = :old""", pair)
    stored_pair = None
    if detector is None:
        stored_pair = await _one(datasette, """SELECT purpose, compared_at FROM pair_comparisons
            WHERE old_version_id = :old AND new_version_id = :new""", pair)
        if stored_pair is not None:
            rows = await _rows(datasette, PAIR_CHANGES_SQL, pair)
    compared = detector is not None or stored_pair is not None
    reverse = None
    if not compared:
        reverse = await _one(datasette, """SELECT 1 FROM change_comparisons WHERE old_version_id = :new
            AND new_version_id = :old UNION ALL SELECT 1 FROM pair_comparisons WHERE old_version_id = :new
            AND new_version_id = :old""", pair)
    changes = rows
    for c in changes:
        c["kind"] = c["change_kind"]
        for key in ("tags_added", "tags_removed", "entity_changes", "cosmetic_reasons"):
            c[key] = _json_list(c[key])
    counts = {"all": len(changes), "substantive": sum(1 for c in changes if c.get("substantive") == 1)}
    if only_substantive:
        changes = [c for c in changes if c.get("substantive") == 1]
    clause_ids = {(r["version_id"], r["path"]): r["id"] for r in await _rows(datasette, """SELECT id, version_id, path
        FROM clauses WHERE version_id IN (:old, :new)""", pair)}
    for c in changes:
        c["diff_html"] = ops_html(change_ops(c))
        c["clause_id"] = clause_ids.get((new_id, c.get("new_path"))) or clause_ids.get((old_id, c.get("old_path")))
    before = after = None
    family_menu: list[dict[str, Any]] = []
    incorporated: list[dict[str, Any]] = []
    if old["family"] and old["family"] == new["family"]:
        params = {"family": new["family"]}
        versions = await _rows(datasette, FAMILY_VERSIONS_SQL, params)
        steps = timeline_steps(versions, await _rows(datasette, COMPARISONS_SQL, params),
                               await _rows(datasette, FAMILY_TAGS_SQL, params),
                               await _rows(datasette, INCORPORATED_SQL, params))
        before, after = neighbours(steps, versions, old_id, new_id)
        family_menu = menu(versions)
        this_step = next((st for st in steps if st["version"] and st["version"]["id"] == new_id
                          and st.get("old") and st["old"]["id"] == old_id), None)
        incorporated = this_step["incorporated"] if this_step else []
    return await _render(datasette, request, "cw_diff.html", {
        "old": old, "new": new, "changes": changes, "compared": compared, "counts": counts,
        "only_substantive": only_substantive, "same_source": old["source_pk"] == new["source_pk"],
        "scope": detector["scope"] if detector else (stored_pair["purpose"] if stored_pair else None),
        "reverse": reverse is not None, "before": before, "after": after, "menu": family_menu,
        "incorporated": incorporated,
        "labels": await _glossary(datasette),
    })


async def diff_latest(datasette, request) -> Response:
    new = await _version(datasette, int(request.url_vars["new_id"]))
    compared = await _one(datasette, "SELECT old_version_id FROM change_comparisons WHERE new_version_id = :id",
                          {"id": new["id"]})
    old_id = (compared or {}).get("old_version_id") or new["prev_id"]
    if not old_id:  # a first text with nothing before it: the text itself
        return Response.redirect(datasette.urls.path(f"/-/version/{new['id']}"))
    return Response.redirect(datasette.urls.path(f"/-/diff/{old_id}/{new['id']}"))


@hookimpl
def register_routes():
    return [
        (r"^/$", home),
        (r"^/-/clause/(?P<clause_id>\d+)$", clause_page),
        (r"^/-/diff/(?P<old_id>\d+)/(?P<new_id>\d+)$", diff_page),
        (r"^/-/diff/(?P<new_id>\d+)$", diff_latest),
    ]
