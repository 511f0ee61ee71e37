"""Crashes and a full disk: the crawler killed with SIGKILL mid-run, the database's filesystem full (a tiny
tmpfs, when this system lets us mount one) or the database at its size limit (SQLite ``max_page_count``,
injected into the crawler process), and Datasette reading while the crawler writes.

After each: ``PRAGMA integrity_check`` ok, no half-written version (every version has its snapshot rows,
every fetch's version and snapshot exist), what was stored before intact, and a re-run completes without
duplicates.
"""
from __future__ import annotations

import asyncio
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests import processes

pytest.register_assert_rewrite("tests.faultserver")

from tests.conftest import ROOT, run_cli, write_source  # noqa: E402
from tests.faultserver import (  # noqa: E402
    FAST_CRAWL_ENV,
    FaultServer,
    by_phase,
    delayed,
    fault,
    ok,
    query,
    versions_of,
)

pytest_plugins = ["tests.faultserver"]  # fixtures: observed, and the fault matrix row of each test

WORDS = ("licence model weights grant use copy modify distribute attribution warranty liability termination "
         "restriction commercial research export law court notice patent trademark output derivative").split()


def licence_text(seed: int, words: int = 400) -> str:
    """A distinct licence-like text (random words: incompressible enough to fill a disk)."""
    rnd = random.Random(seed)
    clauses = [" ".join(rnd.choice(WORDS) for _ in range(40)).capitalize() + "." for _ in range(words // 40)]
    return f"Licence {seed}\n\n" + "\n\n".join(f"{i}. {c}" for i, c in enumerate(clauses, 1)) + "\n"


def check_consistent(db_file: Path) -> dict:
    """Integrity and the invariants of the store; returns counts."""
    assert query(db_file, "PRAGMA integrity_check")[0]["integrity_check"] == "ok"
    assert query(db_file, "PRAGMA foreign_key_check") == []
    orphans = query(db_file, """SELECT v.id FROM versions v WHERE NOT EXISTS (
                                  SELECT 1 FROM version_snapshots vs JOIN snapshots s ON s.id = vs.snapshot_id
                                  WHERE vs.version_id = v.id AND vs.ordinal = 0)""")
    assert orphans == [], f"versions without their snapshot: {orphans}"
    dangling = query(db_file, """SELECT f.id FROM fetches f
                                 WHERE (f.version_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM versions v
                                                                                 WHERE v.id = f.version_id))
                                    OR (f.snapshot_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM snapshots s
                                                                                  WHERE s.id = f.snapshot_id))""")
    assert dangling == [], f"fetches pointing at nothing: {dangling}"
    unfetched = query(db_file, """SELECT v.id FROM versions v
                                  WHERE NOT EXISTS (SELECT 1 FROM fetches f WHERE f.version_id = v.id)""")
    assert unfetched == [], f"versions no fetch produced: {unfetched}"
    empty = query(db_file, "SELECT id FROM versions WHERE trim(text) = ''")
    assert empty == []
    dupes = query(db_file, """SELECT source_id, text_sha256, COUNT(*) AS n FROM versions
                              GROUP BY source_id, text_sha256 HAVING n > 1""")
    assert dupes == [], f"duplicate versions: {dupes}"
    return {"versions": query(db_file, "SELECT COUNT(*) AS n FROM versions")[0]["n"],
            "fetches": query(db_file, "SELECT COUNT(*) AS n FROM fetches")[0]["n"]}


def crawl_env(sources: Path, db_file: Path, server: FaultServer) -> dict:
    return {**FAST_CRAWL_ENV, "CLAUSEWATCH_MAX_BYTES": str(4 * 1024 * 1024), "CLAUSEWATCH_SOURCES": str(sources),
            "CLAUSEWATCH_DB": str(db_file), "CLAUSEWATCH_ALLOW_LOCAL": f"{server.host}:{server.port}"}


# ---------------------------------------------------------------- SIGKILL

@fault("SIGKILL mid-crawl", "the crawler process killed with SIGKILL while a slow server feeds it 12 documents",
       "integrity ok, no half-written version; a re-run completes the rest without duplicates")
def test_sigkill_mid_crawl_leaves_a_consistent_store(tmp_path, observed, request):
    texts = {f"doc-{i:02d}": licence_text(i, 2000) for i in range(12)}
    with FaultServer() as server:
        sources = tmp_path / "sources"
        for sid, text in texts.items():
            write_source(sources, sid, server.route(f"/{sid}", by_phase(delayed(0.15, ok(text)), ok(text))))
        db_file = tmp_path / "cw.db"
        env = {**os.environ, **crawl_env(sources, db_file, server)}
        proc = processes.popen([sys.executable, "-m", "clausewatch", "crawl", "--no-process"], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        request.addfinalizer(lambda: processes.stop(proc))
        stored = 0
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            if db_file.exists():
                try:
                    stored = query(db_file, "SELECT COUNT(*) AS n FROM fetches")[0]["n"]
                except sqlite3.OperationalError:
                    stored = 0   # the schema is still being created
            if stored >= 4:
                break
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL, "the crawl ended before it could be killed"
        before = check_consistent(db_file)
        observed(f"killed after {before['fetches']} of 12 documents: integrity ok, "
                 f"{before['versions']} whole versions")
        assert 4 <= before["versions"] < 12
        assert query(db_file, "SELECT status FROM crawl_runs")[0]["status"] == "running"  # it never finished

        server.phase = 2
        again = run_cli("crawl", "--no-process", env=crawl_env(sources, db_file, server), timeout=120)
        assert again.returncode == 0, again.stderr[-2000:]
        after = check_consistent(db_file)
        assert after["versions"] == 12
        runs = query(db_file, "SELECT status, error FROM crawl_runs ORDER BY id")
        assert runs[0]["status"] == "interrupted" and "killed" in runs[0]["error"]  # closed by the re-run
        assert runs[1]["status"] == "ok"
        for sid, text in texts.items():
            assert [v["text"] for v in versions_of(db_file, sid)] == [text.strip("\n")]


# ---------------------------------------------------------------- full disk

@pytest.fixture(scope="module")
def baseline(tmp_path_factory):
    """Four sources crawled once (phase 1: small licences); in phase 2 three of them grow to ~450 KB."""
    tmp = tmp_path_factory.mktemp("disk")
    with FaultServer() as server:
        sources = tmp / "sources"
        write_source(sources, "small", server.route("/small", ok(licence_text(100, 200))))
        for i in range(3):
            big = licence_text(200 + i, 60_000)
            write_source(sources, f"big-{i}", server.route(f"/big-{i}", by_phase(ok(licence_text(300 + i, 200)),
                                                                                 ok(big))))
        db_file = tmp / "base.db"
        run_cli("crawl", "--no-process", env=crawl_env(sources, db_file, server), check=True, timeout=120)
        before = check_consistent(db_file)
        before["texts"] = {r["source_id"]: r["text"] for r in query(
            db_file, "SELECT s.source_id, v.text FROM versions v JOIN sources s ON s.id = v.source_id")}
        server.phase = 2
        yield {"sources": sources, "server": server, "db": db_file, "before": before}


def copy_db(source: Path, target: Path) -> Path:
    """A consistent copy of a WAL database (SQLite's backup API)."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()
    return target


def _assert_full_disk_handled(proc: subprocess.CompletedProcess, db_file: Path, before: dict, observed) -> None:
    lines = [line for line in proc.stderr.splitlines() if "error" in line.lower()]
    observed(f"exit {proc.returncode}: {lines[0] if lines else proc.stderr[-200:]}")
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert "full" in proc.stderr and str(db_file.name) in proc.stderr
    after = check_consistent(db_file)
    assert after["versions"] >= before["versions"]
    for sid, text in before["texts"].items():
        assert versions_of(db_file, sid)[0]["text"] == text, f"{sid}: earlier data changed"


def _can_mount_tmpfs(where: Path) -> bool:
    if os.geteuid() != 0 or not shutil.which("mount"):
        return False
    where.mkdir(parents=True, exist_ok=True)
    probe = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(where)], capture_output=True)
    if probe.returncode != 0:
        return False
    subprocess.run(["umount", str(where)], check=True)
    return True


@fault("disk full (tmpfs)", "the database on a 2 MB tmpfs; three ~450 KB documents arrive",
       "a clear one-line error, exit 2, nothing corrupted, earlier versions intact; a re-run after freeing space "
       "completes")
def test_full_disk_is_a_clear_error_and_corrupts_nothing(tmp_path, baseline, observed):
    mount_point = tmp_path / "tiny"
    if not _can_mount_tmpfs(mount_point):
        pytest.skip("cannot mount a tmpfs here (needs root); test_database_size_limit covers the same path")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount_point)], check=True)
    try:
        db_file = copy_db(baseline["db"], mount_point / "cw.db")
        env = crawl_env(baseline["sources"], db_file, baseline["server"])
        proc = run_cli("crawl", "--no-process", env=env, timeout=120)
        _assert_full_disk_handled(proc, db_file, baseline["before"], observed)
        subprocess.run(["mount", "-o", "remount,size=16m", str(mount_point)], check=True)   # free space
        again = run_cli("crawl", "--no-process", env=env, timeout=120)
        assert again.returncode == 0, again.stderr[-2000:]
        assert check_consistent(db_file)["versions"] == 4 + 3
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], capture_output=True)


# SQLite's per-connection size limit, set on every connection the crawler process opens
_LIMITED = """
import os, sqlite3, sys
_connect = sqlite3.connect
def connect(*args, **kwargs):
    conn = _connect(*args, **kwargs)
    conn.execute("PRAGMA max_page_count = " + os.environ["FAULT_MAX_PAGES"])
    return conn
sqlite3.connect = connect
from clausewatch.cli import main
sys.argv[0] = "clausewatch"
main()
"""


@fault("database size limit", "SQLite max_page_count injected into the crawler: ~400 KB of room, three ~450 KB "
       "documents arrive", "a clear one-line error, exit 2, nothing corrupted, earlier versions intact")
def test_database_size_limit_is_a_clear_error(tmp_path, baseline, observed):
    db_file = copy_db(baseline["db"], tmp_path / "cw.db")
    pages = query(db_file, "PRAGMA page_count")[0]["page_count"]
    env = {**os.environ, **crawl_env(baseline["sources"], db_file, baseline["server"]),
           "FAULT_MAX_PAGES": str(pages + 100)}
    proc = processes.run([sys.executable, "-c", _LIMITED, "crawl", "--no-process"], cwd=ROOT, env=env, timeout=120)
    _assert_full_disk_handled(proc, db_file, baseline["before"], observed)


# ---------------------------------------------------------------- Datasette reading while the crawler writes

@fault("Datasette reads during a crawl", "a thread queries Datasette (Python API) in a loop while a crawl writes "
       "20 documents", "zero 'database is locked' errors; the reader sees the versions arrive")
def test_datasette_reads_while_the_crawler_writes(tmp_path, observed):
    from datasette.app import Datasette

    from clausewatch.db import connect

    with FaultServer() as server:
        sources = tmp_path / "sources"
        for i in range(20):
            write_source(sources, f"doc-{i:02d}", server.route(f"/doc-{i:02d}", delayed(0.02, ok(licence_text(i, 2000)))))
        db_file = tmp_path / "cw.db"
        connect(db_file).close()   # the schema exists before Datasette opens the file
        ds = Datasette([str(db_file)])
        errors, seen, stop = [], [], threading.Event()

        async def read_loop():
            paths = ["/cw/versions.json?_shape=array&_col=id&_size=5", "/cw/fetches.json?_size=5",
                     "/cw.json?sql=select+count(*)+as+n+from+versions"]
            while not stop.is_set():
                for path in paths:
                    response = await ds.client.get(path)
                    if response.status_code != 200 or "locked" in response.text:
                        errors.append(f"{path}: {response.status_code} {response.text[:200]}")
                    elif "count" in path:
                        seen.append(response.json()["rows"][0][0])

        reader = threading.Thread(target=lambda: asyncio.run(read_loop()), daemon=True)
        reader.start()
        try:
            proc = run_cli("crawl", "--no-process", env=crawl_env(sources, db_file, server), timeout=120)
        finally:
            stop.set()
            reader.join(timeout=30)
        assert proc.returncode == 0, proc.stderr[-2000:]
        observed(f"{len(seen)} reads during the crawl, {len(errors)} errors; versions seen "
                 f"{min(seen, default=0)} -> {max(seen, default=0)}")
        assert errors == []
        assert len(set(seen)) >= 3, "the reads did not overlap the writes"
        assert check_consistent(db_file)["versions"] == 20


@fault("database cannot be opened", "--db under a regular file (cannot be created), and a file that is not SQLite",
       "one line naming the file, exit 2, no traceback; the file is left as it was")
def test_unusable_database_is_a_clear_error(tmp_path, observed):
    sources = tmp_path / "sources"
    write_source(sources, "terms", "https://example.org/terms")
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    not_sqlite = tmp_path / "notes.db"
    not_sqlite.write_bytes(b"these are my notes, not a database" * 100)
    lines = []
    for db_file in (blocker / "cw.db", not_sqlite):
        out = run_cli("crawl", "--no-process", env={"CLAUSEWATCH_SOURCES": str(sources), "CLAUSEWATCH_DB": str(db_file)})
        lines.append(out.stderr.strip().replace(str(tmp_path), "…"))
        assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr[-2000:]
        assert out.stderr.startswith("clausewatch: error: ") and str(db_file) in out.stderr
    observed(" / ".join(lines))
    assert not_sqlite.read_bytes() == b"these are my notes, not a database" * 100
