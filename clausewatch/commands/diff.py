"""``clausewatch diff OLD NEW``: the tracker's change detector on any two files or stored versions.

OLD and NEW are files in any format the extractor reads (they may differ: an HTML page against its
PDF) or stored versions: ``SOURCE_ID@latest``, ``SOURCE_ID@YYYY-MM-DD`` (the version current that day)
or ``SOURCE_ID@VERSION_ID``. The same extractor, segmenter, tagger and aligner as the pipeline.

Exit status as diff(1): 0 no substantive change, 1 substantive changes, 2 trouble.
"""
from __future__ import annotations

import datetime as dt
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from clausewatch.changes.render import FORMATS, render
from clausewatch.commands.output import fail

EXIT_SAME, EXIT_CHANGED = 0, 1
STORED = re.compile(r"^(?P<source>[a-z0-9][a-z0-9.\-]*[a-z0-9])@(?P<which>[^@/\\]+)$")


class DiffInputError(Exception):
    """OLD or NEW cannot be read: one line naming it and what is wrong."""


@dataclass
class Side:
    label: str
    clauses: list
    text: str
    template: str | None = None   # the template licence a stored source is declared a copy of


def resolve(spec: str, db_path: Path | None = None) -> Side:
    """A file path or ``SOURCE_ID@latest|YYYY-MM-DD|VERSION_ID`` -> its label and analysed clauses."""
    path = Path(spec)
    if path.exists():
        return _file_side(path)
    match = STORED.match(spec)
    if match:
        return _stored_side(match["source"], match["which"], db_path)
    raise DiffInputError(f"{spec}: no such file (a stored version is written SOURCE_ID@latest, "
                         "SOURCE_ID@YYYY-MM-DD or SOURCE_ID@VERSION_ID)")


def _file_side(path: Path) -> Side:
    from clausewatch.analysis_cache import analyse_cached
    from clausewatch.crawlers.extract import ExtractionError
    from clausewatch.files import extract_file

    if path.is_dir():
        raise DiffInputError(f"{path}: is a directory, not a document")
    try:
        text = extract_file(path).text
    except ExtractionError as exc:
        raise DiffInputError(f"{path}: {exc}") from None
    except (OSError, UnicodeError, ValueError) as exc:
        raise DiffInputError(f"{path}: cannot be read: {exc}") from None
    except Exception as exc:  # an extractor bug must not look like exit 1 ("substantive changes")
        raise DiffInputError(f"{path}: text extraction failed: {type(exc).__name__}: {exc}") from None
    return Side(str(path), analyse_cached(text), text)


def _stored_side(source_id: str, which: str, db_path: Path | None) -> Side:
    from clausewatch.config import db_path as default_db_path
    from clausewatch.db import connect
    from clausewatch.db.comparisons import latest_stored_version, version_on, version_row
    from clausewatch.db.documents import source_by_id
    from clausewatch.stages.detect import version_clauses

    path = db_path or default_db_path()
    if not path.is_file():
        raise DiffInputError(f"{source_id}@{which}: no database at {path} (run `clausewatch crawl` or pass --db)")
    db = connect(path, readonly=True)
    source = source_by_id(db, source_id)
    if source is None:
        raise DiffInputError(f"{source_id}@{which}: unknown source {source_id!r} in {path}")
    version: dict[str, Any] | None
    if which == "latest":
        version = latest_stored_version(db, source["id"])
        if version is None:
            raise DiffInputError(f"{source_id}@latest: source {source_id!r} has no stored version yet")
    elif re.fullmatch(r"\d{4}-\d{2}-\d{2}", which):
        try:
            dt.date.fromisoformat(which)
        except ValueError:
            raise DiffInputError(f"{source_id}@{which}: {which!r} is not a date") from None
        version = version_on(db, source["id"], which)
        if version is None:
            raise DiffInputError(f"{source_id}@{which}: source {source_id!r} had no version on {which}")
    elif which.isdigit():
        version = version_row(db, int(which))
        if version is None or version["source_id"] != source["id"]:
            raise DiffInputError(f"{source_id}@{which}: version {which} is not a version of {source_id!r}")
    else:
        raise DiffInputError(f"{source_id}@{which}: {which!r} is not latest, a date (YYYY-MM-DD) or a version id")
    label = f"{source_id}@{which} (version {version['id']}, seq {version['seq']}, from {version['valid_from'][:10]})"
    return Side(label, version_clauses(db, version), version["text"], source.get("template"))


def _compare(old: str, new: str, db_path: Path | None) -> tuple[list[dict[str, Any]], Side, Side]:
    from clausewatch.changes import compare

    before, after = resolve(old, db_path), resolve(new, db_path)
    changes = compare(before.clauses, after.clauses, old_text=before.text, new_text=after.text,
                      template_copy=bool(before.template or after.template))
    return [c.to_json() for c in changes], before, after


def _refuse_overwriting_an_input(output: Path, *inputs: str) -> None:
    """``-o`` naming OLD or NEW (by any path spelling or link) would destroy what is being compared."""
    for spec in inputs:
        path = Path(spec)
        try:
            same = path.exists() and output.exists() and output.resolve().samefile(path.resolve())
        except OSError:
            same = False
        if same or (path.exists() and output.resolve() == path.resolve()):
            raise DiffInputError(f"-o {output}: is the input {spec}; refusing to overwrite what is being compared "
                                 "(write to another file)")


def use_color(stream: Any) -> bool:
    return "NO_COLOR" not in os.environ and hasattr(stream, "isatty") and stream.isatty()


@click.command()
@click.argument("old")
@click.argument("new")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True,
              help="table for a terminal, jsonl for scripts, md for an issue or PR, html for a page.")
@click.option("--substantive-only", is_flag=True, help="Leave cosmetic changes out of the output.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write to FILE instead of standard output.")
@click.option("--db", "db", envvar="CLAUSEWATCH_DB", default=None, show_envvar=True,
              help="Database holding stored versions (default: data/clausewatch.db).")
def diff(old: str, new: str, fmt: str, substantive_only: bool, output: str | None, db: str | None) -> None:
    """Compare two documents clause by clause: what changed that matters?

    OLD and NEW are files (txt, md, html, xml, pdf) or stored versions SOURCE_ID@latest,
    SOURCE_ID@YYYY-MM-DD (the version current that day) or SOURCE_ID@VERSION_ID.
    Exit status: 0 no substantive change, 1 substantive changes, 2 error.
    """
    try:
        if output:
            _refuse_overwriting_an_input(Path(output), old, new)
        changes, before, after = _compare(old, new, Path(db) if db else None)
        shown = [c for c in changes if c["substantive"]] if substantive_only else changes
        if output:
            text = render(shown, fmt, old_label=before.label, new_label=after.label, totals=changes)
            try:
                Path(output).write_text(text, encoding="utf-8")
            except OSError as exc:
                raise DiffInputError(f"{output}: cannot write: {exc.strerror or exc}") from None
        else:
            stream = click.get_text_stream("stdout")
            stream.write(render(shown, fmt, old_label=before.label, new_label=after.label, totals=changes,
                                color=fmt == "table" and use_color(stream)))
            stream.flush()
    except DiffInputError as exc:
        fail(str(exc))
    except Exception as exc:  # exit 1 means "substantive changes": any crash must say 2
        if os.environ.get("CLAUSEWATCH_DEBUG"):
            raise
        fail(f"comparing {old} with {new} failed: {type(exc).__name__}: {exc} (CLAUSEWATCH_DEBUG=1 for a traceback)")
    substantive = any(c["substantive"] for c in changes)
    sys.exit(EXIT_CHANGED if substantive else EXIT_SAME)
