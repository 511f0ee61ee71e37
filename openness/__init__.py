"""clausewatch.openness: how open is a licence, and why not (pure: clauses in, a rating out).

Criteria (the four freedoms, commercial use, thresholds, use policies, outputs, geography, remote
restriction, unilateral changes, copyleft, attribution) are decided from the tags and entities of the
licence's clauses and of the policies it incorporates; the class follows from the criteria by the rule in
``rules.yaml``. See docs/openness.md.
"""
from clausewatch.openness.model import (
           LICENCE,
           POLICY,
           VERDICTS,
           ClauseFacts,
           Document,
           Evidence,
           Rating,
           Verdict,
)
from clausewatch.openness.rate import classify, facts_from_clause, facts_from_row, rate
from clausewatch.openness.rules import CRITERIA, RuleError, Rules, parse_rules

__all__ = ["CRITERIA", "LICENCE", "POLICY", "VERDICTS", "ClauseFacts", "Document", "Evidence", "Rating", "RuleError",
           "Rules", "Verdict", "classify", "facts_from_clause", "facts_from_row", "parse_rules", "rate"]
