"""What every command prints: the one error line, tables, short timestamps."""
from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from typing import IO, NoReturn

import click

EXIT_ERROR = 2


def fail(message: str) -> NoReturn:
    """One line on stderr naming what is wrong, then exit status 2."""
    click.echo(f"clausewatch: error: {message}", err=True)
    sys.exit(EXIT_ERROR)


def short(value: str | None) -> str:
    """An ISO timestamp cut to the minute (``2025-06-01 12:30``), ``-`` for none."""
    return (value or "-")[:16].replace("T", " ")


def table_lines(headers: Sequence[str], rows: Iterable[Sequence[object]], *, rule: bool = True) -> list[str]:
    """Rows aligned in columns under their headers (a dashed rule between them unless ``rule=False``)."""
    cells = [[str(c) for c in row] for row in rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    if rule:
        lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in cells]
    return lines


def print_table(headers: Sequence[str], rows: Iterable[Sequence[object]], *, rule: bool = True,
                out: IO[str] | None = None) -> None:
    for line in table_lines(headers, rows, rule=rule):
        if out is None:
            click.echo(line)
        else:
            out.write(line + "\n")
