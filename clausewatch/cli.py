"""The ``clausewatch`` command: a thin click layer over the stages."""
from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path

import click

from clausewatch import __version__
from clausewatch.config import corpus_dir, db_path

EXIT_ERROR = 2


def fail(message: str) -> None:
    click.echo(f"clausewatch: error: {message}", err=True)
    sys.exit(EXIT_ERROR)


def iso_day(ctx, param, value):
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD)") from None


db_option = click.option("--db", "db", envvar="CLAUSEWATCH_DB", default=None, show_envvar=True,
                         help="Path of the SQLite database (default: data/clausewatch.db).")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="clausewatch")
def main() -> None:
    """Track the licences and policies of open-source and open-weight AI, clause by clause."""


# ------------------------------------------------------------------ sources / status

@main.command()
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
    _table(["id", "kind", "jurisdiction", "family", "version", "format"], rows)
    click.echo(f"{len(items)} sources, {len(registry.discoveries)} discovery declarations")


@main.command()
@db_option
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
def status(db: str | None, fmt: str) -> None:
    """Per source: last fetch, last change, last error, number of versions."""
    from clausewatch.db import connect
    from clausewatch.db.status import source_status

    path = db_path(db)
    if not path.exists():
        fail(f"{path}: no database yet; run `clausewatch crawl` first")
    rows = source_status(connect(path))
    if fmt == "json":
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
        return
    _table(["source", "status", "versions", "last fetch", "last change", "last error"],
           [(r["source_id"], r["status"], r["versions"], _short(r["last_fetch_at"]), _short(r["last_change_at"]),
             (r["last_error"] or "")[:60]) for r in rows])
    total = sum(r["versions"] for r in rows)
    errors = sum(1 for r in rows if r["status"] in ("error", "gone"))
    click.echo(f"{len(rows)} sources, {total} versions, {errors} with errors")


# ------------------------------------------------------------------ crawl / process

@main.command()
@db_option
@click.option("--source", "source_ids", multiple=True, metavar="ID", help="Crawl only this source (repeatable).")
@click.option("--replay", "replay", type=click.Path(file_okay=False), default=None,
              help="Replay a corpus folder (laid out like ../shared/corpus) from a local HTTP server.")
@click.option("--as-of", "as_of", callback=iso_day, default=None, metavar="YYYY-MM-DD",
              help="With --replay: serve each document as it was on that day.")
@click.option("--discovery", "discovery_ids", multiple=True, metavar="ID",
              help="Only read this discovery listing and fetch the new documents it reveals (repeatable).")
@click.option("--no-process", is_flag=True, help="Do not segment and tag what was fetched.")
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
def crawl(db: str | None, source_ids: tuple[str, ...], replay: str | None, as_of: str | None,
          discovery_ids: tuple[str, ...], no_process: bool, quiet: bool) -> None:
    """Fetch the declared sources politely and store new versions."""
    from clausewatch.crawl import CrawlError, run_crawl
    from clausewatch.crawlers.registry import DeclarationError
    from clausewatch.crawlers.replay import ReplayError

    if as_of and not replay:
        fail("--as-of needs --replay (the live web has no past)")
    path = db_path(db)
    replay_dir = None
    if replay:
        replay_dir = corpus_dir(replay)
        if not (replay_dir / "MANIFEST.yaml").is_file():
            fail(f"{replay_dir}: not a corpus folder (no MANIFEST.yaml)")
    try:
        run = run_crawl(path, source_ids=list(source_ids) or None, replay_dir=replay_dir, as_of=as_of,
                        progress=not quiet, discovery_ids=list(discovery_ids) or None)
    except (CrawlError, DeclarationError, ReplayError) as exc:
        fail(str(exc))
    click.echo(f"crawl #{run['id']} {run['status']}: {run['sources']} sources, {run['requests']} requests, "
               f"{run['new_versions']} new versions, {run['technical']} re-extractions, "
               f"{run['not_modified'] + run['unchanged']} unchanged, {run['held']} held, {run['errors']} errors",
               err=quiet is False)
    if not no_process:
        _process(path, list(source_ids) or None, quiet)
    if run["status"] != "ok":
        sys.exit(EXIT_ERROR)


@main.command()
@db_option
@click.option("--source", "source_ids", multiple=True, metavar="ID")
@click.option("--quiet", "-q", is_flag=True)
def process(db: str | None, source_ids: tuple[str, ...], quiet: bool) -> None:
    """Segment, tag and extract entities from stored versions not yet processed."""
    path = db_path(db)
    if not path.exists():
        fail(f"{path}: no database yet; run `clausewatch crawl` first")
    _process(path, list(source_ids) or None, quiet)


@main.command()
@db_option
@click.option("--source", "source_ids", multiple=True, metavar="ID")
@click.option("--force", is_flag=True, help="Re-extract every source, not only those whose extractor changed.")
def reextract(db: str | None, source_ids: tuple[str, ...], force: bool) -> None:
    """Re-extract stored snapshots after an extractor or selector change (technical versions, no fetch)."""
    from clausewatch.db import connect
    from clausewatch.reextract import reextract as run

    path = db_path(db)
    if not path.exists():
        fail(f"{path}: no database yet; run `clausewatch crawl` first")
    counts = run(connect(path), source_ids=list(source_ids) or None, force=force)
    click.echo(f"re-extracted {counts['checked']} sources: {counts['technical']} technical versions, "
               f"{counts['same']} unchanged, {counts['errors']} errors")


