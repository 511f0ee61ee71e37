"""Bad input never stops the pipeline, and operators' mistakes get one clear line: huge clauses, lost
characters, a diff writing over its input, costly public SQL, file modes of the private database, bad
``--db`` paths and sources folders, link prefetchers. Each test is a row of docs/reliability.md."""
from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import stat
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.register_assert_rewrite("tests.faultserver")

from clausewatch.crawlers.extract import extract  # noqa: E402
from clausewatch.db import connect  # noqa: E402
from clausewatch.nlp import analyse  # noqa: E402
from clausewatch.nlp.segment_text import strip_emphasis  # noqa: E402
from tests import processes  # noqa: E402
from tests.conftest import ROOT, run_cli, store_texts, write_source  # noqa: E402
from tests.faultserver import FAST_CRAWL_ENV, FaultServer, fault, ok, query, status  # noqa: E402

pytest_plugins = ["tests.faultserver"]  # fixtures: observed, and the fault matrix row of each test

NORMAL = ("Example Model Licence\n\n1. You may use, copy and modify the model.\n\n"
          "2. You must not use the model to build weapons.\n")


def no_traceback(proc) -> None:
    assert "Traceback" not in proc.stderr, proc.stderr[-2000:]
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert lines and lines[-1].startswith("clausewatch: error: "), proc.stderr[-2000:]


def crawl_env(sources, db_file, **extra) -> dict[str, str]:
    return {**FAST_CRAWL_ENV, "CLAUSEWATCH_SOURCES": str(sources), "CLAUSEWATCH_DB": str(db_file),
            "CLAUSEWATCH_ALLOW_LOCAL": "1", "CLAUSEWATCH_CONFIG": "/nonexistent.toml", **extra}


# ---------------------------------------------------------------- one huge clause

def huge_line() -> str:
    body = "You may use, copy and modify the model for any lawful purpose. " * 20000
    return "Huge Terms\n\n" + body + "You must not use the outputs of the model to train another model.\n"


@fault("one clause over 1,000,000 characters", "a page that extracts to one 1.3 MB line, beside a normal licence",
       "both processed; the long clause is tagged in bounded pieces (a tag from its last sentence found); "
       "`clausewatch tag` on the file prints its clauses")
