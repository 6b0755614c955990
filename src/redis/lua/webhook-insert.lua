--[[
  Writes a new webhook delivery into the outbox (see lib-webhook-insert.lua).

  KEYS[1..4]  delivery key, outbox, client index, subject index
  ARGV[1..4]  delivery id, delivery JSON, createdAt in ms, retention in seconds

  Returns 1 when written, 0 when the id existed.
]]
return insert_delivery({ KEYS[1], KEYS[2], KEYS[3], KEYS[4] }, { ARGV[1], ARGV[2], ARGV[3], ARGV[4] })
