"""The site as an analyst's tool, through Datasette's ASGI client: timelines, diffs with their neighbours and
"compare any two", stored versions, the ranked search, plain names, renditions, honest status, feeds.

Two real databases: our own test texts through the real pipeline (tests/fixtures/site/tracker.py), where
the answers are known, and the corpus replayed by a real `clausewatch crawl` (the Llama and Gemma
histories, the three renditions of the AI Act).
"""
from __future__ import annotations

import re
import sqlite3
from urllib.parse import parse_qs, urlsplit

import feedparser
import pytest

from clausewatch.db.glossary import TAGS
from clausewatch.web.datasette_app import build_datasette
from tests.fixtures.site.tracker import build_tracker
from tests.test_datasette import Client

PUBLIC = "https://cw.example.org"


def rows(path, sql, params=()):
    with sqlite3.connect(path) as conn:
        conn.row_factory = sqlite3.Row
        return [dict(r) for r in conn.execute(sql, params)]


@pytest.fixture(scope="module")
def tracker(tmp_path_factory):
    path = tmp_path_factory.mktemp("site") / "tracker.db"
    info = build_tracker(path)
    return path, info, Client(build_datasette(path, public_url=PUBLIC))


@pytest.fixture(scope="module")
def corpus_site(corpus_site_db):
    return corpus_site_db, Client(build_datasette(corpus_site_db, public_url=PUBLIC))


def links(html: str, pattern: str) -> list[str]:
    return re.findall(pattern, html)


# ------------------------------------------------------------------ timelines

def test_a_family_timeline_has_one_step_per_text_with_its_own_counts(tracker):
    path, info, client = tracker
    page = client.get("/-/timeline/acme-license")
    assert page.status_code == 200
    v = info["versions"]
    order = [int(x) for x in links(page.text, r'data-version="(\d+)"')]
    assert order == [v["acme-1-license"][0], v["acme-2-license"][0], v["acme-3-license"][0]]
    for old, new in ((v["acme-1-license"][0], v["acme-2-license"][0]), (v["acme-2-license"][0], v["acme-3-license"][0])):
        assert f'href="/-/diff/{old}/{new}"' in page.text
    # release 3 drops the output ban and adds the licensor's power to change the terms
    step = page.text.split(f'data-version="{v["acme-3-license"][0]}"')[1].split("</tr>")[0]
    assert TAGS["restrict.output_use"][0] in step.split('cw-col-lost')[1]
    assert TAGS["licensor.update_terms"][0] in step.split('cw-col-gained')[1].split('cw-col-lost')[0]
    counts = rows(path, "SELECT changes, substantive FROM change_comparisons WHERE new_version_id = ?",
                  [v["acme-3-license"][0]])[0]
    assert f'<td class="cw-col-substantive" data-label="Substantive"><b>{counts["substantive"]}</b>' in step
    # the policy the licences incorporate changed once: shown with the licence, counted under the policy
    assert "its Acme Acceptable Use Policy: 1 substantive" in page.text
    assert page.text.count("its Acme Acceptable Use Policy") == 1
    assert "Zeta" not in page.text and client.get("/-/timeline/zeta-license").status_code == 200
    assert "never fetched" in client.get("/-/timeline/zeta-license").text
    assert client.get("/-/timeline/no-such-family").status_code == 404


def test_the_timeline_index_lists_every_family(tracker):
    _, _, client = tracker
    page = client.get("/-/timeline")
    for family in ("acme-license", "acme-policy", "test-act", "zeta-license"):
        assert f'href="/-/timeline/{family}"' in page.text


def test_a_policy_change_is_counted_once_not_again_per_licence(tracker):
    path, info, client = tracker
    old, new = info["versions"]["acme-policy"]
    assert len(rows(path, "SELECT 1 FROM changes WHERE new_version_id = ? AND scope = 'incorporated'", [new])) == 3
    history = client.get("/clausewatch/document_history.json?_shape=objects&source=acme-policy").json()["rows"]
    latest = next(r for r in history if r["version_id"] == new)
    assert (latest["changes"], latest["substantive"]) == (1, 1) and latest["diff_page"] == f"/-/diff/{old}/{new}"
    first = next(r for r in history if r["version_id"] == old)
    assert first["diff_page"] == f"/-/version/{old}"
    diff = client.get(f"/-/diff/{old}/{new}")
    assert diff.text.count('<article class="cw-change') == 1 and "1 clause change, 1 substantive" in diff.text
    home = client.get("/").text
    substantive = rows(path, "SELECT count(*) AS n FROM changes WHERE substantive = 1 AND scope != 'incorporated'")[0]
    assert f"<strong>{substantive['n']}</strong> substantive changes" in home


