"""text -> clauses: segmentation, then tags and entities. Pure: no I/O."""
from __future__ import annotations

from clausewatch.nlp.entities import find_entities
from clausewatch.nlp.model import Clause
from clausewatch.nlp.segment import segment
from clausewatch.nlp.tagger import is_open_relevant, tag_segments


def analyse(text: str) -> list[Clause]:
    """Split ``text`` (normalised structured text) into clauses with their tags and entities."""
    segments = segment(text)
    tag_lists = tag_segments(segments)
    clauses = []
    for seg, tags in zip(segments, tag_lists, strict=True):
        clause = Clause(seg, tags, find_entities(seg, segments))
        clause.open_relevant = is_open_relevant(clause)
        clauses.append(clause)
    return clauses

