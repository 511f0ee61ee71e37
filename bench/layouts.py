"""Layout invariance: every dev gold document re-rendered in other layouts, scored like the original.

    .venv/bin/python bench/layouts.py [--layout NAME ...] [--verbose] [--subprocess]

Each gold document is extracted as the pipeline extracts it, read into units (headings, labelled
items, paragraphs) by the segmenter's first pass, and written again in each layout below; the copy
is extracted and analysed like any file and scored with the shared scorer
(../shared/eval/score_tags.py, through scripts/score_dev.py). The table shows clause micro-F1,
document F1 and entity F1 per layout, with the difference from the original. ``--subprocess``
writes the copies and a gold file pointing at them into a temporary folder and runs the shared
scorer itself on them (slower, same figures). Corpus text only ever goes to temporary folders.

Layouts (generic: they only use the units, never a document's name or words):
  lines      one paragraph per line, no blank lines, no indentation (.txt)
  lines-md   the same as Markdown: "#" headings, Markdown reads a line per paragraph (.md)
  bold       bold clause heads "**1.1. Scope.** text", bold headings, no blank lines (.md)
  bold-txt   the same bold heads in a text file, where the asterisks stay in the text (.txt)
  tabs       tab-indented numbering "\\t2.1.\\tSubject to", titled numbers as headings "###\\t1.\\tDefinitions.",
             no blank lines (.txt)
  wrap72     hard-wrapped at 72 columns, hanging indents, blank lines between paragraphs (.txt)
  wrap72-dense  hard-wrapped at 72 columns, no blank line between the items of a list (.txt)
  html       <h1>-<h6>, <p> paragraphs, <ol>/<ul> <li> items, in a <main> element (.html)
  nonumbers  the numbers and letters of clauses removed (bullets kept), blank lines kept (.txt)
"""
from __future__ import annotations

