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

SPIDER = "documents"
GROUP = "writers"

_PRELUDE = r"""
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function worker_of(token)
  return string.match(token or '', '^(.*)/[^/]*$')
end
local function mark_ready(q, host, now)
  if not redis.call('ZSCORE', q .. ':busy', host) and not redis.call('ZSCORE', q .. ':ready', host) then
    local nxt = tonumber(redis.call('GET', q .. ':next:' .. host) or '0')
    if nxt < now then nxt = now end
    redis.call('ZADD', q .. ':ready', nxt, host)
  end
end
local function push(q, df, host, data, fp, front, now)
  if fp ~= '' and redis.call('ZADD', df, 'NX', now, fp) == 0 then
    return 0
  end
  if front then
    redis.call('LPUSH', q .. ':host:' .. host, data)
  else
    redis.call('RPUSH', q .. ':host:' .. host, data)
  end
  redis.call('INCR', q .. ':queued')
  mark_ready(q, host, now)
  return 1
end
local function drop_lease(q, token)
  redis.call('HDEL', q .. ':leases', token)
  redis.call('HDEL', q .. ':lease:host', token)
  redis.call('ZREM', q .. ':lease:since', token)
end
local function release_host(q, host, token, delay, now)
  if redis.call('HGET', q .. ':busy:owner', host) ~= token then
    return 0
  end
  redis.call('ZREM', q .. ':busy', host)
  redis.call('HDEL', q .. ':busy:owner', host)
  local nxt = now + delay
  redis.call('SET', q .. ':next:' .. host, nxt, 'PX', delay + 60000)
  if redis.call('LLEN', q .. ':host:' .. host) > 0 then
    redis.call('ZADD', q .. ':ready', nxt, host)
  end
  return 1
end
"""

# KEYS: Q, dupefilter   ARGV: host, data, fingerprint ('' = none), front ('1'), transfer token ('' = none)
_PUSH = _PRELUDE + r"""
local q, now = KEYS[1], now_ms()
if ARGV[5] ~= '' then drop_lease(q, ARGV[5]) end
return push(q, KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4] == '1', now)
"""

# KEYS: Q, stream   ARGV: token, lock ms, max stream backlog (0 = no limit)
# returns {data, host, wait}: wait is '' when a request is returned, else 'backlog', 'empty' or the ms
# until the next host is ready
_POP = _PRELUDE + r"""
local q, now = KEYS[1], now_ms()
local backlog = tonumber(ARGV[3])
if backlog > 0 and redis.call('XLEN', KEYS[2]) >= backlog then
  return {false, false, 'backlog'}
end
for _ = 1, 20 do
  local hosts = redis.call('ZRANGEBYSCORE', q .. ':ready', '-inf', now, 'LIMIT', 0, 1)
  if #hosts == 0 then
    local first = redis.call('ZRANGE', q .. ':ready', 0, 0, 'WITHSCORES')
    if #first == 0 then return {false, false, 'empty'} end
    return {false, false, tostring(tonumber(first[2]) - now)}
  end
  local host = hosts[1]
  redis.call('ZREM', q .. ':ready', host)
  local data = redis.call('LPOP', q .. ':host:' .. host)
  if data then
    redis.call('DECR', q .. ':queued')
    redis.call('ZADD', q .. ':busy', now + tonumber(ARGV[2]), host)
    redis.call('HSET', q .. ':busy:owner', host, ARGV[1])
    redis.call('HSET', q .. ':leases', ARGV[1], data)
    redis.call('HSET', q .. ':lease:host', ARGV[1], host)
    redis.call('ZADD', q .. ':lease:since', now, ARGV[1])
    return {data, host, ''}
  end
end
return {false, false, '0'}
"""

# KEYS: Q   ARGV: host, token, delay ms
_RELEASE = _PRELUDE + r"""
return release_host(KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3]), now_ms())
"""

