--[[
  Records a worker registry entry unless its Genesys user is owned by another
  (client, hrId).

  KEYS[1]  registry entry key of (client, hrId)
  KEYS[2]  owner key of the Genesys user
  ARGV[1]  entry JSON
  ARGV[2]  owner JSON {clientId, hrId}

  Returns 1 when written, -1 (nothing written) when owned elsewhere.
]]
local owner = redis.call('GET', KEYS[2])
if owner and owner ~= ARGV[2] then
  return -1
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[2])
return 1
