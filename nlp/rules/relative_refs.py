"""Relative references inside codified sections (bills, statutes): "subdivision (e)", "paragraph (1) of
subdivision (b)", "clause (ii) of subparagraph (A)", "this subdivision", "paragraph (6) of subdivision (e)
of Section 22603", resolved to the full reference the document's own way: "Section 22603(e)(6)".

The clause's path gives the section and the levels it sits in ("Chapter 22.6 > 22603 > (f) > (2)":
Section 22603, levels (f) (2)). A unit names a level by the style of its label: subdivision (a), paragraph
(1), subparagraph (A), clause (i), subclause (I). A reference replaces the deepest level of its style in
the clause's position (a sibling or an ancestor's sibling) or, when that style is not open, goes one
level down (a child); "of ..." qualifiers are applied outermost first; "of Section N" starts from that
section, "of this section" from the clause's own. Regexes only, linear in the clause length.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

_UNIT = r"(?:sub)?(?:divisions?|paragraphs?|clauses?)"
_LABEL = r"\([A-Za-z0-9]{1,5}\)"
_LIST = rf"{_LABEL}(?:\s*(?:,\s*(?:and\s+|or\s+)?|\s+and\s+|\s+or\s+|\s+to\s+|\s+through\s+){_LABEL})*"
REL_RE = re.compile(
    rf"\b(?P<unit>{_UNIT})\s+(?P<labels>{_LIST})"
    rf"(?P<quals>(?:\s*,?\s+of\s+{_UNIT}\s+{_LABEL})*)"
    r"(?P<sec>\s*,?\s+of\s+(?:this\s+section|[Ss]ection\s+\d{3,6}(?:\.\d{1,3})?)\b)?", re.I)
QUAL_RE = re.compile(rf"of\s+(?P<unit>{_UNIT})\s+(?P<label>{_LABEL})", re.I)
THIS_RE = re.compile(r"\bthis\s+(?P<unit>section|subdivision|paragraph|subparagraph|clause|subclause)\b(?!\s*\()", re.I)
EXTERNAL_RE = re.compile(r"^\s*,?\s*of\s+(?:the\s+)?(?:[A-Z][\w.'’&-]*\s+){0,6}(?:Code|Act|Constitution|"
                         r"Regulations?|Statutes)\b|^\s*,?\s*of\s+(?:[Tt]itle|[Dd]ivision|[Pp]art|[Cc]hapter)\s+\d")
SECTION_PART = re.compile(r"^(?:Sec\.\s*|Section\s+)?(\d{3,6}(?:\.\d{1,3})?)$")
LEVEL_PART = re.compile(r"^\(([A-Za-z0-9]{1,5})\)$")
RANGE_SEP = re.compile(r"\bto\b|\bthrough\b")

# California's drafting order: subdivision (a) > paragraph (1) > subparagraph (A) > clause (i) > subclause (I)
UNIT_STYLE = {"subdivision": "alpha", "paragraph": "num", "subparagraph": "ALPHA", "clause": "roman",
              "subclause": "ROMAN"}
_ROMAN = re.compile(r"^[ivxl]+$")


@dataclass
class CodifiedContext:
    base: str              # "Section 22603"
    levels: list[str]      # ["(f)", "(2)"]


def codified_context(path: str) -> CodifiedContext | None:
    """The codified section and levels of a clause path, or None outside codified sections."""
    parts = [p.strip() for p in (path or "").split(" #")[0].split(">")]
    for i, part in enumerate(parts):
        m = SECTION_PART.match(part)
        if m:
            levels = [p for p in parts[i + 1:] if LEVEL_PART.match(p)]
            return CodifiedContext(f"Section {m.group(1)}", levels)
    return None


def label_style(label: str, unit: str | None = None, previous: str | None = None) -> str:
    """'(e)' alpha, '(1)' num, '(B)' ALPHA, '(ii)' roman, '(I)' ROMAN; a lone i/v/x is roman for a clause or
    after an ALPHA level, else a letter."""
    core = label.strip("()")
    if core.isdigit():
        return "num"
    want = UNIT_STYLE.get((unit or "").lower().rstrip("s"))
    if core.islower():
        if len(core) > 1 and _ROMAN.match(core) and not (len(set(core)) == 1 and len(core) == 2):
            return "roman"
        if _ROMAN.match(core) and (want == "roman" or (want is None and previous == "ALPHA")):
            return "roman"
        return "alpha"
    if _ROMAN.match(core.lower()) and (want == "ROMAN" or (want is None and previous == "roman")):
        return "ROMAN"
    return "ALPHA"


def _styles(levels: list[str]) -> list[str]:
    out: list[str] = []
    for level in levels:
        out.append(label_style(level, previous=out[-1] if out else None))
    return out


def _apply(levels: list[str], unit: str, label: str) -> list[str]:
    style = label_style(label, unit)
    styles = _styles(levels)
    for k in range(len(levels) - 1, -1, -1):
        if styles[k] == style:
            return levels[:k] + [label]
    return levels + [label]


def _truncate(levels: list[str], unit: str) -> list[str] | None:
    style = UNIT_STYLE[unit.lower()]
    styles = _styles(levels)
    for k in range(len(levels) - 1, -1, -1):
        if styles[k] == style:
            return levels[:k + 1]
    return None


@dataclass
class RelRef:
    text: str
    value: str
    start: int
    end: int


def find_relative(text: str, path: str) -> list[RelRef]:
    """Relative references of a clause in a codified section (empty elsewhere)."""
    lower = text.lower()
    if "division" not in lower and "paragraph" not in lower and "clause" not in lower and "this section" not in lower:
        return []
    ctx = codified_context(path)
    if ctx is None:
        return []
    out: list[RelRef] = []
    for m in REL_RE.finditer(text):
        if EXTERNAL_RE.match(text[m.end():m.end() + 80]):
            continue
        base, levels = ctx.base, list(ctx.levels)
        sec = m.group("sec")
        if sec:
            number = re.search(r"\d{3,6}(?:\.\d{1,3})?", sec)
            base = f"Section {number.group(0)}" if number else ctx.base
            levels = []
        for qual in reversed(list(QUAL_RE.finditer(m.group("quals") or ""))):
            levels = _apply(levels, qual.group("unit").rstrip("sS"), qual.group("label"))
        unit = m.group("unit").rstrip("sS")
        labels = list(re.finditer(_LABEL, m.group("labels")))
        seps = [m.group("labels")[a.end():b.start()] for a, b in zip(labels, labels[1:], strict=False)]
        base_at = m.start("labels")
        i = 0
        while i < len(labels):
            first = labels[i]
            j = i
            while j < len(seps) and RANGE_SEP.search(seps[j]):
                j += 1
            resolved = _apply(levels, unit, first.group(0))
            value = base + "".join(resolved)
            if j > i:
                value += "-" + labels[j].group(0)
            start = m.start() if i == 0 else base_at + first.start()
            end = m.end() if j == len(labels) - 1 else base_at + labels[j].end()
            out.append(RelRef(text[start:end], value, start, end))
            i = j + 1
    for m in THIS_RE.finditer(text):
        if any(r.start <= m.start() < r.end for r in out):
            continue
        unit = m.group("unit").lower()
        if unit == "section":
            out.append(RelRef(m.group(0), ctx.base, m.start(), m.end()))
            continue
        levels = _truncate(ctx.levels, unit)
        if levels is not None:
            out.append(RelRef(m.group(0), ctx.base + "".join(levels), m.start(), m.end()))
    out.sort(key=lambda r: r.start)
    return out
