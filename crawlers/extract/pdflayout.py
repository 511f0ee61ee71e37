"""Rebuild a PDF's blocks from its printed lines: drop page furniture, set footnotes apart, find
paragraphs (vertical gaps, labels, outdents and first-line indents, page and column breaks), headings
(structural keywords and their titles, larger or bold type) and hyphenated line breaks."""
from __future__ import annotations

import re
import statistics

from clausewatch.crawlers.extract.normalize import (
    LABEL,
    heading,
    is_legal_heading_line,
    legal_heading_level,
    notes_section,
    squash,
)
from clausewatch.crawlers.extract.pdf import Line, body_size, resolve_superscripts, visual_lines

EDGE_BAND = 0.1      # share of the page height at the top and bottom where running heads live
_PAGE_NUMBER = re.compile(r"^(?:page\s+)?(?:[-–—]\s*)?(?:\d{1,4}|[ivxlc]{1,6})(?:\s*[-–—])?(?:\s*(?:/|of)\s*\d{1,4})?$",
                          re.IGNORECASE)
_DIGITS = re.compile(r"\d+")
_TERMINAL = (".", ":", ";", "!", "?", ".)", ".’", ".”", ":’")
_WORD = re.compile(r"[A-Za-z]+(?:-[A-Za-z]+)*")
_HYPHEN_BREAK = re.compile(r"([A-Za-z]+)[-\ufffe]$")
_STAR_NOTE = re.compile(r"^\(\*{1,3}\)\s")
_STAR_REF = re.compile(r"\s?\(\*{1,3}\)(?=[\s,.;:’])")
_URL_TAIL = re.compile(r"(?:https?://|www\.)\S*$")
_AND_OR = re.compile(r"\b(?:and|or)$")
_SOFT_JOIN = re.compile(r"([A-Za-z]+)\ufffe([A-Za-z]+)")


def _key(text: str) -> str:
    return _DIGITS.sub("#", text).lower()


def _edges(lines: list[Line], height: float) -> tuple[set[int], set[int]]:
    """Indexes of the lines in the top and bottom bands of a page, and of the two outermost lines at
    each end (a footer code printed just below the text, like the "88" of California bills)."""
    if not lines:
        return set(), set()
    by_y = sorted(range(len(lines)), key=lambda i: lines[i].y)
    band = {i for i, line in enumerate(lines) if line.y > height * (1 - EDGE_BAND) or line.y < height * EDGE_BAND}
    return band, set(by_y[:2]) | set(by_y[-2:])


def remove_furniture(pages: list[list[Line]], sizes: list[tuple[float, float]], body: float) -> int:
    """Drop running headers/footers and page numbers: lines in the edge bands that repeat, modulo digits,
    on many pages (outermost lines outside the bands must also repeat at the same height), and page
    numbers in the bands. Structural headings ("Article 5") are never furniture."""
    if not pages:
        return 0
    edges = [_edges(lines, sizes[n][1] or 1) for n, lines in enumerate(pages)]
    keys: list[dict[int, tuple[str, int]]] = []
    seen: dict[tuple[str, int], set[int]] = {}
    for number, lines in enumerate(pages):
        band, outer = edges[number]
        page_keys = {i: (_key(lines[i].text), -1 if i in band else round(lines[i].y / 4)) for i in band | outer}
        keys.append(page_keys)
        for key in page_keys.values():
            seen.setdefault(key, set()).add(number)
    threshold = max(2, round(0.25 * len(pages)))
    removed = 0
    for number, lines in enumerate(pages):
        band, _ = edges[number]
        kept = []
        for index, line in enumerate(lines):
            text = line.text.strip()
            key = keys[number].get(index)
            furniture = key is not None and not is_legal_heading_line(text) and (
                index in band and _PAGE_NUMBER.match(text) and line.size <= 1.2 * body
                or len(seen.get(key, ())) >= threshold)
            if furniture:
                removed += 1
            else:
                kept.append(line)
        pages[number] = kept
    return removed


def reorder_masthead(lines: list[Line]) -> list[Line]:
    """Lines printed above a page's first line but stored after it (mastheads) go to the top."""
    if len(lines) < 2 or not lines[0].size:
        return lines
    top = lines[0].y + lines[0].size
    above = [line for line in lines[1:] if line.y > top]
    if not above:
        return lines
    moved = {id(line) for line in above}
    return above + [line for line in lines if id(line) not in moved]


