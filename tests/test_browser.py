"""The analyst's journeys in a real browser: a real `clausewatch serve` on 127.0.0.1 over a database built from
the corpus by a real `clausewatch crawl --replay`, driven by headless Chromium (Debian's, through Playwright).

Each journey starts on the home page and counts its clicks (a click on a link or a button; typing into a
field and picking from a menu are not clicks); each must take at most three. The counts are written to
artifacts/browser/clicks.json and the screenshots of every journey to artifacts/browser/ (not committed).

- which licences cap monthly active users;
- what changed from Llama 3.1 to 3.2 (timeline -> diff -> the use policy that came with it);
- which licences forbid using outputs to train other models, by the topic's plain name;
- what the AI Act says about open-source exemptions for general-purpose models (top 3 results);
- subscribe from the web and confirm by mail (a real aiosmtpd server).
Besides: no page is wider than a 390 px phone, the dashboard runs without a JavaScript error and its
panel of sources with problems is not empty, facets show plain names and a search exports as CSV.
"""
from __future__ import annotations

import csv
import io
import json
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from clausewatch.db.glossary import TAGS
from tests import processes
from tests.conftest import ROOT
from tests.fixtures.digest.support import SmtpServer, bodies

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = ROOT / "artifacts" / "browser"
MAX_CLICKS = 3
CLICKS: dict[str, int] = {}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium not installed (scripts/ensure-chromium)"),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def server(corpus_site_db, smtp):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "CLAUSEWATCH_PUBLIC_URL": base,
           "CLAUSEWATCH_CONFIG": str(corpus_site_db.parent / "none.toml"), **smtp.env()}
    proc = processes.popen([sys.executable, "-m", "clausewatch", "serve", "--db", str(corpus_site_db), "--port",
                            str(port)], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    try:
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
        yield {"base": base, "db": corpus_site_db}
    finally:
        processes.stop(proc)


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with sync_api.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM),
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield chromium
        chromium.close()
    (ARTIFACTS / "clicks.json").write_text(json.dumps(CLICKS, indent=2) + "\n")


class Journey:
    """A page that counts the clicks of one journey and saves a screenshot of each step."""

    def __init__(self, browser, name: str, base: str, **context) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 900}, **context)
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.name, self.clicks, self.shots = name, 0, 0
        self.page.goto(base + "/")
        self.shot("home")

    def click(self, selector: str) -> None:
        self.clicks += 1
        self.page.locator(selector).first.click()
        self.page.wait_for_load_state()
        self.shot(f"click-{self.clicks}")

    def shot(self, what: str) -> None:
        self.shots += 1
        self.page.screenshot(path=str(ARTIFACTS / f"{self.name}-{self.shots}-{what}.png"), full_page=True)

    def done(self) -> int:
        CLICKS[self.name] = self.clicks
        assert not self.errors, self.errors
        self.context.close()
        assert self.clicks <= MAX_CLICKS, f"{self.name} took {self.clicks} clicks"
        return self.clicks


def hits(page) -> list[dict[str, str]]:
    out = []
    for item in page.locator("li.cw-hit").all():
        out.append({"head": item.locator(".cw-hit-head").inner_text(), "text": item.locator(".cw-snippet").inner_text(),
                    "meta": item.locator(".cw-hit-meta").inner_text(), "html": item.inner_html()})
    return out


def test_journey_which_licences_cap_monthly_active_users(server, browser):
    j = Journey(browser, "1-mau-cap", server["base"])
    j.page.fill("#cw-q", "monthly active users")
    j.click(".cw-search input[type=submit]")
    assert "<mark>monthly</mark>" in j.page.content()
    j.click("[data-facet=kind] a:text-is('Licence')")
    found = hits(j.page)
    assert found and all("Licence" in h["meta"] for h in found)
    assert "monthly active users" in found[0]["text"] and "Llama" in found[0]["head"]
    licences = j.page.locator("[data-facet=source] li").all_inner_texts()
    assert sum("Llama" in x for x in licences) >= 3, licences
    assert j.done() == 2


def test_journey_what_changed_from_llama_3_1_to_3_2(server, browser):
    with sqlite3.connect(server["db"]) as conn:
        v31, v32 = (conn.execute("SELECT v.id FROM versions v JOIN sources s ON s.id = v.source_id "
                                 "WHERE s.source_id = ?", [s]).fetchone()[0]
                    for s in ("llama-3.1-license", "llama-3.2-license"))
    j = Journey(browser, "2-llama-3.1-to-3.2", server["base"])
    j.click("a.cw-timeline-link:text-is('llama-license')")
    assert j.page.locator("tr.cw-step").count() >= 7
    j.click(f"tr[data-version='{v32}'] a.cw-step-diff")
    assert j.page.url.endswith(f"/-/diff/{v31}/{v32}")
    heading = j.page.locator("h1").inner_text()
    assert "Llama 3.1" in heading and "Llama 3.2" in heading
    assert j.page.locator("a[rel=prev]").count() == 1 and j.page.locator("a[rel=next]").count() == 1
    # the licence's own words barely moved; its use policy withheld rights from EU residents
    j.click("p.cw-incorporated a")
    assert "Acceptable Use Policy" in j.page.locator("h1").inner_text()
    added = j.page.locator("article.cw-change:has(a.cw-tag-added[href$='tag=restrict.geographic'])")
    assert added.count() >= 1 and "European Union" in added.first.inner_text()
    assert TAGS["restrict.geographic"][0] in added.first.inner_text()
    assert j.done() == 3


