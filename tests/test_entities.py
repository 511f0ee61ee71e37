"""Entity finders: every type with its normalised value (../shared/gold/README.md "Entity values")."""
from __future__ import annotations

import pytest

from clausewatch.nlp.entities import find_entities
from clausewatch.nlp.model import Segment


def entities(text: str, path: str = "¶ 1", headings: tuple[str, ...] = ()) -> list[tuple[str, object]]:
    seg = Segment(0, path, headings[-1] if headings else None, None, text, 0, len(text), headings=headings)
    found = find_entities(seg, [seg])
    for ent in found:
        assert text[ent.start:ent.end] == ent.text, ent
    return [(e.type, e.value) for e in found]


def values(text: str, kind: str, path: str = "¶ 1", headings: tuple[str, ...] = ()) -> list[object]:
    return [v for t, v in entities(text, path, headings) if t == kind]


@pytest.mark.parametrize("text,expected", [
    ("These rules take effect on 2 August 2031.", ["2031-08-02"]),
    ("Release Date: August 3, 2023", ["2023-08-03"]),
    ("Version 2.0, January 2004", ["2004-01"]),
    ("Last modified: March 24, 2025", ["2025-03-24"]),
    ("published on 2024-07-12 in the Official Journal", ["2024-07-12"]),
    ("You may use the Model as permitted.", []),
])
def test_dates(text, expected):
    assert values(text, "DATE") == expected


def test_user_threshold_value_and_unit():
    seg = Segment(0, "2", None, None, "greater than 700 million monthly active users in the preceding month", 0, 1)
    [ent] = [e for e in find_entities(seg, [seg]) if e.type == "USER_THRESHOLD"]
    assert (ent.value, ent.unit, ent.text) == (700000000, "monthly_active_users", "700 million monthly active users")
    assert values("more than 1,000,000 daily active users", "USER_THRESHOLD") == [1000000]
    # written in words, as some licences do; a bare small number of users is no threshold
    assert values("above one hundred million monthly active users", "USER_THRESHOLD") == [100000000]
    assert values("fewer than two million registered users", "USER_THRESHOLD") == [2000000]
    assert values("shared between two users of one account", "USER_THRESHOLD") == []


def test_money_with_currency():
    seg = Segment(0, "1", None, None, "fines not exceeding EUR 15 000 000, or $500 million, or 2 million euros", 0, 1)
    money = [(e.value, e.currency) for e in find_entities(seg, [seg]) if e.type == "MONEY"]
    assert money == [(15000000, "EUR"), (500000000, "USD"), (2000000, "EUR")]


def test_percent():
    assert values("3 % of its annual total worldwide turnover, or 7 percent", "PERCENT") == [3, 7]
    assert values("1,5 % of turnover", "PERCENT") == [1.5]
    assert values("up to seven percent of turnover, or twenty per cent of the fee", "PERCENT") == [7, 20]
    assert values("owning fifty percent (50%) or more of the shares", "PERCENT") == [50]   # one entity


@pytest.mark.parametrize("text,expected", [
    ("greater than 10^25 floating point operations", [1e25]),
    ("using more than 10<sup>26</sup> integer or floating-point operations", [1e26]),
    ("a capacity of 10²⁰ integer or floating-point operations per second", [1e20]),
    ("measured in floating point operations is greater than 1025.", [1e25]),   # flattened superscript
    ("1026 integer or floating-point operations", [1e26]),
    ("section 1016(e) of the USA PATRIOT Act", []),
    ("There were 1025 participants.", []),
])
def test_compute(text, expected):
    assert values(text, "COMPUTE") == expected


def test_compute_per_second_unit():
    seg = Segment(0, "1", None, None, "a theoretical maximum of 10^20 integer or floating-point operations per second",
                  0, 1)
    [ent] = [e for e in find_entities(seg, [seg]) if e.type == "COMPUTE"]
    assert ent.unit == "operations_per_second"


