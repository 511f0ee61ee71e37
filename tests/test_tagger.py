"""Per-tag tests of the clause tagger on sentences written for these tests (licences, laws, orders).

``CASES`` holds, for every taxonomy tag, a clause that must carry it and one that must not;
tests/test_taxonomy_coverage.py checks that every tag of ../shared/taxonomy.yaml is listed here.
``PHRASINGS`` gives each tag several more wordings; ``NEAR_MISSES`` sentences that name a tag's topic
without carrying it. No sentence is taken from a document of the corpus or of the gold files
(tests/test_cues.py checks that no six-word run of a dev gold quote appears here).
"""
from __future__ import annotations

import pytest

from clausewatch.nlp.model import Clause, Entity, Segment
from clausewatch.nlp.tagger import is_open_relevant, tag_segments

CONTEXT = {
    "licence": "These terms are an agreement between you and the Licensor about the Tool; this License sets out "
               "what you may do with the Tool and what the Licensor promises.",
    "law": "This Regulation sets rules for providers and deployers in the Member States; this Regulation applies "
           "to anyone placing a model on the Union market.",
    "policy": "By the authority vested in me as President, it is hereby ordered: Federal agencies and the "
              "Secretary of Energy shall carry out this executive order.",
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
     "Under these terms the Licensor hereby grants you a free, worldwide licence to run, copy and use the Tool.",
     "You are not allowed to use the Tool until you accept these terms."),
    ("grant.modify", "licence", None,
     "The Licensor grants you a non-exclusive licence to adapt, fine-tune and build derivative works from the "
     "Weights.",
     "You may pass on copies of the Weights, either as received or with changes."),
    ("grant.distribute", "licence", None,
     "You may share and redistribute copies of the Tool in any format.",
     "You may place your own credits inside derivative works that you hand on to others."),
    ("grant.commercial", "licence", None,
     "The Licensor hereby grants you the right to use, alter and sell copies of the Tool for any purpose.",
     "The Licensor grants you a licence to use the Tool only for your non-commercial studies."),
    ("grant.patent", "licence", None,
     "Every contributor hereby grants you a perpetual, royalty-free patent licence to make, use and sell the "
     "Tool.",
     "These terms give you no rights in any patent of the Licensor."),
    ("restrict.scale_threshold", "licence", None,
     "If your services reach more than 250 million monthly active users, you need a separate licence from us.",
     "You may offer the Tool to as many customers as you like."),
    ("restrict.noncommercial", "licence", None,
     "The Weights may be used for research purposes only and never for commercial purposes.",
     "You may build paid products that include the Tool."),
    ("restrict.use_policy", "licence", None,
     "Your use of the Tool must follow the Acceptable Use Policy, which forms part of this Agreement.",
     "“Acceptable Use Policy” means the rules of conduct posted on our site."),
    ("restrict.prohibited_use", "licence", "You shall not use the Tool or anything built from it:",
     "to spread spam, write malware or harass other people;",
     "You may ship the Tool to help your customers work faster."),
    ("restrict.output_use", "licence", None,
     "You must not use the Tool or its outputs to train or improve any competing language model.",
     "If you use outputs of the Tool to train a model, its name must begin with “Acme”."),
    ("restrict.geographic", "licence", None,
     "The rights under Section 2 are not granted to you if you reside in, or are incorporated in, the territory "
     "of the European Union.",
     "“Licensor” means Acme Europe SARL for users located in the EEA and Acme Ltd for everyone else."),
    ("obligation.attribution", "licence", None,
     "You must hand every person who receives the Tool a copy of this License and keep all copyright notices.",
     "You can find a copy of the License at https://example.org/terms."),
    ("obligation.naming", "licence", None,
     "If you publish a fine-tuned version, you must put “Acme” at the beginning of its model name.",
     "The name of the author may not be used to promote products made with the Tool without written consent."),
    ("obligation.share_alike", "licence", None,
     "When You share adapted material, the licence You apply to it must be the same license as this one or a "
     "compatible license.",
     "Any contribution you send to us is licensed to us under these terms."),
    ("obligation.disclose_source", "licence", None,
     "If you run a changed version on a server, you must offer its users interacting with it remotely the "
     "Corresponding Source of that version.",
     "“Source” form means the form in which the code is easiest to change."),
    ("obligation.state_changes", "licence", None,
     "You must mark each altered file with a note stating that you changed it and when.",
     "You may change the files for use inside your own company."),
    ("licensor.update_terms", "licence", None,
     "We may amend these terms at any time, and the amended terms will bind you from the day they are posted.",
     "The Licensor may release new builds of the Tool now and then."),
    ("licensor.remote_restriction", "licence", None,
     "The Licensor reserves the right to restrict access to the Tool remotely if these terms are broken.",
     "You may run the Tool on servers that others can reach."),
    ("terms.termination", "licence", None,
     "These terms end automatically if you break them, and Sections 4 and 5 survive their termination.",
     "These terms are written in English."),
    ("terms.warranty_disclaimer", "licence", None,
     "The Weights are supplied “AS IS”, without warranties or conditions of any kind.",
     "You confirm that you are old enough to accept this Agreement."),
    ("terms.liability_limit", "licence", None,
     "In no event will the Licensor be liable for any loss arising from the Tool.",
     "You are responsible for everything you produce with the Tool."),
    ("terms.indemnity", "licence", None,
     "You agree to indemnify and hold the Licensor harmless from claims brought by others about your use.",
     "The Licensor may sell support plans separately."),
    ("terms.trademark", "licence", None,
     "These terms give you no right to use the trade names, logos or service marks of the Licensor.",
     "You must keep every copyright, patent, trademark and attribution notice found in the source files."),
    ("terms.governing_law", "licence", None,
     "This Agreement is governed by the laws of Ontario, and only the courts of Toronto may hear a dispute about "
     "it.",
     "You must obey every law that applies to you when you use the Tool."),
    ("terms.output_ownership", "licence", None,
     "The Licensor claims no ownership of the outputs you create with the Tool.",
     "You answer for the outputs you create and for what you do with them."),
    ("policy.definition", "licence", None,
     "“Weights” means the trained parameters published with these terms.",
     "The Weights were trained on text from public websites."),
    ("policy.open_source_exemption", "law", None,
     "The duties in paragraph 2 do not apply to providers of models released under a free and open-source "
     "licence.",
     "Providers shall prepare and keep current the technical documentation of their models."),
    ("policy.openness_criteria", "licence", None,
     "The licence must allow every recipient to use, study, change and share the model for any purpose.",
     "The licence was first published in 2019 by a foundation."),
    ("policy.documentation", "law", None,
     "Providers shall prepare and keep current the technical documentation of their models.",
     "Providers shall notify the authority of serious incidents without delay."),
    ("policy.copyright", "law", None,
     "Providers shall adopt a policy to respect Union law on copyright, including reservations of rights "
     "against text and data mining.",
     "Providers shall protect their models against cyber attacks."),
    ("policy.training_data_transparency", "law", None,
     "Providers shall publish a summary of the content used to train each model.",
     "Content used for training a model may come under open data terms."),
    ("policy.systemic_risk", "law", None,
     "Providers of models with systemic risk shall carry out adversarial testing before release.",
     "‘systemic risk’ means a risk tied to the high-impact capabilities of a model."),
    ("policy.compute_threshold", "law", None,
     "A model is presumed to have high-impact capabilities when the training compute exceeds 10^25 floating "
     "point operations.",
     "The term “floating-point operation” means an arithmetic step on numbers in floating-point format."),
    ("policy.prohibited_practice", "law", "The AI practices listed below are prohibited:",
     "the use of systems that manipulate people below the threshold of their awareness;",
     "Providers shall keep the logs their systems generate."),
    ("policy.transparency", "law", None,
     "Deployers shall label audio and video that is AI-generated content, so that viewers know.",
     "Deployers shall keep the system logs for at least six months."),
    ("policy.penalty", "law", None,
     "Breaches shall be subject to administrative fines of up to EUR 20 000 000 or 5 % of worldwide annual "
     "turnover.",
     "Member States shall designate a competent authority."),
    ("policy.timeline", "law", None,
     "This Regulation enters into force ten days after its publication.",
     "Providers shall work together with the Commission."),
    ("policy.governance", "law", None,
     "The AI Office shall promote codes of practice for the whole Union.",
     "Providers shall send incident reports to the AI Office."),
    ("policy.recommendation", "policy", None,
     "Within 120 days of the date of this order, the Secretary of Energy shall issue guidance on testing models.",
     "Our nation leads the world in computing and will keep doing so."),
    ("policy.national_security", "licence", None,
     "You shall not use the Tool for military purposes or to develop chemical weapons.",
     "Artificial intelligence matters for our prosperity and our national security."),
]


