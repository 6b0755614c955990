import { createHash } from 'node:crypto'

/** JSON with object keys sorted at every level: equal values give equal text. */
export function canonicalJson (value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    }
    return v
  })
}

export function fingerprint (...parts: unknown[]): string {
  return createHash('sha256').update(canonicalJson(parts)).digest('hex')
}
