"""Hostile HTTP servers: every fault is crawled for real (``clausewatch crawl`` in a subprocess) and checked
in the database.

Two crawls of the same sources: in phase 1 every source serves a good licence (one version each); in
phase 2 each serves its fault. So each case also checks that the history stored before is kept.

Hosts: the fault server runs on 127.0.0.1 (slow cases on 127.0.0.2/3 when the system routes them, so
that they run side by side). ``CLAUSEWATCH_ALLOW_LOCAL`` lists exactly the ``host:port`` origins that
stand for *public* hosts in these tests; the ``private`` server (another loopback port, not listed)
stands for a host of the operator's network that a redirect must not reach.
"""
from __future__ import annotations

import time

import pytest

pytest.register_assert_rewrite("tests.faultserver")

from tests.conftest import run_cli, write_source  # noqa: E402
from tests.faultserver import (  # noqa: E402
    FAST_CRAWL_ENV,
    FaultServer,
    by_phase,
    drip,
    fault,
    fetches_of,
    gzip_bomb,
    gzipped,
    hang,
    loopback_host,
    ok,
    query,
    redirect,
    reset,
    sequence,
    source_row,
    status,
    truncated,
    unbounded,
    versions_of,
)

pytest_plugins = ["tests.faultserver"]  # fixtures: observed, and the fault matrix row of each test

LICENCE = """Example Model Licence

1. Definitions. "Model" means the weights and code distributed under this Licence.

2. Grant. You may use, copy, modify and distribute the Model for any lawful purpose.

3. Restrictions. You must not use the Model to develop weapons or to harm people.

4. Attribution. You must keep this Licence with every copy of the Model you distribute.

5. Warranty. The Model is provided as is, without warranty of any kind.
"""
LICENCE_V2 = LICENCE.replace("any lawful purpose", "any lawful purpose, including commercial use")
CAFE = "Example Licence\n\nThe café owner may use the Model déjà vu.\n"
MAX_BYTES = int(FAST_CRAWL_ENV["CLAUSEWATCH_MAX_BYTES"])
TIMEOUT = float(FAST_CRAWL_ENV["CLAUSEWATCH_TIMEOUT"])


class Crawled:
    """Both phases crawled; ``db`` is the database, ``main``/``slow``/... the servers."""

    def __init__(self, db, servers: dict[str, FaultServer], runs: list):
        self.db = db
        self.servers = servers
        self.runs = runs

    def fetch2(self, sid: str) -> dict:
        """The phase-2 fetch of a source."""
        rows = [f for f in fetches_of(self.db, sid) if f["run_id"] == self.runs[1]["id"]]
        assert len(rows) == 1, rows
        return rows[0]

    def hits2(self, server: str, path: str):
        return self.servers[server].hits_of(path, phase=2)


