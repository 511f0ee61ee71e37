"""Cluster mode against the single-process default, in one run, on this machine.

For the same N synthetic sources on 20 local hosts (``tests/hostfarm.py``) and a real redis-server it
measures documents/s end to end (fetched, extracted and stored) for ``clausewatch crawl`` (in-process)
and for 1, 2 and 3 ``clausewatch worker`` processes with one ``clausewatch store``; then the writer
alone draining a full stream (items/s); the peak memory (RSS) of every process; and Redis memory per
queued job and per item waiting for the writer. Prints a table.

    .venv/bin/python bench/scale.py [--sources 3000] [--delay 0.0] [--latency 0.005]
"""
from __future__ import annotations

import argparse
import os
import resource  # noqa: F401 - os.wait4 returns its struct
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import processes  # noqa: E402 - the same process handling as the tests
from tests.hostfarm import document, write_registry  # noqa: E402
from tests.redisserver import RedisServer, redis_available  # noqa: E402

CLI = [sys.executable, "-m", "clausewatch"]
HOSTS = 20


def start(args: list[str], env: dict) -> subprocess.Popen:
    return processes.popen(args, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


CPU: dict[str, float] = {}   # CPU seconds of the last process finished, by role


def finish(proc: subprocess.Popen, role: str = "") -> tuple[float, int]:
    """Wait for ``proc``; its end time and peak RSS (MB) from the kernel's accounting (CPU time in CPU)."""
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"{proc.args[3:5]} exited {proc.returncode}: {proc.stderr.read()[-2000:]}")
    CPU[role] = CPU.get(role, 0.0) + usage.ru_utime + usage.ru_stime
    return time.monotonic(), usage.ru_maxrss // 1024


def stored(db_file: Path) -> int:
    import sqlite3

    try:
        with sqlite3.connect(f"file:{db_file}?mode=ro", uri=True) as conn:
            return conn.execute("SELECT COUNT(*) FROM fetches WHERE part IS NULL").fetchone()[0]
    except sqlite3.Error:
        return 0


def in_process(work: Path, env: dict, sources: int) -> dict:
    env = {**env, "CLAUSEWATCH_DB": str(work / "single.db")}
    CPU.clear()
    began = time.monotonic()
    ended, rss = finish(start([*CLI, "crawl", "--no-process", "-q"], env), "crawl")
    assert stored(work / "single.db") == sources
    return {"mode": "in-process, one `clausewatch crawl` of all", "seconds": ended - began, "rss": f"{rss}",
            "documents": sources, "cpu": f"{CPU['crawl'] / sources * 1000:.1f}"}


def per_source(work: Path, env: dict, count: int) -> dict:
    """What the scheduler does without Redis: one `clausewatch crawl --source X` process per due source."""
    env = {**env, "CLAUSEWATCH_DB": str(work / "per-source.db")}
    CPU.clear()
    began = time.monotonic()
    for n in range(count):
        ended, rss = finish(start([*CLI, "crawl", "--no-process", "-q", "--source", f"s{n:05d}"], env), "crawl")
    assert stored(work / "per-source.db") == count
    return {"mode": "in-process, one `crawl --source X` per source (the scheduler without Redis)",
            "seconds": ended - began, "rss": f"{rss}", "documents": count,
            "cpu": f"{CPU['crawl'] / count * 1000:.0f}"}


