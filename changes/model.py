"""What the change detector reports: one :class:`Change` per changed clause (or group of clauses)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Change:
    """One changed clause (or group of clauses split or merged) between two versions."""

    kind: str                               # added | removed | modified | moved
    old_path: str | None
    new_path: str | None
    old_text: str | None
    new_text: str | None
    substantive: bool
    cosmetic_reasons: list[str] = field(default_factory=list)
    word_diff: list[tuple[str, str]] = field(default_factory=list)   # (equal|insert|delete, text)
    tags_added: list[str] = field(default_factory=list)
    tags_removed: list[str] = field(default_factory=list)
    entity_changes: list[dict[str, Any]] = field(default_factory=list)
    old_ordinals: list[int] = field(default_factory=list)
    new_ordinals: list[int] = field(default_factory=list)
    similarity: float | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "old_path": self.old_path, "new_path": self.new_path,
            "old_text": self.old_text, "new_text": self.new_text, "substantive": self.substantive,
            "cosmetic_reasons": list(self.cosmetic_reasons), "tags_added": list(self.tags_added),
            "tags_removed": list(self.tags_removed), "entity_changes": list(self.entity_changes),
            "word_diff": [list(op) for op in self.word_diff], "old_ordinals": list(self.old_ordinals),
            "new_ordinals": list(self.new_ordinals),
            "similarity": None if self.similarity is None else round(self.similarity, 3),
        }
