import { randomBytes } from 'node:crypto'

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'

/**
 * Time-ordered ids (ULID layout: 48-bit millisecond time, 80 random bits, Crockford
 * base32) with a type prefix, e.g. `prq_01JD3W6Q4Z7Y8X9V0T1S2R3Q4P`.
 */
export function newId (prefix: string, now = Date.now()): string {
  let time = ''
  let t = now
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time
    t = Math.floor(t / 32)
  }
  const bytes = randomBytes(16)
  let rand = ''
  for (let i = 0; i < 16; i++) rand += CROCKFORD[(bytes[i] ?? 0) % 32]
  return `${prefix}_${time}${rand}`
}