@main.command()
@db_option
@click.option("--accept", "accept", type=int, metavar="ID", help="Store held page ID as the source's new version.")
@click.option("--reject", "reject", type=int, metavar="ID", help="Discard held page ID (it stays in the log).")
def held(db: str | None, accept: int | None, reject: int | None) -> None:
    """Review pages held as suspicious (maintenance, captcha, login, drastic shrink): list, accept, reject."""
    from clausewatch.crawlers.extract import EXTRACTOR_VERSION
    from clausewatch.db import connect
    from clausewatch.db.documents import held_rows, review_held

    path = db_path(db)
    if not path.exists():
        fail(f"{path}: no database yet; run `clausewatch crawl` first")
    if accept is not None and reject is not None:
        fail("give --accept or --reject, not both")
    database = connect(path)
    if accept is not None or reject is not None:
        held_id = accept if accept is not None else reject
        try:
            version_id = review_held(database, held_id, accept=accept is not None,
                                     extractor_version=EXTRACTOR_VERSION)
        except (KeyError, ValueError) as exc:
            fail(str(exc).strip("'\""))
        if version_id:
            click.echo(f"held page #{held_id} stored as version {version_id}")
            _process(path, None, quiet=True)
        else:
            click.echo(f"held page #{held_id} rejected")
        return
    rows = held_rows(database)
    _table(["id", "source", "held at", "chars", "reason"],
           [(r["id"], r["source_id"], _short(r["held_at"]), r["chars"], r["reason"][:70]) for r in rows])
    click.echo(f"{len(rows)} held pages waiting for review")


def _process(path: Path, source_ids: list[str] | None, quiet: bool) -> None:
    from clausewatch.db import connect
    from clausewatch.process import process_versions

    db = connect(path)
    result = process_versions(db, source_ids=source_ids, progress=not quiet)
    if not quiet:
        click.echo(f"processed {result['versions']} versions into {result['clauses']} clauses "
                   f"in {result['seconds']} s (pipeline {result['pipeline_version']})", err=True)
    from clausewatch.changes import detect_changes

    found = detect_changes(db, source_ids=source_ids, progress=not quiet)
    if not quiet:
        click.echo(f"compared {found['versions']} versions: {found['substantive']} substantive of "
                   f"{found['changes']} changes in {found['seconds']} s (detector {found['detector_version']})",
                   err=True)


@main.command()
@db_option
@click.argument("corpus", type=click.Path(file_okay=False), required=False)
@click.option("--all", "show_all", is_flag=True, help="List stored files too, not only the others.")
def coverage(db: str | None, corpus: str | None, show_all: bool) -> None:
    """Which files of a replay corpus are stored as versions, and why the others are not."""
    from clausewatch.coverage import corpus_coverage
    from clausewatch.crawlers.registry import load_registry
    from clausewatch.db import connect

    path, folder = db_path(db), corpus_dir(corpus)
    if not path.exists():
        fail(f"{path}: no database yet; run `clausewatch crawl --replay` first")
    if not (folder / "MANIFEST.yaml").is_file():
        fail(f"{folder}: not a corpus folder (no MANIFEST.yaml)")
    rows = corpus_coverage(connect(path), folder, load_registry())
    shown = rows if show_all else [r for r in rows if r["status"] != "stored"]
    _table(["file", "source", "status", "reason"], [(r["path"], r["source"] or "-", r["status"], r["reason"])
                                                    for r in shown])
    stored = sum(1 for r in rows if r["status"] == "stored")
    click.echo(f"{stored} of {len(rows)} corpus files stored as versions")


# ------------------------------------------------------------------ one file

@main.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--format", "fmt", type=click.Choice(["jsonl", "table"]), default="jsonl", show_default=True)
def tag(file: str, fmt: str) -> None:
    """Segment and tag one document (txt, md, html, xml, pdf); print one JSON object per clause."""
    from clausewatch.crawlers.extract import ExtractionError
    from clausewatch.files import extract_file
    from clausewatch.nlp import analyse

    path = Path(file)
    if not path.is_file():
        fail(f"{file}: no such file")
    try:
        text = extract_file(path).text
    except ExtractionError as exc:
        fail(f"{file}: {exc}")
    except OSError as exc:
        fail(f"{file}: cannot be read: {exc}")
    clauses = analyse(text)
    if fmt == "jsonl":
        out = sys.stdout
        for clause in clauses:
            out.write(json.dumps(clause.to_json(), ensure_ascii=False) + "\n")
        return
    _table(["path", "tags", "entities", "text"],
           [(c.path, ",".join(c.tag_ids), ";".join(f"{e.type}={e.value}" for e in c.entities), c.text[:70])
            for c in clauses])


# ------------------------------------------------------------------ helpers

def _short(value: str | None) -> str:
    return (value or "-")[:16].replace("T", " ")


def _table(headers: list[str], rows: list[tuple]) -> None:
    cells = [[str(c) for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    click.echo("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
    click.echo("  ".join("-" * w for w in widths))
    for r in cells:
        click.echo("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip())


# ------------------------------------------------------------------ commands defined in their own modules
# (each module exposes click commands; register them here, one line each)
from clausewatch.schedule_cli import schedule as _schedule  # noqa: E402, I001
main.add_command(_schedule)
from clausewatch.digest_cli import DIGEST_COMMANDS as _digest_commands  # noqa: E402, I001
for _command in _digest_commands: main.add_command(_command)  # noqa: E701
from clausewatch.serve import serve as _serve  # noqa: E402, I001
main.add_command(_serve)
from clausewatch.diff import diff as _diff  # noqa: E402, I001
main.add_command(_diff)


if __name__ == "__main__":
    main()
