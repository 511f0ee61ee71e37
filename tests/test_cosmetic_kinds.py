"""Cosmetic by rule: one pair per cosmetic kind (found cosmetic, with its reason), and the cases that must
stay substantive however much they look like noise: list items and table rows, negations, numbers,
amounts, parties, a date that is not the document's own. Texts written for these tests."""
from __future__ import annotations

import pytest

from clausewatch.changes import compare
from clausewatch.changes.cosmetic import canonical_dates, canonical_url, is_copyright_notice
from tests.test_align import LICENSE, assert_cosmetic, assert_substantive, edited, make, only

TERMS = [
    ("¶ 1", "Terms of Use"),
    ("¶ 2", "Updated 5 days ago"),
    ("1", "Acceptance. By using the Services you agree to these Terms and to our Privacy Policy "
          "(https://example.com/privacy). If you do not agree, you must not use the Services."),
    ("2", "Fees. Paid plans cost $20 per month and renew automatically until you cancel them in your account "
          "settings; we will give you 30 days notice of any change in price."),
    ("3", "Changes. We may change these Terms from time to time. Changes apply from August 28, 2025 or from "
          "the date we tell you, whichever is later."),
    ("4", "Contact. Questions about these Terms can be sent to our support team through the help centre at "
          "https://help.example.com/contact."),
    ("5", "Governing law. These Terms are governed by the laws of Ireland, and the courts of Dublin have "
          "exclusive jurisdiction over any dispute arising from them or from the Services."),
]


def reasons_of(changes) -> set[str]:
    return {r for c in changes for r in c.cosmetic_reasons}


# ------------------------------------------------------------------ relative dates

@pytest.mark.parametrize("stamp", ["Updated 3 weeks ago", "Updated yesterday", "Updated just now",
                                   "Updated about 2 months ago"])
def test_relative_date_of_the_page(stamp):
    assert_cosmetic(TERMS, edited(TERMS, 1, stamp), "relative_date")


def test_relative_date_inside_a_clause_after_an_update_word():
    old = [*TERMS, ("¶ 9", "This page was last edited 2 hours ago by the legal team.")]
    new = [*TERMS, ("¶ 9", "This page was last edited 6 days ago by the legal team.")]
    assert_cosmetic(old, new, "relative_date")


def test_reading_time_counter():
    old = [*TERMS[:1], ("¶ 2", "Updated 5 days ago · 4 min read"), *TERMS[2:]]
    new = [*TERMS[:1], ("¶ 2", "Updated 2 weeks ago · 5 min read"), *TERMS[2:]]
    assert_cosmetic(old, new, "relative_date")


def test_a_period_counted_back_is_a_term_not_a_stamp():
    old = [*TERMS, ("5", "Retention. We delete conversations that were created more than 30 days ago unless "
                         "you ask us to keep them for a legal claim.")]
    new = [*TERMS, ("5", "Retention. We delete conversations that were created more than 90 days ago unless "
                         "you ask us to keep them for a legal claim.")]
    assert_substantive(old, new)


# ------------------------------------------------------------------ date formats

@pytest.mark.parametrize("written", ["28 August 2025", "2025-08-28", "28/08/2025", "Thursday, August 28, 2025",
                                     "Aug. 28, 2025", "the 28th of August 2025", "08/28/2025"])
def test_same_date_written_another_way(written):
    new = edited(TERMS, 4, TERMS[4][1].replace("August 28, 2025", written))
    assert_cosmetic(TERMS, new, "date_format")


def test_numeric_date_with_two_readings_matches_either():
    old = edited(TERMS, 4, TERMS[4][1].replace("August 28, 2025", "September 8, 2025"))
    assert_cosmetic(old, edited(TERMS, 4, TERMS[4][1].replace("August 28, 2025", "08/09/2025")), "date_format")
    assert_cosmetic(old, edited(TERMS, 4, TERMS[4][1].replace("August 28, 2025", "09/08/2025")), "date_format")
    assert_substantive(old, edited(TERMS, 4, TERMS[4][1].replace("August 28, 2025", "08/10/2025")))