def test_a_release_links_to_its_diff_never_to_itself(tracker):
    _, info, client = tracker
    first, second = info["versions"]["acme-1-license"][0], info["versions"]["acme-2-license"][0]
    history = client.get("/clausewatch/document_history.json?_shape=objects&source=acme-2-license").json()["rows"]
    assert history[0]["diff_page"] == f"/-/diff/{first}/{second}" and history[0]["compared_as"] == "release"
    redirect = client.get(f"/-/diff/{second}")
    assert redirect.status_code == 302 and redirect.headers["location"] == f"/-/diff/{first}/{second}"
    same = client.get(f"/-/diff/{second}/{second}")
    assert same.status_code == 302 and same.headers["location"] == f"/-/version/{second}"
    assert client.get(f"/-/diff/{first}").headers["location"] == f"/-/version/{first}"


# ------------------------------------------------------------------ diffs: neighbours, compare any two

def test_every_diff_page_links_the_previous_and_next_step(tracker):
    _, info, client = tracker
    v1, v2, v3 = (info["versions"][f"acme-{n}-license"][0] for n in (1, 2, 3))
    middle = client.get(f"/-/diff/{v1}/{v2}").text
    assert f'rel="next" href="/-/diff/{v2}/{v3}"' in middle and 'rel="prev"' not in middle
    last = client.get(f"/-/diff/{v2}/{v3}").text
    assert f'rel="prev" href="/-/diff/{v1}/{v2}"' in last and 'rel="next"' not in last
    assert 'href="/-/timeline/acme-license"' in last


def test_any_two_versions_picked_from_the_menus_open_a_stored_comparison(tracker):
    _, info, client = tracker
    page = client.get("/-/timeline/acme-license").text
    menu = [int(x) for x in links(page.split('id="cw-old"')[1].split("</select>")[0], r'value="(\d+)"')]
    assert len(menu) == 3
    for a in menu:
        for b in menu:
            response = client.get(f"/-/compare?old={a}&new={b}")
            assert response.status_code == 302
            target = response.headers["location"]
            if a == b:
                assert target == f"/-/version/{a}"
                continue
            older, newer = sorted((a, b), key=menu.index)
            assert target == f"/-/diff/{older}/{newer}"
            diff = client.get(target).text
            assert "has not compared" not in diff and re.search(r"\d+ clause changes?, \d+ substantive", diff)
    v1, v3 = info["versions"]["acme-1-license"][0], info["versions"]["acme-3-license"][0]
    skipped = client.get(f"/-/diff/{v1}/{v3}").text
    assert "two versions of acme-license you picked" in skipped and "pair_changes.csv" in skipped
    assert "100" in skipped and "500" in skipped  # the user cap, from release 1 to release 3
    reverse = client.get(f"/-/diff/{v3}/{v1}").text
    assert "has not compared these two versions in this order" in reverse and f"/-/diff/{v1}/{v3}" in reverse
    assert client.get("/-/compare?old=1&new=999999").status_code == 404


# ------------------------------------------------------------------ a stored version

def test_a_stored_version_shows_its_archived_clauses_and_tags(tracker):
    path, info, client = tracker
    vid = info["versions"]["acme-1-license"][0]
    page = client.get(f"/-/version/{vid}")
    assert page.status_code == 200
    clauses = rows(path, "SELECT id, path FROM clauses WHERE version_id = ?", [vid])
    for c in clauses:
        assert f'href="/-/clause/{c["id"]}"' in page.text
    assert TAGS["restrict.output_use"][0] in page.text and "the live document" in page.text
    assert "100 million" in page.text
    raw = client.get(f"/-/version/{vid}?text=1").text
    assert "ACME MODEL LICENCE AGREEMENT" in raw and "<pre" in raw
    only = client.get(f"/-/version/{vid}?tag=restrict.output_use").text
    assert only.count('class="cw-path"') == 1
    assert client.get("/-/version/999999").status_code == 404


# ------------------------------------------------------------------ search

def test_search_page_ranks_highlights_and_filters(tracker):
    _, _, client = tracker
    page = client.get("/-/search?q=monthly+active+users")
    assert page.status_code == 200
    assert page.text.count('class="cw-hit"') >= 3 and "<mark>monthly</mark>" in page.text
    assert 'data-facet="kind"' in page.text and 'data-facet="tag"' in page.text
    assert TAGS["restrict.scale_threshold"][0] in page.text
    filtered = client.get("/-/search?q=monthly+active+users&kind=license")
    assert "Licence" in filtered.text and 'class="cw-remove"' in filtered.text
    # plain words for a topic: the matching topic is offered
    assert TAGS["restrict.output_use"][0] in client.get("/-/search?q=train+other+models").text


def test_search_finds_both_spellings_and_says_so(tracker):
    _, _, client = tracker
    british, american = client.get("/-/search?q=licence").text, client.get("/-/search?q=license").text
    assert "Also searched: license" in british and "Also searched: licence" in american
    count = re.compile(r'id="cw-count">\s*<b>(\d+)</b>')
    assert count.search(british).group(1) == count.search(american).group(1)


