"""Clause labels ("1.", "1.1", "(a)", "iv.", "a)", "-") and the stack of open numbering levels.

A label is read only at the start of a line. Letters that are also Roman numerals ("i", "v", "x",
"ii" ...) keep both readings; the numbering stack picks the one that continues the sequence.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

# A label at the start of a (stripped) line, followed by whitespace or the end of the line. Markdown
# escapes that leak into plain text ("1\.", "\(i\)") are read as the label they escape.
_LABEL = re.compile(
    r"(?:\\?\((?P<p>\d{1,3}[a-z]?|[a-zA-Z]{1,2}|[ivxlcdm]{2,7}|[IVXLCDM]{2,7})\\?\)"
    r"|(?P<c>\d{4,6}(?:\.\d{1,3})?)\."                      # codified section "22602." "22757.10."
    r"|(?P<m>\d{1,3}(?:\.\d{1,3}){1,3})\\?\.?"
    r"|(?P<n>\d{1,3}[a-z]?)\\?\."
    r"|(?P<r>\d{1,3}|[a-z]|[ivx]{2,6})\\?\)"
    r"|(?P<d>[a-zA-Z]|[ivxlcdm]{2,7}|[IVXLCDM]{2,7})\\?\."
    r"|(?P<b>--|\\?[-*+]|[•●▪◦‣∙·–—]))"
    r"(?=\s|$)"
)
_ROMAN_FORM = re.compile(r"m{0,3}(cm|cd|d?c{0,3})(xc|xl|l?x{0,3})(ix|iv|v?i{0,3})")
_ROMAN_DIGITS = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100, "d": 500, "m": 1000}
# Single letters read as Roman numerals as well as letters; "c", "l", "d", "m" only as letters.
_ROMAN_LETTERS = {"i", "v", "x"}
DOTTED_STYLES = {"num", "alpha", "ALPHA", "roman", "ROMAN"}  # "1." "a." "A." "i." "I."


def roman_value(text: str) -> int | None:
    """``"iv"`` -> 4; None unless ``text`` is a well-formed Roman numeral (either case)."""
    low = text.lower()
    if not low or len(low) > 9 or not _ROMAN_FORM.fullmatch(low):
        return None
    total, prev = 0, 0
    for ch in reversed(low):
        value = _ROMAN_DIGITS[ch]
        total = total - value if value < prev else total + value
        prev = max(prev, value)
    return total


def alpha_value(text: str) -> int | None:
    """``"a"`` -> 1, ``"z"`` -> 26, ``"aa"`` -> 27, ``"bb"`` -> 28 (doubled letters continue the alphabet)."""
    low = text.lower()
    if len(low) == 1 and low.isalpha() and low.isascii():
        return ord(low) - 96
    if len(low) == 2 and low[0] == low[1] and low.isalpha() and low.isascii():
        return 26 + ord(low[0]) - 96
    return None


@dataclass(frozen=True)
class Label:
    """A label as printed at the start of a line, with every reading (style, value) it allows."""

    printed: str                          # "(a)", "1.", "4.2.", "-"
    kind: str                             # "p" (a) | "r" a) | "m" 1.1 | "n" 1. | "d" a. | "b" bullet
    readings: tuple[tuple[str, object], ...]
    end: int                              # length of the label in the stripped line

    @property
    def is_bullet(self) -> bool:
        return self.kind == "b"

    @property
    def first_style(self) -> str:
        return self.readings[0][0]

    def core(self) -> str:
        return self.printed.strip("().") if self.kind != "b" else self.printed


def _letter_readings(prefix: str, core: str) -> list[tuple[str, object]]:
    upper = core.isupper()
    readings: list[tuple[str, object]] = []
    roman = roman_value(core)
    if roman is not None and (len(core) > 1 or core.lower() in _ROMAN_LETTERS):
        readings.append((prefix + ("ROMAN" if upper else "roman"), roman))
    alpha = alpha_value(core)
    if alpha is not None and (len(core) == 1 or prefix == "p:"):
        readings.append((prefix + ("ALPHA" if upper else "alpha"), alpha))
    return readings


def _num_value(core: str) -> float:
    digits = core.rstrip("abcdefghijklmnopqrstuvwxyz")
    value = float(int(digits))
    if len(digits) < len(core):  # "1a": a point inserted after 1
        value += (ord(core[-1]) - 96) / 100
    return value


def parse_label(line: str) -> Label | None:
    """The label at the start of ``line`` (already stripped of indentation), or None."""
    m = _LABEL.match(line)
    if not m:
        return None
    readings: list[tuple[str, object]] = []
    if m["p"]:
        core = m["p"]
        readings = [("p:num", _num_value(core))] if core[0].isdigit() else _letter_readings("p:", core)
        kind = "p"
    elif m["c"]:
        parts = tuple(int(x) for x in m["c"].split("."))
        if 1900 <= parts[0] <= 2099 and len(parts) == 1:
            return None  # a year
        readings = [("code", parts)]
        kind = "c"
    elif m["m"]:
        parts = tuple(int(x) for x in m["m"].split("."))
        if 0 in parts[1:]:
            return None  # "2.0" is a version, not a label
        rest = line[m.end():].lstrip()
        if rest[:1].islower():
            return None  # "3.5 million ..."
        readings = [("multi", parts)]
        kind = "m"
    elif m["n"]:
        readings = [("num", _num_value(m["n"]))]
        kind = "n"
    elif m["r"]:
        core = m["r"]
        readings = [("r:num", float(core))] if core.isdigit() else _letter_readings("r:", core)
        kind = "r"
    elif m["d"]:
        readings = _letter_readings("", m["d"])
        kind = "d"
    else:
        readings = [("bullet:" + m["b"], 0)]
        kind = "b"
    if not readings:
        return None
    return Label(m.group(0).replace("\\", ""), kind, tuple(readings), m.end())


def is_first(style: str, value: object) -> bool:
    """Does ``value`` open a list of this style ("1", "a", "i", "1.1", any bullet or code section)?"""
    if style.startswith("bullet:") or style == "code":
        return True
    if style == "multi":
        return isinstance(value, tuple) and value[-1] == 1
    return value == 1


def is_successor(style: str, prev: object, value: object) -> bool:
    if style.startswith("bullet:"):
        return True
    if style == "code":
        return isinstance(prev, tuple) and isinstance(value, tuple) and value > prev
    if style == "multi":
        if not (isinstance(prev, tuple) and isinstance(value, tuple)) or len(prev) != len(value):
            return False
        if value[:-1] == prev[:-1]:
            return value[-1] == prev[-1] + 1
        return value[:-2] == prev[:-2] and value[-2] == prev[-2] + 1 and value[-1] == 1
    if not isinstance(prev, (int, float)) or not isinstance(value, (int, float)):
        return False
    whole = int(prev)
    return value == whole + 1 or (value != int(value) and int(value) == whole and value > prev)


@dataclass
class Level:
    """One open numbering level: the last label placed on it and what it introduced."""

    style: str
    value: object
    label: Label
    indent: int
    body_indent: int
    part: str                         # how the level shows in a path: "1", "b", "(a)", "4.2", "•3"
    title: str | None = None          # heading words of a titled item ("1. Definitions.")
    clause: int | None = None         # ordinal of the level's own clause
    latest: int | None = None         # ordinal of the latest clause at this level (own or a ¶)
    ends_colon: bool = False          # the latest clause at this level is a chapeau
    parent: int | None = None         # chapeau of the list this item belongs to
    has_children: bool = False
    paragraphs: int = 0               # clauses written at this level (own text counts as ¶1)
    anchor: str | None = None         # path prefix of a top-level list that needs one (bullets, restarts)
    start: int = -1                   # where the label stands in the text


@dataclass
class Placement:
    depth: int                        # index the label takes in the stack (deeper levels are closed)
    style: str
    value: object


_CAP = 10  # deeper nesting is read as siblings: real documents use at most 6 levels; keeps input linear


@dataclass
class LabelStack:
    levels: list[Level] = field(default_factory=list)

    def reset(self) -> None:
        self.levels.clear()

    def place(self, label: Label, indent: int, strict: bool) -> Placement | None:
        """Where ``label`` goes. ``strict`` (a line right after another line of the same block) accepts
        only labels that continue or open a sequence; otherwise any label is placed somewhere sensible."""
        placement = self._place(label, indent, strict)
        if placement is not None and placement.style == "multi" and placement.depth > 0:
            placement.depth = self._multi_depth(placement.value, placement.depth)
        return placement

    def _multi_depth(self, value: tuple, depth: int) -> int:
        """"4.1" names its own ancestry: it goes under "4." or beside "4.x", else at the top."""
        prefix = value[:-1]
        for k in range(depth - 1, -1, -1):
            level = self.levels[k]
            if level.style == "multi" and level.value[:-1] == prefix:
                return k
            if level.style in ("num", "multi") and number_tuple(level.value) == prefix:
                return k + 1
        return 0

    def _place(self, label: Label, indent: int, strict: bool) -> Placement | None:
        levels = self.levels
        readings = label.readings
        firsts = [(s, v) for s, v in readings if is_first(s, v)]
        if not levels:
            if firsts:
                return Placement(0, *firsts[0])
            if strict or label.kind == "d":  # "R. METSOLA" is a name, not item R
                return None
            return Placement(0, *readings[0])
        top = levels[-1]
        if indent > top.indent + 1 and len(levels) < _CAP:
            style, value = firsts[0] if firsts else readings[0]
            if strict and not firsts:
                return None
            return Placement(len(levels), style, value)
        limit = len(levels)
        while limit > 1 and levels[limit - 1].indent > indent + 1:
            limit -= 1
        owner = levels[limit - 1]
        open_list = limit == len(levels) and (owner.ends_colon or owner.clause is None)
        if open_list and len(levels) < _CAP:
            for style, value in firsts:
                if style != owner.style:
                    return Placement(limit, style, value)
        for k in range(limit - 1, -1, -1):
            if levels[k].indent + 1 < indent:
                break  # a shallower level cannot be a sibling of an indented label
            for style, value in readings:
                if style == levels[k].style and is_successor(style, levels[k].value, value):
                    return Placement(k, style, value)
        if not strict or (indent > 0 and indent == owner.indent):  # an indented list, not wrapped prose
            for style, value in readings:
                if style == owner.style:
                    return Placement(limit - 1, style, _renumber(style, owner.value, value))
        if firsts and len(levels) < _CAP and (not strict or open_list):
            return Placement(limit, *firsts[0])
        if strict or label.kind == "d":
            return None
        for k in range(limit - 1, -1, -1):
            if levels[k].indent + 1 < indent:
                break
            for style, value in readings:
                if style == levels[k].style:
                    return Placement(k, style, _renumber(style, levels[k].value, value))
        if len(levels) >= _CAP:
            return Placement(limit - 1, owner.style, _next(owner.style, owner.value))
        return Placement(limit, *readings[0])


def number_tuple(value: object) -> tuple:
    """(4,) for "4.", (4, 2) for "4.2"; () for letters and fractions."""
    if isinstance(value, tuple):
        return value
    if isinstance(value, float) and value.is_integer():
        return (int(value),)
    return ()


def _renumber(style: str, prev: object, value: object) -> object:
    """A sibling out of sequence: a gap ("2." then "4.") keeps its number; a repeat or a step back is
    Markdown's auto-numbering ("1." "1." "1." renders 1, 2, 3), so it counts on from the previous item."""
    try:
        if value > prev:  # type: ignore[operator]
            return value
    except TypeError:
        pass
    return _next(style, prev)


def _next(style: str, value: object) -> object:
    if style.startswith("bullet:"):
        return value
    if isinstance(value, tuple):
        return value[:-1] + (value[-1] + 1,)
    if isinstance(value, (int, float)):
        return float(int(value) + 1)
    return value


def render_value(style: str, value: object, label: Label) -> str:
    """The path part of a placed label: effective numbering for numbers and letters."""
    base = style.split(":")[-1]
    if isinstance(value, tuple):  # "4.2", a code section "22602"
        text = ".".join(str(v) for v in value)
    elif base in ("num",) and isinstance(value, float):
        whole = int(value)
        text = str(whole) + (chr(96 + round((value - whole) * 100)) if value != whole else "")
    else:
        text = label.core()
    if style.startswith("p:"):
        return f"({text})"
    if style.startswith("r:"):
        return f"{text})"
    return text
