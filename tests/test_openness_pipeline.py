"""Openness ratings over the real corpus: a replay up to mid-2024, subscribers, then the rest of the history.

The Llama 3 -> 3.1 -> 3.2 sequence changes the right verdicts, MIT and Apache-2.0 are open with no fail,
every fail links to a clause holding the deciding tag, the `rate` step is incremental, the CLI and the
Datasette matrix show the stored ratings, and the "rating changed" digest reaches its subscribers once.
"""
from __future__ import annotations

import asyncio
import json
import re

import pytest

from clausewatch.db import connect
from clausewatch.db import openness as store
from tests.conftest import run_cli
from tests.fixtures.digest.support import SmtpServer, bodies

pytestmark = pytest.mark.slow

OPEN_LICENCES = ["apache-2.0", "mit-license", "gpt-oss-license", "deepseek-r1-license", "deepseek-v3-code-license",
                 "phi-4-reasoning-vision-license"]


@pytest.fixture(scope="module")
def smtp():
    server = SmtpServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def replayed(corpus, tmp_path_factory, smtp):
    """Replay as of 2024-06-01, subscribe, replay the rest, send the digests."""
    tmp = tmp_path_factory.mktemp("openness")
    env = {"CLAUSEWATCH_DB": str(tmp / "cw.db"), "CLAUSEWATCH_CONFIG": str(tmp / "none.toml"),
           "CLAUSEWATCH_PUBLIC_URL": "https://cw.example.org", **smtp.env()}
    first = run_cli("crawl", "--replay", str(corpus), "--as-of", "2024-06-01", env=env, check=True)
    subscribers = {
        "rating@example.org": ["--kind", "rating"],
        "family@example.org": ["--family", "llama-license"],
        "outputs@example.org": ["--tag", "restrict.output_use", "--kind", "rating"],
        "gemma@example.org": ["--family", "gemma-terms", "--kind", "rating"],
    }
    for address, filters in subscribers.items():
        run_cli("subscribe", "--email", address, *filters, "--cadence", "immediate", "--confirmed", env=env,
                check=True)
    rest = run_cli("crawl", "--replay", str(corpus), env=env, check=True)
    digest = run_cli("digest", env=env, check=True)
    messages = {rcpts[0]: msg for _, rcpts, msg in smtp.messages}
    again = run_cli("digest", env=env, check=True)
    return {"db": connect(tmp / "cw.db"), "env": env, "first": first, "rest": rest, "digest": digest,
            "messages": messages, "again": again, "mail_count": len(smtp.messages)}


def changes_of(db, source_id: str, scope: str = "effective") -> dict[str, tuple[str, str]]:
    pk = db.execute("SELECT id FROM sources WHERE source_id = ?", [source_id]).fetchone()[0]
    return {c["criterion"]: (c["old_verdict"], c["new_verdict"]) for c in store.rating_changes_of(db, pk, scope)}


def current(db, source_id: str, scope: str = "effective") -> dict:
    rows = [r for r in store.current_ratings(db, scope=scope) if r["source"] == source_id]
    assert rows, f"{source_id} is not rated"
    rating = rows[0]
    rating["criteria"] = {c["criterion"]: c for c in store.criteria_of(db, rating["id"])}
    return rating


# ------------------------------------------------------------------ the Llama sequence

def test_llama_3_to_3_1_lifts_the_output_ban(replayed):
    db = replayed["db"]
    for scope in ("version", "effective"):
        assert changes_of(db, "llama-3.1-license", scope) == {"no_output_restriction": ("fail", "conditional")}
    rating = current(db, "llama-3.1-license")
    duty = rating["criteria"]["no_output_restriction"]
    assert duty["evidence_tags"] == ["obligation.naming"] or "obligation.naming" in duty["evidence_tags"]
    old = current(db, "llama-3-license")["criteria"]["no_output_restriction"]
    assert old["verdict"] == "fail" and old["evidence_tags"] == ["restrict.output_use"]


