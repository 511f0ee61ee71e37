"""``clausewatch process``: segment, tag and compare stored versions."""
from __future__ import annotations

from typing import TYPE_CHECKING

import click

from clausewatch.commands.database import open_public
from clausewatch.commands.options import db_option, quiet_option, source_option

if TYPE_CHECKING:
    from sqlite_utils import Database


def process_and_detect(db: Database, source_ids: list[str] | None, quiet: bool) -> None:
    """Analyse every version the current pipeline has not processed, then detect changes and rate licences."""
    from clausewatch.stages.detect import detect_changes
    from clausewatch.stages.process import process_versions

    result = process_versions(db, source_ids=source_ids, progress=not quiet)
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


@click.command()
@db_option
@source_option
@quiet_option
def process(db: str | None, source_ids: tuple[str, ...], quiet: bool) -> None:
    """Segment, tag and extract entities from stored versions not yet processed."""
    process_and_detect(open_public(db), list(source_ids) or None, quiet)
