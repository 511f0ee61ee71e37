"""clausewatch pages about a document's history: timelines, stored versions, "compare any two", renditions.

- ``/-/timeline``                 every family, with its releases and versions
- ``/-/timeline/<family>``        one step per version: its date, substantive and cosmetic changes, the tags
                                  gained and lost, the diff; the changes of policies its licences incorporate;
                                  two menus to compare any two versions
- ``/-/compare?old=&new=``        redirects to the diff of two versions, older first
- ``/-/version/<id>``             a stored version as archived: its clauses with their tags (or its text)
- ``/-/renditions``               the rendition check: where the renditions of one document disagree

Only stored rows are shown: the steps are the change detector's comparisons (``change_comparisons``), any
other pair comes from the pairs step (``pair_comparisons``); nothing is compared here.
"""
from __future__ import annotations

import json
from typing import Any

from datasette import hookimpl
from datasette.utils.asgi import NotFound, Response

from clausewatch.db.pairs import release_key
from clausewatch.db.site import (
    COMPARISONS_SQL,
    FAMILY_TAGS_SQL,
    FAMILY_UNFETCHED_SQL,
    FAMILY_VERSIONS_SQL,
    INCORPORATED_SQL,
    menu,
    timeline_steps,
)

DB = "clausewatch"

# The timeline's columns, in order: (key, header). To add one (e.g. an openness rating per version): append
# (key, header) here, set step[key] for each step in `timeline_page` (one more query keyed by version id), and
# cw_timeline.html shows it as text; give it a branch in that template's `cell` macro for richer markup.
TIMELINE_COLUMNS: list[tuple[str, str]] = [
    ("date", "Date"),
    ("version", "Text"),
    ("compared", "Compared with"),
    ("substantive", "Substantive"),
    ("cosmetic", "Cosmetic"),
    ("gained", "Tags gained"),
    ("lost", "Tags lost"),
    ("diff", "Diff"),
    ("openness", "Openness"),
]


async def _rows(datasette, sql: str, params: dict | None = None) -> list[dict[str, Any]]:
    return [dict(r) for r in (await datasette.get_database(DB).execute(sql, params or {})).rows]


async def _glossary(datasette) -> dict[str, dict[str, Any]]:
    try:
        rows = await _rows(datasette, "SELECT term, type, grp, label, definition FROM glossary ORDER BY ordinal")
    except Exception:  # noqa: BLE001 - not published by this version yet: ids stay ids
        return {}
    return {r["term"]: r for r in rows}


async def _openness(datasette, version_ids: list[int]) -> list[dict[str, Any]]:
    """The openness class of each licence version (the effective licence's), from the rate step's view."""
    if not version_ids:
        return []
    marks = ", ".join(f":v{k}" for k in range(len(version_ids)))
    try:
        return await _rows(datasette, f"""SELECT version_id, class, class_label, openness_page FROM version_openness
            WHERE version_id IN ({marks}) AND class IS NOT NULL""", {f"v{k}": v for k, v in enumerate(version_ids)})
    except Exception:  # noqa: BLE001 - a database published before the openness step: no column values
        return []


async def _render(datasette, request, template: str, context: dict[str, Any]) -> Response:
    return Response.html(await datasette.render_template(template, context, request=request))


async def family_timeline(datasette, family: str) -> dict[str, Any]:
    """Versions, steps and menu of one family (also used by the diff page's neighbours)."""
    params = {"family": family}
    versions = await _rows(datasette, FAMILY_VERSIONS_SQL, params)
    steps = timeline_steps(versions, await _rows(datasette, COMPARISONS_SQL, params),
                           await _rows(datasette, FAMILY_TAGS_SQL, params),
                           await _rows(datasette, INCORPORATED_SQL, params),
                           await _rows(datasette, FAMILY_UNFETCHED_SQL, params))
    return {"versions": versions, "steps": steps, "menu": menu(versions)}


