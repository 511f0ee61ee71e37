"""PDF: pypdfium2 text with just enough geometry to rebuild the document.

pdfium gives the text of a page in content order, one line per text run. For every line we read the
position, size and weight of its first characters (a few C calls per line, so a 144-page act stays
well under a second), then:

- superscripts (smaller, raised) become ``^`` after a base of 10 ("10^25") and are dropped elsewhere
  (footnote references); footnote bodies at the foot of a page move to a closing "Notes" section;
- running headers/footers (lines at the page edges that repeat modulo digits) and page numbers go;
- ``pdflayout`` rebuilds paragraphs, headings and labelled items from the cleaned lines.
"""
from __future__ import annotations

import ctypes
import math
import re
from dataclasses import dataclass

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from clausewatch.crawlers.extract.base import Extracted, ExtractionError
from clausewatch.crawlers.extract.normalize import join_blocks, squash

SUP = "\x03"  # brackets a superscript run inside a line's text until it is resolved
# Bullets set in Symbol/Wingdings fonts come out as private-use characters.
_SYMBOL_BULLETS = frozenset("\uf0b7\uf0a7\uf076\uf0d8\uf0fc\uf0a8\uf06e\uf0a1\uf0e0\uf02d")
_FIRST_LETTER = re.compile(r"[^\W\d_]")
_FIRST_ALNUM = re.compile(r"[^\W_]")
_SUP_RUN = re.compile(r"^[\d*†‡]{1,4}(?:[,–-][\d*†‡]{1,4})*")
_GLUED_NUMBER = re.compile(r"(?<=[^\s\d/\[{#$€£%+=-])\d{1,3}(?=[\s,.;:)\]]|$)")
_POWER_OF_TEN = re.compile(r"(?<![\d.,/])10(\d{1,2})(?![\d/%]|[.,]\d)")
_POWER_CONTEXT = re.compile(r"(?<![\d.,/^])10(1\d|2\d|3\d)(?=\s+(?:integer or )?(?:floating[- ]point|FLOPS?\b|FLOP/s))")


@dataclass(slots=True)
class Line:
    page: int
    text: str
    x: float = 0.0
    y: float = 0.0
    x_end: float = 0.0
    y_last: float = 0.0  # baseline of the last character (pdfium joins lines broken by a hyphen)
    size: float = 0.0    # font size of the line's first letter or digit
    size0: float = 0.0   # font size of its first character (a superscript when small)
    bold: bool = False
    note: str | None = None  # the label of the footnote this line starts
    # Filled by pdflayout once the text is final: label kind, "Article 5"-style heading, sentence end.
    kind: str | None = None
    structural: bool = False
    ended: bool = False


def _open(body: bytes) -> pdfium.PdfDocument:
    if b"%%EOF" not in body[-2048:]:
        raise ExtractionError("PDF is truncated (no %%EOF marker at the end)")
    try:
        return pdfium.PdfDocument(body)
    except pdfium.PdfiumError as exc:
        message = str(exc).lower()
        if "password" in message:
            raise ExtractionError("PDF is encrypted (a password is required to read it)") from None
        raise ExtractionError(f"not a readable PDF ({str(exc).splitlines()[0]})") from None


