"""Clause tagging on a blank spaCy pipeline: ``tag_segments(segments) -> list[list[TagHit]]``.

Pipeline: ``spacy.blank("en")`` + the ``clause_cues`` component (a PhraseMatcher on LOWER fed by
the cue lexicon of ``nlp.rules``), run with ``nlp.pipe`` over the clauses of one document. Token
patterns with wildcards are avoided on purpose (the Matcher was 20x slower than the PhraseMatcher
here): cues that need "A ... B" are built from two phrase hits (``NEAR``). Each clause's cue hits
go through the rules of ``nlp.rules`` (cue combinations in one sentence), then
``nlp.rules.context`` adds what the clause inherits from its chapeau or heading, removes what the
labelling rulings forbid, and adds the duty an open-source exemption lifts. The nlp object is built
once per process. See docs/tagging.md.
"""
from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from functools import lru_cache

import spacy
from spacy.language import Language
from spacy.matcher import PhraseMatcher
from spacy.tokens import Doc

from clausewatch.nlp.entities import compute, compute_candidate
from clausewatch.nlp.model import Clause, Segment, TagHit
from clausewatch.nlp.rules import NEAR, PHRASES, RULES
from clausewatch.nlp.rules.base import SENTENCE_END, ClauseView
from clausewatch.nlp.rules.context import (
    document_kind,
    inherited,
    inherited_from_heading,
    openness_document,
    parent_index,
    path_key,
    referenced_topics,
    suppress,
)
from clausewatch.nlp.rules.licenses import find_licenses
from clausewatch.nlp.rules.references import find_references
from clausewatch.nlp.rules.regulation import definition_clause
from clausewatch.nlp.rules.restrictions import output_purpose

TITLE_CASE = re.compile(r"[A-Z]")
GRANT_CUES = {"GRANT_STRONG", "GRANT_WEAK"}
GRANT_LIST_END = re.compile(r"\b(?:to|licen[cs]e|rights?)\s*:\s*$")   # "... hereby grants You a license to:"
SENT_END, OPEN_PAREN, CLOSE_PAREN = "_SENT_END", "_OPEN_PAREN", "_CLOSE_PAREN"


@Language.factory("clause_cues")
def make_clause_cues(nlp: Language, name: str) -> ClauseCues:
    return ClauseCues(nlp)


class ClauseCues:
    """Finds the cue words of ``nlp.rules`` and stores them in ``doc.user_data``: label -> [(start, end)]."""

    def __init__(self, nlp: Language):
        self.phrases = PhraseMatcher(nlp.vocab, attr="LOWER")
        for label, items in PHRASES.items():
            self.phrases.add(label, list(nlp.tokenizer.pipe(items)))
        # sentence ends and brackets go through the same matcher: cheaper than iterating over tokens
        self.phrases.add(SENT_END, list(nlp.tokenizer.pipe(sorted(SENTENCE_END))))
        self.phrases.add(OPEN_PAREN, [nlp.make_doc("(")])
        self.phrases.add(CLOSE_PAREN, [nlp.make_doc(")")])
        strings = nlp.vocab.strings
        self.labels = {strings[name]: name for name in (*PHRASES, SENT_END, OPEN_PAREN, CLOSE_PAREN)}

    def __call__(self, doc: Doc) -> Doc:
        labels = self.labels
        cues: dict[str, list[tuple[int, int]]] = {}
        ends, opens, closes = [], [], []
        for match_id, start, end in self.phrases(doc):
            label = labels[match_id]
            if label == SENT_END:
                ends.append(start)
            elif label == OPEN_PAREN:
                opens.append(start)
            elif label == CLOSE_PAREN:
                closes.append(start)
            else:
                spans = cues.get(label)
                if spans is None:
                    cues[label] = [(start, end)]
                else:
                    spans.append((start, end))
        doc.user_data["cues"] = cues
        doc.user_data["sentence_ends"] = sorted(ends)
        doc.user_data["parens"] = (sorted(opens), sorted(closes))
        return doc


@lru_cache(maxsize=1)
def get_nlp() -> Language:
    nlp = spacy.blank("en")
    nlp.add_pipe("clause_cues")
    return nlp


def _sentences(doc: Doc) -> list[tuple[int, int]]:
    bounds, start = [], 0
    for end in doc.user_data["sentence_ends"]:
        bounds.append((start, end + 1))
        start = end + 1
    if start < len(doc) or not bounds:
        bounds.append((start, len(doc)))
    return bounds


