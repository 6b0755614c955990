--[[
  Claims an idempotency key for a request fingerprint, or reports its state.

  KEYS[1]  idempotency hash (fields: fp, response)
  ARGV[1]  request fingerprint
  ARGV[2]  in-flight lock TTL in seconds

  Returns {"new"} | {"in-flight"} | {"mismatch"} | {"replay", <response JSON>}.
]]
local fp = redis.call('HGET', KEYS[1], 'fp')
if not fp then
  redis.call('HSET', KEYS[1], 'fp', ARGV[1])
  redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]))
  return {'new'}
end
if fp ~= ARGV[1] then
  return {'mismatch'}
end
local response = redis.call('HGET', KEYS[1], 'response')
if response then
  return {'replay', response}
end
return {'in-flight'}