def test_llama_3_1_to_3_2_the_use_policy_withholds_rights_in_the_eu(replayed):
    db = replayed["db"]
    assert changes_of(db, "llama-3.2-license", "effective") == {"no_geographic_exclusion": ("pass", "fail")}
    assert changes_of(db, "llama-3.2-license", "version") == {}   # the licence text itself did not change
    geo = current(db, "llama-3.2-license")["criteria"]["no_geographic_exclusion"]
    assert geo["evidence"][0]["document"] == "llama-3.2-use-policy" and "domiciled in" in geo["evidence"][0]["excerpt"]


def test_licence_classes_of_the_corpus(replayed):
    db = replayed["db"]
    classes = {r["source"]: r["class"] for r in store.current_ratings(db)}
    for source in ("llama-2-license", "llama-3-license", "llama-3.1-license", "llama-3.2-license", "llama-3.3-license",
                   "llama-4-license", "gemma-terms", "qwen-tongyi-qianwen-license", "deepseek-model-license"):
        assert classes[source] == "restricted", source
    assert classes["llama-1-license"] == "non-commercial"
    for source in OPEN_LICENCES:
        assert classes[source] == "open", source


@pytest.mark.parametrize("source", OPEN_LICENCES)
def test_mit_and_apache_are_open_with_no_failing_criterion(replayed, source):
    for scope in ("version", "effective"):
        rating = current(replayed["db"], source, scope)
        assert rating["class"] == "open"
        assert [c for c, row in rating["criteria"].items() if row["verdict"] in ("fail", "unknown")] == []


def test_every_fail_links_to_a_clause_that_holds_the_deciding_tag(replayed):
    db = replayed["db"]
    fails = list(db.query("SELECT * FROM openness WHERE verdict IN ('fail', 'conditional')"))
    assert len(fails) > 50
    for row in fails:
        tags = json.loads(row["evidence_tags"])
        held = {r[0] for r in db.execute("SELECT tag FROM clause_tags WHERE clause_id = ?", [row["first_clause_id"]])}
        assert held & set(tags), (row["criterion"], row["first_clause_id"], tags, held)
        for e in json.loads(row["evidence"]):
            tagged = db.execute("SELECT 1 FROM clause_tags WHERE clause_id = ? AND tag = ?",
                                [e["clause_id"], e["tag"]]).fetchone()
            assert tagged, (row["criterion"], e)


def test_the_rating_records_its_rule_and_one_row_per_criterion(replayed):
    db = replayed["db"]
    from clausewatch.openness import CRITERIA
    from clausewatch.stages.rate import load_rules, rater_version

    rules = load_rules()
    for rating in db.query("SELECT * FROM openness_ratings"):
        assert rating["rule_version"] == rules.rule_version and rating["rater_version"] == rater_version(rules)
        assert [r["criterion"] for r in store.criteria_of(db, rating["id"])] == list(CRITERIA)


def test_class_per_version_for_the_timeline(replayed):
    db = replayed["db"]
    rows = {r["source"]: r for r in db.query("SELECT * FROM version_openness")}
    assert rows["llama-3.2-license"]["class"] == "restricted"
    assert rows["apache-2.0"]["class"] == "open" and rows["apache-2.0"]["licence_text_class"] == "open"
    vid = rows["mit-license"]["version_id"]
    assert db.execute("SELECT class FROM version_openness WHERE version_id = ?", [vid]).fetchone()[0] == "open"
    # every stored licence version has a class (policies and laws are not rated)
    missing = list(db.query("SELECT source, version_seq FROM version_openness WHERE class IS NULL"))
    assert missing == []


# ------------------------------------------------------------------ incremental

def test_rating_again_rates_nothing_and_a_new_rule_rates_in_place(replayed):
    db = replayed["db"]
    from clausewatch.stages.rate import load_rules, rate_versions

    assert rate_versions(db)["states"] == 0
    before = {r["state_key"]: r["id"] for r in db.query("SELECT state_key, id FROM openness_ratings")}
    changes_before = sorted((c["source"], c["scope"], c["criterion"], c["old_verdict"], c["new_verdict"])
                            for c in store.rating_changes_of(db))
    rules = load_rules()
    newer = type(rules)(rules.version + 1, rules.criteria, rules.classes)
    result = rate_versions(db, rules=newer)
    assert result["states"] == len(before)
    after = {r["state_key"]: r["id"] for r in db.query("SELECT state_key, id FROM openness_ratings")}
    assert after == before, "a state keeps its id when rated again"
    assert {r[0] for r in db.execute("SELECT DISTINCT rule_version FROM openness")} == {newer.rule_version}
    assert sorted((c["source"], c["scope"], c["criterion"], c["old_verdict"], c["new_verdict"])
                  for c in store.rating_changes_of(db)) == changes_before
    rate_versions(db)  # back to the shipped rule for the other tests


