"""`clausewatch schedule`: run crawls, processing and digests on their schedules (APScheduler)."""
from __future__ import annotations

import logging
import sys
import time

import click

from clausewatch.commands.options import db_option, iso_day
from clausewatch.commands.output import fail, print_table
from clausewatch.config import corpus_dir, db_path, setting


def _seconds(name: str, default: float) -> float:
    value = setting(name, default)
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = -1
    if number <= 0:
        raise click.UsageError(f"setting {name} = {value!r} must be a number of seconds > 0")
    return number


def _configure_logging() -> None:
    handler = logging.StreamHandler(sys.stderr)
    formatter = logging.Formatter("%(asctime)s %(message)s", datefmt="%Y-%m-%dT%H:%M:%SZ")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    logger = logging.getLogger("clausewatch.schedule")
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    # APScheduler's own lines ("Added job", "maximum number of running instances reached") are noise here:
    # the daemon logs job start/end itself and reports missed runs
    logging.getLogger("apscheduler").setLevel(logging.ERROR)


def _cluster_producer(options):
    """With ``redis_url`` set, the producer that queues crawl jobs for the workers (docs/scaling.md)."""
    url = setting("redis_url")
    if not url:
        return None
    from clausewatch.commands.cluster import require_cluster_libraries

    require_cluster_libraries()
    from clausewatch.crawlers.frontier import Frontier, FrontierError, connect_redis
    from clausewatch.crawlers.registry import load_registry
    from clausewatch.stages.enqueue import Producer

    try:
        frontier = Frontier(connect_redis(str(url)), str(setting("redis_prefix", "clausewatch")))
    except FrontierError as exc:
        fail(str(exc))
    return Producer(frontier, load_registry(), replay_dir=options.replay, as_of=options.as_of,
                    allow_local=setting("allow_local", ""))


@click.command()
@db_option
@click.option("--dry-run", is_flag=True, help="Print every job and its next run time (UTC), then exit.")
@click.option("--replay", "replay", type=click.Path(file_okay=False), default=None,
              help="Crawl a corpus folder through the replay server instead of the web (passed to every crawl).")
@click.option("--as-of", "as_of", callback=iso_day, default=None, metavar="YYYY-MM-DD",
              help="With --replay: replay the corpus as it was on that day.")
@click.option("--every", "every", type=click.FloatRange(min=0.5), default=None, metavar="SECONDS",
              help="Replace every cron by an interval of SECONDS (demos, tests).")
def schedule(db: str | None, dry_run: bool, replay: str | None, as_of: str | None, every: float | None) -> None:
    """Run every source's crawl on its declared cron, then processing and digests, until stopped.

    One job runs at a time (the scheduler is the database's only writer); each runs a `clausewatch`
    command in a subprocess. With CLAUSEWATCH_REDIS_URL set, crawls are queued for `clausewatch worker`s
    instead (see docs/scaling.md). On start, sources whose last scheduled run was missed run at once. Run
    history is in the `job_runs` table. Stop with SIGTERM or Ctrl-C: the running job is stopped cleanly.
    """
    from clausewatch.crawlers.registry import DeclarationError
    from clausewatch.db.connection import StoreError
    from clausewatch.schedules.daemon import Daemon, ScheduleError, plan_jobs, plan_table
    from clausewatch.schedules.jobs import RunOptions, configured_schedules
    from clausewatch.schedules.notify import NotifyConfig
    from clausewatch.schedules.runner import DigestProbe

    if as_of and not replay:
        fail("--as-of needs --replay (the live web has no past)")
    replay_dir = None
    if replay:
        replay_dir = corpus_dir(replay).resolve()
        if not (replay_dir / "MANIFEST.yaml").is_file():
            fail(f"{replay_dir}: not a corpus folder (no MANIFEST.yaml)")
    options = RunOptions(db=db_path(db).resolve(), replay=replay_dir, as_of=as_of, every=every)
    try:
        schedules = configured_schedules(setting)
        notify = NotifyConfig.from_settings(setting)
        timeout, grace = _seconds("job_timeout", 1800), _seconds("stop_grace", 5)
    except ValueError as exc:
        fail(str(exc))
    try:
        if dry_run:
            planned = plan_jobs(options, schedules, readonly=True)
            probe = DigestProbe(options)
            headers, rows, summary = plan_table(planned, options, "" if probe.available() else probe.problem)
            print_table(headers, rows)
            click.echo(summary)
            if setting("redis_url"):
                click.echo("cluster mode (redis_url set): crawl and discovery jobs are queued for "
                           "`clausewatch worker`s instead of run here")
            return
        _configure_logging()
        producer = _cluster_producer(options)
        status = Daemon(options, schedules, notify, timeout=timeout, stop_grace=grace, producer=producer).run()
    except (DeclarationError, ScheduleError, StoreError) as exc:
        fail(str(exc))
    sys.exit(status)
