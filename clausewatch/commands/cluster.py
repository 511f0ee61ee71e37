"""Cluster mode (``CLAUSEWATCH_REDIS_URL``): ``clausewatch enqueue``, ``worker``, ``store`` and ``queue``.

See docs/scaling.md. Without Redis configured none of these is needed: ``clausewatch crawl`` and
``clausewatch schedule`` do everything in one process.
"""
from __future__ import annotations

import datetime as dt
import logging
import sys
import time

import click

from clausewatch.commands.database import open_public, public_path
from clausewatch.commands.options import db_option, iso_day, quiet_option
from clausewatch.commands.output import fail, print_table
from clausewatch.config import corpus_dir, setting

redis_option = click.option("--redis", "redis_url", default=None, metavar="URL",
                            help="Redis URL (default: setting redis_url, env CLAUSEWATCH_REDIS_URL).")


def redis_settings(redis_url: str | None) -> tuple[str, str]:
    """The Redis URL and key prefix, or one error line when cluster mode is not configured."""
    url = redis_url or setting("redis_url")
    if not url:
        fail("no Redis configured: set CLAUSEWATCH_REDIS_URL (e.g. redis://127.0.0.1:6379/0) or give --redis URL; "
             "without Redis use `clausewatch crawl` (see docs/scaling.md)")
    return str(url), str(setting("redis_prefix", "clausewatch"))


def require_cluster_libraries() -> None:
    try:
        import redis  # noqa: F401
        import scrapy_redis  # noqa: F401
    except ImportError as exc:
        fail(f"cluster mode needs the redis extra ({exc.name} is not installed): pip install 'clausewatch[redis]'")


def open_frontier(redis_url: str | None):
    url, prefix = redis_settings(redis_url)
    require_cluster_libraries()
    from clausewatch.crawlers.frontier import Frontier, FrontierError, connect_redis

    try:
        return Frontier(connect_redis(url), prefix), url, prefix
    except FrontierError as exc:
        fail(str(exc))


