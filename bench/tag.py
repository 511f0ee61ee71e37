"""Speed of the NLP stage (segment + tag + entities) over the whole corpus text, in tokens/s.

    .venv/bin/python bench/tag.py [--repeat N] [--tracemalloc]

The corpus is extracted first (not timed; bench/extract.py times extraction). Tokens are those of
``spacy.blank("en")``'s tokenizer over each document's text; its own rate is measured in the same run
as the reference. Times are CPU seconds of this process (time.process_time). The pipeline's nlp
object is built and warmed up before timing. Peak memory: the process's maximum resident set size,
and with --tracemalloc the peak of Python allocations during one pipeline pass (slower, separate pass).
"""
from __future__ import annotations

import argparse
import resource
import sys
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import spacy  # noqa: E402
from extract import corpus_dir, declared_selectors, jobs  # noqa: E402  (bench/extract.py)

from clausewatch.crawlers.extract import ExtractionError, extract  # noqa: E402
from clausewatch.nlp.entities import find_entities  # noqa: E402
from clausewatch.nlp.segment import segment  # noqa: E402
from clausewatch.nlp.tagger import get_nlp, tag_segments  # noqa: E402


def corpus_texts() -> list[tuple[str, str]]:
    selectors = declared_selectors()
    texts = []
    for rel, fmt, body, parts, _size in jobs(corpus_dir()):
        try:
            texts.append((rel, extract(body, fmt, selectors=selectors.get(rel), parts=parts).text))
        except ExtractionError as exc:
            print(f"skipped {rel}: {exc}", file=sys.stderr)
    return texts


def pipeline_pass(texts: list[str]) -> dict[str, float]:
    spent = {"segment": 0.0, "tag": 0.0, "entities": 0.0, "clauses": 0}
    for text in texts:
        t0 = time.process_time()
        segments = segment(text)
        t1 = time.process_time()
        tag_segments(segments)
        t2 = time.process_time()
        for seg in segments:
            find_entities(seg, segments)
        t3 = time.process_time()
        spent["segment"] += t1 - t0
        spent["tag"] += t2 - t1
        spent["entities"] += t3 - t2
        spent["clauses"] += len(segments)
    return spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed passes; the fastest is reported")
    parser.add_argument("--tracemalloc", action="store_true", help="also measure peak Python allocations")
    args = parser.parse_args()

    docs = corpus_texts()
    texts = [text for _rel, text in docs]
    blank = spacy.blank("en")
    blank.max_length = max(len(t) for t in texts) + 1
    tokens = sum(len(blank.make_doc(t)) for t in texts)           # also warms the tokenizer up
    chars = sum(len(t) for t in texts)

    best_blank = min(_timed(lambda: [blank.make_doc(t) for t in texts]) for _ in range(args.repeat))
    get_nlp()
    pipeline_pass(texts[:3])                                       # warm-up: nlp object, vocab, regexes
    passes = [pipeline_pass(texts) for _ in range(args.repeat)]
    best = min(passes, key=lambda p: p["segment"] + p["tag"] + p["entities"])
    total = best["segment"] + best["tag"] + best["entities"]

    print(f"corpus: {len(texts)} documents, {chars / 1e6:.2f} M characters, {tokens:,} tokens, "
          f"{int(best['clauses']):,} clauses")
    print(f"spacy.blank('en') tokenizer : {best_blank:7.2f} s  {tokens / best_blank:12,.0f} tokens/s")
    print(f"segment + tag + entities    : {total:7.2f} s  {tokens / total:12,.0f} tokens/s")
    for stage in ("segment", "tag", "entities"):
        print(f"  {stage:26}: {best[stage]:7.2f} s  {tokens / best[stage]:12,.0f} tokens/s")
    print(f"peak resident memory        : {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:7.1f} MB")
    if args.tracemalloc:
        tracemalloc.start()
        pipeline_pass(texts)
        _current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        print(f"peak Python allocations     : {peak / 1e6:7.1f} MB (one pipeline pass, tracemalloc)")


def _timed(fn) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


if __name__ == "__main__":
    main()