def split_notes(lines: list[Line], body: float) -> tuple[list[Line], list[Line]]:
    """Footnotes: a small-type line starting with a note label, and the small-type lines after it."""
    text_lines: list[Line] = []
    notes: list[Line] = []
    in_note = False
    for line in lines:
        small = 0 < line.size < 0.95 * body
        if line.note is not None and small:
            in_note = True
        elif not small:
            in_note = False
        (notes if in_note else text_lines).append(line)
    return text_lines, notes


class _Vocabulary:
    """Words of the document, to decide whether a line-end hyphen belongs to the word."""

    def __init__(self, lines: list[Line]):
        self.lines = lines
        self._words: set[str] | None = None

    @property
    def words(self) -> set[str]:
        if self._words is None:  # built on the first broken word only: most documents have none
            text = "\n".join(line.text for line in self.lines).replace("\ufffe", " ").lower()
            self._words = set(_WORD.findall(text))
        return self._words

    def join(self, left: str, right: str) -> str:
        """Join two pieces of a word broken by a hyphen at a line end."""
        match = _HYPHEN_BREAK.search(left[-80:])
        if not match or not right[:1].isalpha():
            return left + right
        first = match.group(1)
        second = _WORD.match(right)
        tail = second.group() if second else ""
        closed, hyphenated = (first + tail).lower(), f"{first}-{tail}".lower()
        if right[:1].islower() and closed in self.words and hyphenated not in self.words:
            return left[:-1] + right
        return left[:-1] + "-" + right

    def soft(self, text: str) -> str:
        return _SOFT_JOIN.sub(lambda m: self.join(m.group(1) + "\ufffe", m.group(2)), text) \
            if "\ufffe" in text else text


def _ends_sentence(text: str) -> bool:
    return text.rstrip().endswith(_TERMINAL)


def _is_label(text: str) -> bool:
    return bool(LABEL.match(text))


def _label_kind(text: str) -> str | None:
    """"paren" (a), "number" 1., "letter" a), "bullet", "word" (Article 5); None without a label."""
    match = LABEL.match(text)
    if not match:
        return None
    label = match.group()
    if label[0] == "(":
        return "paren"
    if label[0].isdigit():
        return "number"
    if label[0].isalpha() and len(label) <= 4:
        return "letter"
    return "word" if label[0].isalpha() or label[0] == "§" else "bullet"


class _Flow:
    """Walks body lines in order and cuts them into blocks."""

    def __init__(self, body: float, leading: float, right_edge: dict[int, float], vocab: _Vocabulary):
        self.body, self.leading, self.right_edge, self.vocab = body, leading, right_edge, vocab
        self.blocks: list[list[Line]] = []

    def starts_block(self, prev: Line, line: Line, block: list[Line]) -> bool:
        size = line.size or self.body
        if len(block) == 1 and prev.structural:
            return True
        if abs(line.size - prev.size) > 0.12 * self.body and line.size and prev.size:
            return True
        kind, ended = line.kind, prev.ended
        gap = prev.y_last - line.y
        if line.structural and (line.page != prev.page or ended or gap > 1.15 * self.leading):
            return True
        if line.page != prev.page or gap < -0.5 * size:  # a new page or column
            if kind and (ended or kind != "word"):
                return True
            right = self.right_edge.get(prev.page, 0)
            full = bool(right) and prev.x_end >= right - 2 * size
            return not full and ended and line.text[:1].isupper()
        if gap > 1.3 * self.leading * max(1.0, size / self.body if self.body else 1.0):
            return True
        if kind:
            if line.x < prev.x - 1.5 or kind != "word" and (
                    ended or _AND_OR.search(prev.text[-5:])
                    or kind == block[0].kind and abs(line.x - block[0].x) < 1.5):
                return True
        # a first-line indent ends a paragraph; a labelled first line hangs: its continuation is indented
        return ended and line.x > prev.x + 0.5 * size and not (len(block) == 1 and prev.kind)

    def run(self, lines: list[Line]) -> list[list[Line]]:
        for line in lines:
            line.kind = _label_kind(line.text)
            line.structural = is_legal_heading_line(line.text)
            line.ended = _ends_sentence(line.text)
        block: list[Line] = []
        for line in lines:
            if block and self.starts_block(block[-1], line, block):
                self.blocks.append(block)
                block = []
            block.append(line)
        if block:
            self.blocks.append(block)
        return self.blocks

    def text(self, block: list[Line]) -> str:
        out = ""
        for line in block:
            piece = self.vocab.soft(line.text.strip())
            if not out:
                out = piece
            elif out[-1] in "-\ufffe" and piece[:1].isalpha():
                out = self.vocab.join(out, piece)
            elif out[-1] == "/" and _URL_TAIL.search(out[-200:]):
                out += piece  # an address broken after a slash
            else:
                out = f"{out} {piece}"
        return squash(out)