def _log_to_stderr(name: str, quiet: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    formatter = logging.Formatter("%(asctime)s %(message)s", datefmt="%Y-%m-%dT%H:%M:%SZ")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    logger = logging.getLogger(name)
    logger.handlers[:] = [handler]
    logger.setLevel(logging.WARNING if quiet else logging.INFO)
    logger.propagate = False


@click.command()
@db_option
@redis_option
@click.option("--source", "source_ids", multiple=True, metavar="ID", help="Queue only this source (repeatable).")
@click.option("--discovery", "discovery_ids", multiple=True, metavar="ID",
              help="Queue this discovery listing (repeatable); its new documents are queued when it is stored.")
@click.option("--replay", "replay", type=click.Path(file_okay=False), default=None,
              help="Replay jobs of a corpus folder (workers must run with --replay on the same corpus).")
@click.option("--as-of", "as_of", callback=iso_day, default=None, metavar="YYYY-MM-DD",
              help="With --replay: serve each document as it was on that day.")
@click.option("--cycle", "cycle", default=None, metavar="TOKEN",
              help="Duplicate-filter cycle (default: the UTC day): a source queued twice in one cycle is fetched once.")
@click.option("--force", is_flag=True, help="A new cycle of its own: fetch again what this cycle already queued.")
@quiet_option
def enqueue(db: str | None, redis_url: str | None, source_ids: tuple[str, ...], discovery_ids: tuple[str, ...],
            replay: str | None, as_of: str | None, cycle: str | None, force: bool, quiet: bool) -> None:
    """Queue sources (all active ones by default) for the cluster's workers."""
    from clausewatch.crawlers.registry import DeclarationError, load_registry
    from clausewatch.stages.crawl import CrawlError
    from clausewatch.stages.enqueue import Producer, default_cycle

    if as_of and not replay:
        fail("--as-of needs --replay (the live web has no past)")
    frontier, _, _ = open_frontier(redis_url)
    replay_dir = corpus_dir(replay) if replay else None
    if replay_dir is not None and not (replay_dir / "MANIFEST.yaml").is_file():
        fail(f"{replay_dir}: not a corpus folder (no MANIFEST.yaml)")
    if force:
        cycle = dt.datetime.now(dt.UTC).strftime("forced-%Y%m%dT%H%M%S.%fZ")
    cycle = cycle or default_cycle()
    try:
        registry = load_registry()
        producer = Producer(frontier, registry, replay_dir=replay_dir, as_of=as_of,
                            allow_local=setting("allow_local", ""))
        database = open_public(db, must_exist=False)
        producer.sync(database)
        results = []
        if source_ids or not discovery_ids:
            results.append(producer.enqueue_sources(database, list(source_ids) or None, cycle=cycle))
        for discovery_id in discovery_ids:
            results.append(producer.enqueue_discovery(discovery_id, cycle=cycle))
    except (CrawlError, DeclarationError) as exc:
        fail(str(exc))
    queued = sum(len(r.queued) for r in results)
    duplicate = [sid for r in results for sid in r.duplicate]
    skipped = {sid: why for r in results for sid, why in r.skipped.items()}
    if not quiet:
        for sid, why in sorted(skipped.items()):
            click.echo(f"  skipped {sid}: {why}", err=True)
    note = f"; {len(duplicate):,} already queued in this cycle (--force to fetch them again)" if duplicate else ""
    click.echo(f"queued {queued:,} jobs (cycle {cycle}){note}; {len(skipped):,} skipped", err=quiet is False)


@click.command()
@redis_option
@click.option("--concurrency", type=click.IntRange(1, 256), default=8, show_default=True,
              help="Requests in flight in this worker (each to a different host).")
@click.option("--replay", "replay", type=click.Path(file_okay=False), default=None,
              help="Fetch replay jobs from a local replay server of this corpus folder.")
@click.option("--name", default=None, help="Worker name in `clausewatch queue` (default HOST:PID).")
@click.option("--exit-when-idle", type=click.FloatRange(min=0), default=0, metavar="SECONDS",
              help="Stop once nothing was queued or in flight anywhere for SECONDS (default: run until stopped).")
@quiet_option
def worker(redis_url: str | None, concurrency: int, replay: str | None, name: str | None,
           exit_when_idle: float, quiet: bool) -> None:
    """Fetch and extract jobs from the shared queue until stopped (SIGTERM: finishes what is in flight)."""
    from clausewatch.crawlers.registry import DeclarationError
    from clausewatch.crawlers.replay import ReplayError
    from clausewatch.crawlers.settings import SettingsError
    from clausewatch.stages.worker import run_worker

    frontier, url, prefix = open_frontier(redis_url)
    frontier.redis.close()
    replay_dir = corpus_dir(replay) if replay else None
    if replay_dir is not None and not (replay_dir / "MANIFEST.yaml").is_file():
        fail(f"{replay_dir}: not a corpus folder (no MANIFEST.yaml)")
    _log_to_stderr("clausewatch.worker", quiet)
    if not quiet:
        click.echo(f"worker: {concurrency} requests in flight at most, queue on {_redacted(url)}", err=True)
    try:
        result = run_worker(url, prefix=prefix, concurrency=concurrency, replay_dir=replay_dir,
                            exit_when_idle=exit_when_idle, name=name)
    except (SettingsError, DeclarationError, ReplayError) as exc:
        fail(str(exc))
    if not quiet:
        click.echo(f"worker {result['worker']} stopped ({result['finish_reason']}): {result['requests']:,} requests, "
                   f"{result['items']:,} items handed on", err=True)


@click.command()
@db_option
@redis_option
@click.option("--name", default="writer", show_default=True,
              help="Consumer name: a restarted writer with the same name first stores what it had not acknowledged.")
@click.option("--batch", type=click.IntRange(1, 10000), default=200, show_default=True,
              help="Items stored per transaction at most.")
@click.option("--exit-when-idle", type=click.FloatRange(min=0), default=0, metavar="SECONDS",
              help="Stop once nothing was waiting, queued or in flight for SECONDS (default: run until stopped).")
@quiet_option
def store(db: str | None, redis_url: str | None, name: str, batch: int, exit_when_idle: float, quiet: bool) -> None:
    """The one writer: store what the workers fetched into the database, in transactions."""
    from clausewatch.db.connection import StoreError
    from clausewatch.stages.store import run_writer

    frontier, url, _ = open_frontier(redis_url)
    path = public_path(db, must_exist=False)
    if not quiet:
        click.echo(f"store: items from {_redacted(url)} into {path}", err=True)
    try:
        result = run_writer(path, frontier, name=name, batch=batch, exit_when_idle=exit_when_idle,
                            progress=not quiet)
    except StoreError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{path}: cannot write the database ({exc}); nothing unstored was acknowledged: fix it and restart")
    counts = ", ".join(f"{n:,} {k.replace('_', ' ')}" for k, n in sorted(result["counts"].items())) or "nothing"
    click.echo(f"store stopped: {result['stored']:,} items in {result['seconds']:g} s ({counts})", err=quiet is False)


@click.command()
@redis_option
def queue(redis_url: str | None) -> None:
    """The shared queue: jobs waiting and in flight, hosts, live workers, items waiting for the writer."""
    frontier, url, prefix = open_frontier(redis_url)
    stats = frontier.stats()
    print_table(("what", "count"), [
        ("jobs queued", f"{stats['queued']:,}"), ("requests in flight", f"{stats['in_flight']:,}"),
        ("hosts with work waiting", f"{stats['hosts_waiting']:,}"), ("hosts being fetched", f"{stats['hosts_busy']:,}"),
        ("items waiting for the writer", f"{stats['items_to_store']:,}"),
        ("items the writer could not store", f"{stats['items_dead']:,}"),
        ("fingerprints in the duplicate filter", f"{stats['fingerprints']:,}")])
    workers = frontier.workers()
    click.echo(f"\n{len(workers)} live worker(s) on {_redacted(url)} (prefix {prefix})")
    if workers:
        now = time.time()
        print_table(("worker", "host", "pid", "up", "items", "concurrency"), [
            (wid, info.get("host"), info.get("pid"), f"{(now - info.get('started', now)) / 60:.0f} min",
             f"{info.get('items', 0):,}", info.get("concurrency")) for wid, info in sorted(workers.items())])


def _redacted(url: str) -> str:
    from clausewatch.crawlers.frontier import redact

    return redact(url)
