"""The public Datasette instance through its ASGI client: pages, views, canned queries, exports, feeds, privacy."""
from __future__ import annotations

import asyncio
import csv
import importlib.util
import io
import sqlite3
from pathlib import Path

import feedparser
import pytest

from clausewatch import db as store
from clausewatch.config import private_db_path
from clausewatch.db.publish import VIEWS, missing, publish
from clausewatch.web.datasette_app import ServeError, build_datasette, config_dir, load_metadata
from tests.conftest import run_cli
from tests.fixtures.datasette.corpus_db import build_database

PRIVATE_TABLES = ("subscriptions", "deliveries", "delivery_attempts", "link_tokens")
SECRET = "tok-3f9a1c77e2b54d0c9a8e5b6d4c3b2a19"


class Client:
    """ds.client driven from synchronous tests on one event loop."""

    def __init__(self, ds):
        self.ds, self.loop = ds, asyncio.new_event_loop()
        self.loop.run_until_complete(ds.invoke_startup())

    def get(self, path: str, **kwargs):
        return self.loop.run_until_complete(self.ds.client.get(path, **kwargs))

    def post(self, path: str, **kwargs):
        return self.loop.run_until_complete(self.ds.client.post(path, **kwargs))


@pytest.fixture(scope="module")
def built(tmp_path_factory, corpus):
    path = tmp_path_factory.mktemp("datasette") / "clausewatch.db"
    info = build_database(path, corpus)
    private = store.connect_private(private_db_path(path))
    private["subscriptions"].insert({"channel": "email", "address": "alice@example.org", "token_hash": SECRET,
                                     "secret": SECRET, "created_at": "2024-06-01T00:00:00Z"})
    private.conn.close()
    return path, info


@pytest.fixture(scope="module")
def client(built):
    return Client(build_datasette(built[0]))


@pytest.fixture(scope="module")
def paged_client(built):
    """Pages of 20 rows: a streamed export must follow many pages to be complete."""
    return Client(build_datasette(built[0], settings={"max_returned_rows": 20}))


def count(path: Path, sql: str, params=()) -> int:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql, params).fetchone()[0]


def query_params(info: dict) -> dict[str, dict[str, str]]:
    gemma = info["versions"]["gemma-terms"]
    return {
        "changes_since": {"since": "2024-09-01"},
        "clauses_with_tag": {"tag": "restrict.scale_threshold"},
        "compare_versions": {"old_version_id": str(gemma[0]), "new_version_id": str(gemma[1])},
        "licence_matrix_summary": {"kind": "license"},
        "timeline": {"family": ""},
        "sources_with_errors": {},
        "document_history": {"source": "gemma-terms"},
        "clause_search": {"q": "monthly active users"},
        "licences_by_verdict": {"criterion": "no_threshold", "verdict": "fail"},
        "models_under_licence_with": {"criterion": "no_threshold", "verdict": "fail"},
    }


# ------------------------------------------------------------------ views and canned queries

@pytest.mark.parametrize("view", sorted(VIEWS))
def test_every_view_answers_with_all_its_rows(client, built, view):
    response = client.get(f"/clausewatch/{view}.json?_shape=objects&_size=max")
    assert response.status_code == 200, response.text[:500]
    rows = response.json()["rows"]
    assert len(rows) == min(count(built[0], f"SELECT COUNT(*) FROM {view}"), 1000)
    assert rows, f"{view} is empty on the fixture database"


def test_every_canned_query_answers_with_rows(client, built):
    queries = load_metadata()["databases"]["clausewatch"]["queries"]
    params = query_params(built[1])
    assert sorted(queries) == sorted(params), "a canned query without a test case (or the reverse)"
    for name, args in params.items():
        response = client.get(f"/clausewatch/{name}.json?_shape=objects", params=args)
        assert response.status_code == 200, f"{name}: {response.text[:500]}"
        assert response.json()["rows"], f"{name} returned no row"
        assert client.get(f"/clausewatch/{name}", params=args).status_code == 200


def test_canned_queries_answer_the_question_they_name(client, built):
    rows = client.get("/clausewatch/clauses_with_tag.json?_shape=objects&tag=restrict.scale_threshold").json()["rows"]
    assert {r["source"] for r in rows} == {"llama-license"}
    assert all("monthly active users" in r["evidence"].lower() for r in rows)
    since = client.get("/clausewatch/changes_since.json?_shape=objects&since=2025-01-01").json()["rows"]
    assert since and {r["source"] for r in since} == {"gemma-terms"}
    errors = client.get("/clausewatch/sources_with_errors.json?_shape=objects").json()["rows"]
    assert [r["source"] for r in errors] == ["gone-policy"] and errors[0]["last_http_status"] == 404
    gemma = built[1]["versions"]["gemma-terms"]
    compared = client.get("/clausewatch/compare_versions.json?_shape=objects",
                          params={"old_version_id": gemma[0], "new_version_id": gemma[1]}).json()["rows"]
    assert len(compared) == count(built[0], "SELECT COUNT(*) FROM changes WHERE new_version_id = ?", [gemma[1]])