def test_a_clause_over_a_million_characters_is_processed_in_pieces(tmp_path, observed):
    text = huge_line()
    with FaultServer() as server:
        sources = tmp_path / "sources"
        write_source(sources, "huge-terms", server.route("/huge", ok(text)))
        write_source(sources, "normal-terms", server.route("/normal", ok(NORMAL)))
        db_file = tmp_path / "cw.db"
        done = run_cli("crawl", env=crawl_env(sources, db_file, CLAUSEWATCH_MAX_BYTES="5000000"), timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    rows = query(db_file, """SELECT s.source_id, v.pipeline_version, v.process_error,
                                    (SELECT max(length(c.text)) FROM clauses c WHERE c.version_id = v.id) AS longest,
                                    (SELECT group_concat(DISTINCT t.tag) FROM clauses c JOIN clause_tags t
                                     ON t.clause_id = c.id WHERE c.version_id = v.id) AS tags
                             FROM versions v JOIN sources s ON s.id = v.source_id ORDER BY s.source_id""")
    huge, normal = rows
    assert huge["pipeline_version"] and huge["process_error"] is None and huge["longest"] > 1_000_000
    assert "restrict.output_use" in huge["tags"], "the last piece of the clause was tagged too"
    assert normal["pipeline_version"] and "grant.use" in normal["tags"]
    file = tmp_path / "huge.txt"
    file.write_text(text)
    tagged = run_cli("tag", str(file), timeout=300)
    assert tagged.returncode == 0, tagged.stderr[-2000:]
    clauses = [json.loads(line) for line in tagged.stdout.splitlines()]
    assert max(len(c["text"]) for c in clauses) > 1_000_000
    observed(f"longest clause {huge['longest']:,} characters, tags {huge['tags']}; the normal licence: "
             f"{normal['tags']}; `tag` printed {len(clauses)} clauses")


@fault("a document whose analysis fails", "the analysis raises for one of three documents (injected)",
       "that version records its error (status, the site's source_health, exit 2); the other two are processed "
       "and compared; a later run does not retry it until the pipeline changes")
def test_a_failing_document_is_its_own_error_and_the_others_go_on(tmp_path, monkeypatch, observed):
    import clausewatch.nlp as nlp
    from clausewatch.db.publish import publish
    from clausewatch.stages.detect import detect_changes
    from clausewatch.stages.process import process_versions

    db_file = tmp_path / "cw.db"
    db = store_texts(db_file, {"first-terms": NORMAL, "poison-terms": NORMAL + "\n3. POISON clause.\n",
                           "last-terms": NORMAL.replace("weapons", "malware")})
    real = nlp.analyse

    def analyse_or_fail(text: str):
        if "POISON" in text:
            raise ValueError("[E088] Text of length 1300000 exceeds maximum of 1000000 (injected)")
        return real(text)

    monkeypatch.setattr(nlp, "analyse", analyse_or_fail)
    result = process_versions(db, progress=False)
    assert [(s, e.split(":")[0]) for s, _, e in result["failed"]] == [("poison-terms", "processing failed")]
    assert result["versions"] == 3 and result["clauses"] > 0
    found = detect_changes(db, progress=False)
    assert found["versions"] == 3 and found["failed"] == []
    publish(db)
    health = {r["source"]: r["processing_error"] for r in query(db_file, "SELECT * FROM source_health")}
    assert health["first-terms"] is None and "E088" in health["poison-terms"] and health["last-terms"] is None
    again = process_versions(db, progress=False)
    assert again["versions"] == 0, "not retried until the pipeline version changes"
    listed = run_cli("status", env={"CLAUSEWATCH_DB": str(db_file)})
    line = next(li for li in listed.stdout.splitlines() if li.startswith("poison-terms"))
    assert "processing error" in line and "E088" in line and "1 with errors" in listed.stdout
    monkeypatch.setattr(nlp, "analyse", real)
    retried = run_cli("process", "--retry-failed", env={"CLAUSEWATCH_DB": str(db_file)})
    assert retried.returncode == 0, retried.stderr
    assert query(db_file, "SELECT count(*) AS n FROM versions WHERE process_error IS NOT NULL")[0]["n"] == 0
    observed(f"status: {' '.join(line.split()[:4])} ...; the two others processed and compared; retried with "
             "--retry-failed once fixed")


def test_process_exits_2_when_a_document_failed(tmp_path, monkeypatch):
    from click.testing import CliRunner

    import clausewatch.nlp as nlp
    from clausewatch.cli import main

    db_file = tmp_path / "cw.db"
    store_texts(db_file, {"ok-terms": NORMAL, "bad-terms": NORMAL + "POISON\n"})
    real = nlp.analyse
    monkeypatch.setattr(nlp, "analyse", lambda t: (_ for _ in ()).throw(RuntimeError("boom")) if "POISON" in t
                        else real(t))
    result = CliRunner().invoke(main, ["process", "--db", str(db_file), "-q"])
    assert result.exit_code == 2
    assert "bad-terms v1: processing failed: RuntimeError: boom (recorded; the other documents were processed)" \
        in result.output


# ---------------------------------------------------------------- characters

ATOM = re.compile(r"\w+|[^\w\s]")
WORDS = st.sampled_from("licence model weights you may use copy the of and 2 15 3 dollars 700 million Section "
                        "Article".split())
SYMBOLS = st.sampled_from(list("*&%$§+=/<>@~^|[]{}()!?;:,.'\"-_#`\\"))
TOKEN = st.one_of(WORDS, WORDS, WORDS, SYMBOLS, st.builds(lambda a, b: a + b, WORDS, SYMBOLS),
                  st.builds(lambda a, b: a + b, SYMBOLS, WORDS))
LINE = st.lists(TOKEN, min_size=2, max_size=12).map(" ".join).filter(lambda line: line[0].isalnum())
PARAGRAPH = st.lists(LINE, min_size=1, max_size=4).map("\n".join)
DOCUMENT = st.lists(PARAGRAPH, min_size=1, max_size=6).map(
    lambda ps: "\n\n".join([*ps, "The licensee may use the model."]))


def lost_characters(text: str) -> list:
    """What of the version text of ``text`` is in no clause (beyond markup: emphasis marks, heading marks)."""
    version = extract(text.encode(), "text").text
    clauses = analyse(version)
    covered = [False] * len(version)
    lost = []
    for clause in clauses:
        seg = clause.segment
        wanted = Counter(ATOM.findall(strip_emphasis(version[seg.start:seg.end])))
        kept = Counter(ATOM.findall(seg.text)) + Counter(ATOM.findall(seg.label or ""))
        if wanted - kept:
            lost.append((seg.path, dict(wanted - kept)))
        for k in range(seg.start, seg.end):
            covered[k] = True
    outside = "".join(" " if covered[k] else ch for k, ch in enumerate(version))
    headings = {h for c in clauses for h in (*(c.segment.headings or ()), c.segment.heading or "")}
    in_headings = {a for h in headings for a in ATOM.findall(h)}
    stray = set(ATOM.findall(strip_emphasis(outside))) - in_headings - {"#"}
    if stray:
        lost.append(("outside every clause and heading", sorted(stray)))
    return lost


@fault("characters of the source lost", "asterisks that are text (5 * 3, 2**8, a footnote mark) and random text "
       "of words and symbols (hypothesis)", "every word and symbol that is not markup is in a clause or heading")
def test_clause_text_keeps_every_character_that_is_not_markup(observed):
    text = ("Fees\n\nThe fee is 5 * 3 = 15 dollars* per request.\n\nA model with 2**8 layers counts as small.\n\n"
            "*Footnote: dollars of the United States.\n\nThe **licensee** may *not* sell it.\n")
    clauses = analyse(extract(text.encode(), "text").text)
    texts = [c.text for c in clauses]
    assert "The fee is 5 * 3 = 15 dollars* per request." in texts
    assert "A model with 2**8 layers counts as small." in texts
    assert any(t.startswith("*Footnote") for t in texts)
    assert "The licensee may not sell it." in texts, "emphasis marks are markup"
    assert lost_characters(text) == []
    observed("5 * 3 = 15 dollars*, 2**8 and a footnote * kept; **bold** and *italic* marks dropped; "
             "no character lost on the random texts")


@settings(max_examples=int(os.environ.get("CLAUSEWATCH_FUZZ_EXAMPLES", "150")), deadline=None, derandomize=True,
          database=None, suppress_health_check=list(HealthCheck))
@given(DOCUMENT)
def test_no_character_of_random_text_is_lost(text):
    assert lost_characters(text) == []


# ---------------------------------------------------------------- diff -o

@fault("`diff -o` naming one of its inputs", "-o OLD, -o NEW by another spelling, -o a symlink to OLD",
       "refused with one line (exit 2); the input untouched; another output file is written")
def test_diff_refuses_to_overwrite_its_input(tmp_path, observed):
    old, new = tmp_path / "old.txt", tmp_path / "new.txt"
    old.write_text(NORMAL)
    new.write_text(NORMAL.replace("weapons", "malware"))
    (tmp_path / "sub").mkdir()
    link = tmp_path / "link.txt"
    link.symlink_to(old)
    for target in (old, tmp_path / "sub" / ".." / "new.txt", link):
        proc = run_cli("diff", str(old), str(new), "-o", str(target))
        assert proc.returncode == 2 and "refusing to overwrite" in proc.stderr, proc.stderr
        no_traceback(proc)
    assert old.read_text() == NORMAL and "malware" in new.read_text()
    out = tmp_path / "report.md"
    proc = run_cli("diff", str(old), str(new), "-o", str(out), "--format", "md")
    assert proc.returncode == 1 and "malware" in out.read_text()
    observed("3 spellings refused, inputs unchanged; -o report.md written")


# ---------------------------------------------------------------- public SQL

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _peak_rss_mb(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


@fault("costly public SQL", "select randomblob(1000000000) as JSON; four 10 MB blobs in one result; a 13 kB "
       "query text", "each refused with a 400 and a reason; the server's peak memory stays under 400 MB; "
       "ordinary queries answer")
def test_the_public_sql_endpoint_bounds_what_one_request_costs(tmp_path, observed):
    db_file = tmp_path / "cw.db"
    store_texts(db_file, {"some-terms": NORMAL}).close()
    port = _free_port()
    proc = processes.popen([sys.executable, "-m", "clausewatch", "serve", "--db", str(db_file), "--port", str(port)],
                           cwd=ROOT, stdout=open(tmp_path / "serve.log", "w"), stderr=open(tmp_path / "err.log", "w"))
    try:
        base = f"http://127.0.0.1:{port}/clausewatch.json?_shape=array&sql="
        deadline = time.monotonic() + 60
        while True:
            try:
                _get(base + "select+1")
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, (tmp_path / "err.log").read_text()
                time.sleep(0.2)
        answers = {}
        for name, sql in (("1 GB blob", "select randomblob(1000000000)"),
                          ("4 x 10 MB", "select randomblob(10000000) from (select 1 union all select 2 union all "
                                        "select 3 union all select 4)"),
                          ("13 kB SQL", "select 1 as " + "a" * 13_000)):
            code, body = _get(base + urllib.parse.quote(sql))
            answers[name] = (code, json.loads(body)["error"] if code == 400 else body[:80])
        ordinary = _get(base + urllib.parse.quote("select sources.source_id, length(versions.text) from sources join versions "
                                                  "on versions.source_id = sources.id"))
        peak = _peak_rss_mb(proc.pid)
    finally:
        processes.stop(proc)
    assert answers["1 GB blob"][0] == 400 and "too big" in answers["1 GB blob"][1]
    assert answers["4 x 10 MB"][0] == 400 and "larger than 32 MB" in answers["4 x 10 MB"][1]
    assert answers["13 kB SQL"][0] == 400 and "too large" in answers["13 kB SQL"][1]
    assert ordinary[0] == 200 and "some-terms" in ordinary[1]
    assert peak < 400, f"the server peaked at {peak:.0f} MB"
    observed("; ".join(f"{k}: {v[0]} {v[1][:60]}" for k, v in answers.items()) + f"; peak RSS {peak:.0f} MB")


# ---------------------------------------------------------------- the private database's file mode

@fault("private database file mode", "a new private database; then one made world-readable (chmod 644)",
       "created 600 with its WAL and SHM; a readable one is set back to 600 with a warning at the next start")
def test_the_private_database_is_readable_by_its_owner_only(tmp_path, observed):
    env = {"CLAUSEWATCH_DB": str(tmp_path / "cw.db"), "CLAUSEWATCH_CONFIG": "/nonexistent.toml"}
    assert run_cli("subscribe", "--feed", env=env).returncode == 0
    private = tmp_path / "cw-private.db"
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in tmp_path.glob("cw-private.db*")}
    assert modes and all(mode == 0o600 for mode in modes.values()), modes
    os.chmod(private, 0o644)
    listed = run_cli("subscriptions", env=env)
    assert listed.returncode == 0 and "was mode 644" in listed.stderr and "now 600" in listed.stderr
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    observed(f"created: {', '.join(f'{k} {v:o}' for k, v in sorted(modes.items()))}; 644 reset to 600 with a "
             "warning")


# ---------------------------------------------------------------- operators' mistakes

@fault("a --db that is a directory or not SQLite", "status, process, subscribe, subscriptions with --db DIR, "
       "--db notes.txt, --db /missing/dir/x.db", "one error line each (exit 2), no traceback; no private "
       "database created beside a bad path")
def test_bad_database_paths_get_one_clear_line(tmp_path, observed):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a database, just notes\n")
    (tmp_path / "folder").mkdir()
    seen = []
    for db in (tmp_path / "folder", notes):
        for args in (("status",), ("process",), ("subscribe", "--feed"), ("subscriptions",)):
            proc = run_cli(*args, "--db", str(db), env={"CLAUSEWATCH_CONFIG": "/nonexistent.toml"})
            assert proc.returncode == 2, (args, db, proc.stdout, proc.stderr)
            no_traceback(proc)
            seen.append(proc.stderr.strip().splitlines()[-1].replace(str(tmp_path), "…"))
    missing = tmp_path / "missing" / "x.db"
    listed = run_cli("subscriptions", "--db", str(missing), env={"CLAUSEWATCH_CONFIG": "/nonexistent.toml"})
    assert listed.returncode == 0 and "0 subscriptions" in listed.stdout
    assert not list(tmp_path.rglob("*-private.db")), "a private database was created beside a bad path"
    assert not (tmp_path / "missing").exists()
    observed("; ".join(dict.fromkeys(seen)))


@fault("an empty or missing sources folder", "crawl with CLAUSEWATCH_SOURCES pointing at an empty folder, then "
       "at no folder", "refused (exit 2) and every tracked source stays active; --allow-empty does deactivate")
def test_an_empty_sources_folder_does_not_retire_every_source(tmp_path, observed):
    with FaultServer() as server:
        sources = tmp_path / "sources"
        write_source(sources, "kept-terms", server.route("/kept", ok(NORMAL)))
        db_file = tmp_path / "cw.db"
        assert run_cli("crawl", "--no-process", env=crawl_env(sources, db_file)).returncode == 0
        empty = tmp_path / "empty"
        empty.mkdir()
        refused = run_cli("crawl", "--no-process", env=crawl_env(empty, db_file))
        gone = run_cli("crawl", "--no-process", env=crawl_env(tmp_path / "nowhere", db_file))
        assert refused.returncode == 2 and "no source declarations" in refused.stderr and "--allow-empty" in refused.stderr
        assert gone.returncode == 2 and "not found" in gone.stderr
        no_traceback(refused)
        no_traceback(gone)
        assert query(db_file, "SELECT active FROM sources")[0]["active"] == 1
        allowed = run_cli("crawl", "--no-process", "--allow-empty", env=crawl_env(empty, db_file))
        assert allowed.returncode == 0, allowed.stderr
        assert query(db_file, "SELECT active FROM sources")[0]["active"] == 0
    observed(refused.stderr.strip().splitlines()[-1].replace(str(tmp_path), "…")[:160])


@fault("a crawl in which every source fails", "two sources answering 500 and one unreachable port",
       "exit status 2 with one line saying nothing succeeded; one good source among them: exit 0")
def test_a_crawl_where_nothing_succeeds_exits_non_zero(tmp_path, observed):
    with FaultServer() as server:
        sources = tmp_path / "sources"
        write_source(sources, "down-one", server.route("/a", status(500)))
        write_source(sources, "down-two", server.route("/b", status(500)))
        write_source(sources, "unreachable", f"http://127.0.0.1:{_free_port()}/c")
        db_file = tmp_path / "cw.db"
        failed = run_cli("crawl", "--no-process", env=crawl_env(sources, db_file))
        assert failed.returncode == 2 and "nothing succeeded" in failed.stderr, failed.stderr[-2000:]
        no_traceback(failed)
        write_source(sources, "up", server.route("/d", ok(NORMAL)))
        mixed = run_cli("crawl", "--no-process", env=crawl_env(sources, db_file))
        assert mixed.returncode == 0, mixed.stderr[-2000:]
    observed(failed.stderr.strip().splitlines()[-1][:160] + "; with one good source: exit 0")


@fault("duplicate keys in a source declaration", "a YAML declaration giving `url` twice",
       "rejected with the file, line and field named")
def test_duplicate_keys_in_a_declaration_are_rejected(tmp_path, observed):
    sources = tmp_path / "sources"
    write_source(sources, "twice-terms", "https://example.org/terms", extra="url: https://example.org/other\n")
    proc = run_cli("sources", env={"CLAUSEWATCH_SOURCES": str(sources)})
    assert proc.returncode == 2 and "field 'url' is given twice" in proc.stderr and "twice-terms.yaml" in proc.stderr
    no_traceback(proc)
    observed(proc.stderr.strip().replace(str(tmp_path), "…"))


# ---------------------------------------------------------------- link prefetchers

@fault("mail link prefetchers", "GET of the confirmation link (as a scanner does); a POST without the page's CSRF "
       "token; the confirmation token used to unsubscribe", "none of them changes the subscription; the button on "
       "the page confirms it")
def test_confirmation_links_need_a_person(tmp_path, monkeypatch, observed):
    from clausewatch.config import private_db_path
    from clausewatch.web.app import PublicApp
    from tests.fixtures.digest.support import SmtpServer, bodies, isolate, subscribe_json

    isolate(tmp_path, monkeypatch)
    smtp = SmtpServer().start()
    try:
        for key, value in smtp.env().items():
            monkeypatch.setenv(key, value)
        connect(tmp_path / "cw.db").close()
        subscribe_json("--email", "lin@example.org")
        token = re.search(r"/-/subscriptions/confirm\?token=([\w-]+)", bodies(smtp.messages[-1][2])[0]).group(1)
    finally:
        smtp.stop()
    app = PublicApp(tmp_path / "cw.db")

    def state():
        row = list(connect(private_db_path(tmp_path / "cw.db")).query(
            "SELECT confirmed, unsubscribed_at FROM subscriptions"))[0]
        return row["confirmed"], row["unsubscribed_at"] is not None

    async def visit():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://cw.example.org") as web:
            page = await web.get(f"/-/subscriptions/confirm?token={token}")
            after_get = state()
            forged = await web.post("/-/subscriptions/confirm", data={"token": token})
            after_forged = state()
            unsub = await web.post(f"/-/subscriptions/unsubscribe?token={token}",
                                   data={"List-Unsubscribe": "One-Click"})
            after_unsub = state()
            csrf = re.search(r'name="csrftoken" value="([^"]+)"', page.text).group(1)
            done = await web.post("/-/subscriptions/confirm", data={"token": token, "csrftoken": csrf})
            return after_get, (forged.status_code, after_forged), (unsub.status_code, after_unsub), \
                (done.status_code, state())

    after_get, forged, unsub, done = asyncio.run(visit())
    assert after_get == (0, False)
    assert forged == (403, (0, False))
    assert unsub == (400, (0, False))
    assert done == (200, (1, False))
    observed(f"GET: unchanged; POST without CSRF: {forged[0]}; confirmation token as unsubscribe: {unsub[0]}; "
             f"the button: {done[0]}, confirmed")
