"""Per-tag tests of the clause tagger on sentences written for these tests (licences, laws, orders).

``CASES`` holds, for every taxonomy tag, a clause that must carry it and one that must not;
tests/test_taxonomy_coverage.py checks that every tag of ../shared/taxonomy.yaml is listed here.
"""
from __future__ import annotations

import pytest

from clausewatch.nlp.model import Clause, Entity, Segment
from clausewatch.nlp.tagger import is_open_relevant, tag_segments

CONTEXT = {
    "licence": "This License Agreement is between you and the Licensor and governs your use of the Model and "
               "of the license granted to you under this Agreement.",
    "law": "This Regulation lays down harmonised rules for providers and deployers in the Member States; "
           "this Regulation applies to providers placing models on the Union market.",
    "policy": "By the authority vested in me as President, it is hereby ordered: Federal agencies and the "
              "Secretary of Commerce shall carry out this executive order.",
}


def tags_of(text: str, kind: str = "licence", chapeau: str | None = None) -> set[str]:
    segments = [Segment(0, "¶ 1", None, None, CONTEXT[kind], 0, 1)]
    parent = None
    if chapeau:
        segments.append(Segment(1, "¶ 2", None, None, chapeau, 0, 1))
        parent = 1
    segments.append(Segment(len(segments), "¶ 3", None, "(a)" if chapeau else None, text, 0, 1,
                            depth=1 if chapeau else 0, parent=parent))
    return {hit.tag for hit in tag_segments(segments)[-1]}