def _section_titles(doc: Doc) -> list[tuple[int, int]]:
    """Token ranges of titles quoted after a number: '6 (Indemnification)', 'Executive Order 14022 of
    April 1, 2021 (Termination of Emergency ...)': a cited title is not the clause's content."""
    opens, closes = doc.user_data["parens"]
    spans = []
    for i in opens:
        if i == 0 or i + 1 >= len(doc) or not doc[i - 1].like_num or not TITLE_CASE.match(doc[i + 1].text):
            continue
        j = closes[bisect_right(closes, i)] if bisect_right(closes, i) < len(closes) else None
        if j is not None and j - i < 30:
            spans.append((i, j + 1))
    return spans


def _licence_names(doc: Doc, text: str) -> list[tuple[int, int]]:
    """Token ranges of licence names ("Creative Commons Attribution-NonCommercial-ShareAlike 4.0"): the
    words of a name ("NonCommercial", "ShareAlike") are not the clause's own terms."""
    spans = []
    for _value, start, end in find_licenses(text):
        span = doc.char_span(start, end, alignment_mode="expand")
        if span is not None and len(span) > 2:
            spans.append((span.start, span.end))
    return spans


def _view(doc: Doc, segment: Segment, kind: str, openness: bool = False) -> ClauseView:
    bounds = _sentences(doc)
    ends = [b for _a, b in bounds]
    masked = _section_titles(doc) if doc.user_data["parens"][0] else []
    if "License" in segment.text or "Licence" in segment.text or "LICENSE" in segment.text:
        masked += _licence_names(doc, segment.text)
    raw: dict[str, list[tuple[int, int]]] = doc.user_data["cues"]
    if masked:
        raw = {label: kept for label, spans in raw.items()
               if (kept := [(s, e) for s, e in spans if not any(a <= s < b for a, b in masked)])}
    for label, combinations in NEAR.items():
        for first, second, gap in combinations:
            a_spans, b_spans = raw.get(first), raw.get(second)
            if not a_spans or not b_spans:
                continue
            seconds = sorted(b_spans)
            starts = [s for s, _e in seconds]
            made = []
            for a_start, a_end in a_spans:   # each second cue that starts 0..gap tokens after the first ends
                k = bisect_left(starts, a_end)
                while k < len(seconds) and seconds[k][0] - a_end <= gap:
                    made.append((a_start, seconds[k][1]))
                    k += 1
            if made:
                spans = raw.setdefault(label, [])
                spans.extend(made)
                spans.sort()
    if compute_candidate(segment.text) and compute(segment.text):
        raw["COMPUTE_NUM"] = [(0, min(len(doc), 1))]
    view = ClauseView(doc, segment.text, {}, kind, segment.label, raw=raw, sent_ends=ends)
    view.extra["sentences"] = bounds
    view.extra["sent_ends"] = ends
    view.extra["openness_doc"] = openness
    return view


# rules indexed by the cues they need: a clause runs only the rules one of its cues can fire
_ALWAYS = [i for i, rule in enumerate(RULES) if not rule.needs]
_BY_CUE: dict[str, list[int]] = {}
for _i, _rule in enumerate(RULES):
    for _cue in _rule.needs:
        _BY_CUE.setdefault(_cue, []).append(_i)


def _run_rules(view: ClauseView) -> dict[str, TagHit]:
    out: dict[str, TagHit] = {}
    candidates = set(_ALWAYS)
    for cue in view.raw:
        candidates.update(_BY_CUE.get(cue, ()))
    for index in sorted(candidates):
        rule = RULES[index]
        if rule.tag in out:
            continue
        evidence = rule.fn(view)
        if evidence:
            out[rule.tag] = TagHit(rule.tag, rule.score, evidence, f"rule:{rule.id}")
    return out


def _add_inherited(tags: dict[str, TagHit], view: ClauseView, found: dict[str, str], evidence: str,
                   score: float) -> None:
    """Add the tags an item takes from its chapeau or heading (``found``: tag -> reason)."""
    for tag, reason in found.items():
        if tag == "restrict.prohibited_use" and "restrict.use_policy" in tags:
            continue                        # the item incorporates a policy: it is the binding, not one use
        tags.setdefault(tag, TagHit(tag, score, evidence, f"context:{reason}"))
    if "restrict.prohibited_use" in found and "restrict.prohibited_use" in tags and view.has("COMM_PURPOSE"):
        tags.setdefault("restrict.noncommercial", TagHit(
            "restrict.noncommercial", score, view.span(view.first("COMM_PURPOSE")),
            "rule:restrict.noncommercial/forbidden-commercial-item"))
    if "restrict.prohibited_use" in found and "restrict.prohibited_use" in tags and view.doc_kind == "licence":
        # "You shall not: ... (iii) use the outputs to train a competing model": the chapeau's prohibition
        # applies to the item's own words about outputs
        found = output_purpose(view, ("IMPROVE_MODEL", "COMPETE"), prohibited=False)
        if found is not None:
            tags.setdefault("restrict.output_use", TagHit(
                "restrict.output_use", score, view.span(*found), "rule:restrict.output_use/forbidden-output-item"))


