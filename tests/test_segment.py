"""Clause segmentation (nlp/segment.py): clause units, paths, headings, spans, and the corpus."""
from __future__ import annotations

import re
import textwrap
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clausewatch.nlp.segment import segment
from clausewatch.nlp.segment_labels import parse_label

FIXTURES = Path(__file__).parent / "fixtures" / "segment"
LAW_EXCERPT = FIXTURES / "law_excerpt.txt"   # a law written for the tests, in the layout of an EU regulation


def paths(text: str) -> list[str]:
    return [s.path for s in segment(text)]


def by_path(text: str) -> dict:
    return {s.path: s for s in segment(text)}


def dedent(text: str) -> str:
    return textwrap.dedent(text).strip("\n") + "\n"


# -- hard-wrapped plain text ------------------------------------------------------------------

APACHE_LIKE = dedent("""
                                 Acme Licence
                           Version 3.1, March 2031

   TERMS FOR COPYING, CHANGING AND SHARING THE WORK

   1. Definitions.

      "Licence" shall mean the terms for copying, changing and sharing
      set out in Sections 1 to 9 of this text.

      "Owner" shall mean the person or body that holds the rights in
      the Work and offers it under this Licence.

   2. Copyright Permission. Under the terms of this Licence, every
      Contributor hereby grants You a lasting, worldwide, free and
      irrevocable licence to copy, adapt, show in public, perform,
      sublicense and share the Work and the works made from it, in
      source or compiled form.

   4. Sharing. You may copy and share the Work or the works made
      from it in any medium, changed or not, in source or compiled
      form, as long as You meet these conditions:

      (a) You must hand every person who receives the Work or a
          work made from it a copy of this Licence; and

      (b) You must mark every file You changed with a clear note
          saying that You changed it; and

      You may put Your own copyright line on Your changes and may
      offer other terms for copying, changing or sharing Your
      changes.

   END OF TERMS

   APPENDIX: How to use the Acme Licence for your work.

      To use the Acme Licence for your work, add the short notice
      below to each file.
""")


def test_hard_wrapped_paragraphs_are_unwrapped_into_one_clause_each():
    segs = by_path(APACHE_LIKE)
    grant = segs["Section 2"]
    assert grant.label == "2."
    assert grant.text.startswith("Copyright Permission. Under the terms of this Licence, every Contributor")
    assert grant.text.endswith("in source or compiled form.")
    assert "  " not in grant.text and "\n" not in grant.text
    assert segs["Section 1"].text.startswith('"Licence" shall mean')  # first paragraph under "1. Definitions."
    assert segs["Section 1 > ¶2"].text.startswith('"Owner" shall mean')
    assert segs["Section 4 > (a)"].text == ("You must hand every person who receives the Work or a work made from it "
                                            "a copy of this Licence; and")
    assert segs["Section 4 > (b)"].label == "(b)"
    assert segs["Section 4 > ¶2"].text.startswith("You may put Your own copyright line")


def test_headings_are_not_clauses_but_standalone_lines_are():
    segs = segment(APACHE_LIKE)
    texts = [s.text for s in segs]
    for heading in ("Acme Licence", "TERMS FOR COPYING, CHANGING AND SHARING THE WORK",
                    "Definitions.", "1. Definitions.", "APPENDIX: How to use the Acme Licence for your work."):
        assert heading not in texts
    assert "Version 3.1, March 2031" in texts            # a version/date line is a paragraph
    assert "END OF TERMS" in texts                       # so is a standalone closing line
    appendix = next(s for s in segs if s.text.startswith("To use the Acme Licence"))
    assert appendix.path == "Appendix > ¶1"
    assert appendix.heading == "APPENDIX: How to use the Acme Licence for your work."
    assert by_path(APACHE_LIKE)["Section 1"].headings[-1] == "1. Definitions."


def test_a_wrapped_number_is_not_a_label():
    text = dedent("""
        Unless the law requires otherwise, this file is offered under the Acme Licence, Version
        4.0 (the "Licence"); you may only use this file in the ways that the Licence allows. The
        patent permission in the Licence covers every single Contribution, as described in Section
        2. It applies to everything above and to the rest of the work described here, with no
        exception of any kind whatsoever.

        a. 1) break any export control or trade sanctions laws that apply; 2) send the code, directly
        or through others, to any person, entity or country that is barred by the Export Law; and
        3) use or download the code if you or they are located in a sanctioned place.
    """)
    segs = segment(text)
    assert len(segs) == 2
    assert "Acme Licence, Version 4.0 (the" in segs[0].text
    assert "Section 2. It applies" in segs[0].text
    assert segs[1].label == "a." and "3) use or download" in segs[1].text


