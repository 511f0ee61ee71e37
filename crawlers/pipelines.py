"""Item pipeline of an in-process crawl: extract text from fetched documents and store them through ``db``.

Extraction and storing are :func:`clausewatch.crawlers.outcome.extract_fetched` and
:func:`clausewatch.crawlers.outcome.store_fetched`, the same code a cluster worker and the cluster writer run.
"""
from __future__ import annotations

import sqlite3
import sys
from typing import Any

from clausewatch.crawlers.items import DiscoveredItem
from clausewatch.crawlers.outcome import extract_fetched, store_fetched
from clausewatch.db import connect
from clausewatch.db.documents import add_discovered_sources
from clausewatch.db.records import Fetched

# sent (Scrapy signal) after a new version is stored, with ``version_id`` and ``text``: the crawl step lets
# the NLP workers start on it while the crawl goes on
VERSION_STORED = object()


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
        extraction = extract_fetched(item)
        outcome = store_fetched(self.db, self.run_id, item, extraction)
        self._report(item, outcome["outcome"], item.error or outcome["hold"], extraction.text)
        if outcome.get("version_id") and extraction.text and self.crawler is not None:
            self.crawler.signals.send_catch_log(signal=VERSION_STORED, version_id=outcome["version_id"],
                                                text=extraction.text)

    def _report(self, item: Fetched, outcome: str, detail: str | None, text: str | None) -> None:
        self.count += 1
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        if not self.progress:
            return
        when = f" as of {item.as_of}" if item.as_of else ""
        extra = f": {detail}" if detail else (f" ({len(text):,} chars)" if text else "")
        print(f"  [{self.count:>3}] {item.source_id}{when}: {outcome.replace('_', ' ')}{extra}",
              file=sys.stderr, flush=True)
