"""The worker's side of the generic spider: requests come from the shared frontier, results go to the
writer through the Redis item stream.

:class:`ClusterSpider` is :class:`~clausewatch.crawlers.spider.DocumentSpider` (the same conditional
requests, Formex parts and replay steps) with two differences:

* it starts with nothing: the scrapy-redis scheduler hands it job messages, which it turns into the same
  requests the in-process spider would make (:meth:`ClusterSpider.request_from_job`);
* every callback's whole output (fetch records, the next step or part, discovered sources) becomes one
  :class:`Handoff`, which :class:`ClusterPipeline` extracts (the same
  :func:`~clausewatch.crawlers.outcome.extract_fetched` as the in-process pipeline) and hands on to Redis in
  one script with the lease release: a worker killed at any point has either handed on everything a
  request produced or nothing, and in the second case the request is fetched again.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response
from scrapy_redis import picklecompat
from twisted.internet.threads import deferToThread
from twisted.python.failure import Failure

from clausewatch.crawlers.cluster_scheduler import HOST, LEASE, gate_host, job_key
from clausewatch.crawlers.frontier import Frontier
from clausewatch.crawlers.item_codec import encode_discovered, encode_fetched
from clausewatch.crawlers.outcome import extract_fetched
from clausewatch.crawlers.registry import Discovery
from clausewatch.crawlers.spider import HANDLED_STATUSES, DocumentSpider, describe_failure
from clausewatch.db.records import Fetched


@dataclass
class Handoff:
    """Everything one leased request produced."""

    token: str | None
    host: str | None
    fetched: list[tuple[Fetched, dict[str, Any]]] = field(default_factory=list)   # (record, job info)
    discovered: list[dict[str, Any]] = field(default_factory=list)
    requests: list[Request] = field(default_factory=list)


class ClusterSpider(DocumentSpider):
    name = "documents"

    def __init__(self, replay_base: str | None = None, replay_dir: str | None = None, **kwargs: Any):
        super().__init__(documents=[], discoveries=[], replay_base=replay_base, **kwargs)
        self.replay_dir = replay_dir

    async def start(self):
        return
        yield  # an async generator with nothing in it: requests come from the frontier

    # ------------------------------------------------------------ job messages -> requests

    def request_from_job(self, job: dict[str, Any]) -> Request:
        """The request a producer's job message asks for (see ``clausewatch.stages.enqueue``)."""
        refuse = None
        if job.get("replay") and not self.replay_base:
            refuse = "a replay job, and this worker does not replay (start it with --replay DIR)"
        elif not job.get("replay") and self.replay_base:
            refuse = f"a live job, and this worker replays {self.replay_dir} (start it without --replay)"
        info = {"_job": job["job"], "_run": job.get("run"), "_cycle": job.get("cycle"), "_refuse": refuse}
        if job.get("kind") == "discovery":
            fields = dict(job["discovery"])
            fields["replay"] = tuple(fields.get("replay") or ())
            disc = Discovery(**fields)
            meta = {"discovery": disc, "doc": info, "index": 0, "handle_httpstatus_list": HANDLED_STATUSES}
            request = Request(self._url(disc.url), callback=self.parse_listing, errback=self.listing_failed,
                              meta=meta, dont_filter=True)
        else:
            doc = {**job["doc"], **info}
            steps = job.get("steps") or [None]
            if refuse:   # one error record for the job, and no replay day marked as replayed
                steps = [None]
            state = {k: doc.get(k) for k in ("etag", "last_modified", "raw_sha256")}
            request = self._document_request(doc, steps, 0, state)
        return request

    def _item(self, meta: dict, **fields: Any) -> Fetched:
        item = super()._item(meta, **fields)
        item.item_id = f"{meta['doc']['_job']}#{meta['index']}"
        return item

    # ------------------------------------------------------------ callbacks -> one handoff each

    def _handoff(self, meta: dict, outputs) -> list[Handoff]:
        handoff = Handoff(meta.get(LEASE), meta.get(HOST))
        for output in outputs or ():
            if isinstance(output, Request):
                output.meta.pop(LEASE, None)   # a part request copies its parent's meta: it gets its own lease
                output.meta.pop(HOST, None)
                handoff.requests.append(output)
            elif isinstance(output, Fetched):
                doc = meta["doc"]
                final = meta["index"] + 1 >= len(meta["steps"])
                handoff.fetched.append((output, {"run": doc.get("_run"), "final": final}))
        return [handoff]

    def parse_document(self, response: Response):
        return self._handoff(response.meta, super().parse_document(response))

    def parse_part(self, response: Response):
        return self._handoff(response.meta, super().parse_part(response))

    def part_failed(self, failure: Failure):
        return self._handoff(failure.request.meta, super().part_failed(failure))

    def document_failed(self, failure: Failure):
        return self._handoff(failure.request.meta, super().document_failed(failure))

    def parse_listing(self, response: Response):
        found, error = self.listing_sources(response)
        return self._listing_handoff(response.meta, [s.as_row() for s in found], error)

    def listing_failed(self, failure: Failure):
        return self._listing_handoff(failure.request.meta, [], describe_failure(failure))

    def _listing_handoff(self, meta: dict, sources: list[dict], error: str | None) -> list[Handoff]:
        """Every source the listing declares goes to the writer, which adds the new ones and queues their
        first fetch (only the database knows which are new)."""
        disc: Discovery = meta["discovery"]
        if error:
            self.logger.error("discovery %s: %s", disc.id, error)
        handoff = Handoff(meta.get(LEASE), meta.get(HOST))
        handoff.discovered.append({"item_id": f"{meta['doc']['_job']}#0", "discovery": disc.id,
                                   "sources": sources, "cycle": meta["doc"].get("_cycle"),
                                   "run": meta["doc"].get("_run"), "error": error,
                                   "replay": self.replay_base is not None})
        return [handoff]


