import { ProvisioningError, type ErrorCode } from '../errors.js'

/** How a Genesys call failed: an answer we did not want, or no usable answer at all. */
export type GenesysFailure = 'http' | 'timeout' | 'network' | 'invalid-response' | 'rate-budget' | 'credentials'

export interface GenesysErrorDetails {
  /** The client operation, e.g. `scim.users.create`; never a URL. */
  operation: string
  failure: GenesysFailure
  upstreamStatus?: number
  /** ErrorBody `code` (`not.found`, `too.many.requests.retry.after`, …) or OAuth `error`. */
  genesysCode?: string
  /** SCIM error `scimType` (`uniqueness`, `invalidVers`, `invalidFilter`, …). */
  scimType?: string
  /** The upstream error text (ErrorBody `message`, SCIM `detail`), used to tell error shapes apart. */
  upstreamMessage?: string
  /** The `ININ-Correlation-Id` response header: what Genesys support asks for. */
  correlationId?: string
  contextId?: string
  /** When Genesys (or our own budget) says to come back; a floor, never shortened. */
  retryAfterMs?: number
  cause?: unknown
}

/**
 * A Genesys call that failed, translated at the client boundary. Carries what an
 * operator needs to act (operation, upstream status and code, correlation id)
 * and whether trying again later can help; never a token, secret or full URL.
 */
export class GenesysError extends ProvisioningError {
  readonly operation: string
  readonly failure: GenesysFailure
  readonly upstreamStatus?: number
  readonly genesysCode?: string
  readonly scimType?: string
  readonly upstreamMessage?: string
  readonly correlationId?: string
  readonly contextId?: string
  readonly retryAfterMs?: number

  constructor (message: string, d: GenesysErrorDetails) {
    const { code, status, title, retryable } = classify(d)
    super(code, status, title, message, {
      cause: d.cause,
      retryable,
      upstreamText: true,
      retryAfter: d.retryAfterMs === undefined ? undefined : Math.max(1, Math.ceil(d.retryAfterMs / 1000)),
    })
    this.name = 'GenesysError'
    this.operation = d.operation
    this.failure = d.failure
    this.upstreamStatus = d.upstreamStatus
    this.genesysCode = d.genesysCode
    this.scimType = d.scimType
    this.upstreamMessage = d.upstreamMessage
    this.correlationId = d.correlationId
    this.contextId = d.contextId
    this.retryAfterMs = d.retryAfterMs
  }

  /** Fields safe to log or store in a request's ledger. */
  toJSON (): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      operation: this.operation,
      failure: this.failure,
      upstreamStatus: this.upstreamStatus,
      genesysCode: this.genesysCode,
      scimType: this.scimType,
      correlationId: this.correlationId,
      retryable: this.retryable,
      retryAfterMs: this.retryAfterMs,
    }
  }
}

function classify (d: GenesysErrorDetails): { code: ErrorCode, status: number, title: string, retryable: boolean } {
  if (d.failure === 'credentials') {
    return { code: 'PROV_ERR_CONFIGURATION', status: 500, title: 'Service misconfigured', retryable: false }
  }
  if (d.failure === 'timeout') {
    return { code: 'PROV_ERR_UPSTREAM_TIMEOUT', status: 504, title: 'Genesys Cloud did not answer in time', retryable: true }
  }
  if (d.failure === 'network' || d.failure === 'rate-budget') {
    return { code: 'PROV_ERR_UNAVAILABLE', status: 503, title: 'Genesys Cloud unavailable', retryable: true }
  }
  const s = d.upstreamStatus ?? 0
  if (s === 429 || s === 503) {
    return { code: 'PROV_ERR_UNAVAILABLE', status: 503, title: 'Genesys Cloud unavailable', retryable: true }
  }
  if (s === 403) {
    // Only the permission's name is repeated, never the rest of Genesys' words.
    const permission = /permission\(s\):\s*\[([a-z*]+:[a-z*]+:[a-z*]+)\]/i.exec(d.upstreamMessage ?? '')?.[1]
    return { code: 'PROV_ERR_UPSTREAM', status: 502, title: `Genesys Cloud refused the request: its OAuth client lacks ${permission ?? 'a permission'} there`, retryable: false }
  }
  // 408 client.timeout and every 5xx are Genesys-side trouble: try again later.
  const retryable = s === 408 || s >= 500 || d.failure === 'invalid-response'
  return { code: 'PROV_ERR_UPSTREAM', status: 502, title: 'Genesys Cloud refused the request', retryable }
}

export function isGenesysError (err: unknown): err is GenesysError {
  return err instanceof GenesysError
}

/** A SCIM 409 `uniqueness` on create: the userName belongs to a non-deleted user. */
export function isUniquenessConflict (err: unknown): boolean {
  return isGenesysError(err) && err.upstreamStatus === 409 && (err.scimType === 'uniqueness' || err.genesysCode === 'general.conflict')
}

/** How Genesys words a stale version, in any of its error shapes. */
const VERSION_MISMATCH = /(?:does not match (?:the )?current version|unexpected version)/i

/**
 * A stale `If-Match`, in each of the three shapes Genesys answers with: 400 SCIM
 * `invalidVers`; 409 SCIM "Version does not match current version." (no
 * `scimType`); and, on directory APIs, a 400 ErrorBody whose message says it
 * "does not match the current version". Only meaningful for conditional writes:
 * a create has no If-Match, and its 409 is a uniqueness conflict.
 */
export function isVersionConflict (err: unknown): boolean {
  if (!isGenesysError(err)) return false
  if (err.scimType === 'invalidVers') return true
  const mentionsVersion = VERSION_MISMATCH.test(err.upstreamMessage ?? '')
  if (err.upstreamStatus === 409) {
    return mentionsVersion || (err.scimType !== 'uniqueness' && err.genesysCode !== 'general.conflict')
  }
  return err.upstreamStatus === 400 && mentionsVersion
}

export function isNotFound (err: unknown): boolean {
  return isGenesysError(err) && err.upstreamStatus === 404
}
