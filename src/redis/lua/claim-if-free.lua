--[[
  Sets a key to a value unless another value holds it (a re-claim by the same
  value succeeds and refreshes the TTL).

  KEYS[1]  the key
  ARGV[1]  the claimant's value
  ARGV[2]  TTL in seconds, or "0" for none

  Returns the value now holding the key: ARGV[1] when claimed.
]]
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then
  return holder
end
if tonumber(ARGV[2]) > 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2]))
else
  redis.call('SET', KEYS[1], ARGV[1])
end
return ARGV[1]
