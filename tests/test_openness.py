"""The openness criteria and classes on clauses written for these tests (several phrasings each), through
the real tagger (``nlp.analyse``) and, for the rule logic alone, on hand-made clause facts."""
from __future__ import annotations

import pytest

from clausewatch.nlp import analyse
from clausewatch.openness import (
    CRITERIA,
    LICENCE,
    POLICY,
    ClauseFacts,
    Document,
    RuleError,
    facts_from_clause,
    parse_rules,
    rate,
)
from clausewatch.openness.model import EntityFact
from clausewatch.stages.rate import load_rules

RULES = load_rules()
# what makes a short text read as a licence, with no right or restriction of its own
BOILERPLATE = ['THE MATERIALS ARE PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND.',
               "In no event shall the Licensor be liable for any damages arising from the use of the Materials.",
               "This Agreement is governed by the laws of the State of New York."]
GRANT = ("The Licensor hereby grants You a perpetual, worldwide, royalty-free license to use, reproduce, modify "
         "and distribute the Work.")
GRANT_ANY_PURPOSE = ("Permission is hereby granted to any person obtaining a copy of this software to deal in the "
                     "Software without restriction, including the rights to use, copy, modify, merge, publish, "
                     "distribute, sublicense, and sell copies of the Software.")
NOTICE = "You must give any other recipients of the Work a copy of this License."
_ids = iter(range(1, 10**6))


def document(*clauses: str, name: str = "acme-licence", role: str = LICENCE) -> Document:
    text = "\n\n".join(f"{i}. {t}" for i, t in enumerate([*clauses, *BOILERPLATE], 1))
    return Document(name, role, [facts_from_clause(c, document=name, role=role, clause_id=next(_ids))
                                 for c in analyse(text)])


def use_policy(*items: str, extra: str = "", name: str = "acme-use-policy") -> Document:
    text = ("# Acme Acceptable Use Policy\n\nYou agree you will not use, or allow others to use, the Acme models to:\n\n"
            + "\n".join(f"- {item}" for item in items) + (f"\n\n{extra}" if extra else ""))
    return Document(name, POLICY, [facts_from_clause(c, document=name, role=POLICY, clause_id=next(_ids))
                                   for c in analyse(text)])


def rated(*clauses: str, policies: tuple[Document, ...] = ()):
    docs = [document(*clauses), *policies]
    rating = rate(docs, RULES)
    assert_every_fail_holds_its_tag(rating, docs)
    return rating


def assert_every_fail_holds_its_tag(rating, docs):
    by_id = {c.clause_id: c for d in docs for c in d.clauses}
    for v in rating.verdicts:
        if v.verdict in ("fail", "conditional"):
            assert v.evidence, f"{v.criterion}: {v.verdict} without evidence"
        for e in v.evidence:
            assert e.tag in by_id[e.clause_id].tags, (v.criterion, e)


def verdict(rating, criterion: str) -> str:
    return rating.verdict(criterion).verdict


def fact(text: str, *tags: str, role: str = LICENCE, entities: tuple = ()) -> ClauseFacts:
    return ClauseFacts(document="hand-made", role=role, path=f"¶ {next(_ids)}", text=text, tags=frozenset(tags),
                       entities=entities, clause_id=next(_ids))


def rated_facts(*facts: ClauseFacts):
    return rate([Document("hand-made", LICENCE, list(facts))], RULES)


# ------------------------------------------------------------------ run for any purpose

@pytest.mark.parametrize("grant", [GRANT, GRANT_ANY_PURPOSE,
                                   "You may use, copy, modify and distribute the Model for research and commercial "
                                   "purposes, and you may sell products built with it."])
def test_use_for_any_purpose_passes_from_a_grant_without_limits(grant):
    rating = rated(grant)
    v = rating.verdict("use_any_purpose")
    assert v.verdict == "pass" and v.evidence and v.evidence[0].tag == "grant.use"


