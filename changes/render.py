"""Changes for people and for scripts: terminal table, JSON lines, Markdown and HTML.

Every renderer takes changes as dicts with the keys of ``changes.Change.to_json()`` (stored
``changes`` rows decoded by ``db.comparisons.changes_of`` have the same keys). :func:`html_changes` is the
fragment the digest emails embed: it carries inline ``style`` attributes, so mail clients that drop
``<style>`` still show insertions and deletions.
"""
from __future__ import annotations

import html
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from clausewatch.changes.words import diff_ops, elide

FORMATS = ("table", "jsonl", "md", "html")
JSON_KEYS = ("kind", "old_path", "new_path", "old_text", "new_text", "substantive", "cosmetic_reasons",
             "tags_added", "tags_removed", "entity_changes")
MAX_TEXT = 600

_RED, _GREEN, _BOLD, _DIM, _RESET = "\x1b[31m", "\x1b[32m", "\x1b[1m", "\x1b[2m", "\x1b[0m"


def as_dicts(changes: Iterable[Any]) -> list[dict[str, Any]]:
    return [c if isinstance(c, dict) else c.to_json() for c in changes]


def counts(changes: Sequence[dict[str, Any]]) -> dict[str, Any]:
    substantive = [c for c in changes if c["substantive"]]
    return {"changes": len(changes), "substantive": len(substantive), "cosmetic": len(changes) - len(substantive),
            "by_kind": dict(Counter(c["kind"] for c in substantive))}


def summary_line(changes: Sequence[dict[str, Any]]) -> str:
    n = counts(changes)
    kinds = ", ".join(f"{v} {k}" for k, v in sorted(n["by_kind"].items()))
    text = f"{n['substantive']} substantive"
    if kinds:
        text += f" ({kinds})"
    return text + f", {n['cosmetic']} cosmetic"


def render(changes: Iterable[Any], fmt: str, *, old_label: str = "old", new_label: str = "new",
           color: bool = False, totals: Iterable[Any] | None = None) -> str:
    """``changes`` in format ``fmt``; the summary line counts ``totals`` (all changes) when given."""
    items = as_dicts(changes)
    every = as_dicts(totals) if totals is not None else items
    if fmt == "table":
        return render_table(items, old_label=old_label, new_label=new_label, color=color, totals=every)
    if fmt == "jsonl":
        return render_jsonl(items)
    if fmt == "md":
        return render_md(items, old_label=old_label, new_label=new_label, totals=every)
    if fmt == "html":
        return render_html(items, old_label=old_label, new_label=new_label, totals=every)
    raise ValueError(f"unknown format {fmt!r} (one of {', '.join(FORMATS)})")


# ------------------------------------------------------------------ shared pieces

def path_of(change: dict[str, Any]) -> str:
    old, new = change.get("old_path"), change.get("new_path")
    if old and new and old != new:
        return f"{old} -> {new}"
    return new or old or "?"


def entity_text(e: dict[str, Any]) -> str:
    """``USER_THRESHOLD 700000000 -> 500000000``, ``DATE +2025-03-24`` (added), ``MONEY -1000 USD`` (removed)."""
    def fmt(v: Any) -> str:
        return json.dumps(v, ensure_ascii=False) if isinstance(v, dict | list) else str(v)
    old, new = e.get("old"), e.get("new")
    if old is None:
        return f"{e['type']} +{fmt(new)}"
    if new is None:
        return f"{e['type']} -{fmt(old)}"
    return f"{e['type']} {fmt(old)} -> {fmt(new)}"


