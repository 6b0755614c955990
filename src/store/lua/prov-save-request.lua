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

  Optionally, the webhook the new state owes, written first and in the same
  step (see lib-webhook-insert.lua):
  KEYS[4..7]  delivery key, outbox, client index, subject index
  ARGV[6..9]  delivery id, delivery JSON, createdAt in ms, retention in seconds

  Returns 1.
]]
if #KEYS >= 7 then
  insert_delivery({ KEYS[4], KEYS[5], KEYS[6], KEYS[7] }, { ARGV[6], ARGV[7], ARGV[8], ARGV[9] })
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
