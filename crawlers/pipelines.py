"""Item pipeline: extract text from fetched documents and store them through ``db``."""
from __future__ import annotations

import email.utils
import hashlib
import json
import sqlite3
import sys
from typing import Any

from clausewatch.crawlers.extract import EXTRACTOR_VERSION, ExtractionError, extract
from clausewatch.crawlers.guards import content_refusal, replacement_reason
from clausewatch.crawlers.items import DiscoveredItem
from clausewatch.db import connect
from clausewatch.db.documents import add_discovered_sources, latest_version, record_document, source_pk
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


class StorePipeline:
    def __init__(self, db_path: str, run_id: int, progress: bool, crawler=None):
        self.db_path = db_path
        self.run_id = run_id
        self.progress = progress
        self.crawler = crawler
        self.count = 0
        self.outcomes: dict[str, int] = {}
        self.store_error: str | None = None   # set once the database cannot be written: the crawl stops

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        return cls(s.get("CLAUSEWATCH_DB"), s.getint("CLAUSEWATCH_RUN_ID"), s.getbool("CLAUSEWATCH_PROGRESS"),
                   crawler)

    def open_spider(self, spider=None) -> None:
        self.db = connect(self.db_path)

    def close_spider(self, spider=None) -> None:
        self.db.close()

    def process_item(self, item: Any, spider=None) -> Any:
        if isinstance(item, DiscoveredItem):
            added = add_discovered_sources(self.db, item.sources)
            if added and self.progress:
                print(f"  discovered by {item.discovery_id}: {', '.join(added)}", file=sys.stderr, flush=True)
            return item
        if isinstance(item, Fetched) and self.store_error is None:
            try:
                self._store(item)
            except (sqlite3.OperationalError, OSError) as exc:  # disk full, I/O error, locked: not a bug
                self._stop(item, exc)
        return item

    def _stop(self, item: Fetched, exc: Exception) -> None:
        """The database cannot be written (disk full, I/O error): stop the crawl, say so once.

        ``record_document`` is one transaction, so the document being stored is lost whole and
        everything stored before it is intact.
        """
        self.store_error = f"cannot write {self.db_path} ({exc}) while storing {item.source_id}"
        print(f"clausewatch: error: {self.store_error}; the crawl stops, everything stored before is intact: "
              "free disk space and crawl again", file=sys.stderr, flush=True)
        if self.crawler is not None and self.crawler.engine is not None:
            from scrapy.utils.defer import deferred_from_coro

            deferred_from_coro(self.crawler.engine.close_spider_async(reason=f"store failed: {self.store_error}"))

    def _store(self, item: Fetched) -> None:
        fetched = item
        fetched.source = pk = item.source or source_pk(self.db, item.source_id)
        fetched.outcome = "error"
        text = title = hold = None
        state: dict[str, Any] = {}
        if item.as_of:
            state["replay_as_of"] = item.as_of
        if item.error:
            fetched.outcome = "gone" if item.http_status in (404, 410) else "error"
            fetched.body = None
        elif item.http_status == 304:
            fetched.outcome = "not_modified"
        elif item.unchanged:
            fetched.outcome = "unchanged"
        else:
            try:
                refusal = content_refusal(item.format, item.content_type, item.body or b"")
                if refusal:
                    raise ExtractionError(refusal)
                result = extract(item.body or b"", item.format, selectors=item.selectors,
                                 parts={name: body for name, body, _ in item.parts} or None, url=item.url,
                                 content_type=item.content_type)
                if not result.text or not result.text.strip():
                    raise ExtractionError("no text: the extracted text is empty")
                text, title = result.text, result.title
                latest = latest_version(self.db, pk)
                hold = replacement_reason(latest["text"] if latest else None, text)
                fetched.outcome = "new_version"
            except Exception as exc:  # noqa: BLE001 - a broken document must not stop the crawl
                reason = str(exc) if isinstance(exc, ExtractionError) else f"{type(exc).__name__}: {exc}"
                fetched.outcome = "error"
                fetched.error = f"extraction failed: {reason}"[:1000]
                state["raw_sha256"] = None  # so that a fixed extractor retries this body next time
        outcome = record_document(self.db, self.run_id, fetched, text=text, title=title,
                                  extractor_version=EXTRACTOR_VERSION,
                                  valid_from=valid_from(item.last_modified, item.requested_at),
                                  hold_reason=hold, state=state, extraction_key=extraction_key(item.selectors))
        self._report(item, outcome["outcome"], fetched.error or hold, text)

    def _report(self, item: Fetched, outcome: str, detail: str | None, text: str | None) -> None:
        self.count += 1
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        if not self.progress:
            return
        when = f" as of {item.as_of}" if item.as_of else ""
        extra = f": {detail}" if detail else (f" ({len(text):,} chars)" if text else "")
        print(f"  [{self.count:>3}] {item.source_id}{when}: {outcome.replace('_', ' ')}{extra}",
              file=sys.stderr, flush=True)
