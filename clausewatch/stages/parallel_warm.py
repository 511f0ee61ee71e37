"""Imported once by the pool's forkserver before it forks any process: loads the NLP and change stages
and builds spaCy's pipeline, so every process forked from it starts warm (and the parent, which only
writes, never pays for them)."""
from __future__ import annotations

import clausewatch.changes  # noqa: F401 - loaded here so that every process has it
import clausewatch.stages.parallel_tasks  # noqa: F401
import clausewatch.stages.process  # noqa: F401
from clausewatch.nlp.tagger import get_nlp

get_nlp()
