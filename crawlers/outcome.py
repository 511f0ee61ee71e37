"""What becomes of one fetched document, in two steps that can run in different processes.

1. :func:`extract_fetched` (no database): classify the fetch (error, gone, 304, same bytes), refuse bodies
   that cannot be the declared document, extract the text. The in-process item pipeline calls it, and so
   does a cluster worker before it hands the item to the writer.
2. :func:`store_fetched` (the database): hold a replacement page (maintenance, captcha, drastic shrink:
   it needs the previous version's text) and store everything in one transaction through
   :func:`clausewatch.db.documents.record_document`. The in-process pipeline calls it, and so does the
   cluster writer (``clausewatch store``).

One implementation for both modes: a document is extracted, guarded and stored the same way whether it
was fetched by ``clausewatch crawl`` or by a ``clausewatch worker``.
"""
from __future__ import annotations

import email.utils
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from clausewatch.crawlers.extract import EXTRACTOR_VERSION, ExtractionError, extract
from clausewatch.crawlers.guards import content_refusal, replacement_reason
from clausewatch.db.documents import latest_version, record_document, source_pk
from clausewatch.db.records import Fetched


def extraction_key(selectors: dict | None) -> str:
    """What produced a version's text: the extractor version and the declared selectors."""
    blob = json.dumps(selectors or {}, sort_keys=True).encode()
    return f"{EXTRACTOR_VERSION}/{hashlib.sha256(blob).hexdigest()[:12]}"


def valid_from(last_modified: str | None, fallback: str) -> str:
    """The day a version became current: its Last-Modified date when the server says, else the fetch day."""
    if last_modified:
        try:
            return email.utils.parsedate_to_datetime(last_modified).date().isoformat()
        except (TypeError, ValueError):
            pass
    return fallback[:10]


@dataclass
class Extraction:
    """The outcome of :func:`extract_fetched`: what the store is asked to record."""

    outcome: str                       # error | gone | not_modified | unchanged | new_version (a candidate)
    text: str | None = None
    title: str | None = None
    error: str | None = None           # why extraction failed (a fetch error stays on the Fetched record)
    state: dict[str, Any] = field(default_factory=dict)   # source state to set with the fetch

    def to_json(self) -> dict[str, Any]:
        return {"outcome": self.outcome, "title": self.title, "error": self.error, "state": self.state}


def extract_fetched(item: Fetched) -> Extraction:
    """Classify one fetch and extract its text; never raises for a broken document."""
    state: dict[str, Any] = {}
    if item.as_of:
        state["replay_as_of"] = item.as_of
    if item.error:
        return Extraction("gone" if item.http_status in (404, 410) else "error", state=state)
    if item.http_status == 304:
        return Extraction("not_modified", state=state)
    if item.unchanged:
        return Extraction("unchanged", state=state)
    try:
        refusal = content_refusal(item.format, item.content_type, item.body or b"")
        if refusal:
            raise ExtractionError(refusal)
        result = extract(item.body or b"", item.format, selectors=item.selectors,
                         parts={name: body for name, body, _ in item.parts} or None, url=item.url,
                         content_type=item.content_type)
        if not result.text or not result.text.strip():
            raise ExtractionError("no text: the extracted text is empty")
    except Exception as exc:  # noqa: BLE001 - a broken document must not stop the crawl
        reason = str(exc) if isinstance(exc, ExtractionError) else f"{type(exc).__name__}: {exc}"
        state["raw_sha256"] = None  # so that a fixed extractor retries this body next time
        return Extraction("error", error=f"extraction failed: {reason}"[:1000], state=state)
    return Extraction("new_version", text=result.text, title=result.title, state=state)


def store_fetched(db, run_id: int | None, item: Fetched, extraction: Extraction) -> dict[str, Any]:
    """Store one fetch and its extraction in one transaction; returns :func:`record_document`'s result
    (outcome ``duplicate`` when ``item.item_id`` was stored before) with the hold reason, if any."""
    item.source = item.source or source_pk(db, item.source_id)
    if item.source is None:
        raise LookupError(f"source {item.source_id!r} is not in the database")
    item.outcome = extraction.outcome
    if item.error:
        item.body = None
    if extraction.error:
        item.error = extraction.error
    hold = None
    if extraction.text is not None:
        latest = latest_version(db, item.source)
        hold = replacement_reason(latest["text"] if latest else None, extraction.text)
    result = record_document(db, run_id, item, text=extraction.text, title=extraction.title,
                             extractor_version=EXTRACTOR_VERSION,
                             valid_from=valid_from(item.last_modified, item.requested_at),
                             hold_reason=hold, state=extraction.state,
                             extraction_key=extraction_key(item.selectors))
    result["hold"] = hold
    return result
