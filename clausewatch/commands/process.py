"""``clausewatch process``: segment, tag and compare stored versions."""
from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import click

from clausewatch.commands.database import open_public
from clausewatch.commands.options import db_option, quiet_option, source_option
from clausewatch.commands.output import EXIT_ERROR

if TYPE_CHECKING:
    from sqlite_utils import Database


def process_and_detect(db: Database, source_ids: list[str] | None, quiet: bool, *,
                       retry_failed: bool = False, early: Any = None) -> int:
    """Analyse every version the current pipeline has not processed, detect changes, rate licences, then
    compare the pairs the site offers (any two versions of a family, the renditions of a document). Returns
    how many documents failed (each failure is recorded and printed; the others go on)."""
    from clausewatch.stages.detect import detect_changes
    from clausewatch.stages.pairs import compare_pairs
    from clausewatch.stages.process import process_versions

    result = process_versions(db, source_ids=source_ids, progress=not quiet, retry_failed=retry_failed,
                              early=early)
    if not quiet:
        click.echo(f"processed {result['versions']} versions into {result['clauses']} clauses "
                   f"in {result['seconds']} s (pipeline {result['pipeline_version']})", err=True)
    found = detect_changes(db, source_ids=source_ids, progress=not quiet)
    if not quiet:
        click.echo(f"compared {found['versions']} versions: {found['substantive']} substantive of "
                   f"{found['changes']} changes in {found['seconds']} s (detector {found['detector_version']})",
                   err=True)
    from clausewatch.stages.rate import rate_versions

    rated = rate_versions(db, source_ids=source_ids, progress=not quiet)
    if not quiet:
        click.echo(f"rated {rated['states']} licence states of {rated['licences']} licences: "
                   f"{rated['changes']} verdict changes in {rated['seconds']} s (rater {rated['rater_version']})",
                   err=True)
    if rated["states"]:  # a licence text or rating that arrived can confirm or contradict a model card
        from clausewatch.stages.models import link_models

        link_models(db)
    pairs = compare_pairs(db, source_ids=source_ids, progress=not quiet)
    if not quiet:
        click.echo(f"compared {pairs['pairs']} pairs of versions and {pairs['renditions']} renditions for the site "
                   f"in {pairs['seconds']} s", err=True)
    failures = result["failed"] + found["failed"] + pairs.get("failed", [])
    for source, seq, error in failures:
        click.echo(f"clausewatch: error: {source} v{seq}: {error} (recorded; the other documents were processed)",
                   err=True)
    return len(failures)


@click.command()
@db_option
@source_option
@click.option("--retry-failed", is_flag=True, help="Also analyse again versions whose processing failed.")
@quiet_option
def process(db: str | None, source_ids: tuple[str, ...], retry_failed: bool, quiet: bool) -> None:
    """Segment, tag and extract entities from stored versions not yet processed, then detect changes.

    Exit status 2 when a document failed (its error is recorded and shown by `clausewatch status`).
    """
    if process_and_detect(open_public(db), list(source_ids) or None, quiet, retry_failed=retry_failed):
        sys.exit(EXIT_ERROR)
