"""The model spider: for each declared model, the Hugging Face model API answer, then the LICENSE file and
README it links (``crawlers.hf.follow_ups``), with conditional requests, through the same polite settings,
retry and URL-policy middlewares as the document spider; and its item pipeline, which stores each answer
through ``clausewatch.db.models``.

Offline, :func:`model_replay_map` serves a folder of saved Hub answers (``huggingface.co/api/models/ORG/NAME.json``,
``huggingface.co/ORG/NAME/raw/main/LICENSE`` ...) from the replay server.
"""
from __future__ import annotations

import json
import sqlite3
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Request, Response
from twisted.python.failure import Failure

from clausewatch.crawlers.hf import follow_ups, replay_url
from clausewatch.crawlers.middlewares import GAVE_UP
from clausewatch.crawlers.replay import ReplayMap, load_manifest, to_replay_url
from clausewatch.crawlers.spider import HANDLED_STATUSES, describe_failure
from clausewatch.db import connect
from clausewatch.db.models import record_model_document

MAX_TEXT_CHARS = 2_000_000


@dataclass
class ModelDocumentItem:
    model_id: int
    repo: str
    kind: str                    # api | license | readme
    url: str
    http_status: int | None = None
    etag: str | None = None
    last_modified: str | None = None
    body: str | None = None
    error: str | None = None


def model_replay_map(folder: Path) -> ReplayMap:
    """The saved Hub answers of a replay folder (it has a MANIFEST.yaml, as a corpus does)."""
    return ReplayMap(folder, [(url, [rel]) for rel in load_manifest(folder) if (url := replay_url(rel))])


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


class ModelSpider(scrapy.Spider):
    name = "models"

    def __init__(self, models: list[dict[str, Any]], replay_base: str | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.models = models          # rows of `models` with `documents`: kind -> stored model_documents row
        self.replay_base = replay_base

    def _request(self, model: dict[str, Any], kind: str, url: str, callback) -> Request:
        stored = (model.get("documents") or {}).get(kind) or {}
        headers = {}
        if stored.get("url") == url and stored.get("body") is not None:
            if stored.get("etag"):
                headers["If-None-Match"] = stored["etag"]
            if stored.get("last_modified"):
                headers["If-Modified-Since"] = stored["last_modified"]
        meta = {"model": model, "kind": kind, "url": url, "handle_httpstatus_list": HANDLED_STATUSES,
                "started": time.monotonic()}
        if self.replay_base:  # politeness per real host, as in a live crawl
            meta["download_slot"] = urlsplit(url).hostname or "replay"
        target = to_replay_url(url, self.replay_base) if self.replay_base else url
        return Request(target, headers=headers, callback=callback, errback=self.failed, meta=meta, dont_filter=True)

    async def start(self):
        for model in self.models:
            yield self._request(model, "api", f"https://huggingface.co/api/models/{model['repo_id']}", self.parse_api)

    def _item(self, response: Response, **fields: Any) -> ModelDocumentItem:
        meta = response.meta
        return ModelDocumentItem(meta["model"]["id"], meta["model"]["repo_id"], meta["kind"], meta["url"],
                                 http_status=response.status, etag=_header(response, "ETag"),
                                 last_modified=_header(response, "Last-Modified"), **fields)

    def _error(self, response: Response) -> str | None:
        if response.status == 304 or 200 <= response.status < 300:
            return None
        reason = f"HTTP {response.status}"
        if response.meta.get(GAVE_UP):
            reason += f" ({response.meta[GAVE_UP]})"
        return reason

    def parse_api(self, response: Response):
        model = response.meta["model"]
        error = self._error(response)
        if error:
            yield self._item(response, error=error)
            return
        if response.status == 304:
            yield self._item(response)
            body = ((model.get("documents") or {}).get("api") or {}).get("body")
        else:
            body = response.body.decode("utf-8", "replace")
            try:
                api = json.loads(body)
                if not isinstance(api, dict):
                    raise ValueError("not a JSON object")
            except ValueError as exc:
                yield self._item(response, error=f"the model API answer is not JSON ({exc})")
                return
            yield self._item(response, body=body)
        try:
            api = json.loads(body or "{}")
        except ValueError:
            return
        for kind, url in follow_ups(model["repo_id"], api):
            yield self._request(model, kind, url, self.parse_text)

    def parse_text(self, response: Response):
        error = self._error(response)
        if error or response.status == 304:
            yield self._item(response, error=error)
            return
        try:
            text = response.body.decode("utf-8")
        except UnicodeDecodeError:
            text = response.body.decode("latin-1")
        yield self._item(response, body=text[:MAX_TEXT_CHARS])

    def failed(self, failure: Failure):
        meta = failure.request.meta
        model = meta["model"]
        yield ModelDocumentItem(model["id"], model["repo_id"], meta["kind"], meta["url"],
                                error=describe_failure(failure))


class ModelStorePipeline:
    """Stores every model document answer; counts outcomes for the run's summary."""

    def __init__(self, db_path: str, progress: bool):
        self.db_path, self.progress = db_path, progress
        self.outcomes: dict[str, int] = {}
        self.count = 0

    @classmethod
    def from_crawler(cls, crawler):
        s = crawler.settings
        return cls(s.get("CLAUSEWATCH_DB"), s.getbool("CLAUSEWATCH_PROGRESS"))

    def open_spider(self, spider=None) -> None:
        self.db = connect(self.db_path)

    def close_spider(self, spider=None) -> None:
        self.db.close()

    def process_item(self, item: Any, spider=None) -> Any:
        if not isinstance(item, ModelDocumentItem):
            return item
        try:
            outcome = record_model_document(self.db, item.model_id, kind=item.kind, url=item.url,
                                            http_status=item.http_status, etag=item.etag,
                                            last_modified=item.last_modified, body=item.body, error=item.error)
        except (sqlite3.OperationalError, OSError) as exc:
            outcome, item.error = "error", f"cannot store: {exc}"
        self.count += 1
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        if self.progress:
            detail = f": {item.error}" if item.error else ""
            print(f"  [{self.count:>3}] {item.repo} {item.kind}: {outcome.replace('_', ' ')}{detail}",
                  file=sys.stderr, flush=True)
        return item
