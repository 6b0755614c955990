--[[
  Completes a worker batch once: the first call marks it done, writes its
  webhook (if any), replaces the record and takes it out of the open set;
  any later call changes nothing.

  KEYS[1]  record key
  KEYS[2]  done marker
  KEYS[3]  open set
  ARGV[1]  batch id
  ARGV[2]  record JSON
  ARGV[3]  retention in seconds

  Optionally, the webhook it owes (see lib-webhook-insert.lua):
  KEYS[4..7]  delivery key, outbox, client index, subject index
  ARGV[4..7]  delivery id, delivery JSON, createdAt in ms, retention in seconds

  Returns 1 when this call completed it, 0 when it was completed already or
  its record is gone (expired: it is not written again without an expiry).
]]
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[3], ARGV[1])
  return 0
end
if not redis.call('SET', KEYS[2], '1', 'NX', 'EX', tonumber(ARGV[3])) then
  return 0
end
if #KEYS >= 7 then
  insert_delivery({ KEYS[4], KEYS[5], KEYS[6], KEYS[7] }, { ARGV[4], ARGV[5], ARGV[6], ARGV[7] })
end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
redis.call('ZREM', KEYS[3], ARGV[1])
return 1
