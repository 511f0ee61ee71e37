"""The clause aligner and the cosmetic/substantive judgement, on small handwritten pairs.

One pair per cosmetic kind (the change must be found cosmetic, with that reason) and one per
substantive kind. Clauses are built by hand, so these tests do not depend on the segmenter.
"""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clausewatch.changes import compare, word_diff
from clausewatch.changes.cosmetic import canonical_spelling, doc_context, key_tokens
from clausewatch.changes.judge import edit_distance
from clausewatch.nlp.model import Clause, Entity, Segment, TagHit

LICENSE = [
    ("¶ 1", "ACME 2.0 COMMUNITY LICENSE AGREEMENT"),
    ("¶ 2", "ACME 2.0 Version Release Date: July 23, 2024"),
    ("1.a", "Grant of Rights. You are granted a non-exclusive, worldwide, non-transferable and royalty-free "
            "limited license to use, reproduce, distribute, copy, create derivative works of, and make "
            "modifications to the ACME Materials."),
    ("1.b", "You must retain the following attribution notice: “ACME 2.0 is licensed under the ACME 2.0 "
            "Community License.”"),
    ("2", "Additional Commercial Terms. If the monthly active users of your products is greater than 700 "
          "million monthly active users, you must request a license from us."),
    ("3", "Disclaimer of Warranty. THE MATERIALS ARE PROVIDED ON AN “AS IS” BASIS, WITHOUT WARRANTIES OF "
          "ANY KIND."),
    ("4", "Governing Law. This Agreement will be governed by the laws of the State of California, see "
          "https://acme.example.com/legal/terms for details."),
]


def make(items, tags=None, entities=None) -> list[Clause]:
    """Clauses from (path, text) pairs (or bare texts); ``tags``/``entities`` keyed by position."""
    out = []
    for k, item in enumerate(items):
        path, text = item if isinstance(item, tuple) else (f"¶ {k + 1}", item)
        label = path if path[:1].isdigit() or path.startswith("(") else None
        seg = Segment(ordinal=k, path=path, heading=None, label=label, text=" ".join(text.split()),
                      start=0, end=len(text))
        clause = Clause(seg)
        clause.tags = [TagHit(t, 1.0, "", "test") for t in (tags or {}).get(k, [])]
        clause.entities = [Entity(t, str(v), v, 0, 0) for t, v in (entities or {}).get(k, [])]
        out.append(clause)
    return out


def edited(items, index: int, text: str):
    out = list(items)
    out[index] = (out[index][0], text)
    return out


def only(changes):
    assert len(changes) == 1, [(c.kind, c.old_path, c.new_path, c.cosmetic_reasons) for c in changes]
    return changes[0]


def assert_cosmetic(old_items, new_items, reason: str | None = None):
    changes = compare(make(old_items), make(new_items))
    assert changes, "a textual difference must be reported (as cosmetic)"
    substantive = [(c.old_text, c.new_text) for c in changes if c.substantive]
    assert not substantive, substantive
    if reason:
        assert any(reason in c.cosmetic_reasons for c in changes), [c.cosmetic_reasons for c in changes]
    return changes


def assert_substantive(old_items, new_items):
    changes = compare(make(old_items), make(new_items))
    found = [c for c in changes if c.substantive]
    assert found, [(c.kind, c.cosmetic_reasons) for c in changes]
    return found


# ------------------------------------------------------------------ identity and structure

def test_identical_documents_have_no_changes():
    assert compare(make(LICENSE), make(LICENSE)) == []


def test_renumbered_in_place_is_not_a_change():
    renumbered = [(f"{k + 1}.", text) for k, (_, text) in enumerate(LICENSE)]
    assert compare(make(LICENSE), make(renumbered)) == []


def test_change_fields_and_json_keys():
    new = edited(LICENSE, 4, LICENSE[4][1].replace("700 million", "500 million"))
    change = only(compare(make(LICENSE, entities={4: [("USER_THRESHOLD", 700000000)]}),
                      make(new, entities={4: [("USER_THRESHOLD", 500000000)]})))
    assert change.kind == "modified" and change.substantive
    assert change.old_path == change.new_path == "2"
    assert change.entity_changes == [{"type": "USER_THRESHOLD", "old": 700000000, "new": 500000000}]
    assert ("delete", "700") in change.word_diff and ("insert", "500") in change.word_diff
    data = change.to_json()
    assert {"kind", "old_path", "new_path", "old_text", "new_text", "substantive", "cosmetic_reasons",
            "tags_added", "tags_removed", "entity_changes"} <= set(data)


