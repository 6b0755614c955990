--[[
  Pauses the shared budget after an upstream 429. Only ever extends a pause:
  Retry-After is a floor, never shortened.

  KEYS[1]  paused-until (ms, Redis clock)
  ARGV[1]  pause length (ms)

  Returns the pause in force, in ms from now.
]]
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local want = now + tonumber(ARGV[1])
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if current >= want then
  return current - now
end
redis.call('SET', KEYS[1], want, 'PX', math.max(1, math.floor(want - now)))
return want - now
