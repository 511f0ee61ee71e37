"""Cluster mode (real redis-server, real worker and writer processes) stores what a single-process crawl
stores: conditional requests, Formex packages fetched part by part, robots.txt, retries, discovery,
replayed histories; the scheduler daemon produces the jobs; a job queued twice in a cycle is fetched once."""
from __future__ import annotations

import http.server
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from clausewatch.db import connect
from tests.conftest import ROOT, write_corpus, write_source
from tests.test_crawl import TERMS_V1, TERMS_V2
from tests.test_discovery import declare_discovery

FORMEX = ROOT / "tests" / "fixtures" / "extract" / "formex"
CLI = [sys.executable, "-m", "clausewatch"]


class Site(http.server.BaseHTTPRequestHandler):
    """ETags, a robots.txt that forbids /private, a Formex package, a page that fails once (503) then works."""

    pages: dict[str, bytes] = {}
    hits: list[str] = []
    failures_left: dict[str, int] = {}
    lock = threading.Lock()

    def log_message(self, *args):
        pass

    def _send(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802
        with self.lock:
            self.hits.append(self.path)
            failing = self.failures_left.get(self.path, 0)
            if failing:
                self.failures_left[self.path] = failing - 1
        if self.path == "/robots.txt":
            return self._send(200, b"User-agent: *\nDisallow: /private\n")
        if self.path == "/moved":
            return self._send(301, headers={"Location": "/flaky"})
        if failing:
            return self._send(503, b"busy", {"Retry-After": "0"})
        body = self.pages.get(self.path)
        if body is None:
            return self._send(404)
        etag = f'"{hash(body) & 0xffffffff:x}"'
        if self.headers.get("If-None-Match") == etag:
            return self._send(304, headers={"ETag": etag})
        return self._send(200, body, {"ETag": etag, "Content-Type": "text/plain; charset=utf-8"})


@pytest.fixture
def site():
    Site.pages = {"/terms": TERMS_V1.encode(), "/private/terms": TERMS_V1.encode(),
                  "/flaky": b"Flaky Terms\n\n1. You may use the model after a retry.\n"}
    for path in FORMEX.iterdir():
        Site.pages[f"/oj/{path.name}"] = path.read_bytes()
    Site.hits, Site.failures_left = [], {"/flaky": 1}
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Site)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def declare(sources: Path, site_url: str) -> None:
    write_source(sources, "terms", f"{site_url}/terms")
    write_source(sources, "private", f"{site_url}/private/terms")
    write_source(sources, "gone", f"{site_url}/gone")
    write_source(sources, "flaky", f"{site_url}/flaky")
    write_source(sources, "act", f"{site_url}/oj/L_209900001EN.doc.fmx.xml", fmt="xml", kind="regulation")
    write_source(sources, "moved", f"{site_url}/moved")


def cluster_env(tmp_path: Path, redis_url: str, name: str) -> dict[str, str]:
    return {"CLAUSEWATCH_SOURCES": str(tmp_path / "sources"), "CLAUSEWATCH_DB": str(tmp_path / f"{name}.db"),
            "CLAUSEWATCH_ALLOW_LOCAL": "1", "CLAUSEWATCH_REDIS_URL": redis_url, "CLAUSEWATCH_DOWNLOAD_DELAY": "0.05",
            "CLAUSEWATCH_RETRY_BASE_DELAY": "0.05", "CLAUSEWATCH_WORKER_TTL": "3"}


def drain(spawn, env: dict, *, workers: int = 2, extra: tuple[str, ...] = (), timeout: float = 120) -> None:
    """Run workers and the writer until the queue is empty and everything is stored."""
    import os

    full = {**os.environ, **env}
    # workers never open the database: given one in a folder that does not exist, they would create it
    no_db = {**full, "CLAUSEWATCH_DB": str(Path(env["CLAUSEWATCH_DB"]).parent / "workers-never-open-this" / "x.db")}
    procs = [spawn([*CLI, "worker", "--exit-when-idle", "1.5", "-q", *extra], env=no_db, cwd=ROOT)
             for _ in range(workers)]
    procs.append(spawn([*CLI, "store", "--exit-when-idle", "2", "-q"], env=full, cwd=ROOT))
    deadline = time.monotonic() + timeout
    for proc in procs:
        proc.wait(max(1, deadline - time.monotonic()))
        assert proc.returncode == 0, f"{proc.args} exited {proc.returncode}"