@pytest.mark.parametrize("tag,kind,chapeau,positive,negative", CASES, ids=[c[0] for c in CASES])
def test_tag_positive_and_negative(tag, kind, chapeau, positive, negative):
    assert tag in tags_of(positive, kind, chapeau), positive
    assert tag not in tags_of(negative, kind), negative


def test_every_hit_has_evidence_rule_and_score():
    segments = [Segment(0, "1", None, None, CASES[0][3], 0, 1)]
    for hit in tag_segments(segments)[0]:
        assert hit.evidence and hit.rule.startswith(("rule:", "context:")) and 0 < hit.score <= 1


# ---------------------------------------------------------------- more phrasings of each form

PHRASINGS = [
    # grants in their classic forms
    ("Permission is hereby given, free of charge, to anyone holding a copy of this program to use, copy, modify, "
     "publish and sell it without restriction.", {"grant.use", "grant.modify", "grant.distribute",
                                                  "grant.commercial"}),
    ("Permission to copy, change and distribute this library for any purpose, with or without a fee, is hereby "
     "granted.", {"grant.use", "grant.modify", "grant.distribute", "grant.commercial"}),
    ("Redistribution and use of this code, with or without modification, are permitted.",
     {"grant.use", "grant.distribute"}),
    ("Permission is granted to anyone to run this package for any purpose, and to alter it and hand it on freely.",
     {"grant.use", "grant.modify", "grant.distribute", "grant.commercial"}),
    ("Anyone is free to copy, change, publish, use or sell this code, for any purpose, commercial or not.",
     {"grant.use", "grant.modify", "grant.distribute", "grant.commercial"}),
    ("You may do whatever you want with this work.",
     {"grant.use", "grant.modify", "grant.distribute", "grant.commercial"}),
    ("You may charge any price or no price for each copy of the program you hand on.",
     {"grant.commercial"}),
    ("Commercial use of the Weights is permitted.", {"grant.commercial"}),
    # weak and file-level copyleft, network copyleft
    ("All copies of these files in source form, including your modifications, must be distributed under this "
     "License.", {"obligation.share_alike"}),
    ("If you ship the program in compiled form, you must also make its source code available to the people you "
     "ship it to.", {"obligation.disclose_source"}),
    ("Your changed version must give every user who interacts with it remotely a way to get the Corresponding "
     "Source.", {"obligation.disclose_source"}),
    ("You must require your users to comply with the same use restrictions.", {"obligation.share_alike"}),
    # notices and change marking
    ("The copyright notice above and this permission text must appear in every copy of the program.",
     {"obligation.attribution"}),
    ("This notice may not be removed from any copy of the files.", {"obligation.attribution"}),
    ("Changed versions must be clearly marked as changed, and must not be passed off as the original.",
     {"obligation.state_changes"}),
    ("You must indicate whether you made changes to the work.", {"obligation.state_changes"}),
    ("Any advertising that mentions the package must display this acknowledgement: made with Acme tools.",
     {"obligation.attribution"}),
    # limits of use
    ("The Tool is licensed solely for evaluation and testing; you may not use it in production.",
     {"restrict.noncommercial"}),
    ("You may use the Weights only for academic research, and for no other purpose.", {"restrict.noncommercial"}),
    ("No use of the outputs may breach any provision of this License.", {"restrict.output_use"}),
    ("Commercial use of the Weights is prohibited.", {"restrict.noncommercial"}),
    ("Any commercial use requires a separate commercial license from Acme.", {"restrict.noncommercial"}),
    ("Products derived from this code may not be called Acme, nor may Acme appear in their name.",
     {"obligation.naming"}),
    ("Any dispute shall be settled only by the courts of Paris.", {"terms.governing_law"}),
    # licensor powers and legal terms
    ("Acme reserves the right to update this Use Policy at any time.", {"licensor.update_terms"}),
    ("Acme reserves the right to suspend use of the service if it is abused.", {"licensor.remote_restriction"}),
    ("Any dispute arising from this Agreement shall be settled by arbitration in Geneva.", {"terms.governing_law"}),
    ("This License shall be construed in accordance with the laws of the Netherlands.", {"terms.governing_law"}),
    ("Neither trademark nor patent rights are licensed under these terms.", {"terms.trademark"}),
    # revenue thresholds written without "separate licence" next to the amount
    ("Organisations with annual revenues of more than EUR 5,000,000 must sign a commercial agreement with the "
     "Licensor before using the Weights.", {"restrict.scale_threshold"}),
    ("This tier is free for anyone with less than USD 1 million in gross revenue per year.",
     {"restrict.scale_threshold"}),
    ("If your yearly revenue exceeds GBP 2,000,000, you need an enterprise licence to keep using the Tool.",
     {"restrict.scale_threshold"}),
    # export-control vocabulary: restricted-party lists, military end users
    ("You may not provide the Weights to anyone named on a restricted party list.",
     {"restrict.geographic", "policy.national_security"}),
    ("The Tool must not be supplied to a military end user.", {"policy.national_security"}),
    # a disclaimer without quotes around "as is"
    ("THE WEIGHTS ARE PROVIDED AS IS, AND YOU USE THEM AT YOUR OWN RISK.", {"terms.warranty_disclaimer"}),
    ("The Tool is offered on an as is basis.", {"terms.warranty_disclaimer"}),
    # a patent licence that ends on litigation, in a clause of its own
    ("Should you bring a patent claim against anyone alleging that the Weights infringe it, every patent "
     "licence you received under these terms is terminated as of the day the claim is filed.",
     {"grant.patent", "terms.termination"}),
]


