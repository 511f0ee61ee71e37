"""What the spider hands to the item pipeline: plain dataclasses.

A fetched document is a :class:`clausewatch.db.records.Fetched` (the same record the store writes);
a discovery listing yields a :class:`DiscoveredItem`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class DiscoveredItem:
    """Sources found by a discovery declaration in a fetched listing."""

    discovery_id: str
    sources: list[dict[str, Any]]
