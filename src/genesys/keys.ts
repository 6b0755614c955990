/**
 * Redis keys shared by every replica talking to one Genesys OAuth client, with
 * their lifetimes. The client id is hashed (sha256, 32 hex): it never appears
 * raw in a key listing, and a caller cannot shape a key. One OAuth client's
 * keys share a hash tag (its hashed id): the budget script reads two at once.
 */
import { createHash } from 'node:crypto'
import { oauthClientTag } from '../redis/hash-tag.js'

const h = (value: string) => oauthClientTag(createHash('sha256').update(value).digest('hex').slice(0, 32))

export const genesysKeys = {
  /**
   * JSON {sealed, digest, expiresAt, refreshAt, usableUntil} (the token sealed
   * with a key derived from the client secret; epoch ms of the fetching replica); PX `tokenTtlMs(lifetime)`, a little under the lifetime.
   */
  token: (clientId: string) => `genesys:token:${h(clientId)}`,
  /** Random holder value while one replica fetches a token; PX `lockTtlMs` (default `TOKEN_LOCK_TTL_MS`). */
  tokenLock: (clientId: string) => `genesys:token-lock:${h(clientId)}`,
  /** GCRA theoretical arrival time (ms, Redis clock); PX until a minute after it, so idle budgets vanish. */
  budgetTat: (clientId: string) => `genesys:budget:${h(clientId)}:tat`,
  /** Epoch ms (Redis clock) before which nobody calls (a 429's Retry-After); PX until then. */
  budgetPause: (clientId: string) => `genesys:budget:${h(clientId)}:pause`,
}

/** Most a stored token is dropped before it expires (requests in flight, clock skew between replicas). */
export const TOKEN_EXPIRY_MARGIN_MS = 30_000
/** Default life of the fetch lock: a dead holder blocks nobody longer than this. */
export const TOKEN_LOCK_TTL_MS = 15_000

/**
 * How long before expiry a token stops being handed out: 30 s, or a tenth of
 * the lifetime for short-lived tokens (tests, odd OAuth client settings), so a
 * 2 s token is still usable for 1.8 s rather than never.
 */
export function tokenMarginMs (lifetimeMs: number): number {
  return Math.min(TOKEN_EXPIRY_MARGIN_MS, Math.floor(lifetimeMs / 10))
}

/** PX of the shared token key: the lifetime less the margin, never under 1 s. */
export function tokenTtlMs (lifetimeMs: number): number {
  return Math.max(1000, Math.floor(lifetimeMs - tokenMarginMs(lifetimeMs)))
}