def test_tag_deltas():
    new = edited(LICENSE, 2, LICENSE[2][1] + " You may not use outputs to improve other models.")
    change = only(compare(make(LICENSE, tags={2: ["grant.use"]}),
                          make(new, tags={2: ["grant.use", "restrict.output_use"]})))
    assert change.tags_added == ["restrict.output_use"] and change.tags_removed == []


def test_word_diff_ops():
    assert word_diff("you may use it", "you must not use it") == [
        ("equal", "you"), ("delete", "may"), ("insert", "must not"), ("equal", "use it")]


# ------------------------------------------------------------------ cosmetic kinds

def test_whitespace_and_hard_wrap():
    wrapped = edited(LICENSE, 2, LICENSE[2][1].replace(" to use,", "\n    to use,").replace(" copy,", "  copy,"))
    assert compare(make(LICENSE), make(wrapped)) == []   # clause text is whitespace-collapsed


def test_paragraph_split_is_whitespace():
    text = LICENSE[4][1]
    first, second = text.split(", you must")
    split = LICENSE[:4] + [("2", first + ","), ("¶ 6", "you must" + second)] + LICENSE[5:]
    change = only(assert_cosmetic(LICENSE, split))
    assert change.old_path == "2" and change.new_path == "2 + ¶ 6"


def test_case():
    new = edited(LICENSE, 5, "Disclaimer of Warranty. The Materials are provided on an “as is” basis, without "
                             "warranties of any kind.")
    assert only(assert_cosmetic(LICENSE, new, "case")).kind == "modified"


def test_punctuation():
    new = edited(LICENSE, 2, LICENSE[2][1].replace("non-transferable and", "non-transferable, and")
                 .replace("Grant of Rights.", "Grant of Rights:"))
    assert_cosmetic(LICENSE, new, "punctuation")


def test_quote_styles():
    new = edited(LICENSE, 5, LICENSE[5][1].replace("“AS IS”", '"AS IS"'))
    assert_cosmetic(LICENSE, new, "quotes")


def test_markdown():
    new = edited(LICENSE, 4, "**Additional Commercial Terms.** If the monthly active users of your products is "
                             "greater than `700 million` monthly active users, you must request a license from us.")
    assert_cosmetic(LICENSE, new, "markdown")


def test_markdown_link_and_escapes():
    old = [("1", "See the [policy](https://example.com/policy) before use.")]
    new = [("1", r"See the policy (https://example.com/policy) before use\.")]
    assert_cosmetic(old, new)


def test_bullets():
    old = [("¶ 1", "You agree not to:"), ("¶ 2", "* harm minors; • deceive people")]
    new = [("¶ 1", "You agree not to:"), ("¶ 2", "- harm minors; ▪ deceive people")]
    assert_cosmetic(old, new, "bullets")


def test_numbering_dropped_run_on_paragraph():
    old = [("1", "License Rights and Redistribution."),
           ("1.a", "Grant of Rights. You may use and copy the Materials."),
           ("1.b", "Redistribution. You may share the Materials with a copy of this Agreement.")]
    new = [("¶ 1", "1. License Rights and Redistribution. a. Grant of Rights. You may use and copy the "
                   "Materials. b. Redistribution. You may share the Materials with a copy of this Agreement.")]
    change = only(assert_cosmetic(old, new, "numbering"))
    assert change.old_path == "1 + 1.a + 1.b"


def test_numbering_added_inline():
    old = [("¶ 1", "Definitions. Materials means the model.")]
    new = [("¶ 1", "1. Definitions. Materials means the model.")]
    assert_cosmetic(old, new, "numbering")


def test_renumbered_and_reordered_labels_only():
    old = [("Section 4.2", "The licensee shall keep records."), ("Section 4.3", "The licensor may audit them.")]
    new = [("Section 5.2", "The licensee shall keep records."), ("Section 5.3", "The licensor may audit them.")]
    assert compare(make(old), make(new)) == []


