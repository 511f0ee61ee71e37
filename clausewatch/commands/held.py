"""``clausewatch held``: review pages held as suspicious."""
from __future__ import annotations

import click

from clausewatch.commands.database import open_public
from clausewatch.commands.options import db_option
from clausewatch.commands.output import fail, print_table, short
from clausewatch.commands.process import process_and_detect


@click.command()
@db_option
@click.option("--accept", "accept", type=int, metavar="ID", help="Store held page ID as the source's new version.")
@click.option("--reject", "reject", type=int, metavar="ID", help="Discard held page ID (it stays in the log).")
def held(db: str | None, accept: int | None, reject: int | None) -> None:
    """Review pages held as suspicious (maintenance, captcha, login, drastic shrink): list, accept, reject."""
    from clausewatch.crawlers.extract import EXTRACTOR_VERSION
    from clausewatch.db.documents import held_rows, review_held

    if accept is not None and reject is not None:
        fail("give --accept or --reject, not both")
    database = open_public(db)
    if accept is not None or reject is not None:
        held_id = accept if accept is not None else reject
        try:
            version_id = review_held(database, held_id, accept=accept is not None,
                                     extractor_version=EXTRACTOR_VERSION)
        except (KeyError, ValueError) as exc:
            fail(str(exc).strip("'\""))
        if version_id:
            click.echo(f"held page #{held_id} stored as version {version_id}")
            process_and_detect(database, None, quiet=True)
        else:
            click.echo(f"held page #{held_id} rejected")
        return
    rows = held_rows(database)
    print_table(["id", "source", "held at", "chars", "reason"],
                [(r["id"], r["source_id"], short(r["held_at"]), r["chars"], r["reason"][:70]) for r in rows])
    click.echo(f"{len(rows)} held pages waiting for review")