def _routes(main: FaultServer, slow: FaultServer, slower: FaultServer, public2: FaultServer,
            private: FaultServer) -> dict[str, tuple[FaultServer, str, object]]:
    good = ok(LICENCE)
    public2.route("/moved", ok(LICENCE_V2))
    private.route("/admin", ok(LICENCE_V2))
    return {
        "http-500": (main, "/500", by_phase(good, status(500))),
        "http-503-then-ok": (main, "/503", by_phase(good, sequence(status(503), ok(LICENCE_V2)))),
        "http-429-retry-after": (main, "/429", by_phase(good, sequence(status(429, headers={"Retry-After": "1"}),
                                                                     ok(LICENCE_V2)))),
        "http-429-retry-after-too-long": (main, "/429-long",
                                          by_phase(good, status(429, headers={"Retry-After": "86400"}))),
        "http-404": (main, "/404", by_phase(good, status(404))),
        "http-410": (main, "/410", by_phase(good, status(410))),
        "connection-reset": (main, "/reset", by_phase(good, reset())),
        "timeout": (slow, "/hang", by_phase(good, hang())),
        "slow-drip": (slower, "/drip", by_phase(good, drip(LICENCE.encode() * 10, interval=0.05))),
        "truncated-body": (main, "/truncated", by_phase(good, truncated(LICENCE_V2.encode(), 100))),
        "redirect-loop": (main, "/loop", by_phase(good, redirect("/loop"))),
        "redirect-public-host": (main, "/old", by_phase(good, redirect(public2.url("/moved"), 301))),
        "redirect-private-host": (main, "/to-admin", by_phase(good, redirect(private.url("/admin")))),
        "redirect-file-scheme": (main, "/to-file", by_phase(good, redirect("file:///etc/passwd"))),
        "oversize-declared": (main, "/big", by_phase(good, ok(b"a licence " * (MAX_BYTES // 10 + 100)))),
        "oversize-streamed": (main, "/stream", by_phase(good, unbounded(b"a licence " * 6000, MAX_BYTES * 20))),
        "gzip-bomb": (main, "/bomb", by_phase(good, gzip_bomb(100 * 1024 * 1024))),
        "gzip-honest": (main, "/gzip", by_phase(good, gzipped(LICENCE_V2.encode()))),
        "wrong-content-type": (main, "/image", by_phase(good, ok(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8,
                                                                 "image/png"))),
        "invalid-utf8": (main, "/latin1", by_phase(good, ok(CAFE.encode("cp1252"), "text/plain; charset=utf-8"))),
        "wrong-charset": (main, "/utf8", by_phase(good, ok(CAFE.encode("utf-8"), "text/plain; charset=iso-8859-1"))),
        "empty-200": (main, "/empty", by_phase(good, ok(b""))),
        "blank-200": (main, "/blank", by_phase(good, ok(b" \n\r\n\t \n"))),
        "robots-disallow": (main, "/robots-blocked", by_phase(good, ok(LICENCE_V2))),
    }


@pytest.fixture(scope="module")
def crawled(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("faults-http")
    robots = {1: b"User-agent: *\nDisallow: /nothing\n", 2: b"User-agent: *\nDisallow: /robots-blocked\n"}
    servers = {"main": FaultServer(robots=robots), "slow": FaultServer(host=loopback_host(2)),
               "slower": FaultServer(host=loopback_host(3)), "public2": FaultServer(), "private": FaultServer()}
    for server in servers.values():
        server.start()
    try:
        sources = tmp / "sources"
        routes = _routes(servers["main"], servers["slow"], servers["slower"], servers["public2"], servers["private"])
        for sid, (server, path, behaviour) in routes.items():
            write_source(sources, sid, server.route(path, behaviour))
        write_source(sources, "dns-failure", "http://no-such-host.invalid/licence")
        public = [servers[name] for name in ("main", "slow", "slower", "public2")]
        env = {**FAST_CRAWL_ENV, "CLAUSEWATCH_SOURCES": str(sources), "CLAUSEWATCH_DB": str(tmp / "cw.db"),
               "CLAUSEWATCH_ALLOW_LOCAL": ",".join(f"{s.host}:{s.port}" for s in public)}
        outputs = []
        for phase in (1, 2):
            for server in servers.values():
                server.phase = phase
            outputs.append(run_cli("crawl", "--no-process", env=env, timeout=120))
        runs = query(tmp / "cw.db", "SELECT * FROM crawl_runs ORDER BY id")
        crawl = Crawled(tmp / "cw.db", servers, runs)
        crawl.outputs = outputs
        yield crawl
    finally:
        for server in servers.values():
            server.stop()


def _kept_history(crawled: Crawled, sid: str, versions: int = 1) -> None:
    stored = versions_of(crawled.db, sid)
    assert len(stored) == versions, f"{sid}: {len(stored)} versions"
    assert all(v["text"].strip() for v in stored)
    assert source_row(crawled.db, sid)["active"] == 1


def _error_case(crawled: Crawled, sid: str, observed, *, contains: str, status: str = "error") -> dict:
    fetch = crawled.fetch2(sid)
    source = source_row(crawled.db, sid)
    observed(f"{fetch['outcome']}: {fetch['error']}")
    assert fetch["outcome"] == status, fetch
    assert contains in (fetch["error"] or ""), fetch["error"]
    assert source["status"] == status and source["last_error"] == fetch["error"]
    assert source["consecutive_failures"] == 1
    first = [f for f in fetches_of(crawled.db, sid) if f["run_id"] == crawled.runs[0]["id"]]
    assert source["last_success_at"] == first[0]["requested_at"]  # the good phase-1 fetch
    _kept_history(crawled, sid)
    return fetch


def test_both_crawls_finish_and_summarise(crawled):
    for proc in crawled.outputs:
        assert proc.returncode == 0, proc.stderr[-2000:]
        assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    assert [r["status"] for r in crawled.runs] == ["ok", "ok"]


@fault("HTTP 500", "500 on every attempt (after a good phase-1 version)",
       "retried (CLAUSEWATCH_RETRY_TIMES), then a recorded error; history kept")
def test_http_500_is_retried_then_recorded(crawled, observed):
    fetch = _error_case(crawled, "http-500", observed, contains="HTTP 500 (2 attempts)")
    assert fetch["http_status"] == 500
    assert len(crawled.hits2("main", "/500")) == 2


@fault("HTTP 503", "503 once, then 200 with a changed text", "retried after the backoff delay; the new version stored")
def test_http_503_is_retried_with_backoff(crawled, observed):
    fetch = crawled.fetch2("http-503-then-ok")
    hits = crawled.hits2("main", "/503")
    observed(f"{fetch['outcome']} after {len(hits)} requests {hits[1].at - hits[0].at:.2f} s apart")
    assert fetch["outcome"] == "new_version" and len(hits) == 2
    assert hits[1].at - hits[0].at >= float(FAST_CRAWL_ENV["CLAUSEWATCH_RETRY_BASE_DELAY"]) * 0.9
    _kept_history(crawled, "http-503-then-ok", versions=2)


@fault("HTTP 429 with Retry-After", "429 with Retry-After: 1, then 200", "retried after the delay the server asked for")
def test_http_429_honours_retry_after(crawled, observed):
    fetch = crawled.fetch2("http-429-retry-after")
    hits = crawled.hits2("main", "/429")
    observed(f"{fetch['outcome']}; retried {hits[1].at - hits[0].at:.2f} s after the 429")
    assert fetch["outcome"] == "new_version" and len(hits) == 2
    assert hits[1].at - hits[0].at >= 0.95
    _kept_history(crawled, "http-429-retry-after", versions=2)


@fault("HTTP 429, Retry-After too long", "429 with Retry-After: 86400 (longer than CLAUSEWATCH_RETRY_MAX_DELAY)",
       "not waited for: a recorded error at once, not a hang")
def test_http_429_with_a_long_retry_after_is_an_error_not_a_hang(crawled, observed):
    fetch = _error_case(crawled, "http-429-retry-after-too-long", observed, contains="Retry-After 86400 s")
    assert len(crawled.hits2("main", "/429-long")) == 1
    assert fetch["duration_ms"] < 30_000


@pytest.mark.parametrize("code", [404, 410])
@fault("HTTP 404 / 410", "the document's URL answers 404 or 410 after a good version",
       "source flagged 'gone', its versions kept, still active")
def test_gone_source_is_flagged_and_keeps_history(crawled, observed, code):
    sid = f"http-{code}"
    fetch = _error_case(crawled, sid, observed, contains=f"HTTP {code}", status="gone")
    assert fetch["http_status"] == code


@fault("connection reset", "the server reads the request and resets the TCP connection",
       "retried, then a recorded error; history kept")
def test_connection_reset(crawled, observed):
    _error_case(crawled, "connection-reset", observed, contains="connection lost")
    assert len(crawled.hits2("main", "/reset")) == 2


@fault("timeout", "the server accepts the request and never answers",
       "each attempt bounded by CLAUSEWATCH_TIMEOUT, then a recorded error")
def test_timeout(crawled, observed):
    fetch = _error_case(crawled, "timeout", observed, contains="timed out")
    assert len(crawled.hits2("slow", "/hang")) == 2
    assert fetch["duration_ms"] < 1000 * (2 * TIMEOUT + 10)


@fault("slow drip", "headers at once, then the body one byte every 50 ms (minutes in all)",
       "the whole download bounded by CLAUSEWATCH_TIMEOUT: a recorded error")
def test_slow_drip(crawled, observed):
    fetch = _error_case(crawled, "slow-drip", observed, contains="timed out")
    assert fetch["duration_ms"] < 1000 * (2 * TIMEOUT + 10)


@fault("truncated body", "Content-Length announces more bytes than are sent before the connection closes",
       "a recorded error, not a version of the partial text")
def test_truncated_body(crawled, observed):
    _error_case(crawled, "truncated-body", observed, contains="closed before the whole body")


@fault("redirect loop", "a URL that redirects to itself", "stopped after REDIRECT_MAX_TIMES: a recorded error")
def test_redirect_loop(crawled, observed):
    _error_case(crawled, "redirect-loop", observed, contains="too many redirects")
    assert len(crawled.hits2("main", "/loop")) == 6  # the request and 5 redirects


@fault("redirect to another public host", "301 to another allowed origin (stands for another public host)",
       "followed; the new version stored, with its final URL")
def test_redirect_to_another_public_host_is_followed(crawled, observed):
    fetch = crawled.fetch2("redirect-public-host")
    observed(f"{fetch['outcome']} from {fetch['final_url']}")
    assert fetch["outcome"] == "new_version"
    assert fetch["final_url"] == crawled.servers["public2"].url("/moved")
    _kept_history(crawled, "redirect-public-host", versions=2)


@fault("redirect to a private host", "302 to a loopback origin that is not allowed (stands for the operator's network)",
       "refused by the URL policy before any connection; the private host never hit")
def test_redirect_to_a_private_host_is_refused(crawled, observed):
    _error_case(crawled, "redirect-private-host", observed, contains="local or private address")
    assert crawled.servers["private"].hits == []


@fault("redirect to file://", "302 to file:///etc/passwd", "not followed (http and https only): a recorded error")
def test_redirect_to_file_scheme_is_not_followed(crawled, observed):
    _error_case(crawled, "redirect-file-scheme", observed, contains="not followed")


@fault("oversize body (Content-Length)", f"a body larger than CLAUSEWATCH_MAX_BYTES ({MAX_BYTES:,} B) with its length",
       "cancelled before downloading: a recorded error")
def test_oversize_body_with_length(crawled, observed):
    _error_case(crawled, "oversize-declared", observed, contains="size limit")


@fault("oversize body (streamed)", f"{MAX_BYTES * 20:,} B without Content-Length",
       "cancelled once past CLAUSEWATCH_MAX_BYTES: a recorded error")
def test_oversize_body_streamed(crawled, observed):
    _error_case(crawled, "oversize-streamed", observed, contains="size limit")


@fault("gzip bomb", "Content-Encoding: gzip, 100 KB that inflate to 100 MB",
       "refused while inflating, past CLAUSEWATCH_MAX_BYTES: a recorded error, memory bounded")
def test_gzip_bomb_is_refused_while_inflating(crawled, observed):
    fetch = _error_case(crawled, "gzip-bomb", observed, contains="inflates past the size limit")
    assert "decompressed so far" in fetch["error"]  # stopped early, not after inflating everything


@fault("gzip (honest)", "a gzip-encoded licence", "decoded and stored as a new version")
def test_honest_gzip_is_decoded(crawled, observed):
    fetch = crawled.fetch2("gzip-honest")
    observed(fetch["outcome"])
    assert fetch["outcome"] == "new_version"
    assert "commercial use" in versions_of(crawled.db, "gzip-honest")[-1]["text"]


@fault("wrong content type", "image/png bytes for a source declared text", "a recorded error, no version")
def test_wrong_content_type(crawled, observed):
    _error_case(crawled, "wrong-content-type", observed, contains="not a document")


@pytest.mark.parametrize("sid", ["invalid-utf8", "wrong-charset"])
@fault("invalid UTF-8 / wrong charset", "Windows-1252 bytes labelled UTF-8; UTF-8 bytes labelled ISO-8859-1",
       "a sane version: valid text with the accented words right")
def test_bad_charset_gives_a_sane_version(crawled, observed, sid):
    fetch = crawled.fetch2(sid)
    text = versions_of(crawled.db, sid)[-1]["text"]
    observed(f"{fetch['outcome']}: {text.splitlines()[-1]!r}")
    assert fetch["outcome"] == "new_version"
    assert "café" in text and "déjà" in text and "\ufffd" not in text and "Ã" not in text


@pytest.mark.parametrize("sid", ["empty-200", "blank-200"])
@fault("empty 200", "200 OK with an empty (or whitespace-only) body", "a recorded error, never an empty version")
def test_empty_200_is_an_error_not_an_empty_version(crawled, observed, sid):
    _error_case(crawled, sid, observed, contains="empty")
    assert query(crawled.db, "SELECT COUNT(*) AS n FROM versions WHERE trim(text) = ''")[0]["n"] == 0


@fault("robots.txt disallow", "robots.txt starts disallowing the document's path",
       "not fetched: a recorded error naming robots.txt")
def test_robots_disallow(crawled, observed):
    _error_case(crawled, "robots-disallow", observed, contains="robots.txt")
    assert crawled.hits2("main", "/robots-blocked") == []


@fault("DNS failure", "a source on a .invalid host name", "a recorded error naming the DNS lookup; other sources unaffected")
def test_dns_failure(crawled, observed):
    fetch = crawled.fetch2("dns-failure")
    observed(f"{fetch['outcome']}: {fetch['error']}")
    assert fetch["outcome"] == "error" and "DNS lookup failed" in fetch["error"]
    assert source_row(crawled.db, "dns-failure")["consecutive_failures"] == 2
    assert versions_of(crawled.db, "dns-failure") == []


def test_every_fault_is_one_fetch_row_per_source_and_run(crawled):
    """No fault makes the crawler record a document twice or skip one."""
    for run in crawled.runs:
        rows = query(crawled.db, """SELECT source_id, COUNT(*) AS n FROM fetches WHERE run_id = ? AND part IS NULL
                                    GROUP BY source_id""", [run["id"]])
        assert len(rows) == run["sources"] and all(r["n"] == 1 for r in rows)
    assert query(crawled.db, "PRAGMA integrity_check")[0]["integrity_check"] == "ok"


def test_reliability_doc_lists_every_fault_case():
    """docs/reliability.md is generated from these tests; a new case must be regenerated into it."""
    import importlib.util
    import sys

    from tests.conftest import ROOT

    spec = importlib.util.spec_from_file_location("fault_matrix", ROOT / "scripts" / "fault_matrix.py")
    matrix = sys.modules.setdefault("fault_matrix", importlib.util.module_from_spec(spec))
    spec.loader.exec_module(matrix)
    missing = matrix.check(matrix.OUTPUT)
    assert missing == [], f"regenerate docs/reliability.md with `{matrix.COMMAND}`: missing {missing}"


@fault("bad settings", "CLAUSEWATCH_TIMEOUT=soon (and, in-process, negative or fractional counts)",
       "one line naming the variable, exit 2, nothing crawled")
def test_bad_settings_are_clear_errors(tmp_path, observed, monkeypatch):
    from clausewatch.crawlers.settings import SettingsError, env_number

    sources = tmp_path / "sources"
    write_source(sources, "terms", "https://example.org/terms")
    out = run_cli("crawl", "--no-process", env={"CLAUSEWATCH_SOURCES": str(sources), "CLAUSEWATCH_TIMEOUT": "soon",
                                               "CLAUSEWATCH_DB": str(tmp_path / "cw.db")})
    observed(out.stderr.strip())
    assert out.returncode == 2 and out.stderr == "clausewatch: error: CLAUSEWATCH_TIMEOUT='soon' is not a number\n"
    for value, message in (("-1", "must not be negative"), ("2.5", "not a whole number")):
        monkeypatch.setenv("CLAUSEWATCH_MAX_BYTES", value)
        with pytest.raises(SettingsError, match=message):
            env_number("CLAUSEWATCH_MAX_BYTES", 10, integer=True)


def test_retry_after_forms():
    from email.utils import formatdate

    from clausewatch.crawlers.middlewares import retry_after_seconds

    assert retry_after_seconds(b"120") == 120.0
    assert 50 <= retry_after_seconds(formatdate(time.time() + 60, usegmt=True)) <= 61
    assert retry_after_seconds(formatdate(time.time() - 60, usegmt=True)) == 0.0
    for bad in (None, b"", b"soon", b"-5", b"1.5e9", "Mon, 99 Foo 2025 99:99:99"):
        assert retry_after_seconds(bad) is None, bad