def test_a_label_starts_a_clause_inside_a_wrapped_block_when_the_sequence_continues():
    text = dedent("""
        1. The Office may fine a maker up to 2 % of its yearly turnover where the
        maker, on purpose or by neglect:
        (a) broke the rules of this Regulation;
        (b) did not answer a request for records under Article 91, or gave
        wrong, partial or misleading answers;
        (c) did not take a step ordered under Article 93;
        2. Fines under this Article shall be effective.
    """)
    assert paths(text) == ["Section 1", "Section 1 > (a)", "Section 1 > (b)", "Section 1 > (c)", "Section 2"]
    assert by_path(text)["Section 1 > (b)"].text.endswith("partial or misleading answers;")


def test_inline_capital_letters_stay_in_their_sentence():
    text = ("i. If you share the Acme Weights, you shall (A) hand over a copy of these terms; and\n"
            "(B) show “Made with Acme” on a related web page.\n")
    segs = segment(text)
    assert len(segs) == 1
    assert "(A) hand over a copy" in segs[0].text and "(B) show" in segs[0].text


# -- line-per-paragraph licences ----------------------------------------------------------------

LLAMA_LIKE = dedent("""
     ACME 2 COMMUNITY LICENSE AGREEMENT

     Acme 2 Version Release Date: May 4, 2031

    “Agreement” means the terms for using, copying, sharing and changing the Acme Materials.

    1. License Rights and Redistribution.
        a. Grant of Rights. You receive a limited, free, worldwide licence that you may not transfer.

        b. Redistribution and Use.

              i. If you share the Acme Materials, you shall (A) hand over a copy of this Agreement; and (B) show “Made with Acme”.

              ii. If you get Acme Materials from a Licensee, then Section 2 of this Agreement does not apply to you.

              v. You will not use the Acme Materials to train a rival language model.

    2. Additional Commercial Terms. If, on the Acme 2 version release date, the number of monthly active users of your services exceeds 500 million, you must ask Acme for a license.

    5. Intellectual Property.

        a. This Agreement grants no trademark licenses.
""")


def test_licence_numbering_gives_dotted_paths():
    segs = by_path(LLAMA_LIKE)
    assert list(segs) == ["ACME 2 COMMUNITY LICENSE AGREEMENT > ¶1", "ACME 2 COMMUNITY LICENSE AGREEMENT > ¶2",
                          "Section 1.a", "Section 1.b.i", "Section 1.b.ii", "Section 1.b.v", "Section 2",
                          "Section 5.a"]
    grant = segs["Section 1.a"]
    assert grant.label == "a." and grant.text.startswith("Grant of Rights. You receive")  # one clause
    assert grant.heading == "a. Grant of Rights."
    assert segs["Section 1.b.i"].headings[-2:] == ("1. License Rights and Redistribution.", "b. Redistribution and Use.")
    assert segs["Section 1.b.i"].depth == 3
    commercial = segs["Section 2"]
    assert commercial.text.startswith("Additional Commercial Terms. If, on the Acme 2 version release date")
    assert segs["ACME 2 COMMUNITY LICENSE AGREEMENT > ¶1"].text == "Acme 2 Version Release Date: May 4, 2031"


GEMMA_LIKE = dedent("""
    Acme Terms of Use

    Section 1: DEFINITIONS
    1.1 Definitions
    (a) "Agreement" means these terms.

    (b) "Acme" means Acme Ltd.

    1.2
    Here, "such as" means "such as, among others".

    Section 3: DISTRIBUTION AND RESTRICTIONS
    3.1 Distribution and Redistribution
    You may copy or share Acme models if you meet every one of these conditions:

    1. You must put the use restrictions of Section 3.2 into any agreement.

    2. You must give every recipient of Acme models a copy of this Agreement.

    You may add your own notice of rights to your changes.

    3.2 Use Restrictions
    You must not use any Acme service:

    for the uses barred by the Acme Use Policy; or
    in breach of the laws that apply.
    As far as the law allows, Acme reserves the right to limit use of its models.
""")


