/**
 * Redis keys shared by every replica talking to one Genesys OAuth client. The
 * client id is hashed: it never appears in a key listing.
 */
import { createHash } from 'node:crypto'

const h = (value: string) => createHash('sha256').update(value).digest('hex').slice(0, 32)

export const genesysKeys = {
  /** JSON {accessToken, expiresAt, refreshAt}; PX a little under the token's lifetime. */
  token: (clientId: string) => `genesys:token:${h(clientId)}`,
  /** Random holder value while one replica fetches a token; PX `lockTtlMs`. */
  tokenLock: (clientId: string) => `genesys:token-lock:${h(clientId)}`,
  /** GCRA theoretical arrival time (ms, Redis clock); PX until a minute after it. */
  budgetTat: (clientId: string) => `genesys:budget:${h(clientId)}:tat`,
  /** Epoch ms before which nobody calls (a 429's Retry-After); PX until then. */
  budgetPause: (clientId: string) => `genesys:budget:${h(clientId)}:pause`,
}

/** A stored token is dropped from Redis this long before it expires. */
export const TOKEN_EXPIRY_MARGIN_MS = 30_000
