"""Imported once by the workers' forkserver before it forks any worker: loads the NLP and change stages
and builds spaCy's pipeline, so every worker forked from it starts warm (and the parent, which only
writes, never pays for them)."""
from __future__ import annotations

import clausewatch.changes  # noqa: F401 - loaded here so that every worker has it
import clausewatch.stages.process  # noqa: F401
import clausewatch.stages.worker_tasks  # noqa: F401
from clausewatch.nlp.tagger import get_nlp

get_nlp()
