"""``clausewatch coverage``: which replay corpus files are stored as versions."""
from __future__ import annotations

import click

from clausewatch.commands.database import open_public
from clausewatch.commands.options import db_option
from clausewatch.commands.output import fail, print_table
from clausewatch.config import corpus_dir


@click.command()
@db_option
@click.argument("corpus", type=click.Path(file_okay=False), required=False)
@click.option("--all", "show_all", is_flag=True, help="List stored files too, not only the others.")
def coverage(db: str | None, corpus: str | None, show_all: bool) -> None:
    """Which files of a replay corpus are stored as versions, and why the others are not."""
    from clausewatch.crawlers.registry import load_registry
    from clausewatch.stages.coverage import corpus_coverage

    database = open_public(db, hint="run `clausewatch crawl --replay` first")
    folder = corpus_dir(corpus)
    if not (folder / "MANIFEST.yaml").is_file():
        fail(f"{folder}: not a corpus folder (no MANIFEST.yaml)")
    rows = corpus_coverage(database, folder, load_registry())
    shown = rows if show_all else [r for r in rows if r["status"] != "stored"]
    print_table(["file", "source", "status", "reason"],
                [(r["path"], r["source"] or "-", r["status"], r["reason"]) for r in shown])
    stored = sum(1 for r in rows if r["status"] == "stored")
    click.echo(f"{stored} of {len(rows)} corpus files stored as versions")
