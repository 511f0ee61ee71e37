"""What the pool processes run (:mod:`clausewatch.stages.parallel`). Pure: text and clauses in, rows and
changes out; no database. Light to import (the parent process pickles references to these functions
without loading spaCy); :mod:`clausewatch.stages.parallel_warm` loads the stages in the forkserver."""
from __future__ import annotations

from typing import Any


def ready() -> bool:
    return True


def analysed(text: str) -> list:
    """The analysis of a text (``clausewatch.nlp.analyse``): its clauses."""
    from clausewatch.nlp import analyse

    return analyse(text)


def analysed_rows(text: str) -> list[dict[str, Any]]:
    """The clause rows of a version text (``clausewatch.stages.process.clause_rows`` of its analysis)."""
    from clausewatch.nlp import analyse
    from clausewatch.stages.process import clause_rows

    return clause_rows(analyse(text))


def compared(old_clauses: list, new_clauses: list, old_text: str, new_text: str,
             template_copy: bool = False) -> list[dict[str, Any]]:
    """The changes between two analysed versions, as stored (``Change.to_json()``)."""
    from clausewatch.changes import compare

    return [c.to_json() for c in compare(old_clauses, new_clauses, old_text=old_text, new_text=new_text,
                                         template_copy=template_copy)]
