"""What was actually received: servers mislabel documents, and sources change format."""
from __future__ import annotations

import re

FORMATS = ("html", "pdf", "xml", "markdown", "text")

_PROLOG = re.compile(r"^(?:\s+|<\?[^>]*\?>|<!--.*?-->|<!doctype[^>]*>)*", re.DOTALL | re.IGNORECASE)
_ROOT = re.compile(r"<([a-zA-Z_][\w.:-]*)")
_HTML_DOCTYPE = re.compile(r"<!doctype\s+html", re.IGNORECASE)
_HTML_MARKERS = re.compile(r"<(html|head|body)[\s>]", re.IGNORECASE)
_HTML_FRAGMENT_TAGS = {"html", "head", "body", "div", "p", "span", "section", "article", "main", "table",
                       "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "meta", "link", "title", "script",
                       "style", "header", "nav", "a", "br", "form", "iframe", "noscript"}


def _head(body: bytes) -> str:
    head = body[:4096]
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head.decode("utf-16", errors="replace")
    return head.decode("latin-1").lstrip("\ufeff").replace("ï»¿", "", 1)


def root_element(body: bytes) -> str | None:
    """The name of the first element of a markup document (None when the body is not markup)."""
    head = _head(body)
    rest = head[_PROLOG.match(head).end():]
    if not rest.startswith("<"):
        return None
    match = _ROOT.match(rest)
    return match.group(1) if match else None


def sniff_format(body: bytes, declared: str, content_type: str | None = None) -> str:
    """The format actually received: ``pdf``, ``xml``, ``html``, else the declared ``markdown``/``text``.

    A body starting with ``%PDF-`` is a PDF whatever the declaration or Content-Type; XML whose root
    element is not ``html`` is XML; an HTML document is HTML; a declared html/xml body that is not
    markup at all is plain text.
    """
    if b"%PDF-" in body[:1024]:
        return "pdf"
    head = _head(body)
    stripped = head.lstrip()
    ctype = (content_type or "").split(";")[0].strip().lower()
    root = root_element(body)
    if root is not None:
        name = root.split(":")[-1].lower()
        if name == "html" or _HTML_DOCTYPE.search(head[:512]):
            return "html"
        if stripped.startswith("<?xml") or declared == "xml" or ctype.endswith("xml"):
            return "xml"
        if declared == "html" or name in _HTML_FRAGMENT_TAGS and declared not in ("markdown", "text"):
            return "html"
        return declared if declared in FORMATS else "text"
    if declared in ("html", "xml"):
        # Some pages put text (or a byte-order mark, or a stray line) before <html>.
        if _HTML_MARKERS.search(head):
            return "html"
        return "markdown" if ctype == "text/markdown" else "text"
    if declared in ("markdown", "text") and _HTML_DOCTYPE.match(stripped):
        return "html"
    return declared if declared in FORMATS else "text"
