"""Opening the databases: WAL, busy timeout, migrations."""
from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import logging
import os
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
    # an empty file beside the database, readable by its owner only (it sits beside the private one too)
    fd = os.open(path.with_name(path.name + ".migrate.lock"), os.O_CREAT | os.O_WRONLY | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a") as handle:
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


PRIVATE_MODE = 0o600
_log = logging.getLogger("clausewatch.db")


def secure_private_files(path: str | Path) -> list[str]:
    """Make the private database and its WAL/SHM files readable by their owner only (mode 600).

    Returns a line for each file that was readable or writable by others, which is fixed here."""
    fixed = []
    for name in (Path(path), Path(f"{path}-wal"), Path(f"{path}-shm")):
        try:
            mode = name.stat().st_mode & 0o777
        except FileNotFoundError:
            continue
        if mode & 0o077:
            os.chmod(name, PRIVATE_MODE)
            fixed.append(f"{name}: was mode {mode:o} (subscriber addresses and secrets readable by others); now 600")
    return fixed


def connect_private(path: str | Path) -> Database:
    """The private database (subscriptions, tokens, delivery log); never published. Created with mode 600,
    and set back to 600 (with a warning) if it, or its WAL or SHM file, is readable by others."""
    path = Path(path)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_EXCL, PRIVATE_MODE))
        except FileExistsError:
            pass
        except OSError as exc:
            raise StoreError(f"{path}: cannot create database: {exc.strerror or exc}") from None
    for line in secure_private_files(path):
        _log.warning("clausewatch: warning: %s", line)
    db = _open(path, private)
    for line in secure_private_files(path):   # the WAL and SHM files SQLite just created
        _log.warning("clausewatch: warning: %s", line)
    return db
