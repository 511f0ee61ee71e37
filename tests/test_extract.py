"""Extraction of HTML, Markdown, plain text and XML on small fixtures; format sniffing; the API."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from clausewatch.crawlers.extract import (
    EXTRACTOR_VERSION,
    Extracted,
    ExtractionError,
    extract,
    extract_path,
    formex_parts,
    sniff_format,
)

FIXTURES = Path(__file__).parent / "fixtures" / "extract"
EURLEX = {"keep": ["#docHtml"], "remove": ["script", "style", ".modref"]}


def blocks(text: str) -> list[str]:
    return text.split("\n\n")


def assert_normalised(text: str) -> None:
    assert "\r" not in text and "\u00a0" not in text and "\u00ad" not in text and "\u200b" not in text
    assert "\n\n\n" not in text
    assert all(line == line.rstrip() for line in text.split("\n"))


# -- API ------------------------------------------------------------------------------------------------

def test_api_types():
    assert isinstance(EXTRACTOR_VERSION, str) and EXTRACTOR_VERSION
    result = extract(b"Hello world.\n", "text")
    assert isinstance(result, Extracted)
    assert result.text == "Hello world." and result.title == "Hello world." and result.warnings == []


@pytest.mark.parametrize("fmt", ["html", "pdf", "xml", "markdown", "text"])
def test_empty_body_is_an_error(fmt):
    with pytest.raises(ExtractionError, match="no text"):
        extract(b"  \n ", fmt)


def test_unknown_format_is_an_error():
    with pytest.raises(ExtractionError, match="unknown format 'docx'"):
        extract(b"text", "docx")


def test_extract_path_missing_file(tmp_path):
    with pytest.raises(ExtractionError, match="cannot read"):
        extract_path(tmp_path / "nope.txt")


# -- sniffing -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("body, declared, content_type, expected", [
    (b"%PDF-1.7\n...", "html", "text/html", "pdf"),
    (b"\n%PDF-1.4 junk", "text", None, "pdf"),
    (b"<?xml version='1.0'?><ACT><P>x</P></ACT>", "html", None, "xml"),
    (b"<?xml version='1.0'?><html><body>x</body></html>", "xml", None, "html"),
    (b"<!DOCTYPE html><html><body>x</body></html>", "markdown", None, "html"),
    (b"\xef\xbb\xbf<html><body>x</body></html>", "html", None, "html"),
    (b"<div><p>fragment</p></div>", "html", None, "html"),
    (b"Plain licence text.\nSecond line.", "html", "text/html", "text"),
    (b"# Title\n\nSome *markdown*.", "markdown", "text/plain", "markdown"),
    (b"<p align=center>centred intro</p>\n\n# Title", "markdown", None, "markdown"),
    (b"Plain text", "text", None, "text"),
])
def test_sniff_format(body, declared, content_type, expected):
    assert sniff_format(body, declared, content_type) == expected


def test_plain_text_declared_html_is_read_as_text_and_selectors_are_skipped():
    result = extract(b"LICENCE\n\nYou may use this.\n", "html", selectors={"keep": ["#main"]})
    assert result.text == "LICENCE\n\nYou may use this."
    assert any("received text" in w and "selectors skipped" in w for w in result.warnings)


@pytest.mark.parametrize("fmt", ["pdf", "markdown", "text", "xml"])
def test_html_page_where_another_format_was_declared_is_an_error(fmt):
    with pytest.raises(ExtractionError, match=f"declared {fmt} but received html"):
        extract(b"<!DOCTYPE html><html><body>Please log in</body></html>", fmt)


# -- HTML -----------------------------------------------------------------------------------------------

def test_html_selectors_keep_structure_labels_headings_and_notes():
    result = extract((FIXTURES / "eurlex.html").read_bytes(), "html", selectors=EURLEX,
                     url="https://eur-lex.europa.eu/legal-content/EN/TXT/HTML/?uri=OJ:L_209900001")
    got = blocks(result.text)
    assert got[:2] == ["# REGULATION (EU) 2099/1 OF THE EUROPEAN PARLIAMENT", "# on test documents"]
    article = got.index("#### Article 1")
    assert got[article - 2:article] == ["## CHAPTER I", "## GENERAL PROVISIONS"]
    assert got[article + 1:article + 6] == [
        "#### Obligations of providers",
        "1. Providers shall:",
        "(a) draw up the technical documentation;",
        "(i) including its training process; and",
        "(b) keep it up to date.",
    ]
    assert "(1) The first recital of the test regulation." in got
    # footnote reference dropped, footnote moved to a closing Notes section
    assert "Having regard to the opinion of the Committee," in got
    assert got[-2:] == ["## Notes", "(1) OJ C 1, 1.1.2099, p. 1."]
    # superscript after a digit base is a power; links keep their address; removed selectors are gone
    assert "2. The threshold is 10^25 floating point operations, see the act (https://example.eu/act)." in got
    assert "Amended by" not in result.text and "not text" not in result.text and "TOC" not in result.text
    assert result.title == "REGULATION (EU) 2099/1 OF THE EUROPEAN PARLIAMENT"
    assert_normalised(result.text)


def test_html_keep_selector_matching_nothing_names_the_selector():
    with pytest.raises(ExtractionError, match="selector '#content' matched nothing"):
        extract((FIXTURES / "page.html").read_bytes(), "html", selectors={"keep": ["main", "#content"]})


def test_html_lists_tables_and_inline_markup():
    result = extract((FIXTURES / "page.html").read_bytes(), "html",
                     selectors={"keep": ["main"], "remove": [".ad"]}, url="https://example.com/licence")
    got = blocks(result.text)
    assert got == [
        "# Example Model Licence",
        "This licence governs use of the Example models (https://example.com/models) and "
        "https://example.com/terms.",
        "## 1. Permitted uses",
        "- Research use.",
        "- Commercial use, subject to:",
        "    1. attribution;",
        "    2. the acceptable use policy.",
        "Model | Licence",
        "Small | Apache-2.0",
        "Writtenby the team.\nSecond line.",
    ]
    assert result.title == "Example Model Licence"


def test_html_without_selectors_reads_the_main_element_without_navigation():
    result = extract((FIXTURES / "page.html").read_bytes(), "html")
    assert result.text.startswith("# Example Model Licence")
    assert "Home" not in result.text and "Copyright 2099" not in result.text
    assert any("no selectors" in w for w in result.warnings)


def test_html_without_selectors_or_main_falls_back_to_trafilatura():
    paragraphs = "".join(f"<p>Clause {i}. The licensee shall comply with term number {i} of this "
                         f"agreement at all times and without exception.</p>" for i in range(1, 9))
    page = (f"<html><head><title>Terms</title></head><body><div class='menu'><a href='/'>Home</a></div>"
            f"<div class='content'><h1>Terms of Use</h1>{paragraphs}</div></body></html>").encode()
    result = extract(page, "html")
    assert "Clause 1. The licensee shall comply" in result.text
    assert "Clause 8." in result.text
    assert any("trafilatura" in w for w in result.warnings)


def test_html_charset_from_meta_or_content_type():
    page = "<html><head><meta charset='windows-1252'></head><body><main><p>café “quoted”</p></main></body></html>"
    assert extract(page.encode("cp1252"), "html").text == "café “quoted”"
    page = "<html><body><main><p>Zürich Straße</p></main></body></html>"
    assert extract(page.encode("latin-1"), "html", content_type="text/html; charset=ISO-8859-1").text == \
        "Zürich Straße"


# -- Markdown -------------------------------------------------------------------------------------------

def test_markdown_nested_lists_links_tables_and_front_matter():
    result = extract_path(FIXTURES / "nested.md")
    got = blocks(result.text)
    assert result.title == "Example Acceptable Use Policy"
    assert got[0] == "# Example Acceptable Use Policy"
    assert "You agree you will not use the model to:" in got
    assert got[got.index("1. Violate the law, including to:"):][:6] == [
        "1. Violate the law, including to:",
        "    1. Engage in illegal activity, such as:",
        "        1. Violence or terrorism",
        "        2. Fraud",
        "    2. Harass others",
        "2. Deceive others, see the guide (https://example.com/guide) or https://example.com/faq.",
    ]
    assert ["Tier | Limit", "Free | 10", "Pro | 100"] == [b for b in got if "|" in b]
    assert "code stays as is" in got
    assert got[-1] == "Report violations at abuse@example.com."
    assert "editorial note" not in result.text and "*" not in result.text and "date:" not in result.text


def test_markdown_soft_wrapped_paragraphs_and_emphasis():
    source = (b"Intro line one\ncontinues here with **bold** and _em_ and snake_case_name.\n\n"
              b"- item one\n  wrapped\n- item two\n\n3. not a list when it interrupts\n")
    got = blocks(extract(source, "markdown").text)
    assert got == ["Intro line one continues here with bold and em and snake_case_name.",
                   "- item one wrapped", "- item two", "3. not a list when it interrupts"]


# -- plain text -----------------------------------------------------------------------------------------

def test_text_cp1252_fallback_keeps_hard_wrapped_lines():
    result = extract_path(FIXTURES / "cp1252.txt")
    assert result.text == ("Licence\n\nThe café “quoted” terms – cp1252.\n"
                           "A hard-wrapped\nparagraph stays wrapped.")
    assert any("Windows-1252" in w for w in result.warnings)


def test_text_charset_from_content_type():
    body = "Лицензия: условия".encode("koi8-r")
    result = extract(body, "text", content_type="text/plain; charset=KOI8-R")
    assert result.text == "Лицензия: условия"


def test_text_normalisation_rules():
    body = ("Title  \r\n\r\n\r\n\r\nnon\u00a0breaking soft\u00adhyphen zero\u200bwidth e\u0301\t\r\n"
            "last line   ").encode()
    assert extract(body, "text").text == "Title\n\nnon breaking softhyphen zerowidth é\nlast line"


def test_text_invalid_utf8_never_crashes():
    body = b"ok \xff\xfe\x81 bytes"
    assert extract(body, "text").text.startswith("ok ")


def test_binary_declared_as_text_is_an_error():
    body = bytes(range(256)) * 8
    with pytest.raises(ExtractionError, match="looks binary"):
        extract(body, "text")


# -- XML / Formex ---------------------------------------------------------------------------------------

def test_formex_parts_in_document_order():
    index = (FIXTURES / "formex" / "L_209900001EN.doc.fmx.xml").read_bytes()
    assert formex_parts(index) == ["L_209900001EN.000101.fmx.xml", "L_209900001EN.000201.fmx.xml"]


def test_formex_package_assembles_act_and_annexes():
    result = extract_path(FIXTURES / "formex" / "L_209900001EN.doc.fmx.xml")
    got = blocks(result.text)
    assert result.title == "REGULATION (EU) 2099/1 OF THE EUROPEAN PARLIAMENT"
    article = got.index("#### Article 1")
    assert got[article - 2:article] == ["## CHAPTER I", "## GENERAL PROVISIONS"]
    assert got[article + 1:article + 7] == [
        "#### Obligations of providers",
        "1. Providers shall:",
        "(a) draw up the technical documentation;",
        "(i) including its training process; and",
        "(b) keep it up to date.",
        "2. The threshold is 10^25 floating point operations and EUR 35 000 000, the ‘Act’.",
    ]
    annex = got.index("## ANNEX I")
    assert got[annex:annex + 6] == ["## ANNEX I", "## List of test legislation", "### Section A",
                                    "### New framework", "— terrorism,", "— fraud."]
    assert got[-2:] == ["## Notes", "(1) OJ C 1, 1.1.2099, p. 1."]
    assert "Having regard to the opinion of the Committee," in got


def test_formex_same_structure_as_eurlex_html():
    html = blocks(extract((FIXTURES / "eurlex.html").read_bytes(), "html", selectors=EURLEX).text)
    fmx = blocks(extract_path(FIXTURES / "formex" / "L_209900001EN.doc.fmx.xml").text)
    start = html.index("## CHAPTER I")
    assert fmx[fmx.index("## CHAPTER I"):][:7] == html[start:start + 7]


def test_formex_index_without_its_parts_is_an_error(tmp_path):
    index = FIXTURES / "formex" / "L_209900001EN.doc.fmx.xml"
    with pytest.raises(ExtractionError, match="without its parts"):
        extract(index.read_bytes(), "xml")
    shutil.copy(index, tmp_path / index.name)
    shutil.copy(FIXTURES / "formex" / "L_209900001EN.000101.fmx.xml", tmp_path)
    with pytest.raises(ExtractionError, match="L_209900001EN.000201.fmx.xml is missing"):
        extract_path(tmp_path / index.name)


def test_formex_parts_of_a_non_index_is_an_error():
    with pytest.raises(ExtractionError, match="not a Formex package index"):
        formex_parts(b"<ACT><TITLE/></ACT>")


def test_malformed_xml_is_an_error():
    with pytest.raises(ExtractionError, match="malformed XML"):
        extract(b"<?xml version='1.0'?><ACT><P>unclosed</ACT>", "xml")


def test_plain_xml_is_text_by_blocks():
    body = b"<?xml version='1.0'?><terms><title>Terms</title><clause>Use <b>freely</b>.</clause></terms>"
    result = extract(body, "xml")
    assert blocks(result.text) == ["Terms", "Use freely."]
    assert any("not Formex" in w for w in result.warnings)


# -- robustness -----------------------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(body=st.binary(max_size=600), fmt=st.sampled_from(["html", "pdf", "xml", "markdown", "text"]))
def test_any_bytes_give_text_or_an_extraction_error(body, fmt):
    try:
        result = extract(body, fmt)
    except ExtractionError as exc:
        assert str(exc) and "\n" not in str(exc)
    else:
        assert result.text.strip()
        assert_normalised(result.text)


@settings(max_examples=60, deadline=None)
@given(source=st.text(alphabet="*_[]()<>`#-1. \n|ab~!:/", max_size=300))
def test_markdown_punctuation_soup_never_crashes(source):
    try:
        result = extract(("word " + source).encode(), "markdown")
    except ExtractionError:
        return
    assert_normalised(result.text)


def test_markdown_hard_line_break_ends_a_block():
    from clausewatch.crawlers.extract import extract

    body = b"Text of (gg), the last definition.  \nSec. 4. Ensuring Safety.\n\n4.1. Guidelines.\n"
    text = extract(body, "markdown").text
    assert "definition.\n\nSec. 4. Ensuring Safety." in text
