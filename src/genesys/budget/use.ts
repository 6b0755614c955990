/**
 * Calls sent per OAuth client over the last minute, as this process saw them:
 * what the queue dashboard shows next to the per-minute limit. One counter per
 * second per OAuth client, so memory stays bounded whatever the call rate.
 */
export interface BudgetUse {
  record (oauthClient: string): void
  /** Calls in the last 60 s per OAuth client, in the order the names were given. */
  snapshot (): Array<{ oauthClient: string, lastMinute: number }>
}

const SECONDS = 60

export function createBudgetUse (names: readonly string[], now: () => number = Date.now): BudgetUse {
  const buckets = new Map(names.map((n) => [n, { counts: new Array<number>(SECONDS).fill(0), seconds: new Array<number>(SECONDS).fill(-1) }]))
  return {
    record (oauthClient) {
      const b = buckets.get(oauthClient)
      if (!b) return
      const second = Math.floor(now() / 1000)
      const i = second % SECONDS
      if (b.seconds[i] !== second) {
        b.seconds[i] = second
        b.counts[i] = 0
      }
      b.counts[i] = (b.counts[i] ?? 0) + 1
    },
    snapshot () {
      const current = Math.floor(now() / 1000)
      return [...buckets].map(([oauthClient, b]) => ({
        oauthClient,
        lastMinute: b.counts.reduce((sum, c, i) => sum + ((b.seconds[i] ?? -1) > current - SECONDS ? c : 0), 0),
      }))
    },
  }
}
