"""The crawl over real HTTP: a replay of a tiny corpus, and a live crawl of a local server."""
from __future__ import annotations

import http.server
import threading

import pytest

from clausewatch.db import connect
from tests.conftest import write_corpus, write_source

TERMS_V1 = "Example Terms\n\n1. You may use the model.\n\n2. You must not use it for weapons.\n"
TERMS_V2 = "Example Terms\n\n1. You may use and modify the model.\n\n2. You must not use it for weapons.\n"


@pytest.fixture
def tiny(tmp_path):
    corpus = write_corpus(tmp_path / "corpus", {
        "terms/2024-01-01.txt": ("2024-01-01", TERMS_V1),
        "terms/2025-03-01.txt": ("2025-03-01", TERMS_V2),
        "policy/2024-05-01.md": ("2024-05-01", "# Policy\n\nDo not harm people.\n"),
    })
    sources = tmp_path / "sources"
    write_source(sources, "example-terms", "https://example.org/terms", replay=["terms/2024-01-01.txt",
                                                                               "terms/2025-03-01.txt"])
    write_source(sources, "example-policy", "https://example.org/policy.md", fmt="markdown",
                 replay=["policy/2024-05-01.md"], kind="use-policy")
    write_source(sources, "example-unreplayed", "https://example.org/none")
    env = {"CLAUSEWATCH_SOURCES": str(sources), "CLAUSEWATCH_DB": str(tmp_path / "cw.db")}
    return corpus, env, tmp_path / "cw.db"


def versions(db_file, source_id):
    db = connect(db_file)
    return list(db.query("""SELECT v.* FROM versions v JOIN sources s ON s.id = v.source_id
                            WHERE s.source_id = ? ORDER BY seq""", [source_id]))


def test_replay_stores_history_and_second_run_stores_nothing(tiny, cli):
    corpus, env, db_file = tiny
    first = cli("crawl", "--replay", str(corpus), "--no-process", env=env, check=True)
    assert "skipped example-unreplayed: no file in the replay corpus" in first.stderr
    terms = versions(db_file, "example-terms")
    assert [v["valid_from"] for v in terms] == ["2024-01-01", "2025-03-01"]
    assert "modify" in terms[1]["text"] and terms[1]["previous_id"] == terms[0]["id"]
    assert len(versions(db_file, "example-policy")) == 1

    cli("crawl", "--replay", str(corpus), "--no-process", env=env, check=True)
    db = connect(db_file)
    runs = list(db.query("SELECT * FROM crawl_runs ORDER BY id"))
    assert runs[1]["new_versions"] == 0 and runs[1]["not_modified"] == 2
    assert db.execute("SELECT COUNT(*) FROM versions").fetchone()[0] == 3
    # every attempt is recorded, with its HTTP status and validators
    statuses = [r[0] for r in db.execute("SELECT http_status FROM fetches WHERE run_id = ?", [runs[1]["id"]])]
    assert statuses == [304, 304]
    assert db.execute("SELECT COUNT(*) FROM snapshots").fetchone()[0] == 3


def test_as_of_replays_history_step_by_step(tiny, cli):
    corpus, env, db_file = tiny
    cli("crawl", "--replay", str(corpus), "--as-of", "2024-06-01", "--no-process", env=env, check=True)
    assert [v["valid_from"] for v in versions(db_file, "example-terms")] == ["2024-01-01"]
    cli("crawl", "--replay", str(corpus), "--as-of", "2025-12-31", "--no-process", env=env, check=True)
    assert [v["valid_from"] for v in versions(db_file, "example-terms")] == ["2024-01-01", "2025-03-01"]


def test_as_of_before_first_publication_skips_the_source(tiny, cli):
    corpus, env, db_file = tiny
    out = cli("crawl", "--replay", str(corpus), "--as-of", "2024-02-01", "--no-process", env=env, check=True)
    assert "example-policy: not yet published on 2024-02-01" in out.stderr
    assert versions(db_file, "example-policy") == []


def test_unknown_source_and_bad_date_are_clear_errors(tiny, cli):
    corpus, env, _ = tiny
    out = cli("crawl", "--replay", str(corpus), "--source", "nope", env=env)
    assert out.returncode == 2 and "unknown source id(s): nope" in out.stderr
    out = cli("crawl", "--replay", str(corpus), "--as-of", "2024-13-01", env=env)
    assert out.returncode == 2 and "not a date" in out.stderr
    out = cli("crawl", "--replay", str(corpus.parent / "missing"), env=env)
    assert out.returncode == 2 and "not a corpus folder" in out.stderr