import argparse
import html
import importlib.util
import re
import sys
import tempfile
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _score_dev():
    if "score_dev" not in sys.modules:
        spec = importlib.util.spec_from_file_location("score_dev", ROOT / "scripts" / "score_dev.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["score_dev"] = module
        spec.loader.exec_module(module)
    return sys.modules["score_dev"]


@dataclass
class Block:
    kind: str            # "heading" (Markdown heading), "struct" (an "Article 5" / "Section 2:" line), "item", "para"
    level: int           # heading level 1-6; nesting depth (0 = top) for items and paragraphs
    label: str | None    # the item's (or numbered heading's) label as printed
    words: str           # the text after the label, whitespace collapsed, Markdown marks dropped
    title: str | None = None  # a short title sentence opening an item ("Scope.")


def blocks_of(text: str) -> list[Block]:
    """The units of extracted text, with their nesting depth from the segmentation."""
    from clausewatch.nlp.segment import segment
    from clausewatch.nlp.segment_labels import parse_label
    from clausewatch.nlp.segment_lines import read_units
    from clausewatch.nlp.segment_text import clean, heading_like, is_title_case, title_prefix

    segments = segment(text)
    starts = {s.start: s for s in segments}
    ordered = sorted(segments, key=lambda s: s.start)
    out: list[Block] = []
    k = 0
    for unit in read_units(text):
        while k < len(ordered) and ordered[k].start < unit.start:
            k += 1
        seg = starts.get(unit.start)
        following = ordered[k] if k < len(ordered) else None
        words = clean(text[unit.text_start:unit.end])
        if unit.md_level:
            label = parse_label(words)
            if label is not None and not label.is_bullet:
                out.append(Block("heading", unit.md_level, label.printed, words[label.end:].strip()))
            elif words:
                out.append(Block("heading", unit.md_level, None, words))
            continue
        if unit.struct is not None:
            out.append(Block("struct", 0, None, clean(text[unit.start:unit.end])))
            continue
        if unit.label is not None:
            if seg is not None:
                depth = max(seg.depth - 1, 0)
            elif following is not None:
                depth = max(following.depth - (1 if following.label else 0) - 1, 0)
            else:
                depth = 0
            cut = title_prefix(words) if words else None
            title = words[:cut].strip() if cut is not None and words[cut:].strip() else None
            if title is None and words and len(words.split()) <= 6 and not set(words) & set("\"“”'‘’") and (
                    heading_like(words) or words.endswith(".") and is_title_case(words)):
                title = words  # a label with a short title line only: "1. Definitions."
            out.append(Block("item", depth, _rendered_label(unit.label.printed, seg), words, title))
            continue
        if words:
            if seg is None:  # the first paragraph under a titled label starts at the label
                seg = next((s for s in reversed(ordered[:k + 1]) if s.start <= unit.start < s.end), None)
            out.append(Block("para", seg.depth if seg is not None else 0, None, words))
    return out


def _rendered_label(printed: str, seg) -> str:
    """Markdown's auto-numbered "1." "1." "1." as the numbers it renders (the segment path's last part):
    a copy without indentation or in another format prints the numbers a reader sees."""
    if seg is None or not printed[:-1].isdigit() or not printed.endswith("."):
        return printed
    last = re.split(r" > |\.", seg.path.split(" #")[0])[-1]
    return f"{last}." if last.isdigit() else printed


# -- renderers: blocks -> (file suffix, text) -----------------------------------------------------

def _head(b: Block) -> str:
    return f"{b.label} {b.words}".strip() if b.label else b.words


def _item(b: Block) -> str:
    return f"{b.label} {b.words}".strip()


def render_lines(blocks: list[Block]) -> tuple[str, str]:
    lines = []
    for b in blocks:
        lines.append(_item(b) if b.kind == "item" else _head(b))
    return ".txt", "\n".join(lines) + "\n"


def render_lines_md(blocks: list[Block]) -> tuple[str, str]:
    lines = []
    for b in blocks:
        if b.kind == "heading":
            lines.append("#" * b.level + " " + _head(b))
        elif b.kind == "item":
            lines.append(_item(b))
        else:
            lines.append(b.words)
    return ".md", "\n".join(lines) + "\n"


def _bold_item(b: Block) -> str:
    if not _has_number(b.label):   # "- **Scope.** text": a bullet stays a bullet
        return f"{b.label} **{b.title}** {b.words[len(b.title):].strip()}".rstrip() if b.title else _item(b)
    if b.title:
        return f"**{b.label} {b.title}** {b.words[len(b.title):].strip()}".rstrip()
    if not b.words:
        return f"**{b.label}**"
    return f"**{b.label}** {b.words}".rstrip()


def render_bold(blocks: list[Block], suffix: str = ".md") -> tuple[str, str]:
    lines = []
    for b in blocks:
        if b.kind == "heading" or (b.kind == "struct" and len(b.words.split()) <= 10 and ". " not in b.words
                                   and not b.words.endswith((":", ";", "."))):
            lines.append(f"**{_head(b)}**")
        elif b.kind == "item":
            lines.append(_bold_item(b))
        else:
            lines.append(b.words)
    return suffix, "\n".join(lines) + "\n"


def render_tabs(blocks: list[Block]) -> tuple[str, str]:
    lines = []
    for b in blocks:
        if b.kind == "heading":
            head = f"{b.label}\t{b.words}" if b.label else b.words
            lines.append("#" * b.level + "\t" + head)
        elif b.kind == "item" and b.title and b.title == b.words and _has_number(b.label):
            lines.append("#" * min(b.level + 2, 6) + f"\t{b.label}\t{b.words}")   # "###\t1.\tDefinitions."
        elif b.kind == "item":
            lines.append("\t" * b.level + f"{b.label}\t{b.words}")
        elif b.kind == "para":
            lines.append("\t" * b.level + b.words)
        else:
            lines.append(b.words)
    return ".txt", "\n".join(lines) + "\n"


def _wrap(b: Block, width: int = 72) -> str:
    indent = "    " * b.level
    if b.kind == "item":
        first = indent + b.label + " "
        return textwrap.fill(b.words, width, initial_indent=first, subsequent_indent=" " * len(first),
                             break_on_hyphens=False, break_long_words=False)
    return textwrap.fill(_head(b), width, initial_indent=indent, subsequent_indent=indent,
                         break_on_hyphens=False, break_long_words=False)


def render_wrap72(blocks: list[Block]) -> tuple[str, str]:
    return ".txt", "\n\n".join(_wrap(b) for b in blocks) + "\n"


def render_wrap72_dense(blocks: list[Block]) -> tuple[str, str]:
    parts: list[str] = []
    for i, b in enumerate(blocks):
        joined = i > 0 and b.kind == "item" and blocks[i - 1].kind == "item"
        parts.append(("\n" if joined else "\n\n") + _wrap(b) if parts else _wrap(b))
    return ".txt", "".join(parts) + "\n"


def render_nonumbers(blocks: list[Block]) -> tuple[str, str]:
    out = []
    for b in blocks:
        if b.kind == "heading":
            out.append("#" * b.level + " " + b.words)
        elif b.kind == "item" and b.label in ("-", "*", "+", "•"):
            out.append(_item(b))     # bullets are not numbering
        else:
            out.append(b.words)
    return ".txt", "\n\n".join(w for w in out if w.strip("# ")) + "\n"


def _has_number(label: str) -> bool:
    return any(c.isalnum() for c in label)


def _is_list_label(label: str) -> bool:
    return label in ("-", "*", "+", "•") or (label.endswith(".") and label[:-1].isdigit())


def render_html(blocks: list[Block]) -> tuple[str, str]:
    out = ["<!DOCTYPE html>", "<html><head><meta charset=\"utf-8\"><title>document</title></head><body><main>"]
    lists: list[tuple[int, str]] = []   # open lists (depth, "ol" | "ul"), each with an open <li>
    esc = html.escape

    def close_deeper_than(depth: int) -> None:
        while lists and lists[-1][0] > depth:
            out.append(f"</li></{lists.pop()[1]}>")

    for b in blocks:
        if b.kind == "item" and _is_list_label(b.label):
            tag = "ol" if b.label[0].isdigit() else "ul"
            close_deeper_than(b.level)
            if lists and lists[-1][0] == b.level:
                if lists[-1][1] == tag:
                    out.append("</li>")
                else:
                    out.append(f"</li></{lists.pop()[1]}>")
            if not lists or lists[-1][0] < b.level:
                out.append(f"<{tag}>")
                lists.append((b.level, tag))
            value = f' value="{b.label[:-1]}"' if tag == "ol" else ""
            out.append(f"<li{value}>{esc(b.words)}")
            continue
        close_deeper_than(-1)
        if b.kind == "heading":
            out.append(f"<h{b.level}>{esc(_head(b))}</h{b.level}>")
        elif b.kind == "item":
            out.append(f"<p>{esc(_item(b))}</p>")
        else:
            out.append(f"<p>{esc(b.words)}</p>")
    close_deeper_than(-1)
    out.append("</main></body></html>")
    return ".html", "\n".join(out) + "\n"


LAYOUTS: dict[str, Callable[[list[Block]], tuple[str, str]]] = {
    "lines": render_lines,
    "lines-md": render_lines_md,
    "bold": render_bold,
    "bold-txt": lambda blocks: render_bold(blocks, ".txt"),
    "tabs": render_tabs,
    "wrap72": render_wrap72,
    "wrap72-dense": render_wrap72_dense,
    "html": render_html,
    "nonumbers": render_nonumbers,
}
FORMATS = {".txt": "text", ".md": "markdown", ".html": "html"}


def render(text: str, layout: str) -> tuple[str, str]:
    """(file suffix, text) of extracted ``text`` re-rendered in ``layout``."""
    return LAYOUTS[layout](blocks_of(text))


def analyse_rendered(suffix: str, body: str) -> list[dict]:
    from clausewatch.crawlers.extract import extract
    from clausewatch.nlp import analyse

    return [c.to_json() for c in analyse(extract(body.encode("utf-8"), FORMATS[suffix]).text)]


def extracted_text(gold_file: str) -> str:
    from clausewatch.files import extract_file

    return extract_file(_score_dev().corpus_path(gold_file)).text


def score_layouts(layouts: list[str], gold: dict | None = None) -> dict[str, object]:
    """layout name -> Score ("original" first), scored in this process."""
    sd = _score_dev()
    gold = gold or sd.load_gold()
    texts: dict[str, str] = {}

    def text_of(gold_file: str) -> str:
        if gold_file not in texts:
            texts[gold_file] = extracted_text(gold_file)
        return texts[gold_file]

    results = {"original": sd.score_gold(gold, lambda f: sd.analyse_file(sd.corpus_path(f)))}
    for layout in layouts:
        results[layout] = sd.score_gold(gold, lambda f, layout=layout: analyse_rendered(*render(text_of(f), layout)))
    return results


def score_layouts_subprocess(layouts: list[str]) -> dict[str, tuple[float, ...]]:
    """The same with the shared scorer as a subprocess on temporary copies and a temporary gold file."""
    sd = _score_dev()
    gold = sd.load_gold()
    out = {"original": sd.shared_scorer_summary(sd.shared_dir() / "gold" / "dev.yaml")}
    with tempfile.TemporaryDirectory(prefix="clausewatch-layouts-") as tmp:
        for layout in layouts:
            folder = Path(tmp) / layout
            folder.mkdir()
            written: dict[str, str] = {}
            docs = []
            for doc in gold["documents"]:
                if doc["file"] not in written:
                    suffix, body = render(extracted_text(doc["file"]), layout)
                    path = folder / f"doc{len(written)}{suffix}"
                    path.write_text(body, encoding="utf-8")
                    written[doc["file"]] = str(path)
                docs.append({**doc, "file": written[doc["file"]]})
            gold_path = folder / "gold.yaml"
            gold_path.write_text(yaml.safe_dump({**gold, "documents": docs}, allow_unicode=True), encoding="utf-8")
            out[layout] = sd.shared_scorer_summary(gold_path)
    return out


def table(results: dict[str, object]) -> str:
    base = results["original"].figures()
    rows = [f"| {'layout':13} | {'clause F1':>9} | {'Δ':>6} | {'doc F1':>6} | {'Δ':>6} | {'entity F1':>9} | {'Δ':>6} "
            f"| {'unplaced':>8} |",
            "|" + "|".join("-" * w for w in (15, 11, 8, 8, 8, 11, 8, 10)) + "|"]
    for name, result in results.items():
        x = result.figures()
        rows.append(f"| {name:13} | {x['clause_f1']:9.3f} | {x['clause_f1'] - base['clause_f1']:+6.3f} "
                    f"| {x['doc_f1']:6.3f} | {x['doc_f1'] - base['doc_f1']:+6.3f} "
                    f"| {x['entity_f1']:9.3f} | {x['entity_f1'] - base['entity_f1']:+6.3f} "
                    f"| {x['unplaced']:>3}/{x['quotes']:<4} |")
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layout", action="append", choices=list(LAYOUTS), help="only these layouts")
    parser.add_argument("--verbose", action="store_true", help="print the misses a layout adds to the original's")
    parser.add_argument("--subprocess", action="store_true", help="score with the shared scorer as a subprocess")
    parser.add_argument("--show", metavar="GOLD_FILE", help="print one gold file rendered in the layouts, and stop")
    args = parser.parse_args()
    layouts = args.layout or list(LAYOUTS)
    if args.show:
        for layout in layouts:
            print(f"===== {layout}\n{render(extracted_text(args.show), layout)[1]}")
        return
    if args.subprocess:
        for name, figures in score_layouts_subprocess(layouts).items():
            print(f"{name:13} clause {figures[0]:.3f} doc {figures[1]:.3f} entity {figures[2]:.3f} "
                  f"unplaced {int(figures[3])}/{int(figures[4])}")
        return
    results = score_layouts(layouts)
    print(table(results))
    if args.verbose:
        base = set(results["original"].misses)
        for name in layouts:
            extra = [m for m in results[name].misses if m not in base]
            if extra:
                print(f"\n== {name}: {len(extra)} new misses")
                print("\n".join(extra))


if __name__ == "__main__":
    main()
