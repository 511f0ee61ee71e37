"""Benchmark: first crawl vs unchanged re-crawl of the whole replay corpus, in one run.

    .venv/bin/python bench/crawl.py [--corpus DIR] [--no-process]

Prints documents/s, MB/s, wall and CPU seconds (this process and its children), peak RSS, and the ratio
re-crawl / first crawl. Each crawl runs `clausewatch crawl --replay` in a subprocess, as the scheduler does.
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def run(args: list[str], env: dict) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "clausewatch", *args], env=env, capture_output=True, text=True,
                          cwd=ROOT)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"crawl failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return {"wall": wall, "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
            "rss_mb": after.ru_maxrss / 1024}


def time_imports(env: dict) -> float:
    """Seconds to import what every crawl imports (Scrapy's crawler, the spider, the store)."""
    code = ("import time; t = time.perf_counter(); import scrapy.crawler, clausewatch.crawlers.spider, clausewatch.crawlers.pipelines, "
            "clausewatch.stages.crawl; print(time.perf_counter() - t)")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=ROOT)
    return float(out.stdout.strip() or 0)


def main() -> None:
    from clausewatch.db import connect

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", default=os.environ.get("CLAUSEWATCH_CORPUS", ROOT.parent / "shared" / "corpus"))
    parser.add_argument("--no-process", action="store_true", help="fetch + extract + store only (no NLP)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db_file = Path(tmp) / "bench.db"
        env = {**os.environ, "CLAUSEWATCH_DB": str(db_file)}
        extra = ["--no-process"] if args.no_process else []
        baseline = run(["crawl", "--help"], env)  # interpreter start + CLI import: the fixed cost of a run
        startup = time_imports(env)
        first = run(["crawl", "--replay", str(args.corpus), "-q", *extra], env)
        second = run(["crawl", "--replay", str(args.corpus), "-q", *extra], env)
        db = connect(db_file)
        runs = list(db.query("SELECT * FROM crawl_runs ORDER BY id"))
        versions = db.execute("SELECT COUNT(*) FROM versions").fetchone()[0]
        clauses = db.execute("SELECT COUNT(*) FROM clauses").fetchone()[0]
    what = "crawl + extract + store" + ("" if args.no_process else " + segment + tag")
    print(f"corpus {args.corpus}: {what}")
    for name, m, r in (("first crawl", first, runs[0]), ("re-crawl", second, runs[1])):
        mb = r["bytes"] / 1e6
        print(f"{name:12} {m['wall']:6.2f} s wall  {m['cpu']:6.2f} s CPU  {r['requests']:4d} requests "
              f"{r['sources'] / m['wall']:7.1f} documents/s  {mb / m['wall']:6.2f} MB/s  "
              f"{r['new_versions']:3d} new versions  peak RSS {m['rss_mb']:.0f} MB")
    print(f"stored {versions} versions, {clauses} clauses")
    print(f"ratio re-crawl / first crawl: {second['wall'] / first['wall']:.3f} wall, "
          f"{second['cpu'] / max(first['cpu'], 1e-9):.3f} CPU")
    fixed = baseline["wall"] + startup
    print(f"fixed cost of any run (interpreter, imports of Scrapy/sqlite-utils): {fixed:.2f} s; "
          f"ratio without it: {(second['wall'] - fixed) / (first['wall'] - fixed):.3f}")


if __name__ == "__main__":
    main()