def test_spelling_variant():
    new = edited(LICENSE, 4, LICENSE[4][1].replace("a license from us", "a licence from us"))
    assert_cosmetic(LICENSE, new, "spelling")


def test_typo_fixed():
    old = [("¶ 1", "You will indemnify and hold armless the Licensor from any claim.")]
    new = [("¶ 1", "You will indemnify and hold harmless the Licensor from any claim.")]
    assert_cosmetic(old, new, "typo")


def test_duplicated_word_removed():
    new = edited(LICENSE, 5, LICENSE[5][1].replace("WITHOUT WARRANTIES", "WITHOUT WITHOUT WARRANTIES"))
    assert_cosmetic(new, LICENSE, "repeated_word")


def test_url_changed():
    new = edited(LICENSE, 6, LICENSE[6][1].replace("https://acme.example.com/legal/terms",
                                                   "https://www.acme.example.org/terms-of-use"))
    assert_cosmetic(LICENSE, new, "urls")


def test_release_version_and_date():
    new = [(p, t.replace("ACME 2.0", "ACME 2.1").replace("July 23, 2024", "September 25, 2024")) for p, t in LICENSE]
    changes = assert_cosmetic(LICENSE, new)
    reasons = {r for c in changes for r in c.cosmetic_reasons}
    assert {"release_version", "release_date"} <= reasons


def test_release_name_mentioned_without_number():
    new = [(p, t.replace("ACME 2.0", "ACME 2.1")) for p, t in LICENSE]
    new = edited(new, 2, LICENSE[2][1].replace("the ACME Materials", "the ACME 2.1 Materials"))
    assert_cosmetic(LICENSE, new, "release_version")


def test_cross_references_follow_renumbering():
    old = [("Section 1", "Definitions. Model means the weights."),
           ("Section 2", "Grant. You may use the Model subject to Section 3."),
           ("Section 3", "Restrictions. You may not use the Model for weapons."),
           ("Section 4", "Termination. Sections 2 and 3 survive termination of this Agreement.")]
    new = [("Section 1", "Definitions. Model means the weights."),
           ("Section 2", "Attribution. You must keep the copyright notice in every copy you distribute."),
           ("Section 3", "Grant. You may use the Model subject to Section 4."),
           ("Section 4", "Restrictions. You may not use the Model for weapons."),
           ("Section 5", "Termination. Sections 3 and 4 survive termination of this Agreement.")]
    changes = compare(make(old), make(new))
    assert [c.kind for c in changes if c.substantive] == ["added"]
    assert {"numbering"} <= {r for c in changes for r in c.cosmetic_reasons}


def test_number_changed_outside_a_reference_stays_substantive():
    old = [("Section 1", "Definitions. Model means the weights."), ("Section 2", "Notice. Give 3 days notice.")]
    new = [("Section 1", "Definitions. Model means the weights."), ("Section 2", "Scope. This covers the Model."),
           ("Section 3", "Notice. Give 4 days notice.")]
    assert [c.kind for c in assert_substantive(old, new)] == ["added", "modified"]


def test_release_name_attached_to_its_number():
    old = [("¶ 1", "Qwen2 LICENSE AGREEMENT"), ("1", "Qwen2 may be used by anyone who accepts this Agreement.")]
    new = [("¶ 1", "Qwen2.5 LICENSE AGREEMENT"), ("1", "Qwen2.5 may be used by anyone who accepts this Agreement.")]
    assert_cosmetic(old, new, "release_version")


def test_last_updated_line_at_the_end():
    old = [*LICENSE, ("¶ 9", "Last updated: March 1, 2024")]
    new = [*LICENSE, ("¶ 9", "Last updated: May 2, 2025")]
    assert_cosmetic(old, new, "release_date")


def test_template_placeholder_filled():
    old = LICENSE + [("¶ 9", "This licence is granted by [name of licensor] to you.")]
    new = LICENSE + [("¶ 9", "This licence is granted by Acme Corp to you.")]
    assert_cosmetic(old, new, "placeholder")
    old = LICENSE + [("¶ 9", "Copyright [yyyy] [name of copyright owner]")]
    new = LICENSE + [("¶ 9", "Copyright 2025 Acme Corp")]
    assert_cosmetic(old, new, "copyright_holder")


