"""Retries with exponential backoff that honour Retry-After."""
from __future__ import annotations

import asyncio
import email.utils
import time

from scrapy.downloadermiddlewares.retry import RetryMiddleware


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
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class BackoffRetryMiddleware(RetryMiddleware):
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
        if delay > self.max_delay:  # the server asks for longer than we wait: give up for this run
            return response
        retry = self._retry(request, f"HTTP {response.status}")
        if retry is None:
            return response
        await asyncio.sleep(delay)
        return retry


class UrlPolicyMiddleware:
    """Refuses requests (redirect targets included) to file:// or local/private hosts outside replay mode."""

    def __init__(self, replay: bool):
        self.replay = replay

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler.settings.getbool("CLAUSEWATCH_REPLAY"))

    def process_request(self, request, spider=None):
        from scrapy.exceptions import IgnoreRequest

        from crawlers.urlpolicy import url_refusal

        if self.replay:
            return None
        refusal = url_refusal(request.url)
        if refusal:
            raise IgnoreRequest(f"refused {request.url}: {refusal}")
        return None