def summary(db_file: Path) -> dict[str, tuple]:
    db = connect(db_file)
    result = {}
    for row in db.query("SELECT * FROM sources ORDER BY source_id"):
        texts = [r[0] for r in db.execute("SELECT text FROM versions WHERE source_id = ? ORDER BY seq", [row["id"]])]
        outcomes = [r[0] for r in db.execute("SELECT outcome FROM fetches WHERE source_id = ? AND part IS NULL "
                                             "ORDER BY id", [row["id"]])]
        parts = db.execute("SELECT COUNT(*) FROM fetches WHERE source_id = ? AND part IS NOT NULL",
                           [row["id"]]).fetchone()[0]
        error = (row["last_error"] or "").split(":")[0]
        result[row["source_id"]] = (row["status"], texts, outcomes, parts, error)
    return result


def test_a_cluster_stores_what_a_single_process_crawl_stores(tmp_path, site, redis_server, cli, spawn):
    declare(tmp_path / "sources", site)
    single = cluster_env(tmp_path, "", "single")
    del single["CLAUSEWATCH_REDIS_URL"]
    cluster = cluster_env(tmp_path, redis_server.url, "cluster")

    cli("crawl", "--no-process", env=single)
    Site.failures_left = {"/flaky": 1}
    out = cli("enqueue", env=cluster, check=True)
    assert "queued 6 jobs" in out.stderr
    drain(spawn, cluster)
    first = summary(tmp_path / "single.db")
    assert summary(tmp_path / "cluster.db") == first
    assert first["act"][0] == "ok" and first["act"][3] == 2 and "ANNEX I" in first["act"][1][0]
    assert first["flaky"][:2] == ("ok", [Site.pages["/flaky"].decode().strip()])
    assert first["private"][0] == "error" and first["gone"][0] == "gone"
    assert "/private/terms" not in Site.hits

    # the next cycle: conditional requests (304), one changed document
    Site.pages["/terms"] = TERMS_V2.encode()
    cli("crawl", "--no-process", env=single)
    cli("enqueue", "--cycle", "next", env=cluster, check=True)
    drain(spawn, cluster, workers=1)
    second = summary(tmp_path / "single.db")
    assert summary(tmp_path / "cluster.db") == second
    assert second["terms"][2] == ["new_version", "new_version"] and len(second["terms"][1]) == 2
    assert second["act"][2] == ["new_version", "not_modified"]
    db = connect(tmp_path / "cluster.db")
    assert first["moved"][:2] == ("ok", first["flaky"][1])        # followed, like a retry, by any worker
    assert db.execute("SELECT COUNT(*) FROM stored_items").fetchone()[0] == 12
    assert [r[0] for r in db.execute("SELECT mode FROM crawl_runs")] == ["cluster", "cluster"]
    assert not (tmp_path / "workers-never-open-this").exists()


def test_a_job_queued_twice_in_a_cycle_is_fetched_once(tmp_path, site, redis_server, cli, spawn):
    write_source(tmp_path / "sources", "terms", f"{site}/terms")
    env = cluster_env(tmp_path, redis_server.url, "cw")
    cli("enqueue", "--cycle", "c1", env=env, check=True)
    again = cli("enqueue", "--cycle", "c1", env=env, check=True)
    assert "queued 0 jobs" in again.stderr and "1 already queued in this cycle" in again.stderr
    from clausewatch.crawlers.frontier import Frontier

    Frontier(redis_server.client()).push("127.0.0.1", b"\x80 not a request")   # a broken entry, kept for people
    drain(spawn, env, workers=2)
    dead = redis_server.client().xrange("clausewatch:items:dead")
    assert len(dead) == 1 and dead[0][1][b"id"].startswith(b"unreadable:")
    cli("enqueue", "--cycle", "c1", env=env, check=True)   # after it was fetched, too
    forced = cli("enqueue", "--force", env=env, check=True)
    assert "queued 1 jobs" in forced.stderr
    drain(spawn, env, workers=1)
    assert Site.hits.count("/terms") == 2
    db = connect(tmp_path / "cw.db")
    assert [r[0] for r in db.execute("SELECT outcome FROM fetches")] == ["new_version", "not_modified"]