@pytest.mark.parametrize("limit, tag", [
    ("You may use, copy and run the Model solely for non-commercial research purposes.", "restrict.noncommercial"),
    ("Your use of the Model must comply with the Acceptable Use Policy, which is hereby incorporated by reference "
     "into this Agreement.", "restrict.use_policy"),
    ("You may not use the Model for any commercial purpose.", "restrict.noncommercial"),
])
def test_use_for_any_purpose_fails_on_a_purpose_limit(limit, tag):
    v = rated(GRANT, limit).verdict("use_any_purpose")
    assert v.verdict == "fail" and tag in v.tags


def test_prohibited_uses_of_an_incorporated_policy_fail_use_for_any_purpose():
    policy = use_policy("Generate or disseminate disinformation", "Develop weapons of mass destruction")
    alone, effective = rated(GRANT), rated(GRANT, policies=(policy,))
    assert verdict(alone, "use_any_purpose") == "pass"
    v = effective.verdict("use_any_purpose")
    assert v.verdict == "fail" and "restrict.prohibited_use" in v.tags
    assert {e.document for e in v.evidence} == {"acme-use-policy"}


def test_without_a_grant_use_is_unknown_not_guessed():
    rating = rated("The Materials are documentation of the Licensor's research.")
    for criterion in ("use_any_purpose", "study", "redistribute", "modify", "commercial_use"):
        assert verdict(rating, criterion) == "unknown", criterion
    assert verdict(rating, "no_threshold") == "unknown"   # not a licence: absence proves nothing
    assert rating.klass == "undetermined"


# ------------------------------------------------------------------ study, redistribute, modify

def test_study_follows_a_grant_of_use_or_copying():
    assert verdict(rated("You may use, copy and run the Model for any lawful purpose."), "study") == "pass"
    assert "weights, code and data" in rated(GRANT).verdict("study").reason


@pytest.mark.parametrize("grant", [GRANT, "You may reproduce and distribute copies of the Work in any medium, with "
                                          "or without modifications."])
def test_redistribution_granted(grant):
    assert verdict(rated(grant), "redistribute") == "pass"


def test_redistribution_implied_by_a_duty_on_redistributions():
    v = rated_facts(fact("Redistributions of source code must retain the above copyright notice.",
                         "obligation.attribution"),
                    fact("You may use the software for any purpose.", "grant.use")).verdict("redistribute")
    assert v.verdict == "pass" and "presupposes" in v.reason and v.evidence[0].tag == "obligation.attribution"


@pytest.mark.parametrize("copyleft, tag", [
    ("You must license the entire work, as a whole, under this License to anyone who comes into possession of a "
     "copy.", "obligation.share_alike"),
    ("If you distribute the Software you must make the Corresponding Source available under the terms of this "
     "License.", "obligation.disclose_source"),
])
def test_copyleft_makes_redistribution_and_modification_conditional(copyleft, tag):
    rating = rated(GRANT, copyleft)
    for criterion in ("redistribute", "modify", "copyleft"):
        v = rating.verdict(criterion)
        assert v.verdict == "conditional" and tag in v.tags, criterion
    assert rating.klass == "open-with-conditions"


def test_modification_needs_distribution_to_pass():
    v = rated("You may modify the Software for your internal business purposes.").verdict("modify")
    assert v.verdict == "unknown" and "no clause grants distributing modified versions" in v.reason


def test_a_naming_rule_for_derivatives_is_a_condition_on_modification():
    rating = rated(GRANT, 'If you distribute a model derived from the Materials, you must include "Acme" at the '
                          "beginning of the name of that model.")
    v = rating.verdict("modify")
    assert v.verdict == "conditional" and v.detail == "naming rule" and "obligation.naming" in v.tags


