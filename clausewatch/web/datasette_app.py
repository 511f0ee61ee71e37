"""The public, read-only Datasette over the tracker database (served by `clausewatch serve`).

The configuration directory (``datasette/``: metadata.yml, settings.json, templates/, plugins/, static/)
is read here and the database path is passed explicitly: the configuration directory never holds a
database, and the database is never opened as immutable (the crawler writes to it while we serve).
Only the public database is attached, under the fixed name ``clausewatch``; the private database
(subscriptions, tokens, delivery log) is never attached: only the subscription pages of
:mod:`clausewatch.web.signup_pages`, mounted beside Datasette by :mod:`clausewatch.web.app`, open it.
"""
from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import yaml

DATABASE_NAME = "clausewatch"


class ServeError(RuntimeError):
    """The database or the configuration directory cannot be served; the message says why."""


def config_dir() -> Path:
    """The Datasette configuration directory (``CLAUSEWATCH_DATASETTE_DIR`` or the repository's ``datasette/``)."""
    return Path(os.environ.get("CLAUSEWATCH_DATASETTE_DIR", Path(__file__).resolve().parents[2] / "datasette"))


def load_metadata(directory: Path | None = None) -> dict[str, Any]:
    path = (directory or config_dir()) / "metadata.yml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ServeError(f"{path}: cannot read Datasette metadata: {exc}") from None
    except yaml.YAMLError as exc:
        raise ServeError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ServeError(f"{path}: Datasette metadata must be a mapping")
    return data


def load_settings(directory: Path | None = None) -> dict[str, Any]:
    path = (directory or config_dir()) / "settings.json"
    if not path.is_file():
        return {}
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ServeError(f"{path}: not valid JSON: {exc}") from None


def prepare_database(path: Path) -> None:
    """Apply migrations and publish views/FTS; on a read-only file, check that they are already there."""
    from clausewatch.db import connect
    from clausewatch.db.connection import StoreError
    from clausewatch.db.publish import missing, publish

    if not path.is_file():
        raise ServeError(f"{path}: no database yet; run `clausewatch crawl` first")
    try:
        publish(connect(path))
        return
    except (StoreError, sqlite3.OperationalError) as exc:
        if "readonly" not in str(exc) and "read-only" not in str(exc):
            raise ServeError(f"{path}: cannot prepare the database for publication: {exc}") from None
    try:
        absent = missing(connect(path, readonly=True))
    except (StoreError, sqlite3.DatabaseError) as exc:
        raise ServeError(f"{path}: cannot open the database: {exc}") from None
    if absent:
        raise ServeError(f"{path}: read-only and not prepared for publication (missing: {', '.join(absent)}); "
                         "run `clausewatch serve` once with write access")


def with_site_settings(metadata: dict[str, Any], *, public_url: str | None = None) -> dict[str, Any]:
    """The metadata with the settings the plugins need under ``plugins.clausewatch`` (they import none of
    clausewatch's configuration): ``public_url``, the address feeds and mails link to
    (``CLAUSEWATCH_PUBLIC_URL``)."""
    if public_url is None:
        from clausewatch.digest.links import public_url as configured

        public_url = configured()
    plugins = dict(metadata.get("plugins") or {})
    plugins["clausewatch"] = {**(plugins.get("clausewatch") or {}), "public_url": public_url.rstrip("/")}
    return {**metadata, "plugins": plugins}


def build_datasette(path: Path, *, directory: Path | None = None, settings: dict[str, Any] | None = None,
                    prepare: bool = True, public_url: str | None = None):
    """A Datasette instance serving the public database at ``path`` with our configuration directory;
    ``public_url`` defaults to the configured public address."""
    from datasette.app import Datasette
    from datasette.database import Database

    directory = directory or config_dir()
    path = Path(path).resolve()
    if prepare:
        prepare_database(path)
    static = directory / "static"
    ds = Datasette(
        [],
        metadata=with_site_settings(load_metadata(directory), public_url=public_url),
        template_dir=str(directory / "templates"),
        plugins_dir=str(directory / "plugins"),
        static_mounts=[("static", str(static))] if static.is_dir() else [],
        settings={**load_settings(directory), **(settings or {})},
    )
    ds.remove_database("_memory")
    # mutable (mode=ro reads, never immutable): the crawler writes to this file while we serve
    ds.add_database(Database(ds, path=str(path), is_mutable=True), name=DATABASE_NAME)
    return ds
