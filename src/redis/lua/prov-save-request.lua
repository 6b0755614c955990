--[[
  Replaces a provisioning request record. A terminal record leaves the pending
  set, frees its HR id (only if this request holds it) and expires after the
  retention period; a non-terminal one stays pending with its new update time.

  KEYS[1]  record key
  KEYS[2]  pending set
  KEYS[3]  active-request key of (client, hrId)
  ARGV[1]  request id
  ARGV[2]  record JSON
  ARGV[3]  updatedAt in ms
  ARGV[4]  "1" when terminal, else "0"
  ARGV[5]  retention of terminal records, seconds

  ARGV[6]  number of worker registry keys that follow: 0 or 3

  Optionally, the worker registry entry the step produced (same step, so the
  ledger and the proof of ownership never disagree):
  KEYS[4]  registry entry key of (client, hrId)
  KEYS[5]  owner key of the Genesys user
  KEYS[6]  the client's worker index
  ARGV[7]  entry JSON
  ARGV[8]  owner JSON {clientId, hrId}
  ARGV[9]  HR id

  Optionally, the webhook the new state owes, written first and in the same
  step (see lib-webhook-insert.lua), after the registry keys and arguments:
  KEYS[k..k+3]  delivery key, outbox, client index, subject index
  ARGV[a..a+3]  delivery id, delivery JSON, createdAt in ms, retention in seconds

  Returns 1, or -1 (nothing written) when the Genesys user is owned by another
  (client, hrId).
]]
local nreg = tonumber(ARGV[6])
local k, a = 4, 7
if nreg == 3 then
  local owner = redis.call('GET', KEYS[5])
  if owner and owner ~= ARGV[8] then
    return -1
  end
  k, a = 7, 10
end
if #KEYS >= k + 3 then
  insert_delivery({ KEYS[k], KEYS[k + 1], KEYS[k + 2], KEYS[k + 3] }, { ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3] })
end
if nreg == 3 then
  redis.call('SET', KEYS[4], ARGV[7])
  redis.call('SET', KEYS[5], ARGV[8])
  redis.call('ZADD', KEYS[6], 0, ARGV[9])
end
if ARGV[4] == '1' then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', tonumber(ARGV[5]))
  redis.call('ZREM', KEYS[2], ARGV[1])
  if redis.call('GET', KEYS[3]) == ARGV[1] then
    redis.call('DEL', KEYS[3])
  end
else
  redis.call('SET', KEYS[1], ARGV[2])
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
end
return 1
