"""The alignment passes: which clauses of two versions correspond. Pure: no I/O.

1. *anchors*: the longest in-order runs of clauses whose normalised text is identical;
2. *moved, unchanged*: identical normalised text found out of order;
3. *rare-token candidates*: for each unmatched new clause, the unmatched old clauses sharing its
   rarest words, scored by token similarity; a similar out-of-order pair is a moved clause, and in
   very large gaps a very similar in-order pair becomes an anchor;
4. *gaps*: between consecutive anchors, the words of the remaining clauses are aligned as one
   stream, and clauses sharing enough words are grouped, so a clause split in two, several clauses
   run together (numbering dropped) or a reworded clause become one group.
"""
from __future__ import annotations

import bisect
from collections import Counter, defaultdict, deque
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Any

from clausewatch.changes.cosmetic import SENTINELS

ANCHOR_SIMILARITY = 0.8     # an in-order pair this similar is the same clause, edited
MOVED_SIMILARITY = 0.75     # an out-of-order pair this similar (and of similar length) is a moved clause
MOVED_LENGTH = 0.75         # ... the shorter has at least this share of the longer's words
PAIR_SIMILARITY = 0.2       # the only two clauses left between two anchors are one clause, rewritten
SIGNATURE = 6               # rarest words of a clause used to find its candidates
CANDIDATES = 8
BIG_GAP = 40                # gaps with this many clauses on both sides are first cut at similar pairs


@dataclass
class Item:
    pos: int
    clause: Any
    text: str
    keys: list[str]
    key: str


@dataclass
class Group:
    old: list[int]
    new: list[int]
    moved: bool = False
    similarity: float | None = None


class Anchors:
    """In-order pairs (old index, new index), both increasing."""

    def __init__(self) -> None:
        self.old: list[int] = []
        self.new: list[int] = []

    def fits(self, i: int, j: int, n_new: int) -> bool:
        p = bisect.bisect_left(self.old, i)
        before = self.new[p - 1] if p > 0 else -1
        after = self.new[p] if p < len(self.new) else n_new
        return before < j < after and (p >= len(self.old) or self.old[p] != i)

    def gap(self, i: int, j: int, n_old: int, n_new: int) -> tuple[int, int]:
        """The number of old and new clauses between the anchors around (i, j)."""
        p = bisect.bisect_left(self.old, i)
        before = (self.old[p - 1], self.new[p - 1]) if p > 0 else (-1, -1)
        after = (self.old[p], self.new[p]) if p < len(self.old) else (n_old, n_new)
        return after[0] - before[0] - 1, after[1] - before[1] - 1

    def add(self, i: int, j: int) -> None:
        p = bisect.bisect_left(self.old, i)
        self.old.insert(p, i)
        self.new.insert(p, j)


def align_clauses(olds: list[Item], news: list[Item]) -> tuple[list[Group], Anchors]:
    anchors = Anchors()
    groups: list[Group] = []
    used_old: set[int] = set()
    used_new: set[int] = set()
    sm = SequenceMatcher(None, [o.key for o in olds], [n.key for n in news], autojunk=False)
    for block in sm.get_matching_blocks():
        for k in range(block.size):
            anchors.old.append(block.a + k)
            anchors.new.append(block.b + k)
    used_old.update(anchors.old)
    used_new.update(anchors.new)
    groups += [Group([i], [j]) for i, j in zip(anchors.old, anchors.new, strict=True)]

    # 2. identical text out of place
    free_new: dict[str, deque[int]] = defaultdict(deque)
    for n in news:
        if n.pos not in used_new:
            free_new[n.key].append(n.pos)
    for o in olds:
        if o.pos in used_old or not free_new.get(o.key):
            continue
        j = free_new[o.key].popleft()
        used_old.add(o.pos)
        used_new.add(j)
        if anchors.fits(o.pos, j, len(news)):
            anchors.add(o.pos, j)
            groups.append(Group([o.pos], [j]))
        else:
            groups.append(Group([o.pos], [j], moved=True, similarity=1.0))

    # 3. similar clauses found through their rarest words
    reserved_old: set[int] = set()
    reserved_new: set[int] = set()
    for score, i, j in _candidates(olds, news, used_old, used_new):
        if i in used_old or j in used_new:
            continue
        if anchors.fits(i, j, len(news)):
            # in a small gap, leave even similar pairs to the gap pass, which sees splits and merges; a
            # weaker out-of-order pair must not take them as "moved"
            if score < ANCHOR_SIMILARITY or min(anchors.gap(i, j, len(olds), len(news))) < BIG_GAP:
                reserved_old.add(i)
                reserved_new.add(j)
                continue
            anchors.add(i, j)
            groups.append(Group([i], [j], similarity=score))
        elif score >= MOVED_SIMILARITY and i not in reserved_old and j not in reserved_new:
            groups.append(Group([i], [j], moved=True, similarity=score))
        else:
            continue
        used_old.add(i)
        used_new.add(j)

    # 4. what is left between consecutive anchors
    bounds = list(zip(anchors.old, anchors.new, strict=True)) + [(len(olds), len(news))]
    prev_i, prev_j = -1, -1
    for next_i, next_j in bounds:
        gap_old = [i for i in range(prev_i + 1, next_i) if i not in used_old]
        gap_new = [j for j in range(prev_j + 1, next_j) if j not in used_new]
        groups += _group_gap(gap_old, gap_new, olds, news)
        prev_i, prev_j = next_i, next_j
    return groups, anchors


