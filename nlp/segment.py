"""Clause segmentation: normalised structured text -> list[Segment]. Pure, regex/line based, linear time.

The clause unit (../shared/taxonomy.yaml): the smallest numbered or lettered unit ("1.", "1.b", "(a)",
"i.", "Article 53(1)"), in unnumbered text one paragraph, one list item per clause. Headings are not
clauses: they become ``heading``/``headings`` and the start of ``path``.

Paths are built from the document's own numbering:

- legal texts: ``Article 53 > 1 > (b) > (ii)``, ``Annex XI > Section 1 > 2``, ``Recital 12``;
  unnumbered subparagraphs ``Article 50 > 4 > ¶2``; a second list in one paragraph hangs from its
  subparagraph: ``Article 43 > 1 > ¶2 > (a)``; codified sections ``Chapter 22.6 > 22602 > (e) > (1)``;
- licences: ``Section 1.b.v`` (levels "1." "b." "v." are joined with dots while their styles differ),
  ``Section 4 > (a)``, ``Section 3.2`` (a number "3.2" replaces the "Section 3" or "3." it refines);
- executive orders: ``Sec. 4.2 > (a) > (i)`` ("4.2." under "Sec. 4." replaces it, as the order cites
  itself: "subsection 4.2(a)");
- Markdown nested lists use the numbering Markdown renders (a list starts at its first marker and
  counts up, whatever the later markers say): ``Section 1 > 1 > 2``; bullets are ``•1``, ``•2``;
- unnumbered paragraphs: ``<heading> > ¶1``, or ``¶ 12`` with no heading.

A repeated path gets `` #2``, `` #3``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from clausewatch.nlp.model import Segment
from clausewatch.nlp.segment_labels import (
    DOTTED_STYLES,
    Label,
    LabelStack,
    Level,
    Placement,
    number_tuple,
    parse_label,
    render_value,
)
from clausewatch.nlp.segment_lines import Struct, Unit, read_units
from clausewatch.nlp.segment_text import (
    CLOSERS,
    clean,
    heading_like,
    is_all_caps,
    is_title_case,
    title_prefix,
)

_MULTI_SENTENCE = re.compile(r"[a-z)”\"][.!?] +[A-Z“\"]")
_BOLD_LINE = re.compile(r"(?:\*\*[^*\n]{1,200}\*\*[ \t]*){1,6}")
_KW = {"part": ("Part", 1, True), "title": ("Title", 1, True), "annex": ("Annex", 1, True),
       "appendix": ("Appendix", 1, True), "attachment": ("Attachment", 1, True),
       "schedule": ("Schedule", 1, True), "exhibit": ("Exhibit", 1, True),
       "chapter": ("Chapter", 2, True), "section": ("Section", 3, False), "sec.": ("Sec.", 3, False),
       "§": ("§", 3, False), "subsection": ("Subsection", 4, False), "sub-section": ("Subsection", 4, False),
       "article": ("Article", 5, True)}
_PLAIN_RANK = 30


@dataclass
class _Heading:
    rank: int
    text: str
    part: str | None      # path part ("Article 53"), None for unnumbered headings
    root: bool = False     # starts the path afresh (Article, Annex, Chapter ...)
    number: str | None = None


class _Builder:
    def __init__(self, text: str, units: list[Unit]) -> None:
        self.text = text
        self.units = units
        self.segments: list[Segment] = []
        self.headings: list[_Heading] = []
        self.stack = LabelStack()
        self.root_counts: dict[str, int] = {}
        self.root_latest: int | None = None
        self.root_colon = False
        self.pending_title: _Heading | None = None
        self.recitals = False
        self.top_numbers: set[str] = set()  # "Section N" parts already used by a top-level list
        self.used: set[str] = set()

    # -- helpers -----------------------------------------------------------------------------
    def words(self, start: int, end: int) -> str:
        return clean(self.text[start:end])

    def unit_words(self, unit: Unit) -> str:
        if unit.words is None:
            unit.words = self.words(unit.text_start, unit.end)
        return unit.words

    def _is_plain(self, unit: Unit | None) -> bool:
        return unit is not None and unit.label is None and unit.struct is None and not unit.md_level

    def _candidate(self, unit: Unit | None) -> bool:
        if not self._is_plain(unit):
            return False
        raw = self.text[unit.start:unit.end].strip()
        return bool(_BOLD_LINE.fullmatch(raw)) or heading_like(self.unit_words(unit))

    # -- main loop ---------------------------------------------------------------------------
    def build(self) -> list[Segment]:
        units, i = self.units, 0
        while i < len(units):
            unit = units[i]
            nxt = units[i + 1] if i + 1 < len(units) else None
            if unit.md_level or unit.struct is not None:
                i += self._heading_unit(unit, nxt)
                continue
            if unit.label is not None:
                i += self._label_unit(unit, nxt)
                continue
            words = self.unit_words(unit)
            if not words:
                i += 1
                continue
            if self.pending_title is not None and self._title_after_struct(words):
                self.pending_title.text += " " + words
                self.pending_title = None
                i += 1
                continue
            self.pending_title = None
            raw = self.text[unit.start:unit.end].strip()
            first = not self.segments and not self.headings
            if _BOLD_LINE.fullmatch(raw) or (heading_like(words) and nxt is not None and (
                    first or not self._candidate(nxt) and not nxt.struct and not nxt.md_level)):
                self._push_heading(_Heading(_PLAIN_RANK, words, None))
                i += 1
                continue
            self._paragraph(unit, words, standalone=heading_like(words))
            i += 1
        return _unique(self.segments)

    @staticmethod
    def _title_after_struct(words: str) -> bool:
        return len(words.split()) <= 30 and words.rstrip(CLOSERS)[-1:] not in (".", ";", ":")

    # -- headings ----------------------------------------------------------------------------
    def _heading_unit(self, unit: Unit, nxt: Unit | None) -> int:
        struct = unit.struct
        if struct is None:
            words = self.unit_words(unit)
            label = parse_label(words)
            if label is not None and self.pending_title is None and not label.is_bullet \
                    and self.stack.place(label, unit.indent, strict=False) is not None:
                # "### 1. Schengen Information System": a numbered heading opens a numbering level
                level = self._push_label(label, unit)
                level.title = words
                return 1
            if self.pending_title is not None:
                self.pending_title.text += " " + words
                self.pending_title = None
            elif words:
                self._push_heading(_Heading(10 + unit.md_level, words, None))
            return 1
        name, rank, root = _KW[struct.kw.lower()]
        part = f"{name} {struct.num}" if struct.num else name
        rest_start = unit.start + struct.rest_offset
        head = self.words(unit.start, rest_start)
        printed = head.rstrip(":—–- ").strip()
        rest = self.words(rest_start, unit.end)
        title, body = self._split_rest(struct, rest, unit)
        heading = _Heading(rank, (head + " " + title) if title else printed, part, root, struct.num)
        self._push_heading(heading)
        self.pending_title = heading if not title and not body else None
        if body:
            self._emit(unit.start, unit.end, body, printed, depth=0, parent=None, level=None, struct_body=True)
        return 1

    def _split_rest(self, struct: Struct, rest: str, unit: Unit) -> tuple[str | None, str | None]:
        if not rest:
            return None, None
        if unit.forced_title is not None:
            return rest, None
        name = _KW[struct.kw.lower()][0]
        if name in ("Section", "Sec.", "§", "Subsection") or struct.separated:
            cut = title_prefix(rest)
            if cut is not None and rest[cut:].strip():
                return rest[:cut].strip(), rest       # "Purpose. Artificial intelligence ..."
            if len(rest.split()) <= 15 and (heading_like(rest) or rest.endswith(".") and is_title_case(rest)
                                            or unit.md_level):   # "## Section 2. Licence grant": a heading
                return rest, None
            if struct.separated and ":" in self.text[unit.start:unit.start + struct.rest_offset] \
                    and len(rest.split()) <= 15:
                return rest, None
            return None, rest
        return rest, None

    def _push_heading(self, heading: _Heading) -> None:
        if heading.part is None and not self.headings and not self.segments:
            heading.rank = -1  # the document's title: stays outermost
        while self.headings and self.headings[-1].rank >= heading.rank:
            self.headings.pop()
        self.headings.append(heading)
        self.stack.reset()
        self.root_latest, self.root_colon = None, False
        if heading.part is not None:
            self.recitals = False

    # -- labelled items ----------------------------------------------------------------------
    def _label_unit(self, unit: Unit, nxt: Unit | None) -> int:
        label = unit.label
        words = self.unit_words(unit)
        consumed = 1
        body_unit = None
        if not words and self._is_plain(nxt):
            body_unit, consumed = nxt, 2     # "(a)" and its text in separate blocks
            words = self.unit_words(nxt)
        level = self._push_label(label, unit)
        self.pending_title = None
        if not words:
            return consumed
        title_only = unit.forced_title is not None or (body_unit is None and self._is_title(unit, words, nxt, level))
        if title_only:
            level.title = self.words(unit.start, unit.end)
            return consumed
        end = body_unit.end if body_unit else unit.end
        cut = title_prefix(words)
        if cut is not None and words[cut:].strip():
            level.title = f"{label.printed} {words[:cut].strip()}"
        self._emit(unit.start, end, words, label.printed, depth=len(self.stack.levels), parent=level.parent,
                   level=level)
        return consumed

    def _push_label(self, label: Label, unit: Unit) -> Level:
        levels = self.stack.levels
        placement = self.stack.place(label, unit.indent, strict=False)
        if placement is None:  # accepted by the first pass under other headings: open a new level
            placement = Placement(min(len(levels), 15), *label.readings[0])
        depth = placement.depth
        replaced = levels[depth] if depth < len(levels) else None
        sibling = replaced is not None and replaced.style == placement.style
        intro = levels[depth - 1].latest if depth > 0 else self.root_latest
        if sibling:
            parent = replaced.parent
        elif depth > 0:
            parent = intro
        else:
            parent = intro if self.root_colon else None
        anchor = replaced.anchor if sibling else None
        if placement.style.startswith("bullet:"):
            count = replaced.value + 1 if sibling else 1
            value, part = count, f"•{count}"
            if depth == 0 and not sibling:  # bullets hang from the paragraph that introduces them
                anchor = self.segments[intro].path if intro is not None else self._plain()
        else:
            value = placement.value
            part = render_value(placement.style, value, label)
            if depth == 0 and self.recitals and placement.style == "p:num":
                part = f"Recital {part.strip('()')}"
            elif depth == 0 and placement.style in ("num", "multi") and not self._root_path(plain=False):
                if not sibling and part in self.top_numbers:
                    anchor = self._plain()  # a second numbered list in the document: "Prohibited Uses > 1"
                if anchor is None:
                    self.top_numbers.add(part)
        del levels[depth:]
        if depth > 0:  # the owner's text now introduces this list; later paragraphs follow the list
            levels[depth - 1].has_children = True
            levels[depth - 1].latest, levels[depth - 1].ends_colon = None, False
        else:
            self.root_latest, self.root_colon = None, False
        level = Level(placement.style, value, label, unit.indent, unit.body_indent, part, parent=parent,
                      anchor=anchor, start=unit.start)
        levels.append(level)
        if not sibling and anchor is None and intro is not None and self.segments[intro].label is None \
                and self._path(levels) in self.used:
            level.anchor = self.segments[intro].path  # a second list in one paragraph: "1 > ¶2 > (a)"
        return level

    def _is_title(self, unit: Unit, words: str, nxt: Unit | None, level: Level) -> bool:
        """"1. Definitions." followed by its definitions or by "a." items is a heading, not a clause."""
        n = len(words.split())
        tail = words.rstrip(CLOSERS)[-1:]
        if nxt is None or n > 12 or tail in (":", ";", ",") or (tail == "." and n > 10):
            return False
        if nxt.label is not None:
            placement = self.stack.place(nxt.label, nxt.indent, strict=False)
            return placement is not None and placement.depth >= len(self.stack.levels)
        if self._is_plain(nxt) and nxt.indent >= unit.indent:
            return is_title_case(words) or is_all_caps(words)
        return False

    # -- paragraphs --------------------------------------------------------------------------
    def _paragraph(self, unit: Unit, words: str, standalone: bool) -> None:
        levels = self.stack.levels
        while levels and unit.indent + 1 < levels[-1].indent:
            levels.pop()
        while levels and levels[-1].body_indent > levels[-1].indent and unit.indent < levels[-1].body_indent:
            levels.pop()
        if standalone:
            levels.clear()
        if levels:
            top = levels[-1]
            if top.title is not None and top.clause is None and not top.has_children:
                self._emit(top.start, unit.end, words, top.label.printed, depth=len(levels), parent=top.parent,
                           level=top)
                return
            if not top.has_children and (len(levels) > 1 or top.parent is not None) and unit.indent <= top.indent:
                levels.pop()
        if words.lower().startswith(("whereas", "having regard")):
            self.recitals = True
        elif words.upper().startswith("HAVE ADOPTED"):
            self.recitals = False
        self._emit(unit.start, unit.end, words, None, depth=len(levels), parent=None, level=None)

    # -- output ------------------------------------------------------------------------------
    def _emit(self, start: int, end: int, words: str, label: str | None, *, depth: int, parent: int | None,
              level: Level | None, struct_body: bool = False) -> None:
        ordinal = len(self.segments)
        levels = self.stack.levels
        if level is not None:
            path = self._path(levels)
            level.clause = ordinal if level.clause is None else level.clause
            level.paragraphs += 1
        else:
            owner = levels[-1] if levels else None
            prefix = self._path(levels) if levels else self._root_path(plain=True)
            if struct_body:
                path = prefix
                self.root_counts[prefix] = self.root_counts.get(prefix, 0) + 1
            elif owner is not None:
                owner.paragraphs += 1
                path = f"{prefix} > ¶{owner.paragraphs}"
            else:
                count = self.root_counts.get(prefix, 0) + 1
                self.root_counts[prefix] = count
                path = f"{prefix} > ¶{count}" if prefix else f"¶ {count}"
            parent = self._paragraph_parent(owner, words)
        headings = tuple(h.text for h in self.headings) + tuple(lv.title for lv in levels if lv.title)
        seg = Segment(ordinal=ordinal, path=path, heading=headings[-1] if headings else None, label=label,
                      text=words, start=start, end=end, depth=depth, parent=parent, headings=headings)
        self.segments.append(seg)
        self.used.add(path)
        colon = words.rstrip(CLOSERS).endswith(":")
        if levels and (level is not None or not struct_body):
            levels[-1].latest, levels[-1].ends_colon = ordinal, colon
        else:
            self.root_latest, self.root_colon = ordinal, colon

    def _paragraph_parent(self, owner: Level | None, words: str) -> int | None:
        """An unlabelled paragraph is a list item when it follows a chapeau or another such item: after an
        item ending in ";" or ","; after an unlabelled item without a full stop ("Violence or terrorism"),
        unless it is itself a paragraph of several sentences or of more than 40 words; after an unlabelled
        item ending in a full stop only when it has no full stop either (items written without numbers)."""
        latest = owner.latest if owner is not None else self.root_latest
        if latest is None:
            return None
        prev = self.segments[latest]
        tail = prev.text.rstrip(CLOSERS)
        if tail.endswith(":"):
            return latest
        if prev.parent is None:
            return None
        if tail.endswith((";", ",")) or re.search(r"[;,] (?:and|or)$", tail):
            return prev.parent
        if prev.label is not None or heading_like(prev.text) or heading_like(words):
            return None
        ends = words.rstrip(CLOSERS)[-1:]
        if tail[-1:] not in (".", "!", "?"):
            full = ends in (".", "!", "?") and (len(words.split()) > 40 or _MULTI_SENTENCE.search(words))
            return None if full else prev.parent
        return prev.parent if ends not in (".", "!", "?", ":") else None

    def _root_path(self, plain: bool) -> str:
        parts: list[str] = []
        for h in self.headings:
            if h.part is None:
                continue
            parts = [h.part] if h.root else parts + [h.part]
        if parts or not plain:
            return " > ".join(parts)
        return self._plain() or ""

    def _plain(self) -> str | None:
        return self.headings[-1].text if self.headings else None

    def _path(self, levels: list[Level]) -> str:
        parts: list[str] = []          # rendered chain, separators included
        prev: Level | None = None
        anchored = False
        for lv in levels:
            if lv.anchor:
                parts, anchored = [lv.anchor, " > ", lv.part], True
            elif prev is None:
                parts = [lv.part]
            elif lv.style == "multi" and number_tuple(prev.value) == lv.value[:-1] and prev.style in ("num", "multi"):
                parts[-1] = lv.part    # "3" then "3.1" reads "3.1"
            elif prev.style in DOTTED_STYLES and lv.style in DOTTED_STYLES and prev.style != lv.style:
                parts += [".", lv.part]
            else:
                parts += [" > ", lv.part]
            prev = lv
        chain = "".join(parts)
        first = levels[0]
        if anchored:
            return chain
        roots = self._root_path(plain=False)
        if roots:
            last = next(h for h in reversed(self.headings) if h.part is not None)
            if first.style == "multi" and not last.root and last.number is not None:
                # "4.2" under "Sec. 4" reads "Sec. 4.2", as the document cites it
                head, _, tail = roots.rpartition(" > ")
                kw = (tail or roots).rsplit(" ", 1)[0]
                return (head + " > " if head else "") + f"{kw} {chain}"
            return f"{roots} > {chain}"
        if first.part.startswith("Recital"):
            return chain
        if first.style in ("num", "multi"):
            return f"Section {chain}"
        plain = self._root_path(plain=True)
        return f"{plain} > {chain}" if plain else chain


def _unique(segments: list[Segment]) -> list[Segment]:
    seen: dict[str, int] = {}
    for seg in segments:
        count = seen.get(seg.path, 0) + 1
        seen[seg.path] = count
        if count > 1:
            seg.path = f"{seg.path} #{count}"
    return segments


def segment(text: str) -> list[Segment]:
    """Split normalised structured text into clauses (see the module docstring for paths)."""
    if not text or not text.strip():
        return []
    return _Builder(text, read_units(text)).build()
