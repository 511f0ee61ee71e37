"""What is left after the cosmetic normalisations: is each remaining difference cosmetic or substantive?

:func:`judge_ops` looks at the differences between two clauses' key tokens (``changes.cosmetic.key_tokens``)
that no normalisation removed, one by one: a typo fixed, a duplicated word or an article, URLs only,
the release's own name or date, a template placeholder filled in, footnote calls, a cross-reference
following a renumbering, words that are a heading in the other document. Anything else is substantive.
Pure: no I/O.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

from clausewatch.changes.cosmetic import (
    DATE,
    HOLDER,
    PLACEHOLDER,
    RELDATE,
    RELEASE,
    SENTINELS,
    URL,
    date_readings,
    is_date_token,
)

NEGATIONS_MODALS = {
    "not", "no", "never", "nor", "none", "neither", "without", "except", "unless", "only", "may", "must",
    "shall", "should", "will", "would", "can", "cannot", "could", "might", "need", "required", "require",
    "requires", "prohibited", "permitted", "allowed", "forbidden", "non", "un", "any", "all", "some",
    "licensor", "licensee", "licensors", "licensees", "and", "or", "before", "after", "within", "more", "less",
    "least", "most", "exclusive", "nonexclusive", "irrevocable", "revocable", "perpetual", "worldwide",
}
# the words of a version or date line ("Version Release Date:", "Last updated on", "Effective as of")
DATE_LABEL_WORDS = {"release", "released", "effective", "updated", "update", "last", "modified", "revised", "revision",
                    "version", "date", "dated", "published", "as", "of", "on", "from", "since", "valid", "posted",
                    "changed", "edited", "reviewed", "issued", "adopted", "entered", "into", "force", "in", "the"}


def edit_distance(a: str, b: str, limit: int = 3) -> int:
    """Optimal string alignment distance (adjacent transpositions count 1), stopping above ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


def _inflections(a: str, b: str) -> bool:
    short, long_ = sorted((a, b), key=len)
    return long_.startswith(short) and long_[len(short):] in {"s", "es", "ed", "d", "ing", "er", "ers", "ly"}


def is_typo_fix(a: str, b: str, vocab_old: Counter, vocab_new: Counter) -> bool:
    """One word replaced by a near spelling of itself that is not a different word of the documents.

    The misspelt side is rare (used at most twice in both documents together) and absent from the other
    document; numbers, negations, modals, plural/tense changes never count as typos.
    """
    if a == b:
        return True
    if not (a.isalpha() and b.isalpha()) or a in NEGATIONS_MODALS or b in NEGATIONS_MODALS:
        return False
    if _inflections(a, b):
        return False
    if min(len(a), len(b)) < 4:   # a short word: only two letters swapped ("teh" -> "the")
        if len(a) != len(b) or sorted(a) != sorted(b) or edit_distance(a, b, 1) != 1:
            return False
    limit = 2 if min(len(a), len(b)) >= 9 else 1
    if edit_distance(a, b, limit) > limit:
        return False
    rare_old = vocab_old[a] + vocab_new[a] <= 2 and vocab_new[a] == 0
    rare_new = vocab_old[b] + vocab_new[b] <= 2 and vocab_old[b] == 0
    return rare_old or rare_new


_ARTICLES = {"a", "an", "the"}
_REFERENCE_WORDS = {"section", "sections", "article", "articles", "paragraph", "paragraphs", "clause", "clauses",
                    "annex", "annexes", "point", "points", "subsection", "subsections", "sec", "chapter", "part",
                    "schedule", "appendix", "exhibit", "item", "items", "§"}
_LIST_WORDS = {"and", "or", "to", "through", "of"}


def _after_reference(tokens: Sequence[str], index: int) -> bool:
    """Whether tokens[index] is the number of a cross-reference: "Section 5", "Sections 3, 4 and 7"."""
    k = index - 1
    while k >= 0 and index - k <= 8:
        t = tokens[k]
        if t in _REFERENCE_WORDS:
            return True
        if not (t[:1].isdigit() or t in _LIST_WORDS or len(t) == 1):
            return False
        k -= 1
    return False


def _footnote_refs(tokens: list[str]) -> bool:
    """Only footnote calls: small numbers each followed by a link."""
    if not tokens or tokens[-1] != URL:
        return False
    for k, t in enumerate(tokens):
        if t == URL:
            continue
        if not (t.isdigit() and len(t) <= 3 and k + 1 < len(tokens) and tokens[k + 1] == URL):
            return False
    return True
_YEAR = re.compile(r"^(19|20)\d\d$")


