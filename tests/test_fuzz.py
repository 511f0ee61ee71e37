"""Property-based fuzzing (hypothesis) of extraction, segmentation and tagging: no crash, no hang.

Every input runs under a deadline (``SIGALRM``): a hang fails the test with the input that caused it
instead of stalling the suite. Inputs are derandomized so that CI runs the same examples every time;
set ``CLAUSEWATCH_FUZZ_EXAMPLES`` to explore more.
"""
from __future__ import annotations

import io
import os
import signal
import time
import unicodedata
from contextlib import contextmanager

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

pytest.register_assert_rewrite("tests.faultserver")

from clausewatch.crawlers.extract import ExtractionError, extract  # noqa: E402
from clausewatch.crawlers.extract.sniff import FORMATS  # noqa: E402
from tests.faultserver import fault  # noqa: E402

pytest_plugins = ["tests.faultserver"]  # fixtures: observed, and the fault matrix row of each test

EXAMPLES = int(os.environ.get("CLAUSEWATCH_FUZZ_EXAMPLES", "60"))
SECONDS = float(os.environ.get("CLAUSEWATCH_FUZZ_SECONDS", "5"))   # per input; generous for a loaded CI box
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


class Hang(AssertionError):
    """An input that took longer than the per-input deadline."""


@contextmanager
def bounded(what: str, seconds: float = SECONDS):
    def alarm(signum, frame):
        raise Hang(f"{what} took longer than {seconds} s")
    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def check_extracted(body: bytes, fmt: str, content_type: str | None = None) -> str | None:
    """Extract under a deadline: an ExtractionError (one line) or a non-empty normalised text."""
    with bounded(f"extract({len(body)} bytes, {fmt!r})"):
        try:
            result = extract(body, fmt, content_type=content_type)
        except ExtractionError as exc:
            message = str(exc)
            assert message and "\n" not in message.strip(), f"not one line: {message!r}"
            return None
    text = result.text
    assert isinstance(text, str) and text.strip(), "an empty text must be an ExtractionError"
    assert "\r" not in text and "\n\n\n" not in text and "\u00ad" not in text and "\u200b" not in text
    assert unicodedata.is_normalized("NFC", text)
    return text


# ---------------------------------------------------------------- strategies

TAGS = ["html", "head", "body", "main", "div", "p", "span", "h1", "h2", "ol", "ul", "li", "table", "tr", "td",
        "script", "style", "a", "b", "br", "pre", "section", "article", "nav", "title", "meta", "sup", "!--",
        "![CDATA[", "?xml", "!DOCTYPE html", "ACT", "ARTICLE", "TI.ART", "ALINEA", "NP", "NO.P", "TXT", "DOC"]
WORDS = ["Licence", "Article 53", "(a)", "1.", "1.1", "Section 2.", "§ 4", "ANNEX XI", "shall", "must not",
         "10^25 FLOPs", "700 million monthly active users", "€35,000,000", "7%", "Llama 3", "Apache-2.0",
         "&amp;", "&nbsp;", "&#x0;", "&#xD800;", "\u00ad", "\u200b", "\ufeff", "\u2028", "\x00", "\x0c",
         "é", "ﬁ", "\u0301", "日本語", "\U0001f600", "-\n", "    ", "\t", "\r\n", "\n\n\n", "#", "**", "* ", "> "]


def _markup(draw_tag, text):
    return st.one_of(
        st.builds(lambda t, x: f"<{t}>{x}", draw_tag, text),
        st.builds(lambda t: f"</{t}>", draw_tag),
        st.builds(lambda t, x: f'<{t} class="{x}" id=art_{x}>', draw_tag, text),
        text,
    )


text_bits = st.one_of(st.sampled_from(WORDS), st.text(max_size=30))
markup = st.lists(_markup(st.sampled_from(TAGS), text_bits), max_size=60).map("".join)
legal_lines = st.lists(st.one_of(
    st.sampled_from(WORDS),
    st.builds(lambda n, w: f"{n} {w}", st.sampled_from(["1.", "2.", "(a)", "(b)", "(i)", "(ii)", "a)", "Article 5",
                                                        "Section 3.", "1.1", "1.1.1", "ANNEX I", "#", "##", "-", "*"]),
              st.text(max_size=40)),
    st.text(max_size=80)), max_size=80).map("\n".join)


# ---------------------------------------------------------------- extraction

@fault("fuzzed extraction", f"{EXAMPLES} random byte strings per declared format, plus markup built from HTML, "
       "Formex and Markdown fragments with control characters, bad entities and broken nesting",
       "an ExtractionError (one line) or a normalised non-empty text; each input under 5 s")
