"""`process --source ID` and change detection for one source touch that source's versions only."""
from __future__ import annotations

from clausewatch.db import connect
from clausewatch.db.clauses import versions_to_process
from clausewatch.db.comparisons import versions_to_compare
from clausewatch.db.documents import Fetched, record_document, sync_sources


def test_a_source_filter_keeps_other_sources_out(tmp_path):
    db = connect(tmp_path / "cw.db")
    sync_sources(db, [{"source_id": sid, "title": sid, "url": f"https://example.org/{sid}", "format": "text"}
                      for sid in ("a", "b")])
    for pk, text in ((1, "Terms of a."), (2, "Terms of b.")):
        record_document(db, None, Fetched(source=pk, url="u", requested_at="2024-01-01T00:00:00Z",
                                          http_status=200, outcome="new_version", body=text.encode()),
                        text=text, extractor_version="x")
    assert {r["source"] for r in versions_to_process(db, "1")} == {"a", "b"}
    assert [r["source"] for r in versions_to_process(db, "1", ["a"])] == ["a"]
    assert [r["source"] for r in versions_to_compare(db, "d1", ["b"])] == ["b"]
