"""A replay of real histories: version sequences built at test time from corpus documents, with injected
noise of every cosmetic kind, flaps and real edits, crawled over the local replay server into a real SQLite
file, processed and compared by the real pipeline. The alerts must be exactly one per real change, none
for noise, one for a flap (and none when it flaps again), and none for a change that did not persist.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from clausewatch.db import connect
from tests.conftest import write_corpus, write_source

DAYS = [f"2025-0{m}-{d:02d}" for m in (1, 2, 3) for d in (3, 13, 23)] + ["2025-04-03"]


def replace_once(text: str, old: str, new: str) -> str:
    assert old in text, f"test fixture: {old!r} not found in the corpus document"
    return text.replace(old, new, 1)


def typo(text: str) -> tuple[str, str, str]:
    """A long word used once, two inner letters swapped: (text with the typo, word, misspelling)."""
    words = re.findall(r"\b[a-z]{9,}\b", text)
    word = next(w for w in words if words.count(w) == 1)
    wrong = word[:3] + word[4] + word[3] + word[5:]
    return re.sub(rf"\b{word}\b", wrong, text, count=1), word, wrong


def policy_versions(corpus: Path) -> list[str]:
    """A use policy (Markdown) from the corpus: noise of every kind, one real edit and its flaps."""
    source = (corpus / "llama-aup" / "3.1.md").read_text(encoding="utf-8")
    title, _, rest = source.partition("\n\n")
    base = (f"{title}\n\nUpdated 5 days ago\n\n{rest.rstrip()}\n\n"
            "See the [transparency report](https://example.com/report) for how we enforce this Policy.\n\n"
            "This Policy applies from August 28, 2025 to every use of the models.\n")
    relative = replace_once(base, "Updated 5 days ago", "Updated 3 weeks ago")
    dated = replace_once(replace_once(relative, "from August 28, 2025", "from 28 August 2025"),
                         "https://example.com/report", "https://www.example.com/report/?utm_source=news&fbclid=Iw1")
    misspelt, _, _ = typo(dated)
    sentence = next(p for p in misspelt.split("\n\n") if p.startswith("We want everyone"))
    noisy = replace_once(replace_once(misspelt, sentence, sentence.upper()), " the ", " the the ")
    item = "        * Sexual solicitation\n"
    edited = replace_once(noisy, item, item + "        * Generating or sending spam or phishing messages at scale\n")
    relaid = re.sub(r"(?m)^(\s*)\* ", r"\1- ", noisy)                   # bullets "*" -> "-"
    relaid = relaid.replace("If you access or use", "If you access\nor use", 1)   # re-wrapped
    # v1 base, v2-v4 noise, v5 real edit, v6 flap back to v4, v7 again v5, v8 again v4, then v9 = v8 re-laid
    return [base, relative, dated, noisy, edited, noisy, edited, noisy, relaid]


def licence_versions(corpus: Path) -> list[str]:
    """A licence (plain text) from the corpus: three real edits between noise."""
    base = (corpus / "llama-license" / "3.1.txt").read_text(encoding="utf-8")
    commercial = next(line for line in base.splitlines() if "700 million" in line)
    split = replace_once(base, commercial, commercial.replace(", you must request", ",\n\nyou must request"))
    threshold = replace_once(split, "700 million", "500 million")
    linked = replace_once(replace_once(threshold, "https://llama.meta.com/doc/overview",
                                       "https://www.llama.com/docs/overview?utm_campaign=launch"),
                          "“Documentation”", '"Documentation"')
    denied = replace_once(linked, "Meta hereby grants you a license to use", "Meta does not grant you a license to use")
    warranty = next(line for line in denied.splitlines() if "DISCLAIMER OF WARRANTY" in line.upper()
                    and "UNLESS REQUIRED" in line)
    lowered = replace_once(denied, warranty, warranty[:30] + warranty[30:].lower())
    use_line = next(line for line in lowered.splitlines() if "must comply with applicable laws" in line)
    removed = replace_once(lowered, use_line + "\n", "")
    # v1, v2 paragraph split, v3 REAL threshold, v4 URL + quotes, v5 REAL negation, v6 case, v7 REAL removal
    return [base, split, threshold, linked, denied, lowered, removed]


PAGE = """<!doctype html><html><head><title>Sub-processors</title></head><body>
<nav><a href="/">Home</a> <a href="/blog">Blog</a> <span class="visits">Visits: {visits}</span></nav>
<main>
<h1>Sub-processors</h1>
<p class="views">Views: {views}</p>
{intro}
<p>We use the following sub-processors to provide the Services:</p>
<table><tr><th>Name</th><th>Purpose</th><th>Location</th></tr>
{rows}</table>
</main>
<footer>© Example Labs · <a href="/careers">We are hiring: {jobs} open roles</a></footer>
</body></html>"""

ROWS = [("Amazon Web Services", "Cloud hosting", "United States"), ("Example Analytics", "Product analytics", "Ireland")]
NEW_ROW = ("Acme Mail", "Email delivery", "Germany")


def page(intro: str, rows: list[tuple[str, str, str]], k: int) -> str:
    cells = "".join(f"<tr><td>{a}</td><td>{b}</td><td>{c}</td></tr>\n" for a, b, c in rows)
    return PAGE.format(visits=1000 + 37 * k, views=50 + k, jobs=3 + k % 4, intro=intro, rows=cells)


def page_versions(corpus: Path) -> list[str]:
    """A web page with chrome (navigation, counters, a footer teaser) around a table of sub-processors;
    its changes must persist two fetches before they alert."""
    gemma = (corpus / "gemma-terms" / "2025-03-24.txt").read_text(encoding="utf-8")
    paragraphs = [p for p in gemma.split("\n\n") if len(p.split()) > 25][:3]
    intro = "".join(f"<p>{' '.join(p.split())}</p>\n" for p in paragraphs)
    added = [ROWS[0], NEW_ROW, ROWS[1]]
    return [page(intro, ROWS, 0),            # p1
            page(intro, ROWS, 1),            # chrome only: an unchanged fetch, p1 persists
            page(intro, added, 2),           # p2: a row added ... for one fetch only
            page(intro, ROWS, 3),            # p3: back to p1
            page(intro, added, 4),           # p4: the row again
            page(intro, added, 5),           # chrome only: p4 persists
            page(intro, [ROWS[0], NEW_ROW], 6)]   # p5: a row removed (the latest: waits for a second fetch)


@pytest.fixture
def history(tmp_path, corpus):
    files: dict[str, tuple[str, str]] = {}
    replay: dict[str, list[str]] = {}
    for source_id, folder, ext, texts in [("acme-use-policy", "policy", "md", policy_versions(corpus)),
                                          ("acme-licence", "licence", "txt", licence_versions(corpus)),
                                          ("acme-subprocessors", "page", "html", page_versions(corpus))]:
        for k, text in enumerate(texts):
            rel = f"{folder}/{DAYS[k]}.{ext}"
            files[rel] = (DAYS[k], text)
            replay.setdefault(source_id, []).append(rel)
    root = write_corpus(tmp_path / "corpus", files)
    sources = tmp_path / "sources"
    write_source(sources, "acme-use-policy", "https://acme.example/policy.md", fmt="markdown",
                 replay=replay["acme-use-policy"], kind="use-policy")
    write_source(sources, "acme-licence", "https://acme.example/LICENSE", replay=replay["acme-licence"])
    write_source(sources, "acme-subprocessors", "https://acme.example/subprocessors", fmt="html",
                 replay=replay["acme-subprocessors"], kind="use-policy",
                 extra="""
                 alert_after_fetches: 2
                 selectors:
                   keep: [main]
                   drop: ["^Views: \\\\d+$"]
                 """)
    env = {"CLAUSEWATCH_SOURCES": str(sources), "CLAUSEWATCH_DB": str(tmp_path / "cw.db")}
    return root, env, tmp_path / "cw.db"


def comparisons(db, source_id: str) -> list[dict]:
    return list(db.query(
        """SELECT v.seq, v.valid_from, cc.scope, cc.changes, cc.substantive, cc.old_version_id,
                  cc.reverted_to_version_id, rv.seq AS reverted_to_seq, rv.valid_from AS reverted_to_date,
                  (SELECT count(*) FROM changes ch WHERE ch.new_version_id = v.id AND ch.alert = 1) AS alerts,
                  (SELECT count(*) FROM changes ch WHERE ch.new_version_id = v.id AND ch.alert IS NULL) AS waiting
           FROM versions v JOIN sources s ON s.id = v.source_id
           JOIN change_comparisons cc ON cc.new_version_id = v.id
           LEFT JOIN versions rv ON rv.id = cc.reverted_to_version_id
           WHERE s.source_id = ? ORDER BY v.seq""", [source_id]))


def test_one_alert_per_real_change_none_for_noise_one_for_a_flap(history, cli):
    root, env, db_file = history
    cli("crawl", "--replay", str(root), env=env, check=True)
    db = connect(db_file)
    assert db.execute("SELECT count(*) FROM versions").fetchone()[0] >= 20

    policy = comparisons(db, "acme-use-policy")
    assert [c["seq"] for c in policy] == list(range(1, 10))
    # noise of every kind (relative date, date format, link tracking, typo, repeated word, case, bullets,
    # re-wrapping) is never substantive
    for c in (policy[1], policy[2], policy[3], policy[8]):
        assert c["substantive"] == 0, c
    assert all(c["changes"] >= 1 for c in policy[1:4])     # found, and judged cosmetic
    assert [c["alerts"] for c in policy] == [0, 0, 0, 0, 1, 1, 0, 0, 0]   # the edit, then its flap back, once
    assert policy[4]["substantive"] == 1
    assert [c["reverted_to_seq"] for c in policy] == [None, None, None, None, None, 4, 5, 6, None]
    assert policy[5]["reverted_to_date"] == DAYS[3]

    reasons = {r for (r,) in db.execute(
        """SELECT j.value FROM changes ch JOIN sources s ON s.id = ch.source_id, json_each(ch.cosmetic_reasons) j
           WHERE s.source_id IN ('acme-use-policy', 'acme-licence')""")}
    assert {"relative_date", "date_format", "url_tracking", "typo", "repeated_word", "case", "urls",
            "quotes"} <= reasons, reasons

    licence = comparisons(db, "acme-licence")
    assert [c["substantive"] for c in licence] == [0, 0, 1, 0, 1, 0, 1]
    assert [c["alerts"] for c in licence] == [0, 0, 1, 0, 1, 0, 1]
    assert all(c["changes"] >= 1 for c in licence[1:])

    page = comparisons(db, "acme-subprocessors")
    assert [c["seq"] for c in page] == [1, 2, 3, 4, 5]           # the chrome-only fetches stored nothing
    versions = {v["seq"]: v["id"] for v in db.query(
        "SELECT v.* FROM versions v JOIN sources s ON s.id = v.source_id WHERE s.source_id = 'acme-subprocessors'")}
    assert page[1]["substantive"] == 1 and page[1]["alerts"] == 0    # replaced after one fetch: never alerts
    assert page[2]["changes"] == 0 and page[2]["old_version_id"] == versions[1]   # compared with what persisted
    assert page[2]["reverted_to_seq"] == 1
    assert page[3]["alerts"] == 1 and page[3]["old_version_id"] == versions[1]
    assert page[4]["substantive"] == 1 and page[4]["waiting"] == 1 and page[4]["alerts"] == 0

    # a second crawl: one 304 per source; the latest page version has now persisted two fetches
    cli("crawl", "--replay", str(root), env=env, check=True)
    db = connect(db_file)
    page = comparisons(db, "acme-subprocessors")
    assert page[4]["alerts"] == 1 and page[4]["waiting"] == 0

    from clausewatch.db.subscriptions import substantive_changes

    sent = substantive_changes(db)
    assert len(sent) == 2 + 3 + 2
    assert len({c["fingerprint"] for c in sent}) == len(sent)
    flap = [c for c in sent if c["reverted_to_date"]]
    assert sorted((c["source"], c["kind"], c["reverted_to_date"]) for c in flap) == [
        ("acme-subprocessors", "added", DAYS[2]), ("acme-use-policy", "removed", DAYS[3])]

    status = cli("status", "--format", "json", env=env, check=True)
    assert '"source_id": "acme-use-policy"' in status.stdout and '"reverts": 3' in status.stdout