@pytest.mark.parametrize("text,expected", PHRASINGS, ids=[p[0][:40] for p in PHRASINGS])
def test_phrasings(text, expected):
    assert expected <= tags_of(text), tags_of(text)


# ---------------------------------------------------------------- near misses: the topic, not the tag

NEAR_MISSES = [
    ("grant.commercial", "You may use the Tool, but you may not sell it."),
    ("grant.commercial", "You may use the Tool for any purpose other than commercial purposes."),
    ("grant.commercial", "The Licensor will use commercially reasonable efforts to fix reported bugs."),
    ("grant.commercial", "You may not use the Weights for any purpose that breaks the law."),
    ("grant.commercial", "Redistribution and use of the code, with or without fee, are permitted."),
    ("grant.modify", "You may copy and share the Weights, with or without modifications."),
    ("grant.use", "You may obtain a copy of the terms from our website."),
    ("grant.use", "Everyone is permitted to copy and distribute verbatim copies of this license document."),
    ("licensor.update_terms", "The steward may publish new versions of this License from time to time."),
    ("licensor.update_terms", "No one other than the steward has the right to modify this License."),
    ("licensor.update_terms", "You may not modify the terms of this License."),
    ("licensor.update_terms", "The Licensor may update the Weights from time to time."),
    ("obligation.state_changes", "You may distribute modified files under your own terms."),
    ("obligation.state_changes", "We will note the changes in each new release of the Tool."),
    ("obligation.state_changes", "You must keep all notices in any altered version you distribute."),
    ("terms.governing_law", "Your use of the outputs is governed by the Acceptable Use Policy."),
    ("terms.governing_law", "This License governs how you may use the Weights."),
    ("terms.governing_law", "You must comply with applicable export laws and regulations."),
    ("terms.governing_law", "You must tell recipients that the code is governed by the terms of this License."),
    ("restrict.noncommercial", "You may use the Tool for commercial or non-commercial purposes."),
    ("restrict.noncommercial", "This notice is for information only."),
    ("restrict.noncommercial", "You may collect personal information only with the consent of the person."),
    ("restrict.noncommercial", "If your annual revenue exceeds USD 1,000,000, commercial use requires an "
                               "enterprise license."),
    ("restrict.output_use", "You shall not use the Tool or its outputs to develop weapons."),
    ("restrict.output_use", "If you use outputs to train a model, you must display “Built with Acme”."),
    ("restrict.output_use", "The outputs of the Tool may contain mistakes."),
    ("terms.indemnity", "You may not use the Acme trademarks, and you must defend them from misuse."),
    ("terms.trademark", "You must keep every copyright, patent, trademark and attribution notice."),
    ("terms.trademark", "The licence covers the code (other than patent or trademark rights) and its docs."),
    ("obligation.share_alike", "Any contribution submitted to the Licensor shall be under the terms of this "
                               "License."),
    ("obligation.share_alike", "You are not authorized to exercise any of the rights under this Agreement."),
    ("obligation.share_alike", "Run the test twice under the same conditions."),
    ("policy.transparency", "Deployers shall identify the natural persons affected by the decision."),
    ("restrict.scale_threshold", "You may not use the Tool to generate revenue from advertising."),
    ("restrict.scale_threshold", "Revenue from the sale of merchandise is shared between the parties."),
    ("grant.patent", "This agreement terminates if you breach any of its terms; patents are not mentioned."),
    ("grant.patent", "Upon termination you must stop using the Tool and delete every copy."),
]