def test_modification_implied_by_a_duty_to_mark_changes():
    v = rated_facts(fact("You may convey copies of the Program.", "grant.distribute"),
                    fact("The work must carry prominent notices stating that you modified it.",
                         "obligation.state_changes")).verdict("modify")
    assert v.verdict == "pass" and "presupposes" in v.reason


# ------------------------------------------------------------------ commercial use, thresholds

def test_commercial_use_express_or_by_an_unlimited_grant():
    v = rated(GRANT_ANY_PURPOSE).verdict("commercial_use")
    assert v.verdict == "pass" and "expressly" in v.reason
    v = rated(GRANT).verdict("commercial_use")     # an Apache-style grant of use with no purpose limit
    assert v.verdict == "pass" and "without a purpose limit" in v.reason


@pytest.mark.parametrize("limit", [
    "You may use, copy and run the Model solely for non-commercial research purposes.",
    "You may not use the Model for any commercial purpose.",
    "The Model is licensed for research purposes only.",
    "You shall only use the Model, its Derivatives (whether or not made by the Licensor) and its Outputs for "
    "Research Purposes.",
])
def test_non_commercial_licences(limit):
    rating = rated(GRANT, limit)
    assert verdict(rating, "commercial_use") == "fail"
    assert rating.klass == "non-commercial"


@pytest.mark.parametrize("threshold, detail", [
    ("If the products or services of the Licensee had more than 500 million monthly active users in the preceding "
     "month, you must request a separate license from the Licensor.", "500M monthly active users"),
    ("If your annual revenue exceeds US $5,000,000, you must obtain an enterprise license from the Licensor before "
     "any further commercial use.", "USD 5M revenue"),
])
def test_a_user_or_revenue_threshold(threshold, detail):
    rating = rated(GRANT, threshold)
    v = rating.verdict("no_threshold")
    assert v.verdict == "fail" and v.detail == detail and v.evidence[0].tag == "restrict.scale_threshold"
    assert verdict(rating, "commercial_use") == "conditional"
    assert rating.klass == "restricted" and "no_threshold" in rating.decided_by


def test_a_free_tier_below_a_revenue_threshold_is_commercial_on_terms_not_non_commercial():
    rating = rated("Subject to this Agreement, you are granted a limited license to use, reproduce and distribute "
                   "the Materials for any non-commercial purpose.",
                   "If your annual revenue is less than US $1,000,000, you may use the Materials for commercial "
                   "purposes; if it exceeds US $1,000,000 you must obtain an enterprise license.")
    assert verdict(rating, "commercial_use") == "conditional"
    assert rating.klass == "restricted"


def test_no_threshold_passes_on_absence_in_a_licence():
    v = rated(GRANT).verdict("no_threshold")
    assert v.verdict == "pass" and not v.evidence


# ------------------------------------------------------------------ use policies, outputs, geography

@pytest.mark.parametrize("restriction", [
    "Your use of the Model must comply with the Acceptable Use Policy, which is hereby incorporated by reference "
    "into this Agreement.",
    "You agree not to use the Model or its Derivatives:\n\n(a) to generate or disseminate disinformation;\n\n"
    "(b) to develop weapons of mass destruction.",
])
def test_use_restrictions_fail(restriction):
    v = rated(GRANT, restriction).verdict("no_use_restriction")
    assert v.verdict == "fail" and v.tags and set(v.tags) <= {"restrict.use_policy", "restrict.prohibited_use"}


def test_an_incorporated_policy_that_is_not_stored_leaves_absence_unknown():
    missing = Document("acme-use-policy", POLICY, stored=False)
    rating = rate([document(GRANT_ANY_PURPOSE), missing], RULES)
    for criterion in ("no_output_restriction", "no_geographic_exclusion", "no_unilateral_changes"):
        v = rating.verdict(criterion)
        assert v.verdict == "unknown" and "acme-use-policy is not stored" in v.reason
    assert rating.unread == ["acme-use-policy"] and rating.klass == "undetermined"


