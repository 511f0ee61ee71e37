"""The site's search (clausewatch.db.search): spelling variants, query parsing, references to parts of a
document, and the ranked SQL run on a real tracker database (our own test texts through the pipeline)."""
from __future__ import annotations

import sqlite3

import pytest

from clausewatch.db.search import parse_query, plan_search, reference_path, spelling_variants
from tests.fixtures.site.tracker import build_tracker


@pytest.mark.parametrize("word, variant", [
    ("licence", "license"), ("license", "licence"), ("licences", "licenses"), ("defence", "defense"),
    ("offences", "offenses"), ("authorise", "authorize"), ("authorized", "authorised"),
    ("organisation", "organization"), ("harmonised", "harmonized"), ("analyse", "analyze"),
    ("behaviour", "behavior"), ("behavioural", "behavioral"), ("favourable", "favorable"), ("labour", "labor"),
    ("centre", "center"), ("centred", "centered"), ("modelling", "modeling"), ("labelled", "labeled"),
    ("programme", "program"), ("judgement", "judgment"), ("fulfilment", "fulfillment"),
])
def test_british_and_american_spellings_find_each_other(word, variant):
    assert variant in spelling_variants(word)


@pytest.mark.parametrize("word", ["model", "our", "four", "hour", "sense", "size", "prize", "filed", "user"])
def test_words_without_another_spelling_get_none(word):
    assert spelling_variants(word) == []


def test_parse_query_makes_phrases_drops_question_words_and_quotes_everything():
    terms = parse_query('what does the law say about open-source "general purpose" models licen* NOT OR')
    assert [t.fts() for t in terms] == ['"law"', '"open source"', '"general purpose"', '"models"', '"licen"*',
                                        '"not"']
    assert parse_query("the") and parse_query("")  == []
    assert parse_query("licence")[0].fts() == '("licence" OR "license")'
    assert parse_query('"unbalanced quote')[0].fts() == '"unbalanced"'


@pytest.mark.parametrize("query, path", [
    ("Article 53", "Article 53"), ("what does article 53(2) say", "Article 53 > 2"),
    ("Article 53(1)(a)", "Article 53 > 1 > (a)"), ("annex xi", "Annex XI"), ("Section 4.6(a)", "Section 4.6 > (a)"),
    ("section 1.b.v", "Section 1.b.v"), ("Recital 104", "Recital 104"), ("monthly active users", None),
])
def test_a_query_naming_a_part_of_a_document_gives_its_path(query, path):
    assert reference_path(query) == path


@pytest.fixture(scope="module")
def conn(tmp_path_factory):
    path = tmp_path_factory.mktemp("search") / "tracker.db"
    build_tracker(path)
    conn = sqlite3.connect(path)
    conn.row_factory = sqlite3.Row
    yield conn
    conn.close()


def search(conn, q, filters=None, **kwargs):
    plan = plan_search(q, filters or {}, **kwargs)
    hits = [dict(r) for r in conn.execute(plan.hits_sql, plan.params)]
    count = dict(conn.execute(plan.count_sql, plan.params).fetchone())
    facets = [dict(r) for r in conn.execute(plan.facets_sql, plan.params)]
    return hits, count, facets


def test_licence_and_license_find_the_same_clauses(conn):
    british, _, _ = search(conn, "licence", page_size=100)
    american, _, _ = search(conn, "license", page_size=100)
    assert {h["clause_id"] for h in british} == {h["clause_id"] for h in american}
    assert {"acme-1-license", "acme-2-license", "acme-3-license"} <= {h["source"] for h in british}


def test_a_named_article_ranks_its_clauses_first_in_document_order(conn):
    hits, count, _ = search(conn, "Article 2")
    assert [h["path"] for h in hits[:2]] == ["Article 2 > 1", "Article 2 > 2"]
    # a clause that only mentions the article comes after it
    mentions = [k for k, h in enumerate(hits) if h["path"] == "Article 3 > 1"]
    assert mentions and mentions[0] > 1
    hits, _, _ = search(conn, "Article 2(2)")
    assert hits[0]["path"] == "Article 2 > 2"


def test_clauses_with_every_word_come_first_then_bm25(conn):
    hits, count, _ = search(conn, "monthly active users cap")
    assert count["complete"] == 0 and hits, "no clause has 'cap': the clauses with most words still answer"
    assert hits[0]["matched"] == 3 and "monthly active users" in hits[0]["text"]
    assert [h["matched"] for h in hits] == sorted((h["matched"] for h in hits), reverse=True)


def test_a_document_in_several_renditions_is_searched_once(conn):
    hits, count, facets = search(conn, "fines")
    assert {h["source"] for h in hits} == {"test-act-html"}
    assert {f["value"] for f in facets if f["facet"] == "source"} == {"test-act-html"}
    hits, _, _ = search(conn, "fines", all_renditions=True)
    assert {h["source"] for h in hits} == {"test-act-html", "test-act-pdf"}


def test_filters_narrow_and_facets_count_what_is_left(conn):
    hits, count, facets = search(conn, "", {"tag": "restrict.output_use", "kind": "license"})
    assert {h["source"] for h in hits} == {"acme-1-license", "acme-2-license"} and count["hits"] == 2
    assert {(f["facet"], f["value"], f["n"]) for f in facets if f["facet"] == "kind"} == {("kind", "license", 2)}
    hits, _, _ = search(conn, "", {"tag": "restrict"})  # a tag group filters on all its tags
    assert {h["source"] for h in hits} >= {"acme-1-license", "acme-policy"}
    hits, _, _ = search(conn, "", {"jurisdiction": "EU"})
    assert hits and all(h["jurisdiction"] == "EU" for h in hits)
    hits, _, _ = search(conn, "users", {"family": "test-act"})
    assert hits == []


def test_snippets_mark_the_hits(conn):
    plan = plan_search("monthly active users", {})
    ids = [r["clause_id"] for r in conn.execute(plan.hits_sql, plan.params)]
    sql, params = plan.snippet_sql(ids)
    snippets = [r["snippet"] for r in conn.execute(sql, params)]
    assert snippets and all("\x02" in s and "\x03" in s for s in snippets)


def test_pages_do_not_overlap(conn):
    first, count, _ = search(conn, "acme", page_size=3)
    second, _, _ = search(conn, "acme", page_size=3, page=2)
    assert count["hits"] > 3 and first and second
    assert not {h["clause_id"] for h in first} & {h["clause_id"] for h in second}
