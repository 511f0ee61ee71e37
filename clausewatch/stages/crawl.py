"""Run one crawl (live or replay) in this process: registry -> spider -> store.

Scrapy's reactor cannot restart: one crawl per process. The scheduler runs ``clausewatch crawl`` in a
subprocess for each job.
"""
from __future__ import annotations

import datetime as dt
import os
import signal
import sqlite3
import sys
from collections.abc import Callable
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clausewatch.crawlers.registry import Registry, load_registry
from clausewatch.crawlers.replay import ReplayMap, ReplayServer, parse_token
from clausewatch.crawlers.urlpolicy import url_refusal
from clausewatch.db import connect
from clausewatch.db.connection import StoreError
from clausewatch.db.documents import (
    finish_run,
    mark_run_interrupted,
    running_runs,
    source_rows,
    start_run,
    sync_sources,
)


class CrawlError(RuntimeError):
    """A crawl that cannot start (unknown source, bad corpus folder ...)."""


@dataclass
class CrawlPlan:
    documents: list[dict[str, Any]]
    steps: dict[str, list[str | None]] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)   # source id -> why it is not crawled


def replay_steps(tokens: list[str], previous: str | None, target: str) -> list[str]:
    """The replay tokens to request for one source: every step of its history after the last one replayed,
    up to the target day.

    Requesting them in order replays the document's history; when nothing new is due, one request
    as of ``target`` checks (conditionally) that nothing changed.
    """
    last = parse_token(previous) if previous else None
    due = [t for t in tokens if (last is None or parse_token(t) > last) and parse_token(t)[0] <= target]
    return due or [target]


def store_failure(db_path: Path, exc: Exception) -> CrawlError:
    """One line for a database that cannot be opened or written (what was stored before is intact)."""
    if isinstance(exc, StoreError):
        return CrawlError(str(exc))
    advice = "free disk space and crawl again" if "full" in str(exc) else "check the file and crawl again"
    return CrawlError(f"{db_path}: cannot write the database ({exc}); everything stored before is intact: {advice}")


def plan_crawl(db, registry: Registry, *, source_ids: list[str] | None, replay: ReplayMap | None,
               as_of: str | None, allow_local: Any = None) -> CrawlPlan:
    rows = source_rows(db)
    known = {r["source_id"] for r in rows}
    unknown = [s for s in source_ids or [] if s not in known]
    if unknown:
        raise CrawlError(f"unknown source id(s): {', '.join(unknown)} (see `clausewatch sources`)")
    if source_ids:
        rows = [r for r in rows if r["source_id"] in source_ids]
    plan = CrawlPlan(documents=[])
    if replay is None:
        for row in rows:
            refusal = url_refusal(row["url"], allow_local=allow_local)
            if refusal:
                plan.skipped[row["source_id"]] = f"refused: {refusal}"
            else:
                plan.documents.append(row)
        return plan
    target = as_of or dt.date.today().isoformat()
    for row in rows:
        dates = [t for t in replay.steps(row["url"]) if parse_token(t)[0] <= target]
        if not replay.steps(row["url"]):
            plan.skipped[row["source_id"]] = "no file in the replay corpus"
            continue
        if not dates:
            plan.skipped[row["source_id"]] = f"not yet published on {target} in the replay corpus"
            continue
        plan.documents.append(row)
        plan.steps[row["source_id"]] = replay_steps(dates, row.get("replay_as_of"), target)
    return plan


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def close_stale_runs(db) -> int:
    """Crawl runs left 'running' by a process that no longer exists (killed) become 'interrupted'."""
    stale = [r for r in running_runs(db) if r["pid"] != os.getpid() and not _alive(r["pid"])]
    for run in stale:
        mark_run_interrupted(db, run["id"], f"process {run['pid']} ended without closing the run (killed?)")
    return len(stale)


@contextmanager
def keep_signal_handlers():
    """Scrapy's CrawlerProcess installs its own SIGINT/SIGTERM handlers (a graceful stop of the crawl) and
    leaves them after the crawl: a caller that goes on (a test session, a program using this module) would
    no longer stop on Ctrl-C. Put the caller's handlers back when the crawl ends."""
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in saved.items():
            if handler is not None:
                signal.signal(sig, handler)