@pytest.mark.parametrize("text,expected", [
    ("Within 90 days of the date of this order", ["P90D"]),
    ("for a period of 12 months", ["P12M"]),
    ("a maximum period of at least four years", ["P4Y"]),
    ("within twenty-four months", ["P24M"]),
    ("no later than 72 hours after", ["PT72H"]),
    ("the twentieth day following its publication", []),
    ("users must be at least 13 years old, or 16 years of age in the Union", []),   # ages, not periods
    ("a 13-year-old user, within 3 years of the sale", ["P3Y"]),
])
def test_durations(text, expected):
    assert values(text, "DURATION") == expected


@pytest.mark.parametrize("text,path,expected", [
    ("The duties under paragraph 1, points (c) and (d), do not bind small firms", "Article 53 > 2",
     ["Article 53(1)(c)", "Article 53(1)(d)"]),
    ("to show that it meets the duties under paragraph 1 of this Article", "Article 53 > 4",
     ["Article 53(1)"]),
    ("The duty laid down in this Article does not bind micro firms", "Article 54 > 6", ["Article 54"]),
    ("The information referred to in paragraphs 1 to 4 shall be provided", "Article 50 > 5", ["Article 50(1)-(4)"]),
    ("Compliance with this paragraph is required.", "Article 50 > 4", ["Article 50(4)"]),
    ("Besides the duties of Articles 53 and 54, large providers", "Article 55 > 1",
     ["Article 53", "Article 54"]),
    ("Chapters I and II take effect a year later;", "Article 113 > (a)", ["Chapter I", "Chapter II"]),
    ("Chapter III Section 2, Chapter VI and Article 70 take effect", "Article 113 > (b)",
     ["Chapter III Section 2", "Chapter VI", "Article 70"]),
    ("under Article 56 (6) and with the items listed in Annex XII", "Article 50 > 7",
     ["Article 56(6)", "Annex XII"]),
    ("Sections 7 and 9 shall survive the termination of this Agreement.", "8 > b.", ["Section 7", "Section 9"]),
    ("Sections 1, 2.1, 3.3, 4.2 to 4.9 shall survive", "Section 4 > 4.5",
     ["Section 1", "Section 2.1", "Section 3.3", "Sections 4.2-4.9"]),
    ("as stated in this Section 5(a) and the last sentence of Section 1.b.i.", "5 > a.",
     ["Section 5(a)", "Section 1.b.i"]),
    ("respecting paragraph 4.a. – for use of the restrictions in Attachment A", "4 > e.",
     ["Paragraph 4.a", "Attachment A"]),
    ("based on guidance developed pursuant to subsection 4.1(a)(ii) of this section", "Sec. 4 > 4.2",
     ["Section 4.1(a)(ii)"]),
    ("These sections remain in force after the licence ends: 2 (Restrictions), 3 (Attribution) and "
     "11 (Miscellaneous).", "¶ 9", ["Section 2", "Section 3", "Section 11"]),
    ("unless this Section says otherwise, you may offer extra terms", "Section 3 > 3.1", ["Section 3.1"]),
    ("the set of models identified in the Appendix", "Section 1 > 1.1 > (c)", ["Appendix"]),
    ("the conditions laid down in Article 101(1), points (a) to (d), apply", "Article 1 > 1",
     ["Article 101(1)(a)-(d)"]),
    ("as referred to in point (a) of paragraph 2", "Article 9 > 3", ["Article 9(2)(a)"]),
    ("the use referred to in point (h) of Article 5(1)", "Article 6 > 1", ["Article 5(1)(h)"]),
    ("the systems listed in Annexes I and III", "Article 6 > 1", ["Annex I", "Annex III"]),
    # references to other instruments are not ARTICLE_REFs of this document
    ("a reservation of rights pursuant to Article 4(3) of Directive (EU) 2019/790", "Article 53 > 1 > (c)", []),
    ("the permissions in Section 1(a) of the Acme 2 Community License Agreement", "¶ 2", []),
    ("as defined in section 21(a) of Executive Order 14074", "Sec. 3 > (l)", []),
    ("what the EU Artificial Intelligence Act, Annex IV(2)(d) demands", "¶ 1", []),
])
def test_article_refs(text, path, expected):
    assert values(text, "ARTICLE_REF", path) == expected


