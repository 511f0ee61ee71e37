"""Opening the databases for a command: one clear error line instead of a traceback."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from clausewatch.commands.output import fail
from clausewatch.config import db_path, private_db_path

if TYPE_CHECKING:
    from sqlite_utils import Database


def public_path(db: str | None, *, must_exist: bool = True, hint: str = "run `clausewatch crawl` first") -> Path:
    """The public database path from ``--db`` / settings, checked: not a directory, there if it must be."""
    path = db_path(db)
    if path.is_dir():
        fail(f"{path}: is a directory, not a database file (give --db PATH/clausewatch.db)")
    if must_exist and not path.exists():
        fail(f"{path}: no database yet; {hint}")
    if not path.exists() and path.parent.exists() and not path.parent.is_dir():
        fail(f"{path}: {path.parent} is not a directory")
    return path


def open_public(db: str | None, *, must_exist: bool = True, readonly: bool = False,
                hint: str = "run `clausewatch crawl` first") -> Database:
    """The public database, migrated (or read-only); fails with one line when it is not a usable SQLite file."""
    from clausewatch.db import connect
    from clausewatch.db.connection import StoreError

    path = public_path(db, must_exist=must_exist, hint=hint)
    try:
        return connect(path, readonly=readonly)
    except StoreError as exc:
        fail(str(exc))


def open_private(db: str | None, *, create: bool = True) -> Database | None:
    """The private database beside the public one; never created beside a path that is not a database.

    With ``create=False`` (commands that only read or change existing subscriptions) a missing private
    database is not created: None is returned."""
    from clausewatch.db import connect_private
    from clausewatch.db.connection import StoreError, check_database_file

    public = public_path(db, must_exist=False)
    private = private_db_path(public)
    try:
        if public.exists():
            check_database_file(public)
        if private.is_dir():
            fail(f"{private}: is a directory, not the private database")
        if not create and not private.exists():
            return None
        return connect_private(private)
    except StoreError as exc:
        fail(str(exc))
