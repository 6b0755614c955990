--[[
  GCRA reservation on the shared Genesys rate budget, on Redis's own clock (the
  replicas' clocks differ). A reservation advances the theoretical arrival time
  (TAT) at once, so concurrent callers queue for successive slots.

  KEYS[1]  theoretical arrival time (ms, may be fractional); PX until a minute after it
  KEYS[2]  paused-until (ms), set by budget-pause.lua after an upstream 429
  ARGV[1]  emission interval T (ms per request, may be fractional)
  ARGV[2]  burst tolerance tau = (B - 1) * T (ms)
  ARGV[3]  the longest wait the caller accepts (ms)

  Returns {reserved, waitMs} (integers, the wait rounded up so nobody sends early):
    {1, w}  a slot is reserved for now + w; the caller sleeps w, then sends
    {0, w}  nothing reserved: paused for w more ms, or the next slot is w ms away (> max wait)
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local tau = tonumber(ARGV[2])
local maxWait = tonumber(ARGV[3])

local paused = tonumber(redis.call('GET', KEYS[2]) or '0')
if paused > now then
  return {0, paused - now}
end

local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then
  tat = now
end
local wait = tat - tau - now
-- T and tau are fractional ms: ignore float dust, or the B-th burst slot waits 1 ms.
if wait < 0.001 then
  wait = 0
end
if wait > maxWait then
  return {0, math.ceil(wait)}
end
local nextTat = tat + interval
redis.call('SET', KEYS[1], string.format('%.6f', nextTat), 'PX', math.ceil(nextTat - now + 60000))
return {1, math.ceil(wait)}
