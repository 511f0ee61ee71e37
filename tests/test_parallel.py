"""The pool processes of the CPU-heavy steps: the same results as one process, and a pool process that dies
leaves its work to this process (nothing lost, nothing stored twice)."""
from __future__ import annotations

import os
import signal
import sqlite3

import pytest

from clausewatch.stages import parallel, process
from tests.conftest import store_texts

TEXTS = {
    "alpha-terms": "Alpha Licence\n\n1. You may use, copy and modify the model for any purpose.\n\n"
                   "2. You must not use the outputs to train another model.\n",
    "beta-terms": "Beta Licence\n\n1. Use is limited to research and evaluation purposes only.\n\n"
                  "2. If you have more than 700 million monthly active users you need another licence.\n",
    "gamma-terms": "Gamma Policy\n\nYou agree not to use the model to:\n\n1. build weapons;\n\n2. track people.\n",
    "delta-terms": "Delta Terms\n\n1. This agreement is governed by the laws of Ireland.\n\n"
                   "2. We may update these terms at any time.\n",
}


def store(path):
    return store_texts(path, TEXTS, month="2024-02")


def stored(path) -> list[tuple]:
    conn = sqlite3.connect(path)
    return conn.execute("""SELECT s.source_id, c.ordinal, c.path, c.text, c.tags, t.tag, t.evidence
                           FROM clauses c JOIN versions v ON v.id = c.version_id JOIN sources s ON s.id = v.source_id
                           LEFT JOIN clause_tags t ON t.clause_id = c.id ORDER BY 1, 2, 6""").fetchall()


@pytest.fixture
def fresh_pool(monkeypatch):
    monkeypatch.setenv("CLAUSEWATCH_PROCESSES", "2")
    monkeypatch.setattr(parallel, "MIN_PARALLEL_CHARS", 0)     # these small texts go to the pool too
    monkeypatch.setattr(parallel, "_broken", False)
    parallel.shutdown()
    yield
    parallel.shutdown()


def test_the_pool_stores_what_one_process_stores(tmp_path, monkeypatch, fresh_pool):
    pooled = process.process_versions(store(tmp_path / "parallel.db"), progress=False)
    assert pooled["processes"] == 2 and pooled["versions"] == 4 and pooled["failed"] == []
    monkeypatch.setenv("CLAUSEWATCH_PROCESSES", "1")
    parallel.shutdown()
    serial = process.process_versions(store(tmp_path / "serial.db"), progress=False)
    assert serial["processes"] == 0
    assert stored(tmp_path / "parallel.db") == stored(tmp_path / "serial.db")
    assert {row[5] for row in stored(tmp_path / "parallel.db")} >= {"grant.use", "restrict.output_use",
                                                                    "restrict.noncommercial", "terms.governing_law"}


def test_early_analyses_are_used_and_a_dead_pool_process_loses_nothing(tmp_path, fresh_pool):
    db = store(tmp_path / "cw.db")
    early = process.EarlyAnalyses()
    ids = [r[0] for r in db.execute("SELECT id FROM versions ORDER BY id")]
    for version_id in ids[:2]:
        early(version_id=version_id, text=db.execute("SELECT text FROM versions WHERE id = ?",
                                                     [version_id]).fetchone()[0])
    assert set(early.futures) == set(ids[:2])
    for future in early.futures.values():
        future.result(timeout=120)
    # every pool process is killed (out of memory, an operator): the analyses not done yet are done here
    for pid in list(parallel.pool()._processes):
        os.kill(pid, signal.SIGKILL)
    result = process.process_versions(db, progress=False, early=early)
    assert result["versions"] == 4 and result["failed"] == []
    counts = dict(db.execute("""SELECT v.id, count(c.id) FROM versions v LEFT JOIN clauses c ON c.version_id = v.id
                                GROUP BY v.id""").fetchall())
    assert all(n > 0 for n in counts.values()), counts
    assert db.execute("SELECT count(*) FROM versions WHERE pipeline_version IS NULL").fetchone()[0] == 0
    again = process.process_versions(db, progress=False)
    assert again["versions"] == 0


def test_submit_soon_hands_jobs_over_and_never_hangs_when_the_pool_breaks(fresh_pool):
    from concurrent.futures.process import BrokenProcessPool

    from clausewatch.nlp import analyse
    from clausewatch.stages import parallel_tasks

    futures = [parallel.submit_soon(parallel_tasks.analysed_rows, TEXTS["alpha-terms"]) for _ in range(3)]
    rows = [f.result(timeout=120) for f in futures]
    assert rows[0] == rows[1] == rows[2] == process.clause_rows(analyse(TEXTS["alpha-terms"]))
    # the pool breaks: jobs handed over afterwards fail with BrokenProcessPool (the caller runs them
    # itself) instead of waiting forever, and no new pool is started behind the caller's back
    late = parallel.submit_soon(parallel_tasks.ready)
    parallel.mark_broken()
    try:
        late.result(timeout=120)
    except BrokenProcessPool:
        pass
    assert parallel.submit_soon(parallel_tasks.ready) is None and parallel.active_processes() == 0


def test_a_text_analysed_during_detection_is_analysed_by_the_pool_when_it_runs(fresh_pool, monkeypatch):
    # the writer process leaves spaCy to the pool (a template's text, a version of an older pipeline)
    import clausewatch.nlp
    from clausewatch.stages import parallel_tasks
    from clausewatch.stages.detect import version_clauses

    expected = clausewatch.nlp.analyse(TEXTS["beta-terms"])
    parallel.submit(parallel_tasks.ready).result(timeout=120)
    assert parallel.active_processes() == 2

    def not_here(text):
        raise AssertionError("analysed in the writer process")

    monkeypatch.setattr(clausewatch.nlp, "analyse", not_here)
    assert version_clauses(None, {"id": "template:x", "text": TEXTS["beta-terms"]}) == expected


def test_the_pool_size_setting_and_its_former_name(monkeypatch):
    monkeypatch.delenv("CLAUSEWATCH_PROCESSES", raising=False)
    monkeypatch.setenv("CLAUSEWATCH_WORKERS", "3")      # the previous release's name is still read
    assert parallel.process_count() == 3
    monkeypatch.setenv("CLAUSEWATCH_PROCESSES", "1")
    assert parallel.process_count() == 1 and parallel.pool() is None
    monkeypatch.setenv("CLAUSEWATCH_PROCESSES", "many")
    assert parallel.process_count() == 1


def test_close_stops_the_pool_and_its_forkserver(fresh_pool):
    from multiprocessing import forkserver

    from clausewatch.stages import parallel_tasks

    parallel.submit(parallel_tasks.ready).result(timeout=120)
    pids = list(parallel.pool()._processes)
    server = forkserver._forkserver._forkserver_pid
    assert pids and server
    parallel.close()
    for pid in [*pids, server]:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
