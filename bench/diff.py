"""Benchmark: `clausewatch diff` on the largest pair of the corpus and on a small licence pair.

    .venv/bin/python bench/diff.py [--corpus DIR] [--repeat N]

For each pair: the whole command in a subprocess (wall and CPU seconds, peak RSS, exit status), cold (an
empty analysis cache: what a new file costs) and warm (the analyses cached: a file diffed again), then the
stages in this process (extraction, analysis, comparison) with the peak memory the comparison allocates
(tracemalloc). Prints one line per measure; the medians of --repeat runs.
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PAIRS = {
    "EU AI Act HTML vs PDF": ("eu-ai-act/2024-1689.html", "eu-ai-act/2024-1689-oj.pdf"),
    "Llama licence 3 vs 3.1": ("llama-license/3.txt", "llama-license/3.1.txt"),
}


def run_cli(old: Path, new: Path, out: Path, cache: Path | None = None) -> dict:
    """The command in a child process; its own rusage (os.wait4), not the sum over all children. ``cache``:
    the analysis cache folder to use (None: a new empty one, i.e. a cold run)."""
    started = time.perf_counter()
    env = {**os.environ, "CLAUSEWATCH_CACHE_DIR": str(cache or Path(tempfile.mkdtemp()))}
    with out.open("w") as stdout:
        proc = subprocess.Popen([sys.executable, "-m", "clausewatch", "diff", str(old), str(new), "--format",
                                 "jsonl"], stdout=stdout, stderr=subprocess.DEVNULL, cwd=ROOT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        sys.exit(f"diff {old} {new} failed with exit status {code}")
    lines = [line for line in out.read_text().splitlines() if line.strip()]
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mb": usage.ru_maxrss / 1024,
            "status": code, "changes": len(lines), "substantive": sum('"substantive": true' in line for line in lines)}


def stages(old: Path, new: Path) -> dict:
    from clausewatch.changes import compare
    from clausewatch.files import extract_file
    from clausewatch.nlp import analyse

    t0 = time.perf_counter()
    old_text, new_text = extract_file(old).text, extract_file(new).text
    t1 = time.perf_counter()
    old_clauses, new_clauses = analyse(old_text), analyse(new_text)
    t2 = time.perf_counter()
    changes = compare(old_clauses, new_clauses, old_text=old_text, new_text=new_text)
    t3 = time.perf_counter()
    tracemalloc.start()   # a second, traced run: tracing slows Python down, so it is not timed
    compare(old_clauses, new_clauses, old_text=old_text, new_text=new_text)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"extract": t1 - t0, "analyse": t2 - t1, "compare": t3 - t2, "compare_peak_mb": peak / 2**20,
            "clauses": (len(old_clauses), len(new_clauses)), "changes": len(changes)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", default=os.environ.get("CLAUSEWATCH_CORPUS", ROOT.parent / "shared" / "corpus"))
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    corpus = Path(args.corpus)
    for name, (old_rel, new_rel) in PAIRS.items():
        old, new = corpus / old_rel, corpus / new_rel
        if not (old.is_file() and new.is_file()):
            print(f"{name}: skipped ({old} or {new} missing)")
            continue
        with tempfile.TemporaryDirectory() as tmp:
            cli = [run_cli(old, new, Path(tmp) / "out.jsonl") for _ in range(args.repeat)]       # cold
            cache = Path(tmp) / "cache"
            run_cli(old, new, Path(tmp) / "out.jsonl", cache)                                  # fills the cache
            warm = [run_cli(old, new, Path(tmp) / "out.jsonl", cache) for _ in range(args.repeat)]
        inner = [stages(old, new) for _ in range(args.repeat)]

        def med(rows: list[dict], key: str) -> float:
            return statistics.median(r[key] for r in rows)

        print(f"{name}  ({old_rel} -> {new_rel})")
        print(f"  clausewatch diff, cold (new files):  wall {med(cli, 'wall'):.2f} s  cpu {med(cli, 'cpu'):.2f} s  "
              f"peak RSS {max(r['rss_mb'] for r in cli):.0f} MB  exit {cli[0]['status']}  "
              f"{cli[0]['changes']} changes, {cli[0]['substantive']} substantive")
        print(f"  clausewatch diff, warm (analyses cached):  wall {med(warm, 'wall'):.2f} s  "
              f"cpu {med(warm, 'cpu'):.2f} s  peak RSS {max(r['rss_mb'] for r in warm):.0f} MB  "
              f"same output: {warm[0]['changes'] == cli[0]['changes']}")
        print(f"  stages:  extract {med(inner, 'extract'):.3f} s  analyse {med(inner, 'analyse'):.3f} s  "
              f"compare {med(inner, 'compare'):.3f} s (peak {med(inner, 'compare_peak_mb'):.1f} MB allocated)  "
              f"clauses {inner[0]['clauses'][0]} / {inner[0]['clauses'][1]}")


if __name__ == "__main__":
    main()
