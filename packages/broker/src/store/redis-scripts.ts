/**
 * Lua scripts of the Redis store. Each runs atomically in Redis, which is what keeps
 * several brokers from leasing one address twice. All keys of one segment share the
 * hash tag `{segment}`, so a script's keys live in one Redis Cluster slot.
 *
 * Per segment:  el:{seg}:leases  hash  key → JSON {ipv4?, ipv6?, prefix4?, prefix6?, exp}
 *               el:{seg}:addrs   hash  "<family> <address>" → key
 *               el:{seg}:exp     zset  key scored by exp (count and list without a scan)
 *               el:{seg}:keys    zset  every key at score 0: a user's keys by prefix (ZRANGEBYLEX)
 * Rate limits:  el:{rl}:n        hash  counter → count (settled failures + attempts in flight)
 *               el:{rl}:x        zset  counter scored by the end of its window (bound, expiry)
 *               el:{rl}:p        hash  counter → attempts in flight
 * One hash tag for every counter lets one script reserve all of a login's counters.
 * Trunk losses: el:downs       hash  JSON [node, reporter] → JSON {since, at, until}
 *               {el:downs}:swept  string  when a full table was last scanned (ARGV now, ms);
 *                                 its hash tag puts it in el:downs's Cluster slot.
 * The clock is the calling broker's (ARGV now, ms): brokers run NTP like the nodes do.
 */

const FAMILIES = `local FAMILIES = {'ipv4', 'ipv6', 'prefix4', 'prefix6'}
local function drop(key, rec)
  for _, f in ipairs(FAMILIES) do
    if rec[f] then redis.call('HDEL', KEYS[2], f .. ' ' .. rec[f]) end
  end
  redis.call('HDEL', KEYS[1], key)
  redis.call('ZREM', KEYS[3], key)
  redis.call('ZREM', KEYS[4], key)
end
local function load(key)
  local raw = redis.call('HGET', KEYS[1], key)
  if raw then return cjson.decode(raw) end
  return nil
end
local function save(key, rec)
  redis.call('HSET', KEYS[1], key, cjson.encode(rec))
  redis.call('ZADD', KEYS[3], rec.exp, key)
  redis.call('ZADD', KEYS[4], 0, key)
end
`;

/**
 * KEYS leases, addrs, exp, keys; ARGV key, family, address, now, ttlMs, force ('1'|'0'),
 * owner prefix ('' = no cap), max keys of that owner. Returns the held address, false
 * (taken by another key), or '!limit' (a new key while the owner holds max live ones).
 */
export const CLAIM = `${FAMILIES}
local key, family, address = ARGV[1], ARGV[2], ARGV[3]
local now, ttl, force = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6] == '1'
local rec = load(key)
if rec and rec.exp <= now then drop(key, rec); rec = nil end
if not rec and ARGV[7] ~= '' then
  local n = 0
  for _, m in ipairs(redis.call('ZRANGEBYLEX', KEYS[4], '[' .. ARGV[7], '[' .. ARGV[7] .. '\\255')) do
    local other = load(m)
    if other and other.exp > now then n = n + 1
    elseif other then drop(m, other)
    else redis.call('ZREM', KEYS[4], m) end
  end
  if n >= tonumber(ARGV[8]) then return '!limit' end
end
local held = rec and rec[family]
if held and (held == address or not force) then
  rec.exp = now + ttl
  save(key, rec)
  return held
end
local slot = family .. ' ' .. address
local owner = redis.call('HGET', KEYS[2], slot)
if owner and owner ~= key then
  local other = load(owner)
  if other and other.exp > now and not force then return false end
  if other and other.exp <= now then drop(owner, other)
  elseif other then other[family] = nil; save(owner, other) end
end
if held then redis.call('HDEL', KEYS[2], family .. ' ' .. held) end
redis.call('HSET', KEYS[2], slot, key)
rec = rec or {}
rec[family] = address
rec.exp = now + ttl
save(key, rec)
return address
`;

