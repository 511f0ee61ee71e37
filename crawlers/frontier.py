"""The shared crawl frontier in Redis: per-host request queues, the cluster-wide host gate, leases, the
duplicate filter and the item stream. Plain ``redis`` (no Scrapy): the producer (``clausewatch enqueue``,
the scheduler daemon), the workers' scrapy-redis scheduler and the writer all use it.

Every change of state is one Lua script, so a process killed between two Redis commands leaves nothing
half done. Times come from the Redis server (``TIME``), so the per-host delay holds across machines
whose clocks differ.

Keys (``P`` is the prefix, ``Q`` = ``P:documents:requests``, the scrapy-redis queue key):

============================  ====================================================================
``Q:host:HOST``               list: the requests waiting for HOST (encoded by the queue, or job JSON)
``Q:ready``                   zset HOST -> time (ms) it may be requested next; only hosts with work
``Q:busy``, ``Q:busy:owner``  zset HOST -> lock deadline; hash HOST -> lease token: one request per
                              host at a time across the cluster
``Q:next:HOST``               the earliest next request time of an idle HOST (expires)
``Q:leases``, ``Q:lease:host``  hash token -> the request a worker took, and its host, until the
``Q:lease:since``             worker handed on everything the request produced; zset token -> since when
``Q:queued``                  number of queued requests
``P:documents:dupefilter``    zset fingerprint -> time added (the scrapy-redis dupefilter key)
``P:items``                   stream of items for the writer (consumer group ``writers``)
``P:items:dead``              items the writer could not store (kept for people to look at)
``P:worker:ID``, ``P:workers``  a worker's heartbeat (expires), the set of worker ids
============================  ====================================================================

A lease token is ``WORKER_ID/N``. A worker whose heartbeat expired (killed, frozen, cut off) loses its
leases and host locks to :meth:`Frontier.reap`, run by every live worker: its requests go back to the
front of their host queue (fetched again, stored once: items carry an id the writer deduplicates) and
its hosts become free after the per-host delay. A host lock also expires at its deadline.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from typing import Any

from clausewatch.crawlers.frontier_lua import GIVE_BACK, HANDOFF, POP, PUSH, REAP, RELEASE

SPIDER = "documents"
GROUP = "writers"

def fingerprint(key: str) -> str:
    """The duplicate-filter fingerprint of a job key (``SOURCE@CYCLE``, ``SOURCE@CYCLE#STEP`` ...)."""
    return hashlib.sha1(key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Keys:
    prefix: str = "clausewatch"

    @property
    def queue(self) -> str:       # scrapy-redis SCHEDULER_QUEUE_KEY (spider name filled in)
        return f"{self.prefix}:{SPIDER}:requests"

    @property
    def dupefilter(self) -> str:  # scrapy-redis SCHEDULER_DUPEFILTER_KEY
        return f"{self.prefix}:{SPIDER}:dupefilter"

    @property
    def stream(self) -> str:
        return f"{self.prefix}:items"

    @property
    def dead(self) -> str:
        return f"{self.prefix}:items:dead"

    @property
    def workers(self) -> str:
        return f"{self.prefix}:workers"

    def worker(self, worker_id: str = "") -> str:
        return f"{self.prefix}:worker:{worker_id}"


class Frontier:
    """The frontier of one clausewatch installation (``prefix``) on one Redis server."""

    def __init__(self, client, prefix: str = "clausewatch"):
        self.redis = client
        self.keys = Keys(prefix)
        self._push = client.register_script(PUSH)
        self._pop = client.register_script(POP)
        self._release = client.register_script(RELEASE)
        self._handoff = client.register_script(HANDOFF)
        self._reap = client.register_script(REAP)
        self._give_back = client.register_script(GIVE_BACK)

    # ------------------------------------------------------------ requests

    def push(self, host: str, data: bytes | str, *, key: str | None = None, front: bool = False,
             transfer: str | None = None, client=None) -> bool:
        """Queue ``data`` for ``host``. With a job ``key``, only if no request with that key was queued
        before (False otherwise). ``transfer``: the lease this request replaces (a retry, a redirect).
        ``client``: a pipeline to add the call to (its ``execute()`` returns the results)."""
        fp = fingerprint(key) if key else ""
        result = self._push(keys=[self.keys.queue, self.keys.dupefilter],
                            args=[host, data, fp, "1" if front else "0", transfer or ""], client=client)
        return result if client is not None else bool(result)

    def pop(self, token: str, *, lock_s: float, max_backlog: int = 0) -> tuple[bytes | None, str | None, str]:
        """Take the next request of a host that may be requested now, lock that host, lease the request.

        Returns ``(data, host, "")``, or ``(None, None, why)``: ``"empty"``, ``"backlog"`` (the writer is
        behind) or the milliseconds until a host is ready."""
        data, host, wait = self._pop(keys=[self.keys.queue, self.keys.stream],
                                     args=[token, int(lock_s * 1000), max_backlog])
        wait = wait.decode() if isinstance(wait, bytes) else wait
        return data, (host.decode() if isinstance(host, bytes) else host), wait

    def give_back(self, token: str, delay_s: float) -> bool:
        """Requeue the request leased under ``token`` (if it is) and free its host: for a worker that lost
        the reply of a pop, or could not hand on a retry, while Redis was away."""
        return bool(self._give_back(keys=[self.keys.queue], args=[token, int(delay_s * 1000)]))

    def release_host(self, host: str, token: str, delay_s: float) -> bool:
        """The request of ``token`` is answered: ``host`` may be requested again after ``delay_s``."""
        return bool(self._release(keys=[self.keys.queue], args=[host, token, int(delay_s * 1000)]))

    def handoff(self, token: str | None, host: str | None, entries: list[dict[str, bytes | str]],
                requests: list[tuple[str, bytes, str | None]], delay_s: float) -> int:
        """Atomically add ``entries`` to the item stream, queue ``requests`` (host, data, job key), drop the
        lease ``token`` and release its host lock if still held."""
        args: list[Any] = [token or "", host or "", int(delay_s * 1000), len(entries)]
        for entry in entries:
            flat = [x for pair in entry.items() for x in pair]
            args += [len(flat), *flat]
        args.append(len(requests))
        for req_host, data, key in requests:
            args += [req_host, data, fingerprint(key) if key else ""]
        return int(self._handoff(keys=[self.keys.queue, self.keys.dupefilter, self.keys.stream], args=args))

    def reap(self, delay_s: float, *, worker: str = "", retention_s: float = 8 * 86400,
             lease_max_s: float = 3600) -> tuple[int, int]:
        """Give back the leases and host locks of dead workers (or of ``worker``, stopping cleanly) and
        leases older than ``lease_max_s``; forget fingerprints older than ``retention_s``. Returns
        (requests requeued, hosts freed)."""
        requeued, freed = self._reap(keys=[self.keys.queue, self.keys.worker(), self.keys.dupefilter],
                                     args=[int(delay_s * 1000), worker, int(retention_s * 1000),
                                           int(lease_max_s * 1000)])
        return int(requeued), int(freed)

    def queued(self) -> int:
        return int(self.redis.get(f"{self.keys.queue}:queued") or 0)

    def leased(self) -> int:
        return int(self.redis.hlen(f"{self.keys.queue}:leases"))

    def idle(self) -> bool:
        """Nothing queued, nothing being fetched and nothing waiting for the writer anywhere in the cluster
        (the writer queues the first fetch of discovered sources before it acknowledges their listing)."""
        return self.queued() <= 0 and self.leased() == 0 and self.backlog() == 0

    # ------------------------------------------------------------ workers

    def beat(self, worker_id: str, ttl_s: float, info: dict[str, Any]) -> None:
        pipe = self.redis.pipeline()
        pipe.set(self.keys.worker(worker_id), json.dumps(info), px=max(1, int(ttl_s * 1000)))
        pipe.sadd(self.keys.workers, worker_id)
        pipe.execute()

    def leave(self, worker_id: str) -> None:
        self.redis.delete(self.keys.worker(worker_id))
        self.redis.srem(self.keys.workers, worker_id)

    def workers(self) -> dict[str, dict[str, Any]]:
        """Live workers and what they said about themselves; forgets the ids of dead ones."""
        alive = {}
        for raw in self.redis.smembers(self.keys.workers):
            wid = raw.decode() if isinstance(raw, bytes) else raw
            info = self.redis.get(self.keys.worker(wid))
            if info is None:
                self.redis.srem(self.keys.workers, wid)
            else:
                alive[wid] = json.loads(info)
        return alive

    # ------------------------------------------------------------ the item stream (the writer's side)

    def ensure_group(self) -> None:
        try:
            self.redis.xgroup_create(self.keys.stream, GROUP, id="0", mkstream=True)
        except Exception as exc:  # noqa: BLE001 - redis.ResponseError BUSYGROUP: it exists
            if "BUSYGROUP" not in str(exc):
                raise

    def read(self, consumer: str, *, count: int, block_ms: int | None, pending: bool = False) -> list:
        """Entries for ``consumer``: its pending ones (delivered, not acknowledged) or new ones."""
        reply = self.redis.xreadgroup(GROUP, consumer, {self.keys.stream: "0" if pending else ">"},
                                      count=count, block=None if pending else block_ms)
        return reply[0][1] if reply else []

    def claim_stale(self, consumer: str, idle_ms: int, count: int = 500) -> int:
        """Take over entries another consumer (a writer under another name) left unacknowledged."""
        claimed = 0
        while True:
            pending = self.redis.xpending_range(self.keys.stream, GROUP, min="-", max="+", count=count,
                                                idle=idle_ms)
            ids = [p["message_id"] for p in pending if _text(p["consumer"]) != consumer]
            if not ids:
                return claimed
            self.redis.xclaim(self.keys.stream, GROUP, consumer, idle_ms, ids, justid=True)
            claimed += len(ids)

    def ack(self, ids: list) -> None:
        """Acknowledge and delete stored entries (after the transaction that stored them committed)."""
        if not ids:
            return
        pipe = self.redis.pipeline(transaction=True)
        pipe.xack(self.keys.stream, GROUP, *ids)
        pipe.xdel(self.keys.stream, *ids)
        pipe.execute()

    def bury(self, entry_id, fields: dict, error: str) -> None:
        """Move an entry the writer cannot store to the dead-letter stream, with the reason."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.xadd(self.keys.dead, {**fields, b"error": error.encode("utf-8"), b"entry": entry_id})
        pipe.xack(self.keys.stream, GROUP, entry_id)
        pipe.xdel(self.keys.stream, entry_id)
        pipe.execute()

    def backlog(self) -> int:
        return int(self.redis.xlen(self.keys.stream))

    def stats(self) -> dict[str, Any]:
        q = self.keys.queue
        pipe = self.redis.pipeline()
        pipe.get(f"{q}:queued")
        pipe.hlen(f"{q}:leases")
        pipe.zcard(f"{q}:ready")
        pipe.zcard(f"{q}:busy")
        pipe.xlen(self.keys.stream)
        pipe.xlen(self.keys.dead)
        pipe.zcard(self.keys.dupefilter)
        queued, leased, ready, busy, stream, dead, seen = pipe.execute()
        return {"queued": int(queued or 0), "in_flight": int(leased), "hosts_waiting": int(ready),
                "hosts_busy": int(busy), "items_to_store": int(stream), "items_dead": int(dead),
                "fingerprints": int(seen), "workers": len(self.workers()), "at": time.time()}


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def connect_redis(url: str):
    """A Redis client for ``url`` (``redis://HOST:PORT/DB``, ``unix:///path.sock``), checked with PING;
    raises :class:`FrontierError` with one line when it cannot be reached."""
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=30, socket_connect_timeout=10, retry_on_timeout=True,
                                      health_check_interval=30)
        client.ping()
    except (redis.RedisError, ValueError, OSError) as exc:
        raise FrontierError(f"cannot reach Redis at {redact(url)} ({exc}); is redis-server running? "
                            "(CLAUSEWATCH_REDIS_URL)") from None
    return client


def redact(url: str) -> str:
    """The URL without its password (for log lines)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = f"{parts.username or ''}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


class FrontierError(RuntimeError):
    """Redis cannot be reached or used (one line for people)."""
