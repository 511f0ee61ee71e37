"""Align the clauses of two versions of a document and classify what changed. Pure: no I/O.


Clauses are compared by their key tokens (:func:`changes.cosmetic.key_tokens`) and grouped by the passes
of ``changes.passes`` (anchors, moved clauses, rare-token candidates, gaps: splits and merges). Each group is then judged: equal key tokens make a cosmetic change (with the normalisation steps
that were needed as reasons); otherwise :func:`changes.judge.judge_ops` decides on what is left.
"""
from __future__ import annotations

import bisect
import json
import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from clausewatch.changes.cosmetic import (
    DATE,
    HOLDER,
    PLACEHOLDER,
    RELDATE,
    RELEASE,
    SENTINELS,
    URL,
    DocContext,
    collapse,
    doc_context,
    footer_dates,
    is_date_token,
    key_tokens,
    ladder_reasons,
)
from clausewatch.changes.edges import (
    HEADER_LINE_WORDS,
    HeadingClause,
    copyright_only,
    headings_apart,
    in_footer,
    in_header,
    list_like,
    listed,
    reworded_heading,
    table_row,
    with_headings,
)
from clausewatch.changes.judge import judge_ops
from clausewatch.changes.model import Change
from clausewatch.changes.passes import Group, Item, align_clauses
from clausewatch.changes.words import word_diff

ALIGN_VERSION = "4"

HEADER_CLAUSES = 6          # the header zone: at most this many leading clauses,
HEADER_WORDS = 25           # ... before the first clause longer than this
MOVED_RUN_WORDS = 4         # words cut from a clause that match a whole clause elsewhere moved, if this many


# ------------------------------------------------------------------ public

def header_texts(clauses: Sequence[Any], limit: int = 6, max_words: int = 25) -> list[str]:
    """The title, version and date lines at the top of a document: short leading clauses and headings."""
    out: list[str] = []
    for clause in clauses[:limit]:
        seg = getattr(clause, "segment", clause)
        for heading in (*getattr(seg, "headings", ()), getattr(seg, "heading", None)):
            if heading and heading not in out:
                out.append(heading)
        words = (getattr(seg, "text", "") or "").split()
        out.append(" ".join(words[:max_words]))
        if len(words) > max_words:   # the body has begun (its first words may still carry a date line)
            break
    return out


_PATH_NUMBER = re.compile(r"\d+(?:\.\d+)*")


def _renumbering(groups: list[Group], before: _Side, after: _Side) -> dict[str, str]:
    """Section numbers that changed between aligned clauses' paths ("Section 5 > (a)" -> "Section 6 > (a)"),
    kept only where every aligned pair agrees on the new number."""
    votes: dict[str, set[str]] = defaultdict(set)
    for g in groups:
        if len(g.old) != 1 or len(g.new) != 1:
            continue
        old_path = str(getattr(before.items[g.old[0]].clause, "path", "") or "")
        new_path = str(getattr(after.items[g.new[0]].clause, "path", "") or "")
        old_numbers, new_numbers = _PATH_NUMBER.findall(old_path), _PATH_NUMBER.findall(new_path)
        if old_path == new_path or len(old_numbers) != len(new_numbers):
            continue
        for x, y in zip(old_numbers, new_numbers, strict=True):
            votes[x].add(y)
    return {x: next(iter(ys)) for x, ys in votes.items() if len(ys) == 1 and x not in next(iter(ys)).split()}


def _tail_texts(clauses: Sequence[Any], limit: int = 3, max_words: int = 25) -> list[str]:
    texts = [getattr(c, "text", "") or "" for c in clauses[-limit:]]
    return [t for t in texts if len(t.split()) <= max_words]


