"""`clausewatch diff` through the real CLI: inputs (files, stored versions), formats, exit statuses."""
from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests import processes
from tests.conftest import ROOT, run_cli

FIXTURES = Path(__file__).parent / "fixtures" / "diff"
V1, V2 = FIXTURES / "licence-v1.txt", FIXTURES / "licence-v2.txt"
ARTIFACTS = ROOT / "artifacts"
JSON_KEYS = {"kind", "old_path", "new_path", "old_text", "new_text", "substantive", "cosmetic_reasons",
             "tags_added", "tags_removed", "entity_changes"}
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def jsonl(proc: subprocess.CompletedProcess) -> list[dict]:
    return [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]


# ------------------------------------------------------------------ exit statuses and errors

def test_same_file_exit_0():
    proc = run_cli("diff", str(V1), str(V1))
    assert proc.returncode == 0, proc.stderr
    assert "0 substantive" in proc.stdout


def test_substantive_exit_1_and_findings():
    proc = run_cli("diff", str(V1), str(V2), "--format", "jsonl")
    assert proc.returncode == 1, proc.stderr
    changes = jsonl(proc)
    substantive = [c for c in changes if c["substantive"]]
    removed = [c for c in substantive if c["kind"] == "removed"]
    assert any("improve any other large language model" in c["old_text"] for c in removed)
    assert any("500 million" in (c["new_text"] or "") for c in substantive)
    assert any("Built with Example" in (c["new_text"] or "") for c in substantive)
    # the licence/license spelling, the URL, the release name and date are cosmetic
    cosmetic_reasons = {r for c in changes for r in c["cosmetic_reasons"]}
    assert {"spelling", "urls"} <= cosmetic_reasons
    assert not any(c["substantive"] and "Release Date" in (c["new_text"] or "") for c in changes)


def test_cross_format_same_document_is_not_substantive():
    for other in ("licence-v1.md", "licence-v1.html"):
        proc = run_cli("diff", str(V1), str(FIXTURES / other), "--format", "jsonl")
        assert proc.returncode == 0, (other, proc.stdout, proc.stderr)
        assert not [c for c in jsonl(proc) if c["substantive"]]


@pytest.mark.parametrize("args,needle", [
    (["missing-file.txt", str(V1)], "missing-file.txt"),
    ([str(V1), str(FIXTURES)], "is a directory"),
    ([str(FIXTURES / "broken.pdf"), str(V1)], "broken.pdf"),
    (["no-such-source@latest", str(V1)], "no-such-source"),
])
def test_errors_exit_2_with_one_line(tmp_path, args, needle):
    proc = run_cli("diff", *args, "--db", str(tmp_path / "empty.db"))
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0] and lines[0].startswith("clausewatch: error:")
    assert "Traceback" not in proc.stderr


# ------------------------------------------------------------------ formats

def test_jsonl_keys_and_types():
    changes = jsonl(run_cli("diff", str(V1), str(V2), "--format", "jsonl"))
    assert changes
    for c in changes:
        assert JSON_KEYS <= set(c)
        assert c["kind"] in {"added", "removed", "modified", "moved"}
        assert isinstance(c["substantive"], bool)
        assert all(isinstance(x, list) for x in (c["cosmetic_reasons"], c["tags_added"], c["tags_removed"]))
        assert all(set(e) >= {"type", "old", "new"} for e in c["entity_changes"])
        if c["kind"] == "added":
            assert c["old_text"] is None and c["new_text"]
        elif c["kind"] == "removed":
            assert c["new_text"] is None and c["old_text"]
        else:
            assert c["old_text"] and c["new_text"]


def test_substantive_only():
    changes = jsonl(run_cli("diff", str(V1), str(V2), "--format", "jsonl", "--substantive-only"))
    assert changes and all(c["substantive"] for c in changes)
    table = run_cli("diff", str(V1), str(V2), "--substantive-only")
    assert table.returncode == 1 and "  cosmetic " not in table.stdout
    assert re.search(r"[1-9]\d* cosmetic$", table.stdout.strip())   # the summary still counts them


def test_html_fragment_for_emails_has_inline_styles():
    from clausewatch.changes.render import html_changes

    change = {"kind": "modified", "old_path": "2", "new_path": "2", "old_text": "exceed 700 million users",
              "new_text": "exceed 500 million users", "substantive": True, "cosmetic_reasons": [],
              "tags_added": [], "tags_removed": [], "word_diff": [["equal", "exceed"], ["delete", "700"],
                                                                 ["insert", "500"], ["equal", "million users"]],
              "entity_changes": [{"type": "USER_THRESHOLD", "old": 700000000, "new": 500000000}]}
    fragment = html_changes([change, {**change, "substantive": False, "cosmetic_reasons": ["case"]}])
    assert '<del style="' in fragment and '<ins style="' in fragment and "<style" not in fragment
    assert "USER_THRESHOLD 700000000 -&gt; 500000000" in fragment and "1 cosmetic changes" in fragment


