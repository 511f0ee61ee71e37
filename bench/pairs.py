"""Benchmark: the pairs step (any two versions of a family, the rendition check) on the replayed corpus.

    .venv/bin/python bench/pairs.py [--db PATH] [--corpus DIR]

Without --db, replays the corpus into a temporary database first (`clausewatch crawl --replay`, which runs
the step once). Then forgets every stored pair and times the step from nothing, then again with nothing
left to do (incremental), and prints the pairs per family, the slowest comparisons and the peak memory.
"""
from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="a database built from the corpus (copied, not changed)")
    parser.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpus"))
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="cw-bench-pairs-"))
    try:
        path = tmp / "pairs.db"
        if args.db:
            shutil.copy(args.db, path)
        else:
            started = time.perf_counter()
            subprocess.run([sys.executable, "-m", "clausewatch", "crawl", "--replay", args.corpus, "--db", str(path),
                            "--quiet"], check=True, cwd=ROOT)
            print(f"replayed the corpus in {time.perf_counter() - started:.1f} s")
        from clausewatch import db as store
        from clausewatch.stages.pairs import compare_pairs, planned_pairs

        db = store.connect(path)
        with db.atomic():
            db.execute("DELETE FROM pair_changes")
            db.execute("DELETE FROM pair_comparisons")
        plan = planned_pairs(db)
        versions = db.execute("SELECT count(*) FROM versions").fetchone()[0]
        print(f"{versions} versions; {len(plan)} comparisons to make: "
              + ", ".join(f"{family} {n}" for family, n in Counter(p["family"] for p in plan).most_common()))
        started = time.perf_counter()
        first = compare_pairs(db)
        print(f"from nothing: {first['pairs']} pairs + {first['renditions']} rendition checks, {first['changes']:,} "
              f"clause differences ({first['substantive']:,} substantive) in {time.perf_counter() - started:.2f} s; "
              f"slowest {first['slowest']}")
        times = [r[0] for r in db.execute("SELECT seconds FROM pair_comparisons WHERE purpose = 'pair' ORDER BY seconds")]
        if times:
            print(f"pairs: median {times[len(times) // 2] * 1000:.0f} ms, max {times[-1] * 1000:.0f} ms; renditions: "
                  + ", ".join(f"{r[0]} vs {r[1]} {r[2]:.2f} s" for r in db.execute(
                      """SELECT os.source_id, ns.source_id, pc.seconds FROM pair_comparisons pc
                         JOIN versions ov ON ov.id = pc.old_version_id JOIN sources os ON os.id = ov.source_id
                         JOIN versions nv ON nv.id = pc.new_version_id JOIN sources ns ON ns.id = nv.source_id
                         WHERE pc.purpose = 'rendition'""")))
        started = time.perf_counter()
        again = compare_pairs(db)
        print(f"incremental (nothing new): {again['pairs'] + again['renditions']} comparisons in "
              f"{time.perf_counter() - started:.3f} s")
        rows = db.execute("SELECT count(*) FROM pair_changes").fetchone()[0]
        print(f"stored: {rows:,} pair_changes rows; peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
