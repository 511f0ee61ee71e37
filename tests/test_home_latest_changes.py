"""The demo's home page in a real browser: the whole corpus replayed (`clausewatch crawl --replay`), served
by `clausewatch serve`, read by headless Chromium. Every "latest substantive change" it lists must be a real
clause change of a document: alerting, substantive, not a context page (the OSI landing page), not the
copyright line of a template copy, not a version-date line.
"""
from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from clausewatch.db import connect
from tests import processes
from tests.conftest import ROOT, run_cli

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium not installed (apt-get install chromium)"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def demo(tmp_path_factory, corpus):
    path = tmp_path_factory.mktemp("demo") / "clausewatch.db"
    run_cli("crawl", "--replay", str(corpus), "--db", str(path), check=True)
    port = free_port()
    proc = processes.popen([sys.executable, "-m", "clausewatch", "serve", "--db", str(path), "--port", str(port)],
                           cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/-/versions.json", timeout=2):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    processes.stop(proc)
                    pytest.fail(f"clausewatch serve did not start: {proc.stdout.read()[-2000:]}")
                time.sleep(0.2)
        yield base, path
    finally:
        processes.stop(proc)


def test_latest_changes_are_real_clause_changes_of_documents(demo):
    from playwright.sync_api import sync_playwright

    base, path = demo
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM))
        try:
            page = browser.new_page()
            page.goto(base + "/")
            links = page.eval_on_selector_all(".cw-changes li a", "els => els.map(e => e.getAttribute('href'))")
        finally:
            browser.close()
    ids = [int(m.group(1)) for href in links if (m := re.search(r"#change-(\d+)$", href or ""))]
    assert len(ids) == len(links) >= 10
    db = connect(path, readonly=True)
    marks = ",".join("?" * len(ids))
    rows = {r["id"]: r for r in db.query(
        f"""SELECT ch.*, s.source_id AS source, s.role FROM changes ch JOIN sources s ON s.id = ch.source_id
            WHERE ch.id IN ({marks})""", ids)}
    for cid in ids:
        row = rows[cid]
        assert row["substantive"] == 1 and row["alert"] == 1 and row["via_source_id"] is None, row
        assert row["role"] == "document", f"a context page tops the list: {row['source']}"
        text = " ".join(t for t in (row["old_text"], row["new_text"]) if t)
        assert not re.match(r"(?i)\s*copyright\b", text), f"a copyright line: {text[:80]}"
        assert "Version Release Date" not in text and "Version Effective Date" not in text, text[:80]
        assert len(text.split()) >= 3, text
    assert not {rows[c]["source"] for c in ids} & {"osi-ai-page", "mit-license"}