def test_another_date_stays_substantive():
    assert_substantive(TERMS, edited(TERMS, 4, TERMS[4][1].replace("August 28, 2025", "29 August 2025")))


def test_canonical_dates():
    assert canonical_dates("on 2025-08-28") == canonical_dates("on August 28, 2025")
    assert "|" in canonical_dates("on 08/09/2025") and "|" not in canonical_dates("on 13/09/2025")
    assert canonical_dates("Regulation 2024/1689") == "Regulation 2024/1689"


# ------------------------------------------------------------------ links

@pytest.mark.parametrize("url", [
    "https://example.com/privacy?utm_source=newsletter&utm_medium=email",
    "http://www.example.com/privacy/",
    "https://example.com/privacy?fbclid=IwAR0abc&gclid=xyz",
    "https://example.com/privacy;jsessionid=0A1B2C3D",
    "https://EXAMPLE.com/privacy?ref=footer",
])
def test_link_with_tracking_parameters(url):
    new = edited(TERMS, 2, TERMS[2][1].replace("https://example.com/privacy", url))
    assert_cosmetic(TERMS, new, "url_tracking")


def test_link_whose_only_change_is_its_url():
    old = [("1", "Read our [Privacy Policy](https://example.com/legal/privacy) before you sign up.")]
    new = [("1", "Read our [Privacy Policy](https://example.com/policies/privacy-policy) before you sign up.")]
    assert_cosmetic(old, new, "urls")


def test_link_text_changed_is_substantive():
    old = [("1", "Read our [Privacy Policy](https://example.com/privacy) before you sign up.")]
    new = [("1", "Read our [Cookie Policy](https://example.com/privacy) before you sign up.")]
    assert_substantive(old, new)


def test_canonical_url_keeps_the_page():
    assert canonical_url("https://x.org/a?id=3&utm_campaign=y") == "https://x.org/a?id=3"
    assert canonical_url("https://x.org/a?id=3") != canonical_url("https://x.org/a?id=4")


# ------------------------------------------------------------------ typos, repeated words, case

def test_typo_fixed():
    old = edited(TERMS, 3, TERMS[3][1].replace("Paid plans", "Paid plnas"))
    assert_cosmetic(old, TERMS, "typo")


def test_stray_repeated_word():
    old = edited(TERMS, 2, TERMS[2][1].replace("to our Privacy", "to the the our Privacy").replace("the the our",
                                                                                                 "our our"))
    assert_cosmetic(old, TERMS, "repeated_word")


def test_case_only():
    new = edited(TERMS, 6, TERMS[6][1].upper())
    assert_cosmetic(TERMS, new, "case")


# ------------------------------------------------------------------ numbering and re-layout

def test_clause_split_merged_and_renumbered_with_the_same_words():
    first, second = TERMS[3][1].split("; ")
    split = [*TERMS[:3], ("2.1", first + ";"), ("2.2", second), *TERMS[4:]]
    assert_cosmetic(TERMS, split)
    merged = [*TERMS[:3], ("2", TERMS[3][1] + " " + TERMS[4][1]), *TERMS[5:]]
    assert_cosmetic(TERMS, merged)
    renumbered = [(f"Section {k}", text) if k > 1 else (p, text) for k, (p, text) in enumerate(TERMS)]
    assert compare(make(TERMS), make(renumbered)) == []


# ------------------------------------------------------------------ copyright notice and version lines

def test_copyright_holder_line():
    old = [("¶ 1", "MIT License"), ("¶ 2", "Copyright (c) 2023 Example Labs"), *LICENSE[2:]]
    new = [("¶ 1", "MIT License"), ("¶ 2", "Copyright (c) 2026 Other Corp. All rights reserved."), *LICENSE[2:]]
    assert_cosmetic(old, new, "copyright_holder")
    extra = [*old[:2], ("¶ 3", "Copyright 2024 Third Party, Inc."), *old[2:]]
    assert_cosmetic(old, extra, "copyright_holder")


