"""The record one fetch of one source makes: the spider creates it, the item pipeline completes it
(extraction outcome), :func:`clausewatch.db.documents.record_document` stores it.

In cluster mode a worker serialises it (``clausewatch.crawlers.item_codec``) into a Redis stream and the
writer stores it; ``item_id`` makes that idempotent."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Fetched:
    """One fetch of one source: the main response and, for multi-part documents, its parts."""

    source: int                      # sources.id
    url: str
    requested_at: str
    http_status: int | None = None
    outcome: str = "error"           # new_version | technical | unchanged | not_modified | held | error | gone
    source_id: str = ""              # the declared id (progress lines, errors)
    format: str = "text"             # declared format: html | pdf | xml | markdown | text
    final_url: str | None = None
    as_of: str | None = None         # replay: the day the corpus was served as of
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    body: bytes | None = None
    duration_ms: int | None = None
    error: str | None = None
    unchanged: bool = False          # same raw bytes as the last stored snapshot: nothing more to do
    selectors: dict | None = None    # declared selectors, for extraction
    parts: list[tuple[str, bytes, dict[str, Any]]] = field(default_factory=list)  # (name, body, fetch fields)
    # cluster mode: what this record is (source, cycle, step), so that storing it twice stores it once
    item_id: str | None = None
