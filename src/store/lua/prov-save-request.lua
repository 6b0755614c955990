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

  Returns 1.
]]
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