def compare(old: Sequence[Any], new: Sequence[Any], *, old_text: str | None = None,
            new_text: str | None = None, template_copy: bool = False) -> list[Change]:
    """The changes from the clauses ``old`` to the clauses ``new`` (``nlp.Clause`` objects), in document order.

    Unchanged clauses (same text, or only renumbered in place) produce no change. ``old_text`` and
    ``new_text``, the analysed texts, are optional: their Markdown headings tell words that moved
    between a heading and a clause (an HTML heading that a PDF prints as a paragraph).
    ``template_copy``: the two texts are a template licence and a copy of it (or two copies): the
    template's generic holder ("the authors or copyright holders") is a placeholder a copy may fill in.
    """
    ctx = merge_contexts(doc_context(header_texts(old)), doc_context(header_texts(new)))
    ctx.template_copy = template_copy
    ctx.release_dates |= footer_dates(_tail_texts(old)) | footer_dates(_tail_texts(new))
    before = _side(with_headings(old, old_text), ctx, old_text)
    after = _side(with_headings(new, new_text), ctx, new_text)
    before.keys_both = after.keys_both = ({_content(it.keys) for it in before.items}
                                          & {_content(it.keys) for it in after.items}) - {""}
    before.list_both = after.list_both = ({_content(it.keys) for it in before.items if list_like(it)}
                                          & {_content(it.keys) for it in after.items if list_like(it)}) - {""}
    groups, _ = align_clauses(before.items, after.items)
    groups = headings_apart(groups, before, after)
    before.renumbered = after.renumbered = _renumbering(groups, before, after)
    placed = sorted((i, min(g.new)) for g in groups if g.old and g.new and not g.moved for i in g.old)
    judged = []
    by_change: dict[int, Group] = {}
    for group in groups:
        residual: list = []
        change = _judge(group, before, after, residual)
        if change is not None:
            judged.append((_position(group, placed), change, residual))
            by_change[id(change)] = group
    _text_moved_across(judged, {_content(it.keys) for it in before.items}, {_content(it.keys) for it in after.items})
    judged.sort(key=lambda pcr: pcr[0])
    _boundaries_moved([(c, by_change[id(c)]) for _, c, _ in judged], before, after)
    return [c for _, c, _ in judged]


_LABEL_TOKEN = re.compile(r"^(?:\d{1,3}(?:\.\d{1,3})*|[a-z]|[ivxlc]{1,6})$")


def _boundaries_moved(changes: list[tuple[Change, Group]], before: _Side, after: _Side) -> None:
    """Neighbouring edited clauses whose words only moved across their boundaries (a paragraph re-wrapped,
    a sentence carried into the next clause) are re-layout: judged together, they are cosmetic, also when
    all that is left is a list label carried over the edge of the run ("h.")."""
    run: list[tuple[Change, Group]] = []

    def flush() -> None:
        if len(run) >= 2:
            union = Group(sorted(i for _, g in run for i in g.old), sorted(j for _, g in run for j in g.new))
            left: list = []
            joined = _judge(union, before, after, left)
            labels_only = all(len(o + n) <= 2 and all(_LABEL_TOKEN.match(t) for t in o + n) for _, o, n in left)
            if joined is not None and (not joined.substantive or labels_only):
                for change, _ in run:
                    change.substantive = False
                    change.cosmetic_reasons = list(dict.fromkeys([*joined.cosmetic_reasons, "whitespace"]))
        run.clear()

    for change, group in changes:
        editable = bool(change.substantive and group.old and group.new and not group.moved)
        follows = editable and bool(run) and min(group.old) == max(run[-1][1].old) + 1 \
            and min(group.new) == max(run[-1][1].new) + 1
        if editable and follows:
            run.append((change, group))
            continue
        flush()
        if editable:
            run.append((change, group))
    flush()