@pytest.mark.parametrize("tag,text", NEAR_MISSES, ids=[f"{t}:{x[:30]}" for t, x in NEAR_MISSES])
def test_near_misses_do_not_get_the_tag(tag, text):
    kind = "law" if tag.startswith("policy.") else "licence"
    assert tag not in tags_of(text, kind), text


# ---------------------------------------------------------------- context rulings

def test_items_of_a_use_policy_inherit_prohibited_use_and_keep_their_topics():
    chapeau = "You will not use, or let anyone else use, the Tool to:"
    assert tags_of("Military uses, warfare, nuclear weapons or spying", chapeau=chapeau) == {
        "restrict.prohibited_use", "policy.national_security"}
    assert "restrict.prohibited_use" in tags_of("Break the law or the rights of others, for example to:",
                                                chapeau=chapeau)


def test_item_incorporating_a_policy_is_use_policy_not_prohibited_use():
    tags = tags_of("for the uses restricted by the Acme Use Policy, which is incorporated into this Agreement by "
                   "reference; or", chapeau="You shall not use the Tool:")
    assert tags == {"restrict.use_policy"}


def test_items_of_a_fine_carry_penalty_only():
    chapeau = ("The Commission may impose fines of up to 2 % of annual turnover or EUR 10 000 000 on a provider "
               "that, intentionally or negligently:")
    assert tags_of("did not hand the requested documentation and information to the AI Office;", "law",
                   chapeau) == {"policy.penalty"}


