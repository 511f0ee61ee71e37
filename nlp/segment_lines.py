"""Lines -> units: the first pass of segmentation.

A unit is one heading line, one labelled item or one paragraph, with its character span. Blank lines
always end a unit. Inside a block of consecutive lines the text is either *hard-wrapped* (the lines
of a paragraph were broken at a fixed width: Apache-2.0, MIT, Federal Register text) or *line per
paragraph* (each line is a paragraph or list item: most licence .txt files, Markdown without blank
lines); the mode is measured once per document (``wrap_width``): wrapped lines cluster just under
one width, no line runs far past it, and most of them stop mid-sentence; lines that are paragraphs
vary in length, and most of them end a sentence.

In either mode a line opens a new unit when it starts with a clause label that fits the numbering
("2.1.", "(a)", also bold "**1.1. Scope.**" and tab-separated "\t2.1.\tSubject to"), or, after a
sentence end, with a quoted defined term ('"Licensor" shall mean ...').
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from clausewatch.nlp.segment_labels import Label, LabelStack, Level, Placement, parse_label
from clausewatch.nlp.segment_text import (
    CLOSERS,
    YEAR,
    ends_terminal,
    ends_with_reference,
    heading_like,
    title_prefix,
)

_MD_HEADING = re.compile(r"(#{1,6})[ \t]+(?=\S)")
_FRONT_MATTER_KEY = re.compile(r"[\w-]+:")
# A structural heading: "Article 53", "CHAPTER V", "SECTION 2", "ANNEX XI", "Sec. 4.", "Section 1: DEFINITIONS",
# "APPENDIX: How to apply ...". Whether it is one is decided by struct_heading() below.
_STRUCT = re.compile(
    r"(?P<kw>PART|Part|TITLE|Title|CHAPTER|Chapter|SUBSECTION|Subsection|Sub-section|SECTION|Section|Sec\.|SEC\.|§"
    r"|ARTICLE|Article|ANNEX|Annex|APPENDIX|Appendix|ATTACHMENT|Attachment|SCHEDULE|Schedule|EXHIBIT|Exhibit)"
    r"(?:[ \t]+(?P<num>\d{1,4}(?:\.\d{1,3})*[a-z]?|[IVXLCDM]{1,8}|[A-Z])(?![\w(]))?"
    r"(?P<sep>\.?[ \t]*(?:(?:--|[:.—–-])(?=\s|$)[ \t]*)?)"
)
_STRUCT_FIRST = set("PTCSAE§")
_LABEL_FIRST = set("(\\-*_+•●▪◦‣∙·–—0123456789")
_NUMBERLESS_KW = {"annex", "appendix", "attachment", "schedule", "exhibit"}
_FIRST_PAREN = re.compile(r"\((?:a|1|i|A|I)\)(?=\s)")
_BOLD_OPEN = re.compile(r"(?:\*\*|__)[ \t]*")
# a quoted term opening a definition: '"Licensor" shall mean', '“Model Derivatives” means', '"You" (or "Your")'
_DEFINITION_START = re.compile(
    r"[\"“‘'][A-Z][^\"”’'\n]{0,60}[\"”’'](?:\s*\([^)\n]{0,60}\))?\s*,?\s*"
    r"(?:shall\s+mean|means?\b|refers?\s+to|has\s+the\s+meaning|is\s+defined|includes?\b|shall\s+include)")
# a line that stops in the middle of a phrase: the next line continues the sentence
_RUNS_ON = re.compile(r"(?:,|\b(?:the|a|an|of|to|in|on|for|with|by|and|or|under|pursuant|from|at|as|that|which|"
                      r"this|its|their|such|any|between|into|including|than|is|are|be|shall|may|will))$")
WRAP_RATIO = 0.85
OVERLONG_SHARE = 0.1   # wrapped text: hardly a line runs past the width
TERMINAL_SHARE = 0.6   # wrapped text: most lines followed by another one stop mid-sentence


@dataclass
class Struct:
    kw: str            # as printed: "Article", "CHAPTER", "Sec."
    num: str | None    # "53", "V", "4", None for "APPENDIX:"
    rest: str          # what follows on the line (title and/or body)
    rest_offset: int   # offset of ``rest`` in the stripped line
    separated: bool    # a ":" "." or dash separates the number from the rest


@dataclass
class Unit:
    start: int                     # span in the text (indentation excluded)
    end: int
    indent: int
    body_indent: int               # indentation of its continuation lines (= indent if one line)
    text_start: int                # where its words start (after the label / heading marker)
    label: Label | None = None
    md_level: int = 0              # "#" count of a Markdown heading
    struct: Struct | None = None
    lines: int = 1
    forced_title: int | None = None  # end offset of a title cut off before an inline "(a)"
    words: str | None = None       # cleaned text after the label (cached by the second pass)


def _inline_sublabel(content: str, after: int) -> tuple[int, bool] | None:
    """Where a first sub-item label ("(a)", "(1)", "(i)", "(A)") starts right after a label, or after a
    short title sentence following it; and whether a title came first."""
    rest = content[after:after + 400]
    if "(" not in rest[:220]:
        return None
    body = rest.lstrip()
    skipped = after + len(rest) - len(body)
    if _FIRST_PAREN.match(body):
        return skipped, False
    cut = title_prefix(body)
    if cut is not None and _FIRST_PAREN.match(body[cut:]):
        return skipped + cut, True
    return None


def read_label(content: str) -> Label | None:
    """The label opening a line, also in bold ("**1.1. Scope.** text", "**(a)** text"); ``end`` counts
    the asterisks that precede it. A bullet that only decorates a label ("- (a) text", "* 2. text", the
    Markdown of a list whose items carry their own letters) gives that label."""
    if content[0] not in "*_":
        return _inner_label(parse_label(content), content)
    bold = _BOLD_OPEN.match(content)
    if bold is None:
        return _inner_label(parse_label(content), content)
    rest = content[bold.end():]
    close = rest.find(content[0] * 2)
    if 0 < close <= 12:  # "1.1.** text": the closing marks must not glue the label to its text
        rest = rest[:close] + "  " + rest[close + 2:]
    label = parse_label(rest)
    if label is None or label.is_bullet:
        return None
    return replace(label, end=label.end + bold.end())


def _inner_label(label: Label | None, content: str) -> Label | None:
    if label is None or not label.is_bullet:
        return label
    rest = content[label.end:]
    gap = len(rest) - len(rest.lstrip(" \t"))
    if not gap or not rest[gap:gap + 1] or rest[gap] not in _LABEL_FIRST:
        return label
    inner = parse_label(rest[gap:])
    if inner is None or inner.is_bullet or len(rest) - gap <= inner.end:
        return label
    return replace(inner, end=label.end + gap + inner.end)


def _maybe_label(content: str) -> bool:
    """Cheap test before the label regex: most lines start with a plain word."""
    return content[0] in _LABEL_FIRST or "." in content[1:9] or ")" in content[1:4]


def struct_heading(content: str) -> Struct | None:
    """Read a structural heading line; None for running text that merely starts with "Section 2 of ..."."""
    m = _STRUCT.match(content)
    if not m:
        return None
    kw, num, sep = m["kw"], m["num"], m["sep"]
    rest = content[m.end():]
    separated = any(ch in sep for ch in ":.—–-")
    if num is None:
        if kw.lower() not in _NUMBERLESS_KW or not (separated or not rest):
            return None
        if kw.islower() or (kw[0].isupper() and not kw.isupper() and not separated):
            return None
    if rest:
        if rest[0].islower() or rest[0].isdigit() or rest[0] in "(,;":
            return None
        if not separated:
            if len(rest.split()) > 14 or YEAR.search(rest) or rest.rstrip().endswith((".", ";", ":", ",")):
                return None
    return Struct(kw, num, rest, m.end(), separated)


def wrap_width(lines: list[str]) -> tuple[bool, int]:
    """(hard-wrapped?, width), measured on the lines followed by another line of the same block: their
    lengths cluster just under a width (the median is close to the 90th percentile), almost no line of
    the document is much longer than that width, and most of them end mid-sentence."""
    inner_lines = [lines[i].rstrip() for i in range(len(lines) - 1) if lines[i].strip() and lines[i + 1].strip()]
    inner = sorted(len(line) for line in inner_lines)
    if len(inner) < 3:
        return False, 0
    width = inner[int(0.9 * (len(inner) - 1))]
    median = inner[len(inner) // 2]
    if not (width > 0 and median >= WRAP_RATIO * width and width <= 250):
        return False, width
    texts = [line for line in lines if line.strip()]
    overlong = sum(1 for line in texts if len(line.rstrip()) > 1.15 * width + 5)
    if overlong > OVERLONG_SHARE * len(texts):
        return False, width
    terminal = sum(1 for line in inner_lines if ends_terminal(line.strip()))
    return terminal <= TERMINAL_SHARE * len(inner_lines), width


def _front_matter_end(lines: list[str]) -> int:
    """Number of lines of a YAML front matter block at the top (raw Markdown), else 0."""
    if not lines or lines[0].strip() != "---":
        return 0
    for i in range(1, min(len(lines), 200)):
        if lines[i].strip() in ("---", "..."):
            return i + 1 if i > 1 and _FRONT_MATTER_KEY.match(lines[1].strip()) else 0
    return 0


class LineReader:
    """Turns the text into units. One pass, linear in the text length."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.units: list[Unit] = []
        self.stack = LabelStack()   # provisional numbering, to judge labels inside wrapped paragraphs
        self.cur: Unit | None = None
        self.prev_line = ""          # previous line of the current block ("" after a blank line)
        self.prev_raw_len = 0
        self.prev_is_label_line = False

    def read(self) -> list[Unit]:
        raw_lines = self.text.split("\n")
        self.wrapped, self.width = wrap_width(raw_lines)
        skip = _front_matter_end(raw_lines)
        offset = 0
        for index, raw in enumerate(raw_lines):
            line_start = offset
            offset += len(raw) + 1
            if index < skip:
                continue
            content = raw.strip()
            if not content:
                self._close()
                self.prev_line = ""
                continue
            lead = raw[:raw.find(content[0])]
            indent = len(lead) + 3 * lead.count("\t")
            start = line_start + len(lead)
            end = start + len(content)
            self._line(content, indent, start, end)
            self.prev_line = content
            self.prev_raw_len = len(lead) + len(content)
        self._close()
        return self.units

    # -- one line ---------------------------------------------------------------------------
    def _line(self, content: str, indent: int, start: int, end: int) -> None:
        continuation = bool(self.prev_line)
        heading = _MD_HEADING.match(content) if content[0] == "#" else None
        if heading:
            self._close()
            self.stack.reset()
            struct = struct_heading(content[heading.end():])
            if struct is not None:
                struct.rest_offset += heading.end()
            self.units.append(Unit(start, end, indent, indent, start + heading.end(),
                                   md_level=len(heading.group(1)), struct=struct))
            label = parse_label(content[heading.end():]) if struct is None else None
            if label is not None and not label.is_bullet:  # "###\t3.\tDuties.": its items continue from 3
                placement = self.stack.place(label, indent, strict=False)
                if placement is not None:
                    self._push(label, placement, indent)
                    self.stack.levels[-1].clause = None
            self.prev_is_label_line = False
            return
        struct = struct_heading(content) if content[0] in _STRUCT_FIRST else None
        if struct is None and content[:2] in ("**", "__") and content.endswith(content[:2]) and len(content) > 4:
            struct = struct_heading(content[2:-2].strip())   # "**Article 53**", "**Section 2: Scope**"
            if struct is not None:
                struct.rest_offset += 2 + len(content[2:]) - len(content[2:].lstrip())
        label_only = self.cur is not None and self.cur.label is not None and self.cur.text_start >= self.cur.end
        if struct is not None and not label_only and (not continuation or self._may_break(content)):
            self._close()
            self.stack.reset()
            self.cur = Unit(start, end, indent, indent, start, struct=struct)
            self._split_inline(self.cur, content, struct.rest_offset, start, indent)
            self.prev_is_label_line = True
            return
        label = read_label(content) if _maybe_label(content) else None
        if label is not None and self._accept(label, indent, continuation, content):
            self._close()
            self.cur = Unit(start, end, indent, indent, start + label.end, label=label)
            self._split_inline(self.cur, content, label.end, start, indent)
            self.prev_is_label_line = True
            return
        self.prev_is_label_line = False
        if self.cur is not None and continuation and self._joins(content):
            self.cur.end = end
            self.cur.lines += 1
            if self.cur.lines == 2:
                self.cur.body_indent = indent
            return
        self._close()
        self.cur = Unit(start, end, indent, indent, start)

    def _may_break(self, content: str) -> bool:
        """May a new unit start on this line, given the previous line of the block?"""
        prev = self.prev_line
        if ends_with_reference(prev):
            return False
        if not self.wrapped or self.prev_is_label_line and self.cur is not None and self.cur.lines == 1:
            return True
        if self.cur is not None and (self.cur.md_level or (self.cur.struct and not self.cur.struct.rest)):
            return True
        if self._after_heading():
            return True  # the line after a heading's title line
        return ends_terminal(prev) or self._paragraph_break(content)

    def _fits(self, content: str) -> bool:
        space = content.find(" ")
        first = len(content) if space < 0 else space
        return self.prev_raw_len + 1 + first <= self.width

    def _accept(self, label: Label, indent: int, continuation: bool, content: str) -> bool:
        """Does this label open a new item? After a blank line almost always; inside a block only where
        a break is plausible and the label continues or opens a sequence."""
        self._note_open_unit()
        if not continuation:
            placement = self.stack.place(label, indent, strict=False)
        elif not self._may_break(content):
            return False
        elif label.is_bullet:
            return True
        else:
            placement = self.stack.place(label, indent, strict=True)
            if placement is None and self.prev_line.rstrip(CLOSERS).endswith(":") and not label.kind == "d" \
                    and len(self.stack.levels) < 10:
                # a list under a chapeau may start at any number ("... the following:" / "8. Military ...")
                placement = Placement(len(self.stack.levels), *label.readings[0])
        if placement is None:
            return False
        self._push(label, placement, indent)
        return True

    def _push(self, label: Label, placement: Placement, indent: int) -> None:
        levels = self.stack.levels
        del levels[placement.depth:]
        levels.append(Level(placement.style, placement.value, label, indent, indent, ""))

    def _joins(self, content: str) -> bool:
        cur = self.cur
        if cur.md_level:
            return False
        if cur.struct is not None and not cur.struct.rest:
            return False
        if cur.label is not None and cur.text_start >= cur.end:
            return True  # "1.2" alone on its line: the next line is its text
        prev = self.prev_line
        if not self.wrapped:  # a line per paragraph, unless a sentence plainly runs on
            if content[:1].islower():
                return not ends_terminal(prev)
            # a label refused by the numbering ("... and\n(B) display ...") continues the sentence
            if _maybe_label(content) and parse_label(content) is not None:
                return not prev.rstrip(CLOSERS).endswith((".", ":", "?", "!"))
            if ends_terminal(prev):
                return False
            if self.width == 0 and len(prev) >= 50 and not heading_like(prev):
                return True   # too few lines to measure: a long line without a sentence end runs on
            return bool(_RUNS_ON.search(prev))
        if self._after_heading() and self._fits(content):
            return False  # "Article 5" / "Prohibited AI practices" / "1. The following ..."
        if ends_terminal(prev) and _DEFINITION_START.match(content):
            return False  # definitions one after the other, without blank lines
        return not self._paragraph_break(content)

    def _after_heading(self) -> bool:
        """Is the unit being read the (title) line right after a heading line?"""
        cur = self.cur
        return cur is not None and cur.label is None and cur.lines <= 2 and bool(self.units) \
            and (self.units[-1].md_level > 0 or self.units[-1].struct is not None)

    def _paragraph_break(self, content: str) -> bool:
        """In hard-wrapped text a line ends its paragraph when the next word would have fitted on it:
        a short line, or a line ending a sentence that is clearly shorter than the wrap width."""
        if not self._fits(content):
            return False
        size = len(self.prev_line)
        return size < 0.6 * self.width or (ends_terminal(self.prev_line) and size < 0.9 * self.width)

    def _split_inline(self, unit: Unit, content: str, after: int, start: int, indent: int) -> None:
        """"4.2. Ensuring Safe and Reliable AI. (a) Within 90 days ..." -> a titled label and item (a);
        "(3) (A) (i) Before ..." -> three nested items."""
        for _ in range(3):
            sub_at = _inline_sublabel(content, after)
            if sub_at is None:
                return
            sub_at, titled = sub_at
            sub = parse_label(content[sub_at:])
            placement = self.stack.place(sub, indent, strict=False) if sub is not None else None
            if placement is None:
                return
            unit.end = start + len(content[:sub_at].rstrip())
            unit.forced_title = unit.end if titled else None
            self._push(sub, placement, indent)
            self.units.append(unit)
            unit = Unit(start + sub_at, start + len(content), indent, indent, start + sub_at + sub.end, label=sub)
            self.cur = unit
            after = sub_at + sub.end

    def _note_open_unit(self) -> None:
        """Tell the provisional numbering whether the unit read so far has text and ends in a colon."""
        cur = self.cur
        if cur is None or not self.stack.levels:
            return
        top = self.stack.levels[-1]
        tail = self.text[max(cur.text_start, cur.end - 40):cur.end].rstrip(CLOSERS)
        if cur.label is not None:
            # bounded slices: called once per label line, it must not re-read a long unit
            head = self.text[cur.text_start:min(cur.end, cur.text_start + 200)]
            top.clause = 1 if head.strip() and not _looks_like_title(head, tail) else None
        top.ends_colon = tail.endswith(":")

    def _close(self) -> None:
        if self.cur is not None:
            self._note_open_unit()
            cur = self.cur
            self.units.append(cur)
            self.cur = None
            if self.stack.levels and cur.label is None and cur.struct is None and cur.lines == 1 \
                    and cur.end - cur.start <= 120 and heading_like(self.text[cur.start:cur.end]):
                self.stack.reset()  # "RESTRICTIONS": a heading line starts the numbering afresh


def _looks_like_title(head: str, tail: str) -> bool:
    return len(head) < 200 and len(head.split()) <= 12 and not tail.endswith((":", ";", ","))


def read_units(text: str) -> list[Unit]:
    """Split ``text`` into heading, item and paragraph units (see the module docstring)."""
    return LineReader(text).read()
