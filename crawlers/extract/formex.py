"""XML: Formex 4 (the EU Publications Office format) as structured text, other XML as text by blocks.

A Formex publication is a package: an index (``<DOC>`` with ``REF.PHYS FILE=...``) names the act and its
annexes, each in its own file. The act is rendered with the same structure as the EUR-Lex HTML: title
lines, recitals "(1) ...", ``CHAPTER``/``SECTION``/``Article`` headings (levels from
``normalize.legal_heading_level``), numbered paragraphs "1. ...", points "(a) ...", annexes, and the
footnotes in a closing "Notes" section.
"""
from __future__ import annotations

from lxml import etree

from clausewatch.crawlers.extract.base import Extracted, ExtractionError
from clausewatch.crawlers.extract.normalize import (
    heading,
    is_legal_heading_line,
    join_blocks,
    legal_heading_level,
    notes_section,
    squash,
)

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, remove_comments=True)
FORMEX_ROOTS = frozenset("ACT ANNEX CONS.ACT CONS.ANNEX CONS.DOC GENERAL COMMUNIC JUDGMENT DECISION.ECSC "
                         "AGR LIST.ENTRIES QUESTION".split())
SKIP = frozenset("BIB.INSTANCE BIB.DOC BIB.OJ BIB.VOLUME DOCUMENT.REF MGT REF.PHYS".split())
INLINE = frozenset("HT DATE REF.DOC.OJ REF.DOC REF.DOC.ECR REF.DOC.SEC FT IE LINK URL ADDR.S QUOT.START "
                   "QUOT.END TXT NO.P NO.PARAG NO.DOC YEAR NO.CURRENT PERSON FUNCTION ORGANISATION "
                   "SPAN".split())
DASHES = {"DASH": "—", "NDASH": "–", "BULLET": "•", "DISC": "•", "none": ""}


def parse_xml(body: bytes) -> etree._Element:
    try:
        return etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as exc:
        raise ExtractionError(f"malformed XML: {str(exc).splitlines()[0]}") from None


def is_formex_index(body: bytes) -> bool:
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError:
        return False
    return root.tag == "DOC" and root.find(".//REF.PHYS") is not None


def formex_parts(body: bytes) -> list[str]:
    """The files a Formex package index lists, main act first, then annexes (the OJ toc is not text)."""
    root = parse_xml(body)
    if root.tag != "DOC":
        raise ExtractionError(f"not a Formex package index (root element <{root.tag}>, expected <DOC>)")
    names: list[str] = []
    for ref in root.iter("REF.PHYS"):
        name = (ref.get("FILE") or "").strip()
        if name and name not in names and "/" not in name and "\\" not in name and not name.startswith("."):
            names.append(name)
    if not names:
        raise ExtractionError("Formex package index lists no parts (no REF.PHYS FILE=...)")
    return names


