"""The result type and the error every extractor raises."""
from __future__ import annotations

from dataclasses import dataclass, field


class ExtractionError(Exception):
    """A document could not be turned into text; the message is one line meant for people."""


@dataclass
class Extracted:
    text: str
    title: str | None = None
    warnings: list[str] = field(default_factory=list)