def cluster(work: Path, env: dict, sources: int, workers: int, redis: RedisServer) -> dict:
    db_file = work / f"cluster{workers}.db"
    env = {**env, "CLAUSEWATCH_DB": str(db_file), "CLAUSEWATCH_REDIS_URL": redis.url}
    redis.client().flushall()
    subprocess.run([*CLI, "enqueue", "-q", "--cycle", f"bench-{workers}"], env=env, cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    CPU.clear()
    began = time.monotonic()
    procs = [start([*CLI, "worker", "-q", "--exit-when-idle", "1"], env) for _ in range(workers)]
    writer = start([*CLI, "store", "-q", "--exit-when-idle", "1"], env)
    while stored(db_file) < sources:
        time.sleep(0.05)
    done = time.monotonic()
    rss = [finish(p, "worker")[1] for p in procs]
    writer_rss = finish(writer, "writer")[1]
    return {"mode": f"cluster, {workers} worker{'s' if workers > 1 else ''} + writer", "seconds": done - began,
            "rss": f"{'/'.join(map(str, rss))} + writer {writer_rss}", "documents": sources,
            "cpu": f"{CPU['worker'] / sources * 1000:.1f} + writer {CPU['writer'] / sources * 1000:.1f}"}


def writer_alone(work: Path, env: dict, sources: int, redis: RedisServer) -> dict:
    """Workers fill the stream (no writer running), then the writer drains it alone."""
    db_file = work / "writer.db"
    env = {**env, "CLAUSEWATCH_DB": str(db_file), "CLAUSEWATCH_REDIS_URL": redis.url,
           "CLAUSEWATCH_REDIS_MAX_BACKLOG": str(sources + 1)}
    client = redis.client()
    client.flushall()
    before = client.info("memory")["used_memory"]
    subprocess.run([*CLI, "enqueue", "-q", "--cycle", "bench-writer"], env=env, cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    queued_bytes = (client.info("memory")["used_memory"] - before) / sources
    before = client.info("memory")["used_memory"]
    workers = [start([*CLI, "worker", "-q"], env) for _ in range(2)]
    while client.xlen("clausewatch:items") < sources:
        time.sleep(0.1)
    for proc in workers:
        proc.terminate()
        finish(proc)
    item_bytes = (client.info("memory")["used_memory"] - before) / sources
    CPU.clear()
    began = time.monotonic()
    ended, rss = finish(start([*CLI, "store", "-q", "--exit-when-idle", "0.5"], env), "writer")
    seconds = ended - began - 0.5
    return {"seconds": seconds, "rss": rss, "queued_bytes": queued_bytes, "item_bytes": item_bytes,
            "cpu": f"{CPU['writer'] / sources * 1000:.1f}"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sources", type=int, default=3000)
    parser.add_argument("--delay", type=float, default=0.0, help="per-host delay (CLAUSEWATCH_DOWNLOAD_DELAY)")
    parser.add_argument("--latency", type=float, default=0.005, help="each host's answer time (s)")
    args = parser.parse_args()
    if redis_available():
        raise SystemExit(redis_available())
    work = Path(tempfile.mkdtemp(prefix="clausewatch-scale-"))
    farm = processes.popen([sys.executable, "-m", "tests.hostfarm", "--hosts", str(HOSTS), "--log",
                            str(work / "requests.log"), "--latency", str(args.latency)],
                           cwd=ROOT, stdout=subprocess.PIPE, text=True)
    redis = None
    try:
        port = int(farm.stdout.readline().split()[1])
        write_registry(work / "sources", args.sources, HOSTS, port)
        env = {**os.environ, "CLAUSEWATCH_SOURCES": str(work / "sources"), "CLAUSEWATCH_ALLOW_LOCAL": "1",
               "CLAUSEWATCH_DOWNLOAD_DELAY": str(args.delay), "CLAUSEWATCH_WORKER_TTL": "5"}
        env.pop("CLAUSEWATCH_REDIS_URL", None)
        redis = RedisServer(work / "redis").start()
        print(f"{args.sources:,} sources on {HOSTS} hosts (answer {args.latency * 1000:g} ms, per-host delay "
              f"{args.delay:g} s), {os.cpu_count()} cores", file=sys.stderr)
        rows = [per_source(work, env, min(20, args.sources)), in_process(work, env, args.sources)]
        print(f"  {rows[0]['mode']}: {rows[0]['seconds'] / rows[0]['documents']:.2f} s per source", file=sys.stderr)
        for workers in (1, 2, 3):
            rows.append(cluster(work, env, args.sources, workers, redis))
            print(f"  {rows[-1]['mode']}: {rows[-1]['seconds']:.1f} s", file=sys.stderr)
        alone = writer_alone(work, env, args.sources, redis)
    finally:
        if redis is not None:
            redis.stop()
        processes.stop(farm)
        shutil.rmtree(work, ignore_errors=True)
    print("\n| mode | documents | seconds | documents/s | CPU ms per document | peak RSS (MB) |\n"
          "|---|---|---|---|---|---|")
    for row in rows:
        rate = row["documents"] / row["seconds"]
        print(f"| {row['mode']} | {row['documents']:,} | {row['seconds']:.1f} | "
              f"{rate:,.{1 if rate < 10 else 0}f} | {row['cpu']} | {row['rss']} |")
    print(f"| writer alone, draining a full stream | {args.sources:,} items | {alone['seconds']:.1f} | "
          f"{args.sources / alone['seconds']:,.0f} items/s | {alone['cpu']} | {alone['rss']} |")
    print(f"\nRedis memory: {alone['queued_bytes']:,.0f} bytes per queued job, "
          f"{alone['item_bytes']:,.0f} bytes per item waiting for the writer (documents of "
          f"{len(document(0, 1)):,} bytes)")


if __name__ == "__main__":
    main()
