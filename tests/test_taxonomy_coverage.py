"""Every taxonomy tag has a tagging rule and a tagger test; every entity type has a finder test.

Tag ids come from ../shared/taxonomy.yaml (CLAUSEWATCH_TAXONOMY overrides the path); when the file is
absent, from the copy of the v1 id list below.
"""
from __future__ import annotations

import os
from pathlib import Path

import yaml

from clausewatch.nlp.rules import RULES, rule_tags
from tests.test_tagger import CASES

ROOT = Path(__file__).resolve().parents[1]
TAXONOMY = Path(os.environ.get("CLAUSEWATCH_TAXONOMY", ROOT.parent / "shared" / "taxonomy.yaml"))
V1_TAGS = """grant.use grant.modify grant.distribute grant.commercial grant.patent restrict.scale_threshold
restrict.noncommercial restrict.use_policy restrict.prohibited_use restrict.output_use restrict.geographic
obligation.attribution obligation.naming obligation.share_alike obligation.disclose_source obligation.state_changes
licensor.update_terms licensor.remote_restriction terms.termination terms.warranty_disclaimer terms.liability_limit
terms.indemnity terms.trademark terms.governing_law terms.output_ownership policy.definition
policy.open_source_exemption policy.documentation policy.copyright policy.training_data_transparency
policy.systemic_risk policy.compute_threshold policy.prohibited_practice policy.transparency policy.penalty
policy.timeline policy.governance policy.recommendation policy.national_security policy.openness_criteria""".split()
V1_ENTITIES = "DATE USER_THRESHOLD MONEY PERCENT COMPUTE ARTICLE_REF LICENSE_REF DURATION".split()


def taxonomy() -> tuple[set[str], set[str]]:
    if TAXONOMY.is_file():
        data = yaml.safe_load(TAXONOMY.read_text())
        return set(data["tags"]), set(data["entities"])
    return set(V1_TAGS), set(V1_ENTITIES)


def test_the_fallback_copy_matches_the_taxonomy_file():
    tags, entities = taxonomy()
    assert tags == set(V1_TAGS) and entities == set(V1_ENTITIES)


def test_every_taxonomy_tag_has_a_rule():
    tags, _ = taxonomy()
    missing = sorted(tags - rule_tags())
    assert not missing, f"tags without a rule in nlp/rules: {missing}"


def test_rules_only_emit_taxonomy_tags():
    tags, _ = taxonomy()
    unknown = sorted({rule.tag for rule in RULES} - tags)
    assert not unknown, f"rules emit tags that are not in the taxonomy: {unknown}"


def test_every_taxonomy_tag_has_a_positive_and_negative_test():
    tags, _ = taxonomy()
    tested = {case[0] for case in CASES if case[3] and case[4]}
    missing = sorted(tags - tested)
    assert not missing, f"tags without a test case in tests/test_tagger.py: {missing}"


def test_every_rule_is_documented_with_a_description():
    undocumented = [rule.id for rule in RULES if not rule.description]
    assert not undocumented, f"rules without a description: {undocumented}"


def test_every_entity_type_has_a_test():
    _, entities = taxonomy()
    source = (ROOT / "tests" / "test_entities.py").read_text()
    missing = sorted(t for t in entities if f'"{t}"' not in source)
    assert not missing, f"entity types without a test in tests/test_entities.py: {missing}"