def test_search_shows_a_document_once_with_its_other_renditions(tracker):
    _, _, client = tracker
    page = client.get("/-/search?q=fines").text
    assert "test-act-pdf" not in re.sub(r'href="[^"]*"', "", page.split('class="cw-results"')[1])
    assert "also as" in page and "PDF" in page and "search every rendition" in page
    every = client.get("/-/search?q=fines&renditions=all").text
    assert "Regulation (EU) 2030/1, PDF" in every


def test_search_without_words_lists_a_topic_and_the_start_page_lists_topics(tracker):
    _, _, client = tracker
    start = client.get("/-/search").text
    assert all(label in start for label, _ in list(TAGS.values())[:10])
    topic = client.get("/-/search?tag=restrict.output_use").text
    assert topic.count('class="cw-hit"') == 2


# ------------------------------------------------------------------ plain names

def test_glossary_page_names_every_tag_and_entity_type(tracker):
    _, _, client = tracker
    page = client.get("/-/glossary").text
    from markupsafe import escape

    for tag, (label, definition) in TAGS.items():
        assert f'id="{tag}"' in page and str(escape(label)) in page and str(escape(definition)) in page, tag
    assert "USER_THRESHOLD" in page and "Training compute" in page


def test_facets_and_pages_show_labels_not_ids(tracker):
    _, _, client = tracker
    table = client.get("/clausewatch/current_clauses?_facet_array=tags").text
    facet = table.split('id="facet-tags"')[1].split("</div>")[0]
    assert TAGS["restrict.scale_threshold"][0] in facet and ">restrict.scale_threshold<" not in facet
    assert "tags__arraycontains=restrict.scale_threshold" in facet
    entities = client.get("/clausewatch/entities").text
    assert "User threshold" in entities or "Date" in entities


def test_the_subscription_form_offers_topics_by_plain_name(tracker, monkeypatch):
    path, _, _ = tracker
    from clausewatch.web.choices import filter_choices

    choices = filter_choices(path)
    tags = {value: (label, group) for value, label, group in choices["tag"]}
    assert tags["restrict.output_use"] == (TAGS["restrict.output_use"][0], "What it restricts")
    assert ("license", "Licence", None) in choices["kind"]


# ------------------------------------------------------------------ renditions, status

def test_the_rendition_check_reports_where_renditions_disagree(tracker):
    _, info, client = tracker
    page = client.get("/-/renditions").text
    html, pdf = info["versions"]["test-act-html"][0], info["versions"]["test-act-pdf"][0]
    assert "test-act-2030" in page and "<b>1</b> clause" in page and f"/-/diff/{html}/{pdf}?substantive=1" in page
    diff = client.get(f"/-/diff/{html}/{pdf}?substantive=1").text
    assert "Two renditions of one document" in diff and "<del>15</del>" in diff and "<ins>35</ins>" in diff


def test_status_is_honest_about_sources_never_fetched_failing_or_held(tracker):
    path, _, client = tracker
    home = client.get("/").text
    assert "<strong>1</strong> never fetched" in home and "<strong>1</strong> failing" in home
    assert "<strong>1</strong> held for review" in home
    page = client.get("/-/status").text
    for heading, source in (("Failing (1)", "gone-terms"), ("Never fetched (1)", "zeta-license"),
                            ("Held for review (1)", "held-terms")):
        section = page.split(heading)[1].split("<h2")[0]
        assert source in section, heading
    assert "410 Gone" in page
    panel = client.get("/-/dashboards/tracker").status_code
    assert panel == 200


def test_the_dashboard_panel_of_failing_sources_always_has_a_row(tracker, tmp_path):
    from clausewatch.web.datasette_app import load_metadata

    query = load_metadata()["plugins"]["datasette-dashboards"]["tracker"]["charts"]["failing-sources"]["query"]
    sql = re.sub(r"\[\[.*?\]\]", "", query)
    path, _, _ = tracker
    assert {r["source"] for r in rows(path, sql)} == {"gone-terms", "zeta-license", "held-terms"}
    healthy = tmp_path / "healthy.db"
    from clausewatch import db as store

    store.connect(healthy).close()
    assert [r["source"] for r in rows(healthy, sql)] == ["(none)"]


# ------------------------------------------------------------------ feeds

def fetch_feed(client, url):
    response = client.get(url)
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.bozo_exception
    return feed, response.text


