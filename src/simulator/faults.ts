import { Type, type Static } from 'typebox'
import { Value } from 'typebox/value'

/**
 * Fault injection: what a real Genesys Cloud does on a bad day (slow answers,
 * 429s and 503s, lost responses, stale reads, a login-host outage), switched
 * on at start or at runtime through `PUT /__sim/faults`. Never applied to `/__sim`.
 */

const Fraction = Type.Number({ minimum: 0, maximum: 1 })
const Millis = Type.Number({ minimum: 0 })

export const FaultsSchema = Type.Object({
  /** Added to every API and token response (ms). */
  latencyMs: Millis,
  /** ± uniformly distributed around `latencyMs` (never below 0). */
  jitterMs: Millis,
  /** Fraction of API requests answered 429 `too.many.requests.retry.after`. */
  rate429: Fraction,
  /** Fraction of API requests answered 503 `service.unavailable`. */
  rate5xx: Fraction,
  /** `Retry-After` of injected 429s (and of a 429 token outage). */
  retryAfterSeconds: Type.Integer({ minimum: 1 }),
  /** Fraction of successful writes applied, then the socket destroyed before any response byte. */
  dropAfterWrite: Fraction,
  /** A newly created user stays invisible to SCIM list and filter queries this long. */
  consistencyDelayMs: Millis,
  /** Wait this long before sending response headers. */
  slowHeadersMs: Millis,
  /** 0 = the token endpoint works; otherwise the HTTP status it answers with. */
  tokenOutage: Type.Union([Type.Literal(0), Type.Integer({ minimum: 400, maximum: 599 })]),
  /**
   * How a stale `If-Match` is answered (Genesys uses all three): 400 SCIM
   * `invalidVers`, 409 SCIM "Version does not match current version." without
   * `scimType`, or a 400 ErrorBody "… does not match the current version". A
   * choice of shape, so it holds for every request regardless of `match`.
   */
  versionConflict: Type.Union([Type.Literal('invalidVers'), Type.Literal('scim409'), Type.Literal('errorBody400')]),
  /**
   * Whether the 409 to a SCIM user create with a taken userName carries
   * `scimType: "uniqueness"` (the SDK documents scimType only for 400s). Holds
   * regardless of `match`.
   */
  createConflictScimType: Type.Boolean(),
  /** A regex tested against `${METHOD} ${path}`; when set, faults apply only to matching requests. */
  match: Type.Union([Type.String(), Type.Null()]),
}, { additionalProperties: false })
export type Faults = Static<typeof FaultsSchema>

export const PartialFaultsSchema = Type.Partial(FaultsSchema)

export const DEFAULT_FAULTS: Readonly<Faults> = Object.freeze({
  latencyMs: 0,
  jitterMs: 0,
  rate429: 0,
  rate5xx: 0,
  retryAfterSeconds: 1,
  dropAfterWrite: 0,
  consistencyDelayMs: 0,
  slowHeadersMs: 0,
  tokenOutage: 0,
  versionConflict: 'invalidVers',
  createConflictScimType: true,
  match: null,
})

/** Checks a partial fault set; throws one error naming every bad field. */
export function validateFaults (raw: unknown): Partial<Faults> {
  const problems = [...Value.Errors(PartialFaultsSchema, raw)].map((e) => `${e.instancePath || '/'} ${e.message}`)
  const f = raw as Partial<Faults>
  if (problems.length === 0 && typeof f.match === 'string') {
    try {
      new RegExp(f.match)
    } catch {
      problems.push('/match is not a valid regular expression')
    }
  }
  if (problems.length > 0) throw new Error(`invalid faults: ${problems.join('; ')}`)
  return f
}

export interface FaultController {
  readonly current: Readonly<Faults>
  /** Merges a validated partial set. */
  set (f: Partial<Faults>): Readonly<Faults>
  /** Whether faults apply to this request (the `match` filter). */
  applies (method: string, path: string): boolean
  /** True with probability `fraction`. */
  roll (fraction: number): boolean
  /** Latency plus jitter plus slow headers, in ms. */
  delayMs (): number
}

export function createFaultController (initial: Partial<Faults>, random: () => number): FaultController {
  let current: Faults = { ...DEFAULT_FAULTS, ...validateFaults(initial) }
  let matcher = current.match === null ? null : new RegExp(current.match)
  return {
    get current () { return current },
    set (f) {
      current = { ...current, ...validateFaults(f) }
      matcher = current.match === null ? null : new RegExp(current.match)
      return current
    },
    applies (method, path) {
      return matcher === null || matcher.test(`${method} ${path}`)
    },
    roll (fraction) {
      // Skips the random draw when off, so seeded `random` sequences are only consumed by active faults.
      return fraction > 0 && (fraction >= 1 || random() < fraction)
    },
    delayMs () {
      const jitter = current.jitterMs > 0 ? (random() * 2 - 1) * current.jitterMs : 0
      return Math.max(0, current.latencyMs + jitter) + current.slowHeadersMs
    },
  }
}
