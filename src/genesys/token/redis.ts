import { randomBytes } from 'node:crypto'
import type { RedisClient } from '../../redis/connection.js'
import { asError } from '../../lib/failure-log.js'
import type { TokenProvider } from '../ports.js'
import { schedule, singleFlight, type CachedToken, type TokenProviderOptions } from './memory.js'
import { openToken, sealToken, tokenDigest } from './seal.js'
import { genesysKeys, TOKEN_LOCK_TTL_MS, tokenMarginMs, tokenTtlMs } from '../keys.js'
import { withScripts } from '../../redis/lua.js'
import { bounded, RedisUnavailable } from '../../redis/bounded.js'

interface TokenScripts {
  compareAndDelete (key: string, value: string): Promise<number>
  tokenInvalidate (key: string, token: string): Promise<number>
}

const SCRIPTS = {
  compareAndDelete: { file: 'compare-and-delete', keys: 1 },
  tokenInvalidate: { file: 'token-invalidate', keys: 1 },
}

/** The slice of a pino logger the Redis adapters use. Never handed a token. */
export interface StoreLogger {
  warn (obj: object, msg: string): void
  debug? (obj: object, msg: string): void
}

export interface RedisTokenProviderOptions extends TokenProviderOptions {
  /** A request-path connection: `enableOfflineQueue: false` and a `commandTimeout`; not closed by `close()`. */
  redis: RedisClient
  clientId: string
  /** Seals the token stored in Redis (`sealKeyFor(clientId, clientSecret)`). */
  sealKey: Buffer
  /** How long one replica may hold the fetch lock (a dead holder frees it after this). Default 15 s. */
  lockTtlMs?: number
  /** How long other replicas wait for the holder's token before fetching themselves. Default 10 s. */
  waitForOtherMs?: number
  /** How often waiters look for the holder's token. Default 50 ms. */
  pollMs?: number
  /** A Redis call slower than this counts as Redis being down. Default 500 ms. */
  redisTimeoutMs?: number
  logger?: StoreLogger
}

/** A token plus the moment it stops being handed out (a margin before expiry). */
interface Held extends CachedToken {
  usableUntil: number
}

const errInfo = (err: unknown) => ({ err: asError(err) })

/**
 * The fleet's token cache: one token per OAuth client in Redis, stored as JSON
 * {sealed, digest, expiresAt, refreshAt, usableUntil} (the token itself sealed,
 * see seal.ts) with a PX a little under its
 * lifetime, fetched by one replica at a time (`SET NX PX` lock, compare-and-delete
 * release) while the others poll for it, at most `waitForOtherMs`, then fetch
 * themselves (the holder may have died).
 *
 * Each process also keeps a local copy until its refresh point, so a cached
 * `getToken()` costs no Redis round trip. The price: after a revocation seen by
 * another replica, this one gets its own 401 once, invalidates, and then picks
 * up the new token from Redis.
 *
 * Redis down or hung: every Redis call is bounded by `redisTimeoutMs`, and the
 * provider falls back to an in-process single-flight fetch cached locally.
 */
