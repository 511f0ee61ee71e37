"""PDF extraction on PDFs generated here: layout rebuilt, furniture removed, broken files refused."""
from __future__ import annotations

import importlib.util
import io
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter

from clausewatch.crawlers.extract import ExtractionError, extract

_spec = importlib.util.spec_from_file_location("pdfgen", Path(__file__).parent / "fixtures" / "extract" / "pdfgen.py")
pdfgen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(pdfgen)


@pytest.fixture(scope="module")
def act_pdf() -> bytes:
    return pdfgen.make_pdf(pdfgen.act_pages(4))


@pytest.fixture(scope="module")
def act_blocks(act_pdf) -> list[str]:
    return extract(act_pdf, "pdf").text.split("\n\n")


def test_article_structure(act_blocks):
    start = act_blocks.index("#### Article 2")
    assert act_blocks[start:start + 7] == [
        "#### Article 2",
        "#### Obligations number 2",
        "1. Providers of general-purpose models shall:",
        "(a) draw up the technical documentation of the model, including its training process and the "
        "results of its evaluation;",
        "(b) keep the documentation up to date; and",
        "(c) publish a summary of the implementation of this implementation plan.",
        "2. A model is presumed to have high impact when its training used more than 10^25 floating point "
        "operations, as noted by the Committee.",
    ]
    assert [b for b in act_blocks if b.startswith("#### Article")] == [f"#### Article {n}" for n in range(1, 5)]


def test_running_headers_footers_and_footnotes(act_blocks):
    text = "\n".join(act_blocks)
    assert "ELI: http" not in text and "OJ L, 1.1.2099" not in text
    notes = act_blocks[act_blocks.index("## Notes"):]
    assert notes == ["## Notes", "(1) OJ C 1, 1.1.2099, p. 1.", "(1) Position of the European Parliament.",
                     "(1) Opinion of the Committee.", "(1) Decision of the Council."]


def test_page_numbers_are_removed_and_paragraphs_continue_across_pages():
    pages = [
        [(72, 700, 11, "1. The licensee may use the model for any purpose that is lawful and"),
         (72, 686, 11, "consistent with"), (297, 30, 9, "1")],
        [(72, 700, 11, "this agreement and its acceptable use policy."),
         (72, 660, 11, "2. The licensee shall not remove notices."), (297, 30, 9, "2")],
    ]
    result = extract(pdfgen.make_pdf(pages), "pdf")
    assert result.text.split("\n\n") == [
        "1. The licensee may use the model for any purpose that is lawful and consistent with this "
        "agreement and its acceptable use policy.",
        "2. The licensee shall not remove notices.",
    ]


def test_larger_type_is_a_heading_and_gaps_separate_paragraphs():
    pages = [[(72, 760, 20, "Responsible Use Guide"),
              (72, 720, 10, "First paragraph of the guide, which"),
              (72, 708, 10, "wraps onto a second line."),
              (72, 680, 10, "Second paragraph.")]]
    result = extract(pdfgen.make_pdf(pages), "pdf")
    assert result.text.split("\n\n") == ["# Responsible Use Guide",
                                         "First paragraph of the guide, which wraps onto a second line.",
                                         "Second paragraph."]
    assert result.title == "Responsible Use Guide"


def test_blank_page_has_no_text_layer():
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    with pytest.raises(ExtractionError, match="no text layer"):
        extract(buffer.getvalue(), "pdf")


def test_encrypted_pdf_is_refused(act_pdf):
    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(act_pdf)).pages:
        writer.add_page(page)
    writer.encrypt(user_password="secret", owner_password="owner")
    buffer = io.BytesIO()
    writer.write(buffer)
    with pytest.raises(ExtractionError, match="encrypted"):
        extract(buffer.getvalue(), "pdf")


def test_truncated_pdf_is_refused(act_pdf):
    with pytest.raises(ExtractionError, match="truncated"):
        extract(act_pdf[: len(act_pdf) // 2], "pdf")


def test_garbage_with_a_pdf_header_is_refused():
    with pytest.raises(ExtractionError, match="not a readable PDF"):
        extract(b"%PDF-1.4\n" + b"\x00garbage\xff" * 50 + b"\n%%EOF\n", "pdf")


def test_pdf_served_as_html_is_read_as_pdf(act_pdf):
    result = extract(act_pdf, "html", selectors={"keep": ["#docHtml"]})
    assert "#### Article 1" in result.text
    assert any("declared html but received pdf" in w for w in result.warnings)
