import type { FetchedToken, FetchToken, TokenEvent, TokenProvider } from '../ports.js'

export interface TokenProviderOptions {
  fetchToken: FetchToken
  /** Epoch ms; decides when a token is due for refresh or expired. */
  clock?: () => number
  /** In [0, 1); draws the refresh point of each token. */
  random?: () => number
  onEvent?: (e: TokenEvent) => void
  /**
   * Refresh once this fraction of the lifetime is left, at a point drawn per
   * token between min and max, so replicas that fetched together do not
   * refresh together. Default 10–20 % (2.4–4.8 h of a 24 h token).
   */
  refreshAhead?: { min: number, max: number }
}

/** A token with the moments that matter for it (epoch ms). */
export interface CachedToken {
  token: string
  expiresAt: number
  refreshAt: number
}

export const DEFAULT_REFRESH_AHEAD = { min: 0.1, max: 0.2 }

/**
 * Expiry and a jittered refresh point for a token requested at `requestedAt`.
 * The lifetime counts from the request, not the answer: the endpoint started
 * the clock before we heard back, so this errs on the early side.
 */
export function schedule (fetched: FetchedToken, requestedAt: number, random: () => number, ahead = DEFAULT_REFRESH_AHEAD): CachedToken {
  const lifetime = fetched.expiresInSeconds * 1000
  const fraction = ahead.min + random() * (ahead.max - ahead.min)
  return { token: fetched.accessToken, expiresAt: requestedAt + lifetime, refreshAt: requestedAt + lifetime * (1 - fraction) }
}

/**
 * In-process single flight: concurrent callers share one promise, cleared when
 * it settles (so a failure reaches every waiter and the next call tries again).
 */
export function singleFlight<T> (work: () => Promise<T>): () => Promise<T> {
  let inflight: Promise<T> | undefined
  return () => {
    inflight ??= work().finally(() => { inflight = undefined })
    return inflight
  }
}

/**
 * In-process token cache for embedded mode (one replica): single-flight fetch,
 * refresh ahead of expiry in the background while the current token is served.
 */
export function createMemoryTokenProvider (opts: TokenProviderOptions): TokenProvider {
  const clock = opts.clock ?? Date.now
  const random = opts.random ?? Math.random
  const event = opts.onEvent ?? (() => {})
  let current: CachedToken | undefined

  const refresh = singleFlight(async () => {
    const requestedAt = clock()
    event('fetch')
    const fetched = await opts.fetchToken()
    current = schedule(fetched, requestedAt, random, opts.refreshAhead)
    return current
  })

  return {
    async getToken () {
      const now = clock()
      if (current && now < current.expiresAt) {
        event('hit')
        // Past the refresh point: serve the current token, refresh behind it.
        // A failed background refresh is dropped; the next caller tries again.
        if (now >= current.refreshAt) refresh().catch(() => {})
        return current.token
      }
      event('miss')
      return (await refresh()).token
    },
    async invalidate (token) {
      // Compare-and-delete: a newer token fetched meanwhile survives a stale 401.
      if (current?.token === token) {
        current = undefined
        event('invalidate')
      }
    },
    async close () {
      // No timers to stop: refreshes are driven by callers.
      current = undefined
    },
  }
}
