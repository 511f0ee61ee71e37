"""``clausewatch crawl``: fetch the declared sources (or replay a corpus) and store new versions."""
from __future__ import annotations

import sys

import click

from clausewatch.commands.database import open_public, public_path
from clausewatch.commands.options import db_option, iso_day, quiet_option
from clausewatch.commands.output import EXIT_ERROR, fail
from clausewatch.commands.process import process_and_detect
from clausewatch.config import corpus_dir


@click.command()
@db_option
@click.option("--source", "source_ids", multiple=True, metavar="ID", help="Crawl only this source (repeatable).")
@click.option("--replay", "replay", type=click.Path(file_okay=False), default=None,
              help="Replay a corpus folder (laid out like ../shared/corpus) from a local HTTP server.")
@click.option("--as-of", "as_of", callback=iso_day, default=None, metavar="YYYY-MM-DD",
              help="With --replay: serve each document as it was on that day.")
@click.option("--discovery", "discovery_ids", multiple=True, metavar="ID",
              help="Only read this discovery listing and fetch the new documents it reveals (repeatable).")
@click.option("--no-process", is_flag=True, help="Do not segment and tag what was fetched.")
@click.option("--allow-empty", is_flag=True,
              help="Crawl even when the sources folder declares nothing (deactivates every tracked source).")
@quiet_option
def crawl(db: str | None, source_ids: tuple[str, ...], replay: str | None, as_of: str | None,
          discovery_ids: tuple[str, ...], no_process: bool, allow_empty: bool, quiet: bool) -> None:
    """Fetch the declared sources politely and store new versions."""
    from clausewatch.crawlers.registry import DeclarationError
    from clausewatch.crawlers.replay import ReplayError
    from clausewatch.stages.crawl import CrawlError, run_crawl

    if as_of and not replay:
        fail("--as-of needs --replay (the live web has no past)")
    path = public_path(db, must_exist=False)
    replay_dir = None
    if replay:
        replay_dir = corpus_dir(replay)
        if not (replay_dir / "MANIFEST.yaml").is_file():
            fail(f"{replay_dir}: not a corpus folder (no MANIFEST.yaml)")
    early = None
    if not no_process:
        from clausewatch.stages.process import EarlyAnalyses

        # the first new version stored starts the NLP workers (spaCy, the tagger), which analyse each new
        # version while the crawl goes on; a crawl that finds nothing new starts none
        early = EarlyAnalyses()
    try:
        run = run_crawl(path, source_ids=list(source_ids) or None, replay_dir=replay_dir, as_of=as_of,
                        progress=not quiet, discovery_ids=list(discovery_ids) or None, allow_empty=allow_empty,
                        on_version=early)
    except (CrawlError, DeclarationError, ReplayError) as exc:
        fail(str(exc))
    click.echo(f"crawl #{run['id']} {run['status']}: {run['sources']} sources, {run['requests']} requests, "
               f"{run['new_versions']} new versions, {run['technical']} re-extractions, "
               f"{run['not_modified'] + run['unchanged']} unchanged, {run['held']} held, {run['errors']} errors",
               err=quiet is False)
    failed = 0 if no_process else process_and_detect(open_public(db), list(source_ids) or None, quiet, early=early)
    if run["status"] != "ok" or failed:
        sys.exit(EXIT_ERROR)
    fetched = run["new_versions"] + run["technical"] + run["not_modified"] + run["unchanged"] + run["held"]
    if run["errors"] and not fetched:
        fail(f"nothing succeeded: every fetch of the {run['sources']} sources failed (see `clausewatch status`)")