# A lease whose worker does not know whether it got it (the reply of a pop was lost): back to the front of its
# host queue, and the host lock released.   KEYS: Q   ARGV: token, delay ms
_GIVE_BACK = _PRELUDE + r"""
local q, now = KEYS[1], now_ms()
local data = redis.call('HGET', q .. ':leases', ARGV[1])
local host = redis.call('HGET', q .. ':lease:host', ARGV[1])
if not (data and host) then return 0 end
drop_lease(q, ARGV[1])
push(q, '', host, data, '', true, now)
release_host(q, host, ARGV[1], tonumber(ARGV[2]), now)
return 1
"""

# Everything a leased request produced, handed on at once, then its lease dropped.
# KEYS: Q, dupefilter, stream   ARGV: token, host, delay ms, number of entries, then per entry the number
# of field/value strings and the strings, then the number of requests and per request host, data, fingerprint
_HANDOFF = _PRELUDE + r"""
local q, df, stream, now = KEYS[1], KEYS[2], KEYS[3], now_ms()
local i = 5
local added = 0
for _ = 1, tonumber(ARGV[4]) do
  local n = tonumber(ARGV[i]); i = i + 1
  local fields = {}
  for k = 1, n do fields[k] = ARGV[i + k - 1] end
  i = i + n
  redis.call('XADD', stream, '*', unpack(fields))
  added = added + 1
end
local requests = tonumber(ARGV[i]); i = i + 1
for _ = 1, requests do
  push(q, df, ARGV[i], ARGV[i + 1], ARGV[i + 2], false, now)
  i = i + 3
end
if ARGV[1] ~= '' then
  drop_lease(q, ARGV[1])
  release_host(q, ARGV[2], ARGV[1], tonumber(ARGV[3]), now)
end
return added
"""

# KEYS: Q, worker key prefix, dupefilter   ARGV: delay ms, worker whose leases to return ('' = dead ones only),
# dupefilter retention ms, longest a lease may be held (ms; a live worker that lost a request, say to a Redis
# outage while it handed it on, must not keep it forever)
_REAP = _PRELUDE + r"""
local q, wprefix, now = KEYS[1], KEYS[2], now_ms()
local delay, forced = tonumber(ARGV[1]), ARGV[2]
local oldest = now - tonumber(ARGV[4])
local function gone(worker)
  return (not worker) or worker == forced or redis.call('EXISTS', wprefix .. worker) == 0
end
local requeued, freed = 0, 0
for _, token in ipairs(redis.call('HKEYS', q .. ':lease:host')) do
  local since = tonumber(redis.call('ZSCORE', q .. ':lease:since', token) or now)
  if gone(worker_of(token)) or since < oldest then
    local data = redis.call('HGET', q .. ':leases', token)
    local host = redis.call('HGET', q .. ':lease:host', token)
    drop_lease(q, token)
    if data and host then
      push(q, '', host, data, '', true, now)
      requeued = requeued + 1
    end
  end
end
local busy = redis.call('ZRANGE', q .. ':busy', 0, -1, 'WITHSCORES')
for k = 1, #busy, 2 do
  local host, deadline = busy[k], tonumber(busy[k + 1])
  local token = redis.call('HGET', q .. ':busy:owner', host)
  if deadline <= now or gone(worker_of(token)) then
    if token then
      release_host(q, host, token, delay, now)
    else
      redis.call('ZREM', q .. ':busy', host)
      if redis.call('LLEN', q .. ':host:' .. host) > 0 then redis.call('ZADD', q .. ':ready', now + delay, host) end
    end
    freed = freed + 1
  end
end
local retention = tonumber(ARGV[3])
if retention > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - retention) end
return {requeued, freed}
"""


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
        self._push = client.register_script(_PUSH)
        self._pop = client.register_script(_POP)
        self._release = client.register_script(_RELEASE)
        self._handoff = client.register_script(_HANDOFF)
        self._reap = client.register_script(_REAP)
        self._give_back = client.register_script(_GIVE_BACK)

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
