"""Changes in digests: a plain-text part (word diff ``[-old-]{+new+}``) and an HTML part.

The diff itself comes from :mod:`clausewatch.changes.render` (the renderer of ``clausewatch diff``, whose
``html_changes`` carries inline styles for mail clients); this module adds what a mail needs around it:
which document, through which incorporated document, since when, and the link to the change.
"""
from __future__ import annotations

import html
import re
from typing import Any

from clausewatch.changes import render
from clausewatch.digest import rating

MAX_CLAUSE_CHARS = 4000


def change_title(change: dict[str, Any]) -> str:
    """``Gemma Terms of Use › 3.2 — modified``: the document and clause a change is about."""
    if rating.is_rating(change):
        return rating.rating_title(change)
    title = " ".join(str(change.get("source_title") or change.get("source") or "?").split())
    path = change.get("new_path") or change.get("old_path") or "(whole document)"
    if change.get("kind") == "moved" and change.get("old_path") and change.get("old_path") != path:
        path = f"{change['old_path']} → {path}"
    return f"{title} › {' '.join(str(path).split())} — {change.get('kind', 'changed')}"


def _context(change: dict[str, Any]) -> list[str]:
    facts = [f"source: {change.get('source')}"]
    if change.get("via_source"):
        facts.append(f"through the incorporated {change.get('via_title') or change['via_source']} "
                     f"({change['via_source']})")
    if change.get("effective_date"):
        facts.append(f"effective {change['effective_date']}")
    if change.get("reverted_to_date"):
        facts.append(f"reverted to the version of {str(change['reverted_to_date'])[:10]}")
    return facts


def _clip(text: str | None) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= MAX_CLAUSE_CHARS else text[:MAX_CLAUSE_CHARS] + " …"


def _diff_line(change: dict[str, Any]) -> str:
    if change.get("kind") == "added" or not change.get("old_text"):
        return "{+" + _clip(change.get("new_text")) + "+}"
    if change.get("kind") == "removed" or not change.get("new_text"):
        return "[-" + _clip(change.get("old_text")) + "-]"
    marks = {"equal": "{}", "delete": "[-{}-]", "insert": "{{+{}+}}"}
    return _clip(" ".join(marks[op].format(text) for op, text in render.elide(render.diff_ops(change))))


def change_text(change: dict[str, Any], link: str | None = None) -> str:
    """One change as plain text: title, context, the word diff, tag and entity deltas, the link."""
    if rating.is_rating(change):
        return rating.rating_text(change, link)
    lines = [change_title(change), "  " + " · ".join(_context(change)), "  " + _diff_line(change)]
    if change.get("tags_added") or change.get("tags_removed"):
        lines.append("  tags: " + " ".join([f"+{t}" for t in change.get("tags_added") or []]
                                           + [f"-{t}" for t in change.get("tags_removed") or []]))
    entities = [e for e in change.get("entity_changes") or [] if isinstance(e, dict) and "type" in e]
    if entities:
        lines.append("  values: " + "; ".join(render.entity_text(e) for e in entities))
    if link:
        lines.append(f"  {link}")
    return "\n".join(lines)


def change_html(change: dict[str, Any], link: str | None = None) -> str:
    """One change as an HTML fragment: the document (linked to the change) above ``render.html_changes``."""
    if rating.is_rating(change):
        return rating.rating_html(change, link)
    esc = html.escape
    title = esc(" ".join(str(change.get("source_title") or change.get("source") or "?").split()))
    if link:
        title = f'<a href="{esc(link, quote=True)}">{title}</a>'
    body = render.html_changes([{**change, "substantive": True,
                                 "entity_changes": [e for e in change.get("entity_changes") or []
                                                    if isinstance(e, dict) and "type" in e]}], cosmetic=False)
    return (f'<div style="margin:0 0 1.4em 0">\n<p style="margin:0 0 .3em 0"><strong>{title}</strong> '
            f'<span style="color:#57606a;font-size:.9em">{esc(" · ".join(_context(change)))}</span></p>\n'
            f"{body}\n</div>")


def digest_text(fragments: list[str], *, intro: str, footer: list[str]) -> str:
    return "\n\n".join([intro, *fragments, "-- ", *footer]) + "\n"


def digest_html(fragments: list[str], *, intro: str, footer: list[str]) -> str:
    esc = html.escape
    foot = "<br>\n".join(_linkify(line) for line in footer)
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>clausewatch digest</title></head>\n"
            '<body style="font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:46em;'
            'color:#24292e">\n'
            f"<p>{esc(intro)}</p>\n" + "\n".join(fragments) +
            f'\n<hr>\n<p style="color:#586069;font-size:.85em">{foot}</p>\n</body></html>\n')


def _linkify(line: str) -> str:
    out, last = [], 0
    for m in re.finditer(r"https?://\S+", line):
        url = m.group(0)
        out.append(html.escape(line[last:m.start()]))
        out.append(f'<a href="{html.escape(url, quote=True)}">{html.escape(url)}</a>')
        last = m.end()
    out.append(html.escape(line[last:]))
    return "".join(out)