@pytest.mark.parametrize("text,expected", [
    ("Licensed under the Apache License, Version 2.0 (the \"License\");", ["Apache-2.0"]),
    ("This software is released under the MIT License.", ["MIT"]),
    ("Llama 3.1 is licensed under the Llama 3.1 Community License, Copyright Meta", ["Llama 3.1 Community License"]),
    ("the rights granted under the Llama 3.2 Community License Agreement", ["Llama 3.2 Community License"]),
    ("Tongyi Qianwen is licensed under the Tongyi Qianwen LICENSE AGREEMENT", ["Tongyi Qianwen License Agreement"]),
    ("provided under and subject to the Gemma Terms of Use", ["Gemma Terms of Use"]),
    ("under the GNU Affero General Public License version 3 or any later version", ["AGPL-3.0-or-later"]),
    ("Creative Commons Attribution-NonCommercial-ShareAlike 4.0 International", ["CC-BY-NC-SA-4.0"]),
    ("Grant of Rights. Under the terms of this License", []),
    ("The tools are distributed as GPL-3.0-or-later, the library as LGPL-2.1-only.",
     ["GPL-3.0-or-later", "LGPL-2.1-only"]),
    ("SPDX-License-Identifier: GPL-2.0+", ["GPL-2.0-or-later"]),
])
def test_license_refs(text, expected):
    assert values(text, "LICENSE_REF") == expected


@pytest.mark.parametrize("text,expected", [
    ("trained with more than three times ten to the 25th integer or floating-point operations", [3e25]),
    ("a computing power greater than 10 to the 26th power floating-point operations", [1e26]),
    ("training compute of ten to the twenty-sixth operations", [1e26]),
    ("using ten to the power of 24 floating-point operations", [1e24]),
    ("She came ten to the first meeting of the group.", []),
    ("ten to the 25th is a large number", []),          # no operations in sight
])
def test_compute_written_with_words(text, expected):
    assert values(text, "COMPUTE") == expected


@pytest.mark.parametrize("text,path,expected", [
    ("the threshold in clause (ii) applies", "Chapter 9 > 51002 > (e) > (1) > (B) > (i)",
     ["Section 51002(e)(1)(B)(ii)"]),
    ("as set in subparagraph (A)", "Chapter 9 > 51002 > (e) > (1) > (B) > (ii)", ["Section 51002(e)(1)(A)"]),
    ("as defined in clause (ii) of subparagraph (A)", "Chapter 9 > 51002 > (f) > (3) > (B)",
     ["Section 51002(f)(3)(A)(ii)"]),
    ("the amounts in this subdivision are adjusted each year", "Chapter 9 > 51002 > (e) > (2)",
     ["Section 51002(e)"]),
    ("a statement under paragraph (1) of subdivision (b)", "Chapter 9 > 51003 > (f) > (2) > (A)",
     ["Section 51003(b)(1)"]),
    ("a breach of paragraph (6) of subdivision (e) of Section 51003", "Chapter 9 > 51006 > (a) > (3)",
     ["Section 51003(e)(6)"]),
    ("the duties of this section end in 2040", "Chapter 9 > 51004 > (c)", ["Section 51004"]),
    ("the report required by this paragraph", "Chapter 9 > 51003 > (a) > (7) > (C)", ["Section 51003(a)(7)"]),
    ("subparagraphs (A) to (C) do not apply", "Chapter 9 > 51002 > (g) > (1) > (D)",
     ["Section 51002(g)(1)(A)-(C)"]),
    ("under subdivision (f) of Section 1102 of the Labor Code", "Chapter 9 > 51006 > (a) > (2)", []),
    ("as described in subsections 4.2(c) and (d) of this section", "Sec. 4.2 > (e)",
     ["Section 4.2(c)", "Section 4.2(d)"]),
    ("the list under subsection (b)(i) of this section", "Sec. 6 > (b) > (ii)", ["Section 6(b)(i)"]),
])
def test_relative_references_are_resolved_to_the_full_reference(text, path, expected):
    assert values(text, "ARTICLE_REF", path) == expected


def test_offsets_are_inside_the_clause_text():
    text = "From 2 August 2025, fines of up to EUR 7 500 000 apply under Article 101 for 12 months."
    assert [t for t, _ in entities(text, "Article 1 > 1")] == ["DATE", "MONEY", "ARTICLE_REF", "DURATION"]
