"""Benchmark: the public Datasette over a synthetic database of N clauses (default 1M).

    .venv/bin/python bench/serve.py [--clauses 1000000] [--requests 40] [--db PATH] [--keep] [--no-stream]

Generates sources x versions x clauses (2 versions per source, 250 clauses per version: half the clauses are
current), tags and entities in one transaction per table (executemany), then the FTS index in one pass, and
serves it with `clausewatch serve` on 127.0.0.1. Prints p50/p95 latency of FTS search pages, facet pages,
the clause and diff pages, and the time to stream the current_clauses view as CSV (`?_stream=on`).
An existing --db is reused as it is (generation is the slow part).
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CLAUSES_PER_VERSION = 250
VERSIONS_PER_SOURCE = 2
KINDS = ["license", "license", "license", "use-policy", "regulation", "report", "definition"]
JURISDICTIONS = ["global"] * 6 + ["EU", "US", "UK", "CN", "CA", "FR"]
TAGS = ["grant.use", "grant.modify", "grant.distribute", "grant.commercial", "grant.patent",
        "restrict.scale_threshold", "restrict.noncommercial", "restrict.use_policy", "restrict.prohibited_use",
        "restrict.output_use", "restrict.geographic", "obligation.attribution", "obligation.naming",
        "obligation.share_alike", "obligation.state_changes", "licensor.update_terms", "terms.termination",
        "terms.warranty_disclaimer", "terms.liability_limit", "terms.indemnity", "terms.trademark",
        "terms.governing_law", "terms.output_ownership", "policy.definition", "policy.open_source_exemption"]
LEGAL = ("licence license licensee licensor agreement model weights materials use reproduce distribute modify "
         "derivative works output commercial rights grant patent trademark warranty liability damages terminate "
         "notice copy attribution policy prohibited restriction comply law jurisdiction provider deployer system "
         "risk data training release version party parties third shall must may not without written consent "
         "including limited worldwide royalty free non exclusive revocable sublicense hosted service api").split()
# (phrase, share of clauses that contain it): searches of known selectivity
PLANTED = [("monthly active users", 0.003), ("open source exemption", 0.01), ("indemnify", 0.05)]
SEARCHES = ["monthly active users", "open source exemption", "indemnify", "sublicense royalty", "trademark"]


def vocabulary(rng: random.Random) -> tuple[list[str], list[float]]:
    syllables = ["ar", "be", "ci", "do", "en", "fa", "gi", "ho", "il", "ju", "ka", "lo", "mi", "nu", "or", "pe",
                 "qua", "ri", "so", "tu", "ve", "wa", "xi", "yo", "ze"]
    words = list(dict.fromkeys(LEGAL + ["".join(rng.choices(syllables, k=rng.randint(2, 4))) for _ in range(8000)]))
    weights = [1 / (rank + 10) for rank in range(len(words))]  # Zipf-like: legal words are the common ones
    return words, weights


def generate(path: Path, clauses: int, seed: int = 7) -> dict:
    from clausewatch.db import connect
    from clausewatch.db.publish import FTS, publish

    rng = random.Random(seed)
    words, weights = vocabulary(rng)
    per_source = CLAUSES_PER_VERSION * VERSIONS_PER_SOURCE
    n_sources = max(1, clauses // per_source)
    started = time.perf_counter()
    db = connect(path)
    for table in FTS:  # bulk load without per-row triggers; publish() rebuilds the index in one pass
        db[table].disable_fts()
    conn = db.conn
    now = "2025-01-01T00:00:00Z"
    with conn:
        conn.executemany(
            "INSERT INTO sources (id, source_id, title, publisher, jurisdiction, kind, family, url, status, "
            "consecutive_failures, created_at, updated_at, last_error) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [(i, f"doc-{i}", f"Document {i}", f"Publisher {i % 150}", JURISDICTIONS[i % len(JURISDICTIONS)],
              KINDS[i % len(KINDS)], f"family-{i // 5}", f"https://example.org/{i}",
              "error" if i % 97 == 0 else "ok", 2 if i % 97 == 0 else 0, now, now,
              "HTTP 503" if i % 97 == 0 else None) for i in range(1, n_sources + 1)])
        versions = []
        for s in range(1, n_sources + 1):
            for seq in range(1, VERSIONS_PER_SOURCE + 1):
                vid = (s - 1) * VERSIONS_PER_SOURCE + seq
                versions.append((vid, s, seq, f"202{3 + seq}-0{1 + s % 9}-01T06:00:00Z", f"202{3 + seq}-0{1 + s % 9}-01",
                                 f"Document {s}", f"Document {s} version {seq}", "x", 20, "bench",
                                 vid - 1 if seq > 1 else None, "bench", now))
        conn.executemany(
            "INSERT INTO versions (id, source_id, seq, fetched_at, valid_from, title, text, text_sha256, chars, "
            "extractor_version, previous_id, pipeline_version, processed_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            versions)

        def rows():
            for vid in range(1, n_sources * VERSIONS_PER_SOURCE + 1):
                for ordinal in range(CLAUSES_PER_VERSION):
                    text = " ".join(rng.choices(words, weights, k=rng.randint(12, 70)))
                    for phrase, share in PLANTED:
                        if rng.random() < share:
                            text += " " + phrase
                    tags = sorted(set(rng.sample(TAGS, rng.choice((0, 0, 1, 1, 2)))))
                    yield (vid * 1000 + ordinal, vid, ordinal, f"Section {ordinal // 10 + 1}.{ordinal % 10 + 1}",
                           f"Section {ordinal // 10 + 1}", f"{ordinal % 10 + 1}.", text, 0, len(text), json.dumps(tags))

        conn.executemany('INSERT INTO clauses (id, version_id, ordinal, path, heading, label, text, start, "end", '
                         "tags) VALUES (?,?,?,?,?,?,?,?,?,?)", rows())
        conn.execute("INSERT INTO clause_tags (clause_id, tag, score, evidence, rule) "
                     "SELECT c.id, j.value, 0.9, substr(c.text, 1, 30), 'bench' FROM clauses c, json_each(c.tags) j")
        conn.execute("INSERT INTO entities (clause_id, type, text, value, value_number, unit) "
                     "SELECT id, 'USER_THRESHOLD', 'monthly active users', '700000000', 700000000, "
                     "'monthly_active_users' FROM clauses WHERE text LIKE '%monthly active users%'")
        conn.execute(
            "INSERT INTO changes (source_id, family, scope, old_version_id, new_version_id, kind, old_path, new_path, "
            "old_text, new_text, substantive, detected_at, detector_version) "
            "SELECT v.source_id, s.family, 'document', v.previous_id, v.id, 'modified', c.path, c.path, o.text, c.text, "
            "c.ordinal % 3 != 0, v.fetched_at, 'bench' FROM versions v JOIN sources s ON s.id = v.source_id "
            "JOIN clauses c ON c.version_id = v.id AND c.ordinal % 50 = 0 "
            "JOIN clauses o ON o.version_id = v.previous_id AND o.ordinal = c.ordinal WHERE v.previous_id IS NOT NULL")
    generated = time.perf_counter() - started
    publish(db)
    db.execute("ANALYZE")
    counts = {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("sources", "versions", "clauses")}
    db.conn.close()
    return {**counts, "rows_s": round(generated, 1), "index_s": round(time.perf_counter() - started - generated, 1)}


# ------------------------------------------------------------------ measuring through a real server

def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    def __init__(self, path: Path):
        self.port = free_port()
        self.proc = subprocess.Popen([sys.executable, "-m", "clausewatch", "serve", "--db", str(path),
                                      "--port", str(self.port)], cwd=ROOT, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while True:
            try:
                self.get("/-/versions.json")
                return
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    sys.exit(f"clausewatch serve did not start: {self.proc.stderr.read()[-2000:]}")
                time.sleep(0.3)

    def get(self, url: str) -> tuple[int, bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=3600)
        try:
            conn.request("GET", url)
            response = conn.getresponse()
            return response.status, response.read()
        finally:
            conn.close()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def timed(server: Server, urls: list[str], requests: int) -> dict:
    times = []
    for i in range(requests):
        url = urls[i % len(urls)]
        started = time.perf_counter()
        status, _ = server.get(url)
        times.append((time.perf_counter() - started) * 1000)
        if status != 200:
            sys.exit(f"{url}: HTTP {status}")
    times.sort()
    return {"p50": statistics.median(times), "p95": times[min(len(times) - 1, round(0.95 * (len(times) - 1)))],
            "max": times[-1]}


def line(name: str, m: dict) -> str:
    return f"{name:52} p50 {m['p50']:8.1f} ms   p95 {m['p95']:8.1f} ms   max {m['max']:8.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clauses", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=40, help="requests per measured page kind")
    parser.add_argument("--db", type=Path, default=None, help="database to create or reuse")
    parser.add_argument("--keep", action="store_true", help="keep the generated database")
    parser.add_argument("--no-stream", action="store_true", help="skip the CSV streaming measurement")
    args = parser.parse_args()
    tmp = None
    path = args.db
    if path is None:
        tmp = tempfile.mkdtemp(prefix="cw-bench-")
        path = Path(tmp) / "bench.db"
    if not path.exists():
        made = generate(path, args.clauses)
        print(f"generated {made['clauses']:,} clauses ({made['sources']:,} sources, {made['versions']:,} versions) "
              f"in {made['rows_s']} s + FTS/views {made['index_s']} s; {path.stat().st_size / 1e6:.0f} MB")
    server = Server(path)
    try:
        current = json.loads(server.get("/clausewatch.json?sql=" + quote(
            "select count(*) as n from current_clauses") + "&_shape=array")[1])[0]["n"]
        print(f"serving {path} ({current:,} current clauses) through `clausewatch serve`, "
              f"{args.requests} requests per line, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}")
        search = {q: f"/clausewatch/current_clauses?_search={quote(q)}" for q in SEARCHES}
        for url in search.values():  # warm the page cache once
            server.get(url)
        selective = []
        for q, url in search.items():
            hits = json.loads(server.get(url.replace("current_clauses?", "current_clauses.json?_nofacet=1&"))[1])
            share = hits["filtered_table_rows_count"] / max(current, 1)
            m = timed(server, [url], max(4, args.requests // 2))
            print(line(f"FTS search page '{q}' ({share:.1%} hit)", m))
            if share <= 0.01:
                selective.append(url)
        print(line("FTS search page, selective queries (<= 1%)", timed(server, selective, args.requests)))
        print(line("FTS search page, all 5 queries", timed(server, list(search.values()), args.requests)))
        print(line("FTS search JSON (_shape=array, no facets)",
                   timed(server, [u.replace("current_clauses?", "current_clauses.json?_shape=array&")
                                  for u in search.values()], args.requests)))
        print(line("FTS search page on clauses (all versions), selective",
                   timed(server, [u.replace("current_clauses", "clauses") for u in selective], args.requests)))
        ranked = [f"/-/search?q={quote(q)}" for q in SEARCHES]
        for url in ranked:
            server.get(url)
        print(line("ranked search page (/-/search), all 5 queries", timed(server, ranked, args.requests)))
        families = [f"/clausewatch/current_clauses?family=family-{i}" for i in range(0, 400, 37)]
        print(line("facet page: one family, 5 facets", timed(server, families, args.requests)))
        print(line("facet page: whole view, 5 facets", timed(server, ["/clausewatch/current_clauses"],
                                                             max(4, args.requests // 8))))
        print(line("clause page", timed(server, [f"/-/clause/{v * 1000 + 7}" for v in range(2, 400, 2)],
                                        args.requests)))
        print(line("diff page", timed(server, [f"/-/diff/{v - 1}/{v}" for v in range(2, 400, 2)], args.requests)))
        print(line("home page", timed(server, ["/"], max(4, args.requests // 4))))
        if not args.no_stream:
            started = time.perf_counter()
            status, body = server.get("/clausewatch/current_clauses.csv?_stream=on&_size=max")
            seconds = time.perf_counter() - started
            rows = body.count(b"\r\n") - 1
            print(f"stream current_clauses as CSV: HTTP {status}, {rows:,} rows, {len(body) / 1e6:.0f} MB "
                  f"in {seconds:.1f} s ({rows / seconds:,.0f} rows/s)")
        print(f"load average at the end {os.getloadavg()[0]:.1f}")
    finally:
        server.stop()
        if tmp and not args.keep:
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
            os.rmdir(tmp)


if __name__ == "__main__":
    main()