def test_items_of_a_definition_and_of_an_instruction_inherit_the_kind():
    chapeau = "The term “frontier system” means an AI model that could cause serious harm, for example by:"
    assert tags_of("helping people without training to build chemical, biological or nuclear weapons;",
                   "policy", chapeau) == {"policy.definition", "policy.national_security"}
    chapeau = "Within 180 days of the date of this order, the Secretary of Energy shall:"
    assert "policy.recommendation" in tags_of("ask universities and industry for comments;", "policy", chapeau)


def test_item_of_a_list_of_policies_is_a_recommendation():
    chapeau = "The main policies of the plan include:"
    assert tags_of("Speeding up grid connections for new computing centres.", "policy", chapeau) == {
        "policy.recommendation"}


def _item_under_heading(text: str, heading: str, kind: str) -> set[str]:
    segments = [Segment(0, "¶ 1", None, None, CONTEXT[kind], 0, 1),
                Segment(1, f"{heading} > •1", heading, "*", text, 0, 1, depth=1, headings=(heading,)),
                Segment(2, "¶ 2", None, None, "This paragraph has a parent.", 0, 1, parent=0)]
    return {hit.tag for hit in tag_segments(segments)[1]}


def test_list_items_without_a_chapeau_take_the_kind_of_their_heading():
    assert _item_under_heading("Writing spam or malware", "Prohibited Uses", "licence") == {
        "restrict.prohibited_use"}
    assert _item_under_heading("Update the federal testing framework to cover open models.",
                               "Recommended Policy Actions", "policy") == {"policy.recommendation"}
    assert _item_under_heading("Writing spam or malware", "Definitions", "licence") == set()


