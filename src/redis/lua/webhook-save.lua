--[[
  Replaces a webhook delivery if its stored generation is the expected one, so
  a late attempt of an old generation never overwrites a replay.

  KEYS[1]  delivery key
  ARGV[1]  delivery JSON
  ARGV[2]  expected generation

  Returns 1 when written, 0 otherwise (missing or another generation).
]]
local current = redis.call('GET', KEYS[1])
if not current then
  return 0
end
if tonumber(cjson.decode(current).generation) ~= tonumber(ARGV[2]) then
  return 0
end
redis.call('SET', KEYS[1], ARGV[1], 'KEEPTTL')
return 1