@FUZZ
@given(body=st.binary(max_size=6000), fmt=st.sampled_from(FORMATS),
       content_type=st.sampled_from([None, "text/html; charset=utf-8", "text/plain; charset=iso-8859-1",
                                     "application/pdf", "application/xml", "text/markdown; charset=bogus"]))
def test_extract_survives_random_bytes(body, fmt, content_type):
    check_extracted(body, fmt, content_type)


@fault("fuzzed markup", f"{EXAMPLES} documents built from HTML, Formex and Markdown fragments with control "
       "characters, bad entities, surrogates and broken nesting", "an ExtractionError or a normalised text; no crash")
@FUZZ
@given(body=markup, fmt=st.sampled_from(["html", "xml", "markdown", "text"]))
def test_extract_survives_broken_markup(body, fmt):
    check_extracted(body.encode("utf-8", "surrogatepass"), fmt)


def _pdf() -> bytes:
    from tests.test_faults_documents import text_pdf

    return text_pdf(["Example Licence", "1. You may use the Model.", "2. You must not use it for weapons."])


@fault("fuzzed PDFs", f"{EXAMPLES} copies of a valid PDF with bytes overwritten and cut at random",
       "an ExtractionError or a normalised text; PDFium never crashes the process")
@FUZZ
@given(cuts=st.lists(st.tuples(st.integers(0, 2000), st.binary(max_size=8)), max_size=6),
       keep=st.integers(0, 2000))
def test_extract_survives_corrupted_pdfs(cuts, keep):
    body = bytearray(_pdf())
    for offset, junk in cuts:
        offset %= len(body)
        body[offset:offset + len(junk)] = junk
    body = bytes(body[:max(keep, 16)]) if keep < len(body) else bytes(body)
    check_extracted(body, "pdf")


@pytest.mark.parametrize("fmt", ["text", "markdown", "html"])
@fault("huge inputs", "a 2 MB document on one line (text, Markdown, HTML); texts of 100-300 KB with 400 levels "
       "of numbering, 20,000 labels or 3,000 headings", "extracted and analysed within the deadline")
def test_extract_one_huge_line_is_bounded(fmt, observed):
    body = ("<p>" if fmt == "html" else "") + "the licensee may use the model and " * 60_000   # ~2 MB, no break
    started = time.monotonic()
    text = check_extracted(body.encode(), fmt)
    observed(f"{fmt}: {len(text or ''):,} chars in {time.monotonic() - started:.1f} s")
    assert text and "licensee" in text


# ---------------------------------------------------------------- segmentation and tagging

@fault("fuzzed segmentation and tagging", f"{EXAMPLES} texts each of random Unicode and of legal-looking lines "
       "(labels, headings, bullets, entities, control characters)",
       "segment() and analyse() return spans inside the text; no crash; each input under 5 s")
@FUZZ
@given(text=st.one_of(legal_lines, st.text(max_size=2000)))
def test_segment_survives_anything(text):
    from clausewatch.nlp.segment import segment

    with bounded(f"segment({len(text)} chars)"):
        segments = segment(text)
    for seg in segments:
        assert 0 <= seg.start <= seg.end <= len(text), (seg.start, seg.end, len(text))
        assert seg.path


@fault("fuzzed segmentation and tagging", "", "")
@FUZZ
@given(text=st.one_of(legal_lines, st.text(max_size=1500)))
def test_analyse_survives_anything(text):
    from clausewatch.nlp import analyse

    with bounded(f"analyse({len(text)} chars)"):
        clauses = analyse(text)
    for clause in clauses:
        data = clause.to_json()
        assert isinstance(data, dict)
        for entity in clause.entities:
            assert 0 <= entity.start <= entity.end


@pytest.mark.parametrize("shape", ["one huge line", "deep numbering", "many labels", "many headings"])
@fault("huge inputs", "", "")
def test_analyse_pathological_texts_are_bounded(shape, observed):
    from clausewatch.nlp import analyse

    text = {
        "one huge line": "The licensee shall not use the model to exceed 700 million monthly active users. " * 4000,
        "deep numbering": "\n\n".join("1." * depth + f" Clause at depth {depth}." for depth in range(1, 400)),
        "many labels": " ".join(f"({chr(97 + i % 26)}) item" for i in range(20_000)),
        "many headings": "\n\n".join(f"## Article {i}\n\n{i}. Text of article {i}." for i in range(3000)),
    }[shape]
    started = time.monotonic()
    with bounded(f"analyse({shape}, {len(text):,} chars)", seconds=4 * SECONDS):
        clauses = analyse(text)
    observed(f"analyse {shape}: {len(clauses):,} clause(s) in {time.monotonic() - started:.1f} s")
    assert clauses


def test_deadline_catches_a_hang():
    """The guard itself works: a loop that never ends is stopped."""
    with pytest.raises(Hang), bounded("a busy loop", seconds=0.2):
        while True:
            io.BytesIO(b"x").read()