# ------------------------------------------------------------------ digests

def test_rating_subscribers_get_the_rating_changes_once(replayed):
    messages = replayed["messages"]
    text, html = bodies(messages["rating@example.org"])
    assert "Llama 3.1 Community License Agreement › openness: No restriction on outputs — fail → conditional" in text
    assert "openness: No geographic exclusion — pass → fail" in text
    assert "https://cw.example.org/-/openness/" in text and "<a href=\"https://cw.example.org/-/openness/" in html
    assert "— modified" not in text and "— removed" not in text, "a rating subscriber got clause changes"
    assert replayed["again"].returncode == 0 and replayed["mail_count"] == len(messages), "sent twice"


def test_family_subscribers_get_clause_changes_and_rating_changes(replayed):
    text, _ = bodies(replayed["messages"]["family@example.org"])
    assert "No restriction on outputs — fail → conditional" in text
    assert re.search(r"Llama 3\.1 Community License Agreement › .* — (removed|modified)", text)


def test_tag_and_family_filters_apply_to_rating_changes(replayed):
    text, _ = bodies(replayed["messages"]["outputs@example.org"])
    assert "No restriction on outputs — fail → conditional" in text
    assert "No geographic exclusion" not in text      # decided by restrict.geographic, not the tag asked for
    assert "gemma@example.org" not in replayed["messages"]  # the Gemma rating did not change after subscribing


def test_rating_changes_in_webhook_payloads_and_feeds(replayed):
    from clausewatch.digest.feed import feed_changes
    from clausewatch.digest.filters import change_key
    from clausewatch.digest.webhook import change_payload

    db = replayed["db"]
    items = store.rating_digest_items(db)
    assert items and all(i["id"] < 0 and i["kind"] == "rating" for i in items)
    assert len({change_key(i) for i in items}) == len(items)
    output = next(i for i in items if i["source"] == "llama-3.1-license" and i["criterion"] == "no_output_restriction")
    body = change_payload(output, "https://cw.example.org/-/openness/1")
    assert (body["kind"], body["criterion"], body["old_verdict"], body["new_verdict"]) == (
        "rating", "no_output_restriction", "fail", "conditional")
    assert body["criterion_label"] == "No restriction on outputs" and body["new_class"] == "restricted"
    feed = feed_changes(db, {"id": 1, "filters": {"kind": ["rating"], "family": ["llama-license"]}})
    assert feed and {c["kind"] for c in feed} == {"rating"}


# ------------------------------------------------------------------ command line and site

def test_cli_matrix_and_one_rating(replayed):
    env = replayed["env"]
    out = run_cli("openness", env=env, check=True).stdout
    assert re.search(r"llama-license\s+llama-3\.2-license\s+1\s+restricted\s+FAIL", out)
    assert re.search(r"apache-2\.0\s+apache-2\.0\s+1\s+open\s+pass", out)
    data = json.loads(run_cli("openness", "llama-3.2-license@latest", "--format", "json", env=env, check=True).stdout)
    assert data["class"] == "restricted" and data["policies"][0]["source"] == "llama-3.2-use-policy"
    geo = next(c for c in data["criteria"] if c["criterion"] == "no_geographic_exclusion")
    assert geo["verdict"] == "fail" and geo["clause_pages"][0].startswith("/-/clause/")
    alone = json.loads(run_cli("openness", "llama-3.2-license", "--scope", "version", "--format", "json", env=env,
                               check=True).stdout)
    assert next(c for c in alone["criteria"] if c["criterion"] == "no_geographic_exclusion")["verdict"] == "pass"
    history = run_cli("openness", "llama-3.1-license", "--history", env=env, check=True).stdout
    assert "no_output_restriction" in history and "release" in history


