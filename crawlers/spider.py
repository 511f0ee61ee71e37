"""One generic spider for every declared source: conditional GETs, multi-part documents, discovery.

What it fetches comes from the registry (rows of the ``sources`` table); it does not tag or store:
it hands :class:`~clausewatch.db.records.Fetched` / :class:`DiscoveredItem` to ``crawlers.pipelines.StorePipeline``.
"""
from __future__ import annotations

import hashlib
import json
import time
from typing import Any
from urllib.parse import urljoin, urlsplit

import scrapy
from scrapy.http import Request, Response
from scrapy.utils.httpobj import urlparse_cached
from twisted.python.failure import Failure

from clausewatch.crawlers.items import DiscoveredItem
from clausewatch.crawlers.middlewares import GAVE_UP
from clausewatch.crawlers.registry import DeclarationError, Discovery
from clausewatch.crawlers.replay import AS_OF_HEADER, to_replay_url
from clausewatch.crawlers.urlpolicy import resolver_refusal
from clausewatch.db.records import Fetched


def _now() -> str:
    import datetime as dt

    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# every status the spider records itself; redirects (301, 302, 303, 307, 308) are followed by Scrapy
HANDLED_STATUSES = [300, 304, 305, 306, *range(400, 600)]


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


def describe_failure(failure: Failure) -> str:
    """One line for people: what went wrong with the request."""
    exc = failure.value
    name = type(exc).__name__
    text = str(exc).strip() or name
    response = getattr(exc, "response", None)
    if "HttpError" in name and response is not None:  # a redirect Scrapy did not follow (no Location, file://)
        location = _header(response, "Location")
        if not location:
            return f"HTTP {response.status} (a redirect without a Location header)"
        return f"HTTP {response.status} (redirect to {location[:200]} not followed: http and https only)"
    if "LocalAddressRefused" in name or ("IgnoreRequest" in name and text.startswith("refused")):
        return text[:500]
    if "IgnoreRequest" in name and "max redirections" in text:
        return "too many redirects (a redirect loop?)"
    if "IgnoreRequest" in name and "DOWNLOAD_MAXSIZE" in text:
        return f"the body inflates past the size limit (CLAUSEWATCH_MAX_BYTES): {text[:300]}"
    if "larger than download max size" in text or ("CancelledError" in name and text == name):
        # an empty DownloadCancelledError is the body growing past DOWNLOAD_MAXSIZE while it streams in
        return f"the body is larger than the size limit (CLAUSEWATCH_MAX_BYTES){': ' + text[:200] if text != name else ''}"
    request = getattr(failure, "request", None)
    refused = resolver_refusal(urlparse_cached(request).hostname) if request is not None else None
    if refused:
        return f"refused {request.url}: {refused}"
    if "DNSLookupError" in name or "CannotResolveHost" in name:
        return text if text.startswith("DNS lookup failed") else f"DNS lookup failed: {text}"
    if "DataLoss" in name or "DataLoss" in text:
        return "the connection closed before the whole body arrived (shorter than its Content-Length)"
    if "TimeoutError" in name or "TCPTimedOut" in name:
        return f"timed out: {text}"
    if "ConnectionRefused" in name:
        return "connection refused"
    if any(word in name or word in text for word in ("ResponseNeverReceived", "ConnectionLost", "ConnectionDone",
                                                      "ResponseFailed", "DownloadFailed", "ConnectionReset")):
        return "connection lost before a complete response (reset or closed by the server)"
    if "IgnoreRequest" in name and "robots" in text.lower():
        return "forbidden by robots.txt"
    return f"{name}: {text[:300]}"


