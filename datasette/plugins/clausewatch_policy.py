"""Read-only policy and links for the public clausewatch instance.

- Every write action is denied, whoever asks (Datasette 0.65 has no write API, but a plugin or a
  future upgrade must not open one on the public instance).
- Every request other than GET, HEAD or OPTIONS is answered 405 before Datasette sees it: Datasette
  has no form to post, and 0.65 answers some POSTs with a 500. (The subscription pages, the public
  process's only write path, are a separate app mounted beside Datasette by ``clausewatch serve``.)
- Read connections memory-map the database: searches and facets seek rows all over a large file, and
  mmap reads are about twice as fast as read() calls (measured by bench/serve.py).
- Cells that name a clause, change or version link to the clause and diff pages.
"""
from __future__ import annotations

import re

from datasette import hookimpl
from markupsafe import Markup, escape

WRITE_ACTIONS = {
    "insert-row", "delete-row", "update-row", "create-table", "alter-table", "drop-table", "upsert-row",
    "execute-write", "write",
}
PAGE_LINK = re.compile(r"^/-/(?:diff|clause)/\d+(?:/\d+)?(?:#[\w-]+)?$")
CHANGE_TABLES = {"clause_changes", "changes"}


READ_METHODS = {"GET", "HEAD", "OPTIONS"}
MMAP_BYTES = 1 << 30


@hookimpl
def prepare_connection(conn):
    conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def read_only(scope, receive, send):
            if scope["type"] == "http" and scope.get("method", "GET") not in READ_METHODS:
                await send({"type": "http.response.start", "status": 405,
                            "headers": [[b"content-type", b"text/plain; charset=utf-8"],
                                        [b"allow", b"GET, HEAD, OPTIONS"]]})
                await send({"type": "http.response.body", "body": b"This clausewatch instance is read-only.\n"})
                return
            await app(scope, receive, send)

        return read_only

    return wrap


@hookimpl
def permission_allowed(actor, action):
    if action in WRITE_ACTIONS:
        return False
    return None


def _link(href: str, text: object) -> Markup:
    return Markup(f'<a href="{escape(href)}">{escape(str(text))}</a>')


@hookimpl
def render_cell(row, value, column, table, database, datasette):
    if value is None or database != "clausewatch":
        return None
    if isinstance(value, str) and PAGE_LINK.match(value):
        return _link(datasette.urls.path(value), value)
    if column == "clause_id":
        return _link(datasette.urls.path(f"/-/clause/{value}"), value)
    if table == "clauses" and column == "path":
        return _link(datasette.urls.path(f"/-/clause/{row['id']}"), value)
    if table in CHANGE_TABLES and column in ("change_id", "id") and "new_version_id" in row.keys():
        old = row["old_version_id"] or row["new_version_id"]
        return _link(datasette.urls.path(f"/-/diff/{old}/{row['new_version_id']}#change-{value}"), value)
    if table == "versions" and column == "seq":
        return _link(datasette.urls.path(f"/-/diff/{row['id']}"), value)
    return None


@hookimpl
def menu_links(datasette):
    return [
        {"href": datasette.urls.path("/-/search"), "label": "Search"},
        {"href": datasette.urls.path("/-/timeline"), "label": "Timelines"},
        {"href": datasette.urls.path("/-/glossary"), "label": "Topics and terms"},
        {"href": datasette.urls.path("/-/status"), "label": "Status of the sources"},
        {"href": datasette.urls.path("/-/subscribe"), "label": "Subscribe by email"},
        {"href": datasette.urls.path("/clausewatch/current_clauses"), "label": "Current clauses"},
        {"href": datasette.urls.path("/clausewatch/clause_changes"), "label": "Clause changes"},
        {"href": datasette.urls.path("/-/feeds/changes.atom"), "label": "Atom feed of changes"},
    ]