class _Site(http.server.BaseHTTPRequestHandler):
    """A live site with ETags, a robots.txt that forbids /private, and a page that changes."""

    pages: dict[str, bytes] = {}
    hits: list[tuple[str, str | None]] = []

    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802
        self.hits.append((self.path, self.headers.get("If-None-Match")))
        if self.path == "/robots.txt":
            body = b"User-agent: *\nDisallow: /private\n"
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        body = self.pages.get(self.path)
        if body is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        etag = f'"{hash(body) & 0xffffffff:x}"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.send_header("ETag", etag)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("ETag", etag)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def site():
    _Site.pages = {"/terms": TERMS_V1.encode(), "/private/terms": TERMS_V1.encode()}
    _Site.hits = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Site)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_live_crawl_is_conditional_and_obeys_robots(tmp_path, site, cli):
    sources = tmp_path / "sources"
    write_source(sources, "live-terms", f"{site}/terms")
    write_source(sources, "live-private", f"{site}/private/terms")
    write_source(sources, "live-gone", f"{site}/gone")
    env = {"CLAUSEWATCH_SOURCES": str(sources), "CLAUSEWATCH_DB": str(tmp_path / "cw.db"),
           "CLAUSEWATCH_ALLOW_LOCAL": "1"}
    cli("crawl", "--no-process", env=env)
    db = connect(tmp_path / "cw.db")
    state = {r["source_id"]: r for r in db.query("SELECT * FROM sources")}
    assert state["live-terms"]["status"] == "ok" and state["live-terms"]["etag"]
    assert state["live-private"]["status"] == "error"
    assert "robots.txt" in state["live-private"]["last_error"]
    assert state["live-gone"]["status"] == "gone" and "404" in state["live-gone"]["last_error"]
    assert not any(path == "/private/terms" for path, _ in _Site.hits)

    cli("crawl", "--no-process", "--source", "live-terms", env=env, check=True)
    conditional = [etag for path, etag in _Site.hits if path == "/terms"]
    assert conditional[-1] == state["live-terms"]["etag"]
    _Site.pages["/terms"] = TERMS_V2.encode()
    cli("crawl", "--no-process", "--source", "live-terms", env=env, check=True)
    assert len(versions(tmp_path / "cw.db", "live-terms")) == 2


def test_local_urls_are_refused_unless_allowed(tmp_path, site, cli):
    sources = tmp_path / "sources"
    write_source(sources, "live-terms", f"{site}/terms")
    env = {"CLAUSEWATCH_SOURCES": str(sources), "CLAUSEWATCH_DB": str(tmp_path / "cw.db"),
           "CLAUSEWATCH_ALLOW_LOCAL": ""}
    out = cli("crawl", "--no-process", env=env)
    assert "local or private address" in out.stderr
    assert _Site.hits == []


def test_every_request_waiting_for_robots_txt_is_checked(tmp_path, site, cli):
    # several sources of one host wait together for its robots.txt; Scrapy 2.14+ let all but the first through
    sources = tmp_path / "sources"
    for n in range(3):
        _Site.pages[f"/terms{n}"] = TERMS_V1.encode()
        _Site.pages[f"/private/terms{n}"] = TERMS_V1.encode()
        write_source(sources, f"open-{n}", f"{site}/terms{n}")
        write_source(sources, f"private-{n}", f"{site}/private/terms{n}")
    env = {"CLAUSEWATCH_SOURCES": str(sources), "CLAUSEWATCH_DB": str(tmp_path / "cw.db"),
           "CLAUSEWATCH_ALLOW_LOCAL": "1"}
    cli("crawl", "--no-process", env=env)
    assert not [path for path, _ in _Site.hits if path.startswith("/private")]
    db = connect(tmp_path / "cw.db")
    errors = {r[0]: r[1] for r in db.execute("SELECT source_id, last_error FROM sources WHERE status = 'error'")}
    assert sorted(errors) == ["private-0", "private-1", "private-2"]
    assert all("robots.txt" in e for e in errors.values())


def test_no_remote_control_server_is_started_by_a_crawl():
    # Scrapy 2.19 would start an HTTP server executing code sent to it on every crawl: never for the tracker
    from clausewatch.crawlers.settings import cluster_settings, crawl_settings

    for settings in (crawl_settings(db_path="x.db", run_id=1), cluster_settings(redis_url="redis://127.0.0.1:1/0", worker_id="w1")):
        assert settings["REMOTE_CONTROL_ENABLED"] is False
        assert "scrapy.extensions.remote_control.RemoteControl" not in settings["EXTENSIONS_BASE"]
        assert not any("remote_control" in name for name in settings["EXTENSIONS"])
        assert "scrapy.extensions.corestats.CoreStats" in settings["EXTENSIONS_BASE"]   # the rest stays


def test_an_in_process_crawl_gives_back_the_callers_ctrl_c(tiny):
    # Scrapy installs its own SIGINT/SIGTERM handlers; a program (or test session) that crawls in its own
    # process must still stop on Ctrl-C afterwards. A fresh interpreter: Twisted's reactor runs once.
    import os
    import subprocess
    import sys

    corpus, env, _db = tiny
    script = (
        "import signal, sys\n"
        "from pathlib import Path\n"
        "from clausewatch.stages.crawl import run_crawl\n"
        "def mine(*args):\n"
        "    pass\n"
        "signal.signal(signal.SIGINT, mine)\n"     # our own handlers: a background shell may have ignored SIGINT
        "signal.signal(signal.SIGTERM, mine)\n"
        "run = run_crawl(Path(sys.argv[1]), replay_dir=Path(sys.argv[2]), progress=False)\n"
        "assert run['status'] == 'ok', run\n"
        "assert signal.getsignal(signal.SIGINT) is mine, signal.getsignal(signal.SIGINT)\n"
        "assert signal.getsignal(signal.SIGTERM) is mine, signal.getsignal(signal.SIGTERM)\n"
        "print('handlers restored')\n")
    done = subprocess.run([sys.executable, "-c", script, env["CLAUSEWATCH_DB"], str(corpus)], capture_output=True,
                          text=True, env={**os.environ, **env}, timeout=300)
    assert done.returncode == 0 and "handlers restored" in done.stdout, done.stderr[-2000:]
