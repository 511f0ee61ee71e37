"""What the spider hands to the item pipeline: plain dataclasses."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class DocumentItem:
    """One fetch of one source (with its parts, for multi-part documents)."""

    source_pk: int
    source_id: str
    format: str
    url: str
    requested_at: str
    status: int | None = None
    final_url: str | None = None
    as_of: str | None = None
    etag: str | None = None
    last_modified: str | None = None
    content_type: str | None = None
    body: bytes | None = None
    duration_ms: int | None = None
    error: str | None = None
    unchanged: bool = False        # same raw bytes as the last stored snapshot: nothing more to do
    selectors: dict | None = None
    parts: list[tuple[str, bytes, dict[str, Any]]] = field(default_factory=list)


@dataclass
class DiscoveredItem:
    """Sources found by a discovery declaration in a fetched listing."""

    discovery_id: str
    sources: list[dict[str, Any]]
