"""The Lua scripts of :mod:`clausewatch.crawlers.frontier`: every change of the frontier's state is one of
them, so it happens whole or not at all (a process killed between two Redis commands leaves nothing half
done). ``Q`` is the queue key (``P:documents:requests``); the keys are described in the frontier module.
Times are the Redis server's (``TIME``), in milliseconds.
"""
from __future__ import annotations

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
PUSH = _PRELUDE + r"""
local q, now = KEYS[1], now_ms()
if ARGV[5] ~= '' then drop_lease(q, ARGV[5]) end
return push(q, KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4] == '1', now)
"""

# KEYS: Q, stream   ARGV: token, lock ms, max stream backlog (0 = no limit)
# returns {data, host, wait}: wait is '' when a request is returned, else 'backlog', 'empty' or the ms
# until the next host is ready
POP = _PRELUDE + r"""
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
RELEASE = _PRELUDE + r"""
return release_host(KEYS[1], ARGV[1], ARGV[2], tonumber(ARGV[3]), now_ms())
"""

# A lease whose worker does not know whether it got it (the reply of a pop was lost): back to the front of its
# host queue, and the host lock released.   KEYS: Q   ARGV: token, delay ms
GIVE_BACK = _PRELUDE + r"""
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
HANDOFF = _PRELUDE + r"""
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
REAP = _PRELUDE + r"""
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
