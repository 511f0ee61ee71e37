"""Items on the Redis stream, from a worker to the writer: a fetch record with its extraction, or the
sources a discovery listing revealed.

One stream entry has four fields: ``id`` (the item id the writer deduplicates on), ``kind``
(``fetched`` | ``discovered``), ``meta`` (JSON: every field of :class:`~clausewatch.db.records.Fetched`
but the bodies, the :class:`~clausewatch.crawlers.outcome.Extraction` without its text, the job run and
whether this is the job's last item) and ``blob``: the main body, the part bodies and the extracted text,
one after the other, zlib-compressed (level 1: cheap for the worker, HTML shrinks four to eight times in
Redis memory). Lengths in ``meta`` cut the blob apart again. No pickle: a writer never runs code it reads.
"""
from __future__ import annotations

import dataclasses
import json
import zlib
from dataclasses import dataclass, field
from typing import Any

from clausewatch.crawlers.outcome import Extraction
from clausewatch.db.records import Fetched

FORMAT = 1
_BYTES_FIELDS = {"body", "parts"}


@dataclass
class StreamItem:
    """One decoded stream entry."""

    item_id: str
    kind: str                                   # fetched | discovered
    fetched: Fetched | None = None
    extraction: Extraction | None = None
    job_run: int | None = None                  # the scheduler's job_runs row this item finishes
    final: bool = True                          # the last item of its job
    discovery: str | None = None                # kind discovered: the discovery id ...
    sources: list[dict[str, Any]] = field(default_factory=list)   # ... the sources found
    cycle: str | None = None
    replay: bool = False                        # kind discovered: a replay job (its sources are replayed too)
    error: str | None = None                    # kind discovered: why the listing gave nothing


def encode_fetched(item: Fetched, extraction: Extraction, *, job_run: int | None = None,
                   final: bool = True) -> dict[str, bytes]:
    if not item.item_id:
        raise ValueError(f"{item.source_id}: a cluster item needs an item id")
    record = {f.name: getattr(item, f.name) for f in dataclasses.fields(Fetched) if f.name not in _BYTES_FIELDS}
    body = item.body or b""
    text = (extraction.text or "").encode("utf-8")
    chunks = [body, *[part_body for _, part_body, _ in item.parts], text]
    meta = {"v": FORMAT, "record": record, "extraction": extraction.to_json(), "job_run": job_run,
            "final": final, "body": None if item.body is None else len(body),
            "parts": [[name, len(part_body), fields] for name, part_body, fields in item.parts],
            "text": None if extraction.text is None else len(text)}
    return {"id": item.item_id, "kind": "fetched", "meta": json.dumps(meta, separators=(",", ":")),
            "blob": zlib.compress(b"".join(chunks), 1)}


def encode_discovered(item_id: str, discovery_id: str, sources: list[dict[str, Any]], *, cycle: str | None,
                      replay: bool = False, job_run: int | None = None, error: str | None = None) -> dict[str, bytes]:
    meta = {"v": FORMAT, "discovery": discovery_id, "sources": sources, "cycle": cycle, "replay": replay,
            "job_run": job_run, "error": error}
    return {"id": item_id, "kind": "discovered", "meta": json.dumps(meta, separators=(",", ":")), "blob": b""}


def _text(value: bytes | str) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def decode(fields: dict) -> StreamItem:
    """A stream entry's fields (bytes keys, as redis-py returns them) back into a :class:`StreamItem`;
    raises ``ValueError`` for an entry that is not one of ours."""
    get = {(_text(k)): v for k, v in fields.items()}
    try:
        item_id, kind, meta = _text(get["id"]), _text(get["kind"]), json.loads(get["meta"])
    except (KeyError, ValueError) as exc:
        raise ValueError(f"not a clausewatch stream entry ({exc})") from None
    if meta.get("v") != FORMAT:
        raise ValueError(f"stream entry {item_id}: format {meta.get('v')!r}, this writer reads {FORMAT}")
    if kind == "discovered":
        return StreamItem(item_id, kind, job_run=meta.get("job_run"), discovery=meta["discovery"],
                          sources=meta["sources"], cycle=meta.get("cycle"), replay=bool(meta.get("replay")),
                          error=meta.get("error"))
    if kind != "fetched":
        raise ValueError(f"stream entry {item_id}: unknown kind {kind!r}")
    blob = zlib.decompress(get.get("blob") or b"")
    offset = 0

    def take(length: int | None) -> bytes | None:
        nonlocal offset
        if length is None:
            return None
        chunk = blob[offset:offset + length]
        offset += length
        return chunk

    body = take(meta["body"])
    parts = [(name, take(length), part_fields) for name, length, part_fields in meta["parts"]]
    text = take(meta["text"])
    record = meta["record"]
    fetched = Fetched(**record, body=body, parts=parts)
    extraction = Extraction(**meta["extraction"], text=None if text is None else text.decode("utf-8"))
    return StreamItem(item_id, kind, fetched=fetched, extraction=extraction, job_run=meta.get("job_run"),
                      final=bool(meta.get("final", True)))