def test_discovery_in_a_cluster(tmp_path, site, redis_server, cli, spawn):
    sources = tmp_path / "sources"
    write_source(sources, "model-1-license", f"{site}/models/model1/LICENSE", family="model-license")
    declare_discovery(sources, site)
    tree = {"tree": [{"path": "models/model1/LICENSE"}, {"path": "models/model2_1/LICENSE"}]}
    Site.pages.update({"/tree.json": json.dumps(tree).encode(), "/models/model1/LICENSE": TERMS_V1.encode(),
                       "/models/model2_1/LICENSE": TERMS_V2.encode()})
    env = cluster_env(tmp_path, redis_server.url, "cw")
    cli("enqueue", "--source", "model-1-license", "--discovery", "models-discovery", env=env, check=True)
    drain(spawn, env)
    db = connect(tmp_path / "cw.db")
    row = list(db.query("SELECT * FROM sources WHERE source_id = 'model-2.1-license'"))[0]
    assert row["discovered_from"] == "models-discovery" and row["status"] == "ok"
    texts = [r[0] for r in db.execute("SELECT text FROM versions WHERE source_id = ?", [row["id"]])]
    assert texts == [TERMS_V2.strip()]
    assert Site.hits.count("/models/model1/LICENSE") == 1   # known already: not fetched a second time


def test_a_replayed_history_in_a_cluster(tmp_path, redis_server, cli, spawn):
    corpus = write_corpus(tmp_path / "corpus", {
        "terms/2024-01-01.txt": ("2024-01-01", TERMS_V1), "terms/2025-03-01.txt": ("2025-03-01", TERMS_V2)})
    write_source(tmp_path / "sources", "example-terms", "https://example.org/terms",
                 replay=["terms/2024-01-01.txt", "terms/2025-03-01.txt"])
    env = cluster_env(tmp_path, redis_server.url, "cw")
    cli("enqueue", "--replay", str(corpus), "--as-of", "2025-12-31", env=env, check=True)
    drain(spawn, env, workers=1)          # a live worker refuses replay jobs
    drain(spawn, env, workers=2, extra=("--replay", str(corpus)))
    db = connect(tmp_path / "cw.db")
    fetches = [(r[0], r[1] or "") for r in db.execute("SELECT outcome, error FROM fetches ORDER BY id")]
    assert len(fetches) == 1 and fetches[0][0] == "error"
    assert fetches[0][1].startswith("refused: a replay job, and this worker does not replay")
    cli("enqueue", "--replay", str(corpus), "--as-of", "2025-12-31", "--cycle", "again", env=env, check=True)
    drain(spawn, env, workers=2, extra=("--replay", str(corpus)))
    days = [r[0] for r in db.execute("SELECT valid_from FROM versions ORDER BY seq")]
    assert days == ["2024-01-01", "2025-03-01"]     # both steps, in order, from whichever worker


def test_the_scheduler_queues_due_sources_instead_of_running_crawls(tmp_path, site, redis_server, spawn):
    import os

    from clausewatch.db.job_runs import parse_time

    write_source(tmp_path / "sources", "terms", f"{site}/terms")
    write_source(tmp_path / "sources", "gone", f"{site}/gone")
    env = {**os.environ, **cluster_env(tmp_path, redis_server.url, "cw"), "CLAUSEWATCH_PROCESS_SCHEDULE": "0 0 1 1 *"}
    log = (tmp_path / "schedule.log").open("w")
    daemon = spawn([*CLI, "schedule", "--every", "3600"], env=env, cwd=ROOT, stdout=log, stderr=log)
    worker = spawn([*CLI, "worker", "-q"], env=env, cwd=ROOT)
    store = spawn([*CLI, "store", "-q"], env=env, cwd=ROOT)
    db_file = tmp_path / "cw.db"

    def runs():
        if not db_file.exists():
            return {}
        db = connect(db_file, readonly=True)
        try:
            return {r["job_id"]: r for r in db.query("SELECT * FROM job_runs WHERE job_id LIKE 'crawl:%'")}
        except Exception:  # noqa: BLE001 - not created yet
            return {}
        finally:
            db.close()

    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        done = runs()
        if len(done) == 2 and all(r["outcome"] != "queued" for r in done.values()):
            break
        time.sleep(0.3)
    done = runs()
    assert done["crawl:terms"]["outcome"] == "ok" and done["crawl:terms"]["detail"] == "1 new version"
    assert done["crawl:gone"]["outcome"] == "failed" and "404" in done["crawl:gone"]["error"]
    assert parse_time(done["crawl:terms"]["finished_at"]) >= parse_time(done["crawl:terms"]["started_at"])
    # the daemon ran no crawl process of its own: every fetch was the worker's, stored by the writer
    db = connect(db_file, readonly=True)
    assert {r[0] for r in db.execute("SELECT mode FROM crawl_runs")} == {"cluster"}
    for proc in (daemon, worker, store):
        proc.terminate()
    for proc in (daemon, worker, store):
        assert proc.wait(30) == 0
    log.close()
    text = (tmp_path / "schedule.log").read_text()
    assert "cluster mode" in text and "queue crawl:terms" in text


