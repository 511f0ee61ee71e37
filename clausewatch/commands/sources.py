"""``clausewatch sources``: the declared sources."""
from __future__ import annotations

import json

import click

from clausewatch.commands.output import fail, print_table


@click.command()
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def sources(fmt: str) -> None:
    """List the declared sources (crawlers/sources/*.yaml)."""
    from clausewatch.crawlers.registry import DeclarationError, load_registry

    try:
        registry = load_registry()
    except DeclarationError as exc:
        fail(str(exc))
    items = sorted(registry.sources.values(), key=lambda s: (s.family, s.id))
    if fmt == "json":
        for s in items:
            click.echo(json.dumps(s.as_row(), ensure_ascii=False))
        for d in registry.discoveries.values():
            click.echo(json.dumps({"source_id": d.id, "kind": "discovery", "url": d.url, "title": d.title}))
        return
    rows = [(s.id, s.kind, s.jurisdiction, s.family, s.version, s.format) for s in items]
    rows += [(d.id, "discovery", "-", "-", "-", "json") for d in registry.discoveries.values()]
    print_table(["id", "kind", "jurisdiction", "family", "version", "format"], rows)
    click.echo(f"{len(items)} sources, {len(registry.discoveries)} discovery declarations")
