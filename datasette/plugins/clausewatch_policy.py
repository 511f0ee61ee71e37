"""Read-only policy and links for the public clausewatch instance.

- Every write action is denied, whoever asks (Datasette 0.65 has no write API, but a plugin or a
  future upgrade must not open one on the public instance).
- Every request other than GET, HEAD or OPTIONS is answered 405 before Datasette sees it: Datasette
  has no form to post, and 0.65 answers some POSTs with a 500. (The subscription pages, the public
  process's only write path, are a separate app mounted beside Datasette by ``clausewatch serve``.)
- Read connections memory-map the database: searches and facets seek rows all over a large file, and
  mmap reads are about twice as fast as read() calls (measured by bench/serve.py).
- What one query may cost is bounded: one value (string or blob) at most 16 MB, all the rows of one query
  at most 32 MB, the SQL text at most 12 kB; Datasette's own limits bound the rows (max_returned_rows) and
  the time (sql_time_limit_ms, settings.json).
- Cells that name a clause, change or version link to the clause and diff pages.
"""
from __future__ import annotations

import re
import sqlite3
import weakref

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
# What one query may cost (documented in docs/datasette.md, "Limits of the public SQL endpoint"): analysts keep
# read-only SQL, but no request can make the server hold gigabytes (Datasette builds a whole JSON page in memory)
MAX_VALUE_BYTES = 16 * 1024 * 1024      # one string or blob a query makes or reads (randomblob(1e9) refused)
MAX_RESULT_BYTES = 32 * 1024 * 1024     # all the text and blobs of one query's rows
MAX_SQL_BYTES = 12 * 1024               # the SQL text itself (GET URLs stop at 16 kB anyway)


class ResultTooLarge(sqlite3.OperationalError):
    """A query whose rows add up to more than MAX_RESULT_BYTES."""


class _Budget:
    """A row factory that counts the bytes of every row a cursor returns and stops past the budget.

    Rows are ``sqlite3.Row`` as Datasette expects; each query runs on a new cursor, so the budget is per
    query (a CSV stream pages through many queries, each within the budget)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()

    def __call__(self, cursor, row):
        size = 0
        for value in row:
            if isinstance(value, str | bytes):
                size += len(value)
        total = self.used.get(cursor, 0) + size + 8 * len(row)
        if total > self.limit:
            raise ResultTooLarge(f"the result is larger than {self.limit // (1024 * 1024)} MB: select fewer or "
                                 "shorter columns, or add a LIMIT")
        self.used[cursor] = total
        return sqlite3.Row(cursor, row)


@hookimpl
def prepare_connection(conn):
    conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
    conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, MAX_VALUE_BYTES)
    conn.setlimit(sqlite3.SQLITE_LIMIT_SQL_LENGTH, MAX_SQL_BYTES)
    conn.row_factory = _Budget(MAX_RESULT_BYTES)


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
