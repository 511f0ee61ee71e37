"""The pieces every rule module uses: cue lexicons, the per-clause view of matched cues, and rules.

A rule module declares
- ``PHRASES``: cue label -> phrases (matched on LOWER by a PhraseMatcher),
- ``NEAR``: cue label -> (first label, second label, max gap in tokens): a synthetic cue made of a
  hit of the first followed closely by a hit of the second ("hold ... harmless"). Phrases plus NEAR
  replace token patterns with wildcards, which the spaCy Matcher evaluates far more slowly,
- ``RULES``: ``Rule`` objects that turn cues found in one clause into a tag with evidence.
Cues are words; rules are the combinations (same sentence, order, exclusions) that make a tag.
"""
from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

QUOTES = ["\"", "“", "”", "'", "‘", "’", "«", "»"]
OPEN_QUOTES = ["\"", "“", "'", "‘", "«"]
CLOSE_QUOTES = ["\"", "”", "'", "’", "»"]
SENTENCE_END = {".", ";", "!", "?"}


def verb(base: str, *, past: str | None = None, ing: str | None = None) -> list[str]:
    """distribute -> distribute, distributes, distributed, distributing (regular English forms)."""
    if base.endswith("e"):
        stem = base[:-1]
        forms = [base, base + "s", past or base + "d", ing or stem + "ing"]
    elif base.endswith("y") and base[-2] not in "aeiou":
        forms = [base, base[:-1] + "ies", past or base[:-1] + "ied", ing or base + "ing"]
    else:
        forms = [base, base + ("es" if base.endswith(("s", "sh", "ch", "x")) else "s"), past or base + "ed",
                 ing or base + "ing"]
    return forms


def verbs(*bases: str) -> list[str]:
    return [form for base in bases for form in verb(base)]


def combos(*parts: list[str] | str) -> list[str]:
    """Every concatenation of one item of each part: combos(["a ", "the "], ["x", "y"]) -> a x, a y, ..."""
    out = [""]
    for part in parts:
        items = [part] if isinstance(part, str) else part
        out = [prefix + item for prefix in out for item in items]
    return out


@dataclass(slots=True)
class Hit:
    label: str
    start: int       # token index
    end: int
    sent: int        # sentence number inside the clause


@dataclass
class ClauseView:
    """One clause as the rules see it: its tokens, cue hits, sentence split and context."""

    doc: object                      # spacy Doc (kept alive while spans are used)
    text: str
    hits: dict[str, list[Hit]]       # cue label -> hits (built from ``raw`` when first asked for)
    doc_kind: str                    # "licence" | "law" | "policy"
    label: str | None = None
    extra: dict = field(default_factory=dict)
    raw: dict[str, list[tuple[int, int]]] = field(default_factory=dict)   # label -> (start, end) token spans
    sent_ends: list[int] = field(default_factory=list)

    def hits_of(self, label: str) -> list[Hit]:
        """The hits of one cue label (Hit objects are only made for the labels a rule asks about)."""
        found = self.hits.get(label)
        if found is None:
            spans = self.raw.get(label)
            if not spans:
                return []
            ends = self.sent_ends
            found = [Hit(label, a, b, bisect_right(ends, a)) for a, b in spans]
            self.hits[label] = found
        return found

    def labels(self) -> set[str]:
        return set(self.hits) | set(self.raw)

    def sentence_words(self, sent: int) -> set[str]:
        """The lower-cased tokens of sentence ``sent``: companion words are looked up here rather than being
        cues of the matcher (a cue for every "use" or "must" would cost more than the rules that ask)."""
        cache = self.extra.setdefault("words", {})
        found = cache.get(sent)
        if found is None:
            start, end = self.extra["sentences"][sent]
            found = cache[sent] = {t.lower_ for t in self.doc[start:end]}
        return found

    def has_word(self, sent: int, words: frozenset[str]) -> bool:
        return not words.isdisjoint(self.sentence_words(sent))

    def all(self, *labels: str) -> list[Hit]:
        out = [h for label in labels for h in self.hits_of(label)]
        if len(labels) > 1:
            out.sort(key=lambda h: h.start)
        return out

    def first(self, *labels: str) -> Hit | None:
        found = self.all(*labels)
        return found[0] if found else None

    def has(self, *labels: str) -> bool:
        return any(label in self.hits or label in self.raw for label in labels)

    def span(self, *hits: Hit) -> str:
        start = min(h.start for h in hits)
        end = max(h.end for h in hits)
        if end - start > 12:                     # two distant cues: show both ends
            a = min(hits, key=lambda h: h.start)
            b = max(hits, key=lambda h: h.end)
            return f"{self.doc[a.start:a.end].text} … {self.doc[b.start:b.end].text}"
        return self.doc[start:end].text

    def pair(self, first: Iterable[str], second: Iterable[str], *, ordered: bool = False,
             window: int | None = None, unless: Iterable[str] = ()) -> tuple[Hit, Hit] | None:
        """A hit of ``first`` and one of ``second`` in the same sentence (``unless`` none of
        ``unless`` is in that sentence); ``ordered``: first comes before second."""
        blocked = {h.sent for h in self.all(*unless)}
        seconds = self.all(*second)
        for a in self.all(*first):
            if a.sent in blocked:
                continue
            for b in seconds:
                if b.sent != a.sent or (ordered and b.start < a.end):
                    continue
                if window is not None and abs(b.start - a.start) > window:
                    continue
                return a, b
        return None

    def sentence_text(self, sent: int) -> str:
        bounds = self.extra["sentences"][sent]
        return self.doc[bounds[0]:bounds[1]].text