class _Page:
    """One page's text page, with cheap per-character geometry lookups."""

    def __init__(self, page: pdfium.PdfPage):
        self.textpage = page.get_textpage()
        self.raw = self.textpage.raw
        self.text = self.textpage.get_text_range()
        self.aligned = len(self.text) == self.textpage.count_chars()
        self.width, self.height = page.get_size()
        self._matrix = pdfium_c.FS_MATRIX()
        self._pmatrix = ctypes.byref(self._matrix)
        self._x, self._y = ctypes.c_double(), ctypes.c_double()
        self._px, self._py = ctypes.byref(self._x), ctypes.byref(self._y)
        self._box = [ctypes.c_double() for _ in range(4)]  # left, right, bottom, top
        self._pbox = [ctypes.byref(value) for value in self._box]

    def size(self, index: int) -> float:
        pdfium_c.FPDFText_GetMatrix(self.raw, index, self._pmatrix)
        return pdfium_c.FPDFText_GetFontSize(self.raw, index) * math.hypot(self._matrix.a, self._matrix.b)

    def origin(self, index: int) -> tuple[float, float]:
        pdfium_c.FPDFText_GetCharOrigin(self.raw, index, self._px, self._py)
        return self._x.value, self._y.value

    def right(self, index: int) -> float:
        pdfium_c.FPDFText_GetCharBox(self.raw, index, *self._pbox)
        return self._box[1].value

    def bold(self, index: int) -> bool:
        return pdfium_c.FPDFText_GetFontWeight(self.raw, index) >= 600


def _inline_superscripts(page: _Page) -> list[tuple[int, int]]:
    """Spans of digits printed smaller than the character before them ("Design44", "1025")."""
    text, found = page.text, []
    for match in _POWER_OF_TEN.finditer(text):
        if page.size(match.start(1)) < 0.8 * page.size(match.start()):
            found.append((match.start(1), match.end(1)))
    for match in _GLUED_NUMBER.finditer(text):
        if any(a <= match.start() < b for a, b in found):
            continue
        if page.size(match.start()) < 0.8 * page.size(match.start() - 1):
            found.append((match.start(), match.end()))
    return sorted(found)


def _bracket(line: str, offset: int, spans: list[tuple[int, int]]) -> str:
    """Mark the superscript spans that fall inside ``line`` (which starts at page offset ``offset``)."""
    end = offset + len(line)
    for a, b in reversed(spans):
        if offset <= a and b <= end:
            line = f"{line[:a - offset]}{SUP}{line[a - offset:b - offset]}{SUP}{line[b - offset:]}"
    return line


def read_lines(doc: pdfium.PdfDocument) -> tuple[list[list[Line]], list[tuple[float, float]], int]:
    """Every non-blank pdfium line of every page, with geometry; the number of superscripts found."""
    pages: list[list[Line]] = []
    sizes: list[tuple[float, float]] = []
    superscripts = 0
    for number in range(len(doc)):
        page = _Page(doc[number])
        sizes.append((page.width, page.height))
        lines: list[Line] = []
        spans = _inline_superscripts(page) if page.aligned else []
        superscripts += len(spans)
        for match in re.finditer(r"[^\r\n]+", page.text):
            raw = match.group()
            stripped = raw.strip()
            if not stripped:
                continue
            if stripped[0] in _SYMBOL_BULLETS:  # Symbol/Wingdings bullets live in the private use area
                stripped = "•" + stripped[1:]
            line = Line(number, stripped)
            if page.aligned:
                first = match.start() + len(raw) - len(raw.lstrip())
                last = match.start() + len(raw.rstrip()) - 1
                letter = _FIRST_LETTER.search(stripped, 0, 16) or _FIRST_ALNUM.search(stripped, 0, 16)
                alnum = first + letter.start() if letter else first
                line.x, line.y = page.origin(first)
                line.size0 = page.size(first)
                line.size = page.size(alnum) if alnum != first else line.size0
                if line.size <= 0:
                    line.size = line.size0
                line.y_last = page.origin(last)[1]
                line.x_end = page.right(last)
                line.bold = page.bold(alnum)
                if spans:
                    line.text = _bracket(stripped, first, spans)
            lines.append(line)
        pages.append(lines)
    return pages, sizes, superscripts


def body_size(pages: list[list[Line]]) -> float:
    """The font size most characters are set in."""
    weights: dict[float, int] = {}
    for lines in pages:
        for line in lines:
            key = round(line.size, 1)
            weights[key] = weights.get(key, 0) + len(line.text)
    return max(weights, key=weights.get) if weights else 0.0


