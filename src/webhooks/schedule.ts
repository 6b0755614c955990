/**
 * When a failed delivery is tried again: after each gap of the schedule, each
 * varied by ±20 % so a recovering receiver is not hit by every retry at once.
 * The default spans about 27.6 hours from the first to the eighth attempt (22
 * to 33 with the jitter); then the delivery is dead-lettered.
 */

export const DEFAULT_RETRY_SCHEDULE = '5s,5m,30m,2h,5h,10h,10h'

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** Parses `5s,5m,30m,2h` (units ms, s, m, h; decimals allowed) into milliseconds. */
export function parseSchedule (text: string): number[] {
  const gaps = text.split(',').map((part) => part.trim()).filter((part) => part !== '').map((part) => {
    const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(part)
    if (!match) throw new Error(`"${part}" is not a duration such as 5s, 5m, 2h or 250ms`)
    return Math.round(Number(match[1]) * (UNITS[match[2] ?? 's'] ?? 1000))
  })
  if (gaps.length === 0 || gaps.length > 20) throw new Error('a retry schedule has 1 to 20 gaps')
  return gaps
}

export const JITTER = 0.2

/**
 * The delay before attempt `failedAttempts + 1`, or undefined when the schedule
 * is exhausted. `Retry-After` from the receiver is a floor, never shortened.
 */
export function nextDelay (schedule: readonly number[], failedAttempts: number, random: () => number, retryAfterMs = 0): number | undefined {
  const gap = schedule[failedAttempts - 1]
  if (gap === undefined) return undefined
  const jittered = Math.round(gap * (1 - JITTER + 2 * JITTER * random()))
  return Math.max(jittered, retryAfterMs)
}
