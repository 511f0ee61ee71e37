"""One real-browser walk through the public instance: `clausewatch serve` on 127.0.0.1, headless Chromium.

Home -> search "monthly active users" -> facet by tag -> clause page -> diff page -> CSV download.
Screenshots are saved under artifacts/browser/ as test artifacts.
"""
from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas
import pytest

from tests import processes
from tests.conftest import ROOT
from tests.fixtures.datasette.corpus_db import build_database

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "artifacts" / "browser"

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium not installed (apt-get install chromium)"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory, corpus):
    path = tmp_path_factory.mktemp("browser") / "clausewatch.db"
    build_database(path, corpus)
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
        yield base
    finally:
        processes.stop(proc)


def test_search_facet_clause_diff_and_csv(server):
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
        try:
            page.goto(server + "/")
            assert page.locator("h1").inner_text() == "clausewatch"
            page.screenshot(path=str(ARTIFACTS / "1-home.png"), full_page=True)

            page.fill("#cw-q", "monthly active users")
            page.click(".cw-search input[type=submit]")
            page.wait_for_url("**/current_clauses?_search=*")
            assert "1 row where search matches" in page.inner_text("h3")
            page.screenshot(path=str(ARTIFACTS / "2-search.png"), full_page=True)

            page.click(".facet-info a:text-is('restrict.scale_threshold')")
            page.wait_for_url("**tags__arraycontains=restrict.scale_threshold*")
            assert "1 row where" in page.inner_text("h3")
            page.screenshot(path=str(ARTIFACTS / "3-facet.png"), full_page=True)

            page.check("#export input[name=_dl]")
            with page.expect_download() as download:
                page.click("#export input[type=submit]")
            frame = pandas.read_csv(io.BytesIO(Path(download.value.path()).read_bytes()))
            assert list(frame["source"]) == ["llama-license"] and "monthly active users" in frame["text"][0]

            page.click("td.col-clause_id a")
            page.wait_for_url("**/-/clause/*")
            marks = page.locator("blockquote.cw-text mark")
            assert marks.count() >= 1 and "monthly active users" in " ".join(marks.all_inner_texts())
            assert page.locator("a.cw-source").get_attribute("href").startswith("https://")
            page.screenshot(path=str(ARTIFACTS / "4-clause.png"), full_page=True)

            page.click("text=what changed in version 2")
            page.wait_for_url("**/-/diff/*/*")
            assert page.locator("article.cw-change").count() >= 1
            assert page.locator("article.cw-change ins").count() + page.locator("article.cw-change del").count() >= 1
            page.screenshot(path=str(ARTIFACTS / "5-diff.png"), full_page=True)
        finally:
            browser.close()
    assert all((ARTIFACTS / f"{n}.png").stat().st_size > 5000 for n in ("1-home", "4-clause", "5-diff"))
