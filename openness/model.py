"""What the rater reads (clauses of a licence and of the policies it incorporates) and what it says
(a verdict per criterion with the clauses that decide it, and a class)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

VERDICTS = ("pass", "conditional", "fail", "unknown")
LICENCE, POLICY = "licence", "policy"
EXCERPT_CHARS = 400


@dataclass(frozen=True)
class EntityFact:
    type: str
    value: Any
    text: str = ""
    unit: str | None = None
    currency: str | None = None


@dataclass(frozen=True)
class ClauseFacts:
    """One clause as the rater sees it: where it is, its words, tags (with the words that triggered each)
    and entities. ``clause_id`` is the stored clause's id (``None`` when a file is rated)."""
    document: str
    role: str                      # "licence" or "policy" (a policy the licence incorporates)
    path: str
    text: str
    tags: frozenset[str]
    tag_words: tuple[tuple[str, str], ...] = ()
    entities: tuple[EntityFact, ...] = ()
    clause_id: int | None = None
    ordinal: int = 0
    version_id: int | None = None

    def words_for(self, tag: str) -> str:
        return next((words for t, words in self.tag_words if t == tag and words), "")


@dataclass
class Document:
    """A licence, or a policy it incorporates, with its clauses. ``stored = False``: an incorporated
    policy of which no version is stored (its clauses could not be read)."""
    name: str
    role: str
    clauses: list[ClauseFacts] = field(default_factory=list)
    version_id: int | None = None
    stored: bool = True


@dataclass(frozen=True)
class Evidence:
    """A clause that decides (or supports) a verdict, and the tag it holds."""
    tag: str
    document: str
    path: str
    excerpt: str
    words: str = ""
    clause_id: int | None = None
    version_id: int | None = None
    role: str = LICENCE

    @classmethod
    def of(cls, clause: ClauseFacts, tag: str) -> Evidence:
        text = " ".join(clause.text.split())
        excerpt = text if len(text) <= EXCERPT_CHARS else text[:EXCERPT_CHARS].rsplit(" ", 1)[0] + " …"
        return cls(tag=tag, document=clause.document, path=clause.path, excerpt=excerpt,
                   words=clause.words_for(tag), clause_id=clause.clause_id, version_id=clause.version_id,
                   role=clause.role)

    def to_json(self) -> dict[str, Any]:
        return {"clause_id": self.clause_id, "version_id": self.version_id, "document": self.document,
                "role": self.role,
                "path": self.path, "tag": self.tag, "words": self.words, "excerpt": self.excerpt}


@dataclass
class Verdict:
    criterion: str
    verdict: str
    reason: str
    detail: str = ""               # a few words for a matrix cell: "700M monthly active users", "copyleft"
    evidence: list[Evidence] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict {self.verdict!r} is not one of {', '.join(VERDICTS)}")

    @property
    def clause_ids(self) -> list[int]:
        return list(dict.fromkeys(e.clause_id for e in self.evidence if e.clause_id is not None))

    @property
    def tags(self) -> list[str]:
        return sorted({e.tag for e in self.evidence})

    def to_json(self) -> dict[str, Any]:
        return {"criterion": self.criterion, "verdict": self.verdict, "detail": self.detail,
                "reason": self.reason, "clause_ids": self.clause_ids, "tags": self.tags,
                "evidence": [e.to_json() for e in self.evidence]}


@dataclass
class Rating:
    """The verdicts on every criterion, the class they give and the rule that gave it."""
    verdicts: list[Verdict]
    klass: str
    class_label: str
    class_reason: str
    decided_by: list[str]
    rule_version: str
    documents: list[str]
    unread: list[str] = field(default_factory=list)

    def verdict(self, criterion: str) -> Verdict:
        for v in self.verdicts:
            if v.criterion == criterion:
                return v
        raise KeyError(criterion)

    def to_json(self) -> dict[str, Any]:
        return {"class": self.klass, "class_label": self.class_label, "class_reason": self.class_reason,
                "decided_by": self.decided_by, "rule_version": self.rule_version, "documents": self.documents,
                "unread": self.unread, "criteria": [v.to_json() for v in self.verdicts]}
