--[[
  Drops the shared token only while it is still the one a caller saw refused
  (401): a newer token stored meanwhile by another replica survives.

  KEYS[1]  the token key (JSON {accessToken, expiresAt, refreshAt})
  ARGV[1]  the refused access token

  Returns 1 when deleted, 0 otherwise.
]]
local raw = redis.call('GET', KEYS[1])
if not raw then
  return 0
end
local ok, stored = pcall(cjson.decode, raw)
if not ok or type(stored) ~= 'table' or stored.accessToken == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
