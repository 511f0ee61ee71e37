"""Parallel processes for the CPU-heavy steps: NLP analysis of versions and comparisons of pairs.

(Not the cluster's crawl workers, :mod:`clausewatch.stages.worker`: these are a pool of processes of one
command, on one machine.) The store has one writer (this process); the pool's processes only compute: they
get texts or clauses and give back rows and changes, which this process writes. With two or more cores a
pool of ``processes`` (setting ``CLAUSEWATCH_PROCESSES``, default: the number of cores, at most 4) runs the
jobs while this process writes the results; with one process, or little work, everything runs here.

The pool is started by a forkserver that imports the NLP stage and builds the tagger once
(:mod:`clausewatch.stages.parallel_warm`), so each process starts warm; :func:`warm_up` starts it early
(the crawl does, so the pool is ready when its documents are).
"""
from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from clausewatch.config import setting

MAX_DEFAULT_PROCESSES = 4
MIN_PARALLEL_CHARS = 150_000     # below this much text, starting the pool costs more than it saves

_log = logging.getLogger("clausewatch.parallel")
_pool: ProcessPoolExecutor | None = None
_dispatcher: ThreadPoolExecutor | None = None
_broken = False


def process_count() -> int:
    """How many processes to use: the setting ``processes``, else the cores this process may run on (at
    most 4). ``workers``, its name in the previous release, is still read when ``processes`` is not set."""
    name, configured = "processes", setting("processes")
    if configured in (None, ""):
        name, configured = "workers", setting("workers")
    if configured not in (None, ""):
        try:
            return max(1, int(configured))
        except ValueError:
            _log.warning("clausewatch: warning: setting %s = %r is not a whole number; using one process",
                         name, configured)
            return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_DEFAULT_PROCESSES))


def pool() -> ProcessPoolExecutor | None:
    """The shared pool, started on first use; None when one process is configured or the pool broke."""
    global _pool
    if _broken or process_count() < 2:
        return None
    if _pool is None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["clausewatch.stages.parallel_warm"])
        _pool = ProcessPoolExecutor(max_workers=process_count(), mp_context=context)
        atexit.register(shutdown)
    return _pool


def warm_up() -> None:
    """Start the pool now (its processes import spaCy and build the tagger) so it is ready when work comes."""
    executor = pool()
    if executor is not None:
        from clausewatch.stages import parallel_tasks

        for _ in range(process_count()):
            submit_soon(parallel_tasks.ready)


def submit_soon(fn, *args: Any) -> Future | None:
    """Like :func:`submit`, but never blocks the caller: the job is handed to the pool by a dispatcher
    thread. The first jobs would otherwise wait, in the caller, until the forkserver has imported spaCy and
    built the tagger (about a second), and the crawl calls this from Scrapy's reactor, which must go on
    fetching meanwhile. None when there is no pool (run it here); the future fails with
    ``BrokenProcessPool`` when the pool cannot take the job."""
    global _dispatcher
    executor = pool()
    if executor is None:
        return None
    if _dispatcher is None:
        _dispatcher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="clausewatch-dispatch")
    outer: Future = Future()

    def relay(inner: Future) -> None:
        if inner.cancelled():
            outer.set_exception(BrokenProcessPool("the job was cancelled: the process pool shut down"))
        elif inner.exception() is not None:
            outer.set_exception(inner.exception())
        else:
            outer.set_result(inner.result())

    def dispatch() -> None:
        global _broken
        if _broken or _pool is not executor:     # broke or shut down since: the caller runs the job itself
            outer.set_exception(BrokenProcessPool("the process pool is not available"))
            return
        try:
            inner = executor.submit(fn, *args)
        except RuntimeError as exc:     # BrokenProcessPool, or shut down meanwhile
            _broken = True
            outer.set_exception(BrokenProcessPool(f"the process pool is not available: {exc}"))
            return
        inner.add_done_callback(relay)

    _dispatcher.submit(dispatch)
    return outer


def active_processes() -> int:
    """How many pool processes are running jobs (0: everything runs in this process)."""
    return process_count() if _pool is not None and not _broken else 0


def worth_it(big_enough: bool, jobs: int) -> bool:
    """Whether work goes to the pool: two jobs or more, and enough work to pay for starting the pool
    (or the pool already running); a scheduled crawl's one new version stays in this process."""
    return jobs >= 2 and (big_enough or _pool is not None) and pool() is not None


def submit(fn, *args: Any) -> Future | None:
    """Submit ``fn(*args)`` to the pool; None (run it here) when there is no pool."""
    global _broken
    executor = pool()
    if executor is None:
        return None
    try:
        return executor.submit(fn, *args)
    except RuntimeError:     # BrokenProcessPool: a pool process died; the rest runs in this process
        _broken = True
        return None


def mark_broken() -> None:
    """A pool process died (killed, out of memory): stop using the pool; the caller runs the job itself."""
    global _broken
    _broken = True
    shutdown()


def shutdown(wait: bool = False) -> None:
    """Stop the dispatcher and the pool (the jobs not started are cancelled); ``wait``: until they exit."""
    global _pool, _dispatcher
    if _dispatcher is not None:
        _dispatcher.shutdown(wait=wait)
        _dispatcher = None
    if _pool is not None:
        _pool.shutdown(wait=wait, cancel_futures=True)
        _pool = None


def close() -> None:
    """Stop the pool and its forkserver now, waiting for them to exit: for a long-lived caller (a test
    session) that must leave no process behind. A command's pool ends with the command anyway."""
    shutdown(wait=True)
    from multiprocessing import forkserver

    stop = getattr(getattr(forkserver, "_forkserver", None), "_stop", None)   # CPython's own clean stop
    if stop is not None:
        stop()