def _weak_grants_only(tags: dict[str, TagHit]) -> None:
    """A clause that binds to use restrictions ("You may use the Model ... only for lawful purposes")
    is not a grant when its only grant cue is 'you may'."""
    if "restrict.use_policy" in tags:
        for tag in [t for t, h in tags.items() if t.startswith("grant.") and "/may-" in h.rule]:
            del tags[tag]


def tag_segments(segments: list[Segment]) -> list[list[TagHit]]:
    """Tags of each segment of one document, in the same order."""
    if not segments:
        return []
    nlp = get_nlp()
    kind = document_kind(segments)
    openness = kind == "licence" and openness_document(segments)
    by_ordinal = {seg.ordinal: i for i, seg in enumerate(segments)}
    structured = any(seg.parent is not None for seg in segments)
    final: list[dict[str, TagHit]] = []
    cue_sets: list[set[str]] = []
    for i, doc in enumerate(nlp.pipe(seg.text for seg in segments)):
        seg = segments[i]
        parent = parent_index(i, segments, by_ordinal, structured)
        view = _view(doc, seg, kind, openness)
        if parent is not None and GRANT_CUES & cue_sets[parent] and GRANT_LIST_END.search(segments[parent].text):
            # an item of "the Licensor hereby grants You a license ... to:" lists granted acts
            view.raw.setdefault("GRANT_STRONG", []).insert(0, (0, 0))
            view.hits.pop("GRANT_STRONG", None)
        tags = _run_rules(view)
        own_definition = "policy.definition" in tags and definition_clause(view)
        if parent is not None:
            _add_inherited(tags, view, inherited(set(final[parent]), segments[parent].text, cue_sets[parent], kind),
                           segments[parent].text[:120], 0.8)
        else:
            first_word = doc[0].text if len(doc) else ""
            _add_inherited(tags, view, inherited_from_heading(seg, first_word, kind), seg.heading or first_word, 0.7)
        _weak_grants_only(tags)
        tags = suppress(tags, own_definition, view.has("COMPUTE_NUM"), seg.text)
        final.append(tags)
        cue_sets.append(set(view.raw))
    _exemption_topics(segments, final)
    return [sorted(tags.values(), key=lambda h: h.tag) for tags in final]


def _exemption_topics(segments: list[Segment], final: list[dict[str, TagHit]]) -> None:
    """An open-source exemption also carries the topic of the duty it lifts (the clauses it cites)."""
    exempt = [i for i, tags in enumerate(final) if "policy.open_source_exemption" in tags]
    if not exempt:
        return
    keys = [path_key(seg.path) for seg in segments]
    tag_sets = [set(tags) for tags in final]
    for i in exempt:
        values = [ref.value for ref in find_references(segments[i].text, segments[i])]
        for tag, value in referenced_topics(values, keys, tag_sets, i).items():
            if tag not in final[i]:
                final[i][tag] = TagHit(tag, 0.7, value, "context:duty lifted by the exemption")


OPEN_RE = re.compile(
    r"open[- ]?source|open[- ]weights?|openly (?:released|available|licensed)|free and open|"
    r"weights\b[^.;]{0,60}?(?:publicly|widely|freely) available|"
    r"(?:publicly|widely|freely) available (?:model )?weights|\bOSI\b|open source initiative|"
    r"open (?:model|licen[cs]e)s?\b|openrail|\bRAIL\b|permissive licen[cs]e|open[- ]access model", re.I)
OPEN_LICENSES = re.compile(r"^(?:Apache|MIT|BSD|GPL|AGPL|LGPL|MPL|EPL|CC|Unlicense|ISC)|OpenRAIL|RAIL|"
                           r"Llama|Gemma|Qwen|Tongyi|DeepSeek|Falcon|Mistral|Phi|Stability|NVIDIA Open", re.I)


def is_open_relevant(clause: Clause) -> bool:
    """True when the clause is about open-source or open-weight AI: it carries an open-source
    exemption or openness criteria, speaks of open source / open weights / weights made publicly
    available / OSI / permissive or open licences, or names the licence of an open model
    (LICENSE_REF: an OSI licence, OpenRAIL, or an open-weight model family's licence)."""
    if {t.tag for t in clause.tags} & {"policy.open_source_exemption", "policy.openness_criteria"}:
        return True
    if OPEN_RE.search(clause.segment.text):
        return True
    return any(e.type == "LICENSE_REF" and OPEN_LICENSES.search(str(e.value)) for e in clause.entities)


__all__ = ["tag_segments", "is_open_relevant", "get_nlp"]
