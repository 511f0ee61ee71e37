"""Downloader middlewares: retries with exponential backoff that honour Retry-After, the URL policy, and
robots.txt for every request that waits for it."""
from __future__ import annotations

import asyncio
import email.utils
import time

from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred

from clausewatch.crawlers.urlpolicy import ALLOW_ALL, local_allowance, url_refusal

# request.meta key: why the last answer was not retried (the spider adds it to the recorded error)
GAVE_UP = "clausewatch_gave_up"


def retry_after_seconds(value: bytes | str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    text = text.strip()
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None or when.tzinfo is None:
        return None
    return max(0.0, when.timestamp() - time.time())


class BackoffRetryMiddleware(RetryMiddleware):
    """Retries 5xx/429/408 after ``Retry-After`` or ``base * 2**attempt`` seconds, never longer than the max.

    A server asking for a longer wait than ``CLAUSEWATCH_RETRY_MAX_DELAY`` is not waited for: the answer goes
    to the spider, which records it as an error (the next scheduled crawl tries again).
    """

    def __init__(self, settings):
        super().__init__(settings)
        self.base_delay = settings.getfloat("CLAUSEWATCH_RETRY_BASE_DELAY", 5.0)
        self.max_delay = settings.getfloat("CLAUSEWATCH_RETRY_MAX_DELAY", 300.0)

    async def process_response(self, request, response, spider=None):
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        attempt = request.meta.get("retry_times", 0)
        delay = retry_after_seconds(response.headers.get("Retry-After"))
        if delay is None:
            delay = self.base_delay * (2 ** attempt)
        elif delay > self.max_delay:
            request.meta[GAVE_UP] = (f"Retry-After {delay:g} s is longer than the {self.max_delay:g} s we wait "
                                     f"(CLAUSEWATCH_RETRY_MAX_DELAY); not retried in this run")
            return response
        delay = min(delay, self.max_delay)
        retry = self._retry(request, f"HTTP {response.status}")
        if retry is None:
            request.meta[GAVE_UP] = f"{attempt + 1} attempts"
            return response
        await asyncio.sleep(delay)
        return retry


class UrlPolicyMiddleware:
    """Refuses requests (redirect targets included) to file:// or local/private hosts outside replay mode.

    Host names that resolve to such addresses are refused by :class:`crawlers.urlpolicy.PolicyResolver`.
    """

    def __init__(self, replay: bool, allowance: frozenset[str] = frozenset()):
        self.replay = replay
        self.allowance = ALLOW_ALL if replay else allowance

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        return cls(settings.getbool("CLAUSEWATCH_REPLAY"), local_allowance(settings.get("CLAUSEWATCH_ALLOW_LOCAL")))

    def process_request(self, request, spider=None):
        if self.replay:
            return None
        refusal = url_refusal(request.url, allow_local=self.allowance)
        if refusal:
            raise IgnoreRequest(f"refused {request.url}: {refusal}")
        return None


class RobotsTxtForAllMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, with every request that waits for a robots.txt being fetched checked.

    Scrapy 2.14+ (``robot_parser``, scrapy/scrapy#6802) lets the requests that arrive while a host's
    robots.txt is being fetched await the same Deferred through ``Deferred.asFuture``, whose callback
    returns None: the first waiter gets the parser, every later one gets None, which Scrapy reads as
    "no robots.txt, allow everything". Here each waiter gets a Deferred of its own that passes the parser
    on, as Scrapy did before (a crawl of several sources of one host fetched pages robots.txt forbids).
    """

    async def robot_parser(self, request):
        pending = self._parsers.get(urlparse_cached(request).netloc)
        if isinstance(pending, Deferred):
            waiter: Deferred = Deferred()

            def pass_on(result):
                waiter.callback(result)
                return result

            pending.addCallback(pass_on)
            return await maybe_deferred_to_future(waiter)
        return await super().robot_parser(request)