def test_a_sentence_about_copyright_is_not_a_notice():
    assert is_copyright_notice("Copyright (c) Meta Platforms, Inc. and affiliates.")
    assert not is_copyright_notice("Copyright (c) 2023 Example Labs. You may not use this file except under "
                                   "the terms of this licence.")
    old = [*LICENSE, ("5", "Copyright notices. You must keep the copyright notices of the Materials.")]
    new = [*LICENSE, ("5", "Copyright notices. You may remove the copyright notices of the Materials.")]
    assert_substantive(old, new)


def test_version_date_line_relabelled():
    old = [("¶ 1", "ACME 3.3 COMMUNITY LICENSE AGREEMENT"), ("¶ 2", "ACME 3.3 Version Release Date: December 6, 2024"),
           *LICENSE[2:]]
    new = [("¶ 1", "ACME 4 COMMUNITY LICENSE AGREEMENT"), ("¶ 2", "ACME 4 Version Effective Date: April 5, 2025"),
           *LICENSE[2:]]
    assert_cosmetic(old, new, "release_date")


def test_template_copy_fills_the_generic_holder():
    template = [("¶ 1", "Copyright (c) <year> <copyright holders>"),
                ("¶ 2", "THE SOFTWARE IS PROVIDED AS IS. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE "
                        "LIABLE FOR ANY CLAIM.")]
    copy = [("¶ 1", "Copyright (c) 2025 Example Labs"),
            ("¶ 2", "THE SOFTWARE IS PROVIDED AS IS. IN NO EVENT SHALL EXAMPLE LABS BE LIABLE FOR ANY CLAIM.")]
    assert not any(c.substantive for c in compare(make(template), make(copy), template_copy=True))
    assert any(c.substantive for c in compare(make(template), make(copy)))   # not a template: a party changed
    grant = [*copy, ("¶ 3", "The Software may not be used for military purposes.")]
    found = [c for c in compare(make(template), make(grant), template_copy=True) if c.substantive]
    assert [c.kind for c in found] == ["added"]


# ------------------------------------------------------------------ lists and tables are content

SUBPROCESSORS = [
    ("¶ 1", "Sub-processors"),
    ("¶ 2", "Last updated: August 28, 2025"),
    ("¶ 3", "We use the following sub-processors to provide the Services."),
    ("¶ 4", "Name | Purpose | Location"),
    ("¶ 5", "Amazon Web Services | Cloud hosting | United States"),
    ("¶ 6", "Example Analytics | Product analytics | Ireland"),
]


def test_table_row_added_at_the_top_of_a_document():
    new = [*SUBPROCESSORS, ("¶ 7", "Snowflake | Data warehousing | United States")]
    assert only(assert_substantive(SUBPROCESSORS, new)).kind == "added"
    new = [*SUBPROCESSORS[:5], ("¶ 6", "Mailer Inc | Email delivery | Germany"), *SUBPROCESSORS[5:]]
    assert only(assert_substantive(SUBPROCESSORS, new)).kind == "added"


def test_table_row_removed():
    assert only(assert_substantive(SUBPROCESSORS, SUBPROCESSORS[:5])).kind == "removed"


def test_table_row_of_numbers():
    prices = [("¶ 1", "Prices"), ("¶ 2", "Requests per month | Price"), ("¶ 3", "1,000 | $0")]
    assert_substantive(prices, [*prices, ("¶ 4", "10,000 | $25")])


def test_country_added_to_a_list_at_the_end():
    body = [*LICENSE[2:5], ("¶ 8", "We may transfer your data to the following countries:"),
            ("¶ 9", "United States"), ("¶ 10", "Ireland")]
    assert only(assert_substantive(body, [*body, ("¶ 11", "Japan")])).kind == "added"


def test_bulleted_cookie_added_near_the_top():
    cookies = [("¶ 1", "Cookies"), ("•1", "_ga (example-analytics.com)"), ("•2", "session (example.com)"),
               *LICENSE[2:4]]
    new = [*cookies[:3], ("•3", "_fbp (social.example)"), *cookies[3:]]
    assert only(assert_substantive(cookies, new)).kind == "added"