RuleFn = Callable[[ClauseView], str | None]


@dataclass
class Rule:
    tag: str
    id: str                          # "grant.use/verbs": shown as TagHit.rule ("rule:grant.use/verbs")
    fn: RuleFn
    needs: tuple[str, ...] = ()      # run only when one of these cues is present (speed)
    score: float = 0.9
    description: str = ""


def any_of(tag: str, rule_id: str, *labels: str, unless: Iterable[str] = (), score: float = 0.9,
           description: str = "") -> Rule:
    """The tag fires on any hit of ``labels`` in a sentence without an ``unless`` cue."""
    blocked_labels = tuple(unless)

    def fn(view: ClauseView) -> str | None:
        blocked = {h.sent for h in view.all(*blocked_labels)}
        for h in view.all(*labels):
            if h.sent not in blocked:
                return view.span(h)
        return None

    return Rule(tag, rule_id, fn, tuple(labels), score, description)


def together(tag: str, rule_id: str, first: Iterable[str], second: Iterable[str], *, ordered: bool = False,
             window: int | None = None, unless: Iterable[str] = (), score: float = 0.9,
             description: str = "") -> Rule:
    """The tag fires when a ``first`` cue and a ``second`` cue share a sentence."""
    first, second, unless = tuple(first), tuple(second), tuple(unless)

    def fn(view: ClauseView) -> str | None:
        found = view.pair(first, second, ordered=ordered, window=window, unless=unless)
        return view.span(*found) if found else None

    return Rule(tag, rule_id, fn, first, score, description)


def merge_lexicons(*modules) -> tuple[dict[str, list[str]], dict[str, list[tuple[str, str, int]]], list[Rule]]:
    phrases: dict[str, list[str]] = {}
    near: dict[str, list[tuple[str, str, int]]] = {}
    rules: list[Rule] = []
    for module in modules:
        for label, items in getattr(module, "PHRASES", {}).items():
            phrases.setdefault(label, []).extend(items)
        for label, items in getattr(module, "NEAR", {}).items():
            near.setdefault(label, []).extend(items)
        rules.extend(getattr(module, "RULES", []))
    seen: set[str] = set()
    for rule in rules:
        if rule.id in seen:
            raise ValueError(f"duplicate rule id {rule.id!r}")
        seen.add(rule.id)
    for label, items in near.items():
        for first, second, _gap in items:
            for needed in (first, second):
                if needed not in phrases:
                    raise ValueError(f"NEAR cue {label!r} uses unknown cue {needed!r}")
    return phrases, near, rules