def _text_moved_across(judged: list[tuple[Any, Change, list]], old_clauses: set[str], new_clauses: set[str]) -> None:
    """Words cut from one clause that make up a clause elsewhere in the other version (or the reverse)
    moved: a paragraph one rendering runs together (a footnote inlined, a list item joined to its
    chapeau) and the other prints as separate clauses is not a change. The added or removed clause
    they match becomes cosmetic too."""
    added: dict[str, list[Change]] = defaultdict(list)
    removed: dict[str, list[Change]] = defaultdict(list)
    for _, change, residual in judged:
        if change.substantive and change.kind in ("added", "removed") and residual:
            tag, old, new = residual[0]
            (added if change.kind == "added" else removed)[_content(new or old)].append(change)
    for _, change, residual in judged:
        if not change.substantive or change.kind in ("added", "removed") or not residual:
            continue
        partners: list[Change] = []
        for tag, old, new in residual:
            if tag == "replace":
                break
            words = _content(old if tag == "delete" else new)
            if len(words.split()) < MOVED_RUN_WORDS:
                break
            pool, elsewhere = (added, new_clauses) if tag == "delete" else (removed, old_clauses)
            partner = next((c for c in pool.get(words, []) if c.substantive), None)
            if partner is not None:
                partners.append(partner)
            elif words not in elsewhere:
                break
        else:
            for c in (change, *partners):
                c.substantive = False
                if "moved" not in c.cosmetic_reasons:
                    c.cosmetic_reasons = [*c.cosmetic_reasons, "moved"]


def merge_contexts(a: DocContext, b: DocContext) -> DocContext:
    """One context for both documents: a release name or date either gives is masked in both texts, so a
    header one rendering prints and the other turns into a heading does not make the dates differ."""
    return DocContext(release_names=list(dict.fromkeys(a.release_names + b.release_names)),
                      release_dates=a.release_dates | b.release_dates,
                      bare_names=list(dict.fromkeys(a.bare_names + b.bare_names)))


# ------------------------------------------------------------------ preparation

def _item(pos: int, clause: Any, ctx: DocContext) -> Item:
    text = collapse(getattr(clause, "text", "") or "")
    keys = key_tokens(text, ctx)
    return Item(pos, clause, text, keys, " ".join(keys))


@dataclass
class _Side:
    """One document prepared for comparison."""

    ctx: DocContext
    items: list[Item]
    vocab: Counter
    headings: str       # the key text of every heading, " | "-separated: words that are a heading here
    header_end: int     # clauses before this position are the document's header (title, version, date lines)
    footer_start: int   # clauses from here to body_end are its colophon (ISSN, ELI, print lines)
    body_end: int       # the trailing notes, if any, start here
    keys_both: set[str] = field(default_factory=set)   # clause texts found in both documents
    list_both: set[str] = field(default_factory=set)   # list items and table rows found in both documents
    renumbered: dict[str, str] = field(default_factory=dict)   # old section number -> new one


def _side(clauses: Sequence[Any], ctx: DocContext, text: str | None = None) -> _Side:
    items = [_item(k, c, ctx) for k, c in enumerate(clauses)]
    seen: dict[str, None] = {}
    for clause in clauses:
        seg = getattr(clause, "segment", clause)
        for heading in (*getattr(seg, "headings", ()), getattr(seg, "heading", None)):
            if heading and heading not in seen:
                seen[heading] = None
    for line in (text or "").splitlines():
        if line.startswith("#"):
            seen.setdefault(line.lstrip("#").strip(), None)
    keys = [" ".join(key_tokens(h, ctx)) for h in seen]
    header_end = next((k for k, it in enumerate(items[:HEADER_CLAUSES]) if len(it.text.split()) > HEADER_WORDS),
                      min(len(items), HEADER_CLAUSES))
    # the body ends at the document's end or where its trailing notes begin (EUR-Lex HTML prints the
    # colophon, "ELI: ...", "ISSN ...", just before its "Notes")
    body_end = next((k for k, c in enumerate(clauses) if k > len(clauses) // 2
                     and _NOTES.match(str(getattr(getattr(c, "segment", c), "heading", "") or ""))), len(items))
    tail = [k for k, it in enumerate(items[:body_end]) if len(it.text.split()) > HEADER_WORDS]
    footer_start = max(tail[-1] + 1 if tail else 0, body_end - HEADER_CLAUSES)
    return _Side(ctx, items, Counter(t for it in items for t in it.keys),
                 " | " + " | ".join(k for k in keys if k) + " | ", header_end, footer_start, body_end)


_NOTES = re.compile(r"(?i)^\W*(?:foot|end)?notes?\W*$|^\W*references\W*$")


def _content(keys: list[str]) -> str:
    return " ".join(t for t in keys if t not in SENTINELS)