# (tag, document kind, chapeau of the positive clause, clause that carries the tag, clause that does not)
CASES = [
    ("grant.use", "licence", None,
     "Subject to this Agreement, the Licensor hereby grants to you a worldwide, royalty-free license to use, run "
     "and copy the Model.",
     "You may not use this file except in compliance with the License."),
    ("grant.modify", "licence", None,
     "You are granted a non-exclusive licence to adapt, fine-tune and create derivative works of the Materials.",
     "You may reproduce and distribute copies of the Materials, with or without modifications."),
    ("grant.distribute", "licence", None,
     "You may reproduce and redistribute copies of the Model in any medium.",
     "You may add your own attribution notices within Derivative Works that You distribute."),
    ("grant.commercial", "licence", None,
     "Permission is hereby granted to any person to use, copy, modify and sell copies of the Software for any "
     "purpose.",
     "The Licensor grants you a licence to use the Model solely for your non-commercial research purposes."),
    ("grant.patent", "licence", None,
     "Each Contributor hereby grants to You a perpetual, worldwide, royalty-free patent license to make, have "
     "made, use, sell and import the Work.",
     "Nothing in this License grants you any patent rights in the Model."),
    ("restrict.scale_threshold", "licence", None,
     "If your products or services exceed 500 million monthly active users, you must request a license from us.",
     "You may use the Model in products offered to any number of users."),
    ("restrict.noncommercial", "licence", None,
     "The Model may be used for research purposes only and not for commercial purposes.",
     "You may sell products and services that incorporate the Model."),
    ("restrict.use_policy", "licence", None,
     "Your use of the Model must comply with the Acceptable Use Policy, which is hereby incorporated by "
     "reference into this Agreement.",
     "“Acceptable Use Policy” means the policy published on the Licensor's website."),
    ("restrict.prohibited_use", "licence", "You agree not to use the Model or its Derivatives:",
     "to generate malware, spam or content that harasses others;",
     "You may distribute the Model to generate value for your customers."),
    ("restrict.output_use", "licence", None,
     "You will not use the Model or any output or results of the Model to improve any other large language "
     "model.",
     "If you use outputs of the Model to train another model, you shall include “Acme” at the beginning of "
     "its name."),
    ("restrict.geographic", "licence", None,
     "The rights granted under Section 1 are not being granted to you if you are domiciled in, or have your "
     "principal place of business in, the European Union.",
     "“Licensor” means Acme Ireland Limited (if you are located in the EEA) and Acme, Inc. otherwise."),
    ("obligation.attribution", "licence", None,
     "You must give any other recipients of the Work a copy of this License and retain all copyright notices.",
     "You may obtain a copy of the License at https://example.org/license."),
    ("obligation.naming", "licence", None,
     "If you fine-tune the Model and distribute it, you shall include “Acme” at the beginning of the name of "
     "any such model.",
     "Neither the name of the copyright holder nor the names of its contributors may be used to endorse or "
     "promote products derived from this software."),
    ("obligation.share_alike", "licence", None,
     "If You Share Adapted Material You produce, the license You apply must be the same license as this one "
     "or a compatible license.",
     "Any Contribution submitted by You shall be under the terms and conditions of this License."),
    ("obligation.disclose_source", "licence", None,
     "Your modified version must offer all users interacting with it remotely through a computer network an "
     "opportunity to receive the Corresponding Source of your version.",
     "“Source” form shall mean the preferred form for making modifications, including software source code."),
    ("obligation.state_changes", "licence", None,
     "You must cause any modified files to carry prominent notices stating that You changed the files.",
     "You may modify the files for your own internal use."),
    ("licensor.update_terms", "licence", None,
     "We may modify this Agreement from time to time, and the modified terms will apply to your continued use.",
     "The Licensor may update the Model from time to time."),
    ("licensor.remote_restriction", "licence", None,
     "The Licensor reserves the right to restrict (remotely or otherwise) usage of the Model in violation of "
     "this License.",
     "You may host the Model for access by third parties."),
    ("terms.termination", "licence", None,
     "This Agreement will terminate automatically if you breach any of its terms, and Sections 4 and 5 shall "
     "survive.",
     "This Agreement is governed by the laws of Ireland."),
    ("terms.warranty_disclaimer", "licence", None,
     "The Model is provided “AS IS”, without warranties or conditions of any kind.",
     "You represent and warrant that you have the authority to enter into this Agreement."),
    ("terms.liability_limit", "licence", None,
     "In no event shall the Licensor be liable to you for any damages arising from the use of the Model.",
     "You are responsible for any content you generate with the Model."),
    ("terms.indemnity", "licence", None,
     "You will indemnify, defend and hold harmless the Licensor from any claim by a third party.",
     "The Licensor may offer support services for a fee."),
    ("terms.trademark", "licence", None,
     "This License does not grant permission to use the trade names, trademarks, service marks, or logos of "
     "the Licensor.",
     "You must retain all copyright, patent, trademark, and attribution notices from the Source form."),
    ("terms.governing_law", "licence", None,
     "This Agreement shall be governed by the laws of the State of New York, and the courts of New York shall "
     "have exclusive jurisdiction.",
     "You must comply with all laws that apply to your use of the Model."),
    ("terms.output_ownership", "licence", None,
     "The Licensor claims no rights in the Output you generate using the Model.",
     "You are accountable for the Output you generate and its subsequent uses."),
    ("policy.definition", "licence", None,
     "“Model” means the trained weights and parameters released under this Agreement.",
     "The Model was trained on publicly available data."),
    ("policy.open_source_exemption", "law", None,
     "The obligations set out in paragraph 1 shall not apply to providers of AI models that are released under "
     "a free and open-source licence.",
     "Providers of general-purpose AI models shall draw up the technical documentation of the model."),
    ("policy.openness_criteria", "licence", None,
     "The license must allow all recipients to use, study, modify and share the model for any purpose.",
     "The license was published in 2024 by the foundation."),
    ("policy.documentation", "law", None,
     "Providers shall draw up and keep up-to-date the technical documentation of the model.",
     "Providers shall report serious incidents to the AI Office without undue delay."),
    ("policy.copyright", "law", None,
     "Providers shall put in place a policy to comply with Union law on copyright and related rights, including "
     "reservations of rights for text and data mining.",
     "Providers shall ensure an adequate level of cybersecurity protection for the model."),
    ("policy.training_data_transparency", "law", None,
     "Providers shall make publicly available a sufficiently detailed summary about the content used for "
     "training of the model.",
     "The data used to train the model may be provided under open data licensing terms."),
    ("policy.systemic_risk", "law", None,
     "Providers of general-purpose AI models with systemic risk shall perform adversarial testing of the model.",
     "‘systemic risk’ means a risk that is specific to the high-impact capabilities of general-purpose AI "
     "models."),
    ("policy.compute_threshold", "law", None,
     "A model shall be presumed to have high impact capabilities when the cumulative amount of computation used "
     "for its training is greater than 10^25 floating point operations.",
     "The term “floating-point operation” means any mathematical operation involving floating-point numbers."),
    ("policy.prohibited_practice", "law", "The following AI practices shall be prohibited:",
     "the use of AI systems that deploy subliminal techniques to distort behaviour;",
     "Providers shall keep the logs automatically generated by their systems."),
    ("policy.transparency", "law", None,
     "Deployers shall disclose that the content has been artificially generated or manipulated.",
     "Deployers shall keep the logs generated by the system for at least six months."),
    ("policy.penalty", "law", None,
     "Infringements shall be subject to administrative fines of up to EUR 35 000 000 or up to 7 % of total "
     "worldwide annual turnover.",
     "Member States shall designate a national competent authority."),
    ("policy.timeline", "law", None,
     "This Regulation shall enter into force on the twentieth day following that of its publication.",
     "Providers shall cooperate with the Commission."),
    ("policy.governance", "law", None,
     "The AI Office shall encourage and facilitate the drawing up of codes of practice at Union level.",
     "Providers shall report serious incidents to the AI Office."),
    ("policy.recommendation", "policy", None,
     "Within 90 days of the date of this order, the Secretary of Commerce shall establish guidelines for "
     "red-team testing of AI models.",
     "America must win the AI race to usher in a new golden age."),
    ("policy.national_security", "licence", None,
     "You agree not to use the Model for military purposes or to develop weapons of mass destruction.",
     "AI brings economic competitiveness and national security for the American people."),
]


