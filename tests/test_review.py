"""Held pages are reviewed by people; an extractor or selector change re-extracts without fetching."""
from __future__ import annotations

from clausewatch.db import connect
from tests.conftest import write_corpus, write_source
from tests.test_crawl import _Site, site  # noqa: F401 - the live local site fixture

LICENCE = "\n\n".join(f"{i}. The licensee may use, copy and modify the model under condition {i}, "
                      "subject to the attribution and the acceptable use terms." for i in range(1, 40)) + "\n"
MAINTENANCE = "Down for maintenance\n\nOur site is under scheduled maintenance. Please come back later.\n"


def test_a_held_page_is_listed_rejected_or_accepted(tmp_path, site, cli):  # noqa: F811
    sources = tmp_path / "sources"
    write_source(sources, "live-terms", f"{site}/terms")
    env = {"CLAUSEWATCH_SOURCES": str(sources), "CLAUSEWATCH_DB": str(tmp_path / "cw.db"),
           "CLAUSEWATCH_ALLOW_LOCAL": "1"}
    _Site.pages["/terms"] = LICENCE.encode()
    cli("crawl", "--no-process", env=env, check=True)
    _Site.pages["/terms"] = MAINTENANCE.encode()
    cli("crawl", "--no-process", env=env, check=True)
    listed = cli("held", env=env, check=True).stdout
    assert "live-terms" in listed and "1 held pages waiting" in listed
    assert "rejected" in cli("held", "--reject", "1", env=env, check=True).stdout

    cli("crawl", "--no-process", env=env, check=True)  # still the maintenance page: held again
    accepted = cli("held", "--accept", "2", env=env, check=True).stdout
    db = connect(tmp_path / "cw.db")
    texts = [r[0] for r in db.execute("SELECT text FROM versions ORDER BY seq")]
    assert len(texts) == 2 and "maintenance" in texts[1] and "stored as version" in accepted
    assert [r[0] for r in db.execute("SELECT status FROM held_versions ORDER BY id")] == ["rejected", "accepted"]
    again = cli("held", "--accept", "2", env=env)
    assert again.returncode == 2 and "already accepted" in again.stderr
    assert cli("held", "--reject", "99", env=env).returncode == 2


def test_a_selector_change_is_a_technical_reextraction_not_a_change(tmp_path, cli):
    page = ("<html><body><div class='nav'>Menu</div><div class='main'><p>1. You may use the model.</p></div>"
            "<div class='annex'><p>Annex: You must not use it for weapons.</p></div></body></html>")
    corpus = write_corpus(tmp_path / "corpus", {"terms.html": ("2024-01-01", page)})
    sources = tmp_path / "sources"
    declare = lambda keep: write_source(  # noqa: E731
        sources, "html-terms", "https://example.org/terms", fmt="html", replay=["terms.html"],
        extra=f"selectors:\n  keep: [{keep}]\n")
    env = {"CLAUSEWATCH_SOURCES": str(sources), "CLAUSEWATCH_DB": str(tmp_path / "cw.db")}
    declare('".main"')
    cli("crawl", "--replay", str(corpus), "--no-process", env=env, check=True)
    declare('".main", ".annex"')
    out = cli("crawl", "--replay", str(corpus), "--no-process", env=env, check=True)
    assert "technical re-extraction" in out.stderr
    db = connect(tmp_path / "cw.db")
    versions = list(db.query("SELECT text, technical FROM versions ORDER BY seq"))
    assert [v["technical"] for v in versions] == [0, 1]
    assert "weapons" not in versions[0]["text"] and "weapons" in versions[1]["text"]
    outcomes = [r[0] for r in db.execute("SELECT outcome FROM fetches ORDER BY id")]
    assert outcomes == ["new_version", "not_modified"]  # nothing fetched again for the re-extraction


def test_the_reextract_command_stores_technical_versions_without_fetching(tmp_path, cli):
    page = ("<html><body><div class='main'><p>1. You may copy the weights.</p></div>"
            "<div class='extra'><p>2. You may not sell access to them.</p></div></body></html>")
    corpus = write_corpus(tmp_path / "corpus", {"page.html": ("2024-02-01", page)})
    sources = tmp_path / "sources"
    declare = lambda keep: write_source(  # noqa: E731
        sources, "page-terms", "https://example.org/page", fmt="html", replay=["page.html"],
        extra=f"selectors:\n  keep: [{keep}]\n")
    env = {"CLAUSEWATCH_SOURCES": str(sources), "CLAUSEWATCH_DB": str(tmp_path / "cw.db")}
    declare('".main"')
    cli("crawl", "--replay", str(corpus), "--no-process", env=env, check=True)

    # nothing stale: nothing checked, nothing stored
    idle = cli("reextract", env=env, check=True).stdout
    assert "re-extracted 0 sources: 0 technical versions" in idle
    # the selector widened: the stored snapshot is extracted again, no fetch
    declare('".main", ".extra"')
    out = cli("reextract", "--source", "page-terms", env=env, check=True).stdout
    assert "re-extracted 1 sources: 1 technical versions, 0 unchanged, 0 errors" in out
    # forced again with the same selectors: the same text, so no new version
    forced = cli("reextract", "--force", env=env, check=True).stdout
    assert "1 sources: 0 technical versions, 1 unchanged" in forced
    db = connect(tmp_path / "cw.db")
    versions = list(db.query("SELECT text, technical FROM versions ORDER BY seq"))
    assert [v["technical"] for v in versions] == [0, 1] and "sell access" in versions[1]["text"]
    assert db.execute("SELECT COUNT(*) FROM fetches").fetchone()[0] == 1
    # a selector that matches nothing: the error is reported, the stored version kept
    declare('".gone"')
    broken = cli("reextract", env=env, check=True)
    assert "1 errors" in broken.stdout and "re-extraction failed, the stored version is kept" in broken.stderr
    assert db.execute("SELECT COUNT(*) FROM versions").fetchone()[0] == 2
    missing = cli("reextract", env={**env, "CLAUSEWATCH_DB": str(tmp_path / "none.db")})
    assert missing.returncode == 2 and "no database yet" in missing.stderr
