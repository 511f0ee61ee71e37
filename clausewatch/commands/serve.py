"""``clausewatch serve``: publish the database read-only (Datasette) with the subscription pages."""
from __future__ import annotations

import click

from clausewatch.commands.database import public_path
from clausewatch.commands.options import db_option
from clausewatch.commands.output import fail


@click.command("serve")
@db_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=8001, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
def serve(db: str | None, host: str, port: int) -> None:
    """Serve the tracker database read-only with Datasette (search, facets, diffs, feeds, charts)."""
    import uvicorn

    from clausewatch.web.app import PublicApp
    from clausewatch.web.datasette_app import ServeError

    path = public_path(db)
    try:
        app = PublicApp(path)
    except ServeError as exc:
        fail(str(exc))
    click.echo(f"serving {path} on http://{host}:{port}/ (read-only; Ctrl-C stops)", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", lifespan="on", workers=1)
