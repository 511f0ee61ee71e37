"""clausewatch pages for Datasette: home, clause page and version diff page (register_routes).

- ``/``                         home: search box, figures, latest substantive changes, documents by family
- ``/-/clause/<id>``            one clause: path, heading, text with tag evidence and entities highlighted,
                                tags, its version, source link, the same clause in the previous/next version
- ``/-/diff/<old>/<new>``       the changes between two versions rendered inline (<del>/<ins>)
- ``/-/diff/<new>``             redirects to the diff against the version it replaced

The diff page shows only what the change detector stored (``changes`` rows, each with its word diff);
for two versions the detector has not compared it says so. Everything is read through Datasette's
read-only connection; these plugins import nothing of clausewatch.
"""
from __future__ import annotations

import html
import json
import re
from typing import Any

from datasette import hookimpl
from datasette.utils.asgi import NotFound, Response

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
       s.kind, s.family, s.jurisdiction, s.url,
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

async def home(datasette, request) -> Response:
    figures = await _one(datasette, """SELECT
        (SELECT count(*) FROM sources WHERE active = 1) AS sources,
        (SELECT count(*) FROM versions) AS versions,
        (SELECT count(*) FROM current_clauses) AS clauses,
        (SELECT count(*) FROM changes WHERE substantive = 1) AS changes,
        (SELECT count(*) FROM sources WHERE active = 1 AND status IN ('error', 'gone')) AS failing,
        (SELECT max(finished_at) FROM crawl_runs) AS last_crawl""", {})
    changes = await _rows(datasette, """SELECT change_id, document, source, family, change_kind,
        coalesce(new_path, old_path) AS path, old_version_id, new_version_id, new_valid_from, detected_at
        FROM clause_changes WHERE substantive = 1 AND alert = 1 AND via_source IS NULL
        ORDER BY role = 'context', change_id DESC LIMIT 12""")
    families = await _rows(datasette, """SELECT family, kind, count(*) AS documents,
        group_concat(source_id, ' ') AS sources, max(last_change_at) AS last_change
        FROM sources WHERE active = 1 GROUP BY family, kind ORDER BY kind, family""")
    queries = (datasette.metadata("queries", database=DB) or {})
    return await _render(datasette, request, "cw_home.html", {
        "figures": figures, "changes": changes, "families": families,
        "queries": [{"name": k, "title": v.get("title", k), "description": v.get("description", "")}
                    for k, v in queries.items() if not k.endswith("_feed")],
        "feeds": [{"name": k, "title": v.get("title", k)} for k, v in queries.items() if k.endswith("_feed")],
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
    neighbours = {}
    for key in ("prev_id", "next_id"):
        if version[key]:
            neighbours[key] = await _one(datasette, """SELECT c.id, c.text, v.seq, v.valid_from FROM clauses c
                JOIN versions v ON v.id = c.version_id WHERE c.version_id = :v AND c.path = :path LIMIT 1""",
                                         {"v": version[key], "path": clause["path"]})
    history = await _rows(datasette, """SELECT change_id, change_kind, substantive, scope, old_version_id,
        new_version_id, old_version_seq, new_version_seq, new_valid_from,
        (SELECT s.title FROM versions o JOIN sources s ON s.id = o.source_id WHERE o.id = old_version_id) AS old_document
        FROM clause_changes WHERE source = :source AND via_source IS NULL AND (new_path = :path OR old_path = :path)
        ORDER BY new_version_seq DESC, change_id DESC""", {"source": version["source"], "path": clause["path"]})
    return await _render(datasette, request, "cw_clause.html", {
        "clause": clause, "version": version, "tags": tags, "entities": entities,
        "text_html": highlight(text, marks), "neighbours": neighbours, "history": history,
    })


async def diff_page(datasette, request) -> Response:
    old_id, new_id = int(request.url_vars["old_id"]), int(request.url_vars["new_id"])
    old, new = await _version(datasette, old_id), await _version(datasette, new_id)
    only_substantive = request.args.get("substantive") == "1"
    # incorporated copies (the same change recorded for each licence that incorporates a policy) are left out
    rows = await _rows(datasette, """SELECT * FROM clause_changes WHERE new_version_id = :new
        AND (old_version_id = :old OR (old_version_id IS NULL AND :old = :new)) AND via_source IS NULL
        ORDER BY change_id""", {"old": old_id, "new": new_id})
    compared = bool(rows) or old_id == new_id or await _one(datasette, """SELECT 1 FROM change_comparisons
        WHERE new_version_id = :new AND old_version_id = :old""", {"old": old_id, "new": new_id}) is not None
    changes = rows
    for c in changes:
        c["kind"] = c["change_kind"]
        for key in ("tags_added", "tags_removed", "entity_changes", "cosmetic_reasons"):
            c[key] = _json_list(c[key])
    counts = {"all": len(changes), "substantive": sum(1 for c in changes if c.get("substantive") == 1)}
    if only_substantive:
        changes = [c for c in changes if c.get("substantive") == 1]
    for c in changes:
        c["diff_html"] = ops_html(change_ops(c))
    return await _render(datasette, request, "cw_diff.html", {
        "old": old, "new": new, "changes": changes, "compared": compared, "counts": counts,
        "only_substantive": only_substantive, "same_source": old["source_pk"] == new["source_pk"],
    })


async def diff_latest(datasette, request) -> Response:
    new = await _version(datasette, int(request.url_vars["new_id"]))
    return Response.redirect(datasette.urls.path(f"/-/diff/{new['prev_id'] or new['id']}/{new['id']}"))


@hookimpl
def register_routes():
    return [
        (r"^/$", home),
        (r"^/-/clause/(?P<clause_id>\d+)$", clause_page),
        (r"^/-/diff/(?P<old_id>\d+)/(?P<new_id>\d+)$", diff_page),
        (r"^/-/diff/(?P<new_id>\d+)$", diff_latest),
    ]
