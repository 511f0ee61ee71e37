"""Text-shape tests shared by the segmentation passes: sentence ends, titles, headings, cleaning."""
from __future__ import annotations

import re

_HYPHEN_BREAK = re.compile(r"(?<=[A-Za-z])-\n[ \t]*(?=[a-z])")
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!])")
_SMALL = {"a", "an", "the", "and", "or", "of", "to", "in", "on", "for", "with", "by", "at", "from", "as",
          "under", "into", "nor", "but", "per", "via", "its", "their"}
_WORD = re.compile(r"[^\W\d_][\w'’-]*")
_NOT_HEADING = re.compile(r"(?i)(?:copyright\b|©|\(c\)|end of\b)")
_TITLE_END = re.compile(r"[^.!?:;]{1,150}?[\w)\]”\"'’]\.(?:\s+|(?=[A-Z“\"(]))")
YEAR = re.compile(r"\b(?:1[89]|20)\d\d\b")
CLOSERS = "*_\"”’'»)]` "
_REF_WORDS = {"section", "sections", "article", "articles", "paragraph", "paragraphs", "point", "points",
              "subsection", "clause", "clauses", "annex", "chapter", "item", "version", "no.", "number",
              "subparagraph", "sec.", "part", "title", "schedule", "exhibit", "appendix", "§"}


# Markdown emphasis: a run of 1-3 asterisks that opens (not after a word character, before a non-space)
# and the same run that closes it (after a non-space, not before a word character). Any other asterisk is
# text: "5 * 3", "2**8", a footnote mark "dollars*" and a lone "*" all stay.
_EMPHASIS = re.compile(r"(?<![\w*])(\*{1,3})(?=[^\s*])(.+?)(?<=[^\s*])\1(?![\w*])", re.S)


# what is left of a bold pair whose words were taken out (a label "**1.**" read as the clause's number): an
# empty pair, or the half of a pair alone at the start or end of the clause
_EMPTY_EMPHASIS = re.compile(r"(?<!\S)\*{4,6}(?!\S)|^\*{1,3}(?=\s)|(?<=\s)\*{1,3}$")


def strip_emphasis(text: str) -> str:
    """``**bold**`` and ``*italic*`` -> their words; every other ``*`` kept."""
    if "*" not in text:
        return text
    previous = None
    while previous != text:   # nested: ***a** b* and the like
        previous, text = text, _EMPHASIS.sub(r"\2", text)
    return _EMPTY_EMPHASIS.sub("", text)


def clean(text: str) -> str:
    """Whitespace collapsed, hyphenated line breaks joined, Markdown emphasis and heading marks dropped
    (emphasis marks only: an asterisk that is not markup is kept)."""
    if "-\n" in text:
        text = _HYPHEN_BREAK.sub("-", text)
    if "\\" in text:
        text = _MD_ESCAPE.sub(r"\1", text)
    text = " ".join(strip_emphasis(text).split())
    return text.lstrip("#").lstrip() if text.startswith("#") else text


def ends_terminal(line: str) -> bool:
    """Does ``line`` end a sentence or list item ("." ":" ";" "?" "!", optionally "; and" / "; or")?"""
    stripped = line.rstrip(CLOSERS)
    if stripped.endswith((" and", " or")):
        stripped = stripped.rsplit(" ", 1)[0].rstrip(CLOSERS)
        return stripped.endswith(";")
    return stripped.endswith((".", ":", ";", "?", "!"))


def ends_with_reference(line: str) -> bool:
    """"...under Section" + a line starting "2." is a wrapped reference, not item 2."""
    words = line.rsplit(None, 1)
    return bool(words) and words[-1].lower().rstrip(",") in _REF_WORDS


def is_title_case(text: str) -> bool:
    words = [w for w in _WORD.findall(text) if w.lower() not in _SMALL]
    return bool(words) and sum(w[0].isupper() for w in words) >= 0.6 * len(words)


def is_all_caps(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 3 and sum(c.isupper() for c in letters) >= 0.8 * len(letters)


def heading_like(text: str) -> bool:
    """A short standalone line that reads as a heading ("Prohibited Uses", "LIMITATION OF LIABILITY")."""
    text = text.strip()
    if not text or len(text.split()) > 12 or _NOT_HEADING.match(text) or text[0] in "([" or text[0].islower():
        return False
    if text.endswith((" or", " and")) and text.rsplit(" ", 1)[0].rstrip(CLOSERS).endswith((";", ",")):
        return False     # "...; or": a list item running on
    if text.rstrip(CLOSERS)[-1:] in tuple(".:;,!?") or YEAR.search(text):
        return False
    if "http" in text or "@" in text or "www." in text:
        return False
    return is_all_caps(text) or is_title_case(text)


def title_prefix(rest: str) -> int | None:
    """Length of a short title sentence at the start of ``rest`` ("Grant of Rights. You ..." -> 16)."""
    m = _TITLE_END.match(rest[:200])
    if not m:
        return None
    title = rest[:m.end()].strip()
    if not title[:1].isupper() or len(title.split()) > 15 or not (is_title_case(title) or is_all_caps(title)):
        return None
    return m.end()
