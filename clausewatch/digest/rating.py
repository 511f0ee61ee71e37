"""Rating changes in digests and feeds: a verdict of the openness rating changed between two ratings of a
licence (``kind = 'rating'`` items of :func:`clausewatch.db.openness.rating_digest_items`)."""
from __future__ import annotations

import html
from typing import Any

BASIS = {"version": "the previous version", "release": "the previous release",
         "incorporated": "the previous version of an incorporated policy"}


def is_rating(change: dict[str, Any]) -> bool:
    return change.get("kind") == "rating"


def rating_title(change: dict[str, Any]) -> str:
    """``Llama 3.1 Community License Agreement › openness: No restriction on outputs — fail → conditional``."""
    title = " ".join(str(change.get("source_title") or change.get("source") or "?").split())
    if change.get("criterion") == "class":
        return (f"{title} › openness: class — {change.get('old_detail') or change.get('old_verdict')} → "
                f"{change.get('new_detail') or change.get('new_verdict')}")
    what = change.get("criterion_label") or change.get("criterion")
    return f"{title} › openness: {what} — {change.get('old_verdict')} → {change.get('new_verdict')}"


def _context(change: dict[str, Any]) -> list[str]:
    facts = [f"source: {change.get('source')}"]
    basis = str(change.get("scope") or "").removeprefix("rating:")
    against = BASIS.get(basis, "the previous rating")
    if basis == "release" and change.get("old_source"):
        against += f" ({change['old_source']} v{change.get('old_version_seq')})"
    if change.get("via_source"):
        against += f" ({change.get('via_title') or change['via_source']} changed)"
    facts.append(f"rating changed since {against}")
    if change.get("effective_date"):
        facts.append(f"effective {change['effective_date']}")
    return facts


def _lines(change: dict[str, Any]) -> list[str]:
    lines = []
    if change.get("criterion") != "class":
        verdicts = f"{change.get('old_verdict')} → {change.get('new_verdict')}"
        lines.append(verdicts + (f" ({change['new_detail']})" if change.get("new_detail") else ""))
    if change.get("criterion") != "class" and change.get("old_class") != change.get("new_class"):
        lines.append(f"class: {change.get('old_class')} → {change.get('new_class')}")
    if change.get("new_reason"):
        lines.append(f"now: {change['new_reason']}")
    if change.get("old_reason"):
        lines.append(f"before: {change['old_reason']}")
    return lines


def rating_text(change: dict[str, Any], link: str | None = None) -> str:
    lines = [rating_title(change), "  " + " · ".join(_context(change)), *("  " + line for line in _lines(change))]
    if link:
        lines.append(f"  {link}")
    return "\n".join(lines)


def rating_html(change: dict[str, Any], link: str | None = None) -> str:
    esc = html.escape
    title = esc(rating_title(change))
    if link:
        title = f'<a href="{esc(link, quote=True)}">{title}</a>'
    body = "".join(f'<p style="margin:.2em 0">{esc(line)}</p>' for line in _lines(change))
    return (f'<div style="margin:0 0 1.4em 0">\n<p style="margin:0 0 .3em 0"><strong>{title}</strong> '
            f'<span style="color:#57606a;font-size:.9em">{esc(" · ".join(_context(change)))}</span></p>\n'
            f'<div style="border-left:4px solid #dbab09;padding:.2em .8em">{body}</div>\n</div>')
