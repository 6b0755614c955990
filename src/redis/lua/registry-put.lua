--[[
  Records a worker registry entry unless its Genesys user is owned by another
  (client, hrId).

  KEYS[1]  registry entry key of (client, hrId)
  KEYS[2]  owner key of the Genesys user
  KEYS[3]  the client's worker index
  ARGV[1]  entry JSON
  ARGV[2]  owner JSON {clientId, hrId}
  ARGV[3]  HR id

  Returns 1 when written, -1 (nothing written) when owned elsewhere.
]]
local owner = redis.call('GET', KEYS[2])
if owner and owner ~= ARGV[2] then
  return -1
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[2])
redis.call('ZADD', KEYS[3], 0, ARGV[3])
return 1