def _position(group: Group, placed: list[tuple[int, int]]) -> tuple[float, int]:
    """Where a change goes in document order: a removed clause after the new place of the clause before it."""
    if group.new:
        return (float(min(group.new)), min(group.old) if group.old else -1)
    i = min(group.old)
    p = bisect.bisect_left(placed, (i, -1))
    before = placed[p - 1][1] if p > 0 else -1
    return (before + 0.5, i)


# ------------------------------------------------------------------ judgement

def _judge(group: Group, before: _Side, after: _Side, residual: list | None = None) -> Change | None:
    """The change a group of aligned clauses makes; ``residual`` receives its substantive differences."""
    olds, news, old_ctx, new_ctx = before.items, after.items, before.ctx, after.ctx
    old_items = [olds[i] for i in sorted(group.old)]
    new_items = [news[j] for j in sorted(group.new)]
    old_text = "\n".join(it.text for it in old_items) if old_items else None
    new_text = "\n".join(it.text for it in new_items) if new_items else None
    a = [t for it in old_items for t in it.keys]
    b = [t for it in new_items for t in it.keys]
    reasons: list[str] = []
    if not new_items or not old_items:
        kind = "removed" if not new_items else "added"
        keys = a or b
        substantive = _has_words(keys)
        if residual is not None:
            residual.append(("delete", a, []) if a else ("insert", [], b))
        mine, other = (before, after) if new_items == [] else (after, before)
        items = old_items or new_items
        if all(isinstance(it.clause, HeadingClause) for it in items) and not any(table_row(it) for it in items):
            substantive = False   # a heading added or removed: the clauses below it say whether anything changed
        # a list item or table row is content however short: a new sub-processor, cookie or country
        in_list = any(listed(it, mine) for it in items)
        if in_list and not substantive and any(t not in SENTINELS for t in keys):
            substantive = True      # a row of numbers ("10,000 | $0.50") among rows both versions keep
        if not substantive and all(isinstance(it.clause, HeadingClause) for it in items):
            reasons = ["markdown"]
        elif not substantive:
            reasons = _empty_reasons(keys, old_text or new_text or "")
        elif copyright_only(keys):
            substantive, reasons = False, ["copyright_holder"]   # a copyright notice line added or removed
        elif f" {' '.join(keys)} " in other.headings and not any(table_row(it) for it in items):
            substantive, reasons = False, ["markdown"]     # the words are a heading in the other document
        elif not in_list and in_header(items, mine):
            substantive, reasons = False, ["header"]
        elif not in_list and in_footer(items, mine):
            substantive, reasons = False, ["footer"]
        elif all(_content(it.keys) in mine.keys_both and (not in_list or len(it.keys) > HEADER_LINE_WORDS)
                 for it in items):
            substantive, reasons = False, ["duplicate"]    # one more copy of a clause both versions have
    else:
        regrouped = len(old_items) != 1 or len(new_items) != 1
        same_text = old_text == new_text
        if same_text and not group.moved and not regrouped:
            return None
        kind = "moved" if group.moved else "modified"
        if a == b:
            substantive = False
        else:
            ops = SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
            copyright_notice = any("copyright" in t or "©" in t for t in (old_text.lower(), new_text.lower()))
            # clauses merged into one (or one split in several) keep their numbers inline at the seams
            seams = {t for it in (*old_items[1:], *new_items[1:]) for t in key_tokens(_label(it.clause) or "")}
            date_line = (len(a) <= HEADER_LINE_WORDS and len(b) <= HEADER_LINE_WORDS
                         and bool({DATE, RELDATE} & set(a)) and bool({DATE, RELDATE} & set(b)))
            substantive, extra = judge_ops(a, b, ops, vocab_old=before.vocab, vocab_new=after.vocab,
                                           copyright_notice=copyright_notice, old_headings=before.headings,
                                           new_headings=after.headings, residual=residual,
                                           renumbered=before.renumbered, seam_labels=seams, date_line=date_line)
            reasons += extra
            if substantive and reworded_heading(old_items + new_items, residual):
                substantive = False
                reasons.append("heading")
        if not same_text:
            joined_old, joined_new = " ".join(it.text for it in old_items), " ".join(it.text for it in new_items)
            reasons = [r for r in ladder_reasons(joined_old, joined_new, old_ctx, new_ctx) if r not in reasons] + reasons
        if regrouped:
            labelled = any(_label(it.clause) for it in (*old_items, *new_items))
            reasons.append("numbering" if labelled else "whitespace")
        if group.moved:
            reasons.append("moved")
        if not reasons and not substantive:
            reasons.append("whitespace")
    tags_old = {t for it in old_items for t in _tags(it.clause)}
    tags_new = {t for it in new_items for t in _tags(it.clause)}
    return Change(
        kind=kind,
        old_path=_paths(old_items), new_path=_paths(new_items),
        old_text=old_text, new_text=new_text, substantive=substantive,
        cosmetic_reasons=list(dict.fromkeys(reasons)),
        word_diff=word_diff(old_text, new_text),
        tags_added=sorted(tags_new - tags_old), tags_removed=sorted(tags_old - tags_new),
        entity_changes=_entity_changes([it.clause for it in old_items], [it.clause for it in new_items]),
        old_ordinals=[_ordinal(it) for it in old_items], new_ordinals=[_ordinal(it) for it in new_items],
        similarity=group.similarity,
    )


