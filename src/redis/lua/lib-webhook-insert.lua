--[[
  Shared by the scripts that write a webhook delivery (prepended to them).
  Writes a new delivery into the outbox unless a delivery with the same id
  exists (a re-run of the step that produced the event).

  k[1] delivery key, k[2] outbox, k[3] the client's index, k[4] the subject's index
  a[1] delivery id, a[2] delivery JSON, a[3] createdAt in ms, a[4] retention in seconds

  The SET NX is the first write, so a refused write (out of memory) leaves
  nothing behind. Returns 1 when written, 0 when the id existed.
]]
local function insert_delivery(k, a)
  if not redis.call('SET', k[1], a[2], 'NX', 'EX', tonumber(a[4])) then
    return 0
  end
  redis.call('ZADD', k[2], a[3], a[1])
  redis.call('ZADD', k[3], a[3], a[1])
  -- Index entries older than the retention point at expired records: trim them.
  redis.call('ZREMRANGEBYSCORE', k[3], '-inf', '(' .. (tonumber(a[3]) - tonumber(a[4]) * 1000))
  redis.call('ZADD', k[4], a[3], a[1])
  redis.call('EXPIRE', k[4], tonumber(a[4]))
  return 1
end