async def timeline_index(datasette, request) -> Response:
    families = await _rows(datasette, """SELECT s.family, group_concat(DISTINCT s.kind) AS kinds,
        count(DISTINCT s.id) AS sources, count(v.id) AS versions, max(v.valid_from) AS latest,
        (SELECT count(*) FROM change_comparisons cc JOIN versions nv ON nv.id = cc.new_version_id
         JOIN sources ns ON ns.id = nv.source_id WHERE ns.family = s.family AND cc.old_version_id IS NOT NULL)
           AS steps,
        (SELECT sum(cc.substantive) FROM change_comparisons cc JOIN versions nv ON nv.id = cc.new_version_id
         JOIN sources ns ON ns.id = nv.source_id WHERE ns.family = s.family) AS substantive
        FROM sources s LEFT JOIN versions v ON v.source_id = s.id WHERE s.active = 1 AND s.family IS NOT NULL
        GROUP BY s.family ORDER BY steps DESC, versions DESC, s.family""")
    return await _render(datasette, request, "cw_timeline_index.html", {"families": families})


async def timeline_page(datasette, request) -> Response:
    family = request.url_vars["family"]
    data = await family_timeline(datasette, family)
    unfetched = [s for s in data["steps"] if s["version"] is None]
    if not data["versions"] and not unfetched:
        raise NotFound(f"No family {family}")
    renditions = await _rows(datasette, """SELECT r.document, r.source, r.format, r.rank, r.title FROM renditions r
        WHERE r.family = :family ORDER BY r.document, r.rank""", {"family": family})
    also: dict[str, list[dict]] = {}
    primary = {r["document"]: r["source"] for r in renditions if r["rank"] == 1}
    for r in renditions:
        if r["rank"] > 1:
            also.setdefault(primary[r["document"]], []).append(r)
    for step in data["steps"]:
        if step["version"]:
            step["also"] = also.get(step["version"]["source"], [])
    incorporates = await _rows(datasette, """SELECT DISTINCT p.family FROM sources s,
        json_each(CASE WHEN json_valid(s.incorporates) THEN s.incorporates ELSE '[]' END) j
        JOIN sources p ON p.source_id = j.value WHERE s.family = :family AND p.family != :family""",
                               {"family": family})
    steps = data["steps"]
    shown = [s for s in steps if s["version"]]
    ratings = {r["version_id"]: r for r in await _openness(datasette, [s["version"]["id"] for s in shown])}
    for step in shown:
        step["openness"] = ratings.get(step["version"]["id"])
    return await _render(datasette, request, "cw_timeline.html", {
        "family": family, "steps": steps, "columns": [{"key": k, "header": h} for k, h in TIMELINE_COLUMNS],
        "menu": data["menu"], "labels": await _glossary(datasette), "incorporates": [r["family"] for r in incorporates],
        "first_id": shown[0]["version"]["id"] if shown else None,
        "last_id": shown[-1]["version"]["id"] if shown else None,
        "documents": sorted({s["version"]["document"] for s in shown}),
    })


async def compare_redirect(datasette, request) -> Response:
    try:
        a, b = int(request.args.get("old") or 0), int(request.args.get("new") or 0)
    except ValueError:
        raise NotFound("Pick two versions") from None
    rows = {r["id"]: r for r in await _rows(datasette, """SELECT v.id, v.seq, s.source_id AS source,
        s.release_date, s.version_label, s.family FROM versions v JOIN sources s ON s.id = v.source_id
        WHERE v.id IN (:a, :b)""", {"a": a, "b": b})}
    if a not in rows or b not in rows:
        raise NotFound("No such version")
    if a == b:
        return Response.redirect(datasette.urls.path(f"/-/version/{a}"))
    if rows[a]["family"] == rows[b]["family"] and release_key(rows[b]) < release_key(rows[a]):
        a, b = b, a  # the older first: stored comparisons go forward in time
    return Response.redirect(datasette.urls.path(f"/-/diff/{a}/{b}"))