def test_list_item_that_repeats_another_clause_is_still_added():
    items = [("¶ 1", "Regions where the Services are offered:"), ("•1", "European Union"), ("•2", "Japan"),
             *LICENSE[2:5], ("¶ 9", "Governing law: European Union")]
    new = [*items[:3], ("•3", "Governing law: European Union"), *items[3:]]
    assert_substantive(items, new)


def test_masthead_and_colophon_are_still_furniture():
    body = LICENSE[2:5]
    old = [("¶ 1", "Official Journal of the European Union"), ("¶ 2", "EN L series"), *body,
           ("¶ 9", "ISSN 1977-0677 (electronic edition)")]
    assert reasons_of(assert_cosmetic(old, body)) == {"header", "footer"}


# ------------------------------------------------------------------ always substantive

@pytest.mark.parametrize("before,after", [
    ("you must not use the Services", "you may use the Services"),     # negation and modal
    ("$20 per month", "$25 per month"),                                  # amount
    ("30 days notice", "7 days notice"),                                 # number
    ("our support team", "Example Ireland Limited"),                     # party
])
def test_meaningful_words_stay_substantive(before, after):
    index = next(k for k, (_, t) in enumerate(TERMS) if before in t)
    assert_substantive(TERMS, edited(TERMS, index, TERMS[index][1].replace(before, after)))


def test_negation_in_a_short_stamp_like_line():
    old = [*TERMS, ("¶ 9", "Updated 5 days ago: refunds are available")]
    new = [*TERMS, ("¶ 9", "Updated 6 days ago: refunds are not available")]
    assert_substantive(old, new)


def test_short_word_with_two_letters_swapped():
    old = edited(TERMS, 2, TERMS[2][1].replace("to these Terms", "to teh Terms").replace("to our", "to the our"))
    new = edited(TERMS, 2, TERMS[2][1].replace("to these Terms", "to the Terms").replace("to our", "to the our"))
    assert_cosmetic(old, new, "typo")


def test_ampersand_and_percent_sign():
    old = [*TERMS, ("5", "Refunds & credits. We refund 20% of the fee for any month with an outage.")]
    new = [*TERMS, ("5", "Refunds and credits. We refund 20 percent of the fee for any month with an outage.")]
    assert_cosmetic(old, new)
    assert_substantive(old, [*TERMS, ("5", "Refunds and credits. We refund 25 percent of the fee for any month "
                                           "with an outage.")])


def with_heading(items, heading_of):
    clauses = make(items)
    for k, clause in enumerate(clauses):
        clause.segment.heading = heading_of(k)
    return clauses


def test_reworded_heading_is_cosmetic_unless_a_term_changes():
    body = [("1", LICENSE[2][1]), ("2", LICENSE[4][1])]
    old = with_heading(body, lambda k: "Your Rights" if k == 0 else "Commercial Terms")
    new = with_heading(body, lambda k: "Your Licence Rights" if k == 0 else "Commercial Terms")
    change = only(compare(old, new))
    assert not change.substantive and "heading" in change.cosmetic_reasons
    denied = with_heading(body, lambda k: "Rights You Do Not Have" if k == 0 else "Commercial Terms")
    assert any(c.substantive for c in compare(old, denied))


def test_table_row_taken_for_a_heading_is_compared():
    rows = [("¶ 1", "Meta Ads | _fbp | Advertising | 90 Days | Non-Essential"),
            ("¶ 2", "Meta Ads | _fbc | Advertising | 90 Days | Non-Essential")]
    old = with_heading(rows, lambda k: "Cloudflare | cf_clearance | Security | 1 year | Essential")
    new = with_heading(rows, lambda k: "Cloudflare | cf_clearance | Security | 1 year | Non-Essential")
    found = [c for c in compare(old, new) if c.substantive]
    assert [c.kind for c in found] == ["modified"]


def test_relative_and_in_page_link_targets_are_urls():
    old = [("1", "Read our [Privacy Policy](/legal/privacy) and the [list of cookies](#list-of-cookies).")]
    new = [("1", "Read our [Privacy Policy](/policies/privacy-2) and the [list of cookies](#h.3xk2).")]
    assert_cosmetic(old, new, "urls")


