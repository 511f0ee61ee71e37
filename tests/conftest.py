"""Shared fixtures: the corpus folder, a CLI runner that starts real processes, tiny corpora."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests import processes

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True, scope="session")
def private_analysis_cache(tmp_path_factory):
    """The tests' analysis cache (`diff`, `tag`) is theirs alone, never the user's ~/.cache."""
    os.environ["CLAUSEWATCH_CACHE_DIR"] = str(tmp_path_factory.mktemp("analysis-cache"))
    yield


def corpus_path() -> Path:
    return Path(os.environ.get("CLAUSEWATCH_CORPUS", ROOT.parent / "shared" / "corpus"))


@pytest.fixture(scope="session")
def corpus() -> Path:
    path = corpus_path()
    if not (path / "MANIFEST.yaml").is_file():
        pytest.skip(f"corpus not found at {path} (set CLAUSEWATCH_CORPUS)")
    return path


def run_cli(*args: str, env: dict | None = None, check: bool = False, timeout: float = 600,
            input: str | None = None) -> subprocess.CompletedProcess:
    """Run `clausewatch ARGS` in a real subprocess (Scrapy's reactor cannot restart in one process)."""
    full_env = {**os.environ, **(env or {})}
    proc = processes.run([sys.executable, "-m", "clausewatch", *args], env=full_env, timeout=timeout, cwd=ROOT,
                         input=input)
    if check and proc.returncode != 0:
        raise AssertionError(f"clausewatch {' '.join(args)} exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    return proc


@pytest.fixture
def cli():
    return run_cli


@pytest.fixture
def spawn():
    """Start processes (``subprocess.Popen`` arguments) that are stopped, with their children, after the test."""
    started = []

    def start(args, **kwargs):
        proc = processes.popen(args, **kwargs)
        started.append(proc)
        return proc

    yield start
    for proc in started:
        processes.stop(proc)


def pytest_sessionfinish(session, exitstatus):
    from clausewatch.stages import parallel

    parallel.close()    # the pool (and forkserver) of in-process tests: stopped, not left to notice our exit
    left = processes.reap()
    if left:
        print(f"\nconftest: killed {len(left)} process(es) a test left running: {left}", file=sys.stderr)


def store_texts(db_file, texts: dict[str, str], month: str = "2024-01"):
    """A database holding one licence source per ``texts`` entry (source id -> text), each with one stored
    version, fetched on consecutive days of ``month``; returns the open database."""
    from clausewatch.db import connect
    from clausewatch.db.documents import record_document, source_pk, sync_sources
    from clausewatch.db.records import Fetched

    db = connect(db_file)
    sync_sources(db, [{"source_id": sid, "title": sid, "url": f"https://example.org/{sid}", "format": "text",
                       "family": sid, "kind": "license", "jurisdiction": "global"} for sid in texts])
    for day, (sid, text) in enumerate(texts.items(), 1):
        record_document(db, None, Fetched(source=source_pk(db, sid), url=f"https://example.org/{sid}",
                                          requested_at=f"{month}-{day:02d}T06:00:00Z", http_status=200,
                                          outcome="new_version", body=text.encode()),
                        text=text, extractor_version="test", valid_from=f"{month}-{day:02d}")
    return db


def write_source(directory: Path, source_id: str, url: str, *, fmt: str = "text", replay: list[str] | None = None,
                 family: str | None = None, kind: str = "license", extra: str = "") -> Path:
    """Write a minimal valid declaration into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    lines = f"""
        id: {source_id}
        title: Test source {source_id}
        publisher: Test Publisher
        jurisdiction: global
        kind: {kind}
        family: {family or source_id}
        version: "1"
        url: {url}
        format: {fmt}
        schedule: "0 6 * * *"
        """
    text = textwrap.dedent(lines)
    if replay:
        text += "replay: [" + ", ".join(replay) + "]\n"
    path = directory / f"{source_id}.yaml"
    path.write_text(text + textwrap.dedent(extra))
    return path


def write_corpus(directory: Path, files: dict[str, tuple[str, str | bytes]]) -> Path:
    """A tiny corpus: {relative path: (date, content)} plus its MANIFEST.yaml."""
    import yaml

    entries = []
    for rel, (date, content) in files.items():
        path = directory / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content.encode() if isinstance(content, str) else content)
        entries.append({"path": rel, "date": date})
    (directory / "MANIFEST.yaml").write_text(yaml.safe_dump({"files": entries}))
    return directory


@pytest.fixture(scope="session")
def corpus_site_db(tmp_path_factory, corpus) -> Path:
    """A tracker database built from the corpus by a real `clausewatch crawl --replay` (fetch, extract, NLP,
    change detection, pairs), once per session, for the site's tests."""
    path = tmp_path_factory.mktemp("corpus-site") / "clausewatch.db"
    run_cli("crawl", "--replay", str(corpus), "--db", str(path), "--quiet", check=True,
            env={"CLAUSEWATCH_CONFIG": str(path.parent / "none.toml")})
    return path


@pytest.fixture
def redis_server(tmp_path):
    """A real redis-server on 127.0.0.1 (a free port, no persistence), stopped pass or fail."""
    from tests.redisserver import RedisServer, redis_available

    why = redis_available()
    if why:
        pytest.skip(why)
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()
