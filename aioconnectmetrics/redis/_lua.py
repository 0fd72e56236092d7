"""The Lua scripts: the lease, and the quota model of `_quota.QuotaModel` in Redis.

Each script runs atomically in Redis, so every process that shares a key shares one
lease, or one quota model and what it learnt.
"""

RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""
# The quota model of `_quota.QuotaModel`, in Lua: the state lives in one hash, time comes
# from Redis (or from the caller, for tests on virtual time), and each script runs
# atomically, so every process that shares the key shares one model and what it learnt.
# ARGV: rate, burst, hold, climb, window, slack, max_hold, now ('' for Redis TIME), then
# per script. `reached`, `capped` and `returned` are `QuotaModel.departed`'s; `since` and
# the `base_*` counts are where the present start began (`QuotaModel._anew`).
MODEL = """
local now
if ARGV[8] ~= '' then
  now = tonumber(ARGV[8])
else
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local hold, climb = tonumber(ARGV[3]), tonumber(ARGV[4])
local window, slack, max_hold = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local s = redis.call('HMGET', KEYS[1], 'tokens', 'updated', 'granted', 'throttles',
  'learnt', 'learnt_at', 'points', 'streak', 'reached', 'capped', 'returned', 'started',
  'since', 'base_granted', 'base_returned', 'base_throttles')
local tokens = tonumber(s[1]) or burst
local updated = tonumber(s[2]) or (now + slack)
local started = tonumber(s[12]) or updated
local granted = tonumber(s[3]) or 0
local throttles = tonumber(s[4]) or 0
local learnt = tonumber(s[5]) or rate
local learnt_at = tonumber(s[6]) or -1e18
local points = {}
if s[7] then points = cjson.decode(s[7]) end
local streak = tonumber(s[8]) or 0
local reached = tonumber(s[9])
local capped = tonumber(s[10]) or 0
local returned = tonumber(s[11]) or 0
local since = tonumber(s[13]) or -1e18
local base_granted = tonumber(s[14]) or 0
local base_returned = tonumber(s[15]) or 0
local base_throttles = tonumber(s[16]) or 0
local function held() return math.min(max_hold, hold * 2 ^ streak) end
local function rate_at(x)
  if learnt >= rate then return rate end
  local since = x - learnt_at - held()
  if since <= 0 then return learnt end
  return rate - (rate - learnt) * math.exp(-since / climb)
end
local function refilled(a, b)
  if b <= a then return 0 end
  if learnt >= rate then return rate * (b - a) end
  local from = learnt_at + held()
  local total = 0
  if a < from then
    local flat_end = math.min(b, from)
    total = total + learnt * (flat_end - a)
    a = flat_end
  end
  if b > a then
    total = total + rate * (b - a) - (rate - learnt) * climb
      * (math.exp(-(a - from) / climb) - math.exp(-(b - from) / climb))
  end
  return total
end
if now > updated then
  local level = tokens + refilled(updated, now)
  tokens = math.min(burst, level)
  updated = now
  if level >= burst and granted > 0 then
    if rate_at(now) >= rate * 0.99 then
      -- Full again, no one else known: the next burst starts anew (`_anew`).
      reached = nil
      capped = 0
      since = now
      updated = now + slack
      started = updated
      base_granted, base_returned, base_throttles = granted, returned, throttles
    else
      capped = 1
    end
  end
end
local function num(x) return string.format('%.17g', x) end
local function save()
  local encoded = '[]'
  if #points > 0 then encoded = cjson.encode(points) end
  redis.call('HSET', KEYS[1], 'tokens', num(tokens), 'updated', num(updated),
    'granted', num(granted), 'throttles', num(throttles), 'learnt', num(learnt),
    'learnt_at', num(learnt_at), 'points', encoded, 'streak', num(streak),
    'capped', num(capped), 'returned', num(returned), 'started', num(started),
    'since', num(since), 'base_granted', num(base_granted),
    'base_returned', num(base_returned), 'base_throttles', num(base_throttles))
  if reached then
    redis.call('HSET', KEYS[1], 'reached', num(reached))
  else
    redis.call('HDEL', KEYS[1], 'reached')
  end
  redis.call('PEXPIRE', KEYS[1], 3600000)
end
-- A departure (`QuotaModel.departed`): ARGV[9] is the earliest this process saw, or '';
-- ARGV[10] the time of the grant it left with.
local function departed(arrival, at)
  if capped == 1 or at < since or throttles > base_throttles
    or (reached and arrival >= reached) then return end
  reached = arrival
  local sent = (granted - base_granted) - (returned - base_returned)
  if arrival >= now then
    tokens = burst - sent
    updated = arrival
  else
    tokens = math.min(burst, burst - sent + rate * (now - arrival))
    updated = now
  end
end
"""
TAKE = (
    MODEL
    + """
if ARGV[9] and ARGV[9] ~= '' then departed(tonumber(ARGV[9]), tonumber(ARGV[10])) end
if tokens >= 1 - 1e-9 then
  tokens = tokens - 1
  granted = granted + 1
  save()
  return {'1', num(now), num(granted), num(rate_at(now))}
end
save()
-- Seconds until a whole token has refilled (the rate never falls): by bisection.
local start = math.max(now, updated)
local need = 1 - tokens
local low, high = need / rate, need / rate_at(start)
while high - low > 1e-6 do
  local middle = (low + high) / 2
  if refilled(start, start + middle) >= need then high = middle else low = middle end
end
return {'0', num((start - now) + high), '0', num(rate_at(now))}
"""
)
# A grant whose caller was cancelled before its request went out: its token comes back.
GIVE_BACK = (
    MODEL
    + """
tokens = math.min(burst, tokens + 1)
returned = returned + 1
save()
return 1
"""
)
# ARGV[9] .. ARGV[14]: the throttled grant's time and seq; the floor's divisor; the
# shortest span that measures a rate; the level assumed at a throttle; the widest
# interval, relative to the rate held, that lets a probe call the rate steady.
THROTTLED = (
    MODEL
    + """
local at, seq = tonumber(ARGV[9]), tonumber(ARGV[10])
local floor = rate / tonumber(ARGV[11])
throttles = throttles + 1
local horizon = at - window - held()
local kept = {}
for _, p in ipairs(points) do
  if p[1] >= horizon and not (p[1] == at and p[2] == seq) then kept[#kept + 1] = p end
end
kept[#kept + 1] = {at, seq}
table.sort(kept, function(x, y)
  if x[1] ~= y[1] then return x[1] < y[1] end
  return x[2] < y[2]
end)
points = kept
if #points >= 2 then
  local first, last = points[1], points[#points]
  local span = last[1] - first[1]
  if span >= tonumber(ARGV[12]) then
    local admitted = last[2] - first[2] - (#points - 1)
    local low = math.max(floor, (admitted - 1) / span)
    local high = math.max(low, math.min(rate, (admitted + 1) / span))
    if learnt < rate and now > learnt_at + held() then
      if low <= learnt and learnt <= high and high - low <= tonumber(ARGV[14]) * learnt then
        streak = streak + 1
      else
        streak = 0
      end
    end
    learnt = (low + high) / 2
    learnt_at = now
  end
end
-- A first throttle, measured from where the bucket started full (`_from_start`).
if throttles - base_throttles == 1 and at >= since and #points == 1 and capped == 0 then
  local origin = reached or started
  if at - origin >= tonumber(ARGV[12]) then
    local admitted = (seq - 1 - base_granted) - (returned - base_returned)
    local low = math.max(floor, (admitted - burst) / (at - origin))
    if low < rate then
      learnt = low
      learnt_at = now
    end
  end
end
local newest = points[#points]
if newest[1] == at and newest[2] == seq then
  local level = tonumber(ARGV[13])
  if #points >= 2 and points[#points][2] - points[#points - 1][2] == 1 then level = 0 end
  tokens = math.min(burst, level + refilled(at, now) - (granted - seq))
end
save()
return num(rate_at(now))
"""
)
