--[[
  Pauses the shared budget after an upstream 429. Only ever extends a pause:
  Retry-After is a floor, never shortened.

  KEYS[1]  paused-until (ms, Redis clock); PX until then, so it vanishes when over
  ARGV[1]  pause length (ms, integer); 0 only reads the pause in force

  Returns the pause in force, in ms from now (0: none).
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local want = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current >= want or tonumber(ARGV[1]) <= 0 then
  if current < now then
    return 0
  end
  return current - now
end
redis.call('SET', KEYS[1], want, 'PX', math.max(1, want - now))
return want - now
