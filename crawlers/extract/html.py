"""HTML: declared CSS selectors with selectolax (lexbor), trafilatura as the fallback for unknown pages.

Block elements become blocks, ``h1``-``h6`` become ``#`` headings, list items and label tables keep their
labels ("(a) text"), superscripts after a digit read as powers ("10^25"), footnote references are dropped
and footnote bodies move to a closing "Notes" section. EUR-Lex title classes (``oj-ti-art``...) are
headings whose level follows the legal structure (see ``normalize.legal_heading_level``).
"""
from __future__ import annotations

import re
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser, LexborNode

from clausewatch.crawlers.extract.base import Extracted, ExtractionError
from clausewatch.crawlers.extract.markdown import link_suffix, parse_blocks
from clausewatch.crawlers.extract.normalize import (
    FULL_LABEL,
    heading,
    is_legal_heading_line,
    join_blocks,
    legal_heading_level,
    notes_section,
    squash,
)
from clausewatch.crawlers.extract.text import decode

BLOCK = frozenset("""address article aside blockquote body center dd details dialog div dl dt fieldset
figcaption figure footer form header hgroup hr html li main nav ol p pre section summary table tbody thead
tfoot tr td th ul caption legend h1 h2 h3 h4 h5 h6""".split())
SKIP = frozenset("""script style noscript template head svg canvas iframe object embed button select input
textarea option map audio video -comment""".split())
BOILERPLATE = frozenset("nav header footer aside".split())
# EUR-Lex title classes; a subtitle takes the level of the heading it follows.
SUBTITLE_CLASSES = frozenset("""oj-doc-ti doc-ti oj-ti-section-2 ti-section-2 oj-sti-art sti-art
title-division-2 stitle-article-norm title-annex-2""".split())
HEADING_CLASSES = SUBTITLE_CLASSES | frozenset("""oj-ti-section-1 ti-section-1 oj-ti-art ti-art oj-ti-grseq-1
ti-grseq-1 title-division-1 title-article-norm title-annex-1 title-gr-seq-level-1""".split())
NOTE_CLASSES = frozenset(("oj-note",))  # EUR-Lex footnotes; other pages keep theirs in place
SUPER_CLASSES = frozenset(("oj-super", "super"))
NOTE_REF = re.compile(r"^\(?[\d*†‡§]{1,4}\)?$")
POWER = re.compile(r"^[-+−]?\d{1,4}$")
_WS = re.compile(r"\s+")
_BR = "\x02"
_DROPPED = re.compile(r"\s*\x01(?=[,.;:)\]])|\x01")


def _classes(node: LexborNode) -> set[str]:
    return set((node.attributes.get("class") or "").split())


def _is_inline_styled(node: LexborNode) -> bool:
    style = (node.attributes.get("style") or "").replace(" ", "").lower()
    return "display:inline" in style and "inline-block" not in style


