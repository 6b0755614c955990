/**
 * Keys written by versions before the cluster hash tags: request records,
 * registry, idempotency outcomes, webhook deliveries, group mappings and syncs
 * without `{records}`, and BullMQ's queues under `bull:` instead of `{bull}:`.
 * Only single nodes and Sentinel masters can hold them (those versions could
 * not run on a cluster).
 */
import type { Redis } from 'ioredis'
import { BULL_PREFIX, RECORDS_TAG } from './hash-tag.js'

/** Old prefix → new prefix; keys used alone (reservations, queue locks, tokens) kept their names. */
const RENAMES: Array<{ match: string, skip?: RegExp, from: string, to: string }> = [
  { match: 'prov:*', skip: /^prov:(email|ext):/, from: '', to: RECORDS_TAG },
  { match: 'wh:*', from: '', to: RECORDS_TAG },
  { match: 'grp:*', skip: /^grp:queue-lock:/, from: '', to: RECORDS_TAG },
  { match: 'bull:*', from: 'bull:', to: `${BULL_PREFIX}:` },
]

/** One key of each family that exists whenever an earlier version ran. */
const MARKERS = ['prov:pending', 'wh:outbox', 'grp:mappings', 'bull:provisioning:meta', 'bull:webhooks:meta']

/** The old keys present, at most one per family (cheap: one EXISTS each). */
export async function legacyKeysPresent (redis: Redis): Promise<string[]> {
  const found: string[] = []
  for (const key of MARKERS) if ((await redis.exists(key)) === 1) found.push(key)
  return found
}

/**
 * Renames every old key to its tagged name (RENAMENX: a key already under the
 * new name is left alone and counted). Run with every replica stopped.
 */
export async function renameLegacyKeys (redis: Redis): Promise<{ renamed: number, kept: string[] }> {
  let renamed = 0
  const kept: string[] = []
  for (const r of RENAMES) {
    let cursor = '0'
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', r.match, 'COUNT', 500)
      cursor = next
      for (const key of keys) {
        if (r.skip?.test(key) === true) continue
        const target = r.to + key.slice(r.from.length)
        if ((await redis.renamenx(key, target)) === 1) renamed++
        else kept.push(key)
      }
    } while (cursor !== '0')
  }
  return { renamed, kept }
}