export function createRedisTokenProvider (opts: RedisTokenProviderOptions): TokenProvider {
  const redis = withScripts<TokenScripts>(opts.redis, SCRIPTS)
  const clock = opts.clock ?? Date.now
  const random = opts.random ?? Math.random
  const event = opts.onEvent ?? (() => {})
  const log = opts.logger
  const tokenKey = genesysKeys.token(opts.clientId)
  const lockKey = genesysKeys.tokenLock(opts.clientId)
  const lockTtlMs = opts.lockTtlMs ?? TOKEN_LOCK_TTL_MS
  const waitForOtherMs = opts.waitForOtherMs ?? 10_000
  const pollMs = opts.pollMs ?? 50
  const timeoutMs = opts.redisTimeoutMs ?? 500
  let local: Held | undefined
  // The last token refused by a 401 here: never adopted again from Redis, even
  // if a read raced with the compare-and-delete that drops it there.
  let refused: string | undefined
  let closed = false
  const wakers = new Set<() => void>()

  // Both the ioredis commandTimeout and this bound: a SIGSTOPped Redis keeps the
  // socket open, and a missing commandTimeout would wait forever.
  const r = <T>(p: Promise<T>) => bounded(p, timeoutMs)

  /** A sleep that `close()` cuts short. */
  function nap (ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => { clearTimeout(timer); wakers.delete(wake); resolve() }
      const timer = setTimeout(wake, ms)
      wakers.add(wake)
    })
  }

  function held (cached: CachedToken, lifetimeMs: number): Held {
    const usableUntil = cached.expiresAt - tokenMarginMs(lifetimeMs)
    return { ...cached, refreshAt: Math.min(cached.refreshAt, usableUntil), usableUntil }
  }

  async function readShared (): Promise<Held | undefined> {
    const raw = await r(redis.get(tokenKey))
    if (raw === null) return undefined
    try {
      const v = JSON.parse(raw) as Partial<Record<keyof Held | 'sealed', unknown>>
      if (typeof v.sealed !== 'string' || typeof v.expiresAt !== 'number' || typeof v.refreshAt !== 'number' || typeof v.usableUntil !== 'number') return undefined
      // Sealed with another secret (a rotation in progress) or altered: as good as absent.
      const token = openToken(opts.sealKey, v.sealed)
      return token === undefined ? undefined : { token, expiresAt: v.expiresAt, refreshAt: v.refreshAt, usableUntil: v.usableUntil }
    } catch {
      return undefined
    }
  }

  /** A shared token to adopt: valid, not refused, not the one being replaced, and not itself due for refresh. */
  function adoptable (shared: Held | undefined, replacing: string | undefined): shared is Held {
    if (shared === undefined || shared.token === replacing || shared.token === refused) return false
    const now = clock()
    return now < shared.usableUntil && (replacing === undefined || now < shared.refreshAt)
  }

  async function fetchOnly (): Promise<{ token: Held, lifetimeMs: number }> {
    const requestedAt = clock()
    event('fetch')
    const fetched = await opts.fetchToken()
    const lifetimeMs = fetched.expiresInSeconds * 1000
    return { token: held(schedule(fetched, requestedAt, random, opts.refreshAhead), lifetimeMs), lifetimeMs }
  }

  /** Shares a token through Redis; `onlyIfAbsent` keeps a token another replica stored meanwhile. */
  async function store (token: Held, lifetimeMs: number, onlyIfAbsent = false): Promise<void> {
    const value = JSON.stringify({ sealed: sealToken(opts.sealKey, token.token), digest: tokenDigest(token.token), expiresAt: token.expiresAt, refreshAt: token.refreshAt, usableUntil: token.usableUntil })
    // Not storing it only costs the other replicas a fetch of their own.
    await r(onlyIfAbsent ? redis.set(tokenKey, value, 'PX', tokenTtlMs(lifetimeMs), 'NX') : redis.set(tokenKey, value, 'PX', tokenTtlMs(lifetimeMs)))
      .catch((err: unknown) => log?.warn(errInfo(err), 'token cache: could not store the token in Redis'))
  }

  async function fetchAndStore (): Promise<Held> {
    const { token, lifetimeMs } = await fetchOnly()
    await store(token, lifetimeMs)
    return token
  }

  /** Attempts the lock; on success fetches (unless a token landed meanwhile), stores, releases. */
  async function tryAsHolder (replacing: string | undefined): Promise<Held | undefined> {
    const lockValue = randomBytes(16).toString('hex')
    if (await r(redis.set(lockKey, lockValue, 'PX', lockTtlMs, 'NX')) !== 'OK') return undefined
    try {
      // The previous holder may have stored its token and released between our GET and SET.
      const again = await readShared()
      if (adoptable(again, replacing)) return again
      return await fetchAndStore()
    } finally {
      await r(redis.compareAndDelete(lockKey, lockValue))
        .catch((err: unknown) => log?.warn(errInfo(err), 'token cache: could not release the fetch lock (it expires on its own)'))
    }
  }

  async function obtain (replacing: string | undefined): Promise<Held> {
    try {
      const shared = await readShared()
      if (adoptable(shared, replacing)) return shared
      const mine = await tryAsHolder(replacing)
      if (mine) return mine

      // Another replica is fetching: wait for its token, bounded by real time
      // (not the injectable clock, which only judges token validity).
      event('wait')
      const deadline = Date.now() + waitForOtherMs
      while (Date.now() < deadline) {
        await nap(pollMs)
        if (closed) throw new Error('token provider closed while waiting for a token')
        const next = await readShared()
        if (adoptable(next, replacing)) return next
        // The holder failed and released the lock: take over rather than sit out the bound.
        const taken = await tryAsHolder(replacing)
        if (taken) return taken
      }
      // The holder died or is stuck (its lock lives on): fetch ourselves.
      log?.debug?.({ waitedMs: waitForOtherMs }, 'token cache: no token from the lock holder in time, fetching')
      return await fetchAndStore()
    } catch (err) {
      if (!(err instanceof RedisUnavailable)) throw err
      event('fallback')
      log?.warn(errInfo(err), 'token cache: Redis unavailable, fetching the token in-process')
      const { token, lifetimeMs } = await fetchOnly()
      // Redis may only have been slow: offer the token to the fleet, unless one is there already.
      void store(token, lifetimeMs, true)
      return token
    }
  }

  // In-process single flight on top of the fleet lock: 50 concurrent callers in
  // this process make at most one lock attempt.
  const refresh = singleFlight(async () => {
    const got = await obtain(local?.token)
    local = got
    return got
  })

  return {
    async getToken () {
      const now = clock()
      if (local && now < local.usableUntil) {
        event('hit')
        if (now >= local.refreshAt) {
          refresh().catch((err: unknown) => log?.warn(errInfo(err), 'token cache: background refresh failed; the next caller retries'))
        }
        return local.token
      }
      event('miss')
      return (await refresh()).token
    },
    async invalidate (token) {
      refused = token
      let dropped = false
      if (local?.token === token) {
        local = undefined
        dropped = true
      }
      try {
        if (await r(redis.tokenInvalidate(tokenKey, tokenDigest(token))) === 1) dropped = true
      } catch (err) {
        log?.warn(errInfo(err), 'token cache: could not drop the refused token from Redis')
      }
      if (dropped) event('invalidate')
    },
    async close () {
      closed = true
      for (const wake of [...wakers]) wake()
    },
  }
}