def test_moved_without_change():
    moved = [LICENSE[0], LICENSE[1], LICENSE[2], LICENSE[3], LICENSE[5], LICENSE[6], LICENSE[4]]
    change = only(assert_cosmetic(LICENSE, moved, "moved"))
    assert change.kind == "moved"


def test_moved_and_renumbered_section_is_cosmetic():
    old = [("1", "Scope. This policy covers the model."), ("2", "Definitions. Model means the weights."),
           ("3", "Audits. We may audit your use once a year."), ("4", "Contact. Write to the licensor.")]
    new = [("1", "Scope. This policy covers the model."), ("2", "Audits. We may audit your use once a year."),
           ("3", "Definitions. Model means the weights."), ("4", "Contact. Write to the licensor.")]
    changes = compare(make(old), make(new))
    assert changes and all(not c.substantive and c.kind == "moved" for c in changes)


def test_article_added_for_grammar():
    old = [("¶ 1", "Any claim alleging that the Materials constitute infringement of rights ends this licence.")]
    new = [("¶ 1", "Any claim alleging that the Materials constitute an infringement of rights ends this licence.")]
    assert_cosmetic(old, new, "typo")


# ------------------------------------------------------------------ layout of renderings (HTML, PDF, Formex)

def test_footnote_call_with_link():
    old = [("¶ 1", "Having regard to the opinion of the Committee of the Regions (3) "
                   "(https://eur-lex.example/doc#ntr3-E0003),")]
    new = [("¶ 1", "Having regard to the opinion of the Committee of the Regions,")]
    assert_cosmetic(old, new, "urls")


def test_list_printed_as_table():
    old = [("¶ 1", "| (d) | harmonised transparency rules for certain AI systems; |")]
    new = [("(d)", "harmonised transparency rules for certain AI systems;")]
    assert_cosmetic(old, new, "markdown")


def test_pdf_url_broken_over_lines():
    old = [("¶ 1", "(OJ L, 2024/1689, ELI: http://data.europa. eu/eli/reg/2024/1689/oj).")]
    new = [("¶ 1", "(OJ L, 2024/1689, ELI: http://data.europa.eu/eli/reg/2024/1689/oj).")]
    assert_cosmetic(old, new, "urls")


def test_masthead_and_colophon_lines():
    body = [("1", "Providers shall draw up technical documentation of the model and keep it up to date."),
            ("2", "Providers shall put in place a policy to comply with Union law on copyright and related "
                  "rights, and in particular to identify and comply with reservations of rights.")]
    old = [("¶ 1", "Official Journal of the European Union"), ("¶ 2", "EN L series"), *body,
           ("¶ 5", "ISSN 1977-0677 (electronic edition)")]
    changes = assert_cosmetic(old, body)
    assert {r for c in changes for r in c.cosmetic_reasons} == {"header", "footer"}


def test_closing_sentence_is_not_a_colophon():
    body = [("1", "Providers shall draw up technical documentation of the model and keep it up to date."),
            ("2", "Providers shall put in place a policy to comply with Union law on copyright and related "
                  "rights, and in particular to identify and comply with reservations of rights.")]
    assert_substantive(body + [("3", "This Agreement is governed by Irish law.")], body)


def test_heading_printed_as_paragraph():
    old = make([("¶ 1", "Article 78"), ("1", "Notified bodies shall safeguard the confidentiality of information.")])
    new = make([("1", "Notified bodies shall safeguard the confidentiality of information.")])
    new[0].segment.headings = ("Article 78",)
    change = only(compare(old, new))
    assert change.kind == "removed" and not change.substantive and change.cosmetic_reasons == ["markdown"]


def test_heading_words_at_the_edge_of_a_clause():
    old_text = "# Article 78\n\nNotified bodies shall safeguard the information they obtain, in accordance with"
    old = [("1", "Notified bodies shall safeguard the information they obtain, in accordance with")]
    new = [("1", "Notified bodies shall safeguard the information they obtain, in accordance with Article 78.")]
    changes = compare(make(old), make(new), old_text=old_text)
    assert changes and not any(c.substantive for c in changes)


