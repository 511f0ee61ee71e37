"""Score the tagger on the dev gold in this process: the figures of ../shared/eval/score_tags.py, faster.

    .venv/bin/python scripts/score_dev.py [--gold FILE] [--verbose] [--check]

The shared scorer runs ``clausewatch tag`` once per document (a new process each time, about a second
of start-up). This script reads the same gold file, extracts and analyses each document in-process
and scores the clauses with the shared scorer's own functions (``norm``, ``tag_ids``, ``same_value``,
``prf``), in the same way as its ``main()``. ``--check`` also runs the shared scorer as a subprocess
and fails when the two disagree. The shared folder is $CLAUSEWATCH_SHARED, else ``../shared`` beside
the repository. The dev gold is for evaluation: no test asserts a figure of it.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import re
import subprocess
import sys
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def shared_dir() -> Path:
    return Path(os.environ.get("CLAUSEWATCH_SHARED", ROOT.parent / "shared"))


def load_scorer():
    """The shared scorer module (../shared/eval/score_tags.py), imported from its file."""
    path = shared_dir() / "eval" / "score_tags.py"
    if "score_tags" in sys.modules:
        return sys.modules["score_tags"]
    spec = importlib.util.spec_from_file_location("score_tags", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    sys.modules["score_tags"] = module
    return module


def load_gold(path: Path | None = None) -> dict:
    path = path or shared_dir() / "gold" / "dev.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def corpus_path(gold_file: str) -> Path:
    """'shared:llama-license/3.1.txt' -> the corpus file."""
    _prefix, _, rel = gold_file.rpartition(":")
    return shared_dir() / "corpus" / rel


def analyse_file(path: Path) -> list[dict]:
    """What ``clausewatch tag --format jsonl FILE`` prints, as a list of dicts."""
    from clausewatch.files import extract_file
    from clausewatch.nlp import analyse

    return [c.to_json() for c in analyse(extract_file(path).text)]


@dataclass
class Score:
    counts: dict = field(default_factory=lambda: defaultdict(Counter))
    doc: Counter = field(default_factory=Counter)
    ent: Counter = field(default_factory=Counter)
    unplaced: int = 0
    quotes: int = 0
    misses: list[str] = field(default_factory=list)

    def figures(self) -> dict[str, float]:
        prf = load_scorer().prf
        tp = sum(c["tp"] for c in self.counts.values())
        fp = sum(c["fp"] for c in self.counts.values())
        fn = sum(c["fn"] for c in self.counts.values())
        p, r, f = prf(tp, fp, fn)
        dp, dr, df = prf(self.doc["tp"], self.doc["fp"], self.doc["fn"])
        ep, er, ef = prf(self.ent["tp"], self.ent["fp"], self.ent["fn"])
        return {"clause_f1": f, "clause_p": p, "clause_r": r, "doc_f1": df, "doc_p": dp, "doc_r": dr,
                "entity_f1": ef, "entity_p": ep, "entity_r": er, "unplaced": self.unplaced, "quotes": self.quotes}

    def summary(self) -> str:
        x = self.figures()
        return (f"clause micro-F1 {x['clause_f1']:.3f} (P {x['clause_p']:.3f} R {x['clause_r']:.3f}) | doc-F1 "
                f"{x['doc_f1']:.3f} (P {x['doc_p']:.3f} R {x['doc_r']:.3f}) | entity-F1 {x['entity_f1']:.3f} "
                f"(P {x['entity_p']:.3f} R {x['entity_r']:.3f}) | unplaced {self.unplaced}/{self.quotes}")

    def per_tag(self) -> list[tuple[str, float, float, float, int]]:
        prf = load_scorer().prf
        rows = []
        for tag in sorted(self.counts):
            c = self.counts[tag]
            p, r, f = prf(c["tp"], c["fp"], c["fn"])
            rows.append((tag, p, r, f, c["tp"] + c["fn"]))
        return rows


def score_documents(docs: Iterable[tuple[dict, list[dict]]]) -> Score:
    """Score (gold document, predicted clauses) pairs exactly as score_tags.main() does."""
    sc = load_scorer()
    out = Score()
    for doc, clauses in docs:
        normed = [(sc.norm(c.get("text", "")), c) for c in clauses]
        predicted_doc = set().union(*(sc.tag_ids(c.get("tags")) for c in clauses)) if clauses else set()
        for item in doc.get("clauses") or []:
            out.quotes += 1
            want = set(item.get("tags") or [])
            q = sc.norm(item["quote"])
            hits = [c for text, c in normed if q in text]
            if not hits:
                out.unplaced += 1
                for t in want:
                    out.counts[t]["fn"] += 1
                out.misses.append(f"UNPLACED {doc['file']}: {item['quote'][:80]}")
                continue
            got = set().union(*(sc.tag_ids(c.get("tags")) for c in hits))
            for t in want & got:
                out.counts[t]["tp"] += 1
            for t in got - want:
                out.counts[t]["fp"] += 1
                out.misses.append(f"FP {t} {doc['file']}: {item['quote'][:70]}")
            for t in want - got:
                out.counts[t]["fn"] += 1
                out.misses.append(f"FN {t} {doc['file']}: {item['quote'][:70]}")
            pred_ents = [e for c in hits for e in c.get("entities") or []]
            gold_ents = item.get("entities") or []
            for g in gold_ents:
                ok = any(e.get("type") == g["type"] and sc.same_value(g["value"], e.get("value")) for e in pred_ents)
                out.ent["tp" if ok else "fn"] += 1
                if not ok:
                    out.misses.append(f"ENT-FN {g['type']}={g['value']} {doc['file']}: {item['quote'][:60]}")
            gold_types = {g["type"] for g in gold_ents}
            matched = sum(1 for e in pred_ents if e.get("type") in gold_types
                          and any(e.get("type") == g["type"] and sc.same_value(g["value"], e.get("value"))
                                  for g in gold_ents))
            out.ent["fp"] += sum(1 for e in pred_ents if e.get("type") in gold_types) - matched
        if doc.get("doc_tags") is not None:
            want = set(doc["doc_tags"])
            out.doc["tp"] += len(want & predicted_doc)
            out.doc["fp"] += len(predicted_doc - want)
            out.doc["fn"] += len(want - predicted_doc)
    return out


def score_gold(gold: dict, clauses_of: Callable[[str], list[dict]]) -> Score:
    """Score every gold document; ``clauses_of(gold file entry)`` gives its predicted clauses (cached per file)."""
    cache: dict[str, list[dict]] = {}

    def pairs():
        for doc in gold["documents"]:
            if doc["file"] not in cache:
                cache[doc["file"]] = clauses_of(doc["file"])
            yield doc, cache[doc["file"]]

    return score_documents(pairs())


_SUMMARY = re.compile(r"clause micro-F1 ([\d.]+).*doc-F1 ([\d.]+).*entity-F1 ([\d.]+).*unplaced (\d+)/(\d+)")


def shared_scorer_summary(gold_path: Path) -> tuple[float, ...]:
    """The summary figures printed by the shared scorer run as a subprocess on ``gold_path``."""
    cmd = [sys.executable, str(shared_dir() / "eval" / "score_tags.py"), str(gold_path),
           "--corpus", str(shared_dir() / "corpus"),
           "--tagger", f"{sys.executable} -m clausewatch tag --format jsonl"]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT)
    m = _SUMMARY.search(proc.stdout)
    if not m:
        raise RuntimeError(f"no summary in the scorer's output:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return tuple(float(g) for g in m.groups())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gold", type=Path, default=None, help="gold file (default: the shared dev.yaml)")
    parser.add_argument("--verbose", action="store_true", help="per-tag table and every miss")
    parser.add_argument("--check", action="store_true", help="also run the shared scorer; fail if it disagrees")
    args = parser.parse_args()
    gold_path = args.gold or shared_dir() / "gold" / "dev.yaml"
    gold = load_gold(gold_path)
    result = score_gold(gold, lambda f: analyse_file(corpus_path(f)))
    if args.verbose:
        print(f"{'tag':34} {'P':>6} {'R':>6} {'F1':>6} {'support':>8}")
        for tag, p, r, f, support in result.per_tag():
            print(f"{tag:34} {p:6.3f} {r:6.3f} {f:6.3f} {support:8d}")
        print("\n".join(result.misses))
    print(f"{len(gold['documents'])} documents: {result.summary()}")
    if args.check:
        x = result.figures()
        mine = (round(x["clause_f1"], 3), round(x["doc_f1"], 3), round(x["entity_f1"], 3), x["unplaced"], x["quotes"])
        theirs = shared_scorer_summary(gold_path)
        print(f"shared scorer: clause {theirs[0]:.3f} doc {theirs[1]:.3f} entity {theirs[2]:.3f} "
              f"unplaced {int(theirs[3])}/{int(theirs[4])}")
        if tuple(float(v) for v in mine) != theirs:
            sys.exit("the in-process score differs from the shared scorer's")


if __name__ == "__main__":
    main()