def test_line_per_paragraph_text_and_numbered_headings():
    segs = segment(GEMMA_LIKE)
    got = {s.path: s for s in segs}
    assert list(got) == ["Section 1.1 > (a)", "Section 1.1 > (b)", "Section 1.2", "Section 3.1", "Section 3.1 > 1",
                         "Section 3.1 > 2", "Section 3.1 > ¶2", "Section 3.2", "Section 3.2 > ¶2", "Section 3.2 > ¶3",
                         "Section 3.2 > ¶4"]
    assert got["Section 1.2"].text.startswith('Here, "such as"')      # label alone on its line
    assert got["Section 3.1"].heading == "3.1 Distribution and Redistribution"
    assert got["Section 3.1"].text.endswith("every one of these conditions:")
    chapeau = got["Section 3.2"].ordinal
    assert got["Section 3.2 > ¶2"].parent == chapeau and got["Section 3.2 > ¶3"].parent == chapeau
    assert got["Section 3.2 > ¶4"].parent is None
    assert got["Section 3.1 > 1"].parent == got["Section 3.1"].ordinal
    assert got["Section 3.1 > ¶2"].parent is None
    assert "Acme Terms of Use" not in [s.text for s in segs]


# -- Markdown lists ------------------------------------------------------------------------------

AUP_LIKE = dedent("""
    # Prohibited Uses

    You agree that you will not use, or let others use, Acme to:

    1. Break the law or the rights of others, including to:

        1. Take part in or support illegal activity or content, such as:

            1. Violence or terror

            2. Selling people

        1. Take part in the bullying or harassment of people

        2. Take part in unfair treatment in hiring

    2. Take part in activities that risk death or injury, including:

        8. Military or nuclear work

        9. Guns and illegal arms

    3. Fail to tell end users about known risks of your system

    Please report any breach of this Policy in one of these ways:

    * Reporting problems with the model: https://example.org/issues
    * Reporting security bugs: example.org/security
""")


def test_markdown_nested_lists_use_the_rendered_numbering():
    segs = by_path(AUP_LIKE)
    assert list(segs) == [
        "Prohibited Uses > ¶1", "Section 1", "Section 1 > 1", "Section 1 > 1 > 1", "Section 1 > 1 > 2",
        "Section 1 > 2", "Section 1 > 3", "Section 2", "Section 2 > 8", "Section 2 > 9", "Section 3",
        "Prohibited Uses > ¶2", "Prohibited Uses > ¶2 > •1", "Prohibited Uses > ¶2 > •2"]
    assert segs["Section 1 > 2"].label == "1."                   # printed marker; path uses the rendered 2
    assert segs["Section 1 > 3"].text.startswith("Take part in unfair")
    assert segs["Section 1"].parent == segs["Prohibited Uses > ¶1"].ordinal
    assert segs["Section 1 > 1 > 2"].parent == segs["Section 1 > 1"].ordinal
    assert segs["Prohibited Uses > ¶2"].parent is None           # after the list, not an item of it
    assert segs["Prohibited Uses > ¶2 > •1"].parent == segs["Prohibited Uses > ¶2"].ordinal


def test_raw_markdown_markers_are_removed_from_text():
    segs = segment("**Acme 2** **Use Policy**\n\n-   **Selling abroad:** The trade office will"
                   "\n    work with industry.\n")
    assert [s.text for s in segs] == ["Selling abroad: The trade office will work with industry."]
    assert segs[0].heading == "Acme 2 Use Policy"


# -- executive orders ----------------------------------------------------------------------------

EO_LIKE = dedent("""
    Sec. 3. Definitions. For purposes of this order:

    (k) The term “frontier system” means a model trained on broad data that could do harm, such as by:

    (i) making it much easier for people without training to build dangerous weapons;

    (ii) enabling strong attacks on computer networks; or

    (iii) letting the system slip out of human control.

    Models fall under this definition even if they ship with safeguards against misuse.

    (l) The term “Federal agency” has the meaning given in section 12(b).

    Sec. 4. Keeping AI Technology Safe and Secure.

    4.1. Writing Guidelines. (a) Within 180 days of the date of this order, the Secretary shall:

    (i) Issue guidelines and good practices, including:

    (A) writing a companion guide to the risk framework;

    (B) starting a program to create tests and benchmarks.

    (ii) Issue guidelines for testing AI models by red teams.

    (b) Within 180 days of the date of this order, the Secretary of Energy shall write a plan.

    4.2. Making AI Safe and Reliable.(a) Within 60 days of the date of this order, the Secretary of Commerce shall require:
""")


