"""Extraction speed over the shared corpus: seconds and MB/s per format and in total (one core).

    .venv/bin/python bench/extract.py [--repeat N] [--slowest K]

Times are CPU seconds of this process (time.process_time), so other load on the machine does not
count; imports happen before timing. HTML files use the selectors of the source declaration that replays them (crawlers/sources/*.yaml);
a Formex package index is extracted with its parts, which are then not extracted again on their own.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from clausewatch.crawlers.extract import ExtractionError, extract  # noqa: E402
from clausewatch.crawlers.extract.formex import formex_parts, is_formex_index  # noqa: E402

FORMATS = {"txt": "text", "md": "markdown", "html": "html", "pdf": "pdf", "xml": "xml"}


def corpus_dir() -> Path:
    return Path(os.environ.get("CLAUSEWATCH_CORPUS", ROOT.parent / "shared" / "corpus"))


def declared_selectors() -> dict[str, dict]:
    """Corpus path -> selectors of the source declaration that replays it."""
    found: dict[str, dict] = {}
    for path in sorted((ROOT / "crawlers" / "sources").glob("*.yaml")):
        data = yaml.safe_load(path.read_text()) or {}
        if isinstance(data, dict) and data.get("selectors"):
            for rel in data.get("replay") or []:
                found[rel] = data["selectors"]
    return found


def jobs(corpus: Path) -> list[tuple[str, str, bytes, dict[str, bytes] | None, int]]:
    """(relative path, format, body, parts, bytes counted) for every document of the corpus."""
    manifest = yaml.safe_load((corpus / "MANIFEST.yaml").read_text())
    entries = manifest["files"]
    consumed: set[str] = set()
    out = []
    for entry in entries:
        rel = entry["path"]
        fmt = FORMATS.get(entry.get("format") or Path(rel).suffix.lstrip("."), "text")
        body = (corpus / rel).read_bytes()
        parts = None
        size = len(body)
        if fmt == "xml" and is_formex_index(body):
            parts = {name: (corpus / Path(rel).parent / name).read_bytes() for name in formex_parts(body)}
            size += sum(len(b) for b in parts.values())
            consumed.update(str(Path(rel).parent / name) for name in parts)
        out.append((rel, fmt, body, parts, size))
    return [job for job in out if job[0] not in consumed]


def warm_up() -> None:
    """Import every extractor (trafilatura alone takes ~0.2 s to import) outside the timings."""
    import trafilatura  # noqa: F401

    import clausewatch.crawlers.extract.formex  # noqa: F401
    import clausewatch.crawlers.extract.html  # noqa: F401
    import clausewatch.crawlers.extract.markdown  # noqa: F401
    import clausewatch.crawlers.extract.pdf  # noqa: F401
    import clausewatch.crawlers.extract.pdflayout  # noqa: F401


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=1, help="runs per document (the best is kept)")
    parser.add_argument("--slowest", type=int, default=5, help="list the K slowest documents")
    args = parser.parse_args()
    corpus = corpus_dir()
    if not (corpus / "MANIFEST.yaml").is_file():
        print(f"corpus not found at {corpus} (set CLAUSEWATCH_CORPUS)", file=sys.stderr)
        return 2
    selectors = declared_selectors()
    warm_up()
    per_format: dict[str, list[float]] = {}
    timings = []
    failures = 0
    for rel, fmt, body, parts, size in jobs(corpus):
        best = float("inf")
        for _ in range(max(1, args.repeat)):
            start = time.process_time()
            try:
                extract(body, fmt, selectors=selectors.get(rel), parts=parts)
            except ExtractionError as exc:
                print(f"FAILED {rel}: {exc}", file=sys.stderr)
                failures += 1
                break
            best = min(best, time.process_time() - start)
        if best == float("inf"):
            continue
        stats = per_format.setdefault(fmt, [0, 0.0, 0.0])
        stats[0] += 1
        stats[1] += size
        stats[2] += best
        timings.append((best, rel))
    print(f"{'format':<10}{'files':>6}{'MB':>8}{'seconds':>10}{'MB/s':>8}")
    total = [0, 0.0, 0.0]
    for fmt, (files, size, seconds) in sorted(per_format.items()):
        print(f"{fmt:<10}{files:>6}{size / 1e6:>8.2f}{seconds:>10.3f}{size / 1e6 / max(seconds, 1e-9):>8.1f}")
        total = [total[0] + files, total[1] + size, total[2] + seconds]
    print(f"{'total':<10}{total[0]:>6}{total[1] / 1e6:>8.2f}{total[2]:>10.3f}"
          f"{total[1] / 1e6 / max(total[2], 1e-9):>8.1f}")
    if args.slowest:
        print("slowest:", ", ".join(f"{rel} {seconds:.3f}s" for seconds, rel in sorted(timings)[::-1][:args.slowest]))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
