/**
 * Ports the Genesys client needs from its environment. Each has two twins: an
 * in-process one (embedded mode, one replica) and a Redis one (shared by every
 * replica of the fleet). One contract test suite runs against both.
 */

/** What the token endpoint gave us; `expiresInSeconds` is always the `expires_in` received. */
export interface FetchedToken {
  accessToken: string
  expiresInSeconds: number
}

/** One call to `POST {login}/oauth/token`; throws a GenesysError on failure. */
export type FetchToken = () => Promise<FetchedToken>

/** Notable moments, counted by the metrics layer; never carries the token itself. */
export type TokenEvent = 'fetch' | 'hit' | 'miss' | 'wait' | 'fallback' | 'invalidate'

/**
 * Hands out a valid bearer token for one OAuth client, fetching at most one at a
 * time (per process for the memory twin, across the fleet for the Redis twin)
 * and refreshing ahead of expiry.
 */
export interface TokenProvider {
  getToken (): Promise<string>
  /**
   * The API refused `token` (401). Drops exactly that token (compare-and-delete),
   * so a newer token fetched meanwhile by someone else survives.
   */
  invalidate (token: string): Promise<void>
  close (): Promise<void>
}

/**
 * Requests-per-minute budget of one OAuth client, shared by everything that calls
 * Genesys with its tokens.
 */
export interface RateBudget {
  /**
   * Resolves when one request may be sent now (the slot is consumed). Waits rather
   * than fails, up to `maxWaitMs`; past that, throws `RateBudgetExceeded`.
   */
  acquire (opts?: { maxWaitMs?: number }): Promise<void>
  /**
   * Genesys answered 429 with `Retry-After`: nobody sends before now + `ms`.
   * Never shortens a pause already in force (Retry-After is a floor).
   */
  pause (ms: number): Promise<void>
  close (): Promise<void>
}

/** No slot within the caller's bound; `retryAfterMs` says when one would be free. */
export class RateBudgetExceeded extends Error {
  readonly retryAfterMs: number
  constructor (retryAfterMs: number) {
    super(`the Genesys rate budget has no free slot within the wait bound; next slot in ${retryAfterMs} ms`)
    this.name = 'RateBudgetExceeded'
    this.retryAfterMs = retryAfterMs
  }
}
