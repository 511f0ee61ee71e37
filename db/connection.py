"""Opening the databases: WAL, busy timeout, migrations."""
from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import sqlite3
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from clausewatch.db.migrations import private, public


class StoreError(RuntimeError):
    """A database that cannot be opened or written, with a message for people."""


def source_filter(source_ids: Iterable[str] | None, column: str = "s.source_id") -> tuple[str, list[Any]]:
    """An ``AND column IN (...)`` clause and its parameters, or nothing when no ids are given."""
    ids = list(source_ids or [])
    if not ids:
        return "", []
    return f" AND {column} IN ({','.join('?' * len(ids))})", ids


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


SQLITE_HEADER = b"SQLite format 3\x00"


def check_database_file(path: str | Path) -> None:
    """Raise :class:`StoreError` unless ``path`` is absent, empty or an SQLite database file."""
    path = Path(path)
    if path.is_dir():
        raise StoreError(f"{path}: is a directory, not a database file")
    try:
        with path.open("rb") as fh:
            head = fh.read(len(SQLITE_HEADER))
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StoreError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if head and head != SQLITE_HEADER:
        raise StoreError(f"{path}: not an SQLite database (wrong --db?)")


@contextlib.contextmanager
def _migration_lock(path: Path):
    with open(path.with_name(path.name + ".migrate.lock"), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _open(path: str | Path, migrations, *, readonly: bool = False) -> Database:
    path = Path(path)
    check_database_file(path)
    try:
        if readonly:
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(str(path), timeout=30)
        db = Database(conn)
        db.execute("PRAGMA busy_timeout = 30000")
        if not readonly:
            db.execute("PRAGMA synchronous = NORMAL")
            db.execute("PRAGMA foreign_keys = ON")
            if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal" or list(migrations.pending(db)):
                # processes that open a new database together (the writer, the scheduler, serve) would
                # both apply the same migrations: one at a time, and the second finds nothing to do
                with _migration_lock(path):
                    if db.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                        db.execute("PRAGMA journal_mode = WAL")
                    migrations.apply(db)
    except sqlite3.DatabaseError as exc:
        raise StoreError(f"{path}: cannot open database: {exc}") from None
    except OSError as exc:
        raise StoreError(f"{path}: cannot create database: {exc}") from None
    return db


def connect(path: str | Path, *, readonly: bool = False) -> Database:
    """The public database (sources, fetches, snapshots, versions, clauses, changes)."""
    return _open(path, public, readonly=readonly)


def connect_private(path: str | Path) -> Database:
    """The private database (subscriptions, tokens, delivery log); never published."""
    return _open(path, private)