def test_journey_which_licences_forbid_training_other_models_on_outputs(server, browser):
    label = TAGS["restrict.output_use"][0]
    j = Journey(browser, "3-outputs-training", server["base"])
    j.click(f".cw-topics a.cw-topic:text-is('{label}')")
    assert label in j.page.locator("[data-facet=tag]").inner_text()
    j.click("[data-facet=kind] a:text-is('Licence')")
    found = hits(j.page)
    assert found and all("Licence" in h["meta"] and label in h["html"] for h in found)
    assert any("Llama 2" in h["head"] or "Llama 3" in h["head"] for h in found)
    assert any(re.search(r"train|improve", h["text"], re.I) for h in found)
    assert j.done() == 2


def test_journey_what_the_ai_act_says_about_open_source_exemptions(server, browser):
    j = Journey(browser, "4-ai-act-open-source", server["base"])
    j.page.fill("#cw-q", "open-source exemption general-purpose models")
    j.click(".cw-search input[type=submit]")
    j.click("[data-facet=family] a:text-is('eu-ai-act')")
    top = hits(j.page)[:3]
    assert len(top) == 3 and all("Artificial Intelligence Act" in h["head"] for h in top)
    assert sum("free and open-source licence" in h["text"] for h in top) >= 2, [h["text"] for h in top]
    assert any(re.search(r"Article 5[34] > [26]", h["head"]) for h in top), [h["head"] for h in top]
    assert all("also as" in h["head"] for h in top)  # one document, not three renditions
    assert j.done() == 2


def test_journey_subscribe_from_the_web_and_confirm_by_mail(server, browser, smtp):
    sent = len(smtp.messages)
    j = Journey(browser, "5-subscribe", server["base"])
    j.click("nav.cw-start a[href='/-/subscribe']")
    j.page.fill("#email", "analyst@example.org")
    j.page.select_option("#family", "llama-license")
    j.page.select_option("#tag", label=TAGS["restrict.geographic"][0])
    j.page.check("#cadence-weekly")
    j.click("button[type=submit]")
    assert "Check your mail" in j.page.locator("h1").inner_text()
    deadline = time.monotonic() + 60
    while len(smtp.messages) <= sent:
        assert time.monotonic() < deadline, "no confirmation mail arrived"
        time.sleep(0.1)
    _, rcpt, message = smtp.messages[-1]
    assert rcpt == ["analyst@example.org"]
    link = re.search(r"(http://127\.0\.0\.1:\d+/-/subscriptions/confirm\?token=[\w-]+)", bodies(message)[0]).group(1)
    j.page.goto(link)  # the link in the mail: following it is not a click on the site
    j.shot("confirm-page")
    j.click("button[type=submit]")
    assert "Subscription confirmed" in j.page.locator("h1").inner_text()
    private = server["db"].with_name(server["db"].stem + "-private.db")
    with sqlite3.connect(private) as conn:
        confirmed, filters, cadence = conn.execute(
            "SELECT confirmed, filters, cadence FROM subscriptions WHERE address = 'analyst@example.org'").fetchone()
    assert confirmed == 1 and cadence == "weekly"
    assert json.loads(filters) == {"family": ["llama-license"], "tag": ["restrict.geographic"]}
    assert j.done() == 3


PHONE_PAGES = ["/", "/-/search?q=monthly+active+users", "/-/search?tag=restrict.output_use", "/-/timeline",
               "/-/timeline/llama-license", "/-/glossary", "/-/status", "/-/renditions", "/-/subscribe"]


def test_no_page_is_wider_than_a_phone(server, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    with sqlite3.connect(server["db"]) as conn:
        version, clause = conn.execute("SELECT version_id, clause_id FROM current_clauses "
                                       "WHERE source = 'llama-3.2-use-policy' LIMIT 1").fetchone()
        old = conn.execute("SELECT old_version_id FROM change_comparisons WHERE new_version_id = ?", [version]).fetchone()[0]
    wide = {}
    for url in [*PHONE_PAGES, f"/-/diff/{old}/{version}", f"/-/version/{version}", f"/-/clause/{clause}"]:
        page.goto(server["base"] + url)
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > 390:
            wide[url] = width
    page.goto(server["base"] + "/")
    page.screenshot(path=str(ARTIFACTS / "phone-home.png"), full_page=True)
    context.close()
    assert wide == {}


def test_the_dashboard_runs_without_errors_and_lists_the_sources_with_problems(server, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(server["base"] + "/-/dashboards/tracker")
    page.wait_for_selector("#card-failing-sources table", timeout=20000)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)
    text = page.locator("#card-failing-sources").inner_text()
    boxes = [page.locator(f"#{card}").bounding_box() for card in page.eval_on_selector_all(
        ".dashboard-card", "cards => cards.map(c => c.id)")]
    page.close()
    assert errors == []
    assert "never fetched" in text
    for a, b in ((a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:]):  # the layout grid holds
        apart = (a["x"] + a["width"] <= b["x"] + 1 or b["x"] + b["width"] <= a["x"] + 1
                 or a["y"] + a["height"] <= b["y"] + 1 or b["y"] + b["height"] <= a["y"] + 1)
        assert apart, (a, b)


def test_facets_show_plain_names_and_a_filtered_view_exports_as_csv(server, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page.goto(server["base"] + "/clausewatch/current_clauses?_search=monthly+active+users")
    label = TAGS["restrict.scale_threshold"][0]
    page.click(f".facet-info a:text-is('{label}')")
    page.wait_for_url("**tags__arraycontains=restrict.scale_threshold*")
    page.check("#export input[name=_dl]")
    with page.expect_download() as download:
        page.click("#export input[type=submit]")
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    page.close()
    assert len(rows) >= 1 and all("restrict.scale_threshold" in r["tags"] for r in rows)