/** KEYS leases, addrs, exp, keys; ARGV key, now, ttlMs. */
export const TOUCH = `${FAMILIES}
local rec = load(ARGV[1])
if rec and rec.exp > tonumber(ARGV[2]) then rec.exp = tonumber(ARGV[2]) + tonumber(ARGV[3]); save(ARGV[1], rec) end
return 1
`;

/** KEYS leases, addrs, exp, keys; ARGV key. Returns 1 when the key held a lease. */
export const RELEASE = `${FAMILIES}
local rec = load(ARGV[1])
if not rec then return 0 end
drop(ARGV[1], rec)
return 1
`;

/** KEYS leases, addrs, exp, keys; ARGV now, limit. Drops up to `limit` expired leases (housekeeping). */
export const SWEEP = `${FAMILIES}
local keys = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, key in ipairs(keys) do
  local rec = load(key)
  if rec then drop(key, rec) else redis.call('ZREM', KEYS[3], key) end
end
return #keys
`;

const COUNTERS = `local function prune(now, n)
  for _, m in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now, 'LIMIT', 0, n)) do
    redis.call('HDEL', KEYS[1], m)
    redis.call('HDEL', KEYS[3], m)
    redis.call('ZREM', KEYS[2], m)
  end
end
`;

/**
 * KEYS counts, windows, pending; ARGV now, max counters, then (key, limit, windowMs) per
 * counter. Returns {1} when every counter took a unit, {0, i, msLeft} when counter i
 * (1-based) is at its limit (msLeft 0: attempts in flight fill it), {0, 0, msLeft} when
 * the table is full (msLeft: until the oldest ends).
 */
export const RESERVE = `${COUNTERS}
local now, cap = tonumber(ARGV[1]), tonumber(ARGV[2])
-- Housekeeping rides along: a bounded batch of ended windows is dropped.
prune(now, 256)
local n = (#ARGV - 2) / 3
local live, absent = {}, 0
for i = 1, n do
  local key, limit = ARGV[3 * i], tonumber(ARGV[3 * i + 1])
  local ends = tonumber(redis.call('ZSCORE', KEYS[2], key))
  if not ends then absent = absent + 1 end
  if ends and ends > now then
    live[i] = true
    local count = tonumber(redis.call('HGET', KEYS[1], key) or '0')
    if count >= limit then
      if count - tonumber(redis.call('HGET', KEYS[3], key) or '0') >= limit then return {0, i, ends - now} end
      return {0, i, 0}
    end
  end
end
if absent > 0 and redis.call('ZCARD', KEYS[2]) + absent > cap then
  prune(now, 100000)
  if redis.call('ZCARD', KEYS[2]) + absent > cap then
    local first = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
    return {0, 0, tonumber(first[2]) - now}
  end
end
for i = 1, n do
  local key = ARGV[3 * i]
  if live[i] then
    redis.call('HINCRBY', KEYS[1], key, 1)
    redis.call('HINCRBY', KEYS[3], key, 1)
  else
    redis.call('HSET', KEYS[1], key, 1)
    redis.call('HSET', KEYS[3], key, 1)
    redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3 * i + 2]), key)
  end
end
return {1}
`;

/** KEYS counts, windows, pending; ARGV now, giveBack ('1'|'0'), keys…: ends one flight per live counter. */
export const SETTLE = `
local now, giveBack = tonumber(ARGV[1]), ARGV[2] == '1'
for i = 3, #ARGV do
  local key = ARGV[i]
  local ends = tonumber(redis.call('ZSCORE', KEYS[2], key))
  if ends and ends > now and tonumber(redis.call('HGET', KEYS[3], key) or '0') > 0 then
    redis.call('HINCRBY', KEYS[3], key, -1)
    if giveBack and redis.call('HINCRBY', KEYS[1], key, -1) <= 0 then
      redis.call('HDEL', KEYS[1], key)
      redis.call('HDEL', KEYS[3], key)
      redis.call('ZREM', KEYS[2], key)
    end
  end
end
return 1
`;

