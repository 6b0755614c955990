import type { RedisClient } from './connection.js'
import { decodeCursor, encodeCursor, isAfterCursor, type CursorKey } from '../lib/cursor.js'

/**
 * One newest-first page from a sorted set of ids scored by creation time (ms),
 * with the records filtered after fetching. Reads in chunks until the page is
 * full; the scan is bounded so one list call stays cheap.
 */
export async function pageFromIndex<T extends CursorKey> (redis: RedisClient, opts: {
  index: string
  recordKey: (id: string) => string
  parse: (json: string | null) => T | undefined
  keep: (record: T) => boolean
  limit: number
  cursor?: string
  /** Only records created after this (ISO), exclusive. */
  createdAfter?: string
}): Promise<{ items: T[], nextCursor?: string }> {
  const after = opts.cursor ? decodeCursor(opts.cursor) : undefined
  const max = after ? `(${Date.parse(after.createdAt) + 1}` : '+inf'
  const min = opts.createdAfter ? `(${Date.parse(opts.createdAfter)}` : '-inf'
  const items: T[] = []
  let offset = 0
  for (let scanned = 0; items.length <= opts.limit && scanned < 5000;) {
    const ids = await redis.zrevrangebyscore(opts.index, max, min, 'LIMIT', offset, 200)
    if (ids.length === 0) break
    offset += ids.length
    scanned += ids.length
    for (const json of await redis.mget(ids.map(opts.recordKey))) {
      const r = opts.parse(json)
      if (r && isAfterCursor(r, after) && opts.keep(r)) items.push(r)
    }
  }
  items.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id))
  const page = items.slice(0, opts.limit)
  const last = page.at(-1)
  return items.length > opts.limit && last ? { items: page, nextCursor: encodeCursor(last) } : { items: page }
}
