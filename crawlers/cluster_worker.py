"""What keeps a worker a good member of the cluster (a Scrapy extension and a middleware).

:class:`ClusterWorkerExtension`:

* heartbeat: ``P:worker:ID`` expires ``CLAUSEWATCH_WORKER_TTL`` seconds after the last beat; a worker
  that stops beating (killed, frozen) loses its leases and host locks to the others' reaper;
* reaper: every few seconds, requests leased by dead workers go back to their host queue and the hosts
  they locked are freed after the per-host delay (:meth:`~clausewatch.crawlers.frontier.Frontier.reap`);
* host gate: as soon as a response (or a failure) leaves the downloader, its host is released with the
  per-host delay: ``DOWNLOAD_DELAY``, or the larger delay AutoThrottle chose for that host here, or what a
  429/503 answer's ``Retry-After`` asks for;
* polling: Scrapy's engine asks the scheduler again only when a request finishes or every 5 s; a host
  becomes ready again after the per-host delay, so the worker pokes the engine every
  ``CLAUSEWATCH_POLL_S`` (its internal ``nextcall``, the call Scrapy itself schedules);
* idle: the spider stays open while the queue is empty (more work will come), unless
  ``CLAUSEWATCH_EXIT_WHEN_IDLE`` seconds passed with nothing queued or in flight anywhere;
* on a clean stop, leases still held are given back and the heartbeat is removed.

:class:`ExpiringRobotsTxtMiddleware`: Scrapy keeps every parsed robots.txt for the life of the crawl; a
worker lives for weeks, so parsed files are forgotten after ``CLAUSEWATCH_ROBOTS_TTL`` seconds. A fresh
robots.txt fetch counts as a request to its host: the document that needed it waits the per-host delay
after its answer (Scrapy's own slot delay counts from when the robots.txt request was sent).
"""
from __future__ import annotations

import asyncio
import logging
import os
import socket
import time

from scrapy import signals
from scrapy.exceptions import DontCloseSpider
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred
from twisted.internet.task import LoopingCall
from twisted.internet.threads import deferToThread

from clausewatch.crawlers.cluster_scheduler import HOST, LEASE
from clausewatch.crawlers.frontier import Frontier
from clausewatch.crawlers.middlewares import RobotsTxtForAllMiddleware, retry_after_seconds

log = logging.getLogger("clausewatch.worker")


