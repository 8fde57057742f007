/**
 * Lua scripts of the Redis store. Each runs atomically in Redis, which is what keeps
 * several brokers from leasing one address twice. All keys of one segment share the
 * hash tag `{segment}`, so a script's keys live in one Redis Cluster slot.
 *
 * Per segment:  el:{seg}:leases  hash  key → JSON {ipv4?, ipv6?, prefix4?, prefix6?, exp}
 *               el:{seg}:addrs   hash  "<family> <address>" → key
 *               el:{seg}:exp     zset  key scored by exp (count and list without a scan)
 * The clock is the calling broker's (ARGV now, ms): brokers run NTP like the nodes do.
 */

const FAMILIES = `local FAMILIES = {'ipv4', 'ipv6', 'prefix4', 'prefix6'}
local function drop(key, rec)
  for _, f in ipairs(FAMILIES) do
    if rec[f] then redis.call('HDEL', KEYS[2], f .. ' ' .. rec[f]) end
  end
  redis.call('HDEL', KEYS[1], key)
  redis.call('ZREM', KEYS[3], key)
end
local function load(key)
  local raw = redis.call('HGET', KEYS[1], key)
  if raw then return cjson.decode(raw) end
  return nil
end
local function save(key, rec)
  redis.call('HSET', KEYS[1], key, cjson.encode(rec))
  redis.call('ZADD', KEYS[3], rec.exp, key)
end
`;

/** KEYS leases, addrs, exp; ARGV key, family, address, now, ttlMs, force ('1'|'0'). Returns the held address or false. */
export const CLAIM = `${FAMILIES}
local key, family, address = ARGV[1], ARGV[2], ARGV[3]
local now, ttl, force = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6] == '1'
local rec = load(key)
if rec and rec.exp <= now then drop(key, rec); rec = nil end
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

/** KEYS leases, addrs, exp; ARGV key, now, ttlMs. */
export const TOUCH = `${FAMILIES}
local rec = load(ARGV[1])
if rec and rec.exp > tonumber(ARGV[2]) then rec.exp = tonumber(ARGV[2]) + tonumber(ARGV[3]); save(ARGV[1], rec) end
return 1
`;

/** KEYS leases, addrs, exp; ARGV key. Returns 1 when the key held a lease. */
export const RELEASE = `${FAMILIES}
local rec = load(ARGV[1])
if not rec then return 0 end
drop(ARGV[1], rec)
return 1
`;

/** KEYS leases, addrs, exp; ARGV now, limit. Drops up to `limit` expired leases (housekeeping). */
export const SWEEP = `${FAMILIES}
local keys = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
for _, key in ipairs(keys) do
  local rec = load(key)
  if rec then drop(key, rec) else redis.call('ZREM', KEYS[3], key) end
end
return #keys
`;

/** KEYS counter; ARGV windowMs. One failure: the window starts with the first. */
export const ADD_FAILURE = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
`;