def visual_lines(lines: list[Line], body: float) -> list[Line]:
    """Merge pdfium lines into printed lines: superscripts and runs on the same baseline join the line."""
    out: list[Line] = []
    for line in lines:
        cur = out[-1] if out else None
        run = _SUP_RUN.match(line.text)
        small = line.size0 > 0 and run is not None
        if cur is not None and small and cur.size > 0 and line.size0 < 0.8 * cur.size \
                and cur.y_last + 0.15 * cur.size < line.y < cur.y_last + cur.size:
            cur.text += f"{SUP}{run.group()}{SUP}{line.text[run.end():]}"
            cur.x_end = max(cur.x_end, line.x_end)
            continue
        if cur is not None and cur.size > 0 and min(abs(line.y - cur.y_last), abs(line.y - cur.y)) < 0.25 * cur.size \
                and line.x >= cur.x_end - 2 and line.size > 0:
            joiner = "" if line.x - cur.x_end < 0.2 * line.size or cur.text.endswith((" ", "(")) else " "
            cur.text += joiner + line.text
            cur.x_end, cur.y_last = line.x_end, line.y_last
            continue
        reference = line.size if line.size != line.size0 else body
        if small and reference and line.size0 < 0.8 * reference:
            line.text = f"{SUP}{run.group()}{SUP}{line.text[run.end():]}"
        out.append(line)
    return out


_NOTE_START = re.compile(rf"^\(?{SUP}([^{SUP}]+){SUP}\)?\s*")
_POWER = re.compile(rf"(?<![\d.,])(10){SUP}([-−]?\d{{1,3}}){SUP}")
_REF_IN_PARENS = re.compile(rf"\s*\(\s*{SUP}[^{SUP}]*{SUP}\s*\)")
_REF = re.compile(rf"{SUP}[^{SUP}]*{SUP}")


def resolve_superscripts(line: Line, body: float) -> None:
    """Powers of ten keep a caret, a footnote label starts a note, other references go."""
    text = line.text
    if SUP not in text:
        return
    start = _NOTE_START.match(text)
    if start and (not body or line.size < 0.95 * body):
        line.note = start.group(1)
        text = text[start.end():]
    text = _POWER.sub(r"\1^\2", text)
    text = _REF_IN_PARENS.sub("", text)
    line.text = squash(_REF.sub("", text))


def restore_powers_by_context(text: str) -> tuple[str, int]:
    """Without geometry, "1025 floating point operations" can only mean 10^25."""
    return _POWER_CONTEXT.subn(r"10^\1", text)


def extract_pdf(body: bytes) -> Extracted:
    from clausewatch.crawlers.extract.pdflayout import build_blocks

    doc = _open(body)
    try:
        pages, page_sizes, superscripts = read_lines(doc)
        title = (doc.get_metadata_value("Title") or "").strip() or None
    except pdfium.PdfiumError as exc:
        raise ExtractionError(f"PDF cannot be read ({exc})") from None
    finally:
        doc.close()
    empty = sum(1 for lines in pages if not lines)
    if not pages or empty == len(pages):
        raise ExtractionError(f"PDF has no text layer ({len(pages)} page(s) of images?); OCR is not supported")
    warnings = [f"{empty} of {len(pages)} pages have no text layer"] if empty else []
    blocks, notes_found, removed = build_blocks(pages, page_sizes)
    text = join_blocks(blocks)
    text, restored = restore_powers_by_context(text)
    if not text.strip():
        raise ExtractionError("no text: the PDF has no readable text")
    if removed:
        warnings.append(f"removed {removed} running header/footer/page-number lines")
    if superscripts:
        warnings.append(f"found {superscripts} superscripts inside lines")
    if restored:
        warnings.append(f"restored {restored} power(s) of ten from context (10^N)")
    if notes_found:
        warnings.append(f"moved {notes_found} footnotes to the end")
    if title and len(title) < 4:
        title = None
    if not title:
        title = next((b.lstrip("#").strip() for b in blocks if b.startswith("#")), None)
    return Extracted(text=text, title=title, warnings=warnings)
