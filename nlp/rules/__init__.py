"""The tagging rules, one module per tag group. ``PHRASES`` is the cue lexicon fed to the spaCy
PhraseMatcher, ``NEAR`` builds cues from two close cues, ``RULES`` turn cues into tags.
``rule_tags()`` lists the tags that have a rule."""
from __future__ import annotations

from clausewatch.nlp.rules import grants, obligations, regulation, restrictions, security, terms
from clausewatch.nlp.rules.base import Rule, merge_lexicons

MODULES = (grants, restrictions, obligations, terms, regulation, security)
PHRASES, NEAR, RULES = merge_lexicons(*MODULES)

# tags given by context (inheritance) as well as by rules; listed so coverage checks see them
CONTEXT_TAGS = {"restrict.prohibited_use", "policy.penalty", "policy.definition", "policy.recommendation",
                "policy.prohibited_practice"}


def rule_tags() -> set[str]:
    return {rule.tag for rule in RULES}


def rules_for(tag: str) -> list[Rule]:
    return [rule for rule in RULES if rule.tag == tag]


__all__ = ["PHRASES", "NEAR", "RULES", "CONTEXT_TAGS", "rule_tags", "rules_for"]
