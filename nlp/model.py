"""The data the NLP stage hands on: segments (clauses before tagging) and analysed clauses."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Segment:
    """One clause as the taxonomy defines it, before tagging."""

    ordinal: int              # 0-based position in the document
    path: str                 # "Article 53 > 1 > (a)", "Section 1.b.v", "Annex XI > Section 1 > 2", "¶ 12"
    heading: str | None       # nearest heading above the clause ("Article 53 Obligations for providers ...")
    label: str | None         # the clause's own number or letter as printed ("(a)", "1.", "1.b"), if any
    text: str                 # the clause's own words: label stripped, whitespace collapsed
    start: int                # character span of the clause (label included) in the version text
    end: int
    depth: int = 0            # nesting depth of numbered/lettered levels
    parent: int | None = None  # ordinal of the chapeau/enclosing clause that introduces this one
    headings: tuple[str, ...] = ()  # all enclosing headings, outermost first


@dataclass
class TagHit:
    tag: str
    score: float
    evidence: str             # the matched span of text
    rule: str                 # the rule or model that fired ("rule:grant.use/verbs", "textcat")

    def to_json(self) -> dict[str, Any]:
        return {"tag": self.tag, "score": round(self.score, 3), "evidence": self.evidence, "rule": self.rule}


@dataclass
class Entity:
    type: str                 # DATE USER_THRESHOLD MONEY PERCENT COMPUTE ARTICLE_REF LICENSE_REF DURATION
    text: str                 # the matched text
    value: Any                # normalised value (see ../shared/taxonomy.yaml)
    start: int                # span inside the clause text
    end: int
    unit: str | None = None   # USER_THRESHOLD unit, e.g. monthly_active_users
    currency: str | None = None  # MONEY currency, ISO 4217

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type, "text": self.text, "value": self.value,
                               "start": self.start, "end": self.end}
        if self.unit:
            out["unit"] = self.unit
        if self.currency:
            out["currency"] = self.currency
        return out


@dataclass
class Clause:
    """A segment with its tags and entities."""

    segment: Segment
    tags: list[TagHit] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    open_relevant: bool = False

    def __getattr__(self, name: str) -> Any:  # path, heading, text, start, end ... of the segment
        if name == "segment":
            raise AttributeError(name)
        return getattr(self.segment, name)

    @property
    def tag_ids(self) -> list[str]:
        return sorted({t.tag for t in self.tags})

    def to_json(self) -> dict[str, Any]:
        s = self.segment
        return {
            "path": s.path, "heading": s.heading, "label": s.label, "text": s.text, "start": s.start,
            "end": s.end, "ordinal": s.ordinal, "parent": s.parent,
            "tags": [t.to_json() for t in self.tags],
            "entities": [e.to_json() for e in self.entities],
            "open_relevant": self.open_relevant,
        }
