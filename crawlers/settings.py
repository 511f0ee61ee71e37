"""Scrapy settings for clausewatch crawls: polite by default."""
from __future__ import annotations

import os
from typing import Any

DEFAULT_USER_AGENT = "clausewatch/0.1 (+https://github.com/clausewatch/clausewatch; AI licence and policy tracker)"


class SettingsError(ValueError):
    """An environment variable with a value that cannot be used (one line)."""


def env_number(name: str, default: float, *, integer: bool = False) -> float:
    """A non-negative number from the environment (``default`` when unset or empty)."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw) if integer else float(raw)
    except ValueError:
        kind = "a whole number" if integer else "a number"
        raise SettingsError(f"{name}={raw!r} is not {kind}") from None
    if value < 0:
        raise SettingsError(f"{name}={raw!r} must not be negative")
    return value


# Scrapy's built-in extensions a crawl has no use for: the remote-control server, the telnet console, the
# per-minute log of page counts (progress lines say more), the memory debugger, feed exports, job state
UNUSED_EXTENSIONS = frozenset({
    "scrapy.extensions.remote_control.RemoteControl",
    "scrapy.extensions.telnet.TelnetConsole",
    "scrapy.extensions.logstats.LogStats",
    "scrapy.extensions.memdebug.MemoryDebugger",
    "scrapy.extensions.feedexport.FeedExporter",
    "scrapy.extensions.spiderstate.SpiderState",
})


def extensions_base() -> dict[str, int]:
    """Scrapy's own base list of extensions without the unused ones (names never imported)."""
    from scrapy.settings import default_settings

    return {name: order for name, order in default_settings.EXTENSIONS_BASE.items() if name not in UNUSED_EXTENSIONS}