@pytest.mark.parametrize("ban", [
    "You will not use the outputs of the Model to train, improve or develop any other large language model.",
    "You shall not use the Model or any output therefrom to improve any other AI model.",
])
def test_an_output_ban_fails(ban):
    rating = rated(GRANT, ban)
    v = rating.verdict("no_output_restriction")
    assert v.verdict == "fail" and v.tags == ["restrict.output_use"]
    assert rating.klass == "restricted"


def test_a_duty_on_models_trained_on_outputs_is_a_condition():
    rating = rated(GRANT, 'If you use the Materials or any outputs of the Materials to train or fine-tune a model '
                          'that you distribute, you shall name that model with the prefix "Acme".')
    v = rating.verdict("no_output_restriction")
    assert v.verdict == "conditional" and v.detail == "duty on outputs"


def test_output_ownership_supports_a_pass():
    v = rated(GRANT, "The Licensor claims no rights in the outputs you generate using the Model.").verdict(
        "no_output_restriction")
    assert v.verdict == "pass" and v.evidence[0].tag == "terms.output_ownership"


def test_a_domicile_exclusion_fails_and_export_law_is_a_condition():
    excluded = rated(GRANT, "The rights granted under Section 1 are not granted to you if you are domiciled in, or "
                            "have your principal place of business in, the European Union.")
    v = excluded.verdict("no_geographic_exclusion")
    assert v.verdict == "fail" and v.tags == ["restrict.geographic"] and excluded.klass == "restricted"
    law = rated(GRANT_ANY_PURPOSE, "You must comply with all applicable export control and sanctions laws.")
    assert verdict(law, "no_geographic_exclusion") == "conditional"
    assert law.klass == "open-with-conditions"


def test_a_place_named_in_a_sanctions_clause_is_the_law():
    v = rated_facts(fact("You may use the Model.", "grant.use", "grant.distribute", "grant.modify"),
                    fact("You will not use the Model if you are located in a comprehensively sanctioned "
                         "jurisdiction.", "restrict.geographic")).verdict("no_geographic_exclusion")
    assert v.verdict == "conditional"


# ------------------------------------------------------------------ the licensor's powers

@pytest.mark.parametrize("power", [
    "The Licensor reserves the right to restrict (remotely or otherwise) usage of the Model that it reasonably "
    "believes violates this Agreement.",
    "You must use the latest version of the Model made available by the Licensor.",
])
def test_remote_restriction_or_forced_update_fails(power):
    rating = rated(GRANT, power)
    assert rating.verdict("no_remote_restriction").tags == ["licensor.remote_restriction"]
    assert verdict(rating, "no_remote_restriction") == "fail" and rating.klass == "restricted"


def test_unilateral_changes_fail_in_the_licence_or_in_its_policy():
    rating = rated(GRANT, "The Licensor may modify or update this Agreement at any time, and your continued use of "
                          "the Model constitutes acceptance of the updated Agreement.")
    assert verdict(rating, "no_unilateral_changes") == "fail"
    policy = use_policy("Generate spam", extra="This Policy may be updated from time to time.")
    v = rated(GRANT, policies=(policy,)).verdict("no_unilateral_changes")
    assert v.verdict == "fail" and v.evidence[0].document == "acme-use-policy"


def test_new_licence_versions_that_keep_the_received_version_are_a_condition():
    v = rated_facts(fact("You may use, modify and distribute the Program.", "grant.use", "grant.modify",
                         "grant.distribute"),
                    fact("The Steward may publish new versions of this Agreement. The Program may always be "
                         "distributed under the version under which it was received.", "licensor.update_terms")
                    ).verdict("no_unilateral_changes")
    assert v.verdict == "conditional"


# ------------------------------------------------------------------ duties