class _Builder:
    def __init__(self, base_url: str | None, skip_boilerplate: bool = False):
        self.base_url = base_url
        self.skip = SKIP | BOILERPLATE if skip_boilerplate else SKIP
        self.blocks: list[str] = []
        self.notes: list[str] = []
        self.buf: list[str] = []
        self.prefix = ""           # label or list marker waiting for the next block
        self.indent = ""           # indentation of nested list content
        self.heading_level: int | None = None
        self.last_legal: int | None = None
        self.last_heading: int | None = None  # level of the previous block if it was a heading
        self.bare = False  # the previous block is a bare structural heading ("Section 1"): a title follows
        self.in_note = False
        self.list_depth = 0
        self.powers = 0

    # -- output ------------------------------------------------------------------------------------
    def flush(self) -> None:
        text = "".join(self.buf)
        self.buf = []
        if not text or text.isspace():
            return
        if "\x01" in text:
            text = _DROPPED.sub("", text)
        text = _WS.sub(" ", text)
        if _BR in text:
            text = "\n".join(line.strip() for line in text.split(_BR))
        text = text.strip()
        if not text:
            return
        if self.heading_level is not None:
            block = heading(text, self.heading_level)
            self.last_heading = self.heading_level
            self.bare = is_legal_heading_line(text)
        else:
            self.bare = False
            block = self.indent + self.prefix + text if not self.in_note else self.prefix + text
            self.prefix = ""
            self.last_heading = None
        (self.notes if self.in_note else self.blocks).append(block)

    def _legal_level(self, text: str, subtitle: bool) -> int:
        level = legal_heading_level(text)
        if level is not None:
            self.last_legal = level
            return level
        if subtitle or self.bare:
            return self.last_heading or self.last_legal or 1
        return min(6, self.last_legal + 1) if self.last_legal else 1

    # -- walking -----------------------------------------------------------------------------------
    def walk(self, node: LexborNode) -> None:
        for child in node.iter(include_text=True):
            tag = child.tag
            if tag == "-text":
                self.buf.append(child.text_content or "")
            elif tag in self.skip:
                continue
            elif tag == "br":
                self.buf.append(_BR)
            elif tag in ("sup", "sub") or tag == "span" and _classes(child) & SUPER_CLASSES:
                self.superscript(child, tag)
            elif tag == "a":
                self.anchor(child)
            elif tag in BLOCK and not _is_inline_styled(child):
                self.block(child, tag)
            else:
                self.walk(child)

    def superscript(self, node: LexborNode, tag: str) -> None:
        text = squash(node.text())
        if tag == "sub" or self.in_note:
            self.buf.append(text)
            return
        before = "".join(self.buf[-3:]).rstrip("\x01")
        if before[-1:].isdigit() and POWER.match(text):
            self.buf.append("^" + text.replace("−", "-"))
            self.powers += 1
        elif NOTE_REF.match(text) or "oj-note-tag" in _classes(node):
            self.buf.append("\x01")
        else:
            self.buf.append(text)

    def anchor(self, node: LexborNode) -> None:
        text = squash(node.text())
        if not self.in_note and NOTE_REF.match(text) and (
                node.css_first("sup, span.oj-super, span.oj-note-tag") or text.startswith("(")
                and (node.attributes.get("href") or "").split("#")[-1].startswith(("ntr", "fn", "foot"))):
            self.buf.append("\x01")  # a footnote reference: the note itself moves to the end
            return
        href = (node.attributes.get("href") or "").strip()
        start = len(self.buf)
        self.walk(node)
        shown = squash("".join(self.buf[start:]))
        if not shown or not href or href.startswith(("#", "javascript:")) or self.in_note and not \
                href.startswith(("http", "/")):
            return
        url = urljoin(self.base_url, href) if self.base_url else href
        if "#" in url and self.base_url and url.split("#")[0] == self.base_url.split("#")[0]:
            return  # a link within the page
        url = url.removeprefix("mailto:")
        self.buf.append(link_suffix(shown, url))

    def block(self, node: LexborNode, tag: str) -> None:
        classes = _classes(node)
        if classes & NOTE_CLASSES and tag != "hr":
            self.flush()
            was, self.in_note = self.in_note, True
            self.walk(node)
            self.flush()
            self.in_note = was
            return
        if tag == "table" and self.label_table(node):
            return
        if tag == "tr":
            self.flush()
            self.row(node)
            return
        self.flush()
        if tag in ("ul", "ol"):
            self.list(node, tag)
            return
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6") or classes & HEADING_CLASSES:
            saved, self.heading_level = self.heading_level, None
            text = squash(node.text())
            if tag[0] == "h" and tag[1:].isdigit():
                self.heading_level = int(tag[1])
            else:
                self.heading_level = self._legal_level(text, bool(classes & SUBTITLE_CLASSES))
            self.walk(node)
            self.flush()
            self.heading_level = saved
            return
        if tag == "pre":
            text = node.text()
            self.blocks.append(self.indent + text.strip("\n"))
            self.last_heading = None
            return
        self.walk(node)
        self.flush()

    def list(self, node: LexborNode, tag: str) -> None:
        number = int(node.attributes.get("start") or 1) if tag == "ol" else 0
        saved_indent, saved_prefix = self.indent, self.prefix
        if self.prefix:  # a list directly inside a labelled item: the label stands alone
            self.blocks.append(self.indent + self.prefix.strip())
            self.prefix = ""
        self.indent = saved_indent + ("    " if self.list_depth else "")
        self.list_depth += 1
        for child in node.iter(include_text=False):
            if child.tag != "li":
                if child.tag not in self.skip:
                    self.walk(child)
                continue
            marker = f"{number}." if tag == "ol" else "-"
            if child.attributes.get("value", "").isdigit():
                marker = f"{child.attributes['value']}."
            number += 1
            self.prefix = marker + " "
            self.walk(child)
            self.flush()
            self.prefix = ""
        self.list_depth -= 1
        self.indent, self.prefix = saved_indent, saved_prefix

    def label_table(self, node: LexborNode) -> bool:
        """A table laid out as "label | text" rows (EUR-Lex points, recitals): one item per row."""
        rows = [r for r in node.css("tr") if _closest_table(r) == node.mem_id]
        if not rows:
            return False
        plan = []
        for row in rows:
            cells = [c for c in row.iter(include_text=False) if c.tag in ("td", "th")]
            filled = [c for c in cells if not c.text().isspace() and c.text()]
            if len(filled) < 2:
                return False
            label = squash(filled[0].text())
            if len(label) > 12 or not FULL_LABEL.match(label.lstrip("‘“'\"")):
                return False
            plan.append((label, filled[1:]))
        self.flush()
        for label, cells in plan:
            saved = self.prefix
            self.prefix = (saved or "") + label + " "
            for cell in cells:
                self.walk(cell)
                self.flush()
            self.prefix = ""
        return True

    def row(self, node: LexborNode) -> None:
        cells = []
        for cell in node.iter(include_text=False):
            if cell.tag not in ("td", "th"):
                continue
            sub = _Builder(self.base_url)
            sub.walk(cell)
            sub.flush()
            self.notes.extend(sub.notes)
            text = " ".join(squash(b.lstrip("#")) for b in sub.blocks)
            if text:
                cells.append(text)
        if cells:
            self.blocks.append(self.indent + " | ".join(cells))
            self.last_heading = None


