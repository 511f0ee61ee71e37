"""Word-level diffs: computed once by the detector and stored with each change (``changes.word_diff``).

Everything that shows a change (``clausewatch diff``, the digest mails, the site) reads the stored
operations; :func:`diff_ops` computes them only for a change dict that has none (an old stored row).
"""
from __future__ import annotations

from difflib import SequenceMatcher
from typing import Any

CONTEXT_WORDS = 8


def word_diff(old: str | None, new: str | None) -> list[tuple[str, str]]:
    """Word-level diff of two texts: [(equal|insert|delete, words)], adjacent words of one op joined."""
    a, b = (old or "").split(), (new or "").split()
    sm = SequenceMatcher(None, a, b, autojunk=len(a) + len(b) > 6000)
    ops: list[tuple[str, str]] = []

    def emit(op: str, words: list[str]) -> None:
        if not words:
            return
        if ops and ops[-1][0] == op:
            ops[-1] = (op, ops[-1][1] + " " + " ".join(words))
        else:
            ops.append((op, " ".join(words)))

    for tag, i1, i2, j1, j2 in sm.get_opcodes():
        if tag == "equal":
            emit("equal", a[i1:i2])
        else:
            emit("delete", a[i1:i2])
            emit("insert", b[j1:j2])
    return ops


def diff_ops(change: dict[str, Any]) -> list[tuple[str, str]]:
    """``[(equal|delete|insert, words)]`` of a change dict: its stored word diff, else computed now."""
    ops = change.get("word_diff")
    if ops:
        return [(op, text) for op, text in ops if text]
    if change.get("old_text") and change.get("new_text"):
        return word_diff(change["old_text"], change["new_text"])
    return [("delete", change["old_text"])] if change.get("old_text") else [("insert", change.get("new_text") or "")]


def elide(ops: list[tuple[str, str]], context: int = CONTEXT_WORDS) -> list[tuple[str, str]]:
    """Long unchanged stretches shortened to ``context`` words on each side of a change."""
    out = []
    for k, (op, text) in enumerate(ops):
        if op != "equal":
            out.append((op, text))
            continue
        words = text.split()
        keep_head = context if k > 0 else 0
        keep_tail = context if k < len(ops) - 1 else 0
        if len(words) <= keep_head + keep_tail + 2:
            out.append((op, text))
            continue
        head, tail = " ".join(words[:keep_head]), " ".join(words[len(words) - keep_tail:] if keep_tail else [])
        out.append(("equal", " ".join(p for p in (head, "…", tail) if p)))
    return out
