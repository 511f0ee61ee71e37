"""``clausewatch tag FILE``: segment and tag one document."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from clausewatch.commands.output import fail, print_table


@click.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["jsonl", "table"]), default="jsonl", show_default=True)
def tag(file: str, fmt: str) -> None:
    """Segment and tag one document (txt, md, html, xml, pdf); print one JSON object per clause."""
    from clausewatch.analysis_cache import analyse_cached
    from clausewatch.crawlers.extract import ExtractionError
    from clausewatch.files import extract_file

    path = Path(file)
    if not path.is_file():
        fail(f"{file}: no such file")
    try:
        text = extract_file(path).text
    except ExtractionError as exc:
        fail(f"{file}: {exc}")
    except OSError as exc:
        fail(f"{file}: cannot be read: {exc}")
    try:
        clauses = analyse_cached(text)
    except Exception as exc:  # an analysis bug is one line, not a traceback (CLAUSEWATCH_DEBUG=1 shows it)
        if os.environ.get("CLAUSEWATCH_DEBUG"):
            raise
        fail(f"{file}: analysis failed: {type(exc).__name__}: {exc} (CLAUSEWATCH_DEBUG=1 for a traceback)")
    if fmt == "jsonl":
        out = sys.stdout
        for clause in clauses:
            out.write(json.dumps(clause.to_json(), ensure_ascii=False) + "\n")
        return
    print_table(["path", "tags", "entities", "text"],
                [(c.path, ",".join(c.tag_ids), ";".join(f"{e.type}={e.value}" for e in c.entities), c.text[:70])
                 for c in clauses])