def run_crawl(db_path: Path, *, source_ids: list[str] | None = None, replay_dir: Path | None = None,
              as_of: str | None = None, progress: bool = True, registry_dir: Path | None = None,
              settings_overrides: dict[str, Any] | None = None,
              discovery_ids: list[str] | None = None, allow_empty: bool = False,
              on_version: Callable[..., None] | None = None) -> dict[str, Any]:
    """Crawl the declared sources (or a replay corpus) once; returns the finished ``crawl_runs`` row.

    Raises :class:`CrawlError` (one line) for bad settings and for a database that cannot be written
    (disk full): what was stored before stays intact.
    """
    from clausewatch.config import setting
    from clausewatch.crawlers.settings import SettingsError, crawl_settings

    registry = load_registry(registry_dir)
    if not registry.sources and not registry.discoveries and not allow_empty:
        # a crawl deactivates the sources no longer declared: an empty or wrong folder would retire them all
        raise CrawlError(f"{registry.directory}: no source declarations (*.yaml); refusing to crawl, which would "
                         "deactivate every tracked source (pass --allow-empty if that is what you want)")
    allow_local = setting("allow_local", "")
    overrides = {"CLAUSEWATCH_ALLOW_LOCAL": allow_local, **(settings_overrides or {})}
    try:
        crawl_settings(db_path=str(db_path), run_id=0, overrides=overrides)  # bad env values: say so now
    except SettingsError as exc:
        raise CrawlError(str(exc)) from None
    try:
        return _crawl(db_path, registry, source_ids=source_ids, replay_dir=replay_dir, as_of=as_of,
                      progress=progress, overrides=overrides, discovery_ids=discovery_ids, on_version=on_version)
    except (sqlite3.Error, StoreError) as exc:
        raise store_failure(db_path, exc) from None


def _crawl(db_path: Path, registry: Registry, *, source_ids: list[str] | None, replay_dir: Path | None,
           as_of: str | None, progress: bool, overrides: dict[str, Any],
           discovery_ids: list[str] | None = None, on_version: Callable[..., None] | None = None) -> dict[str, Any]:
    from scrapy.crawler import CrawlerProcess

    from clausewatch.crawlers.settings import crawl_settings
    from clausewatch.crawlers.spider import DocumentSpider

    allow_local = overrides["CLAUSEWATCH_ALLOW_LOCAL"]
    db = connect(db_path)
    closed = close_stale_runs(db)
    if closed and progress:
        print(f"  closed {closed} crawl run(s) left open by a killed process", file=sys.stderr)
    sync_sources(db, [s.as_row() for s in registry.sources.values()])
    from clausewatch.stages.reextract import reextract

    reextract(db, source_ids=source_ids, progress=progress)  # only sources whose extractor/selectors changed
    replay = None
    if replay_dir is not None:
        replay = ReplayMap(Path(replay_dir), [(s.url, s.replay) for s in registry.sources.values() if s.replay]
                           + [(d.url, d.replay) for d in registry.discoveries.values() if d.replay])
    if discovery_ids:  # only these listings (and the documents they reveal)
        unknown = [d for d in discovery_ids if d not in registry.discoveries]
        if unknown:
            raise CrawlError(f"unknown discovery id(s): {', '.join(unknown)} (see `clausewatch sources`)")
        plan = CrawlPlan(documents=[])
        discoveries = [registry.discoveries[d] for d in discovery_ids]
    else:
        plan = plan_crawl(db, registry, source_ids=source_ids, replay=replay, as_of=as_of,
                          allow_local=allow_local)
        discoveries = [] if source_ids else [
            d for d in registry.discoveries.values() if replay is None or replay.steps(d.url)]
    run_id = start_run(db, mode="replay" if replay else "live", as_of=as_of,
                       corpus=str(replay_dir) if replay_dir else None, pid=os.getpid(),
                       sources=len(plan.documents))
    if progress:
        where = f"replay of {replay_dir}" + (f" as of {as_of}" if as_of else "") if replay else "live web"
        print(f"crawl #{run_id}: {len(plan.documents)} sources from the {where}", file=sys.stderr, flush=True)
        for sid, why in sorted(plan.skipped.items()):
            print(f"  skipped {sid}: {why}", file=sys.stderr)
    db.close()
    status, error = "ok", None
    with ExitStack() as stack:
        stack.enter_context(keep_signal_handlers())
        base = stack.enter_context(ReplayServer(replay)).base_url if replay else None
        process = CrawlerProcess(crawl_settings(db_path=str(db_path), run_id=run_id, replay=replay is not None,
                                                progress=progress, overrides=overrides))
        crawler = process.create_crawler(DocumentSpider)
        if on_version is not None:   # called with version_id= and text= for each new version stored
            from clausewatch.crawlers.pipelines import VERSION_STORED

            crawler.signals.connect(on_version, signal=VERSION_STORED, weak=False)
        process.crawl(crawler, documents=plan.documents, discoveries=discoveries, replay_base=base,
                      steps=plan.steps)
        try:
            process.start()
        except KeyboardInterrupt:
            status, error = "interrupted", "interrupted"
        reason = crawler.stats.get_value("finish_reason") if crawler.stats else None
        if reason not in (None, "finished") and status == "ok":
            status, error = "interrupted", str(reason)
    db = connect(db_path)
    run = finish_run(db, run_id, status=status, error=error)
    run["skipped"] = plan.skipped
    db.close()
    return run