async def version_page(datasette, request) -> Response:
    version_id = int(request.url_vars["version_id"])
    rows = await _rows(datasette, """SELECT v.id, v.seq, v.valid_from, v.fetched_at, v.chars, v.technical,
        v.processed_at, v.pipeline_version, v.title AS version_title, v.previous_id, s.source_id AS source,
        s.title AS document, s.publisher, s.kind, s.family, s.jurisdiction, s.url, s.version_label, s.format,
        (SELECT n.id FROM versions n WHERE n.source_id = v.source_id AND n.seq > v.seq ORDER BY n.seq LIMIT 1) AS next_id,
        (SELECT p.id FROM versions p WHERE p.source_id = v.source_id AND p.seq < v.seq ORDER BY p.seq DESC LIMIT 1)
          AS prev_id,
        (SELECT cc.old_version_id FROM change_comparisons cc WHERE cc.new_version_id = v.id) AS compared_with,
        (SELECT count(*) FROM versions x WHERE x.source_id = v.source_id) AS versions
        FROM versions v JOIN sources s ON s.id = v.source_id WHERE v.id = :id""", {"id": version_id})
    if not rows:
        raise NotFound(f"No version {version_id}")
    version = rows[0]
    tag = request.args.get("tag") or ""
    clauses = await _rows(datasette, """SELECT id, ordinal, path, heading, label, text, tags FROM clauses
        WHERE version_id = :id AND (:tag = '' OR EXISTS (SELECT 1 FROM clause_tags t WHERE t.clause_id = clauses.id
        AND (t.tag = :tag OR t.tag LIKE :tag || '.%'))) ORDER BY ordinal""", {"id": version_id, "tag": tag})
    for c in clauses:
        try:
            c["tag_list"] = [t for t in json.loads(c["tags"] or "[]") if isinstance(t, str)]
        except ValueError:
            c["tag_list"] = []
    text = None
    if not clauses and not tag or request.args.get("text") == "1":
        text = (await _rows(datasette, "SELECT text FROM versions WHERE id = :id", {"id": version_id}))[0]["text"]
    return await _render(datasette, request, "cw_version.html", {
        "version": version, "clauses": clauses, "text": text, "tag": tag, "labels": await _glossary(datasette)})


async def renditions_page(datasette, request) -> Response:
    checks = await _rows(datasette, """SELECT pc.id, pc.document, pc.old_version_id, pc.new_version_id, pc.changes,
        pc.substantive, pc.compared_at, os.source_id AS old_source, os.format AS old_format, os.title AS old_title,
        ns.source_id AS new_source, ns.format AS new_format, ns.title AS new_title,
        ov.seq AS old_seq, nv.seq AS new_seq, ov.valid_from AS old_valid_from, nv.valid_from AS new_valid_from,
        (pc.old_version_id = (SELECT x.id FROM versions x WHERE x.source_id = ov.source_id
                              AND x.processed_at IS NOT NULL ORDER BY x.seq DESC LIMIT 1)
         AND pc.new_version_id = (SELECT x.id FROM versions x WHERE x.source_id = nv.source_id
                                  AND x.processed_at IS NOT NULL ORDER BY x.seq DESC LIMIT 1)) AS current
        FROM pair_comparisons pc JOIN versions ov ON ov.id = pc.old_version_id JOIN versions nv ON nv.id = pc.new_version_id
        JOIN sources os ON os.id = ov.source_id JOIN sources ns ON ns.id = nv.source_id
        WHERE pc.purpose = 'rendition' ORDER BY pc.document, current DESC, pc.new_version_id DESC""")
    documents = await _rows(datasette, """SELECT document, group_concat(source || ' (' || format || ')', ', ')
        AS renditions, count(*) AS n FROM (SELECT * FROM renditions ORDER BY rank) GROUP BY document ORDER BY document""")
    for check in checks:
        reasons = await _rows(datasette, """SELECT j.value AS reason, count(*) AS n FROM pair_changes p,
            json_each(CASE WHEN json_valid(p.cosmetic_reasons) THEN p.cosmetic_reasons ELSE '[]' END) j
            WHERE p.comparison_id = :id AND p.substantive = 0 GROUP BY j.value ORDER BY n DESC""", {"id": check["id"]})
        check["reasons"] = reasons
    return await _render(datasette, request, "cw_renditions.html", {"checks": checks, "documents": documents})


@hookimpl
def register_routes():
    return [
        (r"^/-/timeline$", timeline_index),
        (r"^/-/timeline/(?P<family>[a-z0-9][a-z0-9.\-]*)$", timeline_page),
        (r"^/-/compare$", compare_redirect),
        (r"^/-/version/(?P<version_id>\d+)$", version_page),
        (r"^/-/renditions$", renditions_page),
    ]
