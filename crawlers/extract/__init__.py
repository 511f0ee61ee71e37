"""Text extraction: raw document bytes -> normalised structured text (see docs/architecture.md).

    result = extract(body, "html", selectors={"keep": ["#docHtml"]})
    result.text, result.title, result.warnings
"""
from __future__ import annotations

from pathlib import Path

from clausewatch.crawlers.extract.base import Extracted, ExtractionError
from clausewatch.crawlers.extract.sniff import FORMATS, sniff_format

# Bump whenever the text produced for the same bytes changes: stored versions are re-extracted.
EXTRACTOR_VERSION = "1.0.2"

__all__ = ["EXTRACTOR_VERSION", "Extracted", "ExtractionError", "extract", "extract_path", "formex_parts",
           "sniff_format"]

# Received formats read in place of the declared one: servers label PDFs text/html, and pages move to plain
# text. Anything else (an HTML page where a PDF, Markdown or Formex file was expected) is a wrong document.
_TOLERATED = {("html", "text"), ("html", "markdown"), ("html", "xml"), ("html", "pdf"), ("xml", "pdf"), ("markdown", "pdf"),
              ("text", "pdf")}

_EXTENSIONS = {".html": "html", ".htm": "html", ".xhtml": "html", ".pdf": "pdf", ".xml": "xml",
               ".md": "markdown", ".markdown": "markdown", ".txt": "text", ".text": "text"}


def extract(body: bytes, fmt: str, *, selectors: dict | None = None, parts: dict[str, bytes] | None = None,
            url: str | None = None, content_type: str | None = None) -> Extracted:
    """Extract normalised structured text from ``body`` declared as ``fmt``.

    The format actually received (``sniff_format``) wins where that is safe: a PDF served as text/html is
    read as a PDF, a page declared html that is plain text (or Markdown served as text/markdown) is read as
    such (its selectors skipped). Any
    other mismatch, such as an HTML page where a PDF or Markdown file was expected, raises ExtractionError,
    as does anything from which no text can be extracted; messages are one line.
    """
    if fmt not in FORMATS:
        raise ExtractionError(f"unknown format {fmt!r} (expected one of {', '.join(FORMATS)})")
    if body is None or not body.strip():
        raise ExtractionError("no text: the document is empty")
    actual = sniff_format(body, fmt, content_type)
    warnings: list[str] = []
    if actual != fmt:
        if (fmt, actual) not in _TOLERATED:
            detail = " (no %PDF- header)" if fmt == "pdf" else ""
            raise ExtractionError(f"declared {fmt} but received {actual}{detail}")
        warnings.append(f"declared {fmt} but received {actual}; extracted as {actual}"
                        + ("; selectors skipped" if selectors and (selectors.get("keep") or selectors.get("remove"))
                           and actual != "html" else ""))
    try:
        result = _dispatch(actual, body, selectors, parts, url, content_type)
    except ExtractionError:
        raise
    except Exception as exc:  # a bug must not stop a crawl: report it on this document, keep the rest
        raise ExtractionError(f"internal error reading this {actual} document "
                              f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''})") from exc
    result.warnings[:0] = warnings
    if selectors and (selectors.get("start") or selectors.get("end") or selectors.get("drop")):
        result.text = document_part(result.text, selectors)
    return result


def document_part(text: str, selectors: dict) -> str:
    """The part of an extracted text that is the document, for any format: from the first block matching
    ``start`` (a regular expression, searched in each block), up to the first later block matching ``end``,
    without the blocks matching any of ``drop`` (counters, "Share this", teaser lines). A ``start`` or
    ``end`` that matches no block is an error: the page changed and its declaration must be looked at."""
    import re

    blocks = text.split("\n\n")
    if selectors.get("start"):
        pattern = re.compile(selectors["start"])
        first = next((k for k, b in enumerate(blocks) if pattern.search(b)), None)
        if first is None:
            raise ExtractionError(f"selector start {selectors['start']!r} matches no block of the document")
        blocks = blocks[first:]
    if selectors.get("end"):
        pattern = re.compile(selectors["end"])
        last = next((k for k, b in enumerate(blocks) if k > 0 and pattern.search(b)), None)
        if last is None:
            raise ExtractionError(f"selector end {selectors['end']!r} matches no block of the document")
        blocks = blocks[:last]
    drops = [re.compile(p) for p in selectors.get("drop") or []]
    blocks = [b for b in blocks if not any(p.search(b) for p in drops)]
    out = "\n\n".join(blocks).strip()
    if not out:
        raise ExtractionError("no text left once the declared start, end and drop selectors are applied")
    return out


def _dispatch(actual: str, body: bytes, selectors: dict | None, parts: dict[str, bytes] | None,
              url: str | None, content_type: str | None) -> Extracted:
    if actual == "pdf":
        from clausewatch.crawlers.extract.pdf import extract_pdf

        return extract_pdf(body)
    if actual == "html":
        from clausewatch.crawlers.extract.html import extract_html

        css = {k: v for k, v in (selectors or {}).items() if k in ("keep", "remove")} or None
        return extract_html(body, selectors=css, url=url, content_type=content_type)
    if actual == "xml":
        from clausewatch.crawlers.extract.formex import extract_xml

        return extract_xml(body, parts=parts)
    if actual == "markdown":
        from clausewatch.crawlers.extract.markdown import extract_markdown

        return extract_markdown(body, content_type)
    from clausewatch.crawlers.extract.text import extract_text

    return extract_text(body, content_type)


def formex_parts(body: bytes) -> list[str]:
    """File names a Formex package index (``<DOC>`` with ``REF.PHYS``) refers to, in document order."""
    from clausewatch.crawlers.extract.formex import formex_parts as parts_of

    return parts_of(body)


def extract_path(path: str | Path, fmt: str | None = None, *, selectors: dict | None = None) -> Extracted:
    """Extract a file; the format comes from its extension, a Formex index reads its parts beside it."""
    path = Path(path)
    try:
        body = path.read_bytes()
    except OSError as exc:
        raise ExtractionError(f"{path}: cannot read ({exc.strerror or exc})") from None
    fmt = fmt or _EXTENSIONS.get(path.suffix.lower(), "text")
    parts = None
    if sniff_format(body, fmt) == "xml":
        from clausewatch.crawlers.extract.formex import formex_parts as parts_of
        from clausewatch.crawlers.extract.formex import is_formex_index

        if is_formex_index(body):
            parts = {}
            for name in parts_of(body):
                part = path.parent / name
                if not part.is_file():
                    raise ExtractionError(f"{path}: Formex part {name} is missing beside the index")
                parts[name] = part.read_bytes()
    try:
        return extract(body, fmt, selectors=selectors, parts=parts)
    except ExtractionError as exc:
        raise ExtractionError(f"{path.name}: {exc}") from None
