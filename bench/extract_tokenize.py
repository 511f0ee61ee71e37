"""The baseline of bench/crawl.py: a script that only extracts and tokenizes the corpus files.

    .venv/bin/python bench/extract_tokenize.py      # prints files, characters, tokens and seconds

The same files a full replay reads (a Formex package with its parts, HTML with its declared selectors),
extracted with the project's extractors and tokenized with spaCy's blank English tokenizer: the least
any pipeline that reads and tokenizes these documents must do. bench/crawl.py runs it as a subprocess
(interpreter start and imports included, as for the crawl) and prints the ratio full replay / this.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from extract import corpus_dir, declared_selectors, jobs  # noqa: E402


def main() -> int:
    started = time.perf_counter()
    import spacy

    from clausewatch.crawlers.extract import ExtractionError, extract

    tokenizer = spacy.blank("en").tokenizer
    corpus = corpus_dir()
    selectors = declared_selectors()
    files = chars = tokens = 0
    for rel, fmt, body, parts, _ in jobs(corpus):
        try:
            text = extract(body, fmt, selectors=selectors.get(rel), parts=parts).text
        except ExtractionError:
            continue
        files += 1
        chars += len(text)
        tokens += len(tokenizer(text))
    print(f"extracted and tokenized {files} files: {chars:,} characters, {tokens:,} tokens in "
          f"{time.perf_counter() - started:.2f} s (imports included)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