class ClusterWorkerExtension:
    def __init__(self, crawler):
        from scrapy_redis.connection import get_redis_from_settings

        settings = crawler.settings
        self.crawler = crawler
        self.frontier = Frontier(get_redis_from_settings(settings), settings.get("CLAUSEWATCH_REDIS_PREFIX",
                                                                                 "clausewatch"))
        self.worker_id = settings.get("CLAUSEWATCH_WORKER_ID")
        self.ttl = settings.getfloat("CLAUSEWATCH_WORKER_TTL", 60.0)
        self.poll = settings.getfloat("CLAUSEWATCH_POLL_S", 0.25)
        self.delay = settings.getfloat("DOWNLOAD_DELAY")
        self.max_retry_delay = settings.getfloat("CLAUSEWATCH_RETRY_MAX_DELAY", 300.0)
        self.exit_when_idle = settings.getfloat("CLAUSEWATCH_EXIT_WHEN_IDLE", 0.0)
        self.concurrency = settings.getint("CONCURRENT_REQUESTS")
        self.started = time.time()
        self.idle_since: float | None = None
        self.loops = []
        for signal, handler in ((signals.spider_opened, self.opened), (signals.spider_closed, self.closed),
                                (signals.response_downloaded, self.downloaded),
                                (signals.request_left_downloader, self.left_downloader),
                                (signals.spider_idle, self.spider_idle)):
            crawler.signals.connect(handler, signal=signal)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    # ------------------------------------------------------------ life cycle

    def opened(self, spider) -> None:
        self.beat()
        self.reap()
        for func, interval in ((self.beat, self.ttl / 4), (self.reap, max(0.5, self.ttl / 3)),
                               (self.nudge, self.poll)):
            loop = LoopingCall(self._guarded, func)
            loop.start(interval, now=False)
            self.loops.append(loop)

    def closed(self, spider, reason: str = "") -> None:
        for loop in self.loops:
            if loop.running:
                loop.stop()
        try:
            requeued, _ = self.frontier.reap(self.delay, worker=self.worker_id)
            if requeued:
                log.info("gave back %d request(s) this worker had not finished", requeued)
            self.frontier.leave(self.worker_id)
        except Exception as exc:  # noqa: BLE001 - Redis gone: the others reap after the heartbeat expires
            log.warning("could not give back this worker's leases (%s); others take them after %g s", exc,
                        self.ttl)

    def _guarded(self, func) -> None:
        try:
            func()
        except Exception as exc:  # noqa: BLE001 - a Redis hiccup must not stop the heartbeat for good
            log.warning("%s failed: %s: %s", func.__name__, type(exc).__name__, exc)

    def beat(self) -> None:
        stats = self.crawler.stats
        done = stats.get_value("clausewatch/items_handed_on", 0) if stats else 0
        self.frontier.beat(self.worker_id, self.ttl, {
            "host": socket.gethostname(), "pid": os.getpid(), "started": self.started,
            "concurrency": self.concurrency, "items": done, "beat": time.time()})

    def reap(self) -> None:
        requeued, freed = self.frontier.reap(self.delay)
        if requeued or freed:
            log.info("reaped a dead worker's work: %d request(s) queued again, %d host(s) freed", requeued, freed)

    def nudge(self) -> None:
        engine = self.crawler.engine
        slot = getattr(engine, "_slot", None) if engine is not None else None
        if slot is not None and slot.closing is None:
            slot.nextcall.schedule()

    # ------------------------------------------------------------ the host gate

    def _host_delay(self, request, response=None) -> float:
        delay = self.delay
        engine = self.crawler.engine
        slot = engine.downloader.slots.get(request.meta.get("download_slot")) if engine is not None else None
        if slot is not None:
            delay = max(delay, slot.delay)   # AutoThrottle's delay for this host, learnt here
        if response is not None and response.status in (429, 503):
            asked = retry_after_seconds(response.headers.get("Retry-After"))
            if asked is not None:
                delay = max(delay, min(asked, self.max_retry_delay))
        return delay

    def _release(self, request, response=None) -> None:
        token, host = request.meta.get(LEASE), request.meta.get(HOST)
        if not token or request.meta.get("cw_released") == token:
            return
        request.meta["cw_released"] = token
        # off the reactor thread: a blocking Redis round trip here would stall every download in flight
        deferToThread(self.frontier.release_host, host, token, self._host_delay(request, response)).addErrback(
            lambda failure: log.warning("could not release host %s (its lock expires): %s", host, failure.value))

    def downloaded(self, response, request, spider=None) -> None:
        self._release(request, response)

    def left_downloader(self, request, spider=None) -> None:
        self._release(request)

    # ------------------------------------------------------------ staying open

    def spider_idle(self, spider=None) -> None:
        if self.exit_when_idle > 0:
            try:
                idle = self.frontier.idle()
            except Exception:  # noqa: BLE001
                idle = False
            now = time.monotonic()
            if not idle:
                self.idle_since = None
            elif self.idle_since is None:
                self.idle_since = now
            elif now - self.idle_since >= self.exit_when_idle:
                log.info("nothing queued or in flight for %g s: stopping", self.exit_when_idle)
                return
        raise DontCloseSpider


class ExpiringRobotsTxtMiddleware(RobotsTxtForAllMiddleware):
    def __init__(self, crawler):
        super().__init__(crawler)
        self.ttl = crawler.settings.getfloat("CLAUSEWATCH_ROBOTS_TTL", 86400.0)
        self.delay = crawler.settings.getfloat("DOWNLOAD_DELAY")
        self._since = time.monotonic()
        self._fetched: dict[str, float] = {}   # netloc -> when its robots.txt answer arrived

    async def robot_parser(self, request):
        if time.monotonic() - self._since > self.ttl:
            self._since = time.monotonic()
            # a file still being fetched (a Deferred) stays: its fetch writes the result there
            for netloc in [k for k, v in self._parsers.items() if not isinstance(v, Deferred)]:
                del self._parsers[netloc]
            self._fetched.clear()
        netloc = urlparse_cached(request).netloc
        fetching = netloc not in self._parsers
        parser = await super().robot_parser(request)
        if fetching:
            self._fetched[netloc] = time.monotonic()
        # the robots.txt fetch is a request to the host too: the document waits the per-host delay after it
        wait = self._fetched.get(netloc, float("-inf")) + self.delay - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        return parser