def test_attribution_duties_are_conditions_that_keep_a_licence_open():
    rating = rated(GRANT_ANY_PURPOSE, NOTICE, "You must cause any modified files to carry prominent notices stating "
                                              "that You changed the files.")
    v = rating.verdict("attribution")
    assert v.verdict == "conditional" and v.detail == "notices, change notes"
    assert rating.klass == "open" and verdict(rating, "copyleft") == "pass"


def test_no_duty_at_all():
    rating = rated(GRANT_ANY_PURPOSE)
    assert verdict(rating, "attribution") == "pass" and rating.klass == "open"


def test_restrictions_that_flow_down_are_not_copyleft_but_still_a_condition():
    rating = rated(GRANT, "You must include the use restrictions of Section 5 as an enforceable provision in any "
                          "agreement governing the use or distribution of the Model.")
    v = rating.verdict("copyleft")
    assert v.verdict == "conditional" and v.detail == "restrictions flow down"
    assert rating.klass == "restricted"


# ------------------------------------------------------------------ classes and the rule as data

def test_classes_of_licence_shapes():
    assert rated(GRANT_ANY_PURPOSE, NOTICE).klass == "open"
    assert rated(GRANT, "You must license the entire work, as a whole, under this License to anyone who comes "
                        "into possession of a copy.").klass == "open-with-conditions"
    assert rated(GRANT, "You may use, copy and run the Model solely for non-commercial research "
                        "purposes.").klass == "non-commercial"
    assert rated(GRANT, "Your use of the Model must comply with the Acceptable Use Policy, which is hereby "
                        "incorporated by reference into this Agreement.").klass == "restricted"


def test_a_rating_records_the_rule_version_and_every_criterion():
    rating = rated(GRANT)
    assert rating.rule_version == RULES.rule_version and f"rules{RULES.version}" in rating.rule_version
    assert [v.criterion for v in rating.verdicts] == list(CRITERIA)
    data = rating.to_json()
    assert data["class"] == rating.klass and len(data["criteria"]) == len(CRITERIA)


def test_the_class_rule_is_data():
    from importlib.resources import files

    yaml_text = files("clausewatch.openness").joinpath("rules.yaml").read_text()
    # a stricter rule: attribution duties are a condition that keeps a licence out of "open"
    stricter = parse_rules(yaml_text.replace("      copyleft: [pass]\n      attribution: [pass, conditional]",
                                             "      copyleft: [pass]\n      attribution: [pass]", 1))
    docs = [document(GRANT_ANY_PURPOSE, NOTICE)]
    assert rate(docs, RULES).klass == "open"
    assert rate(docs, stricter).klass == "open-with-conditions"


@pytest.mark.parametrize("broken, message", [
    ("version: 1\ncriteria: {}\nclasses: []", "criteria missing"),
    ("version: one", "integer `version`"),
    (": : :", "not valid YAML"),
])
def test_a_broken_rule_file_is_one_clear_error(broken, message):
    with pytest.raises(RuleError, match=message):
        parse_rules(broken)


def test_a_class_must_name_known_criteria_and_verdicts():
    from importlib.resources import files

    yaml_text = files("clausewatch.openness").joinpath("rules.yaml").read_text()
    with pytest.raises(RuleError, match="unknown verdict 'maybe'"):
        parse_rules(yaml_text.replace("commercial_use: [fail]", "commercial_use: [maybe]", 1))
    with pytest.raises(RuleError, match="unknown criterion 'freedom_zero'"):
        parse_rules(yaml_text.replace("commercial_use: [fail]", "freedom_zero: [fail]", 1))


def test_threshold_detail_reads_the_entity_values():
    rating = rated_facts(fact("You may use the Model.", "grant.use"),
                         fact("Above 2 billion daily active users a licence is needed.", "restrict.scale_threshold",
                              entities=(EntityFact("USER_THRESHOLD", 2_000_000_000, "2 billion daily active users",
                                                   "daily_active_users"),)))
    assert rating.verdict("no_threshold").detail == "2B daily active users"
