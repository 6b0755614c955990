--[[
  Frees an idempotency key whose request did not finish, so the caller may
  retry; a key that already holds a response is kept.

  KEYS[1]  idempotency hash

  Returns 1 when freed, 0 otherwise.
]]
if redis.call('HEXISTS', KEYS[1], 'response') == 0 then
  return redis.call('DEL', KEYS[1])
end
return 0
