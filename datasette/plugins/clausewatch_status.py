"""clausewatch page ``/-/status``: every source as it stands (failing, held for review, never fetched, up to
date, no longer tracked), with its versions, last fetch and last error, and the latest crawl runs.

Read from the ``source_health`` view and ``crawl_runs``; nothing is fetched or computed.
"""
from __future__ import annotations

from typing import Any

from datasette import hookimpl
from datasette.utils.asgi import Response

DB = "clausewatch"
STATES = [
    ("failing", "Failing", "The last fetch failed or the page is gone. The versions already stored are kept."),
    ("held for review", "Held for review", "A fetched page looked like a replacement page (maintenance, captcha, "
     "login, drastic shrink); it is not recorded as a change until an operator accepts it (clausewatch held)."),
    ("never fetched", "Never fetched", "Declared, but no text is stored yet: not fetched yet, or (in a replay) "
     "the corpus has no copy of it."),
    ("ok", "Up to date", "The last fetch succeeded."),
    ("inactive", "No longer tracked", "The declaration was removed; the stored versions are kept."),
]


async def status_page(datasette, request) -> Response:
    db = datasette.get_database(DB)
    sources = [dict(r) for r in (await db.execute("""SELECT h.*, s.title,
        (SELECT f.http_status FROM fetches f WHERE f.source_id = h.source_pk ORDER BY f.requested_at DESC, f.id DESC
         LIMIT 1) AS last_http_status,
        (SELECT v.id FROM versions v WHERE v.source_id = h.source_pk ORDER BY v.seq DESC LIMIT 1) AS latest_version
        FROM source_health h JOIN sources s ON s.id = h.source_pk
        ORDER BY h.consecutive_failures DESC, h.family, h.source""")).rows]
    runs = [dict(r) for r in (await db.execute("""SELECT id, started_at, finished_at, mode, status, sources, requests,
        new_versions, not_modified + unchanged AS unchanged, held, errors FROM crawl_runs ORDER BY id DESC LIMIT 5""")).rows]
    groups: list[dict[str, Any]] = []
    for key, title, meaning in STATES:
        rows = [s for s in sources if s["state"] == key]
        groups.append({"key": key, "anchor": key.replace(" ", "-"), "title": title, "meaning": meaning,
                       "sources": rows})
    counts = {g["key"]: len(g["sources"]) for g in groups}
    return Response.html(await datasette.render_template("cw_status.html", {
        "groups": groups, "counts": counts, "runs": runs, "total": sum(1 for s in sources if s["active"])},
        request=request))


@hookimpl
def register_routes():
    return [(r"^/-/status$", status_page)]
