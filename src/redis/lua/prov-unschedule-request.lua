--[[
  Takes a scheduled request out of the schedule with its next state. A
  terminal state (cancelled) is stored with the retention TTL. A starting one
  takes the HR id and becomes pending, unless another request holds the HR id:
  then only its turn moves to ARGV[6] and the holder is returned.

  KEYS[1]  record key
  KEYS[2]  pending set
  KEYS[3]  active-request key of (client, hrId)
  KEYS[4]  schedule
  KEYS[5]  the worker's schedule
  ARGV[1]  request id
  ARGV[2]  record JSON (the next state)
  ARGV[3]  updatedAt in ms
  ARGV[4]  "1" when the next state is terminal, else "0"
  ARGV[5]  retention of terminal records, seconds
  ARGV[6]  the turn (ms) to retry at when the HR id is held

  Returns "done", "gone" (no longer scheduled) or the holder's id.
]]
if not redis.call('ZSCORE', KEYS[4], ARGV[1]) then
  return 'gone'
end
if ARGV[4] == '1' then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', tonumber(ARGV[5]))
else
  local holder = redis.call('GET', KEYS[3])
  if holder and holder ~= ARGV[1] then
    redis.call('ZADD', KEYS[4], ARGV[6], ARGV[1])
    return holder
  end
  redis.call('SET', KEYS[3], ARGV[1])
  redis.call('SET', KEYS[1], ARGV[2])
  redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
end
redis.call('ZREM', KEYS[4], ARGV[1])
redis.call('ZREM', KEYS[5], ARGV[1])
return 'done'