@pytest.mark.parametrize("tag,kind,chapeau,positive,negative", CASES, ids=[c[0] for c in CASES])
def test_tag_positive_and_negative(tag, kind, chapeau, positive, negative):
    assert tag in tags_of(positive, kind, chapeau), positive
    assert tag not in tags_of(negative, kind), negative


def test_every_hit_has_evidence_rule_and_score():
    segments = [Segment(0, "1", None, None, CASES[0][3], 0, 1)]
    for hit in tag_segments(segments)[0]:
        assert hit.evidence and hit.rule.startswith(("rule:", "context:")) and 0 < hit.score <= 1


# ---------------------------------------------------------------- context rulings

def test_items_of_a_use_policy_inherit_prohibited_use_and_keep_their_topics():
    chapeau = "You agree you will not use, or allow others to use, the Model to:"
    assert tags_of("Military, warfare, nuclear industries or espionage", chapeau=chapeau) == {
        "restrict.prohibited_use", "policy.national_security"}
    assert "restrict.prohibited_use" in tags_of("Violate the law or others' rights, including to:", chapeau=chapeau)


def test_item_incorporating_a_policy_is_use_policy_not_prohibited_use():
    tags = tags_of("for the restricted uses set forth in the Prohibited Use Policy, which is hereby incorporated "
                   "by reference into this Agreement; or", chapeau="You must not use any of the Services:")
    assert tags == {"restrict.use_policy"}


def test_items_of_a_fine_carry_penalty_only():
    chapeau = ("The Commission may impose on providers fines not exceeding 3 % of their annual turnover or "
               "EUR 15 000 000, when the Commission finds that the provider intentionally or negligently:")
    assert tags_of("failed to supply the requested documentation and information to the AI Office;", "law",
                   chapeau) == {"policy.penalty"}


def test_items_of_a_definition_and_of_an_instruction_inherit_the_kind():
    chapeau = "The term “dual-use foundation model” means an AI model that poses risks, such as by:"
    assert tags_of("lowering the barrier of entry to design chemical, biological, radiological, or nuclear "
                   "weapons;", "policy", chapeau) == {"policy.definition", "policy.national_security"}
    chapeau = "Within 270 days of the date of this order, the Secretary of Commerce shall:"
    assert "policy.recommendation" in tags_of("solicit input from academia and civil society;", "policy", chapeau)


