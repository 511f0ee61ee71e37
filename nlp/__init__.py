"""clausewatch NLP stage: segmentation, tagging, entities and clause alignment. Pure functions only."""
from clausewatch.nlp.model import Clause, Entity, Segment, TagHit
from clausewatch.nlp.version import NLP_VERSION


def analyse(text: str) -> list[Clause]:
    from clausewatch.nlp.pipeline import analyse as _analyse

    return _analyse(text)


__all__ = ["Clause", "Entity", "Segment", "TagHit", "NLP_VERSION", "analyse"]