def _headings(flow: _Flow, blocks: list[list[Line]], body: float) -> list[str]:
    """Block texts, headings marked: structural keywords, their titles, larger or bold short lines."""
    big_sizes = sorted({round(b[0].size) for b in blocks if b[0].size >= 1.15 * body and len(b) <= 3},
                       reverse=True)
    out: list[str] = []
    last_legal: int | None = None
    bare_level: int | None = None  # level of the previous block if it was "Article 5", "CHAPTER II"...
    for block in blocks:
        text = flow.text(block)
        if not text:
            continue
        level = legal_heading_level(text) if is_legal_heading_line(text) else None
        short = len(text) <= 200 and len(block) <= 3
        if level is not None:
            last_legal = level
        elif bare_level is not None and short and not _is_label(text) and not text.endswith((".", ";", ":", ",")):
            level = bare_level  # the title of the article, chapter or annex above
        elif short and block[0].size >= 1.15 * body and round(block[0].size) in big_sizes:
            level = min(4, big_sizes.index(round(block[0].size)) + 1)
        elif short and len(text) <= 120 and all(line.bold for line in block) \
                and not text.endswith((".", ";", ",")) and not _is_label(text):
            level = min(4, len(big_sizes) + 1 if not last_legal else last_legal + 1)
        bare_level = level if level is not None and is_legal_heading_line(text) else None
        out.append(heading(text, level) if level is not None else text)
    return out


def _leading(lines: list[Line], body: float) -> float:
    gaps = [a.y_last - b.y for a, b in zip(lines, lines[1:], strict=False)
            if a.page == b.page and abs(a.size - body) < 0.5 and abs(b.size - body) < 0.5
            and 0.8 * body < a.y_last - b.y < 2.5 * body]
    return statistics.median(gaps) if gaps else 1.2 * body


def build_blocks(pages: list[list[Line]], sizes: list[tuple[float, float]]) -> tuple[list[str], int, int]:
    """Lines of every page -> normalised blocks; also the number of footnotes and furniture lines."""
    body = body_size(pages)
    geometry = any(line.size for lines in pages for line in lines)
    merged = []
    for lines in pages:
        printed = visual_lines(lines, body) if geometry else lines
        for line in printed:
            resolve_superscripts(line, body)
        merged.append([line for line in printed if line.text.strip()])
    removed = remove_furniture(merged, sizes, body) if geometry else 0
    flow_lines: list[Line] = []
    note_lines: list[Line] = []
    right_edge: dict[int, float] = {}
    for number, lines in enumerate(merged):
        lines = reorder_masthead(lines) if geometry else lines
        text_lines, notes = split_notes(lines, body) if geometry else (lines, [])
        flow_lines.extend(text_lines)
        note_lines.extend(notes)
        ends = sorted(line.x_end for line in text_lines)
        if ends:
            right_edge[number] = ends[int(0.9 * (len(ends) - 1))]
    vocab = _Vocabulary(flow_lines + note_lines)
    flow = _Flow(body, _leading(flow_lines, body), right_edge, vocab)
    blocks = _headings(flow, flow.run(flow_lines), body)
    star_notes = [b for b in blocks if _STAR_NOTE.match(b)]
    if star_notes:  # "(*)" notes printed in the text (EU amending acts): with the other notes
        blocks = [_STAR_REF.sub("", b) for b in blocks if not _STAR_NOTE.match(b)]
    notes: list[str] = []
    for line in note_lines:
        if line.note is not None or not notes:
            notes.append(f"({line.note or '?'}) {line.text}")
        else:
            notes[-1] = flow.text([Line(line.page, notes[-1]), line])
    notes.extend(star_notes)
    return blocks + notes_section(notes), len(notes), removed
