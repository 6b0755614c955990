--[[
  Deletes a hash field only while it holds the expected value (a claim is given
  up only by its holder).

  KEYS[1]  hash
  ARGV[1]  field
  ARGV[2]  expected value

  Returns 1 when deleted, else 0.
]]
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then
  return redis.call('HDEL', KEYS[1], ARGV[1])
end
return 0