def test_table_plain_when_not_a_tty():
    proc = run_cli("diff", str(V1), str(V2))
    assert proc.returncode == 1
    assert not ANSI.search(proc.stdout)
    assert "SUBSTANTIVE" in proc.stdout and "cosmetic" in proc.stdout
    assert "[-" in proc.stdout and "{+" in proc.stdout
    assert re.search(r"^\d+ substantive .*\d+ cosmetic$", proc.stdout.strip().splitlines()[-1])


def _run_on_tty(*args: str, env: dict) -> str:
    leader, follower = pty.openpty()
    proc = processes.popen([sys.executable, "-m", "clausewatch", *args], stdout=follower, stderr=subprocess.PIPE,
                           cwd=ROOT, env=env)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    try:
        proc.wait(timeout=120)
    finally:
        processes.stop(proc)
        os.close(leader)
    return b"".join(chunks).decode("utf-8", "replace")


def test_table_colour_on_tty_and_no_color():
    env = {k: v for k, v in os.environ.items() if k != "NO_COLOR"}
    assert ANSI.search(_run_on_tty("diff", str(V1), str(V2), env=env))
    assert not ANSI.search(_run_on_tty("diff", str(V1), str(V2), env={**env, "NO_COLOR": "1"}))


def test_markdown():
    proc = run_cli("diff", str(V1), str(V2), "--format", "md")
    assert proc.returncode == 1
    assert proc.stdout.startswith("## Changes from")
    assert "~~" in proc.stdout and "**" in proc.stdout and "Cosmetic changes" in proc.stdout


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.external: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        for name, value in attrs:
            if name in ("src", "href") and value and not value.startswith("#"):
                self.external.append(value)


def test_html_is_self_contained_and_written_with_o(tmp_path):
    out = tmp_path / "diff.html"
    proc = run_cli("diff", str(V1), str(V2), "--format", "html", "-o", str(out))
    assert proc.returncode == 1 and proc.stdout == ""
    page = out.read_text()
    parser = _Links()
    parser.feed(page)
    assert "ins" in parser.tags and "del" in parser.tags and "style" in parser.tags
    assert parser.external == [] and "script" not in parser.tags


@pytest.mark.browser
def test_html_in_headless_chromium(tmp_path):
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip("/usr/bin/chromium is missing (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    out = tmp_path / "diff.html"
    assert run_cli("diff", str(V1), str(V2), "--format", "html", "-o", str(out)).returncode == 1
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "diff-licence-v1-v2.png"
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium), args=["--no-sandbox", "--headless", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1100, "height": 900})
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(out.as_uri())
        assert page.locator("del").count() >= 1 and page.locator("ins").count() >= 1
        colour = page.eval_on_selector("ins", "e => getComputedStyle(e).backgroundColor")
        assert colour not in ("rgba(0, 0, 0, 0)", "transparent")
        assert "substantive" in page.inner_text("header")
        page.screenshot(path=str(shot), full_page=True)
        browser.close()
    assert [u for u in requests if not u.startswith("file:")] == []
    assert shot.stat().st_size > 5000


# ------------------------------------------------------------------ stored versions

def _stored_db(path: Path) -> dict[str, int]:
    from clausewatch.crawlers.extract import extract_path
    from clausewatch.db import connect
    from clausewatch.db.documents import Fetched, record_document, source_pk, sync_sources

    db = connect(path)
    sync_sources(db, [{"source_id": "example-license", "title": "Example licence", "url": "https://example.com/l",
                       "family": "example-license", "version_label": "1", "release_date": "2024-03-04"}])
    pk = source_pk(db, "example-license")
    ids = {}
    for day, fixture in (("2024-03-04", V1), ("2024-07-09", V2)):
        fetched = Fetched(source=pk, url="https://example.com/l", requested_at=f"{day}T06:00:00Z", http_status=200,
                          outcome="new_version", body=fixture.read_bytes(), content_type="text/plain")
        ids[day] = record_document(db, None, fetched, text=extract_path(fixture).text, extractor_version="test",
                                   valid_from=day)["version_id"]
    return ids


def test_stored_versions(tmp_path):
    path = tmp_path / "cw.db"
    ids = _stored_db(path)
    by_date = run_cli("diff", "example-license@2024-05-01", "example-license@latest", "--db", str(path),
                      "--format", "jsonl")
    assert by_date.returncode == 1, by_date.stderr
    by_id = run_cli("diff", f"example-license@{ids['2024-03-04']}", str(V2), "--db", str(path), "--format", "jsonl")
    assert by_id.returncode == 1, by_id.stderr
    assert jsonl(by_date) == jsonl(by_id)
    same = run_cli("diff", "example-license@2024-03-04", str(V1), "--db", str(path))
    assert same.returncode == 0, same.stdout + same.stderr


@pytest.mark.parametrize("spec,needle", [
    ("example-license@2020-01-01", "no version on 2020-01-01"),
    ("example-license@999", "not a version of"),
    ("example-license@yesterday", "is not latest"),
    ("other-license@latest", "unknown source 'other-license'"),
])
def test_stored_version_errors(tmp_path, spec, needle):
    path = tmp_path / "cw.db"
    _stored_db(path)
    proc = run_cli("diff", spec, str(V1), "--db", str(path))
    assert proc.returncode == 2 and needle in proc.stderr, proc.stderr