def test_executive_order_sections_subsections_and_points():
    segs = by_path(EO_LIKE)
    assert list(segs) == [
        "Sec. 3", "Sec. 3 > (k)", "Sec. 3 > (k) > (i)", "Sec. 3 > (k) > (ii)", "Sec. 3 > (k) > (iii)",
        "Sec. 3 > (k) > ¶2", "Sec. 3 > (l)", "Sec. 4.1 > (a)", "Sec. 4.1 > (a) > (i)", "Sec. 4.1 > (a) > (i) > (A)",
        "Sec. 4.1 > (a) > (i) > (B)", "Sec. 4.1 > (a) > (ii)", "Sec. 4.1 > (b)", "Sec. 4.2 > (a)"]
    assert segs["Sec. 3"].label == "Sec. 3." and segs["Sec. 3"].text == "Definitions. For purposes of this order:"
    assert segs["Sec. 3 > (k) > ¶2"].text.startswith("Models fall under this definition")
    assert segs["Sec. 3 > (l)"].label == "(l)"
    first = segs["Sec. 4.1 > (a)"]
    assert first.text.startswith("Within 180 days") and first.heading == "4.1. Writing Guidelines."
    assert "Sec. 4. Keeping AI Technology Safe and Secure." in first.headings
    assert segs["Sec. 4.2 > (a)"].start == EO_LIKE.index("(a) Within 60 days")
    assert segs["Sec. 4.1 > (a) > (i) > (A)"].parent == segs["Sec. 4.1 > (a) > (i)"].ordinal


def test_codified_sections_and_labels_run_together():
    text = dedent("""
        SEC. 3. Chapter 22.6 (commencing with Section 22602) is added to the Code, to read:

        Chapter 22.6. Safe and Secure Innovation

        22602. As used in this chapter:

        (e) (1) “Covered model” means either of the following:

        (A) Before January 1, 2027, an artificial intelligence model trained on a quantity of computing power.

        (2) On and after January 1, 2026, the dollar amount shall be adjusted annually.

        22603. (a) Before beginning to initially train a covered model, the developer shall do all of the following:

        (1) Implement reasonable cybersecurity protections.

        (2) (A) (i) Implement the capability to promptly enact a full shutdown.
    """)
    assert paths(text) == [
        "Sec. 3", "Chapter 22.6 > 22602", "Chapter 22.6 > 22602 > (e) > (1)", "Chapter 22.6 > 22602 > (e) > (1) > (A)",
        "Chapter 22.6 > 22602 > (e) > (2)", "Chapter 22.6 > 22603 > (a)", "Chapter 22.6 > 22603 > (a) > (1)",
        "Chapter 22.6 > 22603 > (a) > (2) > (A) > (i)"]
    assert by_path(text)["Chapter 22.6 > 22603 > (a)"].start == text.index("(a) Before")
    assert by_path(text)["Chapter 22.6 > 22603 > (a) > (2) > (A) > (i)"].text.startswith("Implement the capability")


def test_a_second_list_in_one_paragraph_hangs_from_its_subparagraph():
    text = dedent("""
        # Article 43

        1. The provider shall opt for one of the following procedures:

        (a) the internal control; or

        (b) the assessment of the quality management system.

        In demonstrating the compliance, the provider shall follow the procedure where:

        (a) harmonised standards do not exist;

        (b) the provider has not applied the harmonised standard.
    """)
    assert paths(text) == ["Article 43 > 1", "Article 43 > 1 > (a)", "Article 43 > 1 > (b)", "Article 43 > 1 > ¶2",
                           "Article 43 > 1 > ¶2 > (a)", "Article 43 > 1 > ¶2 > (b)"]
    assert by_path(text)["Article 43 > 1 > ¶2 > (b)"].parent == by_path(text)["Article 43 > 1 > ¶2"].ordinal


