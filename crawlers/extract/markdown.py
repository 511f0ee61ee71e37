"""Markdown: keep headings, list markers and nesting; drop inline markup; links as ``text (url)``."""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from clausewatch.crawlers.extract.base import Extracted, ExtractionError
from clausewatch.crawlers.extract.normalize import heading, join_blocks, squash
from clausewatch.crawlers.extract.text import check_not_binary, decode

_FRONT_MATTER = re.compile(r"\A(?:\ufeff)?---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_RULE = re.compile(r"^ {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_ITEM = re.compile(r"^([ \t]*)([-*+]|\d{1,9}[.)])([ \t]+|$)(.*)$")
_TABLE_SEP = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_REF_DEF = re.compile(r"^ {0,3}\[([^\]]+)\]:\s*<?(\S+?)>?(?:\s+[\"'(].*[\"')])?\s*$")
_QUOTE = re.compile(r"^ {0,3}> ?")

_ESCAPABLE = "\\`*_{}[]()#+-.!|<>~\"'"
_ESCAPE = re.compile(r"\\([" + re.escape(_ESCAPABLE) + "])")
_CODE = re.compile(r"(`+)(.+?)\1", re.DOTALL)
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[((?:[^\[\]]|\[[^\]]*\])*)\]\(\s*<?([^)\s>]*)>?(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)")
_REF_LINK = re.compile(r"\[((?:[^\[\]]|\[[^\]]*\])*)\]\s?\[([^\]]*)\]")
_AUTOLINK = re.compile(r"<((?:https?|ftp)://[^>\s]+|mailto:[^>\s]+)>")
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_EMPHASIS = [
    re.compile(r"(\*\*\*|___)(?=\S)(.+?)(?<=\S)\1"),
    re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"),
    re.compile(r"(~~)(?=\S)(.+?)(?<=\S)\1"),
    re.compile(r"(?<![\w*])(\*)(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])"),
    re.compile(r"(?<![\w_])(_)(?=[^\s_])(.+?)(?<=[^\s_])_(?![\w_])"),
]
_PLACEHOLDER = re.compile(r"\x00(\d+)\x00")
_URLISH = re.compile(r"^(?:https?://|www\.|mailto:)?[\w.-]+\.[a-z]{2,}(?:[/?#]\S*)?$", re.IGNORECASE)


def _strip_scheme(url: str) -> str:
    return re.sub(r"^(?:https?://|mailto:)", "", url).rstrip("/").lower()


def link_suffix(text: str, url: str) -> str:
    """What follows a link's text: `` (url)``, or nothing when the text already is the address."""
    text = text.strip()
    if not url or url.startswith("#") or not text:
        return ""
    if _strip_scheme(text) == _strip_scheme(url) or _URLISH.match(text):
        return ""
    return f" ({url})"


def _link(text: str, url: str) -> str:
    text = text.strip()
    return text + link_suffix(text, url) if text else url


def inline(text: str, refs: dict[str, str], protected: list[str] | None = None) -> str:
    """Markdown inline markup -> plain text (links become ``text (url)``)."""
    top = protected is None
    protected = [] if protected is None else protected

    def protect(value: str) -> str:
        protected.append(value)
        return f"\x00{len(protected) - 1}\x00"

    if "\\" in text:
        text = _ESCAPE.sub(lambda m: protect(m.group(1)), text)
    if "`" in text:
        text = _CODE.sub(lambda m: protect(m.group(2).strip()), text)
    if "<" in text:
        text = _AUTOLINK.sub(lambda m: protect(m.group(1).removeprefix("mailto:")), text)
    if "[" in text:
        text = _IMAGE.sub(lambda m: m.group(1), text)
        text = _LINK.sub(lambda m: protect(_link(inline(m.group(1), refs, protected), m.group(2))), text)

        def ref_link(m: re.Match) -> str:
            key = (m.group(2) or m.group(1)).strip().lower()
            if key not in refs:
                return m.group(0)
            return protect(_link(inline(m.group(1), refs, protected), refs[key]))

        if refs:
            text = _REF_LINK.sub(ref_link, text)
    if "<" in text:
        text = _TAG.sub("", _BR.sub(" ", text))
    if "*" in text or "_" in text or "~" in text:
        for pattern in _EMPHASIS:
            previous = None
            while previous != text:
                previous, text = text, pattern.sub(r"\2", text)
    if not top:
        return text
    while "\x00" in text:
        text = _PLACEHOLDER.sub(lambda m: protected[int(m.group(1))], text)
    return squash(html.unescape(text) if "&" in text else text)


_TERMINAL = (".", ":", ";", "!", "?")
_CLOSERS = "*_\"”’')] "
_BOLD_ONLY = re.compile(r"^(\*\*|__)[^*_].*\1$")
_LIST_JOIN = re.compile(r"[;,]\s+(?:and|or)$")   # "...; and" ends a list item
_SMALL_WORDS = {"a", "an", "the", "and", "or", "of", "to", "in", "on", "for", "with", "by", "at", "from", "as"}
# a line opening with a clause label ("(b) ", "1.1 ", "iv. ", "**2.**") or a defined term in quotes
_PARAGRAPH_START = re.compile(r"(?:\*\*|__)?(?:\(?(?:\d{1,3}[a-z]?|[a-zA-Z]{1,4})[.)]|\d{1,3}(?:\.\d{1,3})+\.?)(?:\*\*|__)?\s"
                              r"|[\"“][A-Z][^\"”]{0,60}[\"”]\s")
# a line that stops in the middle of a phrase: the next line continues the sentence
_RUNS_ON_WORD = re.compile(r"(?:,|\b(?:the|a|an|of|to|in|on|for|with|by|and|or|under|pursuant|from|at|as|that|which|"
                           r"this|its|their|such|any|between|into|including|than|is|are|be|shall|may|will))$")


def _text_line(line: str) -> bool:
    stripped = line.strip()
    return bool(stripped) and not (_ATX.match(line) or _FENCE.match(line) or _RULE.match(line)
                                   or _SETEXT.match(line) or stripped.startswith("|"))


def line_per_paragraph(lines: list[str]) -> bool:
    """Is this Markdown written with one paragraph per line and no blank lines between them (licence files
    exported from word processors)? Where CommonMark would join two text lines into one paragraph, such
    files end a sentence (or a bold heading) at the end of the first line nearly every time; hard-wrapped
    Markdown stops mid-sentence."""
    joins = ends = 0
    for i in range(len(lines) - 1):
        first, second = lines[i], lines[i + 1]
        if not (_text_line(first) and _text_line(second)) or (_ITEM.match(second) and not second[:1].isdigit()):
            continue
        joins += 1
        tail = first.strip().rstrip("\\")
        if tail.rstrip(_CLOSERS).endswith(_TERMINAL) or _BOLD_ONLY.match(tail) or _title_line(tail) \
                or _PARAGRAPH_START.match(second.strip()):
            ends += 1
    return joins >= 2 and ends >= 0.6 * joins


def _title_line(line: str) -> bool:
    """A short heading written as a plain line: "Section 2: USE", "1.1 Definitions", "Gemma Terms of Use"."""
    words = line.split()
    if not words or len(words) > 10 or line.rstrip(_CLOSERS).endswith((".", ",", ";", ":")):
        return False
    named = [w for w in words if w[:1].isalpha() and w.lower() not in _SMALL_WORDS]
    return bool(named) and sum(w[:1].isupper() for w in named) >= 0.6 * len(named)


def _runs_on(previous: str, line: str) -> bool:
    """In a line-per-paragraph file, does ``line`` still continue the sentence of ``previous``?"""
    tail = previous.rstrip().rstrip(_CLOSERS)
    if tail.endswith(_TERMINAL) or _BOLD_ONLY.match(previous.strip()) or _LIST_JOIN.search(tail):
        return False
    if _RUNS_ON_WORD.search(tail):
        return True
    if _PARAGRAPH_START.match(line) or _title_line(previous.strip()):
        return False
    return line[:1].islower()


@dataclass
class _State:
    blocks: list[tuple[str, str]] = field(default_factory=list)  # (prefix, raw text); prefix "#.." or indent
    para: list[str] = field(default_factory=list)
    prefix: str = ""
    in_list: bool = False
    stack: list[int] = field(default_factory=list)  # content columns of the open list items

    def flush(self) -> None:
        if self.para:
            self.blocks.append((self.prefix, " ".join(self.para)))
        self.para, self.prefix = [], ""


def _indent(spaces: str) -> int:
    return len(spaces.expandtabs(4))


def _table_row(line: str, refs: dict[str, str]) -> str:
    cells = re.split(r"(?<!\\)\|", line.strip().strip("|"))
    return " | ".join(c for c in (inline(cell, refs) for cell in cells) if c)


def parse_blocks(text: str) -> list[str]:
    """Markdown source (front matter removed) -> normalised blocks."""
    text = _COMMENT.sub("", text)
    lines = text.split("\n")
    refs: dict[str, str] = {}
    body: list[str] = []
    for line in lines:
        m = _REF_DEF.match(line)
        if m and not _ITEM.match(line):
            refs[m.group(1).strip().lower()] = m.group(2)
        else:
            body.append(line)
    state = _State()
    line_mode = line_per_paragraph(body)
    out_tables: dict[int, bool] = {}
    i = 0
    while i < len(body):
        line = _QUOTE.sub("", body[i]).rstrip()
        hard_break = body[i].endswith(("  ", "\\")) and bool(line.strip())  # Markdown <br>: ends a block
        nxt = body[i + 1] if i + 1 < len(body) else ""
        i += 1
        fence = _FENCE.match(line)
        if fence:
            state.flush()
            code = []
            while i < len(body) and not body[i].strip().startswith(fence.group(1)):
                code.append(body[i])
                i += 1
            i += 1
            state.blocks.append(("\n", "\n".join(code)))
            continue
        if not line.strip() or _BR.fullmatch(line.strip()):
            state.flush()
            continue
        atx = _ATX.match(line)
        if atx:
            state.flush()
            state.in_list, state.stack = False, []
            state.blocks.append(("#" * len(atx.group(1)), atx.group(2) or ""))
            continue
        setext = _SETEXT.match(line)
        if setext and state.para and not state.in_list:
            level = 1 if setext.group(1).startswith("=") else 2
            state.prefix = "#" * level
            state.flush()
            continue
        if _RULE.match(line):
            state.flush()
            continue
        if "|" in line and (_TABLE_SEP.match(nxt) or out_tables.get(i - 1)):
            state.flush()
            if not _TABLE_SEP.match(line):
                state.blocks.append(("", _table_row(line, refs)))
            out_tables[i] = True
            continue
        item = _ITEM.match(line)
        if item and item.group(4).strip() and not (
                state.para and not state.in_list and item.group(2)[0].isdigit()
                and item.group(2)[:-1] != "1" and not line_mode):
            state.flush()
            indent = _indent(item.group(1))
            while state.stack and indent < state.stack[-1]:
                state.stack.pop()
            gap = len(item.group(3)) if len(item.group(3)) <= 4 else 1
            level = len(state.stack)
            state.stack.append(indent + len(item.group(2)) + gap)
            state.in_list = True
            state.prefix = "    " * level + item.group(2) + " "
            state.para = [item.group(4)]
            continue
        indent = _indent(line[: len(line) - len(line.lstrip())])
        if state.para and not (line_mode and not _runs_on(state.para[-1], line.strip())):
            state.para.append(line.strip().rstrip("\\"))
            if hard_break:
                state.flush()
            continue
        state.flush()
        if state.in_list and state.stack and indent >= state.stack[0]:
            depth = sum(1 for col in state.stack if indent >= col)
            state.prefix = "    " * depth
        else:
            state.in_list, state.stack = False, []
        state.para = [line.strip().rstrip("\\")]
        if hard_break:
            state.flush()
    state.flush()
    blocks = []
    for prefix, raw in state.blocks:
        if prefix == "\n":
            blocks.append(raw)
        elif prefix.startswith("#"):
            blocks.append(heading(inline(raw, refs), len(prefix)))
        else:
            content = inline(raw, refs)
            if content:
                blocks.append(prefix + content)
    return blocks


def front_matter(text: str) -> tuple[dict, str]:
    match = _FRONT_MATTER.match(text)
    if not match:
        return {}, text
    try:
        import yaml

        meta = yaml.safe_load(match.group(1))
    except Exception:  # not YAML after all: keep the text as it is
        return {}, text
    if not isinstance(meta, dict):
        return {}, text
    return meta, text[match.end():]


def extract_markdown(body: bytes, content_type: str | None = None) -> Extracted:
    source, warnings = decode(body, content_type)
    check_not_binary(source, "markdown")
    source = source.replace("\r\n", "\n").replace("\r", "\n")
    meta, source = front_matter(source)
    blocks = parse_blocks(source)
    text = join_blocks(blocks)
    if not text.strip():
        raise ExtractionError("no text: the Markdown document is empty")
    title = meta.get("title") if isinstance(meta.get("title"), str) else None
    if not title:
        title = next((b.lstrip("#").strip() for b in blocks if b.startswith("#")), None)
    if not title and blocks and len(blocks[0]) <= 120 and not blocks[0].startswith(" ") \
            and not blocks[0].rstrip().endswith((".", ":", ";", ",")):
        title = blocks[0]  # a first short line standing alone, often bold: "**Llama 3.2** **Acceptable Use Policy**"
    return Extracted(text=text, title=squash(title) if title else None, warnings=warnings)
