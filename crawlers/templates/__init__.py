"""Built-in template licences: the standard texts (with their placeholders) that many projects copy.

A source declared ``template: mit`` is a copy of a template, not a release in a sequence: its first
version is compared with the template text (scope ``template``), reporting only its deviations. A
``template`` may also name a declared source (``template: apache-2.0``), whose latest version is the
template text. These files are data read by the app, never fetched.
"""
from __future__ import annotations

from pathlib import Path

_FOLDER = Path(__file__).parent

BUILTIN_TEMPLATES: dict[str, str] = {
    "mit": "MIT", "bsd-2-clause": "BSD-2-Clause", "bsd-3-clause": "BSD-3-Clause", "isc": "ISC",
}   # name -> SPDX identifier


def template_text(name: str) -> str | None:
    """The text of a built-in template, or None when there is no built-in of that name."""
    if name not in BUILTIN_TEMPLATES:
        return None
    return (_FOLDER / f"{name}.txt").read_text(encoding="utf-8")