def _has_words(keys: list[str]) -> bool:
    return any(t not in SENTINELS and (sum(ch.isalpha() for ch in t) >= 2 or is_date_token(t)) for t in keys)


def _empty_reasons(keys: list[str], text: str) -> list[str]:
    """Why an added or removed clause without real words is cosmetic."""
    if not keys:
        return ["numbering"] if any(ch.isalnum() for ch in text) else ["punctuation"]
    found = {URL: "urls", DATE: "release_date", RELEASE: "release_version", PLACEHOLDER: "placeholder",
             RELDATE: "relative_date", HOLDER: "copyright_holder"}
    reasons = [found[t] for t in dict.fromkeys(keys) if t in found]
    if any(t not in SENTINELS for t in keys):
        reasons.append("numbering")
    return reasons


def _label(clause: Any) -> str | None:
    return getattr(getattr(clause, "segment", clause), "label", None)


def _ordinal(item: Item) -> int:
    ordinal = getattr(getattr(item.clause, "segment", item.clause), "ordinal", None)
    return item.pos if ordinal is None else ordinal


def _paths(items: list[Item]) -> str | None:
    if not items:
        return None
    paths = list(dict.fromkeys(str(getattr(it.clause, "path", "") or f"¶ {it.pos + 1}") for it in items))
    if len(paths) <= 3:
        return " + ".join(paths)
    return f"{paths[0]} + … + {paths[-1]} ({len(paths)} clauses)"


def _tags(clause: Any) -> list[str]:
    out = []
    for t in getattr(clause, "tags", None) or []:
        out.append(t["tag"] if isinstance(t, dict) else t.tag)
    return out


def _entity_value(entity: Any) -> Any:
    value = entity["value"] if isinstance(entity, dict) else entity.value
    return value


def _entity_changes(old: list[Any], new: list[Any]) -> list[dict[str, Any]]:
    def values(clauses: list[Any]) -> dict[str, Counter]:
        by_type: dict[str, Counter] = defaultdict(Counter)
        for clause in clauses:
            for e in getattr(clause, "entities", None) or []:
                etype = e["type"] if isinstance(e, dict) else e.type
                by_type[etype][json.dumps(_entity_value(e), sort_keys=True, default=str)] += 1
        return by_type

    before, after = values(old), values(new)
    out: list[dict[str, Any]] = []
    for etype in sorted(set(before) | set(after)):
        gone = list((before[etype] - after[etype]).elements())
        came = list((after[etype] - before[etype]).elements())
        for k in range(max(len(gone), len(came))):
            out.append({"type": etype,
                        "old": json.loads(gone[k]) if k < len(gone) else None,
                        "new": json.loads(came[k]) if k < len(came) else None})
    return out