@pytest.mark.parametrize("view", sorted(VIEWS))
def test_streamed_csv_of_a_view_has_every_row(paged_client, built, view):
    response = paged_client.get(f"/clausewatch/{view}.csv?_stream=on&_size=max")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == count(built[0], f"SELECT COUNT(*) FROM {view}")
    if rows and "clause_id" in rows[0] and view == "current_clauses":
        ids = [r["clause_id"] for r in rows]
        assert len(set(ids)) == len(ids)


# ------------------------------------------------------------------ search and facets

def test_search_and_facets_on_current_clauses(client):
    data = client.get("/clausewatch/current_clauses.json?_search=monthly+active+users").json()
    assert data["filtered_table_rows_count"] == 1
    row = dict(zip(data["columns"], data["rows"][0], strict=True))
    assert row["source"] == "llama-license" and "restrict.scale_threshold" in row["tags"]
    assert set(data["facet_results"]) >= {"tags", "family", "kind", "publisher", "jurisdiction"}
    faceted = client.get("/clausewatch/current_clauses.json?_shape=objects&tags__arraycontains=terms.trademark").json()
    assert faceted["rows"] and all("terms.trademark" in r["tags"] for r in faceted["rows"])


@pytest.mark.parametrize("query", ["", "_search=license", "family=gemma-terms", "tags__arraycontains=terms.trademark"])
def test_grouped_facets_count_what_datasette_facets_count(client, query):
    data = client.get(f"/clausewatch/current_clauses.json?{query}&_facet_array=tags&_facet=family"
                      "&_facet=jurisdiction").json()
    facets = data["facet_results"]

    def counts(name):
        return {(v["value"], v["count"], v["selected"]) for v in facets[name]["results"]}

    assert counts("tags") and counts("tags") == counts("tags_2")
    assert counts("family") == counts("family_2") and counts("jurisdiction") == counts("jurisdiction_2")
    for v in facets["tags"]["results"]:  # a link adds the filter, or removes it when it is selected
        assert (f"tags__arraycontains={v['value']}" in v["toggle_url"]) is not v["selected"]


def test_version_search_uses_its_fts_index(client):
    data = client.get("/clausewatch/versions.json?_search=Gemma&_col=seq&_shape=objects").json()
    assert len(data["rows"]) == 2


def test_fts_triggers_follow_writes(corpus, tmp_path):
    path = tmp_path / "fts.db"
    info = build_database(path, corpus)
    database = store.connect(path)
    assert missing(database) == []
    version = info["versions"]["us-eo-14179"][0]
    from clausewatch.db.clauses import replace_clauses

    replace_clauses(database, version, [{"ordinal": 0, "path": "1", "text": "A zanzibarian clause.", "start": 0,
                                         "end": 10, "tags": [], "entities": []}], "test")
    hits = "SELECT COUNT(*) FROM {}_fts WHERE {}_fts MATCH ?"
    assert database.execute(hits.format("clauses", "clauses"), ["zanzibarian"]).fetchone()[0] == 1
    replace_clauses(database, version, [{"ordinal": 0, "path": "1", "text": "Replaced.", "start": 0, "end": 9,
                                         "tags": [], "entities": []}], "test")
    assert database.execute(hits.format("clauses", "clauses"), ["zanzibarian"]).fetchone()[0] == 0
    # marking a version processed writes one row; changing its text re-indexes it
    before = database.conn.total_changes
    database["versions"].update(version, {"processed_at": "2025-01-01T00:00:00Z"})
    assert database.conn.total_changes - before == 1
    database["versions"].update(version, {"text": "A quixotic order."})
    assert database.execute(hits.format("versions", "versions"), ["quixotic"]).fetchone()[0] == 1


def test_publish_recreates_a_view_that_changed(tmp_path):
    database = store.connect(tmp_path / "p.db")
    database.execute("DROP VIEW current_clauses")
    database.execute("CREATE VIEW current_clauses AS SELECT 1 AS x")
    database.execute('DROP TRIGGER "versions_au"')
    assert missing(database) == ["versions_au", "current_clauses"]
    assert publish(database) == {"fts": ["versions_au"], "indexes": [], "views": ["current_clauses"], "tables": []}
    assert missing(database) == [] and publish(database) == {"fts": [], "indexes": [], "views": [], "tables": []}


# ------------------------------------------------------------------ pages

