"""A cache of analysed documents on disk, for the commands that analyse files (`diff`, `tag`).

Analysing a small document takes a few milliseconds; loading spaCy and building the tagger takes most of
a second. Each analysis is stored under the sha256 of the text and of the NLP code (the pipeline version
and every module's size and modification time), so a text seen before (a file diffed again, the same
licence in two repositories) is read back without loading spaCy at all, and changed NLP code never reads
an old analysis.

Where: ``CLAUSEWATCH_CACHE_DIR``, else ``$XDG_CACHE_HOME/clausewatch``, else ``~/.cache/clausewatch``.
``CLAUSEWATCH_CACHE=0`` turns it off. At most ``CACHE_MB`` (default 200) MB are kept; the least
recently used entries go first. A damaged or unreadable entry is analysed again, never an error.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import tempfile
from dataclasses import fields
from functools import lru_cache
from pathlib import Path
from typing import Any

from clausewatch.config import setting
from clausewatch.nlp.model import Clause, Entity, Segment, TagHit
from clausewatch.nlp.version import NLP_VERSION

FORMAT = 1
_SEGMENT_FIELDS = {f.name for f in fields(Segment)}


def cache_dir() -> Path | None:
    if str(setting("cache", "1")).strip().lower() in ("0", "false", "no", "off"):
        return None
    configured = setting("cache_dir")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "clausewatch"


@lru_cache(maxsize=1)
def code_fingerprint() -> str:
    """The NLP code as it is on disk (every module's size and modification time): an analysis made by code
    edited since, even without a new NLP_VERSION, is never read back."""
    import clausewatch.nlp

    root = Path(clausewatch.nlp.__file__).parent
    digest = hashlib.sha256(NLP_VERSION.encode())
    for path in sorted(root.rglob("*.py")):
        info = path.stat()
        digest.update(f"{path.relative_to(root)}\0{info.st_size}\0{info.st_mtime_ns}\0".encode())
    return digest.hexdigest()[:16]


def _key(text: str) -> str:
    return hashlib.sha256(f"{code_fingerprint()}\0{FORMAT}\0{text}".encode()).hexdigest()


def clause_to_json(clause: Clause) -> dict[str, Any]:
    seg = {name: getattr(clause.segment, name) for name in _SEGMENT_FIELDS}
    return {"segment": seg, "tags": [t.to_json() for t in clause.tags],
            "entities": [e.to_json() for e in clause.entities], "open_relevant": clause.open_relevant}


def clause_from_json(data: dict[str, Any]) -> Clause:
    seg = dict(data["segment"])
    seg["headings"] = tuple(seg.get("headings") or ())
    return Clause(Segment(**{k: v for k, v in seg.items() if k in _SEGMENT_FIELDS}),
                  [TagHit(t["tag"], t["score"], t["evidence"], t["rule"]) for t in data["tags"]],
                  [Entity(e["type"], e["text"], e["value"], e["start"], e["end"], e.get("unit"), e.get("currency"))
                   for e in data["entities"]],
                  bool(data["open_relevant"]))


def _read(path: Path) -> list[Clause] | None:
    try:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            data = json.load(fh)
        clauses = [clause_from_json(c) for c in data["clauses"]]
    except (OSError, ValueError, KeyError, TypeError, EOFError):
        return None
    try:
        os.utime(path)          # recently used: evicted last
    except OSError:
        pass
    return clauses


def _write(directory: Path, path: Path, clauses: list[Clause]) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
        payload = json.dumps({"nlp_version": NLP_VERSION, "clauses": [clause_to_json(c) for c in clauses]},
                             ensure_ascii=False).encode("utf-8")
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".write-")
        with os.fdopen(fd, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1, mtime=0) as fh:
            fh.write(payload)
        os.replace(tmp, path)
        _evict(directory)
    except OSError:
        return                   # a read-only or full cache directory: the analysis is still returned


def _evict(directory: Path) -> None:
    limit = float(setting("cache_mb", 200) or 200) * 1024 * 1024
    entries = []
    total = 0
    for entry in os.scandir(directory):
        if entry.name.endswith(".json.gz"):
            info = entry.stat()
            entries.append((info.st_mtime, info.st_size, entry.path))
            total += info.st_size
    if total <= limit:
        return
    for _, size, path in sorted(entries):
        try:
            os.unlink(path)
        except OSError:
            continue
        total -= size
        if total <= limit * 0.8:
            break


def analyse_cached(text: str) -> list[Clause]:
    """``clausewatch.nlp.analyse(text)``, read from the cache when this text was analysed before."""
    directory = cache_dir()
    if directory is None:
        from clausewatch.nlp import analyse

        return analyse(text)
    path = directory / f"{_key(text)}.json.gz"
    if path.is_file():
        clauses = _read(path)
        if clauses is not None:
            return clauses
    from clausewatch.nlp import analyse

    clauses = analyse(text)
    _write(directory, path, clauses)
    return clauses
