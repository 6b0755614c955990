import type { FetchedToken, FetchToken, TokenEvent, TokenProvider } from './ports.js'

export interface TokenProviderOptions {
  fetchToken: FetchToken
  /** Epoch ms. */
  clock?: () => number
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

/** Expiry and a jittered refresh point for a token fetched at `now`. */
export function schedule (fetched: FetchedToken, now: number, random: () => number, ahead = { min: 0.1, max: 0.2 }): CachedToken {
  const lifetime = fetched.expiresInSeconds * 1000
  const fraction = ahead.min + random() * (ahead.max - ahead.min)
  return { token: fetched.accessToken, expiresAt: now + lifetime, refreshAt: now + lifetime * (1 - fraction) }
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
  let inflight: Promise<CachedToken> | undefined

  function refresh (): Promise<CachedToken> {
    inflight ??= (async () => {
      event('fetch')
      const fetched = await opts.fetchToken()
      current = schedule(fetched, clock(), random, opts.refreshAhead)
      return current
    })().finally(() => { inflight = undefined })
    return inflight
  }

  return {
    async getToken () {
      const now = clock()
      if (current && now < current.expiresAt) {
        event('hit')
        // Past the refresh point: serve the current token, refresh behind it.
        if (now >= current.refreshAt) refresh().catch(() => {})
        return current.token
      }
      return (await refresh()).token
    },
    async invalidate (token) {
      if (current?.token === token) {
        current = undefined
        event('invalidate')
      }
    },
    async close () {
      current = undefined
    },
  }
}
