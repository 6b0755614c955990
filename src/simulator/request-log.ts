/**
 * What reached the simulator: one entry per request (never a secret or a
 * token) and counters, so tests can assert exact upstream behaviour such as
 * "exactly one token request".
 */

export interface SimRequestLog {
  /** ISO time from the simulator's clock. */
  at: string
  method: string
  path: string
  query?: string
  status: number
  auth: 'basic' | 'bearer' | 'none'
  clientId?: string
  correlationId: string
  durationMs: number
  /** Set when a fault shaped this answer. */
  fault?: 'rate429' | 'rate5xx' | 'drop' | 'tokenOutage'
}

export interface SimCounters {
  tokenRequests: number
  apiRequests: number
  /** Every 429 on the API, from the budget or injected. */
  rateLimited: number
  /** Keyed like `POST /api/v2/scim/v2/users`, ids replaced by `:id`. */
  byRoute: Record<string, number>
}

export interface RequestLog {
  add (entry: SimRequestLog, kind: 'token' | 'api' | 'other', route: string): void
  list (): SimRequestLog[]
  counters (): SimCounters
  reset (): void
}

/** Keeps the newest `limit` entries so long benchmark runs stay bounded; counters are exact regardless. */
export function createRequestLog (limit: number): RequestLog {
  let entries: SimRequestLog[] = []
  let counters: SimCounters = { tokenRequests: 0, apiRequests: 0, rateLimited: 0, byRoute: {} }
  return {
    add (entry, kind, route) {
      entries.push(entry)
      if (entries.length > limit * 1.25) entries = entries.slice(entries.length - limit)
      if (kind === 'token') counters.tokenRequests++
      if (kind === 'api') {
        counters.apiRequests++
        if (entry.status === 429) counters.rateLimited++
      }
      counters.byRoute[route] = (counters.byRoute[route] ?? 0) + 1
    },
    list () {
      return entries.length > limit ? entries.slice(entries.length - limit) : [...entries]
    },
    counters () {
      return { ...counters, byRoute: { ...counters.byRoute } }
    },
    reset () {
      entries = []
      counters = { tokenRequests: 0, apiRequests: 0, rateLimited: 0, byRoute: {} }
    },
  }
}