def test_roman_or_letter_is_read_from_the_sequence():
    text = dedent("""
        (g) the seventh point;

        (h) the eighth point, for one of these aims:

        (i) the first objective;

        (ii) the second objective.
    """)
    assert paths(text) == ["(g)", "(h)", "(h) > (i)", "(h) > (ii)"]
    text = text.replace("these aims:", "these aims;").replace("(ii) the second", "(j) the tenth")
    assert paths(text) == ["(g)", "(h)", "(i)", "(j)"]


# -- a law in the layout of an EU regulation ---------------------------------------------------------------------------------

EU_STRUCT = re.compile(r"^(CHAPTER|SECTION|Section|Article|ANNEX) ")
EU_LEVELS = {"CHAPTER": 2, "ANNEX": 2, "SECTION": 3, "Section": 3, "Article": 4}
EU_LABEL = re.compile(r"^(\(\w{1,4}\)|\d{1,3}\.)\s+")


def law_renderings() -> dict[str, str]:
    """The excerpt as the extractors may render it: plain blocks, Markdown headings, labels in their own
    block (table cells), and hard-wrapped paragraphs."""
    base = LAW_EXCERPT.read_text(encoding="utf-8")
    blocks = base.strip().split("\n\n")
    marked = [("#" * EU_LEVELS[m.group(1)] + " " + b) if (m := EU_STRUCT.match(b)) else b for b in blocks]
    split = []
    for b in marked:
        m = EU_LABEL.match(b)
        split += [m.group(1), b[m.end():]] if m else [b]
    return {"blocks": base, "markdown": "\n\n".join(marked), "cells": "\n\n".join(split),
            "wrapped": "\n\n".join(textwrap.fill(b, 72) for b in blocks)}


def test_law_article_paragraph_point_paths():
    segs = by_path(LAW_EXCERPT.read_text(encoding="utf-8"))
    for path in ("Recital 1", "Recital 2", "Article 5 > 1", "Article 5 > 1 > (c) > (ii)", "Article 5 > 1 > (h) > (iii)",
                 "Article 50 > 4", "Article 50 > 4 > ¶2", "Article 53 > 1 > (b) > (ii)", "Article 55 > 1 > (d)",
                 "Article 101 > 1 > ¶2", "Article 113 > ¶1", "Article 113 > ¶3", "Article 113 > (c)",
                 "Annex XI > Section 1 > ¶1", "Annex XI > Section 1 > 2 > (e)"):
        assert path in segs, path
    chapeau = segs["Article 53 > 1"]
    assert chapeau.text == "Makers of general models shall:" and chapeau.label == "1."
    assert chapeau.heading == "Article 53 Duties of makers of general models"
    assert chapeau.headings == ("CHAPTER V GENERAL MODELS",
                                "SECTION 2 Duties of makers of general models",
                                "Article 53 Duties of makers of general models")
    assert segs["Article 53 > 1 > (a)"].parent == chapeau.ordinal
    assert segs["Article 53 > 1 > (b) > (i)"].parent == segs["Article 53 > 1 > (b)"].ordinal
    assert segs["Article 113 > (a)"].parent == segs["Article 113 > ¶3"].ordinal
    assert segs["Article 113 > ¶3"].text == "However:"
    assert segs["Article 101 > 1 > ¶2"].text.startswith("When setting the fine")
    assert segs["Article 101 > 1 > ¶2"].parent is None
    assert segs["Annex XI > Section 1 > 2 > (e)"].headings[-2].startswith("ANNEX XI Design records")
    assert "Duties of makers of general models" not in [s.text for s in segs.values()]


@pytest.mark.parametrize("rendering", ["markdown", "cells", "wrapped"])
def test_law_renderings_give_the_same_clauses(rendering):
    texts = law_renderings()
    expected = [(s.path, s.label, s.text) for s in segment(texts["blocks"])]
    assert [(s.path, s.label, s.text) for s in segment(texts[rendering])] == expected


# -- general properties --------------------------------------------------------------------------

@pytest.mark.parametrize("text", [APACHE_LIKE, LLAMA_LIKE, GEMMA_LIKE, AUP_LIKE, EO_LIKE],
                         ids=["apache", "llama", "gemma", "aup", "eo"])
def test_spans_cover_label_and_text(text):
    for seg in segment(text):
        span = text[seg.start:seg.end]
        assert seg.label is None or span.startswith(seg.label.replace("\\", "")) or seg.label in span
        words = re.sub(r"[*#\s]+", " ", span).strip()
        assert seg.text.replace("*", "")[:40].split()[-1] in words