def test_definitions_keep_only_operative_content():
    assert tags_of("“Terms” means this agreement as amended from time to time, together with the right to "
                   "share the Tool.") == {"policy.definition", "licensor.update_terms"}


def test_reporting_lines_carry_nothing():
    assert tags_of("Reporting breaches of the Use Policy: abuse@example.com") == set()


def test_patent_licence_is_not_a_use_grant_and_ends_on_litigation():
    tags = tags_of("Every contributor hereby grants you a patent license to make, use and sell the Tool. If you "
                   "start patent litigation over the Tool, that patent license shall terminate.")
    assert tags == {"grant.patent", "grant.commercial", "terms.termination"}


def test_trademark_grant_is_not_a_use_grant():
    tags = tags_of("This Agreement grants no trademark licenses. Acme hereby grants you a license to use the name "
                   "“Acme” (the “Mark”) only to say where the Tool comes from.")
    assert tags == {"terms.trademark"}


def test_open_source_exemption_takes_the_topic_of_the_duty_it_lifts():
    texts = ["Providers of models shall:",
             "prepare and keep current technical documentation for each model;",
             "The duties in paragraph 1, point (a), do not apply to providers of models released under a free and "
             "open-source licence that allows the access, usage, modification and distribution of the model. "
             "This exception does not cover models with systemic risks."]
    segments = [Segment(0, "Article 9 > 1", None, "1.", texts[0], 0, 1),
                Segment(1, "Article 9 > 1 > (a)", None, "(a)", texts[1], 0, 1, depth=1, parent=0),
                Segment(2, "Article 9 > 2", None, "2.", texts[2], 0, 1)]
    tags = {hit.tag for hit in tag_segments(segments)[2]}
    assert tags == {"policy.open_source_exemption", "policy.documentation", "policy.systemic_risk",
                    "policy.openness_criteria"}


def test_tag_segments_keeps_order_and_handles_empty_input():
    assert tag_segments([]) == []
    segments = [Segment(i, f"¶ {i}", None, None, text, 0, 1) for i, text in
                enumerate(["The Tool is supplied “AS IS”.", "You will indemnify the Licensor."])]
    result = tag_segments(segments)
    assert [{h.tag for h in hits} for hits in result] == [{"terms.warranty_disclaimer"}, {"terms.indemnity"}]


# ---------------------------------------------------------------- licence families

@pytest.mark.parametrize("text,expected", [
    ("You may convey a covered work in object form as long as you also convey the machine-readable "
     "Corresponding Source under this License.", {"grant.distribute", "obligation.disclose_source"}),
    ("You must license the entire work, as a whole, to anyone who comes to hold a copy.", {"obligation.share_alike"}),
    ("If You Share the Licensed Material, You must give appropriate credit and indicate if You changed it.",
     {"obligation.attribution", "obligation.state_changes"}),
    ("If you and your affiliates earn annual revenue above USD 5,000,000, you must obtain an enterprise license "
     "from Acme.", {"restrict.scale_threshold"}),
    ("Acme reserves the right to change this Use Policy from time to time.", {"licensor.update_terms"}),
    ("The models are commercially usable.", {"grant.commercial"}),
    ("You shall make reasonable efforts to run the latest version of the Weights.",
     {"licensor.remote_restriction"}),
    ("You shall only use the Weights, their derivatives and outputs for Research Purposes.",
     {"restrict.noncommercial"}),
    ("Acme grants You a worldwide, revocable license to use, copy, share and make Derivative Works of the Weights "
     "for any Research, Non-Commercial or Commercial Purpose.",
     {"grant.use", "grant.distribute", "grant.modify", "grant.commercial"}),
    ("You will not use the Weights, or any output of the Weights, to create or improve any foundation model.",
     {"restrict.output_use"}),
    ("The Use Policy may be updated from time to time.", {"licensor.update_terms"}),
    ("This License (as amended by written agreement of both parties, the “License”) covers the Tool.", set()),
])
def test_clauses_of_other_licence_families(text, expected):
    assert tags_of(text) == expected


