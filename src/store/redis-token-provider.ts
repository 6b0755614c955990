import { randomBytes } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { FetchedToken, TokenProvider } from '../genesys/ports.js'
import { schedule, type CachedToken, type TokenProviderOptions } from '../genesys/token-provider.js'
import { sleep } from '../genesys/rate-budget.js'
import { genesysKeys, TOKEN_EXPIRY_MARGIN_MS } from './genesys-keys.js'
import { withScripts } from './lua.js'
import { bounded, RedisUnavailable, type WarnLogger } from './redis-bounded.js'

interface TokenScripts {
  compareAndDelete (key: string, value: string): Promise<number>
  tokenInvalidate (key: string, token: string): Promise<number>
}

const SCRIPTS = {
  compareAndDelete: { file: 'compare-and-delete', keys: 1 },
  tokenInvalidate: { file: 'token-invalidate', keys: 1 },
}

export interface RedisTokenProviderOptions extends TokenProviderOptions {
  /** A request-path connection: `enableOfflineQueue: false` and a `commandTimeout`. */
  redis: Redis
  clientId: string
  /** How long one replica may hold the fetch lock (a dead holder frees it after this). */
  lockTtlMs?: number
  /** How long other replicas wait for the holder's token before fetching themselves. */
  waitForOtherMs?: number
  pollMs?: number
  /** A Redis call slower than this counts as Redis being down. */
  redisTimeoutMs?: number
  logger?: WarnLogger
}

/**
 * The fleet's token cache: one token per OAuth client in Redis, fetched by one
 * replica at a time (`SET NX PX` lock, compare-and-delete release) while the
 * others poll for it, at most `waitForOtherMs`, then fetch themselves (the
 * holder may have died). Each process keeps a local copy until its refresh
 * point, so a cached `getToken()` costs no Redis round trip; after a revocation
 * seen by another replica, this one gets its own 401 once, invalidates, and
 * picks up the new token from Redis.
 *
 * Redis down or hung: every Redis call is bounded by `redisTimeoutMs`, and the
 * provider falls back to an in-process single-flight fetch.
 */
export function createRedisTokenProvider (opts: RedisTokenProviderOptions): TokenProvider {
  const redis = withScripts<TokenScripts>(opts.redis, SCRIPTS)
  const clock = opts.clock ?? Date.now
  const random = opts.random ?? Math.random
  const event = opts.onEvent ?? (() => {})
  const tokenKey = genesysKeys.token(opts.clientId)
  const lockKey = genesysKeys.tokenLock(opts.clientId)
  const lockTtlMs = opts.lockTtlMs ?? 15_000
  const waitForOtherMs = opts.waitForOtherMs ?? 10_000
  const pollMs = opts.pollMs ?? 50
  const timeoutMs = opts.redisTimeoutMs ?? 500
  let local: CachedToken | undefined
  let inflight: Promise<CachedToken> | undefined
  let closed = false

  const r = <T>(p: Promise<T>) => bounded(p, timeoutMs)

  async function readShared (): Promise<CachedToken | undefined> {
    const raw = await r(redis.get(tokenKey))
    if (raw === null) return undefined
    try {
      const parsed = JSON.parse(raw) as { accessToken?: unknown, expiresAt?: unknown, refreshAt?: unknown }
      if (typeof parsed.accessToken !== 'string' || typeof parsed.expiresAt !== 'number' || typeof parsed.refreshAt !== 'number') return undefined
      return { token: parsed.accessToken, expiresAt: parsed.expiresAt, refreshAt: parsed.refreshAt }
    } catch {
      return undefined
    }
  }

  /** A shared token this replica should adopt: valid, and not the one it is trying to replace. */
  function usable (shared: CachedToken | undefined, replacing: string | undefined): shared is CachedToken {
    return shared !== undefined && shared.token !== replacing && clock() < shared.expiresAt - TOKEN_EXPIRY_MARGIN_MS
  }

  async function fetchAndStore (): Promise<CachedToken> {
    event('fetch')
    const fetched: FetchedToken = await opts.fetchToken()
    const cached = schedule(fetched, clock(), random, opts.refreshAhead)
    const ttl = Math.max(1000, Math.floor(cached.expiresAt - clock() - TOKEN_EXPIRY_MARGIN_MS))
    await r(redis.set(tokenKey, JSON.stringify({ accessToken: cached.token, expiresAt: cached.expiresAt, refreshAt: cached.refreshAt }), 'PX', ttl))
      .catch((err: unknown) => warn(err, 'could not store the token in Redis'))
    return cached
  }

  function warn (err: unknown, msg: string): void {
    opts.logger?.warn({ err: { message: err instanceof Error ? err.message : String(err) } }, `token cache: ${msg}`)
  }

  async function obtain (replacing: string | undefined): Promise<CachedToken> {
    try {
      const shared = await readShared()
      // Another replica already refreshed: take its token.
      if (usable(shared, replacing) && (replacing === undefined || clock() < shared.refreshAt)) return shared

      const lockValue = randomBytes(16).toString('hex')
      const got = await r(redis.set(lockKey, lockValue, 'PX', lockTtlMs, 'NX'))
      if (got === 'OK') {
        try {
          return await fetchAndStore()
        } finally {
          await r(redis.compareAndDelete(lockKey, lockValue)).catch((err: unknown) => warn(err, 'could not release the fetch lock'))
        }
      }

      // Someone else is fetching. Wait for their token, bounded.
      event('wait')
      const deadline = clock() + waitForOtherMs
      while (clock() < deadline && !closed) {
        await sleep(pollMs)
        const next = await readShared()
        if (usable(next, replacing)) return next
      }
      // The holder died or is stuck: fetch ourselves rather than wait forever.
      return await fetchAndStore()
    } catch (err) {
      if (!(err instanceof RedisUnavailable)) throw err
      event('fallback')
      warn(err, 'Redis unavailable, fetching in-process')
      event('fetch')
      return schedule(await opts.fetchToken(), clock(), random, opts.refreshAhead)
    }
  }

  function refresh (): Promise<CachedToken> {
    const replacing = local?.token
    inflight ??= obtain(replacing)
      .then((cached) => { local = cached; return cached })
      .finally(() => { inflight = undefined })
    return inflight
  }

  return {
    async getToken () {
      const now = clock()
      if (local && now < local.expiresAt - TOKEN_EXPIRY_MARGIN_MS) {
        event('hit')
        if (now >= local.refreshAt) refresh().catch((err: unknown) => warn(err, 'background refresh failed'))
        return local.token
      }
      return (await refresh()).token
    },
    async invalidate (token) {
      if (local?.token === token) local = undefined
      event('invalidate')
      await r(redis.tokenInvalidate(tokenKey, token)).catch((err: unknown) => warn(err, 'could not drop the refused token from Redis'))
    },
    async close () {
      closed = true
    },
  }
}
