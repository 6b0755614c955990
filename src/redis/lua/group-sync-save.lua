--[[
  Replaces a group sync record. A terminal record leaves the pending set; the
  record keeps the TTL it was inserted with.

  KEYS[1]  record key
  KEYS[2]  pending set (sorted set by last update)
  ARGV[1]  sync id
  ARGV[2]  record JSON
  ARGV[3]  updatedAt in ms
  ARGV[4]  "1" when terminal, else "0"

  Optionally, the webhook the new state owes, written first and in the same
  step (see lib-webhook-insert.lua):
  KEYS[3..6]  delivery key, outbox, client index, subject index
  ARGV[5..8]  delivery id, delivery JSON, createdAt in ms, retention in seconds

  Returns 1.
]]
if #KEYS >= 6 then
  insert_delivery({ KEYS[3], KEYS[4], KEYS[5], KEYS[6] }, { ARGV[5], ARGV[6], ARGV[7], ARGV[8] })
end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
if ARGV[4] == '1' then
  redis.call('ZREM', KEYS[2], ARGV[1])
else
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
end
return 1
