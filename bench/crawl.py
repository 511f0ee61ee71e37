"""Benchmark: a full replay of the corpus against a script that only extracts and tokenizes it, and an
unchanged re-crawl against the first crawl, in one run.

    .venv/bin/python bench/crawl.py [--corpus DIR] [--no-process] [--repeat N]

Each run is a subprocess (interpreter start and imports included), as the scheduler runs them:
- the baseline: `bench/extract_tokenize.py` (extract every corpus file, tokenize it with spaCy);
- the first crawl: `clausewatch crawl --replay` into a new database (fetch, extract, store, segment, tag,
  entities, change detection, openness ratings, the site's pairs), then the same crawl again (nothing new:
  conditional requests answered 304).
Prints wall and CPU seconds (children included), documents/s, MB/s, peak RSS, and the ratios full replay /
baseline (target <= 2) and re-crawl / first crawl (target <= 0.05). With --repeat N, the medians.
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


def baseline(env: dict) -> dict:
    """The extract-and-tokenize script in a subprocess."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, str(ROOT / "bench" / "extract_tokenize.py")], env=env,
                          capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        sys.exit(f"baseline failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    return {"wall": wall, "cpu": (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime),
            "line": proc.stdout.strip()}


def main() -> None:
    from clausewatch.db import connect

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", default=os.environ.get("CLAUSEWATCH_CORPUS", ROOT.parent / "shared" / "corpus"))
    parser.add_argument("--no-process", action="store_true", help="fetch + extract + store only (no NLP)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each measure; medians are printed")
    args = parser.parse_args()
    import statistics
    extra = ["--no-process"] if args.no_process else []
    firsts, seconds, bases = [], [], []
    for _ in range(max(1, args.repeat)):
        with tempfile.TemporaryDirectory() as tmp:
            db_file = Path(tmp) / "bench.db"
            env = {**os.environ, "CLAUSEWATCH_DB": str(db_file), "CLAUSEWATCH_CONFIG": str(Path(tmp) / "none.toml"),
                   "CLAUSEWATCH_CORPUS": str(args.corpus)}
            bases.append(baseline(env))
            fixed = run(["crawl", "--help"], env)  # interpreter start + CLI import: the fixed cost of a run
            startup = time_imports(env)
            firsts.append(run(["crawl", "--replay", str(args.corpus), "-q", *extra], env))
            seconds.append(run(["crawl", "--replay", str(args.corpus), "-q", *extra], env))
            db = connect(db_file)
            runs = list(db.query("SELECT * FROM crawl_runs ORDER BY id"))
            versions = db.execute("SELECT COUNT(*) FROM versions").fetchone()[0]
            clauses = db.execute("SELECT COUNT(*) FROM clauses").fetchone()[0]

    def median(rows: list[dict]) -> dict:
        return {key: statistics.median(r[key] for r in rows) for key in ("wall", "cpu")} | \
            {k: v for k, v in rows[0].items() if k not in ("wall", "cpu")}

    first, second, base = median(firsts), median(seconds), median(bases)
    what = "crawl + extract + store" + ("" if args.no_process else " + segment + tag")
    print(f"corpus {args.corpus}: {what}")
    for name, m, r in (("first crawl", first, runs[0]), ("re-crawl", second, runs[1])):
        mb = r["bytes"] / 1e6
        print(f"{name:12} {m['wall']:6.2f} s wall  {m['cpu']:6.2f} s CPU  {r['requests']:4d} requests "
              f"{r['sources'] / m['wall']:7.1f} documents/s  {mb / m['wall']:6.2f} MB/s  "
              f"{r['new_versions']:3d} new versions  peak RSS {m['rss_mb']:.0f} MB")
    print(f"stored {versions} versions, {clauses} clauses")
    print(f"baseline     {base['wall']:6.2f} s wall  {base['cpu']:6.2f} s CPU  ({base['line']})")
    print(f"ratio full replay / extract+tokenize baseline: {first['wall'] / base['wall']:.2f} wall "
          f"(target <= 2), {first['cpu'] / max(base['cpu'], 1e-9):.2f} CPU")
    print(f"ratio re-crawl / first crawl: {second['wall'] / first['wall']:.3f} wall, "
          f"{second['cpu'] / max(first['cpu'], 1e-9):.3f} CPU (target <= 0.05)")
    fixed_cost = fixed["wall"] + startup
    print(f"fixed cost of any run (interpreter, imports of Scrapy/sqlite-utils): {fixed_cost:.2f} s; "
          f"ratio without it: {(second['wall'] - fixed_cost) / (first['wall'] - fixed_cost):.3f}")


if __name__ == "__main__":
    main()
