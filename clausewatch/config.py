"""Where things are: database paths, corpus, settings from the environment or a TOML config file.

Precedence: command-line option > environment variable > config file (``CLAUSEWATCH_CONFIG`` or
``./clausewatch.toml``) > default.
"""
from __future__ import annotations

import os
import tomllib
from functools import lru_cache
from pathlib import Path
from typing import Any

DEFAULT_DB = Path("data") / "clausewatch.db"


@lru_cache(maxsize=1)
def config_file() -> dict[str, Any]:
    path = Path(os.environ.get("CLAUSEWATCH_CONFIG", "clausewatch.toml"))
    if not path.is_file():
        return {}
    with path.open("rb") as fh:
        return tomllib.load(fh)


def setting(name: str, default: Any = None) -> Any:
    """``name`` like "smtp_host": env CLAUSEWATCH_SMTP_HOST, else [clausewatch] smtp_host in the file."""
    env = os.environ.get("CLAUSEWATCH_" + name.upper())
    if env is not None:
        return env
    return config_file().get("clausewatch", {}).get(name, default)


def db_path(value: str | None = None) -> Path:
    return Path(value or setting("db") or DEFAULT_DB)


def private_db_path(public: Path) -> Path:
    """The private database (subscriptions, tokens, delivery log) lives beside the public one."""
    configured = setting("private_db")
    return Path(configured) if configured else public.with_name(public.stem + "-private.db")


def corpus_dir(value: str | None = None) -> Path:
    if value:
        return Path(value)
    from clausewatch.crawlers.replay import default_corpus_dir

    return default_corpus_dir()