class DocumentSpider(scrapy.Spider):
    name = "documents"

    def __init__(self, documents: list[dict[str, Any]], discoveries: list[Discovery] | None = None,
                 replay_base: str | None = None, steps: dict[str, list[str | None]] | None = None,
                 **kwargs: Any):
        super().__init__(**kwargs)
        self.documents = documents
        self.discoveries = discoveries or []
        self.replay_base = replay_base
        self.steps = steps or {}
        self.known_urls = {d["url"] for d in documents}
        self.known_ids = {d["source_id"] for d in documents}

    # ------------------------------------------------------------ requests

    def _url(self, url: str) -> str:
        return to_replay_url(url, self.replay_base) if self.replay_base else url

    async def start(self):
        for doc in self.documents:
            steps = self.steps.get(doc["source_id"]) or [None]
            state = {"etag": doc.get("etag"), "last_modified": doc.get("last_modified"),
                     "raw_sha256": doc.get("raw_sha256")}
            yield self._document_request(doc, steps, 0, state)
        for disc in self.discoveries:
            yield Request(self._url(disc.url), callback=self.parse_listing, errback=self.listing_failed,
                          meta={"discovery": disc, "handle_httpstatus_list": HANDLED_STATUSES}, dont_filter=True)

    def _document_request(self, doc: dict, steps: list, index: int, state: dict) -> Request:
        headers = {}
        if state.get("etag"):
            headers["If-None-Match"] = state["etag"]
        if state.get("last_modified"):
            headers["If-Modified-Since"] = state["last_modified"]
        as_of = steps[index]
        if as_of and self.replay_base:
            headers[AS_OF_HEADER] = as_of
        meta = {"doc": doc, "steps": steps, "index": index, "state": state, "started": time.monotonic(),
                "requested_at": _now(), "handle_httpstatus_list": HANDLED_STATUSES}
        if self.replay_base:  # politeness per real host, as in a live crawl, though all goes to 127.0.0.1
            meta["download_slot"] = urlsplit(doc["url"]).hostname or "replay"
        return Request(self._url(doc["url"]), headers=headers, callback=self.parse_document,
                       errback=self.document_failed, meta=meta, dont_filter=True)

    def _next_step(self, meta: dict, state: dict):
        if meta["index"] + 1 < len(meta["steps"]):
            yield self._document_request(meta["doc"], meta["steps"], meta["index"] + 1, state)

    # ------------------------------------------------------------ responses

    def _item(self, meta: dict, **fields: Any) -> Fetched:
        doc = meta["doc"]
        return Fetched(
            source=doc["id"], source_id=doc["source_id"], format=doc["format"], url=doc["url"],
            requested_at=meta["requested_at"], as_of=meta["steps"][meta["index"]],
            selectors=doc.get("selectors"),
            duration_ms=int((time.monotonic() - meta["started"]) * 1000), **fields)

    def parse_document(self, response: Response):
        meta = response.meta
        state = dict(meta["state"])
        common = {"http_status": response.status, "final_url": response.url,
                  "etag": _header(response, "ETag"), "last_modified": _header(response, "Last-Modified"),
                  "content_type": _header(response, "Content-Type")}
        if response.status == 304:
            yield self._item(meta, **{**common, "etag": common["etag"] or state.get("etag"),
                                      "last_modified": common["last_modified"] or state.get("last_modified")})
            yield from self._next_step(meta, state)
            return
        if response.status >= 400 or response.status < 200 or response.status >= 300:
            reason = f"HTTP {response.status}"
            if meta.get(GAVE_UP):
                reason += f" ({meta[GAVE_UP]})"
            elif 300 <= response.status < 400 and response.headers.get("Location"):
                reason += f" (redirect to {_header(response, 'Location')[:200]} not followed: http and https only)"
            yield self._item(meta, **common, error=reason)
            yield from self._next_step(meta, state)
            return
        body = response.body
        digest = hashlib.sha256(body).hexdigest()
        unchanged = digest == state.get("raw_sha256")
        state.update(etag=common["etag"], last_modified=common["last_modified"], raw_sha256=digest)
        parts = [] if unchanged else self._parts_of(meta["doc"], body)
        if parts:
            pending = {"item": self._item(meta, **common, body=body), "names": parts, "got": [],
                       "state": state}
            yield self._part_request(meta, pending, 0, response.url)
            return
        yield self._item(meta, **common, body=None if unchanged else body, unchanged=unchanged)
        yield from self._next_step(meta, state)

    def _parts_of(self, doc: dict, body: bytes) -> list[str]:
        if doc["format"] != "xml":
            return []
        from clausewatch.crawlers.extract import formex_parts

        try:
            return formex_parts(body)
        except Exception:  # not a package index: the extractor will report what is wrong
            return []

    def _part_request(self, meta: dict, pending: dict, index: int, base_url: str) -> Request:
        name = pending["names"][index]
        headers = {}
        as_of = meta["steps"][meta["index"]]
        if as_of and self.replay_base:
            headers[AS_OF_HEADER] = as_of
        return Request(urljoin(base_url, name), headers=headers, callback=self.parse_part,
                       errback=self.part_failed, dont_filter=True,
                       meta={**meta, "pending": pending, "part_index": index, "base_url": base_url,
                             "part_started": time.monotonic(), "handle_httpstatus_list": HANDLED_STATUSES})

    def parse_part(self, response: Response):
        meta = response.meta
        pending = meta["pending"]
        name = pending["names"][meta["part_index"]]
        if response.status != 200:
            item = pending["item"]
            item.error = f"part {name}: HTTP {response.status}"
            item.body = None
            yield item
            yield from self._next_step(meta, meta["state"])
            return
        pending["got"].append((name, response.body, {
            "url": response.url, "requested_at": _now(), "http_status": response.status,
            "etag": _header(response, "ETag"), "last_modified": _header(response, "Last-Modified"),
            "content_type": _header(response, "Content-Type"), "bytes": len(response.body),
            "duration_ms": int((time.monotonic() - meta["part_started"]) * 1000)}))
        if meta["part_index"] + 1 < len(pending["names"]):
            yield self._part_request(meta, pending, meta["part_index"] + 1, meta["base_url"])
            return
        item = pending["item"]
        item.parts = pending["got"]
        yield item
        yield from self._next_step(meta, pending["state"])

    def part_failed(self, failure: Failure):
        meta = failure.request.meta
        pending = meta["pending"]
        item = pending["item"]
        item.error = f"part {pending['names'][meta['part_index']]}: {describe_failure(failure)}"
        item.body = None
        yield item
        yield from self._next_step(meta, meta["state"])

    def document_failed(self, failure: Failure):
        meta = failure.request.meta
        yield self._item(meta, error=describe_failure(failure))
        yield from self._next_step(meta, meta["state"])

    # ------------------------------------------------------------ discovery

    def listing_sources(self, response: Response) -> tuple[list, str | None]:
        """The sources a fetched discovery listing declares, or why there are none (one line)."""
        disc: Discovery = response.meta["discovery"]
        if response.status != 200:
            return [], f"HTTP {response.status}"
        try:
            listing = json.loads(response.body)
        except ValueError:
            return [], "the listing is not JSON"
        try:
            return disc.sources_from_listing(listing), None
        except DeclarationError as exc:
            return [], str(exc)

    def parse_listing(self, response: Response):
        disc: Discovery = response.meta["discovery"]
        found, error = self.listing_sources(response)
        if error:
            self.logger.error("discovery %s: %s", disc.id, error)
            return
        new = [s for s in found if s.id not in self.known_ids and s.url not in self.known_urls]
        if not new:
            return
        yield DiscoveredItem(disc.id, [s.as_row() for s in new])
        # the pipeline has inserted them (items are processed in order): fetch each now
        for source in new:
            self.known_ids.add(source.id)
            self.known_urls.add(source.url)
            doc = {**source.as_row(), "id": None, "_pending_pk": True}
            yield self._document_request(doc, [None], 0, {})

    def listing_failed(self, failure: Failure):
        disc: Discovery = failure.request.meta["discovery"]
        self.logger.error("discovery %s: %s", disc.id, describe_failure(failure))
