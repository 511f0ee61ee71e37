"""scrapy-redis, adapted so that many workers share one polite, loss-free frontier.

* :class:`ClusterScheduler` is ``scrapy_redis.scheduler.Scheduler`` with two changes: checking the
  duplicate filter and queueing a request is one Lua script (scrapy-redis does ``SADD`` then ``ZADD``: a
  worker killed between the two would mark a request seen that was never queued), and a worker never
  clears the shared queue when it stops (``SCHEDULER_PERSIST`` forced on).
* :class:`HostQueue` (``SCHEDULER_QUEUE_CLASS``) keeps one queue per host in
  :class:`~clausewatch.crawlers.frontier.Frontier`: a pop only returns a request of a host nobody is
  requesting and whose per-host delay has passed, locks that host cluster-wide and leases the request
  until the worker has handed on what it produced.
* :class:`JobDupeFilter` is ``scrapy_redis.dupefilter.RFPDupeFilter`` whose fingerprint of a document
  request is its job key (source, cycle, step), not its URL: a source enqueued twice in one cycle is
  fetched once, the same source in the next cycle is fetched again. Fingerprints expire (a sorted set).

Entries pushed by the producer are job messages (JSON, see ``clausewatch.stages.enqueue``); the spider
turns them into requests when they are popped (:meth:`ClusterSpider.request_from_job`). Entries pushed by
workers are requests serialised the scrapy-redis way (``request.to_dict`` + pickle).
"""
from __future__ import annotations

import json
import time

from redis.exceptions import RedisError
from scrapy.utils.httpobj import urlparse_cached
from scrapy.utils.request import request_from_dict
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import Base
from scrapy_redis.scheduler import Scheduler

from clausewatch.crawlers.frontier import Frontier

LEASE = "cw_lease"      # request.meta: the lease token of a request popped from the frontier
HOST = "cw_host"        # request.meta: the host it was queued and locked under


def gate_host(request) -> str:
    """The host a request is queued and locked under: the spider's download slot (replay: the real host),
    else the URL's host name (Scrapy's own per-domain key)."""
    return request.meta.get(HOST) or request.meta.get("download_slot") or urlparse_cached(request).hostname or ""


def job_key(request) -> str | None:
    """The duplicate-filter key of a request of a job: ``JOB#STEP`` or ``JOB#STEP/pPART``."""
    doc = request.meta.get("doc") or {}
    job = doc.get("_job")
    if not job:
        return None
    key = f"{job}#{request.meta.get('index', 0)}"
    if "part_index" in request.meta:
        key += f"/p{request.meta['part_index']}"
    return key


class JobDupeFilter(RFPDupeFilter):
    def request_fingerprint(self, request) -> str:
        from clausewatch.crawlers.frontier import fingerprint

        key = job_key(request)
        return fingerprint(key) if key else super().request_fingerprint(request)

    def request_seen(self, request) -> bool:
        return self.server.zadd(self.key, {self.request_fingerprint(request): int(time.time() * 1000)},
                                nx=True) == 0


