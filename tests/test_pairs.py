"""The pairs step: any two versions of a family and the renditions of a document, compared with the change
detector's one entry point and stored apart from ``changes``, incrementally. Real SQLite files, real NLP,
real detector (tests/fixtures/site/tracker.py writes our own test texts through the pipeline)."""
from __future__ import annotations

import itertools
import sqlite3

import pytest

from clausewatch import db as store
from clausewatch.db.pairs import family_versions, pair_changes_of, release_key
from clausewatch.db.subscriptions import substantive_changes
from clausewatch.digest.feed import feed_changes
from clausewatch.stages.pairs import compare_pairs, planned_pairs
from tests.conftest import run_cli
from tests.fixtures.site.tracker import build_tracker


@pytest.fixture
def tracker(tmp_path):
    path = tmp_path / "tracker.db"
    return path, build_tracker(path, pairs=False)


def rows(path, sql, params=()):
    with sqlite3.connect(path) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(sql, params)]


def test_every_pair_of_a_family_is_compared_once_except_what_the_detector_compared(tracker):
    path, info = tracker
    db = store.connect(path)
    result = compare_pairs(db)
    detector = {(r["old_version_id"], r["new_version_id"]) for r in rows(
        path, "SELECT old_version_id, new_version_id FROM change_comparisons WHERE old_version_id IS NOT NULL")}
    expected = set()
    for versions in family_versions(db).values():
        for old, new in itertools.combinations(versions, 2):
            if old["document"] and old["document"] == new["document"] and old["source_pk"] != new["source_pk"]:
                continue
            if (old["id"], new["id"]) not in detector:
                expected.add((old["id"], new["id"]))
    stored = {(r["old_version_id"], r["new_version_id"]) for r in rows(
        path, "SELECT old_version_id, new_version_id FROM pair_comparisons WHERE purpose = 'pair'")}
    assert stored == expected and result["pairs"] == len(expected)
    # the licence family: release 1 against release 3 is the one pair the detector did not make
    acme = info["versions"]
    assert (acme["acme-1-license"][0], acme["acme-3-license"][0]) in stored
    # older first, by release order
    for old, new in stored:
        a, b = (rows(path, """SELECT s.source_id AS source, s.release_date, s.version_label, v.seq FROM versions v
                              JOIN sources s ON s.id = v.source_id WHERE v.id = ?""", [i])[0] for i in (old, new))
        assert release_key(a) < release_key(b)


def test_renditions_are_checked_against_each_other_not_as_pairs(tracker):
    path, info = tracker
    compare_pairs(store.connect(path))
    html, pdf = info["versions"]["test-act-html"][0], info["versions"]["test-act-pdf"][0]
    checks = rows(path, "SELECT * FROM pair_comparisons WHERE purpose = 'rendition'")
    assert [(c["old_version_id"], c["new_version_id"], c["document"]) for c in checks] == [(html, pdf, "test-act-2030")]
    assert not rows(path, "SELECT 1 FROM pair_comparisons WHERE purpose = 'pair' AND "
                          "old_version_id IN (?, ?) AND new_version_id IN (?, ?)", [html, pdf, html, pdf])
    disagreements = [c for c in pair_changes_of(store.connect(path), html, pdf) if c["substantive"]]
    assert len(disagreements) == 1 and "15 000 000" in disagreements[0]["old_text"]
    assert "35 000 000" in disagreements[0]["new_text"]


def test_pair_results_never_reach_changes_digests_feeds_or_counts(tracker):
    path, _ = tracker
    db = store.connect(path)
    before = (rows(path, "SELECT * FROM changes ORDER BY id"), rows(path, "SELECT * FROM change_comparisons ORDER BY id"),
              substantive_changes(db), feed_changes(db, {"filters": {}}))
    result = compare_pairs(db)
    assert result["pairs"] + result["renditions"] >= 2 and result["substantive"] >= 1
    after = (rows(path, "SELECT * FROM changes ORDER BY id"), rows(path, "SELECT * FROM change_comparisons ORDER BY id"),
             substantive_changes(db), feed_changes(db, {"filters": {}}))
    assert after == before


def test_the_step_is_incremental_and_a_new_version_adds_only_its_pairs(tracker):
    path, info = tracker
    db = store.connect(path)
    compare_pairs(db)
    assert planned_pairs(db) == []
    again = compare_pairs(db)
    assert again["pairs"] == again["renditions"] == 0
    # a new version of release 3: paired with every earlier version of the family but the one it replaces
    from clausewatch.db.documents import Fetched, record_document
    from clausewatch.stages.detect import detect_changes
    from clausewatch.stages.process import process_versions
    from tests.fixtures.site.tracker import licence_text

    pk = rows(path, "SELECT id FROM sources WHERE source_id = 'acme-3-license'")[0]["id"]
    text = licence_text(3).replace("500 million", "700 million")
    record_document(db, None, Fetched(source=pk, url="https://acme.example/license/3", requested_at="2025-09-01T06:00:00Z",
                                      http_status=200, outcome="new_version", body=text.encode()),
                    text=text, extractor_version="test", valid_from="2025-09-01")
    process_versions(db, progress=False)
    detect_changes(db)
    new_pairs = planned_pairs(db)
    family = family_versions(db, ["acme-license"])["acme-license"]
    assert len(new_pairs) == len(family) - 2 and all(p["new"]["id"] == family[-1]["id"] for p in new_pairs)


def test_a_new_detector_version_compares_again_and_replaces(tracker):
    path, _ = tracker
    db = store.connect(path)
    compare_pairs(db)
    count = len(rows(path, "SELECT * FROM pair_changes"))
    db.execute("UPDATE pair_comparisons SET detector_version = 'align0+nlp0'")
    redone = compare_pairs(db)
    assert redone["pairs"] + redone["renditions"] == len(rows(path, "SELECT * FROM pair_comparisons"))
    assert len(rows(path, "SELECT * FROM pair_changes")) == count
    assert not rows(path, "SELECT 1 FROM pair_comparisons WHERE detector_version = 'align0+nlp0'")


def test_max_versions_bounds_the_pairs_of_a_family(tracker):
    path, _ = tracker
    db = store.connect(path)
    assert [p for p in planned_pairs(db, max_versions=2) if p["purpose"] == "pair"] == []
    assert any(p["purpose"] == "pair" for p in planned_pairs(db, max_versions=3))


def test_process_runs_the_pairs_step_with_progress(tracker):
    path, _ = tracker
    proc = run_cli("process", "--db", str(path), check=True)
    assert "pair acme-1-license v1 vs acme-3-license v1" in proc.stderr
    assert "rendition check test-act-html v1 vs test-act-pdf v1: 1 substantive" in proc.stderr
    assert "compared 1 pairs of versions and 1 renditions for the site" in proc.stderr
    proc = run_cli("process", "--db", str(path), check=True)
    assert "compared 0 pairs of versions and 0 renditions" in proc.stderr