def crawl_settings(*, db_path: str, run_id: int, replay: bool = False, progress: bool = True,
                   overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    delay = env_number("CLAUSEWATCH_DOWNLOAD_DELAY", 0 if replay else 2.0)
    start_delay = delay if replay or os.environ.get("CLAUSEWATCH_DOWNLOAD_DELAY", "").strip() else 3.0
    timeout = env_number("CLAUSEWATCH_TIMEOUT", 30.0)
    settings: dict[str, Any] = {
        "BOT_NAME": "clausewatch",
        "USER_AGENT": os.environ.get("CLAUSEWATCH_USER_AGENT", DEFAULT_USER_AGENT),
        "ROBOTSTXT_OBEY": True,
        "CONCURRENT_REQUESTS": 8,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        "DOWNLOAD_DELAY": delay,
        # the replay server is our own, on loopback: one request per real host at a time, but no throttling
        "AUTOTHROTTLE_ENABLED": not replay,
        "AUTOTHROTTLE_START_DELAY": start_delay,
        "AUTOTHROTTLE_MAX_DELAY": 2.0 if replay else 60.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0,
        "DOWNLOAD_TIMEOUT": timeout,
        "DNS_TIMEOUT": timeout,
        # applies to the decompressed body too: a gzip bomb is refused while it inflates
        "DOWNLOAD_MAXSIZE": int(env_number("CLAUSEWATCH_MAX_BYTES", 50 * 1024 * 1024, integer=True)),
        "DOWNLOAD_WARNSIZE": 20 * 1024 * 1024,
        "RETRY_ENABLED": True,
        "RETRY_TIMES": int(env_number("CLAUSEWATCH_RETRY_TIMES", 3, integer=True)),
        "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408, 429],
        "CLAUSEWATCH_RETRY_BASE_DELAY": env_number("CLAUSEWATCH_RETRY_BASE_DELAY", 0.2 if replay else 5.0),
        # a Retry-After longer than this is not waited for: the fetch is recorded as an error
        "CLAUSEWATCH_RETRY_MAX_DELAY": env_number("CLAUSEWATCH_RETRY_MAX_DELAY", 5.0 if replay else 300.0),
        "REDIRECT_MAX_TIMES": 5,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        # Scrapy 2.19 starts, on every crawl, an HTTP server on localhost that executes code sent with a token
        # (RemoteControl): an unattended tracker has no use for it. Left out of the base list, not disabled in
        # EXTENSIONS: Scrapy imports every extension named there (aiohttp, 80 ms a run) to normalise the name
        "REMOTE_CONTROL_ENABLED": False,
        "EXTENSIONS_BASE": extensions_base(),
        "EXTENSIONS": {},
        # Scrapy's own log lines only when asked for (CLAUSEWATCH_LOG_LEVEL=INFO|DEBUG); progress lines otherwise
        "LOG_INSTALL_ROOT_HANDLER": bool(os.environ.get("CLAUSEWATCH_LOG_LEVEL", "").strip()),
        "HTTPCACHE_ENABLED": False,
        "TWISTED_DNS_RESOLVER": "clausewatch.crawlers.urlpolicy.PolicyResolver",
        "LOG_LEVEL": os.environ.get("CLAUSEWATCH_LOG_LEVEL", "ERROR"),
        "DOWNLOADER_MIDDLEWARES": {
            "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
            "clausewatch.crawlers.middlewares.RobotsTxtForAllMiddleware": 100,
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "clausewatch.crawlers.middlewares.BackoffRetryMiddleware": 550,
            "clausewatch.crawlers.middlewares.UrlPolicyMiddleware": 50,
        },
        "ITEM_PIPELINES": {"clausewatch.crawlers.pipelines.StorePipeline": 300},
        "CLAUSEWATCH_DB": db_path,
        "CLAUSEWATCH_RUN_ID": run_id,
        "CLAUSEWATCH_PROGRESS": progress,
        "CLAUSEWATCH_REPLAY": replay,
        "CLAUSEWATCH_ALLOW_LOCAL": os.environ.get("CLAUSEWATCH_ALLOW_LOCAL", ""),
    }
    settings.update(overrides or {})
    return settings


def cluster_settings(*, redis_url: str, worker_id: str, prefix: str = "clausewatch", replay: bool = False,
                     concurrency: int = 8, exit_when_idle: float = 0.0,
                     overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """A worker's settings: the crawl settings above (politeness, limits, retries, URL policy), with
    scrapy-redis's scheduler over the shared frontier instead of Scrapy's, and the item stream instead of
    the database. The per-host delay is held cluster-wide by the frontier's host gate; locally it only
    spaces a robots.txt fetch and the request that needed it."""
    from clausewatch.crawlers.frontier import Keys

    base = crawl_settings(db_path="", run_id=0, replay=replay, progress=False)
    keys = Keys(prefix)
    timeout = base["DOWNLOAD_TIMEOUT"]
    delay = base["DOWNLOAD_DELAY"]
    middlewares = dict(base["DOWNLOADER_MIDDLEWARES"])
    middlewares.update({
        "clausewatch.crawlers.middlewares.RobotsTxtForAllMiddleware": None,
        "clausewatch.crawlers.cluster_worker.ExpiringRobotsTxtMiddleware": 100,
        "clausewatch.crawlers.cluster_spider.RefuseMiddleware": 10,
    })
    settings = {
        **base,
        "CONCURRENT_REQUESTS": concurrency,
        "CONCURRENT_ITEMS": 10,
        "DOWNLOAD_DELAY_JITTER": 0,
        "DOWNLOADER_MIDDLEWARES": middlewares,
        "ITEM_PIPELINES": {"clausewatch.crawlers.cluster_spider.ClusterPipeline": 300},
        "EXTENSIONS": {**base["EXTENSIONS"], "clausewatch.crawlers.cluster_worker.ClusterWorkerExtension": 500},
        "SCHEDULER": "clausewatch.crawlers.cluster_scheduler.ClusterScheduler",
        "SCHEDULER_QUEUE_CLASS": "clausewatch.crawlers.cluster_scheduler.HostQueue",
        "SCHEDULER_QUEUE_KEY": keys.queue,
        "DUPEFILTER_CLASS": "clausewatch.crawlers.cluster_scheduler.JobDupeFilter",
        "SCHEDULER_DUPEFILTER_KEY": keys.dupefilter,
        "SCHEDULER_PERSIST": True,
        "REDIS_URL": redis_url,
        "REDIS_PARAMS": {"socket_timeout": 30, "socket_connect_timeout": 10, "retry_on_timeout": True,
                         "health_check_interval": 30},
        "CLAUSEWATCH_REDIS_PREFIX": prefix,
        "CLAUSEWATCH_WORKER_ID": worker_id,
        "CLAUSEWATCH_WORKER_TTL": env_number("CLAUSEWATCH_WORKER_TTL", 60.0),
        "CLAUSEWATCH_POLL_S": env_number("CLAUSEWATCH_POLL_S", min(0.25, max(0.02, delay / 2))),
        # one robots.txt fetch, one document fetch and the local delay between them, with room to spare;
        # a killed worker's locks go sooner, when its heartbeat expires
        "CLAUSEWATCH_HOST_LOCK_S": 2 * timeout + 2 * delay + 10,
        "CLAUSEWATCH_REDIS_MAX_BACKLOG": int(env_number("CLAUSEWATCH_REDIS_MAX_BACKLOG", 5000, integer=True)),
        "CLAUSEWATCH_EXIT_WHEN_IDLE": exit_when_idle,
        "CLAUSEWATCH_ROBOTS_TTL": env_number("CLAUSEWATCH_ROBOTS_TTL", 86400.0),
    }
    settings.update(overrides or {})
    return settings