def judge_ops(a: Sequence[str], b: Sequence[str], opcodes: Iterable[tuple[str, int, int, int, int]], *,
              vocab_old: Counter, vocab_new: Counter, copyright_notice: bool = False, old_headings: str = "",
              new_headings: str = "", residual: list | None = None,
              renumbered: dict[str, str] | None = None,
              seam_labels: set[str] | None = None, date_line: bool = False) -> tuple[bool, list[str]]:
    """Judge the differences left between two key-token sequences: (substantive, extra cosmetic reasons).

    ``old_headings``/``new_headings`` hold the key text of each document's headings, " | "-separated:
    words at the edge of a clause that are a heading in the other document moved between heading and body.
    The substantive differences are appended to ``residual`` as (tag, old tokens, new tokens).
    ``renumbered`` maps a section number of the old document to its number in the new one (from the
    aligned clauses' paths): a cross-reference that follows the renumbering ("Section 5" -> "Section 6")
    is cosmetic. ``seam_labels`` are the numbers of clauses merged into one (or split from one): left
    inline at the seam, they are numbering. ``date_line``: both clauses are a short line carrying the
    document's own date ("Version Release Date: ..."): its label words may change ("Effective Date").
    """
    reasons: list[str] = []
    substantive = False
    for tag, i1, i2, j1, j2 in opcodes:
        if tag == "equal":
            continue
        old, new = list(a[i1:i2]), list(b[j1:j2])
        reason = _judge_op(tag, old, new, a, b, i1, i2, j1, j2, vocab_old, vocab_new, copyright_notice,
                           renumbered or {})
        if reason is None and tag == "delete" and (i1 == 0 or i2 == len(a)) and _heading_run(old, new_headings):
            reason = "markdown"
        if reason is None and tag == "insert" and (j1 == 0 or j2 == len(b)) and _heading_run(new, old_headings):
            reason = "markdown"
        if reason is None and tag in ("insert", "delete") and seam_labels and set(old + new) <= seam_labels:
            reason = "numbering"   # the number of a clause merged into (or split from) its neighbour
        if reason is None and date_line and set(old + new) <= DATE_LABEL_WORDS | SENTINELS:
            reason = "release_date"
        if reason is None:
            substantive = True
            if residual is not None:
                residual.append((tag, old, new))
        elif reason and reason not in reasons:
            reasons.append(reason)
    return substantive, reasons


_LABEL_TOKEN = re.compile(r"^(?:\d{1,3}(?:\.\d{1,3})*|[a-z]|[ivxlc]{1,6})$")
_MAX_HEADING_RUN = 40


def _heading_run(run: Sequence[str], headings: str) -> bool:
    """Whether the words at a clause's edge are headings of the other document run into the clause: a
    whole heading ("Section 4 | Termination"), or several headings and their numbers, each possibly cut
    at its start ("DEFINITIONS 1.1 Definitions (a)" after "Section 1:" became the clause's path)."""
    if not run or len(run) > _MAX_HEADING_RUN or not headings.strip(" |"):
        return False
    if f" {' '.join(run)} " in headings:
        return True
    suffixes = set()
    for heading in headings.split(" | "):
        words = heading.split()
        suffixes.update(tuple(words[k:]) for k in range(len(words)))
    if not any(not _LABEL_TOKEN.match(t) for t in run):
        return False
    covered = [True] + [False] * len(run)
    for i in range(len(run)):
        if not covered[i]:
            continue
        if _LABEL_TOKEN.match(run[i]):
            covered[i + 1] = True
        for j in range(i + 1, len(run) + 1):
            if tuple(run[i:j]) in suffixes:
                covered[j] = True
    return covered[-1]


def _judge_op(tag, old, new, a, b, i1, i2, j1, j2, vocab_old, vocab_new, copyright_notice,
              renumbered) -> str | None:
    """A cosmetic reason for one difference, or None when it is substantive."""
    changed = old + new
    if all(t in (URL,) for t in changed):
        return "urls"
    if all(t in SENTINELS for t in changed):
        for sentinel, reason in ((RELEASE, "release_version"), (DATE, "release_date"), (RELDATE, "relative_date"),
                                 (HOLDER, "copyright_holder"), (PLACEHOLDER, "placeholder")):
            if sentinel in changed:
                return reason
        return "urls"
    if tag == "replace" and len(old) == len(new) and all(
            is_date_token(x) and is_date_token(y) and date_readings(x) & date_readings(y)
            for x, y in zip(old, new, strict=True)):
        return "date_format"   # "2025-08-09" and "08/09/2025": one of the numeric date's readings
    if old and new and "".join(old) == "".join(new):
        return "punctuation"
    if tag != "replace" and _footnote_refs(changed):
        return "urls"       # footnote references: "(39) (https://...#ntr39)" printed as a link
    if (old and all(t == PLACEHOLDER for t in old) and len(new) <= 8) or (
            new and all(t == PLACEHOLDER for t in new) and len(old) <= 8):
        return "placeholder"
    if tag == "delete" and (list(a[max(0, i1 - len(old)):i1]) == old or list(a[i2:i2 + len(old)]) == old):
        return "repeated_word"   # a stray repeated word removed ("or or", "the the")
    if tag == "insert" and (list(b[max(0, j1 - len(new)):j1]) == new or list(b[j2:j2 + len(new)]) == new):
        return "repeated_word"
    if set(changed) <= _ARTICLES and tag != "replace":
        return "typo"   # an article added or dropped ("constitutes an infringement")
    if tag == "replace" and len(old) == len(new):
        kinds = set()
        for k, (x, y) in enumerate(zip(old, new, strict=True)):
            if renumbered.get(x) == y and _after_reference(a, i1 + k):
                kinds.add("numbering")
            elif copyright_notice and _YEAR.match(x) and _YEAR.match(y):
                kinds.add("release_date")
            elif is_typo_fix(x, y, vocab_old, vocab_new):
                kinds.add("typo")
            else:
                return None
        return sorted(kinds)[0] if len(kinds) == 1 else "typo"
    return None
