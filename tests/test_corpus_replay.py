"""The real spiders over HTTP against a replay of ../shared/corpus (path from CLAUSEWATCH_CORPUS)."""
from __future__ import annotations

import pytest

from clausewatch.crawlers.registry import load_registry
from clausewatch.db import connect
from clausewatch.stages.coverage import corpus_coverage

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def replayed(corpus, tmp_path_factory):
    """One full replay (fetch + extract + store + process) and an unchanged second run."""
    from tests.conftest import run_cli

    db_file = tmp_path_factory.mktemp("replay") / "cw.db"
    env = {"CLAUSEWATCH_DB": str(db_file)}
    first = run_cli("crawl", "--replay", str(corpus), env=env, check=True)
    second = run_cli("crawl", "--replay", str(corpus), env=env, check=True)
    return db_file, first, second


def test_first_replay_stores_nearly_every_corpus_file(replayed, corpus):
    db_file, first, _ = replayed
    rows = corpus_coverage(connect(db_file), corpus, load_registry())
    stored = [r for r in rows if r["status"] == "stored"]
    others = [r for r in rows if r["status"] != "stored"]
    assert len(stored) >= 60, "\n".join(f"{r['path']}: {r['reason']}" for r in others)
    for row in others:  # each file not stored has a reason that is not an error
        assert row["status"] in ("fetched", "not mapped"), row


def test_second_replay_stores_nothing_new(replayed):
    db_file, _, second = replayed
    db = connect(db_file)
    runs = list(db.query("SELECT * FROM crawl_runs ORDER BY id"))
    assert len(runs) == 2 and runs[1]["new_versions"] == 0 and runs[1]["technical"] == 0
    assert runs[1]["errors"] == 0
    assert runs[1]["requests"] == runs[1]["sources"]  # one conditional request per source, no parts


def test_every_version_has_clauses_tags_and_entities(replayed):
    db = connect(replayed[0])
    unprocessed = db.execute("SELECT COUNT(*) FROM versions WHERE pipeline_version IS NULL").fetchone()[0]
    assert unprocessed == 0
    without_clauses = list(db.query(
        "SELECT id FROM versions v WHERE NOT EXISTS (SELECT 1 FROM clauses c WHERE c.version_id = v.id)"))
    assert without_clauses == []
    assert db.execute("SELECT COUNT(DISTINCT tag) FROM clause_tags").fetchone()[0] >= 30
    assert db.execute("SELECT COUNT(DISTINCT type) FROM entities").fetchone()[0] == 8


def test_no_source_errors_in_replay(replayed):
    db = connect(replayed[0])
    errors = list(db.query("SELECT source_id, last_error FROM sources WHERE status IN ('error', 'gone')"))
    assert errors == []


def test_as_of_history_adds_the_new_gemma_terms(corpus, tmp_path, cli):
    env = {"CLAUSEWATCH_DB": str(tmp_path / "cw.db")}
    cli("crawl", "--replay", str(corpus), "--as-of", "2024-06-01", "--source", "gemma-terms", "--no-process",
        env=env, check=True)
    cli("crawl", "--replay", str(corpus), "--as-of", "2025-12-31", "--source", "gemma-terms", "--no-process",
        env=env, check=True)
    db = connect(tmp_path / "cw.db")
    days = [r[0] for r in db.execute("""SELECT v.valid_from FROM versions v JOIN sources s ON s.id = v.source_id
                                        WHERE s.source_id = 'gemma-terms' ORDER BY v.seq""")]
    assert days == ["2024-02-21", "2025-03-24"]