def similarity(a: list[str], b: list[str]) -> float:
    if not a and not b:
        return 1.0
    sm = SequenceMatcher(None, a, b, autojunk=False)
    if sm.real_quick_ratio() < PAIR_SIMILARITY or sm.quick_ratio() < PAIR_SIMILARITY:
        return 0.0
    return sm.ratio()


def _candidates(olds: list[Item], news: list[Item], used_old: set[int],
                used_new: set[int]) -> list[tuple[float, int, int]]:
    free_old = [o for o in olds if o.pos not in used_old and o.keys]
    free_new = [n for n in news if n.pos not in used_new and n.keys]
    if not free_old or not free_new:
        return []
    df: Counter = Counter()
    for item in (*olds, *news):
        df.update(set(item.keys))

    def signature(item: Item) -> list[str]:
        words = sorted({t for t in item.keys if t not in SENTINELS}, key=lambda t: (df[t], t))
        return words[:SIGNATURE]

    index: dict[str, list[int]] = defaultdict(list)
    for o in free_old:
        for t in signature(o):
            index[t].append(o.pos)
    scored = []
    for n in free_new:
        hits: Counter = Counter()
        for t in signature(n):
            hits.update(index.get(t, ()))
        for i, _ in hits.most_common(CANDIDATES):
            short, long_ = sorted((len(olds[i].keys), len(n.keys)))
            if short < MOVED_LENGTH * long_:
                continue
            score = similarity(olds[i].keys, n.keys)
            if score >= MOVED_SIMILARITY:
                same_path = getattr(olds[i].clause, "path", None) == getattr(n.clause, "path", None)
                scored.append((score + (0.001 if same_path else 0.0), i, n.pos))
    scored.sort(key=lambda s: (-s[0], s[1], s[2]))
    return scored


_STOP = {"the", "a", "an", "of", "to", "and", "or", "in", "on", "for", "by", "with", "as", "at", "be", "is",
         "are", "that", "this", "any", "its", "such", "from", "which"}


def _group_gap(gap_old: list[int], gap_new: list[int], olds: list[Item], news: list[Item]) -> list[Group]:
    """Group the clauses between two anchors: pairs, splits, merges; the rest are added or removed."""
    if not gap_old or not gap_new:
        return [Group([i], []) for i in gap_old] + [Group([], [j]) for j in gap_new]
    if len(gap_old) == 1 and len(gap_new) == 1:
        i, j = gap_old[0], gap_new[0]
        score = similarity(olds[i].keys, news[j].keys)
        if score >= PAIR_SIMILARITY:
            return [Group([i], [j], similarity=score)]
        return [Group([i], []), Group([], [j])]
    a, owner_a = _stream(gap_old, olds)
    b, owner_b = _stream(gap_new, news)
    sm = SequenceMatcher(None, a, b, autojunk=len(b) > 3000)
    weight: Counter = Counter()
    for block in sm.get_matching_blocks():
        if block.size == 0 or (block.size == 1 and a[block.a] in _STOP):
            continue
        for k in range(block.size):
            weight[(owner_a[block.a + k], owner_b[block.b + k])] += 1
    parent: dict[tuple[str, int], tuple[str, int]] = {}

    def find(x: tuple[str, int]) -> tuple[str, int]:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for (i, j), w in weight.items():
        smaller = min(len(olds[i].keys), len(news[j].keys))
        larger = max(len(olds[i].keys), len(news[j].keys))
        # enough of the smaller clause, and not a couple of words lost in a long one
        if w >= max(1, 0.34 * smaller) and (w >= 2 or smaller <= 2) and (
                w >= 0.1 * larger or (w >= 0.9 * smaller and smaller >= 3)):
            parent[find(("o", i))] = find(("n", j))
    components: dict[tuple[str, int], Group] = {}
    for i in gap_old:
        components.setdefault(find(("o", i)), Group([], [])).old.append(i)
    for j in gap_new:
        components.setdefault(find(("n", j)), Group([], [])).new.append(j)
    groups = list(components.values())
    for g in groups:
        if len(g.old) == 1 and len(g.new) == 1:
            g.similarity = similarity(olds[g.old[0]].keys, news[g.new[0]].keys)
    return groups


def _stream(indices: list[int], items: list[Item]) -> tuple[list[str], list[int]]:
    tokens: list[str] = []
    owners: list[int] = []
    for i in indices:
        tokens += items[i].keys
        owners += [i] * len(items[i].keys)
    return tokens, owners