def _clip(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[:limit].rstrip() + " …"


# ------------------------------------------------------------------ table (terminal)

def render_table(changes: Sequence[dict[str, Any]], *, old_label: str = "old", new_label: str = "new",
                 color: bool = False, totals: Sequence[dict[str, Any]] | None = None) -> str:
    def paint(code: str, text: str) -> str:
        return f"{code}{text}{_RESET}" if color else text

    lines = [paint(_BOLD, f"--- {old_label}"), paint(_BOLD, f"+++ {new_label}")]
    for c in changes:
        path = path_of(c)
        if not c["substantive"]:
            reasons = ", ".join(c.get("cosmetic_reasons") or []) or "cosmetic"
            lines.append(paint(_DIM, f"  cosmetic     {c['kind']:<8}  {path}  ({reasons})"))
            continue
        lines.append(paint(_BOLD, f"* SUBSTANTIVE {c['kind']:<8}  {path}"))
        if c["kind"] in ("added", "removed"):
            text = _clip(c.get("new_text") or c.get("old_text") or "")
            lines.append("    " + (paint(_GREEN, "+ " + text) if c["kind"] == "added" else paint(_RED, "- " + text)))
        else:
            parts = []
            for op, text in elide(diff_ops(c)):
                if op == "equal":
                    parts.append(text)
                elif op == "delete":
                    parts.append(paint(_RED, f"[-{text}-]"))
                else:
                    parts.append(paint(_GREEN, f"{{+{text}+}}"))
            lines.append("    " + " ".join(parts))
        if c.get("tags_added") or c.get("tags_removed"):
            tags = [f"+{t}" for t in c.get("tags_added") or []] + [f"-{t}" for t in c.get("tags_removed") or []]
            lines.append("    tags: " + " ".join(tags))
        if c.get("entity_changes"):
            lines.append("    entities: " + "; ".join(entity_text(e) for e in c["entity_changes"]))
        if c.get("cosmetic_reasons"):
            lines.append(paint(_DIM, "    also cosmetic: " + ", ".join(c["cosmetic_reasons"])))
    lines.append(summary_line(changes if totals is None else totals))
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------ JSON lines

def render_jsonl(changes: Sequence[dict[str, Any]]) -> str:
    out = []
    for c in changes:
        obj = {k: c.get(k) for k in JSON_KEYS}
        obj["substantive"] = bool(obj["substantive"])
        for k in ("cosmetic_reasons", "tags_added", "tags_removed", "entity_changes"):
            obj[k] = list(obj[k] or [])
        if c["kind"] == "added":
            obj["old_text"] = None
        if c["kind"] == "removed":
            obj["new_text"] = None
        obj["word_diff"] = [list(op) for op in diff_ops(c)]
        out.append(json.dumps(obj, ensure_ascii=False))
    return "".join(line + "\n" for line in out)


# ------------------------------------------------------------------ Markdown

_MD_SPECIAL = str.maketrans({ch: "\\" + ch for ch in "\\`*_~[]<|#"})


def _md(text: str) -> str:
    return " ".join(text.split()).translate(_MD_SPECIAL)


def render_md(changes: Sequence[dict[str, Any]], *, old_label: str = "old", new_label: str = "new",
              totals: Sequence[dict[str, Any]] | None = None) -> str:
    summary = summary_line(changes if totals is None else totals)
    lines = [f"## Changes from `{old_label}` to `{new_label}`", "", f"**{summary}**", ""]
    for c in (c for c in changes if c["substantive"]):
        lines.append(f"### {_md(path_of(c))} — {c['kind']}")
        lines.append("")
        if c["kind"] == "added":
            lines.append(f"> **{_md(_clip(c.get('new_text') or ''))}**")
        elif c["kind"] == "removed":
            lines.append(f"> ~~{_md(_clip(c.get('old_text') or ''))}~~")
        else:
            parts = []
            for op, text in elide(diff_ops(c)):
                parts.append(_md(text) if op == "equal" else f"~~{_md(text)}~~" if op == "delete"
                             else f"**{_md(text)}**")
            lines.append("> " + " ".join(parts))
        lines.append("")
        facts = []
        if c.get("tags_added"):
            facts.append("tags added: " + ", ".join(f"`{t}`" for t in c["tags_added"]))
        if c.get("tags_removed"):
            facts.append("tags removed: " + ", ".join(f"`{t}`" for t in c["tags_removed"]))
        if c.get("entity_changes"):
            facts.append("entities: " + "; ".join(_md(entity_text(e)) for e in c["entity_changes"]))
        if facts:
            lines += [f"- {f}" for f in facts] + [""]
    cosmetic = [c for c in changes if not c["substantive"]]
    if cosmetic:
        lines += ["<details><summary>Cosmetic changes</summary>", ""]
        lines += [f"- {_md(path_of(c))} — {c['kind']}: {', '.join(c.get('cosmetic_reasons') or [])}" for c in cosmetic]
        lines += ["", "</details>", ""]
    return "\n".join(lines)


# ------------------------------------------------------------------ HTML

DEL_STYLE = "background:#ffebe9;color:#82071e;text-decoration:line-through"
INS_STYLE = "background:#dafbe1;color:#116329;text-decoration:none"
BADGE_STYLE = {"substantive": "background:#cf222e;color:#fff", "cosmetic": "background:#eaeef2;color:#57606a"}


def html_changes(changes: Sequence[dict[str, Any]], *, cosmetic: bool = True) -> str:
    """The changes as an HTML fragment with inline styles (also used in digest emails)."""
    esc = html.escape
    out = []
    for c in changes:
        if not c["substantive"]:
            continue
        out.append('<section class="change substantive" style="margin:0 0 1.2em 0;padding:.6em .8em;'
                   'border-left:4px solid #cf222e;background:#fff">')
        out.append(f'<h3 style="margin:0 0 .4em 0;font-size:1em;font-family:monospace">{esc(path_of(c))} '
                   f'<span style="{BADGE_STYLE["substantive"]};padding:0 .4em;border-radius:3px;'
                   f'font-family:sans-serif;font-size:.8em">{esc(c["kind"])}</span></h3>')
        if c["kind"] == "added":
            body = f'<ins style="{INS_STYLE}">{esc(c.get("new_text") or "")}</ins>'
        elif c["kind"] == "removed":
            body = f'<del style="{DEL_STYLE}">{esc(c.get("old_text") or "")}</del>'
        else:
            parts = []
            for op, text in elide(diff_ops(c), context=25):
                if op == "equal":
                    parts.append(esc(text))
                elif op == "delete":
                    parts.append(f'<del style="{DEL_STYLE}">{esc(text)}</del>')
                else:
                    parts.append(f'<ins style="{INS_STYLE}">{esc(text)}</ins>')
            body = " ".join(parts)
        out.append(f'<p class="diff" style="margin:0;line-height:1.5">{body}</p>')
        facts = []
        if c.get("tags_added"):
            facts.append("tags added: " + ", ".join(esc(t) for t in c["tags_added"]))
        if c.get("tags_removed"):
            facts.append("tags removed: " + ", ".join(esc(t) for t in c["tags_removed"]))
        if c.get("entity_changes"):
            facts.append("entities: " + "; ".join(esc(entity_text(e)) for e in c["entity_changes"]))
        if facts:
            out.append('<ul style="margin:.4em 0 0 0;color:#57606a;font-size:.9em">'
                       + "".join(f"<li>{f}</li>" for f in facts) + "</ul>")
        out.append("</section>")
    minor = [c for c in changes if not c["substantive"]]
    if cosmetic and minor:
        out.append('<details class="cosmetic"><summary style="cursor:pointer;color:#57606a">'
                   f'{len(minor)} cosmetic changes</summary><ul style="color:#57606a;font-size:.9em">')
        out += [f'<li><code>{esc(path_of(c))}</code> {esc(c["kind"])}: '
                f'{esc(", ".join(c.get("cosmetic_reasons") or []))}</li>' for c in minor]
        out.append("</ul></details>")
    return "\n".join(out)


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 60em; margin: 2em auto;
       padding: 0 1em; color: #1f2328; background: #f6f8fa; }}
header {{ margin-bottom: 1.5em; }}
h1 {{ font-size: 1.3em; margin: 0 0 .3em 0; }}
.labels {{ font-family: monospace; color: #57606a; }}
.summary {{ font-weight: 600; }}
ins, del {{ padding: 0 .1em; border-radius: 2px; }}
</style>
</head>
<body>
<header>
<h1>{title}</h1>
<div class="labels">--- {old}<br>+++ {new}</div>
<p class="summary">{summary}</p>
</header>
<main>
{body}
</main>
</body>
</html>
"""


def render_html(changes: Sequence[dict[str, Any]], *, old_label: str = "old", new_label: str = "new",
                title: str = "clausewatch diff", totals: Sequence[dict[str, Any]] | None = None) -> str:
    """One self-contained page: inline CSS, no scripts, no network."""
    esc = html.escape
    body = html_changes(changes) or "<p>No changes.</p>"
    return _PAGE.format(title=esc(title), old=esc(old_label), new=esc(new_label),
                        summary=esc(summary_line(changes if totals is None else totals)), body=body)