def _closest_table(node: LexborNode) -> int | None:
    parent = node.parent
    while parent is not None and parent.tag != "table":
        parent = parent.parent
    return parent.mem_id if parent is not None else None


def _title(tree: LexborHTMLParser, blocks: list[str]) -> str | None:
    first = next((b for b in blocks if b.startswith("# ")), None)
    if first:
        return first[2:].strip()
    node = tree.css_first("title")
    text = squash(node.text()) if node else ""
    return text or None


def _with_selectors(tree: LexborHTMLParser, selectors: dict, url: str | None) -> tuple[list[str], list[str]]:
    for css in selectors.get("remove") or []:
        for node in tree.css(css):
            node.decompose()
    builder = _Builder(url)
    for css in selectors.get("keep") or []:
        nodes = tree.css(css)
        if not nodes:
            raise ExtractionError(f"selector {css!r} matched nothing")
        for node in nodes:
            builder.block(node, "div")
    builder.flush()
    warnings = [f"read {builder.powers} superscript(s) as powers (^)"] if builder.powers else []
    return _with_notes(builder), warnings


def _with_notes(builder: _Builder) -> list[str]:
    return builder.blocks + notes_section(builder.notes)


def _main_container(tree: LexborHTMLParser) -> LexborNode | None:
    """The page's declared main content (``<main>``, ``role=main``, a single ``<article>``), if any."""
    for css in ("main", "[role=main]"):
        node = tree.css_first(css)
        if node is not None and node.text(deep=True).strip():
            return node
    articles = tree.css("article")
    if len(articles) == 1 and articles[0].text(deep=True).strip():
        return articles[0]
    return None


def _fallback(source: str, tree: LexborHTMLParser, url: str | None) -> tuple[list[str], list[str]]:
    main = _main_container(tree)
    if main is not None:
        builder = _Builder(url, skip_boilerplate=True)
        builder.block(main, "div")
        builder.flush()
        blocks = _with_notes(builder)
        if blocks:
            return blocks, [f"no selectors declared: read the page's <{main.tag}> element"]
    import trafilatura

    markdown = trafilatura.extract(source, url=url, output_format="markdown", include_formatting=True,
                                   include_links=True, include_tables=True, include_comments=False,
                                   favor_recall=True)
    if markdown and markdown.strip():
        return parse_blocks(markdown), ["no selectors declared: main content found by trafilatura"]
    builder = _Builder(url, skip_boilerplate=True)
    root = tree.body or tree.root
    if root is not None:
        builder.walk(root)
    builder.flush()
    return _with_notes(builder), ["no selectors declared and trafilatura found no main content: whole page"]


_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([\w.:-]+)""", re.IGNORECASE)


def extract_html(body: bytes, selectors: dict | None = None, url: str | None = None,
                 content_type: str | None = None) -> Extracted:
    meta = _META_CHARSET.search(body[:4096])
    source, decode_warnings = decode(body, content_type, meta.group(1).decode("ascii") if meta else None)
    tree = LexborHTMLParser(source)
    if selectors and (selectors.get("keep") or selectors.get("remove")):
        if not selectors.get("keep"):
            selectors = {**selectors, "keep": ["body"]}
        blocks, warnings = _with_selectors(tree, selectors, url)
    else:
        blocks, warnings = _fallback(source, tree, url)
    text = join_blocks(blocks)
    if not text.strip():
        raise ExtractionError("no text: the HTML page has no readable content")
    return Extracted(text=text, title=_title(tree, blocks), warnings=decode_warnings + warnings)
