"""The edges of a document and its lists: page furniture (a masthead or colophon line), list items and
table rows (content however short), headings compared as clauses of their own. Pure: no I/O.

``side`` arguments are ``changes.align._Side`` objects (items, header and footer zones, texts found in both
versions).
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from clausewatch.changes.cosmetic import HOLDER, SENTINELS, URL, capitalised_share, mask_urls
from clausewatch.changes.judge import NEGATIONS_MODALS
from clausewatch.changes.passes import Group, Item

HEADER_LINE_WORDS = 12      # an added/removed header line this short is cosmetic ("header")


def _content(keys: list[str]) -> str:
    return " ".join(t for t in keys if t not in SENTINELS)


# ------------------------------------------------------------------ headings

@dataclass
class HeadingClause:
    """A heading compared as a clause of its own: a renamed heading (or a table row the segmenter took for
    a heading) is a change of the document, not only of the paths below it."""

    text: str
    path: str
    ordinal: int | None = None
    label: str | None = None
    heading: str | None = None
    tags: list = field(default_factory=list)
    entities: list = field(default_factory=list)


def reworded_heading(items: list[Item], residual: list | None) -> bool:
    """A heading reworded ("Your Rights" -> "Your Privacy Rights"): headings are for convenience, not terms,
    unless the words changed are a negation, modal or number, or the "heading" is a table row or a sentence."""
    if not all(isinstance(it.clause, HeadingClause) and not table_row(it) and len(it.keys) <= HEADER_LINE_WORDS
               and not _SENTENCE_END.search(it.text) for it in items):
        return False   # a "heading" that is a sentence ("## The license must allow ...") is a term
    changed = {t for _, old, new in (residual or []) for t in (*old, *new)}
    return not any(t in NEGATIONS_MODALS or any(ch.isdigit() for ch in t) for t in changed)


def headings_apart(groups: list[Group], before: Any, after: Any) -> list[Group]:
    """A heading is paired with a heading: a group mixing headings and clauses whose words differ is split,
    so a heading of one rendering does not become an edit of the clause next to it in the other."""
    out: list[Group] = []
    for g in groups:
        heads = ({isinstance(before.items[i].clause, HeadingClause) for i in g.old}
                 | {isinstance(after.items[j].clause, HeadingClause) for j in g.new})
        same = [t for i in sorted(g.old) for t in before.items[i].keys] == \
            [t for j in sorted(g.new) for t in after.items[j].keys]
        if not g.old or not g.new or len(heads) == 1 or same:
            out.append(g)
            continue
        for heading in (True, False):
            old = [i for i in g.old if isinstance(before.items[i].clause, HeadingClause) == heading]
            new = [j for j in g.new if isinstance(after.items[j].clause, HeadingClause) == heading]
            if old and new:
                out.append(Group(old, new, moved=g.moved))
            else:
                out += [Group([i], []) for i in old] + [Group([], [j]) for j in new]
    return out


_MD_HEADING = re.compile(r"(?m)^#{1,6}[ \t]+(.+?)[ \t#]*$")


def _heading_key(text: str) -> str:
    return " ".join(text.replace("#", " ").replace("*", " ").split()).lower()


def with_headings(clauses: Sequence[Any], text: str | None = None) -> list[Any]:
    """The clauses with their headings as clauses of their own, in document order: every Markdown heading
    line of the analysed ``text`` (also one with no clause under it: a definition written as a list of
    headings), and before each run of clauses under a new nearest heading, that heading."""
    marks = [(m.start(), m.group(1)) for m in _MD_HEADING.finditer(text or "")]
    out: list[Any] = []
    last = None
    k = 0
    for clause in clauses:
        seg = getattr(clause, "segment", clause)
        start = getattr(seg, "start", None)
        just: set[str] = set()
        while k < len(marks) and isinstance(start, int) and marks[k][0] <= start:
            out.append(_heading_item(marks[k][1], getattr(seg, "ordinal", None)))
            just.add(_heading_key(marks[k][1]))
            k += 1
        heading = getattr(seg, "heading", None)
        if heading and heading != last and _heading_key(heading) not in just:
            out.append(_heading_item(heading, getattr(seg, "ordinal", None)))
        last = heading
        out.append(clause)
    out += [_heading_item(h, None) for _, h in marks[k:]]
    return out


def _heading_item(heading: str, ordinal: int | None) -> HeadingClause:
    return HeadingClause(text=heading, path=f"{' '.join(heading.split())[:80]} (heading)", ordinal=ordinal)


# ------------------------------------------------------------------ lists, tables, furniture

def table_row(item: Item) -> bool:
    return " | " in item.text or item.text.startswith("|")


def listed(item: Item, side: Any) -> bool:
    """An item of a list or a row of a table, which is content however short: one of the short lines a
    chapeau ending with a colon introduces ("in the following countries:"), or a numbered or bulleted item
    or table row next to an item or row both versions keep. Page furniture (a masthead or colophon line,
    a masthead table one rendering prints) is neither."""
    return introduced(item, side) or (list_like(item) and in_a_kept_list([item], side))


def list_like(item: Item) -> bool:
    """Numbered or bulleted, or a row of cells."""
    seg = getattr(item.clause, "segment", item.clause)
    if getattr(seg, "label", None):
        return True
    last = str(getattr(item.clause, "path", "") or "").rsplit(" > ", 1)[-1]
    return last.startswith("•") or table_row(item)


def introduced(item: Item, side: Any) -> bool:
    """One of the short lines after a chapeau ending with a colon."""
    for k in range(item.pos - 1, max(-1, item.pos - 40), -1):
        text = side.items[k].text.rstrip()
        if text.endswith(":"):
            return True
        if len(text.split()) > HEADER_LINE_WORDS:
            return False
    return False


def in_a_kept_list(items: list[Item], side: Any) -> bool:
    """Whether a clause next to these is a list item or table row that both versions have as a list item or
    row (a table that stays, not a masthead table that one rendering prints and the other does not)."""
    near = {it.pos + d for it in items for d in (-1, 1)} - {it.pos for it in items}
    return any(0 <= k < len(side.items) and list_like(side.items[k])
               and _content(side.items[k].keys) in side.list_both for k in near)


def copyright_only(keys: list[str]) -> bool:
    return HOLDER in keys and set(keys) <= {"copyright", "c", HOLDER}


def in_header(items: list[Item], side: Any) -> bool:
    """A title, masthead, version or date line at the top of a document."""
    return all(it.pos < side.header_end and furniture(it) for it in items)


def in_footer(items: list[Item], side: Any) -> bool:
    """A colophon line at the end of a document's body (ISSN, ELI, print notice)."""
    return all(side.footer_start <= it.pos < side.body_end and furniture(it) for it in items)


