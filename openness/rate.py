"""Rate a licence (alone, or with the policies it incorporates): every criterion, then the class.

Pure: documents and clauses in, a :class:`Rating` out. The store and the CLI build the documents from
stored clauses (:func:`facts_from_row`) or from a freshly analysed file (:func:`facts_from_clause`).
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from clausewatch.nlp.model import Clause
from clausewatch.openness.criteria import CRITERION_FUNCTIONS, Context
from clausewatch.openness.model import ClauseFacts, Document, EntityFact, Rating, Verdict
from clausewatch.openness.rules import CRITERIA, ClassRule, Rules


def facts_from_clause(clause: Clause, *, document: str, role: str, clause_id: int | None = None,
                      version_id: int | None = None) -> ClauseFacts:
    """An analysed ``nlp.Clause`` as the rater reads it."""
    s = clause.segment
    return ClauseFacts(
        document=document, role=role, path=s.path, text=s.text, tags=frozenset(t.tag for t in clause.tags),
        tag_words=tuple((t.tag, t.evidence or "") for t in clause.tags),
        entities=tuple(EntityFact(e.type, e.value, e.text, e.unit, e.currency) for e in clause.entities),
        clause_id=clause_id, ordinal=s.ordinal, version_id=version_id)


def _stored_value(entity: dict[str, Any]) -> Any:
    if entity.get("value_number") is not None:
        return entity["value_number"]
    value = entity.get("value")
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def facts_from_row(row: dict[str, Any], *, document: str, role: str) -> ClauseFacts:
    """A stored clause (a ``clauses`` row with ``tags`` and ``entities`` lists of rows) as the rater reads it."""
    tags = row.get("tags") or []
    return ClauseFacts(
        document=document, role=role, path=row["path"], text=row["text"],
        tags=frozenset(t["tag"] for t in tags), tag_words=tuple((t["tag"], t.get("evidence") or "") for t in tags),
        entities=tuple(EntityFact(e["type"], _stored_value(e), e.get("text") or "", e.get("unit"), e.get("currency"))
                       for e in row.get("entities") or []),
        clause_id=row.get("id"), ordinal=row.get("ordinal") or 0, version_id=row.get("version_id"))


def _holds(rule: ClassRule, verdicts: dict[str, Verdict]) -> tuple[bool, list[str]]:
    if rule.otherwise:
        return True, []
    if rule.any_of:
        hit = [c for c, allowed in rule.any_of.items() if verdicts[c].verdict in allowed]
        return bool(hit), hit
    missing = [c for c, allowed in rule.all_of.items() if verdicts[c].verdict not in allowed]
    return not missing, [c for c in rule.all_of if verdicts[c].verdict != "pass"]


def classify(verdicts: dict[str, Verdict], rules: Rules) -> tuple[ClassRule, list[str]]:
    """The first class of the rule whose condition holds, and the criteria that decided it."""
    for rule in rules.classes:
        ok, decided_by = _holds(rule, verdicts)
        if ok:
            if rule.otherwise:
                decided_by = [c for c, v in verdicts.items() if v.verdict == "unknown"]
            return rule, decided_by
    raise AssertionError("the last class is `otherwise`")  # parse_rules guarantees it


def _class_reason(rule: ClassRule, decided_by: list[str], verdicts: dict[str, Verdict], rules: Rules) -> str:
    if not decided_by:
        return rule.description
    named = "; ".join(f"{rules.label(c)}: {verdicts[c].verdict}"
                      + (f" ({verdicts[c].detail})" if verdicts[c].detail else "") for c in decided_by)
    return f"{rule.description} Decided by: {named}."


def rate(documents: Iterable[Document], rules: Rules) -> Rating:
    """Rate the licence ``documents[0]`` together with the policies after it (``role = "policy"``)."""
    documents = list(documents)
    ctx = Context(documents, rules)
    verdicts = {c: CRITERION_FUNCTIONS[c](ctx, rules.criteria[c]) for c in CRITERIA}
    rule, decided_by = classify(verdicts, rules)
    return Rating(verdicts=[verdicts[c] for c in CRITERIA], klass=rule.id, class_label=rule.label,
                  class_reason=_class_reason(rule, decided_by, verdicts, rules), decided_by=decided_by,
                  rule_version=rules.rule_version, documents=[d.name for d in documents], unread=ctx.unread)