def test_item_of_a_list_of_policies_is_a_recommendation():
    chapeau = "Key policies in the Action Plan include:"
    assert tags_of("Expediting permits for data centers and semiconductor fabs.", "policy", chapeau) == {
        "policy.recommendation"}


def _item_under_heading(text: str, heading: str, kind: str) -> set[str]:
    segments = [Segment(0, "¶ 1", None, None, CONTEXT[kind], 0, 1),
                Segment(1, f"{heading} > •1", heading, "*", text, 0, 1, depth=1, headings=(heading,)),
                Segment(2, "¶ 2", None, None, "This paragraph has a parent.", 0, 1, parent=0)]
    return {hit.tag for hit in tag_segments(segments)[1]}


def test_list_items_without_a_chapeau_take_the_kind_of_their_heading():
    assert _item_under_heading("Generating spam or malware", "Prohibited Uses", "licence") == {
        "restrict.prohibited_use"}
    assert _item_under_heading("Revise the risk management framework to remove references to misinformation.",
                               "Recommended Policy Actions", "policy") == {"policy.recommendation"}
    assert _item_under_heading("Generating spam or malware", "Definitions", "licence") == set()


def test_definitions_keep_only_operative_content():
    assert tags_of("“Agreement” means these terms and conditions as updated from time to time, including "
                   "the right to distribute the Model.") == {"policy.definition", "licensor.update_terms"}


def test_reporting_lines_carry_nothing():
    assert tags_of("Reporting violations of the Acceptable Use Policy: report@example.com") == set()


def test_patent_licence_is_not_a_use_grant_and_ends_on_litigation():
    tags = tags_of("Each Contributor hereby grants to You a patent license to make, use, sell and import the Work. "
                   "If You institute patent litigation, any patent licenses granted to You shall terminate.")
    assert tags == {"grant.patent", "grant.commercial", "terms.termination"}


def test_trademark_grant_is_not_a_use_grant():
    tags = tags_of("No trademark licenses are granted under this Agreement. Meta hereby grants you a license to use "
                   "“Llama” (the “Mark”) solely as required to comply with Section 1.")
    assert tags == {"terms.trademark"}


def test_open_source_exemption_takes_the_topic_of_the_duty_it_lifts():
    texts = ["Providers of general-purpose AI models shall:",
             "draw up and keep up-to-date the technical documentation of the model;",
             "The obligations set out in paragraph 1, points (a), shall not apply to providers of AI models that are "
             "released under a free and open-source licence that allows for the access, usage, modification, and "
             "distribution of the model. This exception shall not apply to models with systemic risks."]
    segments = [Segment(0, "Article 53 > 1", None, "1.", texts[0], 0, 1),
                Segment(1, "Article 53 > 1 > (a)", None, "(a)", texts[1], 0, 1, depth=1, parent=0),
                Segment(2, "Article 53 > 2", None, "2.", texts[2], 0, 1)]
    tags = {hit.tag for hit in tag_segments(segments)[2]}
    assert tags == {"policy.open_source_exemption", "policy.documentation", "policy.systemic_risk",
                    "policy.openness_criteria"}


def test_tag_segments_keeps_order_and_handles_empty_input():
    assert tag_segments([]) == []
    segments = [Segment(i, f"¶ {i}", None, None, text, 0, 1) for i, text in
                enumerate(["The Model is provided “AS IS”.", "You will indemnify the Licensor."])]
    result = tag_segments(segments)
    assert [{h.tag for h in hits} for hits in result] == [{"terms.warranty_disclaimer"}, {"terms.indemnity"}]


# ---------------------------------------------------------------- licence families

