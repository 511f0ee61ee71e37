"""The analysis cache of `diff` and `tag`: the same clauses as a fresh analysis, without loading spaCy."""
from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys

from clausewatch import analysis_cache
from clausewatch.nlp import analyse
from tests.conftest import ROOT

LICENCE = ("Example Model Licence\n\n1. Grant. You may use, copy, modify and distribute the model for any purpose, "
           "including commercial purposes.\n\n2. Outputs. You must not use the outputs to train another model.\n\n"
           "3. Scale. If your products have more than 700 million monthly active users, you must ask us first.\n")


def test_a_cached_analysis_is_the_analysis(tmp_path, monkeypatch):
    monkeypatch.setenv("CLAUSEWATCH_CACHE_DIR", str(tmp_path / "cache"))
    fresh = analyse(LICENCE)
    assert [analysis_cache.clause_from_json(json.loads(json.dumps(analysis_cache.clause_to_json(c))))
            for c in fresh] == fresh
    first = analysis_cache.analyse_cached(LICENCE)
    [entry] = list((tmp_path / "cache").glob("*.json.gz"))
    second = analysis_cache.analyse_cached(LICENCE)
    assert first == second == fresh
    # a damaged entry is analysed again, not an error
    entry.write_bytes(b"not gzip at all")
    assert analysis_cache.analyse_cached(LICENCE) == fresh
    assert json.loads(gzip.decompress(entry.read_bytes()))["clauses"], "rewritten"


def test_the_cache_can_be_turned_off_and_is_bounded(tmp_path, monkeypatch):
    monkeypatch.setenv("CLAUSEWATCH_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("CLAUSEWATCH_CACHE", "0")
    analysis_cache.analyse_cached(LICENCE)
    assert not (tmp_path / "cache").exists()
    monkeypatch.delenv("CLAUSEWATCH_CACHE")
    monkeypatch.setenv("CLAUSEWATCH_CACHE_MB", "0.002")       # room for about three entries
    for k in range(6):
        analysis_cache.analyse_cached(LICENCE.replace("700", str(100 + k)))
        for entry in (tmp_path / "cache").glob("*.json.gz"):     # older entries: last used long ago
            os.utime(entry, (entry.stat().st_mtime - 60, entry.stat().st_mtime - 60))
    kept = list((tmp_path / "cache").glob("*.json.gz"))
    assert 1 <= len(kept) < 6 and sum(p.stat().st_size for p in kept) <= 0.002 * 1024 * 1024
    newest = analysis_cache.cache_dir() / f"{analysis_cache._key(LICENCE.replace('700', '105'))}.json.gz"
    assert newest in kept, "the entry used last is kept"


def test_diff_of_files_seen_before_does_not_load_spacy(tmp_path):
    old, new = tmp_path / "old.txt", tmp_path / "new.txt"
    old.write_text(LICENCE)
    new.write_text(LICENCE.replace("700 million", "500 million"))
    env = {**os.environ, "CLAUSEWATCH_CACHE_DIR": str(tmp_path / "cache")}
    code = ("import sys\nfrom clausewatch.cli import main\n"
            "try:\n    main(['diff', sys.argv[1], sys.argv[2], '--format', 'jsonl'])\n"
            "except SystemExit as exit:\n    print('exit', exit.code, 'spacy' in sys.modules, file=sys.stderr)\n")
    runs = [subprocess.run([sys.executable, "-c", code, str(old), str(new)], cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=120) for _ in range(2)]
    assert runs[0].stderr.strip().endswith("exit 1 True"), runs[0].stderr
    assert runs[1].stderr.strip().endswith("exit 1 False"), runs[1].stderr
    assert runs[0].stdout == runs[1].stdout and "500000000" in runs[1].stdout
