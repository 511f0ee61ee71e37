"""text -> clauses: segmentation, then tags and entities. Pure: no I/O."""
from __future__ import annotations

import re
from dataclasses import replace

from clausewatch.nlp.entities import find_entities
from clausewatch.nlp.model import Clause, Segment, TagHit
from clausewatch.nlp.segment import segment
from clausewatch.nlp.tagger import is_open_relevant, tag_segments

# spaCy refuses a text over nlp.max_length (1,000,000 characters, error E088) and its cost grows with the
# text: a clause longer than this is tagged in pieces of at most this size, cut at sentence ends
# (10,000 characters: longer pieces cost more than linearly in the rules; real clauses are shorter, the
# longest in the corpus has 6,300)
PIECE_CHARS = 10_000
_SENTENCE_END = re.compile(r"[.;:!?][\"'”’)\]]*\s+")


def pieces(text: str, size: int = PIECE_CHARS) -> list[str]:
    """``text`` cut into pieces of at most ``size`` characters, at a sentence end (else at a space, else
    anywhere) in the second half of each piece; the pieces joined give ``text`` back."""
    out: list[str] = []
    start = 0
    while len(text) - start > size:
        window = text[start:start + size]
        cut = 0
        for match in _SENTENCE_END.finditer(window, size // 2):
            cut = match.end()
        if not cut:
            cut = window.rfind(" ", size // 2) + 1
        if cut <= 0:
            cut = size
        out.append(text[start:start + cut])
        start += cut
    out.append(text[start:])
    return out


def _merge(into: dict[str, TagHit], hits: list[TagHit]) -> None:
    for hit in hits:
        if hit.tag not in into or hit.score > into[hit.tag].score:
            into[hit.tag] = hit


def _tags_of_long_segment(seg: Segment, first_piece_tags: list[TagHit], rest: list[str]) -> list[TagHit]:
    """The tags of a clause tagged piece by piece: the union, the best-scored hit of each tag."""
    found: dict[str, TagHit] = {}
    _merge(found, first_piece_tags)
    for hits in tag_segments([replace(seg, text=piece, parent=None) for piece in rest]):
        _merge(found, hits)
    return sorted(found.values(), key=lambda h: h.tag)


def analyse(text: str) -> list[Clause]:
    """Split ``text`` (normalised structured text) into clauses with their tags and entities.

    Clauses of any length are analysed: one longer than :data:`PIECE_CHARS` is tagged in pieces (its
    first piece in the document's context, so list and chapeau rules still apply)."""
    segments = segment(text)
    cut = {i: pieces(seg.text) for i, seg in enumerate(segments) if len(seg.text) > PIECE_CHARS}
    tagged = [replace(seg, text=cut[i][0]) if i in cut else seg for i, seg in enumerate(segments)]
    tag_lists = tag_segments(tagged)
    clauses = []
    for i, (seg, tags) in enumerate(zip(segments, tag_lists, strict=True)):
        if i in cut:
            tags = _tags_of_long_segment(seg, tags, cut[i][1:])
        clause = Clause(seg, tags, find_entities(seg, segments))
        clause.open_relevant = is_open_relevant(clause)
        clauses.append(clause)
    return clauses