class _Renderer:
    def __init__(self) -> None:
        self.blocks: list[str] = []
        self.notes: list[str] = []
        self.buf: list[str] = []
        self.prefix = ""
        self.heading_level: int | None = None
        self.last_legal: int | None = None
        self.last_heading: int | None = None
        self.bare = False  # the previous block is a bare structural heading ("Section 1"): a title follows
        self.note_number = 0
        self.title: str | None = None

    def flush(self) -> None:
        text = squash("".join(self.buf))
        self.buf = []
        if not text:
            return
        if self.heading_level is not None:
            self.blocks.append(heading(text, self.heading_level))
            self.last_heading = self.heading_level
            self.bare = is_legal_heading_line(text)
        else:
            self.bare = False
            self.blocks.append(self.prefix + text)
            self.prefix = ""
            self.last_heading = None

    def text(self, value: str | None) -> None:
        if value:
            self.buf.append(value)

    # -- dispatch ------------------------------------------------------------------------------------
    def children(self, element: etree._Element) -> None:
        self.text(element.text)
        for child in element:
            if isinstance(child.tag, str):
                self.element(child)
            self.text(child.tail)

    def element(self, el: etree._Element) -> None:
        tag = el.tag
        if tag in SKIP:
            return
        if tag == "NOTE":
            self.note(el)
        elif tag in ("QUOT.START", "QUOT.END"):
            self.quote_mark(el)
        elif tag == "HT":
            self.ht(el)
        elif tag == "FT":
            self.ft(el)
        elif tag in ("NO.P", "NO.PARAG"):
            self.children(el)
            self.buf.append(" ")
        elif tag in INLINE:
            self.children(el)
        elif tag in ("TI.ART", "STI.ART"):
            self.heading_block(el, subtitle=tag == "STI.ART")
        elif tag == "TITLE":
            self.title_block(el)
        elif tag == "NP":
            self.numbered(el, "NO.P")
        elif tag == "PARAG":
            self.numbered(el, "NO.PARAG")
        elif tag == "ITEM" and el.find("NP") is None and el.getparent() is not None:
            marker = DASHES.get(el.getparent().get("TYPE", ""), "")
            self.flush()
            self.prefix = f"{marker} " if marker else ""
            self.children(el)
            self.flush()
            self.prefix = ""
        elif tag in ("TBL", "TABLE"):
            self.table(el)
        else:
            self.flush()
            self.children(el)
            self.flush()

    # -- elements ------------------------------------------------------------------------------------
    def heading_block(self, el: etree._Element, subtitle: bool) -> None:
        self.flush()
        text = squash("".join(el.itertext()))
        level = legal_heading_level(text)
        if level is not None:
            self.last_legal = level
        elif subtitle or self.bare:
            level = self.last_heading or self.last_legal or 1
        else:
            level = min(6, self.last_legal + 1) if self.last_legal else 1
        saved, self.heading_level = self.heading_level, level
        self.children(el)
        self.flush()
        self.heading_level = saved

    def title_block(self, el: etree._Element) -> None:
        """``TITLE`` holds ``TI`` (and maybe ``STI``); every ``P`` in it is a heading line."""
        for part in el:
            if not isinstance(part.tag, str) or part.tag not in ("TI", "STI"):
                continue
            lines = [p for p in part if isinstance(p.tag, str) and p.tag in ("P", "NP")] or [part]
            for index, line in enumerate(lines):
                self.heading_block(line, subtitle=part.tag == "STI" or index > 0)
                parent = el.getparent()
                if self.title is None and parent is not None and parent.tag == "ACT" and self.blocks:
                    self.title = self.blocks[-1].lstrip("#").strip()

    def numbered(self, el: etree._Element, label_tag: str) -> None:
        """``NP``/``PARAG``: the label, the first text as the same block, the rest as blocks of their own."""
        self.flush()
        label_el = el.find(label_tag)
        label = squash("".join(label_el.itertext())) if label_el is not None else ""
        if label_el is not None:
            self.children(label_el)  # quotation marks that open a quoted paragraph live in the label
            label = squash("".join(self.buf)) or label
            self.buf = []
        self.prefix = label + " " if label else ""
        first = True
        for child in el:
            if child is label_el or not isinstance(child.tag, str):
                self.text(child.tail)
                continue
            if first and child.tag in ("TXT", "ALINEA", "P"):
                self.children(child)
                if child.tag == "TXT" or not any(isinstance(c.tag, str) and c.tag not in INLINE
                                                 and c.tag != "NOTE" for c in child):
                    self.flush()
                first = False
            else:
                self.element(child)
            self.text(child.tail)
        self.flush()
        self.prefix = ""

    def note(self, el: etree._Element) -> None:
        number = el.get("NUMBER.ORG")
        if not number:
            if el.get("NUMBERING") == "STAR":
                number = "*"
            else:
                self.note_number += 1
                number = str(self.note_number)
        text = squash("".join(_note_text(el)))
        if text:
            self.notes.append(f"({number}) {text}")

    def quote_mark(self, el: etree._Element) -> None:
        code = el.get("CODE")
        try:
            self.buf.append(chr(int(code, 16)) if code else "")
        except ValueError:
            pass

    def ht(self, el: etree._Element) -> None:
        kind = el.get("TYPE", "")
        start = len(self.buf)
        self.children(el)
        inner = "".join(self.buf[start:])
        if kind == "UC":
            self.buf[start:] = [inner.upper()]
        elif kind == "SUP":
            before = "".join(self.buf[:start])[-1:]
            self.buf[start:] = ["^" + inner.strip()] if before.isdigit() and inner.strip().isdigit() else [inner]

    def ft(self, el: etree._Element) -> None:
        value = "".join(el.itertext())
        if el.get("TYPE") == "NUMBER" and value.isdigit() and len(value) >= 5:
            value = f"{int(value):,}".replace(",", " ")
        self.buf.append(value)

    def table(self, el: etree._Element) -> None:
        self.flush()
        for row in el.iter("ROW"):
            cells = [squash("".join(c.itertext())) for c in row if isinstance(c.tag, str)]
            cells = [c for c in cells if c]
            if cells:
                self.blocks.append(" | ".join(cells))
        self.last_heading = None


def _note_text(el: etree._Element):
    """The text of a note, with quotation marks (QUOT.START/END carry their character as a code)."""
    if el.text:
        yield el.text
    for child in el:
        if isinstance(child.tag, str):
            if child.tag in ("QUOT.START", "QUOT.END") and child.get("CODE"):
                yield chr(int(child.get("CODE"), 16))
            else:
                yield " " if child.tag == "P" else ""
                yield from _note_text(child)
        if child.tail:
            yield child.tail


def _generic_blocks(root: etree._Element) -> list[str]:
    """Any XML: an element with text of its own is a block; others are walked into."""
    blocks: list[str] = []

    def visit(el: etree._Element) -> None:
        own = (el.text or "").strip() or any((c.tail or "").strip() for c in el)
        if own:
            text = squash("".join(el.itertext()))
            if text:
                blocks.append(text)
            return
        for child in el:
            if isinstance(child.tag, str):
                visit(child)

    visit(root)
    return blocks


def extract_xml(body: bytes, parts: dict[str, bytes] | None = None) -> Extracted:
    root = parse_xml(body)
    renderer = _Renderer()
    warnings: list[str] = []
    if root.tag == "DOC" and root.find(".//REF.PHYS") is not None:
        names = formex_parts(body)
        if not parts:
            raise ExtractionError(f"Formex package index without its parts ({len(names)} files: {names[0]}, ...)")
        missing = [name for name in names if name not in parts]
        if missing:
            raise ExtractionError(f"Formex part {missing[0]} is missing ({len(missing)} of {len(names)} missing)")
        for name in names:
            part = parse_xml(parts[name]) if parts[name].strip() else None
            if part is None:
                raise ExtractionError(f"Formex part {name} is empty")
            renderer.element(part)
            renderer.flush()
    elif root.tag in FORMEX_ROOTS:
        renderer.element(root)
    else:
        blocks = _generic_blocks(root)
        text = join_blocks(blocks)
        if not text:
            raise ExtractionError(f"no text: the XML document (<{root.tag}>) has no text content")
        return Extracted(text=text, title=None, warnings=[f"not Formex (<{root.tag}>): text content by blocks"])
    renderer.flush()
    blocks = renderer.blocks + notes_section(renderer.notes)
    text = join_blocks(blocks)
    if not text:
        raise ExtractionError("no text: the Formex document has no text content")
    return Extracted(text=text, title=renderer.title, warnings=warnings)