def test_home_page(client):
    page = client.get("/")
    assert page.status_code == 200
    assert 'action="/-/search"' in page.text and 'name="q"' in page.text
    assert "/-/diff/" in page.text and "/-/dashboards/tracker" in page.text and 'href="/-/subscribe"' in page.text


def test_clause_page_highlights_evidence_and_links_versions(client, built):
    path = built[0]
    clause_id, version_id = sqlite3.connect(path).execute(
        "SELECT clause_id, version_id FROM current_clauses WHERE source = 'llama-license' "
        "AND text LIKE '%monthly active users%'").fetchone()
    page = client.get(f"/-/clause/{clause_id}")
    assert page.status_code == 200
    assert '<mark class="entity evidence"' in page.text or '<mark class="evidence"' in page.text
    assert "restrict.scale_threshold" in page.text and "USER_THRESHOLD" in page.text
    assert "https://github.com/meta-llama/llama-models" in page.text
    previous = sqlite3.connect(path).execute(
        "SELECT c.id FROM clauses c JOIN clauses cur ON cur.id = ? JOIN versions v ON v.id = cur.version_id "
        "JOIN versions p ON p.source_id = v.source_id AND p.seq = v.seq - 1 "
        "WHERE c.version_id = p.id AND c.path = cur.path", [clause_id]).fetchone()[0]
    assert f'href="/-/clause/{previous}"' in page.text
    assert f"/-/diff/{version_id - 1}/{version_id}" in page.text
    assert client.get(f"/-/clause/{previous}").text.count(f'href="/-/clause/{clause_id}"') == 1


def test_diff_page_marks_insertions_and_deletions(client, built):
    old, new = built[1]["versions"]["gemma-terms"]
    page = client.get(f"/-/diff/{old}/{new}")
    assert page.status_code == 200
    assert page.text.count('<article class="cw-change') == count(
        built[0], "SELECT COUNT(*) FROM changes WHERE old_version_id = ? AND new_version_id = ?", [old, new])
    assert "<del>" in page.text and "<ins>" in page.text
    redirect = client.get(f"/-/diff/{new}")
    assert redirect.status_code == 302 and redirect.headers["location"] == f"/-/diff/{old}/{new}"
    # a policy change is also recorded for the licence that incorporates it: shown once
    old, new = built[1]["versions"]["llama-use-policy"]
    rows = "SELECT COUNT(*) FROM changes WHERE new_version_id = ? AND via_source_id IS {} NULL"
    assert count(built[0], rows.format("NOT"), [new]) > 0
    assert client.get(f"/-/diff/{old}/{new}").text.count('<article class="cw-change') == count(
        built[0], rows.format(""), [new])
    # a pair the detector never compared: the site computes nothing, it says so and how to compare them
    reverse = client.get(f"/-/diff/{new}/{old}")
    assert reverse.status_code == 200 and "has not compared these two versions" in reverse.text
    assert "clausewatch diff llama-use-policy@" in reverse.text and '<article class="cw-change' not in reverse.text


def test_unknown_pages_answer_404(client):
    assert client.get("/-/clause/999999").status_code == 404
    assert client.get("/-/diff/1/999999").status_code == 404


def test_dashboard_answers(client):
    assert client.get("/-/dashboards/tracker").status_code == 200