def encode_request(request: Request, spider) -> bytes:
    """A request serialised as scrapy-redis's queue does (``request.to_dict`` + its pickle serializer)."""
    return picklecompat.dumps(request.to_dict(spider=spider))


class ClusterPipeline:
    """Extracts every fetch record of a handoff and hands everything on to Redis in one script."""

    def __init__(self, crawler):
        from scrapy_redis.connection import get_redis_from_settings

        self.crawler = crawler
        self.frontier = Frontier(get_redis_from_settings(crawler.settings),
                                 crawler.settings.get("CLAUSEWATCH_REDIS_PREFIX", "clausewatch"))
        self.delay = crawler.settings.getfloat("DOWNLOAD_DELAY")
        self.count = 0

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item: Any, spider=None) -> Any:
        if not isinstance(item, Handoff):
            return item
        entries = []
        for fetched, info in item.fetched:
            extraction = extract_fetched(fetched)
            entries.append(encode_fetched(fetched, extraction, job_run=info["run"], final=info["final"]))
        for found in item.discovered:
            entries.append(encode_discovered(found["item_id"], found["discovery"], found["sources"],
                                             cycle=found["cycle"], replay=found["replay"], job_run=found["run"],
                                             error=found["error"]))
        requests = [(gate_host(r), encode_request(r, self.crawler.spider), job_key(r)) for r in item.requests]

        def handed_on(_):
            self.count += len(entries)
            if self.crawler.stats:
                self.crawler.stats.inc_value("clausewatch/items_handed_on", len(entries))
            return item

        # the Redis round trip off the reactor thread; the request's lease is dropped when it returns
        return deferToThread(self._handoff, item.token, item.host, entries, requests).addCallback(handed_on)

    def _handoff(self, token, host, entries, requests, attempts: int = 60) -> int:
        """In a thread: hand on, waiting for Redis if it is away (restarting); after a minute the request
        stays leased, and goes back to the queue when its lease grows too old or this worker stops."""
        from redis.exceptions import RedisError

        for attempt in range(attempts):
            try:
                return self.frontier.handoff(token, host, entries, requests, self.delay)
            except RedisError:
                if attempt + 1 == attempts:
                    raise
                time.sleep(1)
        return 0


class RefuseMiddleware:
    """Refuses a job this worker must not fetch (replay job on a live worker, or the reverse): the
    spider records the reason as the fetch's error instead of reaching the wrong server."""

    def process_request(self, request, spider=None):
        reason = (request.meta.get("doc") or {}).get("_refuse")
        if reason:
            raise IgnoreRequest(f"refused: {reason}")
        return None
