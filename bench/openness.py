"""Speed of the openness ratings over a replayed corpus, and of the model crawl over saved Hub answers.

    .venv/bin/python bench/openness.py [--db PATH] [--repeat N]

Without --db the corpus (../shared/corpus or CLAUSEWATCH_CORPUS) is replayed into a temporary database
first (not timed). Then every licence state is rated again N times with a rule of a new version (so that
nothing is skipped; CPU seconds of this process), and `clausewatch models crawl --replay
tests/fixtures/huggingface` runs once (a subprocess, wall time: Scrapy, the replay server, linking).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from clausewatch.db import connect  # noqa: E402
from clausewatch.stages.rate import load_rules, rate_versions  # noqa: E402


def cli(*args: str, db: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "clausewatch", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, "CLAUSEWATCH_DB": str(db)}, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory()
    db_path = args.db
    if db_path is None:
        db_path = Path(tmp.name) / "cw.db"
        corpus = os.environ.get("CLAUSEWATCH_CORPUS", str(ROOT.parent / "shared" / "corpus"))
        cli("crawl", "--replay", corpus, "--quiet", db=db_path)
    db = connect(db_path)
    rules = load_rules()
    best = None
    for k in range(args.repeat):
        newer = type(rules)(rules.version + 100 + k, rules.criteria, rules.classes)
        started = time.process_time()
        result = rate_versions(db, rules=newer)
        spent = time.process_time() - started
        best = spent if best is None else min(best, spent)
    rate_versions(db)  # back to the shipped rule
    states = result["states"]
    clauses = db.execute("""SELECT count(*) FROM clauses WHERE version_id IN
                            (SELECT version_id FROM openness_ratings UNION
                             SELECT j.value FROM openness_ratings r, json_each(r.policy_version_ids) j)""").fetchone()[0]
    print(f"rating: {states} licence states ({result['licences']} licences; {clauses:,} licence and policy clauses) "
          f"in {best:.3f} s CPU (best of {args.repeat}): {states / best:.0f} states/s")
    started = time.perf_counter()
    proc = cli("models", "crawl", "--replay", str(ROOT / "tests" / "fixtures" / "huggingface"), "--quiet", db=db_path)
    print(f"model crawl (replay, subprocess): {time.perf_counter() - started:.2f} s wall; {proc.stderr.strip()}")


if __name__ == "__main__":
    main()
