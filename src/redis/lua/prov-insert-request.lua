--[[
  Stores a new provisioning request unless its client already has a
  non-terminal request for the same HR id.

  KEYS[1]  active-request key of (client, hrId)      e.g. prov:hr:{client}:{hrId}
  KEYS[2]  record key                                e.g. prov:req:{id}
  KEYS[3]  the client's index (sorted set by creation time)
  KEYS[4]  pending set (sorted set by last update)
  ARGV[1]  request id
  ARGV[2]  record JSON
  ARGV[3]  createdAt in ms (index score)
  ARGV[4]  updatedAt in ms (pending score)

  Returns "" when stored, else the id of the request holding the HR id.
]]
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then
  return holder
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[1])
return ''