def _pages_module():
    spec = importlib.util.spec_from_file_location("cw_pages", config_dir() / "plugins" / "clausewatch_pages.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_highlight_and_stored_word_diff_helpers():
    pages = _pages_module()
    html = pages.highlight("up to 700 million monthly active users <b>", [(6, 17, "entity", "USER_THRESHOLD"),
                                                                          (14, 38, "evidence", "scale")])
    assert '<mark class="entity evidence" title="USER_THRESHOLD; scale">ion</mark>' in html
    assert '<mark class="entity" title="USER_THRESHOLD">700 mill</mark>' in html
    assert "&lt;b&gt;" in html
    assert pages.find_span("You agree  to\nthe Terms", "agree to the") == (4, 17)
    # the site never diffs: a change stored without word diff shows all old words deleted, all new inserted
    ops = pages.change_ops({"kind": "modified", "old_text": "a b", "new_text": "a x", "word_diff": None})
    assert pages.ops_html(ops) == "<del>a b</del> <ins>a x</ins>"
    stored = [["equal", "You may"], ["insert", "not"], ["equal", "use <it>"]]
    assert pages.ops_html(pages.change_ops({"old_text": "x", "new_text": "y", "word_diff": stored})) == (
        "You may <ins>not</ins> use &lt;it&gt;")


# ------------------------------------------------------------------ feeds

@pytest.mark.parametrize("url, where", [
    ("/clausewatch/changes_feed.atom", "scope != 'incorporated'"),
    ("/clausewatch/family_feed.atom?family=gemma-terms", "family = 'gemma-terms'"),
    ("/clausewatch/family_feed.atom?family=llama-license", "family = 'llama-license'"),
    ("/clausewatch/tag_feed.atom?tag=restrict.geographic", "scope != 'incorporated' AND "
     "EXISTS (SELECT 1 FROM json_each(change_feed.tags) WHERE value = 'restrict.geographic')"),
])
def test_former_feed_addresses_still_list_the_substantive_changes(client, built, url, where):
    response = client.get(url)
    assert response.status_code == 200
    feed = feedparser.parse(response.content, response_headers={"content-type": response.headers["content-type"]})
    assert not feed.bozo, feed.bozo_exception
    expected = count(built[0], f"SELECT COUNT(*) FROM change_feed WHERE substantive = 1 AND {where}")
    assert 0 < len(feed.entries) == min(expected, 50)
    entry = feed.entries[0]
    assert entry.title and entry.updated_parsed and entry.published_parsed and "<p>" in entry.content[0].value
    assert entry.link.startswith("http://") and "/-/diff/" in entry.link


def test_a_feed_without_changes_is_still_a_valid_feed(client):
    response = client.get("/clausewatch/family_feed.atom?family=no-such-family")
    assert response.status_code == 200
    feed = feedparser.parse(response.content, response_headers={"content-type": response.headers["content-type"]})
    assert not feed.bozo and len(feed.entries) == 0 and feed.feed.subtitle.startswith("0 substantive changes")


# ------------------------------------------------------------------ read-only, private data

def test_private_database_is_not_reachable(client, built):
    assert private_db_path(built[0]).is_file()
    databases = client.get("/-/databases.json").json()
    assert [d["name"] for d in databases] == ["clausewatch"]
    tables = {t["name"] for t in client.get("/clausewatch.json").json()["tables"]}
    assert not tables & set(PRIVATE_TABLES)
    for table in PRIVATE_TABLES:
        assert client.get(f"/clausewatch/{table}").status_code == 404
        assert client.get(f"/clausewatch/{table}.csv").status_code == 404
        assert client.get(f"/clausewatch.json?sql=select+*+from+{table}").status_code == 400
    attach = client.get("/clausewatch.json", params={
        "sql": f"attach database '{private_db_path(built[0])}' as p"})
    assert attach.status_code == 400
    assert client.get("/clausewatch-private").status_code == 404
    for url in ("/", "/clausewatch", "/-/databases.json", "/-/metadata.json", "/clausewatch/source_health.csv"):
        assert SECRET not in client.get(url).text and "alice@example.org" not in client.get(url).text


def test_writes_are_refused(client, built):
    before = count(built[0], "SELECT COUNT(*) FROM sources")
    for sql in ("delete from sources", "update sources set title = 'x'", "drop table sources",
                "insert into sources (source_id) values ('x')", "pragma journal_mode = delete"):
        assert client.get("/clausewatch.json", params={"sql": sql}).status_code in (400, 403), sql
    for url in ("/clausewatch/sources/-/insert", "/clausewatch/-/create", "/clausewatch/sources/1/-/delete",
                "/clausewatch/sources/-/drop", "/clausewatch/changes_since", "/clausewatch"):
        assert client.post(url, json={"row": {"source_id": "x"}}).status_code == 405, url
    for method in ("PUT", "PATCH", "DELETE"):
        response = client.loop.run_until_complete(client.ds.client.request(method, "/clausewatch/sources/1"))
        assert response.status_code == 405, method
    assert count(built[0], "SELECT COUNT(*) FROM sources") == before
    for action in ("insert-row", "delete-row", "update-row", "create-table", "drop-table"):
        assert client.loop.run_until_complete(client.ds.permission_allowed(None, action)) is False


def test_pages_answer_while_a_writer_holds_a_transaction(client, built):
    writer = sqlite3.connect(built[0], isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE sources SET notes = 'being written' WHERE source_id = 'gemma-terms'")
        for url in ("/", "/clausewatch/current_clauses", "/clausewatch/clause_changes.csv", "/-/diff/1/2"):
            assert client.get(url).status_code == 200, url
    finally:
        writer.execute("ROLLBACK")
        writer.close()


# ------------------------------------------------------------------ the serve command

def test_serve_refuses_a_missing_database(tmp_path):
    with pytest.raises(ServeError, match="no database yet"):
        build_datasette(tmp_path / "none.db")
    proc = run_cli("serve", "--db", str(tmp_path / "none.db"), "--port", "0", timeout=60)
    assert proc.returncode == 2 and "none.db: no database yet" in proc.stderr


def test_metadata_documents_every_view():
    tables = load_metadata()["databases"]["clausewatch"]["tables"]
    assert [v for v in VIEWS if not tables.get(v, {}).get("description")] == []