def test_cited_licence_names_are_not_the_clause_terms():
    tags = tags_of("By using the Licensed Material, You accept the terms of the Creative Commons "
                   "Attribution-NonCommercial-ShareAlike 4.0 International Public License.")
    assert not tags & {"restrict.noncommercial", "obligation.share_alike"}


def test_items_of_a_grant_list_are_granted_acts():
    chapeau = "Acme hereby grants You a worldwide, royalty-free license to exercise the Licensed Rights to:"
    assert tags_of("produce, reproduce, and Share Adapted Material for NonCommercial purposes only.",
                   chapeau=chapeau) == {"grant.use", "grant.modify", "grant.distribute", "restrict.noncommercial"}
    conditions = "You may hand on copies of the Tool, as long as You meet these conditions:"
    assert tags_of("You must keep, in every derivative you distribute, all copyright notices.",
                   chapeau=conditions) == {"obligation.attribution"}


@pytest.mark.parametrize("kind,text,expected", [
    ("law", "Providers shall label generated content such as images, audio and video.", {"policy.transparency"}),
    ("law", "Member States shall set the rules on penalties, which shall be effective, proportionate and "
            "dissuasive.", {"policy.penalty"}),
    ("law", "Deployers shall inform the natural persons concerned that they are interacting with an AI system.",
     {"policy.transparency"}),
    ("law", "Before January 1, 2030, a developer shall publish its safety protocol.", {"policy.timeline"}),
    ("law", "On and after July 1, 2028, the threshold shall be adjusted each year.", {"policy.timeline"}),
    ("policy", "Within 60 days, the Secretary of Energy shall report to the President.", {"policy.recommendation"}),
    ("policy", "We recommend that Congress require developers of frontier models to publish safety protocols.",
     {"policy.recommendation", "policy.systemic_risk"}),
    ("policy", "Our country must stay ahead in computing to protect its economy and its national security.", set()),
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
    assert is_open_relevant(_clause("whose parameters, weights included, are made publicly available"))
    assert is_open_relevant(_clause("x", tags=["policy.openness_criteria"]))
    assert is_open_relevant(_clause("Licensed under the Apache License, Version 2.0.",
                                    entities=[Entity("LICENSE_REF", "Apache License, Version 2.0", "Apache-2.0",
                                                     0, 10)]))
    assert not is_open_relevant(_clause("This Agreement is governed by the laws of Ontario."))
    assert not is_open_relevant(_clause("Providers shall keep logs for six months."))


def test_a_revenue_test_in_a_law_is_not_a_licence_threshold():
    # in a statute, revenue decides who a duty applies to; no licensee loses rights above it
    law = ("A covered developer means a person that, together with its affiliates, had annual gross revenues in "
           "excess of USD 500,000,000 in the preceding calendar year.")
    assert "restrict.scale_threshold" not in tags_of(law, "law")
    assert "restrict.scale_threshold" in tags_of(law.replace("A covered developer means a person that",
                                                             "This free licence is not available to a person that"))


def test_an_item_under_a_prohibition_about_outputs_is_an_output_restriction():
    chapeau = "Recipients must not:"
    assert tags_of("rely on the Tool's results to build a rival foundation model;", chapeau=chapeau) >= {
        "restrict.prohibited_use", "restrict.output_use"}
    assert tags_of("use the generated content to fine-tune other models;", chapeau=chapeau) >= {
        "restrict.prohibited_use", "restrict.output_use"}
    # an item about outputs that bans something else, and an item that only names models
    assert "restrict.output_use" not in tags_of("publish outputs that defame a person;", chapeau=chapeau)
    assert "restrict.output_use" not in tags_of("train a model to track people;", chapeau=chapeau)
