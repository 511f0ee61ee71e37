"""The openness pages (register_routes), read from the stored ratings only:

- ``/-/openness``                 licences x criteria: the current rating of every licence (``?scope=version``: the
                                  licence text alone; ``?family=F``; ``?all=1``: every version), each cell linked to
                                  the clause that decides it (``/-/clause/<id>``)
- ``/-/openness/<version_id>``    one licence version: every criterion with its reason and evidence clauses, its
                                  effective states (a policy it incorporates changed) and the verdict changes

The site never rates anything: ``clausewatch process`` stores the ratings (tables ``openness_ratings``,
``openness``, ``rating_changes``). Nothing of clausewatch is imported here.
"""
from __future__ import annotations

import json
import re
from typing import Any

from datasette import hookimpl
from datasette.utils.asgi import NotFound, Response
from markupsafe import Markup, escape

DB = "clausewatch"
SCOPES = {"effective": "effective licence (with the policies it incorporates)", "version": "licence text alone"}
OPENNESS_LINK = re.compile(r"^/-/openness(?:/\d+)?$")


async def _rows(datasette, sql: str, params: dict | None = None) -> list[dict[str, Any]]:
    db = datasette.get_database(DB)
    result = await db.execute(sql, params or {})
    return [dict(r) for r in result.rows]


async def _has_ratings(datasette) -> bool:
    return bool(await _rows(datasette, "SELECT 1 FROM sqlite_master WHERE name = 'openness_ratings'"))


def _json(value: Any) -> Any:
    try:
        return json.loads(value) if isinstance(value, str) else (value or [])
    except ValueError:
        return []


MATRIX_SQL = """
SELECT r.id AS rating_id, r.version_id, r.class, r.class_label, r.valid_from, r.rule_version, r.unread,
       s.source_id AS source, s.title AS document, s.family, s.version_label, v.seq AS version_seq
FROM openness_ratings r JOIN sources s ON s.id = r.source_id JOIN versions v ON v.id = r.version_id
WHERE r.scope = :scope AND (:family = '' OR s.family = :family)
  AND (:all = '1' OR r.id = (SELECT x.id FROM openness_ratings x JOIN versions xv ON xv.id = x.version_id
                             WHERE x.source_id = r.source_id AND x.scope = r.scope
                             ORDER BY xv.seq DESC, x.valid_from DESC, x.id DESC LIMIT 1))
ORDER BY s.family, s.release_date, s.source_id, v.seq, r.valid_from, r.id"""


async def matrix_page(datasette, request) -> Response:
    scope = request.args.get("scope") or "effective"
    if scope not in SCOPES:
        scope = "effective"
    family = request.args.get("family") or ""
    show_all = "1" if request.args.get("all") == "1" else ""
    ratings, criteria, cells = [], [], {}
    if await _has_ratings(datasette):
        ratings = await _rows(datasette, MATRIX_SQL, {"scope": scope, "family": family, "all": show_all})
        if ratings:
            ids = ",".join(str(int(r["rating_id"])) for r in ratings)
            for row in await _rows(datasette, f"""SELECT rating_id, criterion, label, short, verdict, detail, reason,
                                                         first_clause_id FROM openness
                                                  WHERE rating_id IN ({ids}) ORDER BY rating_id, id"""):
                cells.setdefault(row["rating_id"], {})[row["criterion"]] = row
                if row["criterion"] not in [c["criterion"] for c in criteria]:
                    criteria.append({"criterion": row["criterion"], "label": row["label"] or row["criterion"],
                                     "short": row["short"] or row["criterion"]})
    for r in ratings:
        r["cells"] = cells.get(r["rating_id"], {})
        r["unread"] = _json(r["unread"])
    families = [r["family"] for r in await _rows(datasette, """SELECT DISTINCT family FROM sources
        WHERE kind = 'license' AND family IS NOT NULL ORDER BY family""")]
    counts: dict[str, int] = {}
    for r in ratings:
        counts[r["class_label"]] = counts.get(r["class_label"], 0) + 1
    return Response.html(await datasette.render_template("cw_openness.html", {
        "ratings": ratings, "criteria": criteria, "scope": scope, "scopes": SCOPES, "family": family,
        "families": families, "show_all": bool(show_all), "counts": counts}, request=request))


async def version_page(datasette, request) -> Response:
    version_id = int(request.url_vars["version_id"])
    versions = await _rows(datasette, """SELECT v.id, v.seq, v.valid_from, s.id AS source_pk, s.source_id AS source,
        s.title AS document, s.family, s.publisher, s.kind, s.url FROM versions v JOIN sources s ON s.id = v.source_id
        WHERE v.id = :id""", {"id": version_id})
    if not versions:
        raise NotFound(f"No version {version_id}")
    version = versions[0]
    states = []
    if await _has_ratings(datasette):
        states = await _rows(datasette, """SELECT * FROM openness_ratings WHERE version_id = :id
                                           ORDER BY scope = 'version', valid_from DESC, id DESC""", {"id": version_id})
    for state in states:
        state["criteria"] = await _rows(datasette, "SELECT * FROM openness WHERE rating_id = :id ORDER BY id",
                                        {"id": state["id"]})
        for c in state["criteria"]:
            c["evidence"] = _json(c["evidence"])
        state["unread"] = _json(state["unread"])
        state["decided_by"] = _json(state["decided_by"])
        pids = [int(p) for p in _json(state["policy_version_ids"]) if p]
        state["policies"] = await _rows(datasette, f"""SELECT v.id, v.seq, v.valid_from, s.source_id AS source
            FROM versions v JOIN sources s ON s.id = v.source_id WHERE v.id IN ({','.join(map(str, pids)) or 0})""")
    changes = []
    if states:
        changes = await _rows(datasette, """SELECT rc.*, via.source_id AS via_source FROM rating_changes rc
            LEFT JOIN sources via ON via.id = rc.via_source_id
            WHERE rc.source_id = :source ORDER BY rc.id DESC""", {"source": version["source_pk"]})
    others = await _rows(datasette, """SELECT v.id, v.seq, v.valid_from,
        (SELECT r.class_label FROM openness_ratings r WHERE r.version_id = v.id AND r.scope = 'effective'
         ORDER BY r.valid_from DESC, r.id DESC LIMIT 1) AS class_label
        FROM versions v WHERE v.source_id = :source ORDER BY v.seq""", {"source": version["source_pk"]})
    hosts = await _rows(datasette, """SELECT s.source_id AS source, s.title AS document,
        (SELECT v.id FROM versions v WHERE v.source_id = s.id ORDER BY v.seq DESC LIMIT 1) AS version_id
        FROM sources s, json_each(CASE WHEN json_valid(s.incorporates) THEN s.incorporates ELSE '[]' END) j
        WHERE j.value = :source ORDER BY s.source_id""", {"source": version["source"]})
    return Response.html(await datasette.render_template("cw_openness_version.html", {
        "version": version, "states": states, "changes": changes, "others": others,
        "hosts": [h for h in hosts if h["version_id"]]}, request=request))


@hookimpl
def register_routes():
    return [
        (r"^/-/openness$", matrix_page),
        (r"^/-/openness/(?P<version_id>\d+)$", version_page),
    ]


@hookimpl
def render_cell(value, column, database):
    if database != DB or not isinstance(value, str) or not OPENNESS_LINK.match(value):
        return None
    return Markup(f'<a href="{escape(value)}">{escape(value)}</a>')


@hookimpl
def menu_links(datasette):
    return [{"href": datasette.urls.path("/-/openness"), "label": "Openness of licences"}]