class HostQueue(Base):
    """Per-host queues with a cluster-wide host lock (see :mod:`clausewatch.crawlers.frontier`)."""

    def __init__(self, server, spider, key, serializer=None):
        super().__init__(server, spider, key, serializer)
        settings = spider.crawler.settings
        self.frontier = Frontier(server, settings.get("CLAUSEWATCH_REDIS_PREFIX", "clausewatch"))
        self.worker_id = settings.get("CLAUSEWATCH_WORKER_ID")
        self.lock_s = settings.getfloat("CLAUSEWATCH_HOST_LOCK_S", 120.0)
        self.max_backlog = settings.getint("CLAUSEWATCH_REDIS_MAX_BACKLOG", 0)
        self._count = 0
        self.wait: str = ""       # why the last pop returned nothing
        self.delay = settings.getfloat("DOWNLOAD_DELAY")
        self._uncertain: list[str] = []   # leases Redis may hold for us though we never got their request

    def __len__(self) -> int:
        try:
            return self.frontier.queued()
        except RedisError as exc:
            self._unreachable(exc)
            return 1   # unknown: stay open, ask again

    def push(self, request, *, key: str | None = None) -> bool:
        transfer = request.meta.pop(LEASE, None)   # a retry or redirect of a leased request takes its place
        if transfer and not getattr(self.spider, "replay_base", None):
            # the downloader's slot is the old host's: a redirect to another host is queued and locked under
            # the new one (replay requests keep theirs: it names the real host behind the replay server)
            request.meta.pop("download_slot", None)
            request.meta.pop(HOST, None)
        host = gate_host(request)
        request.meta.pop(HOST, None)
        request.meta.pop("cw_released", None)
        try:
            return self.frontier.push(host, self._encode_request(request), key=key, front=transfer is not None,
                                      transfer=transfer)
        except RedisError as exc:
            self._unreachable(exc)
            if transfer:   # the original request stays leased: it goes back to the queue once Redis is back
                self._uncertain.append(transfer)
            return False

    def _settle(self) -> None:
        while self._uncertain:
            self.frontier.give_back(self._uncertain[0], self.delay)
            self._uncertain.pop(0)

    def pop(self, timeout: int = 0):
        self.wait = "1000"
        try:
            self._settle()
        except RedisError as exc:
            self._unreachable(exc)
            return None
        self._count += 1
        token = f"{self.worker_id}/{self._count}"
        try:
            data, host, self.wait = self.frontier.pop(token, lock_s=self.lock_s, max_backlog=self.max_backlog)
        except RedisError as exc:
            self._unreachable(exc)
            self._uncertain.append(token)   # the pop may have happened, its reply lost
            return None
        self._warned = False
        if data is None:
            return None
        try:
            request = self._decode(data)
        except Exception as exc:  # noqa: BLE001 - a broken entry must not stop the worker
            # handed to the writer as it is, which keeps it in the dead-letter stream for people to read
            self.spider.logger.error("unreadable queue entry (%s: %s): kept in the dead-letter stream",
                                     type(exc).__name__, exc)
            self.frontier.handoff(token, host, [{"id": f"unreadable:{token}", "kind": "unreadable",
                                                 "meta": "{}", "blob": data}], [], self.delay)
            return None
        request.meta[LEASE] = token
        request.meta[HOST] = host
        return request

    def _unreachable(self, exc: Exception) -> None:
        if not getattr(self, "_warned", False):
            self._warned = True
            self.spider.logger.warning("Redis unreachable (%s); waiting for it", exc)

    def _decode(self, data: bytes):
        if data[:1] == b"{":   # a job message from the producer
            return self.spider.request_from_job(json.loads(data))
        return request_from_dict(self.serializer.loads(data), spider=self.spider)


class ClusterScheduler(Scheduler):
    @classmethod
    def from_settings(cls, settings):
        instance = super().from_settings(settings)
        instance.persist = True          # the queue is the cluster's, not this worker's
        instance.flush_on_start = False
        return instance

    @classmethod
    def from_crawler(cls, crawler):
        instance = super().from_crawler(crawler)
        instance.crawler = crawler
        instance._wake = None
        return instance

    def _wake_engine(self) -> None:
        self._wake = None
        slot = getattr(self.crawler.engine, "_slot", None)   # what Scrapy itself calls when a request ends
        if slot is not None and slot.closing is None:
            slot.nextcall.schedule()

    def _wake_in(self, seconds: float) -> None:
        """Ask the engine for the next request when the next host's delay has passed (the engine asks by
        itself only when a request finishes, and every 5 s)."""
        from twisted.internet import reactor

        if self._wake is not None:
            return
        self._wake = reactor.callLater(max(0.001, seconds), self._wake_engine)

    def close(self, reason: str) -> None:
        pass   # never flush the shared frontier; leases are given back by the worker extension

    def enqueue_request(self, request) -> bool:
        """Requests reach the engine only as retries and redirects of a leased request (the spider hands
        its new requests on with its items): they take the lease's place, at the front of the host queue."""
        key = None
        if not request.dont_filter and LEASE not in request.meta:
            key = job_key(request) or self.df.request_fingerprint(request)
        queued = self.queue.push(request, key=key)
        if queued and self.stats:
            self.stats.inc_value("scheduler/enqueued/redis")
        return queued

    def next_request(self):
        request = self.queue.pop()
        if request is not None:
            if self.stats:
                self.stats.inc_value("scheduler/dequeued/redis")
        elif self.queue.wait.isdigit() and getattr(self, "crawler", None) is not None:
            self._wake_in(int(self.queue.wait) / 1000)
        return request

    def has_pending_requests(self) -> bool:
        return len(self.queue) > 0

    def wait_hint(self) -> str:
        return getattr(self.queue, "wait", "")