def test_repeated_labels_get_unique_paths():
    text = "(a) first list item\n\n(b) second\n\nA paragraph.\n\n(a) again\n\n(b) again\n"
    got = paths(text)
    assert len(got) == len(set(got)) == 5
    assert got[-1].endswith("#2")


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(["1.", "(a)", "(i)", "ii.", "b.", "R.", "-", "Article 5", "# Title", "## R. Smith",
                                 "### 3.", "CHAPTER V", "Sec. 4.", "4.2.", "word", "Word.", "colon:", "", "    ",
                                 "\t", "2.0", "(A)", "**Bold**", "Whereas:", "END OF TERMS"]),
                max_size=60))
def test_any_text_gives_consistent_segments(tokens):
    text = "".join(t + (" " if i % 3 else "\n") for i, t in enumerate(tokens))
    segs = segment(text)
    assert [s.ordinal for s in segs] == list(range(len(segs)))
    assert len({s.path for s in segs}) == len(segs)
    for s in segs:
        assert 0 <= s.start < s.end <= len(text) and s.text
        assert s.parent is None or 0 <= s.parent < s.ordinal


def test_label_parser():
    assert parse_label("(iv) text").readings[0] == ("p:roman", 4)
    assert {r[0] for r in parse_label("(i) text").readings} == {"p:roman", "p:alpha"}
    assert parse_label("4.2. Title").readings == (("multi", (4, 2)),)
    assert parse_label("2.0 license") is None and parse_label("3.5 million users") is None
    assert parse_label("1\\. Escaped").printed == "1."
    assert parse_label("e.g. this") is None and parse_label("U.S. law") is None


def run_bounded(text: str, seconds: float) -> list:
    """Segment in a thread and fail if it does not finish: a guard against hangs, not a benchmark."""
    result: list = []
    worker = threading.Thread(target=lambda: result.append(segment(text)), daemon=True)
    worker.start()
    worker.join(seconds)
    assert not worker.is_alive(), f"segment() did not finish within {seconds} s on {len(text)} characters"
    return result[0]


@pytest.mark.parametrize("text", [
    "(a)" * 350_000,                                   # 1 MB without a space
    "x" * 1_000_000,                                   # one huge word
    "(a) " * 250_000,                                  # one huge line of labels
    "1.\n" * 100_000,                                  # labels and nothing else
    "".join(" " * (i % 300) + "1. x\n" for i in range(20_000)),  # ever deeper indentation
    "Sec. 1. " + "Title. " * 140_000,
], ids=["parens", "word", "label-line", "label-lines", "indent", "titles"])
def test_adversarial_input_does_not_hang(text):
    segs = run_bounded(text, 30)
    assert all(0 <= s.start < s.end <= len(text) for s in segs)


# -- the corpus ----------------------------------------------------------------------------------

def test_corpus_apache_sections(corpus):
    segs = by_path((corpus / "apache-2.0" / "apache-2.0.txt").read_text(encoding="utf-8"))
    assert [p for p in segs if re.fullmatch(r"Section \d", p)] == [f"Section {n}" for n in range(1, 10)]
    assert [p for p in segs if p.startswith("Section 4 > (")] == [f"Section 4 > ({c})" for c in "abcd"]
    assert segs["Section 3"].text.startswith("Grant of Patent License.")


def test_corpus_llama_licence_paths(corpus):
    segs = by_path((corpus / "llama-license" / "3.1.txt").read_text(encoding="utf-8"))
    assert {"Section 1.a", "Section 1.b.i", "Section 1.b.iv", "Section 2", "Section 5.c", "Section 7"} <= set(segs)
    assert segs["Section 1.b.iv"].text.startswith("Your use of the Llama")


def _declared_selectors(corpus: Path, path: Path) -> dict | None:
    """The selectors of the source declaration that replays this corpus file, as the crawler uses them."""
    import yaml

    rel = path.relative_to(corpus).as_posix()
    for declaration in sorted((Path(__file__).resolve().parents[1] / "crawlers" / "sources").glob("*.yaml")):
        source = yaml.safe_load(declaration.read_text(encoding="utf-8"))
        if rel in (source.get("replay") or []):
            return source.get("selectors")
    return None


