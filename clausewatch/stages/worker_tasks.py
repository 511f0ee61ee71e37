"""What the worker processes run (:mod:`clausewatch.stages.workers`). Pure: text and clauses in, rows and
changes out; no database. Importing this module builds the tagger, so a forked worker starts warm."""
from __future__ import annotations

from typing import Any

from clausewatch.changes import compare
from clausewatch.nlp import analyse
from clausewatch.nlp.tagger import get_nlp

get_nlp()   # the forkserver builds spaCy's pipeline once; every worker forked from it has it


def ready() -> bool:
    return True


def analysed_rows(text: str) -> list[dict[str, Any]]:
    """The clause rows of a version text (``clausewatch.stages.process.clause_rows`` of its analysis)."""
    from clausewatch.stages.process import clause_rows

    return clause_rows(analyse(text))


def compared(old_clauses: list, new_clauses: list, old_text: str, new_text: str,
             template_copy: bool = False) -> list[dict[str, Any]]:
    """The changes between two analysed versions, as stored (``Change.to_json()``)."""
    return [c.to_json() for c in compare(old_clauses, new_clauses, old_text=old_text, new_text=new_text,
                                         template_copy=template_copy)]