def test_several_headings_run_into_a_clause():
    old_text = "## Section 1: DEFINITIONS\n\n### 1.1 Definitions\n\n(a) \"Agreement\" means these terms."
    old = [("(a)", '"Agreement" means these terms.')]
    new = [("¶ 1", 'DEFINITIONS 1.1 Definitions (a) "Agreement" means these terms.')]
    changes = compare(make(old), make(new), old_text=old_text)
    assert changes and not any(c.substantive for c in changes)


def test_words_at_the_edge_that_are_not_headings_stay_substantive():
    old_text = "## Section 1: DEFINITIONS\n\n(a) \"Agreement\" means these terms."
    old = [("(a)", '"Agreement" means these terms.')]
    new = [("(a)", 'Except in the EU, "Agreement" means these terms.')]
    assert any(c.substantive for c in compare(make(old), make(new), old_text=old_text))


def test_merged_clauses_keep_their_numbers_inline():
    old = [("1.1", "The Licensor grants you the rights below."), ("1.2", "As used here, including means without limit.")]
    merged = [("¶ 1", "The Licensor grants you the rights below. 1.2 As used here, including means without limit.")]
    changes = compare(make(old), make(merged))
    assert changes and not any(c.substantive for c in changes)
    padded = [("¶ 1", "The Licensor grants you the rights below. 1.3 As used here, including means without limit.")]
    assert any(c.substantive for c in compare(make(old), make(padded)))


def test_repeated_copy_of_an_existing_clause():
    note = "Regulation (EU) 2024/1689 of the European Parliament and of the Council (OJ L, 2024/1689)."
    old = LICENSE[:3] + [("n1", note)] + LICENSE[3:]
    new = LICENSE[:3] + [("n1", note)] + LICENSE[3:5] + [("n2", note)] + LICENSE[5:]
    assert only(assert_cosmetic(old, new, "duplicate")).kind == "added"


def test_text_split_around_a_list():
    chapeau = "A detailed description of the elements of the model, including the following elements:"
    note = "Where the energy consumption of the model is unknown, it may be estimated from the compute used."
    items = [("(a)", "the tasks the model is intended to perform;"), ("(b)", "the architecture and parameters;"),
             ("(c)", "the training methodologies and techniques;")]
    old = [("2", chapeau + " " + note), *items]
    new = [("2", chapeau), *items, ("2 > ¶2", note)]
    changes = compare(make(old), make(new))
    assert changes and not any(c.substantive for c in changes), [(c.kind, c.cosmetic_reasons) for c in changes]


def test_real_sentence_removed_from_a_clause_is_substantive():
    old = [("1", "You may use the model. You may not use outputs to train other models.")]
    new = [("1", "You may use the model.")]
    assert_substantive(old, new)


# ------------------------------------------------------------------ substantive kinds

@pytest.mark.parametrize("before,after", [
    ("you must request a license from us", "you may request a license from us"),       # modal
    ("you must request a license from us", "you must not request a license from us"),  # negation
    ("you must request a license from us", "you must request a license from Acme"),    # a party
])
def test_word_that_changes_a_right(before, after):
    new = edited(LICENSE, 4, LICENSE[4][1].replace(before, after))
    change = only(assert_substantive(LICENSE, new))
    assert change.kind == "modified"


def test_threshold_number():
    new = edited(LICENSE, 4, LICENSE[4][1].replace("700 million", "70 million"))
    assert only(assert_substantive(LICENSE, new)).kind == "modified"


def test_licensor_licensee_is_not_a_typo():
    old = [("¶ 1", "The licensor may terminate this agreement.")]
    new = [("¶ 1", "The licensee may terminate this agreement.")]
    assert_substantive(old, new)


def test_plural_is_not_a_typo():
    old = [("¶ 1", "You may use the model for research.")]
    new = [("¶ 1", "You may use the models for research.")]
    assert_substantive(old, new)


def test_added_clause():
    new = LICENSE[:5] + [("2.a", "You will not use the ACME Materials to improve any other large language model.")] \
        + LICENSE[5:]
    change = only(assert_substantive(LICENSE, new))
    assert change.kind == "added" and change.old_text is None and change.new_path == "2.a"