/**
 * KEYS downs, swept; ARGV now, max entries, sweep interval (ms), then (field, since, value)
 * per loss. Per loss in turn, as MemoryStore.putTrunkDowns: a live entry with that `since`
 * stays as it is; otherwise the value is written, a new field only while fewer than max are
 * kept (checked again after a sweep of the expired entries, a scan of the whole hash: at
 * most one per sweep interval, recorded in `swept`, so a table full of live entries does
 * not cost a scan at every put). Returns the 1-based numbers of the losses written.
 */
export const PUT_DOWNS = `
local now, max, every = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local made, swept = {}, false
for i = 1, (#ARGV - 3) / 3 do
  local field, since = ARGV[3 * i + 1], tonumber(ARGV[3 * i + 2])
  local raw = redis.call('HGET', KEYS[1], field)
  local old = raw and cjson.decode(raw)
  if not (old and old['until'] > now and old.since == since) then
    if not raw and not swept and redis.call('HLEN', KEYS[1]) >= max then
      swept = true
      local last = tonumber(redis.call('GET', KEYS[2]) or '')
      -- A mark far ahead of this clock (a broker's clock that was wrong) does not stop scans.
      if not last or now - last >= every or last - now > 60000 then
        redis.call('SET', KEYS[2], now, 'PX', 3600000)
        local all = redis.call('HGETALL', KEYS[1])
        for j = 1, #all, 2 do
          if cjson.decode(all[j + 1])['until'] <= now then redis.call('HDEL', KEYS[1], all[j]) end
        end
      end
    end
    if raw or redis.call('HLEN', KEYS[1]) < max then
      redis.call('HSET', KEYS[1], field, ARGV[3 * i + 3])
      made[#made + 1] = i
    end
  end
end
return made
`;

/**
 * KEYS hash; ARGV field, value, max entries. Writes the field when it is there already or
 * fewer than max fields are: the size check and the write in one step, so brokers adding
 * entries at the same moment cannot take the table past its bound. Returns 1 if written.
 */
export const HSET_BOUNDED = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 or redis.call('HLEN', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  return 1
end
return 0
`;

/**
 * KEYS a user's device-key hash; ARGV device, record JSON {key, until}, now, max keys, ttl
 * (ms). As MemoryStore.putDeviceKey, in one step: a new device on a full hash first has the
 * ended keys dropped, or else the one nearest its end (the first of them in the hash's
 * order); then the record is written and the hash lives at least ttl.
 */
export const PUT_DEVICE_KEY = `
local now, max, ttl = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 and redis.call('HLEN', KEYS[1]) >= max then
  local all = redis.call('HGETALL', KEYS[1])
  local stale, nearest, nearestUntil = {}, nil, nil
  for j = 1, #all, 2 do
    local u = cjson.decode(all[j + 1])['until']
    if u <= now then stale[#stale + 1] = all[j] end
    if not nearestUntil or u < nearestUntil then nearest, nearestUntil = all[j], u end
  end
  if #stale == 0 and nearest then stale[1] = nearest end
  for _, d in ipairs(stale) do redis.call('HDEL', KEYS[1], d) end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1
`;

/**
 * KEYS revocations (zset, scored by until in seconds); ARGV now (s), max, until, member.
 * Drops the ended ones, then adds the member while fewer than max are live: one step, so
 * brokers revoking at once cannot pass the bound. Returns 1 if added, 0 when full.
 */
export const ADD_REVOCATION = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
return 1
`;

/**
 * KEYS downs; ARGV now, then (field, since) per trunk back up. Deletes each entry whose
 * `since` is older; returns (1-based number, old value) of each deleted one that was live.
 */
export const CLEAR_DOWNS = `
local now = tonumber(ARGV[1])
local gone = {}
for i = 1, (#ARGV - 1) / 2 do
  local raw = redis.call('HGET', KEYS[1], ARGV[2 * i])
  local old = raw and cjson.decode(raw)
  if old and old.since < tonumber(ARGV[2 * i + 1]) then
    redis.call('HDEL', KEYS[1], ARGV[2 * i])
    if old['until'] > now then
      gone[#gone + 1] = i
      gone[#gone + 1] = raw
    end
  end
end
return gone
`;
