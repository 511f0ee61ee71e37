"""One cluster worker (``clausewatch worker``): Scrapy with scrapy-redis's scheduler over the shared
frontier, fetching politely and extracting; it never opens the database.

Scrapy's reactor cannot restart, so a worker is one long-lived process: it takes requests until it is
stopped (SIGTERM: the requests in flight are finished and handed on, the rest stay queued for the
others) or, with ``exit_when_idle``, until nothing was queued or in flight anywhere for that long.
"""
from __future__ import annotations

import os
import secrets
import socket
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from clausewatch.crawlers.registry import load_registry
from clausewatch.crawlers.replay import ReplayMap, ReplayServer

CLUSTER_SETTINGS = {"worker_ttl": "CLAUSEWATCH_WORKER_TTL", "redis_max_backlog": "CLAUSEWATCH_REDIS_MAX_BACKLOG",
                    "poll_s": "CLAUSEWATCH_POLL_S", "robots_ttl": "CLAUSEWATCH_ROBOTS_TTL"}


def _positive(name: str, value: Any, *, integer: bool = False) -> float:
    from clausewatch.crawlers.settings import SettingsError

    try:
        number = int(value) if integer else float(value)
    except (TypeError, ValueError):
        number = -1
    if number <= 0:
        raise SettingsError(f"setting {name} = {value!r} must be a number > 0")
    return number


def new_worker_id(name: str | None = None) -> str:
    """``NAME`` or ``HOST:PID:RANDOM``; unique per process, so that a restarted worker never inherits the
    leases of the one it replaces (those go back to the queue when the old heartbeat expires)."""
    base = name or f"{socket.gethostname()}:{os.getpid()}"
    return f"{base}:{secrets.token_hex(3)}".replace("/", "_")


def run_worker(redis_url: str, *, prefix: str = "clausewatch", concurrency: int = 8, replay_dir: Path | None = None,
               exit_when_idle: float = 0.0, name: str | None = None, registry_dir: Path | None = None,
               settings_overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """Run one worker until it is stopped; returns what it did (Scrapy's stats, the items handed on)."""
    from scrapy.crawler import CrawlerProcess

    from clausewatch.config import setting
    from clausewatch.crawlers.cluster_spider import ClusterSpider
    from clausewatch.crawlers.settings import cluster_settings

    worker_id = new_worker_id(name)
    overrides = {"CLAUSEWATCH_ALLOW_LOCAL": setting("allow_local", "")}
    for name_, key in CLUSTER_SETTINGS.items():   # env CLAUSEWATCH_<NAME> or the [clausewatch] table
        value = setting(name_)
        if value not in (None, ""):
            overrides[key] = _positive(name_, value, integer=key.endswith("BACKLOG"))
    overrides.update(settings_overrides or {})
    settings = cluster_settings(redis_url=redis_url, worker_id=worker_id, prefix=prefix,
                                replay=replay_dir is not None, concurrency=concurrency,
                                exit_when_idle=exit_when_idle, overrides=overrides)
    with ExitStack() as stack:
        base = None
        if replay_dir is not None:
            registry = load_registry(registry_dir)
            replay = ReplayMap(Path(replay_dir), [(s.url, s.replay) for s in registry.sources.values() if s.replay]
                               + [(d.url, d.replay) for d in registry.discoveries.values() if d.replay])
            base = stack.enter_context(ReplayServer(replay)).base_url
        process = CrawlerProcess(settings)
        crawler = process.create_crawler(ClusterSpider)
        process.crawl(crawler, replay_base=base, replay_dir=str(replay_dir) if replay_dir else None)
        process.start()
    stats = crawler.stats.get_stats() if crawler.stats else {}
    return {"worker": worker_id, "items": stats.get("clausewatch/items_handed_on", 0),
            "requests": stats.get("downloader/request_count", 0),
            "finish_reason": stats.get("finish_reason")}