def test_terms_written_as_headings_are_terms():
    text_old = ("# The Definition\n\n## The license must allow all recipients to use the models for any purpose.\n"
                "## The license must not discriminate against any user, industry, or purpose.\n")
    text_new = text_old.replace("for any purpose.", "for research purposes only.")
    old, new = make([("¶ 1", "This is a definition of open models.")]), make([("¶ 1", "This is a definition of open models.")])
    for clauses, text in ((old, text_old), (new, text_new)):
        clauses[0].segment.start = len(text)
    found = [c for c in compare(old, new, old_text=text_old, new_text=text_new) if c.substantive]
    assert [c.kind for c in found] == ["modified"] and "research" in found[0].new_text


def test_words_carried_across_clause_boundaries_are_relayout():
    first = ("Grant. You may use, copy and modify the Materials for any purpose, subject to the conditions of "
             "this Agreement and to the Acceptable Use Policy.")
    second = ("Attribution. You must keep every copyright notice of the Materials in each copy you distribute, "
              "and you must give recipients a copy of this Agreement.")
    third = ("Termination. This Agreement ends automatically if you breach it, and sections 3 to 6 survive "
             "its termination.")
    old = [("1", first + " Redistribution is allowed."), ("2", second), ("3", third)]
    new = [("1", first), ("2", "Redistribution is allowed. " + second), ("3", third)]
    assert_cosmetic(old, new)
    changed = [("1", first), ("2", "Redistribution is not allowed. " + second), ("3", third)]
    assert_substantive(old, changed)


# ------------------------------------------------------------------ the page's own controls

@pytest.mark.parametrize("chrome", ["Skip to main content", "We use cookies to improve your experience. Accept all",
                                    "Sign in | Menu | Search", "Cookie settings"])
def test_a_control_of_the_page_added_at_the_top_is_the_page_not_the_document(chrome):
    assert_cosmetic(TERMS, [("¶ 0", chrome), *TERMS], "header")


def test_a_sentence_about_cookies_without_its_buttons_is_the_documents_own():
    # a privacy notice that starts saying it uses cookies has changed, whatever a banner would look like
    assert_substantive(TERMS, [TERMS[0], ("¶ 1b", "We use cookies."), *TERMS[1:]])
    assert_substantive(TERMS, [*TERMS[:3], ("2b", "You must sign in to use the Services."), *TERMS[3:]])


# ------------------------------------------------------------------ numbers and amounts written another way

@pytest.mark.parametrize("old,new", [
    ("You must pay within thirty (30) days of the invoice.", "You must pay within 30 days of the invoice."),
    ("Above USD 1,000,000 in revenue a licence is needed.", "Above $1,000,000 in revenue a licence is needed."),
    ("Above 1 million US dollars in revenue a licence is needed.", "Above USD 1,000,000 in revenue a licence is needed."),
    ("More than 700,000,000 monthly active users need a licence.", "More than 700 million monthly active users need a licence."),
    ("Fines for a breach of these obligations reach EUR 35 000 000 per breach.",
     "Fines for a breach of these obligations reach €35,000,000 per breach."),
])
def test_a_number_written_another_way(old, new):
    base = [("1", "Terms of payment and use."), ("2", old), ("3", "These terms are governed by Irish law.")]
    assert_cosmetic(base, edited(base, 1, new), "number_format")


@pytest.mark.parametrize("old,new", [
    ("You must pay within thirty (30) days of the invoice.", "You must pay within sixty (60) days of the invoice."),
    ("Above USD 1,000,000 in revenue a licence is needed.", "Above USD 2,000,000 in revenue a licence is needed."),
    ("Above USD 1,000,000 in revenue a licence is needed.", "Above EUR 1,000,000 in revenue a licence is needed."),
    ("More than 700,000,000 monthly active users need a licence.", "More than 700,000 monthly active users need a licence."),
    ("You must pay within thirty (30) days of the invoice.", "You must pay within thirty (31) days of the invoice."),
])
def test_another_number_or_currency_stays_substantive(old, new):
    base = [("1", "Terms of payment and use."), ("2", old), ("3", "These terms are governed by Irish law.")]
    assert_substantive(base, edited(base, 1, new))
