"""Scrapy settings for clausewatch crawls: polite by default."""
from __future__ import annotations

import os
from typing import Any

DEFAULT_USER_AGENT = "clausewatch/0.1 (+https://github.com/clausewatch/clausewatch; AI licence and policy tracker)"


def crawl_settings(*, db_path: str, run_id: int, replay: bool = False, progress: bool = True,
                   overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "BOT_NAME": "clausewatch",
        "USER_AGENT": os.environ.get("CLAUSEWATCH_USER_AGENT", DEFAULT_USER_AGENT),
        "ROBOTSTXT_OBEY": True,
        "CONCURRENT_REQUESTS": 8,
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        "DOWNLOAD_DELAY": 0 if replay else 2.0,
        "AUTOTHROTTLE_ENABLED": True,
        "AUTOTHROTTLE_START_DELAY": 0.0 if replay else 3.0,
        "AUTOTHROTTLE_MAX_DELAY": 2.0 if replay else 60.0,
        "AUTOTHROTTLE_TARGET_CONCURRENCY": 1.0,
        "DOWNLOAD_TIMEOUT": int(os.environ.get("CLAUSEWATCH_TIMEOUT", "30")),
        "DOWNLOAD_MAXSIZE": int(os.environ.get("CLAUSEWATCH_MAX_BYTES", str(50 * 1024 * 1024))),
        "DOWNLOAD_WARNSIZE": 20 * 1024 * 1024,
        "RETRY_ENABLED": True,
        "RETRY_TIMES": 3,
        "RETRY_HTTP_CODES": [500, 502, 503, 504, 522, 524, 408, 429],
        "CLAUSEWATCH_RETRY_BASE_DELAY": 0.2 if replay else 5.0,
        "CLAUSEWATCH_RETRY_MAX_DELAY": 5.0 if replay else 300.0,
        "REDIRECT_MAX_TIMES": 5,
        "COOKIES_ENABLED": False,
        "TELNETCONSOLE_ENABLED": False,
        "LOG_INSTALL_ROOT_HANDLER": False,
        "HTTPCACHE_ENABLED": False,
        "LOG_LEVEL": os.environ.get("CLAUSEWATCH_LOG_LEVEL", "ERROR"),
        "DOWNLOADER_MIDDLEWARES": {
            "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
            "crawlers.middlewares.BackoffRetryMiddleware": 550,
            "crawlers.middlewares.UrlPolicyMiddleware": 50,
        },
        "ITEM_PIPELINES": {"crawlers.pipelines.StorePipeline": 300},
        "CLAUSEWATCH_DB": db_path,
        "CLAUSEWATCH_RUN_ID": run_id,
        "CLAUSEWATCH_PROGRESS": progress,
        "CLAUSEWATCH_REPLAY": replay,
    }
    settings.update(overrides or {})
    return settings
