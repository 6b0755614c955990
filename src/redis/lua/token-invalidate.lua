--[[
  Drops the shared token only while it is still the one a caller saw refused
  (401): a newer token stored meanwhile by another replica survives. The value
  is JSON, so the comparison is on its digest field (the token is sealed); a
  value that is not our JSON cannot be a usable token and is dropped too.

  KEYS[1]  the token key (JSON {sealed, digest, expiresAt, refreshAt, usableUntil})
  ARGV[1]  the digest of the refused access token

  Returns 1 when deleted, 0 otherwise (no key, or it holds another token).
]]
local raw = redis.call('GET', KEYS[1])
if not raw then
  return 0
end
local ok, stored = pcall(cjson.decode, raw)
if not ok or type(stored) ~= 'table' or stored.digest == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
