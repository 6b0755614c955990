/**
 * When a change takes effect. HR systems send either an instant (RFC 3339
 * date-time with an offset) or a calendar date, which means the start of that
 * day in the HR system's time zone (`HR_TIME_ZONE`, an IANA name, default UTC).
 */

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/

/** True when the zone is one this runtime knows (`Europe/Dublin`, `UTC`, …). */
export function isTimeZone (zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone })
    return true
  } catch {
    return false
  }
}

/** The instant (ms) an `effectiveAt` names, or undefined when it is not a real date or date-time. */
export function effectiveInstant (value: string, timeZone: string): number | undefined {
  const date = DATE.exec(value)
  if (date) {
    const [y, m, d] = [Number(date[1]), Number(date[2]), Number(date[3])]
    if (!realDate(y, m, d)) return undefined
    return zonedMidnight(y, m, d, timeZone)
  }
  const dt = DATE_TIME.exec(value)
  if (!dt) return undefined
  const [y, m, d, hh, mm, ss] = [1, 2, 3, 4, 5, 6].map((i) => Number(dt[i])) as [number, number, number, number, number, number]
  if (!realDate(y, m, d) || hh > 23 || mm > 59 || ss > 60) return undefined
  const ms = Date.parse(value.toUpperCase())
  return Number.isNaN(ms) ? undefined : ms
}

function realDate (y: number, m: number, d: number): boolean {
  const t = new Date(Date.UTC(y, m - 1, d))
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d
}

/** How far the zone's wall clock is ahead of UTC at the instant `ms`. */
function offsetAt (ms: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' }).formatToParts(new Date(ms))
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value)
  const wall = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'))
  return wall - Math.floor(ms / 1000) * 1000
}

/**
 * The first instant of the day in the zone. Where a clock change skips
 * midnight, the day starts at the first wall time that exists.
 */
function zonedMidnight (y: number, m: number, d: number, timeZone: string): number {
  const wall = Date.UTC(y, m - 1, d)
  let guess = wall - offsetAt(wall, timeZone)
  // A second pass settles a guess that crossed a clock change.
  guess = wall - offsetAt(guess, timeZone)
  const shown = guess + offsetAt(guess, timeZone)
  return shown < wall ? guess + (wall - shown) : guess
}