def test_cli_rates_a_file(corpus, replayed):
    proc = run_cli("openness", str(corpus / "mit" / "mit-deepseek-r1.txt"), "--format", "json", check=True)
    assert json.loads(proc.stdout)["class"] == "open"
    proc = run_cli("openness", str(corpus / "llama-license" / "3.2.txt"), "--policy",
                   str(corpus / "llama-aup" / "3.2.md"), check=True)
    assert "class: restricted" in proc.stdout and "FAIL  No geographic exclusion" in proc.stdout


@pytest.mark.parametrize("args, message", [
    (["no-such-licence"], "unknown source"),
    (["llama-3.2-use-policy"], "is not rated"),
    (["llama-3.2-license@1999-01-01"], "no stored version"),
    (["llama-3.2-license@yesterday"], "is not latest, a date"),
    (["llama-3.2-license", "--policy", "x.md"], "--policy goes with a FILE"),
    (["--family", "no-such-family"], "no rated licence in family no-such-family"),
])
def test_cli_errors_are_one_line(replayed, args, message):
    proc = run_cli("openness", *args, env=replayed["env"])
    assert proc.returncode == 2 and message in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


class Client:
    def __init__(self, ds):
        self.ds, self.loop = ds, asyncio.new_event_loop()
        self.loop.run_until_complete(ds.invoke_startup())

    def get(self, path: str):
        return self.loop.run_until_complete(self.ds.client.get(path))


@pytest.fixture(scope="module")
def site(replayed):
    from pathlib import Path

    from clausewatch.web.datasette_app import build_datasette

    return Client(build_datasette(Path(replayed["env"]["CLAUSEWATCH_DB"])))


def test_matrix_page_links_every_cell_to_its_evidence_clause(replayed, site):
    db = replayed["db"]
    page = site.get("/-/openness")
    assert page.status_code == 200
    html = page.text
    licences = db.execute("SELECT count(DISTINCT source_id) FROM openness_ratings WHERE scope = 'effective'").fetchone()[0]
    assert html.count('<td class="cw-class') == licences
    geo = current(db, "llama-3.2-license")["criteria"]["no_geographic_exclusion"]
    assert f'href="/-/clause/{geo["first_clause_id"]}">fail</a>' in html
    linked = {int(i) for i in re.findall(r'href="/-/clause/(\d+)">(?:fail|conditional|pass)</a>', html)}
    for clause_id in linked:
        assert site.get(f"/-/clause/{clause_id}").status_code == 200
    family = site.get("/-/openness?family=llama-license&scope=version&all=1").text
    assert "Llama 3.1 Community License" in family and "Gemma" not in family.split("<table")[1]


def test_version_page_lists_the_evidence(replayed, site):
    vid = current(replayed["db"], "llama-3.2-license")["version_id"]
    html = site.get(f"/-/openness/{vid}").text
    assert "Effective licence, with <code>llama-3.2-use-policy</code>" in html
    assert "The licence text alone" in html and "No geographic exclusion" in html
    assert "restrict.geographic" in html and "European Union" in html
    assert site.get("/-/openness/999999").status_code == 404
    for view in ("openness_matrix", "version_openness", "openness_criteria", "rating_change_list"):
        assert site.get(f"/clausewatch/{view}.json").status_code == 200, view


def test_the_family_timeline_shows_each_versions_class(replayed, site):
    db = replayed["db"]
    html = site.get("/-/timeline/llama-license").text
    assert '<th class="cw-col-openness">Openness</th>' in html
    llama3 = current(db, "llama-3-license")
    mit = current(db, "mit-license")
    assert llama3["class"] == "restricted" and mit["class"] == "open"
    assert f'href="/-/openness/{llama3["version_id"]}" title="openness rating' in html
    assert html.count('class="cw-openness cw-class-restricted"') >= 5      # Llama 2 to 4, one per release
    assert 'class="cw-openness cw-class-open"' in site.get("/-/timeline/mit").text