def _extract(corpus: Path, path: Path) -> str:
    try:
        from clausewatch.crawlers.extract import extract_path
        return extract_path(path, selectors=_declared_selectors(corpus, path)).text
    except Exception as exc:  # the extractors belong to another stage: report, do not fail here
        pytest.skip(f"cannot extract {path.name}: {exc}")


def test_corpus_ai_act_formats_agree(corpus):
    folder = corpus / "eu-ai-act"
    sources = {"html": folder / "2024-1689.html", "pdf": folder / "2024-1689-oj.pdf",
               "formex": folder / "2024-1689-formex" / "L_202401689EN.doc.fmx.xml"}
    wanted = re.compile(r"Article (5|50|53|55|101|113) > [^¶].*")  # paragraphs and points
    found = {}
    for name, path in sources.items():
        found[name] = {p for p in paths(_extract(corpus, path)) if wanted.fullmatch(p)}
    assert {"Article 53 > 1 > (b) > (ii)", "Article 5 > 1 > (h) > (iii)", "Article 113 > (c)"} <= found["html"]
    assert found["pdf"] == found["html"]
    assert found["formex"] == found["html"]


def test_corpus_gold_quotes_are_placed(corpus):
    import importlib.util

    import yaml

    gold_file = corpus.parent / "gold" / "dev.yaml"
    scorer = corpus.parent / "eval" / "score_tags.py"
    if not gold_file.is_file() or not scorer.is_file():
        pytest.skip("gold file or scorer not found beside the corpus")
    spec = importlib.util.spec_from_file_location("score_tags", scorer)
    score = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(score)
    problems = []
    for doc in yaml.safe_load(gold_file.read_text(encoding="utf-8"))["documents"]:
        text = _extract(corpus, corpus / doc["file"].split(":", 1)[1])
        texts = [score.norm(s.text) for s in segment(text)]
        holders = {}
        for index, clause in enumerate(doc["clauses"]):
            quote = score.norm(clause["quote"])
            hits = [k for k, t in enumerate(texts) if quote in t]
            if not hits:
                problems.append(f"unplaced in {doc['file']}: {clause['quote']}")
            for k in hits:
                holders.setdefault(k, []).append(index)
        problems += [f"merged in {doc['file']}: {[doc['clauses'][i]['quote'][:40] for i in q]}"
                     for q in holders.values() if len(q) > 1]
    assert not problems, "\n".join(problems)


def test_double_dash_section_headings_are_headings():
    text = ("Section 2 -- Scope.\n\na. License grant.\n\n1. You may reproduce the Licensed Material.\n\n"
            "Section 3 -- License Conditions.\n\nYou must keep the notices.\n")
    paths = [s.path for s in segment(text)]
    assert paths[0].startswith("Section 2 > a") and paths[-1].startswith("Section 3")
    assert not any("Scope" in s.text or "License Conditions" in s.text for s in segment(text))


def test_a_markdown_heading_with_a_section_number_is_a_heading_whatever_its_case():
    text = ("# Tool Licence\n\n## Section 1. Scope of use\n\n1.1 You may run the Tool.\n\n"
            "## Section 2. What you may not do\n\n2.1 You may not resell the Tool.\n")
    segs = segment(text)
    assert [(s.path, s.text) for s in segs] == [("Section 1.1", "You may run the Tool."),
                                               ("Section 2.1", "You may not resell the Tool.")]
    assert segs[1].heading == "Section 2. What you may not do"


@pytest.mark.parametrize("bullet", ["-", "*", "•"])
def test_a_bullet_in_front_of_a_letter_only_decorates_it(bullet):
    text = (f"Licence\n\n3. We allow you to:\n\n{bullet} (a) run the Tool;\n\n{bullet} (b) change the Tool; and\n\n"
            f"{bullet} (c) give copies to others.\n\n4. Nothing else is allowed.\n")
    segs = segment(text)
    assert [(s.path, s.label, s.text) for s in segs] == [
        ("Section 3", "3.", "We allow you to:"), ("Section 3 > (a)", "(a)", "run the Tool;"),
        ("Section 3 > (b)", "(b)", "change the Tool; and"), ("Section 3 > (c)", "(c)", "give copies to others."),
        ("Section 4", "4.", "Nothing else is allowed.")]
    # a bullet before plain text stays a bullet item
    assert [s.label for s in segment(f"Terms\n\nYou must not:\n\n{bullet} spam;\n\n{bullet} lie.\n")][1:] == [
        bullet, bullet]
