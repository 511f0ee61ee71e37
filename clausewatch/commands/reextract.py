"""``clausewatch reextract``: technical re-extraction of stored snapshots."""
from __future__ import annotations

import click

from clausewatch.commands.database import open_public
from clausewatch.commands.options import db_option, source_option
from clausewatch.commands.output import fail


@click.command()
@db_option
@source_option
@click.option("--force", is_flag=True, help="Re-extract every source, not only those whose extractor changed.")
def reextract(db: str | None, source_ids: tuple[str, ...], force: bool) -> None:
    """Re-extract stored snapshots after an extractor or selector change (technical versions, no fetch)."""
    from clausewatch.crawlers.registry import DeclarationError, load_registry
    from clausewatch.stages.reextract import reextract as run
    from clausewatch.stages.reextract import sync_declarations

    database = open_public(db)
    try:
        sync_declarations(database, load_registry())
    except DeclarationError as exc:
        fail(str(exc))
    counts = run(database, source_ids=list(source_ids) or None, force=force)
    click.echo(f"re-extracted {counts['checked']} sources: {counts['technical']} technical versions, "
               f"{counts['same']} unchanged, {counts['errors']} errors")