def test_cluster_commands_need_redis_and_say_so(tmp_path, cli, redis_server):
    env = {"CLAUSEWATCH_REDIS_URL": "", "CLAUSEWATCH_DB": str(tmp_path / "cw.db")}
    for command in ("worker", "store", "enqueue", "queue"):
        out = cli(command, env=env)
        assert out.returncode == 2 and "no Redis configured: set CLAUSEWATCH_REDIS_URL" in out.stderr
    out = cli("queue", env={"CLAUSEWATCH_REDIS_URL": "redis://127.0.0.1:1/0"})
    assert out.returncode == 2 and "cannot reach Redis at redis://127.0.0.1:1/0" in out.stderr
    out = cli("queue", env={"CLAUSEWATCH_REDIS_URL": redis_server.url}, check=True)
    assert "jobs queued" in out.stdout and "0 live worker(s)" in out.stdout


def test_redis_killed_and_restarted_loses_nothing(tmp_path, spawn, cli):
    from tests.redisserver import RedisServer, redis_available

    if redis_available():
        pytest.skip(redis_available())
    redis = RedisServer(tmp_path / "redis", appendonly=True).start()   # appendfsync always
    try:
        redis_restart_run(tmp_path, spawn, cli, redis)
    finally:
        redis.stop()


def redis_restart_run(tmp_path, spawn, cli, redis) -> None:
    import os
    import signal

    from tests.hostfarm import host_url

    farm = spawn([sys.executable, "-m", "tests.hostfarm", "--hosts", "10", "--log", str(tmp_path / "requests.log")],
                 cwd=ROOT, stdout=subprocess.PIPE, text=True)
    port = int(farm.stdout.readline().split()[1])
    total = 400
    for n in range(total):
        write_source(tmp_path / "sources", f"doc-{n:03d}", host_url(n % 10, port, n))
    env = cluster_env(tmp_path, redis.url, "cw")
    cli("enqueue", env=env, check=True)
    full = {**os.environ, **env}
    procs = [spawn([*CLI, "worker", "-q"], env=full, cwd=ROOT) for _ in range(2)]
    procs.append(spawn([*CLI, "store", "-q"], env=full, cwd=ROOT))
    db_file = tmp_path / "cw.db"

    def stored() -> int:
        try:
            return connect(db_file, readonly=True).execute("SELECT COUNT(*) FROM stored_items").fetchone()[0]
        except Exception:  # noqa: BLE001 - not there yet
            return 0

    deadline = time.monotonic() + 120
    while stored() < total // 4 and time.monotonic() < deadline:
        time.sleep(0.1)
    redis.kill()                       # SIGKILL: a power cut of the queue
    time.sleep(1.5)
    redis.start()                      # same port, same append-only file
    client = redis.client()
    while time.monotonic() < deadline and not (
            stored() == total and client.xlen("clausewatch:items") == 0
            and int(client.get("clausewatch:documents:requests:queued") or 0) == 0
            and client.hlen("clausewatch:documents:requests:leases") == 0):
        time.sleep(0.2)
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    for proc in procs:
        assert proc.wait(60) == 0
    db = connect(db_file)
    assert db.execute("SELECT COUNT(*) FROM stored_items").fetchone()[0] == total
    assert db.execute("SELECT COUNT(*), COUNT(DISTINCT source_id) FROM versions").fetchone() == (total, total)
    assert db.execute("SELECT COUNT(*) FROM fetches").fetchone()[0] == total
