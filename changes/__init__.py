"""Clause-level change detection: two lists of analysed clauses in, the changes between them out. Pure.

One entry point, :func:`compare`, serves every place that finds changes: the pipeline's ``detect``
step (which stores them, word diff included), ``clausewatch diff``, and through the stored rows the
digests and the site, which never compute a change themselves.

Modules: ``align`` (the comparison and the judgement of each group of clauses), ``passes`` (how
clauses are paired: anchors, moves, splits and merges), ``cosmetic`` (normalisation ladder: what a
difference is when it is only spelling, dates, URLs, markup...) with ``stamps`` (dates, relative dates),
``notices`` (copyright lines) and ``sentinels``, ``edges`` (furniture, list items and table rows, headings),
``judge`` (the verdict on the words left), ``words`` (word diffs), ``model`` (:class:`Change`), ``render`` (terminal, JSON lines,
Markdown and HTML for people and scripts).
"""
from clausewatch.changes.align import ALIGN_VERSION, compare
from clausewatch.changes.model import Change
from clausewatch.changes.words import word_diff

__all__ = ["ALIGN_VERSION", "Change", "compare", "word_diff"]