def test_removed_clause():
    new = LICENSE[:3] + LICENSE[4:]
    change = only(assert_substantive(LICENSE, new))
    assert change.kind == "removed" and change.new_text is None and change.old_path == "1.b"


def test_added_clause_without_words_is_cosmetic():
    new = LICENSE + [("¶ 9", "https://acme.example.com/")]
    assert only(assert_cosmetic(LICENSE, new, "urls")).kind == "added"


def test_moved_and_changed():
    moved = [LICENSE[0], LICENSE[1], LICENSE[2], LICENSE[3], LICENSE[5], LICENSE[6],
             ("5", LICENSE[4][1].replace("700 million", "900 million"))]
    change = only(assert_substantive(LICENSE, moved))
    assert change.kind == "moved" and "moved" in change.cosmetic_reasons


def test_date_that_is_not_the_release_date():
    old = LICENSE + [("5", "This Agreement applies from 2 August 2026.")]
    new = LICENSE + [("5", "This Agreement applies from 2 August 2027.")]
    assert_substantive(old, new)


def test_quoted_name_in_attribution_is_a_literal():
    old = LICENSE + [("6", "You shall prominently display “Built with ACME 2.0” on your website.")]
    new = LICENSE + [("6", "You shall prominently display “Built with ACME” on your website.")]
    assert_substantive(old, new)


def test_reworded_clause_in_place():
    new = edited(LICENSE, 6, "Governing Law. This Agreement is governed by the laws of Ireland and the courts "
                             "of Dublin have exclusive jurisdiction.")
    assert only(assert_substantive(LICENSE, new)).kind == "modified"


def test_sentence_removed_from_clause():
    new = edited(LICENSE, 2, LICENSE[2][1].replace(", create derivative works of, and make modifications to",
                                                   " and distribute"))
    assert only(assert_substantive(LICENSE, new)).kind == "modified"


# ------------------------------------------------------------------ helpers and properties

def test_key_tokens_and_context():
    ctx = doc_context(["Meta Llama 3 Version Release Date: April 18, 2024"])
    assert {"meta llama 3", "llama 3"} <= set(ctx.release_names)
    assert "2024-04-18" in ctx.release_dates
    a = key_tokens("“Built with Meta Llama 3” at https://x.com/y on April 18, 2024.", ctx)
    b = key_tokens('"BUILT WITH META LLAMA 3" at www.z.org on April 18, 2024', ctx)
    assert a == b


def test_spelling_and_distance():
    assert canonical_spelling("licence") == canonical_spelling("license")
    assert canonical_spelling("organisation") == canonical_spelling("organization")
    assert canonical_spelling("behaviour") == canonical_spelling("behavior")
    assert edit_distance("armless", "harmless") == 1
    assert edit_distance("form", "from") == 1


words = st.sampled_from("you may use copy the model materials must not license licensor any 700 million "
                        "users and or".split())
clause_text = st.lists(words, min_size=1, max_size=12).map(" ".join)


@settings(max_examples=60, deadline=None)
@given(st.lists(clause_text, min_size=1, max_size=8))
def test_property_same_text_no_change(texts):
    assert compare(make(texts), make(texts)) == []


@settings(max_examples=60, deadline=None)
@given(st.lists(clause_text, min_size=1, max_size=8))
def test_property_cosmetic_rewrites_are_never_substantive(texts):
    styled = [t.upper().replace(" ", "  ") + "." for t in texts]
    assert not any(c.substantive for c in compare(make(texts), make(styled)))


@settings(max_examples=80, deadline=None)
@given(st.lists(st.text(min_size=0, max_size=80), max_size=6), st.lists(st.text(min_size=0, max_size=80), max_size=6))
def test_property_any_text_compares_without_error(old, new):
    changes = compare(make(old), make(new))
    assert all(c.kind in {"added", "removed", "modified", "moved"} for c in changes)
    assert compare(make(new), make(new)) == []


def test_empty_documents():
    assert compare([], []) == []
    assert [c.kind for c in compare([], make(LICENSE[:2]))] == ["added", "added"]
    assert [c.kind for c in compare(make(LICENSE[2:4]), [])] == ["removed", "removed"]
