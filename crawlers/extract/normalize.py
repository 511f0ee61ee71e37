"""Normalised structured text: the shared vocabulary of every extractor.

Every extractor produces a list of blocks (paragraphs, headings, list items); ``join_blocks`` turns them
into the text stored in ``versions.text`` (UTF-8, NFC, ``\\n``, one blank line between blocks, no
trailing spaces, no soft hyphens or zero-width characters, non-breaking spaces as spaces).
"""
from __future__ import annotations

import re
import unicodedata

# Characters that carry no text: soft hyphen, zero-width space/joiners, word joiner, BOM, and the
# U+FFFE non-character some PDF engines emit. (Regexes: str.translate is slow on long texts.)
_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff\ufffe]")
# Spaces that should read as an ordinary space.
_SPACES = re.compile("[\u00a0\u2000-\u200a\u202f\u205f\u3000]")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TRAILING = re.compile(r"[ \t]+$", re.MULTILINE)
_BLANKS = re.compile(r"\n{3,}")
_WS = re.compile(r"\s+")
_PUNCTUATION_ONLY = re.compile(r"^\s*[.,;:’”)\]]{1,3}\s*$")

# A label that starts a numbered or lettered block, as printed: "1.", "1.1", "(a)", "(iii)", "a)", "Section 2."
LABEL_CORE = (
    r"\((?:\d{1,3}[a-z]?|[a-z]{1,2}|[ivxlcdm]{1,7}|[A-Z])\)"  # (1) (1a) (a) (aa) (iv) (A)
    r"|\d{1,3}\.(?:\d{1,3}\.?)*"                                # 1. 1.1 1.1.
    r"|[a-z]{1,2}\)|[a-z]\.|[ivxlc]{1,6}\.|\d{1,3}\)"         # a) a. iv. 1)
    r"|[•●▪◦‣∙·*\-–—]"                                             # bullets
    r"|(?:Article|ARTICLE|Section|SECTION|Sec\.|§)\s+\d+[a-z]?\.?"
)
LABEL = re.compile(rf"^(?:{LABEL_CORE})(?=\s|$)")
FULL_LABEL = re.compile(rf"^(?:{LABEL_CORE})$")

# Headings of legal texts: the keyword decides the level, so that HTML, PDF and Formex copies agree.
_LEGAL_HEADING = re.compile(
    r"^(?P<kw>PART|Part|TITLE|Title|CHAPTER|Chapter|ANNEX|Annex|SECTION|Section|Sub-section|SUBSECTION|"
    r"Subsection|ARTICLE|Article)\s+(?P<num>[0-9]+[a-z]?|[IVXLCDM]+[a-z]?|[A-Z])\b(?P<rest>.*)$"
)
_LEGAL_LEVELS = {"part": 2, "title": 2, "chapter": 2, "annex": 2, "section": 3, "subsection": 4,
                 "sub-section": 4, "article": 4}


def clean_text(text: str) -> str:
    """Apply the character-level rules of normalised text to ``text``."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _INVISIBLE.sub("", _SPACES.sub(" ", text))
    text = _CONTROL.sub(lambda m: "\n" if m.group() in "\f\v" else "", text)
    text = unicodedata.normalize("NFC", text)
    text = _TRAILING.sub("", text)
    text = _BLANKS.sub("\n\n", text)
    return text.strip("\n")


def squash(text: str) -> str:
    """Collapse every run of whitespace (line breaks included) into one space."""
    return _WS.sub(" ", _INVISIBLE.sub("", text)).strip()


def heading(text: str, level: int) -> str:
    """A heading block: ``#`` * level, then the heading text on one line."""
    text = squash(text)
    return f"{'#' * max(1, min(6, level))} {text}" if text else ""


def legal_heading_level(text: str) -> int | None:
    """The level of a legal-structure heading ("CHAPTER V" -> 2, "SECTION 2" -> 3, "Article 53" -> 4)."""
    if text[:1] not in "PpTtCcAaSs":
        return None
    match = _LEGAL_HEADING.match(squash(text))
    if not match:
        return None
    return _LEGAL_LEVELS[match["kw"].lower()]


def is_legal_heading_line(text: str) -> bool:
    """True for a line that is only a structural heading: "Article 53", "CHAPTER V", "ANNEX XIII"."""
    if len(text) > 40 or text[:1] not in "PpTtCcAaSs":
        return False
    match = _LEGAL_HEADING.match(squash(text))
    return bool(match) and not match["rest"].strip()


def join_blocks(blocks: list[str]) -> str:
    """Join blocks with one blank line and apply the character rules."""
    kept: list[str] = []
    for block in blocks:
        if not block or block.isspace():
            continue
        block = block.strip("\n")
        if kept and _PUNCTUATION_ONLY.match(block) and not kept[-1].startswith("#"):
            kept[-1] += block.strip()  # "’;" closing a quoted paragraph belongs to it
        else:
            kept.append(block)
    return clean_text("\n\n".join(kept))


_BAD_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f\ufffd]")


def control_ratio(text: str) -> float:
    """Share of characters that are control characters (other than tab, newline, form feed) or U+FFFD."""
    if not text:
        return 0.0
    return len(_BAD_CONTROL.findall(text)) / len(text)


_NOTE_NUMBER = re.compile(r"^\((\d+)\)")


def notes_section(notes: list[str]) -> list[str]:
    """Footnotes as a closing section: a "Notes" heading, numbered notes in order, then the others."""
    if not notes:
        return []

    def key(item: tuple[int, str]) -> tuple[int, int]:
        match = _NOTE_NUMBER.match(item[1])
        return (0, int(match.group(1))) if match else (1, item[0])

    return [heading("Notes", 2)] + [note for _, note in sorted(enumerate(notes), key=key)]
