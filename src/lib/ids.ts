import { randomBytes } from 'node:crypto'

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

// Monotonic within the process (as ULID's monotonic mode): ids made in the same
// millisecond still sort in creation order, which list pagination relies on.
let lastTime = -1
let lastRand: number[] = []

/**
 * Time-ordered ids (ULID layout: 48-bit millisecond time, 80 random bits, Crockford
 * base32) with a type prefix, e.g. `prq_01JD3W6Q4Z7Y8X9V0T1S2R3Q4P`.
 */
export function newId (prefix: string, now = Date.now()): string {
  let rand: number[]
  if (now <= lastTime) {
    now = lastTime
    rand = increment(lastRand)
  } else {
    const bytes = randomBytes(16)
    rand = Array.from({ length: 16 }, (_, i) => (bytes[i] ?? 0) % 32)
  }
  lastTime = now
  lastRand = rand
  let time = ''
  let t = now
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time
    t = Math.floor(t / 32)
  }
  return `${prefix}_${time}${rand.map((d) => CROCKFORD[d]).join('')}`
}

function increment (digits: number[]): number[] {
  const next = [...digits]
  for (let i = next.length - 1; i >= 0; i--) {
    const d = (next[i] ?? 0) + 1
    if (d < 32) {
      next[i] = d
      return next
    }
    next[i] = 0
  }
  return next
}
