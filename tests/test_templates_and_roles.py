"""Declarations for issue 15 (template, role, alert_after_fetches, text selectors) and template copies in the
detect step: a copy is compared with its template (built-in or a declared source), never as a release."""
from __future__ import annotations

import pytest

from clausewatch.crawlers.extract import ExtractionError, extract
from clausewatch.crawlers.registry import DeclarationError, load_registry
from clausewatch.crawlers.templates import BUILTIN_TEMPLATES, template_text
from tests.conftest import write_source
from tests.test_history import _source, _store


def test_declaration_fields(tmp_path):
    write_source(tmp_path, "acme-mit", "https://acme.example/LICENSE", extra="template: mit\nrole: document\n")
    write_source(tmp_path, "acme-page", "https://acme.example/ai", fmt="html",
                 extra="role: context\nalert_after_fetches: 3\nselectors:\n  keep: [main]\n  drop: ['^Share this']\n")
    write_source(tmp_path, "acme-apache", "https://acme.example/APACHE", extra="template: acme-mit\n")
    registry = load_registry(tmp_path)
    assert registry.sources["acme-mit"].template == "mit" and registry.sources["acme-page"].role == "context"
    assert registry.sources["acme-page"].alert_after_fetches == 3
    assert registry.sources["acme-mit"].as_row()["alert_after_fetches"] == 1


@pytest.mark.parametrize("extra,message", [
    ("template: gpl-9\n", "field 'template' names neither a declared source nor a built-in template"),
    ("role: landing\n", "field 'role' is invalid"),
    ("alert_after_fetches: 0\n", "field 'alert_after_fetches' is invalid"),
    ("selectors:\n  drop: ['(']\n", "field 'selectors.drop.0' is not a valid regex"),
    ("selectors:\n  start: '['\n", "field 'selectors.start' is not a valid regex"),
])
def test_bad_declaration_fields(tmp_path, extra, message):
    write_source(tmp_path, "acme-bad", "https://acme.example/x", extra=extra)
    with pytest.raises(DeclarationError, match=message):
        load_registry(tmp_path)


def test_builtin_templates_have_placeholders():
    for name in BUILTIN_TEMPLATES:
        assert "<year>" in template_text(name) and "<copyright holder" in template_text(name)
    assert template_text("gpl-9") is None


PAGE = b"""<html><body><nav>Home | Blog</nav><main>
<p>Counter: 1,234 supporters</p><h1>Terms</h1><p>1. You may use the service.</p>
<p>2. You must not resell it.</p><p>Share this page</p><p>Related news: a new office opens</p></main></body></html>"""


def test_text_selectors_keep_the_document_part():
    text = extract(PAGE, "html", selectors={"keep": ["main"], "start": "^# Terms", "end": "^Related news",
                                           "drop": ["^Share this"]}).text
    assert text.startswith("# Terms") and "resell" in text
    assert "Counter" not in text and "Share this" not in text and "Related" not in text
    markdown = b"Menu\n\n# Policy\n\nDo not harm people.\n\nShare this\n"
    assert extract(markdown, "markdown", selectors={"start": "^# Policy", "drop": ["^Share"]}).text == \
        "# Policy\n\nDo not harm people."
    with pytest.raises(ExtractionError, match="selector start"):
        extract(markdown, "markdown", selectors={"start": "^# Nothing like it"})


MIT_COPY = template_text("mit").replace("<year> <copyright holders>", "2025 Example Labs")


def _copy_db(tmp_path):
    from clausewatch.db import connect
    from clausewatch.db.documents import sync_sources

    db = connect(tmp_path / "cw.db")
    sync_sources(db, [{**_source("acme-1-license", "acme-license", "1", "2024-01-01"), "template": None},
                      {**_source("acme-2-license", "acme-license", "2", "2025-01-01"), "template": "mit"},
                      {**_source("acme-3-license", "acme-license", "3", "2025-06-01"), "template": "acme-template"},
                      {**_source("acme-template", "acme-template", "1", "2025-06-01"), "template": None}])
    return db


def test_copy_of_a_template_is_compared_with_it(tmp_path):
    from clausewatch.db.comparisons import changes_of, comparisons_of
    from clausewatch.stages.detect import detect_changes

    db = _copy_db(tmp_path)
    _store(db, "acme-1-license", "2024-01-01", "ACME LICENSE\n\nYou may use the model for research only.")
    _store(db, "acme-2-license", "2025-01-01", MIT_COPY)
    added = MIT_COPY.replace("THE SOFTWARE IS PROVIDED", "The Software may not be used for surveillance.\n\n"
                             "THE SOFTWARE IS PROVIDED")
    _store(db, "acme-3-license", "2025-06-01", added)
    result = detect_changes(db)
    assert result["deferred"] == 1                       # acme-template has no version yet
    scopes = {c["source"]: c["scope"] for c in comparisons_of(db)}
    assert scopes["acme-2-license"] == "template"        # not a release after acme-1-license
    assert not changes_of(db, source_id="acme-2-license", substantive=True)
    assert "acme-3-license" not in scopes

    _store(db, "acme-template", "2025-06-01", template_text("mit"))
    detect_changes(db)
    deviations = changes_of(db, source_id="acme-3-license", scope="template", substantive=True)
    assert [(c["kind"], c["new_text"]) for c in deviations] == [
        ("added", "The Software may not be used for surveillance.")]
    assert deviations[0]["alert"] == 1
