--[[
  Stores a new provisioning request unless its client already has a
  non-terminal request for the same HR id. A scheduled request (ARGV[5] set)
  holds no HR id and is not pending: it enters the schedule and its worker's
  schedule instead, beside any other scheduled change of the worker.

  KEYS[1]  active-request key of (client, hrId)      e.g. prov:hr:{client}:{hrId}
  KEYS[2]  record key                                e.g. prov:req:{id}
  KEYS[3]  the client's index (sorted set by creation time)
  KEYS[4]  pending set (sorted set by last update)
  KEYS[5]  schedule (sorted set by turn)
  KEYS[6]  the worker's schedule (sorted set by effective time)
  ARGV[1]  request id
  ARGV[2]  record JSON
  ARGV[3]  createdAt in ms (index score)
  ARGV[4]  updatedAt in ms (pending score)
  ARGV[5]  effectiveAt in ms of a scheduled request, else ""

  Returns "" when stored, else the id of the request holding the HR id.
]]
if ARGV[5] ~= '' then
  redis.call('SET', KEYS[2], ARGV[2])
  redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
  redis.call('ZADD', KEYS[5], ARGV[5], ARGV[1])
  redis.call('ZADD', KEYS[6], ARGV[5], ARGV[1])
  return ''
end
local holder = redis.call('GET', KEYS[1])
if holder and holder ~= ARGV[1] then
  return holder
end
redis.call('SET', KEYS[1], ARGV[1])
redis.call('SET', KEYS[2], ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[3], ARGV[1])
redis.call('ZADD', KEYS[4], ARGV[4], ARGV[1])
return ''