@pytest.mark.parametrize("text,expected", [
    ("You may convey a covered work in object code form provided that you also convey the machine-readable "
     "Corresponding Source under the terms of this License.", {"grant.distribute", "obligation.disclose_source"}),
    ("You must license the entire work, as a whole, under this License to anyone who comes into possession of "
     "a copy.", {"obligation.share_alike"}),
    ("If You Share the Licensed Material, You must give appropriate credit and indicate if You modified the "
     "Licensed Material.", {"obligation.attribution", "obligation.state_changes"}),
    ("If you or your affiliates have annual revenue of more than USD 1,000,000, you must obtain an enterprise "
     "license from the Licensor.", {"restrict.scale_threshold"}),
    ("The Licensor reserves the right to update this Prohibited Use Policy from time to time.",
     {"licensor.update_terms"}),
    ("Models are commercially usable.", {"grant.commercial"}),
    ("You shall undertake reasonable efforts to use the latest version of the Model.",
     {"licensor.remote_restriction"}),
    ("You shall only use the Models, Derivatives and Outputs for Research Purposes.", {"restrict.noncommercial"}),
    ("The Licensor grants You a worldwide, revocable license to use, reproduce, distribute, and create Derivative "
     "Works of the Materials for any Research, Non-Commercial or Commercial Purpose.",
     {"grant.use", "grant.distribute", "grant.modify", "grant.commercial"}),
    ("You will not use the Materials, or any output or results of the Materials, to create or improve any "
     "foundational generative AI model.", {"restrict.output_use"}),
    ("The Acceptable Use Policy may be updated from time to time.", {"licensor.update_terms"}),
    ("This License Agreement (as may be amended in accordance with this License Agreement, “License”) applies to "
     "the Software.", set()),
])
def test_clauses_of_other_licence_families(text, expected):
    assert tags_of(text) == expected


def test_cited_licence_names_are_not_the_clause_terms():
    tags = tags_of("By exercising the Licensed Rights, You agree to be bound by the terms of the Creative Commons "
                   "Attribution-NonCommercial-ShareAlike 4.0 International Public License.")
    assert not tags & {"restrict.noncommercial", "obligation.share_alike"}


def test_items_of_a_grant_list_are_granted_acts():
    chapeau = "The Licensor hereby grants You a worldwide, royalty-free license to exercise the Licensed Rights to:"
    assert tags_of("produce, reproduce, and Share Adapted Material for NonCommercial purposes only.",
                   chapeau=chapeau) == {"grant.use", "grant.modify", "grant.distribute", "restrict.noncommercial"}
    conditions = "You may reproduce and distribute copies of the Work provided that You meet the following conditions:"
    assert tags_of("You must retain, in any Derivative Works that You distribute, all copyright notices.",
                   chapeau=conditions) == {"obligation.attribution"}


@pytest.mark.parametrize("kind,text,expected", [
    ("law", "Providers shall label generated content such as images, audio and video.", {"policy.transparency"}),
    ("law", "Member States shall lay down the rules on penalties, which shall be effective, proportionate and "
            "dissuasive.", {"policy.penalty"}),
    ("policy", "We recommend that Congress require developers of frontier models to publish safety protocols.",
     {"policy.recommendation", "policy.systemic_risk"}),
    ("policy", "America must continue to be the dominant force in artificial intelligence to protect our economic "
               "and national security.", set()),
])
def test_clauses_of_laws_and_reports(kind, text, expected):
    assert tags_of(text, kind) == expected


# ---------------------------------------------------------------- open relevance

def _clause(text: str, tags=(), entities=()) -> Clause:
    from clausewatch.nlp.model import TagHit

    return Clause(Segment(0, "1", None, None, text, 0, 1), [TagHit(t, 1.0, text, "rule:x") for t in tags],
                  list(entities))


def test_is_open_relevant():
    assert is_open_relevant(_clause("Models released under a free and open-source licence are exempt."))
    assert is_open_relevant(_clause("whose parameters, including the weights, are made publicly available"))
    assert is_open_relevant(_clause("x", tags=["policy.openness_criteria"]))
    assert is_open_relevant(_clause("Licensed under the Apache License, Version 2.0.",
                                    entities=[Entity("LICENSE_REF", "Apache License, Version 2.0", "Apache-2.0",
                                                     0, 10)]))
    assert not is_open_relevant(_clause("This Agreement is governed by the laws of California."))
    assert not is_open_relevant(_clause("Providers shall keep logs for six months."))
