"""ARTICLE_REF: references to parts of the same document, fully qualified.

Regexes on the clause text (spaCy splits "Article 50(1)" badly). Relative references ("paragraph 1",
"points (c) and (d)", "this Article", "this paragraph", "this Section") are resolved with the
clause's path and headings. References to other instruments ("Article 6 of Directive ...",
"Section 1(a) of the Llama 3.2 Community License Agreement") are dropped. Values keep the
document's own way of writing units: "Article 53(1)(a)", "Section 1.b.i", "Paragraph 4.a",
"Annex XI", "Chapter III Section 4", "Sections 4.2-4.9", "Article 50(1)-(4)".
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from clausewatch.nlp.model import Segment
from clausewatch.nlp.rules.relative_refs import find_relative

_PARENS = r"(?:\s?\((?:\d+[a-z]?|[a-z]{1,4}|[A-Z])\))*"
_NUM_ID = r"\d+[a-z]?(?:\.(?:\d+|[a-z]{1,4}))*" + _PARENS
_ROMAN_ID = r"[IVXLC]+\b" + _PARENS
_LETTER_ID = r"[A-Z]\b"
_PAREN_ID = r"\([a-z0-9]{1,4}\)(?:\([a-z0-9]{1,4}\))*"            # "point (a)", "points (a) to (d)"
_ITEM = rf"(?:{_NUM_ID}|{_ROMAN_ID}|{_LETTER_ID}|{_PAREN_ID})"
_SEP = r"(?:\s*,\s*(?:and\s+|or\s+)?|\s+(?:and/or|and|or)\s+|\s+(?:to|through)\s+|\s?[-–]\s?)"

KEYWORDS = {
    "article": r"Articles?",
    "section": r"(?:[Ss]ub)?[Ss]ections?|Sec\.|§§?",
    "paragraph": r"[Pp]aragraphs?",
    "point": r"[Pp]oints?",
    "annex": r"Annex(?:es)?",
    "chapter": r"Chapters?",
    "title": r"Titles?",
    "part": r"Parts?",
    "attachment": r"Attachments?",
    "appendix": r"Appendix|Appendices",
    "exhibit": r"Exhibits?",
    "schedule": r"Schedules?",
    "clause": r"[Cc]lauses?",
}
_KW_ALT = "|".join(f"(?P<{name}>{pattern})" for name, pattern in KEYWORDS.items())
REF_RE = re.compile(rf"(?:{_KW_ALT})\s+(?P<items>{_ITEM}(?:{_SEP}{_ITEM})*)")
# plain literal alternation: an order of magnitude faster than REF_RE, so it finds where to try REF_RE
KEYWORD_RE = re.compile(r"Article|[Ss]ubsection|[Ss]ection|Sec\.|§|[Pp]aragraph|[Pp]oint|Annex|Chapter|Title|Part|"
                        r"Attachment|Appendi|Exhibit|Schedule|[Cc]lause")
ITEM_RE = re.compile(rf"(?P<sep>{_SEP})?(?P<item>{_ITEM})")
THIS_RE = re.compile(r"\bthis\s+(?P<unit>Article|paragraph|Section|point|subparagraph)\b(?!\s+\d)")
THE_APPENDIX_RE = re.compile(r"\bthe\s+(?P<unit>Appendix|Annex|Attachment|Schedule)\b(?!\s+[A-Z0-9])")
POINTS_SUFFIX_RE = re.compile(r"^,?\s*(?:first|second|third|fourth|fifth)?\s*(?:subparagraph,?\s*)?[Pp]oints?\s+"
                              r"(\([a-z0-9]{1,4}\)(?:(?:\s*,\s*|\s+and\s+|\s+or\s+|\s+to\s+)\([a-z0-9]{1,4}\))*)")
OF_PARAGRAPH_RE = re.compile(r"\s*of\s+paragraph\s+(?P<para>\d+[a-z]?)")
OF_ARTICLE_RE = re.compile(r"\s*of\s+(?:this\s+(?P<this>Article)|Article\s+(?P<art>\d+[a-z]?)(?P<par>" + _PARENS + "))")
OF_THIS_RE = re.compile(r"\s*,?\s*of\s+this\s+(?:section|order|Agreement|Regulation|License|Licence|Act|Directive|"
                        r"document|Policy|Chapter|Section|Annex|Attachment)\b", re.I)
EXTERNAL_AFTER_RE = re.compile(
    r"^\s*,?\s*(?:of|in|under|to)\s+(?:the\s+|that\s+)?(?:"
    r"(?:Directive|Regulation|Decision|Treaty|TFEU|TEU|Charter|Convention|Protocol|Executive\s+Order|Act|"
    r"Code|title|Title|Public\s+Law)\b"
    r"|(?:[A-Z0-9][\w.'’&-]*\s+){0,7}(?:Act|Code|Directive|Regulation|License|Licence|Agreement|Treaty|"
    r"Convention|Order|Constitution)\b"
    r"|\d+\s+U\.\s?S\.\s?C)")
EXTERNAL_BEFORE_RE = re.compile(r"(?:Act|Directive|Regulation|TFEU|TEU|Treaty|Convention|U\.S\.C\.)"
                                r"(?:\s*\([^)]*\))?(?:\s*(?:No\s*)?[\d/]+)?\s*,?\s*$")
SURVIVAL_RE = re.compile(r"\b[Ss]ections\b[^:.;]{0,80}:\s*")
SURVIVAL_ITEM_RE = re.compile(r"(?:\s*,?\s*(?:and\s+)?)(\d+(?:\.\d+)*)\s*\([A-Z][^)]{0,60}\)")
CHAPTER_SECTION_RE = re.compile(r"\bChapter\s+([IVXLC]+)\s+Section\s+(\d+)\b")
ARTICLE_CTX_RE = re.compile(r"\bArticle\s+(\d+[a-z]?)\b")
PARA_COMPONENT_RE = re.compile(r"^\(?(\d+[a-z]?)\.?\)?$")
POINT_COMPONENT_RE = re.compile(r"^\(([a-z]{1,4})\)$")
SECTION_CTX_RE = re.compile(r"^(?:Section|Sec\.|§)?\s*(\d+(?:\.\d+)+|\d+|[IVX]+)(?=[.:\s]|$)")

LETTER_KINDS = {"attachment", "appendix", "exhibit", "schedule", "part", "annex"}
RANGE_SEP_RE = re.compile(r"\bto\b|\bthrough\b|[-–]")
CANONICAL = {"article": "Article", "section": "Section", "paragraph": "Paragraph", "annex": "Annex",
             "chapter": "Chapter", "title": "Title", "part": "Part", "attachment": "Attachment",
             "appendix": "Appendix", "exhibit": "Exhibit", "schedule": "Schedule", "clause": "Clause",
             "point": "Point"}


@dataclass
class Ref:
    text: str
    value: str
    start: int
    end: int


@dataclass
class RefContext:
    article: str | None = None
    paragraph: str | None = None
    point: str | None = None
    section: str | None = None


def context_of(segment: Segment) -> RefContext:
    """The article/paragraph/point or section the clause sits in, from its path and headings."""
    ctx = RefContext()
    parts = [p.strip() for p in (segment.path or "").split(">")]
    for i, part in enumerate(parts):
        match = ARTICLE_CTX_RE.match(part)
        if match:
            ctx.article = match.group(1)
            rest = parts[i + 1:]
            if rest and PARA_COMPONENT_RE.match(rest[0]):
                ctx.paragraph = PARA_COMPONENT_RE.match(rest[0]).group(1)
                rest = rest[1:]
            if rest and POINT_COMPONENT_RE.match(rest[0]):
                ctx.point = POINT_COMPONENT_RE.match(rest[0]).group(1)
    if ctx.article is None:
        for heading in reversed((*segment.headings, segment.heading or "")):
            match = ARTICLE_CTX_RE.match(heading or "")
            if match:
                ctx.article = match.group(1)
                break
    for candidate in [*reversed(parts), *reversed((*segment.headings, segment.heading or ""))]:
        match = SECTION_CTX_RE.match(candidate or "")
        if match and ctx.article is None:
            ctx.section = match.group(1)
            break
    return ctx


def _clean(item: str) -> str:
    return re.sub(r"\s+", "", item).rstrip(".")


def _is_external(text: str, start: int, end: int) -> bool:
    after = text[end:end + 90]
    if OF_THIS_RE.match(after):
        return False
    return bool(EXTERNAL_AFTER_RE.match(after) or EXTERNAL_BEFORE_RE.search(text[max(0, start - 60):start]))


def find_references(text: str, segment: Segment) -> list[Ref]:
    ctx = context_of(segment)
    refs: list[Ref] = []
    taken: list[tuple[int, int]] = []
    for rel in find_relative(text, segment.path):     # "clause (ii) of subparagraph (A)" in codified sections
        refs.append(Ref(rel.text, rel.value, rel.start, rel.end))
        taken.append((rel.start, rel.end))

    def free(a: int, b: int) -> bool:
        return all(b <= s or a >= e for s, e in taken)

    def add(span_text: str, value: str, a: int, b: int) -> None:
        refs.append(Ref(span_text, value, a, b))

    for m in (CHAPTER_SECTION_RE.finditer(text) if "Chapter" in text else ()):
        if not _is_external(text, m.start(), m.end()):
            add(m.group(0), f"Chapter {m.group(1)} Section {m.group(2)}", m.start(), m.end())
        taken.append((m.start(), m.end()))
    for m in (SURVIVAL_RE.finditer(text) if "ections" in text and ":" in text else ()):
        pos = m.end()
        while True:
            item = SURVIVAL_ITEM_RE.match(text, pos)
            if not item:
                break
            add(item.group(0).strip(" ,").removeprefix("and ").strip(), f"Section {item.group(1)}",
                item.start(1), item.end())
            taken.append((item.start(1), item.end()))
            pos = item.end()
    resume = 0
    for kw in KEYWORD_RE.finditer(text):
        pos = kw.start()
        if pos < resume or (pos and (text[pos - 1].isalnum() or text[pos - 1] == "_")):
            continue
        m = REF_RE.match(text, pos)
        if not m or not free(m.start(), m.end()):
            continue
        found, consumed = _expand(m, text, ctx)
        refs.extend(found)
        taken.append((m.start(), consumed))
        resume = consumed
    for m in (THIS_RE.finditer(text) if "this " in text else ()):
        if not free(m.start(), m.end()):
            continue
        value = _resolve_this(m.group("unit"), ctx)
        if value:
            add(m.group(0), value, m.start(), m.end())
    for m in (THE_APPENDIX_RE.finditer(text) if "Appendix" in text else ()):
        if free(m.start(), m.end()) and m.group("unit") == "Appendix":
            add(m.group("unit"), "Appendix", m.start("unit"), m.end("unit"))
    refs.sort(key=lambda r: r.start)
    return refs


def _resolve_this(unit: str, ctx: RefContext) -> str | None:
    if unit == "Article" and ctx.article:
        return f"Article {ctx.article}"
    if unit in ("paragraph", "subparagraph") and ctx.article and ctx.paragraph:
        return f"Article {ctx.article}({ctx.paragraph})"
    if unit == "point" and ctx.article and ctx.paragraph and ctx.point:
        return f"Article {ctx.article}({ctx.paragraph})({ctx.point})"
    if unit == "Section" and ctx.section:
        return f"Section {ctx.section}"
    return None


def _items(m: re.Match) -> Iterator[tuple[str, str | None, int, int]]:
    """(item, separator before it, start, end) for each listed unit."""
    base = m.start("items")
    for item in ITEM_RE.finditer(m.group("items")):
        yield item.group("item"), item.group("sep"), base + item.start("item"), base + item.end("item")


def _expand(m: re.Match, text: str, ctx: RefContext) -> tuple[list[Ref], int]:
    """The references one keyword match stands for, and where the consumed text ends."""
    kind = next(name for name in KEYWORDS if m.group(name))
    if _is_external(text, m.start(), m.end()):
        return [], m.end()
    items = []
    for item in _items(m):
        if kind not in LETTER_KINDS and re.fullmatch(r"[A-HJ-UWYZ]", item[0]):
            break
        items.append(item)
    if not items:
        return [], m.end()
    if kind in ("title", "part", "chapter", "annex") and not re.match(r"[IVXLC\d]", items[0][0]):
        return [], m.end()
    end_of_items = items[-1][3]
    after = text[end_of_items:end_of_items + 120]
    consumed = end_of_items
    points: list[re.Match] = []
    suffix = POINTS_SUFFIX_RE.match(after) if kind in ("article", "paragraph") else None
    if suffix:
        points = list(re.finditer(r"\(([a-z0-9]{1,4})\)", suffix.group(1)))
        consumed = end_of_items + suffix.end()
    article, extra = ctx.article, ""
    of_paragraph = OF_PARAGRAPH_RE.match(text, consumed) if kind == "point" else None
    if of_paragraph:
        consumed, extra = of_paragraph.end(), f"({of_paragraph.group('para')})"
    of_article = OF_ARTICLE_RE.match(text, consumed)
    if of_article:
        consumed = of_article.end()
        if of_article.group("art"):
            article = of_article.group("art")
            extra = _clean(of_article.group("par") or "") + extra
    of_this = OF_THIS_RE.match(text, consumed)
    if of_this:
        consumed = of_this.end()

    groups: list[list[tuple[str, int, int]]] = []
    for item, sep, a, b in items:
        if sep and RANGE_SEP_RE.search(sep) and groups:
            groups[-1].append((item, a, b))
        else:
            groups.append([(item, a, b)])
    out: list[Ref] = []
    number = ctx.section
    for i, group in enumerate(groups):
        start = m.start() if i == 0 else group[0][1]
        end = group[-1][2]
        ids = [g[0] for g in group]
        if kind == "section":
            # "subsections 4.2(c) and (d)", "subsection (b)(i) of this section": a bare "(d)" is a part of the
            # section named before it, or of the clause's own section
            lead = re.match(r"\d+(?:\.\d+)*", ids[0])
            if lead:
                number = lead.group(0)
            elif ids[0].startswith("("):
                if number is None:
                    continue
                ids = [f"{number}{x}" if x.startswith("(") else x for x in ids]
        value = _value(kind, ids, ctx, article, extra)
        if value is None:
            continue
        if points and i == len(groups) - 1 and len(group) == 1 and " to " in suffix.group(1):
            last = points[-1]
            p_end = end_of_items + suffix.start(1) + last.end()
            out.append(Ref(text[start:p_end], f"{value}({points[0].group(1)})-({last.group(1)})", start, p_end))
            continue
        if points and i == len(groups) - 1 and len(group) == 1:
            base = end_of_items + suffix.start(1)
            for j, point in enumerate(points):
                p_start, p_end = base + point.start(), base + point.end()
                if j == 0:
                    out.append(Ref(text[start:p_end], f"{value}({point.group(1)})", start, p_end))
                else:
                    out.append(Ref(point.group(0), f"{value}({point.group(1)})", p_start, p_end))
            continue
        out.append(Ref(text[start:end], value, start, end))
    return out, consumed


def _value(kind: str, ids: list[str], ctx: RefContext, article: str | None, extra: str) -> str | None:
    ids = [_clean(i) for i in ids]
    if kind == "article":
        if len(ids) > 1:
            return f"Articles {ids[0]}-{ids[-1]}"
        return f"Article {ids[0]}"
    if kind == "paragraph":
        if article:
            parts = [i if i.startswith("(") else f"({i})" for i in ids]
            return f"Article {article}{extra}{parts[0]}" + (f"-{parts[-1]}" if len(parts) > 1 else "")
        return f"Paragraphs {ids[0]}-{ids[-1]}" if len(ids) > 1 else f"Paragraph {ids[0]}"
    if kind == "point":
        if not article:
            return None
        para = extra or (f"({ctx.paragraph})" if ctx.paragraph else "")
        if not para:
            return None
        parts = [i if i.startswith("(") else f"({i})" for i in ids]
        return f"Article {article}{para}{parts[0]}" + (f"-{parts[-1]}" if len(parts) > 1 else "")
    if kind == "clause":
        return None
    name = CANONICAL[kind]
    if len(ids) > 1:
        plural_name = {"Annex": "Annexes", "Appendix": "Appendices"}.get(name, name + "s")
        return f"{plural_name} {ids[0]}-{ids[-1]}"
    return f"{name} {ids[0]}"