_WORDS = re.compile(r"[^\W\d_]+")
_SENTENCE_END = re.compile(r"[a-z][.!?](?:\s|$)")


# a web page's own controls: skip links, menus, sign-in, sharing, cookie consent buttons
_CONTROLS = re.compile(
    r"\b(?:skip\s+(?:to\s+(?:the\s+)?(?:main\s+)?(?:content|navigation|search|footer)|navigation|links?)|"
    r"back\s+to\s+(?:top|home)|jump\s+to\s+(?:content|navigation|section)|toggle\s+(?:navigation|menu)|"
    r"(?:open|close|main)\s+menu|menu|search|sign\s+(?:in|up|out)|log\s*(?:in|out)|print(?:\s+this\s+page)?|"
    r"share(?:\s+this(?:\s+page)?)?|(?:accept|reject|decline|allow)\s+(?:all|cookies|all\s+cookies)|"
    r"cookie\s+(?:settings|preferences)|manage\s+(?:cookies|preferences|consent)|got\s+it)\b", re.I)
# the sentence of a cookie banner: chrome only beside its buttons ("We use cookies ... Accept all")
_COOKIE_BANNER = re.compile(
    r"\b(?:this\s+(?:web)?site|we)\s+uses?\s+cookies(?:\s+(?:and\s+similar\s+technologies\s+)?(?:to\s+"
    r"(?:improve|enhance|personali[sz]e)\s+(?:your|the)\s+(?:user\s+|browsing\s+)?experience))?", re.I)


def chrome_only(text: str) -> bool:
    """A line made of a web page's controls only ("Skip to main content", "Sign in | Menu", "We use cookies
    to improve your experience. Accept all"): the page, not the document. A cookie sentence without its
    buttons ("We use cookies.") may be the document's own words: not chrome."""
    bare = mask_urls(text).replace(URL, " ")
    if not _CONTROLS.search(bare):
        return False
    return len(_WORDS.findall(_COOKIE_BANNER.sub(" ", _CONTROLS.sub(" ", bare)))) <= 1


def furniture(item: Item) -> bool:
    """Short, no obligation words, not a sentence, and either capitalised like a title or an identifier with
    a word or three ("ISSN 1977-0677 (electronic edition)", "ELI: http://..."); or a line of the page's own
    controls (a skip link, a cookie banner)."""
    if len(item.keys) > HEADER_LINE_WORDS:
        return False
    if chrome_only(item.text):
        return True
    if NEGATIONS_MODALS.intersection(item.keys):
        return False
    bare = mask_urls(item.text).replace(URL, " ")
    if _SENTENCE_END.search(bare):
        return False
    words = _WORDS.findall(bare)
    if not words:
        return True
    identifier = any(t in SENTINELS or any(ch.isdigit() for ch in t) for t in item.keys)
    return capitalised_share(bare) >= 0.6 or (identifier and len(words) <= 3)
