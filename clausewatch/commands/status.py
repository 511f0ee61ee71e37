"""``clausewatch status``: how each source is doing."""
from __future__ import annotations

import json

import click

from clausewatch.commands.database import open_public
from clausewatch.commands.options import db_option
from clausewatch.commands.output import print_table, short


@click.command()
@db_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def status(db: str | None, fmt: str) -> None:
    """Per source: last fetch, last change, last error, number of versions, alerts and reverts (flaps)."""
    from clausewatch.db.status import source_status

    rows = source_status(open_public(db))
    if fmt == "json":
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
        return
    print_table(["source", "status", "versions", "alerts", "reverts", "last fetch", "last change", "last error"],
                [(r["source_id"], r["status"] if not r["processing_error"] else f"{r['status']}, processing error",
                  r["versions"], r["alerts"], r["reverts"], short(r["last_fetch_at"]), short(r["last_change_at"]),
                  (r["processing_error"] or r["last_error"] or "")[:60]) for r in rows])
    total = sum(r["versions"] for r in rows)
    errors = sum(1 for r in rows if r["status"] in ("error", "gone") or r["processing_error"])
    click.echo(f"{len(rows)} sources, {total} versions, {errors} with errors")