def test_feed_links_are_absolute_and_dates_say_when_the_text_took_effect(tracker):
    path, _, client = tracker
    feed, xml = fetch_feed(client, "/-/feeds/changes.atom")
    assert f'xml:base="{PUBLIC}/"' in xml
    assert feed.entries and all(e.link.startswith(PUBLIC + "/-/diff/") for e in feed.entries)
    stored = {r["id"]: r for r in rows(path, """SELECT ch.id, ch.detected_at, ch.effective_date, nv.seq,
        s.release_date FROM changes ch JOIN versions nv ON nv.id = ch.new_version_id
        JOIN sources s ON s.id = ch.source_id WHERE ch.substantive = 1 AND ch.scope != 'incorporated'""")}
    assert len(feed.entries) == len(stored)
    for entry in feed.entries:
        change = stored[int(entry.link.rsplit("#change-", 1)[1])]
        effective = change["release_date"] if change["seq"] == 1 else change["effective_date"]
        assert entry.published.startswith(effective) and entry.updated.startswith(change["detected_at"][:19])
    family, _ = fetch_feed(client, "/-/feeds/family/acme-license.atom")
    # the policy's change comes with the licences, once although three licences incorporate it
    through = [e for e in family.entries if "through Acme Acceptable Use Policy" in e.content[0].value]
    assert len(through) == 1
    assert not any("through" in e.content[0].value for e in feed.entries)  # the all-changes feed has it as the policy's
    tagged, _ = fetch_feed(client, "/-/feeds/tag/restrict.output_use.atom")
    assert tagged.entries and all("restrict.output_use" in [t.term for t in e.tags] for e in tagged.entries)
    assert client.get("/-/feeds/tag/Bad!Tag.atom").status_code == 404


def test_feeds_are_paged_and_complete(corpus_site):
    path, client = corpus_site
    total = rows(path, "SELECT count(*) AS n FROM change_feed WHERE substantive = 1 AND scope != 'incorporated'")[0]["n"]
    assert total > 50, "the corpus has more substantive changes than one page"
    seen, url, pages = [], "/clausewatch/changes_feed.atom", 0
    while url:
        feed, _ = fetch_feed(client, url)
        pages += 1
        assert feed.feed.subtitle.startswith(f"{total} substantive changes")
        seen += [e.id for e in feed.entries]
        following = [link.href for link in feed.feed.links if link.rel == "next"]
        url = urlsplit(following[0]).path + "?" + urlsplit(following[0]).query if following else None
        if url:
            assert following[0].startswith(PUBLIC) and parse_qs(urlsplit(following[0]).query)["page"]
    assert len(seen) == total == len(set(seen)) and pages == -(-total // 50)


# ------------------------------------------------------------------ the corpus: Llama, Gemma, the AI Act

def test_the_llama_licence_timeline_runs_from_llama_1_to_4(corpus_site):
    path, client = corpus_site
    page = client.get("/-/timeline/llama-license").text
    order = [int(x) for x in links(page, r'data-version="(\d+)"')]
    labels = [rows(path, "SELECT s.version_label FROM versions v JOIN sources s ON s.id = v.source_id WHERE v.id = ?",
                   [vid])[0]["version_label"] for vid in order]
    releases = list(dict.fromkeys(labels))
    assert releases == ["1", "2", "3", "3.1", "3.2", "3.3", "4"]
    steps = rows(path, """SELECT cc.new_version_id, cc.changes, cc.substantive FROM change_comparisons cc
        JOIN versions v ON v.id = cc.new_version_id JOIN sources s ON s.id = v.source_id
        WHERE s.family = 'llama-license' AND cc.old_version_id IS NOT NULL""")
    for step in steps:
        row = page.split(f'data-version="{step["new_version_id"]}"')[1].split("</tr>")[0]
        assert f'data-label="Substantive"><b>{step["substantive"]}</b>' in row
        assert f'data-label="Cosmetic">{step["changes"] - step["substantive"]}<' in row
    gemma = client.get("/-/timeline/gemma-terms").text
    assert len(links(gemma, r'data-version="(\d+)"')) == 2 and "/-/diff/" in gemma


def test_article_53_ranks_article_53_first_and_the_ai_act_appears_once(corpus_site):
    _, client = corpus_site
    page = client.get("/-/search?q=Article+53").text
    hits = re.findall(r'class="cw-hit-link" href="/-/clause/\d+"><b>([^<]+)</b> &rsaquo; ([^<]+)</a>', page)
    assert hits and all(path.startswith("Article 53") for _, path in hits[:10])
    assert "Artificial Intelligence Act" in hits[0][0]
    documents = {doc for doc, _ in hits}
    assert sum("Artificial Intelligence Act" in d for d in documents) == 1, documents
    assert "also as" in page
    second = client.get("/-/search?q=Article+53(2)").text
    first_hit = re.search(r'class="cw-hit-link" href="/-/clause/\d+"><b>([^<]+)</b> &rsaquo; ([^<]+)</a>', second)
    assert first_hit.group(2) == "Article 53 &gt; 2"
