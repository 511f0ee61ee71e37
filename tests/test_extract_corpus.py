"""Extraction of the real corpus (skipped when ../shared/corpus is absent): every file, and the EU AI Act
read from its HTML, PDF and Formex copies into the same article structure."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from clausewatch.crawlers.extract import extract, extract_path, formex_parts
from tests.conftest import ROOT

FORMATS = {"txt": "text", "md": "markdown", "html": "html", "pdf": "pdf", "xml": "xml"}
ARTICLE = re.compile(r"^#{1,6} Article (\d+)$")


def declared_selectors() -> dict[str, dict]:
    """Corpus path -> selectors of the source declaration that replays it."""
    found = {}
    for path in (ROOT / "crawlers" / "sources").glob("*.yaml"):
        data = yaml.safe_load(path.read_text()) or {}
        for rel in data.get("replay") or []:
            if data.get("selectors"):
                found[rel] = data["selectors"]
    return found


def corpus_entries(corpus: Path) -> list[dict]:
    return yaml.safe_load((corpus / "MANIFEST.yaml").read_text())["files"]


def test_every_corpus_file_extracts(corpus):
    selectors = declared_selectors()
    failures = []
    for entry in corpus_entries(corpus):
        rel = entry["path"]
        fmt = FORMATS[entry.get("format") or Path(rel).suffix.lstrip(".")]
        path = corpus / rel
        try:
            if fmt == "xml":
                result = extract_path(path)
            else:
                result = extract(path.read_bytes(), fmt, selectors=selectors.get(rel))
        except Exception as exc:  # report every failing file, not just the first
            failures.append(f"{rel}: {type(exc).__name__}: {exc}")
            continue
        if not result.text.strip():
            failures.append(f"{rel}: empty text")
        if "\r" in result.text or "\n\n\n" in result.text:
            failures.append(f"{rel}: text is not normalised")
    assert not failures, "\n".join(failures)


@pytest.fixture(scope="module")
def ai_act(corpus) -> dict[str, list[str]]:
    folder = corpus / "eu-ai-act"
    html = extract((folder / "2024-1689.html").read_bytes(), "html",
                   selectors=declared_selectors().get("eu-ai-act/2024-1689.html", {"keep": ["#docHtml"]}))
    pdf = extract((folder / "2024-1689-oj.pdf").read_bytes(), "pdf")
    formex = extract_path(folder / "2024-1689-formex" / "L_202401689EN.doc.fmx.xml")
    return {name: result.text.split("\n\n") for name, result in
            (("html", html), ("pdf", pdf), ("formex", formex))}


@pytest.mark.parametrize("copy", ["html", "pdf", "formex"])
def test_ai_act_article_headings_in_order(ai_act, copy):
    numbers = [int(m.group(1)) for b in ai_act[copy] if (m := ARTICLE.match(b))]
    assert numbers == list(range(1, 114))


@pytest.mark.parametrize("copy", ["html", "pdf", "formex"])
def test_ai_act_article_53_paragraph_1_points(ai_act, copy):
    blocks = ai_act[copy]
    start = next(i for i, b in enumerate(blocks) if ARTICLE.match(b) and b.endswith(" 53"))
    assert blocks[start + 1].lstrip("# ") == "Obligations for providers of general-purpose AI models"
    assert blocks[start + 2] == "1. Providers of general-purpose AI models shall:"
    labels = [b.split(" ", 1)[0] for b in blocks[start + 3:start + 9]]
    assert labels == ["(a)", "(b)", "(i)", "(ii)", "(c)", "(d)"]
    assert blocks[start + 3].startswith("(a) draw up and keep up-to-date the technical documentation of the model")
    assert blocks[start + 9].startswith("2. The obligations set out in paragraph 1, points (a) and (b)")


def test_ai_act_copies_agree_on_article_titles_and_labels(ai_act):
    def outline(blocks: list[str]) -> list[tuple[int, str]]:
        out, article = [], None
        for block in blocks:
            if m := ARTICLE.match(block):
                article = int(m.group(1))
            elif block.startswith("## ANNEX") or block == "## Notes":
                article = None
            elif article is not None:
                label = re.match(r"^(#+ .*|\(\w+\)|‘?\d+\.)", block)
                out.append((article, label.group(1) if label else ""))
        return out

    html, pdf, formex = (outline(ai_act[name]) for name in ("html", "pdf", "formex"))
    assert html == formex
    # The PDF differs only where the print layout is ambiguous; titles and labels must agree.
    assert [x for x in pdf if x[1]] == [x for x in html if x[1]]


def test_ai_act_pdf_without_running_heads_and_with_powers(ai_act):
    text = "\n\n".join(ai_act["pdf"])
    assert not [b for b in ai_act["pdf"] if b.startswith("ELI: http") or b.endswith("/oj")]
    assert not re.search(r"^\d+/144\b|\b\d+/144$", text, re.MULTILINE)
    assert "OJ L, 12.7.2024" not in text
    assert "greater than 10^25." in text
    for copy in ("html", "formex"):
        assert "greater than 10^25." in "\n\n".join(ai_act[copy])


def test_formex_index_lists_the_annexes(corpus):
    index = corpus / "eu-ai-act" / "2024-1689-formex" / "L_202401689EN.doc.fmx.xml"
    parts = formex_parts(index.read_bytes())
    assert parts[0] == "L_202401689EN.000101.fmx.xml" and len(parts) == 14
    assert "L_202401689EN.toc.fmx.xml" not in parts


def test_llama_aup_keeps_three_nesting_levels(corpus):
    blocks = extract_path(corpus / "llama-aup" / "3.2.md").text.split("\n\n")
    assert "1. Violate the law or others’ rights, including to:" in blocks
    assert any(b.startswith("    1. Engage in, promote, generate") for b in blocks)
    assert "        1. Violence or terrorism" in blocks
    assert not any(b.startswith("            ") for b in blocks)
