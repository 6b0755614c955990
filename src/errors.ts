/**
 * The closed set of coded errors. Adapters translate foreign failures into one of
 * these at their boundary (keeping the original as `cause`); the HTTP error
 * handler alone turns them into application/problem+json.
 *
 * Messages name the input or the upstream operation that failed, never a secret,
 * a token or a URL carrying credentials.
 */

export interface Issue {
  /** Stable machine code, e.g. `email.taken`, `schema.additionalProperty`. */
  code: string
  /** JSON pointer-ish path of the offending input, e.g. `/roles/1`. */
  path: string
  message: string
}

export type ErrorCode =
  | 'PROV_ERR_VALIDATION'
  | 'PROV_ERR_POLICY'
  | 'PROV_ERR_UNAUTHENTICATED'
  | 'PROV_ERR_FORBIDDEN'
  | 'PROV_ERR_NOT_FOUND'
  | 'PROV_ERR_CONFLICT'
  | 'PROV_ERR_IDEMPOTENCY_MISMATCH'
  | 'PROV_ERR_IDEMPOTENCY_IN_FLIGHT'
  | 'PROV_ERR_PAYLOAD_TOO_LARGE'
  | 'PROV_ERR_UNSUPPORTED_MEDIA_TYPE'
  | 'PROV_ERR_TOO_COSTLY'
  | 'PROV_ERR_RATE_LIMITED'
  | 'PROV_ERR_UPSTREAM'
  | 'PROV_ERR_UPSTREAM_TIMEOUT'
  | 'PROV_ERR_CONFIGURATION'
  | 'PROV_ERR_UNAVAILABLE'
  | 'PROV_ERR_INTERNAL'

export interface ProvisioningErrorOptions {
  cause?: unknown
  issues?: Issue[]
  /** Seconds; becomes a `Retry-After` header on 429/503. */
  retryAfter?: number
  /** Extra headers the response must carry (e.g. `Location` of a conflicting resource). */
  headers?: Record<string, string>
  /** Whether a job that hit this error may try again later. */
  retryable?: boolean
  /** The message carries an upstream's own words: an HTTP answer shows the title instead. */
  upstreamText?: boolean
}

export class ProvisioningError extends Error {
  readonly code: ErrorCode
  readonly status: number
  readonly title: string
  readonly issues?: Issue[]
  readonly retryAfter?: number
  readonly headers?: Record<string, string>
  readonly retryable: boolean
  readonly upstreamText: boolean

  constructor (code: ErrorCode, status: number, title: string, message: string, opts: ProvisioningErrorOptions = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause })
    this.name = 'ProvisioningError'
    this.code = code
    this.status = status
    this.title = title
    this.issues = opts.issues
    this.retryAfter = opts.retryAfter
    this.headers = opts.headers
    this.retryable = opts.retryable ?? (status >= 500 || status === 429)
    this.upstreamText = opts.upstreamText ?? false
  }
}

export const errors = {
  validation: (message: string, issues: Issue[]) =>
    new ProvisioningError('PROV_ERR_VALIDATION', 400, 'Invalid request', message, { issues }),
  policy: (message: string, issues: Issue[]) =>
    new ProvisioningError('PROV_ERR_POLICY', 422, 'Request violates policy', message, { issues }),
  unauthenticated: (message = 'A valid API key is required in the Authorization header (Bearer scheme).', challenge = 'Bearer') =>
    new ProvisioningError('PROV_ERR_UNAUTHENTICATED', 401, 'Unauthenticated', message, { headers: { 'www-authenticate': challenge } }),
  forbidden: (message: string) =>
    new ProvisioningError('PROV_ERR_FORBIDDEN', 403, 'Forbidden', message),
  notFound: (message: string) =>
    new ProvisioningError('PROV_ERR_NOT_FOUND', 404, 'Not found', message),
  conflict: (message: string, opts: ProvisioningErrorOptions = {}) =>
    new ProvisioningError('PROV_ERR_CONFLICT', 409, 'Conflict', message, opts),
  idempotencyMismatch: () =>
    new ProvisioningError('PROV_ERR_IDEMPOTENCY_MISMATCH', 422, 'Idempotency key reused',
      'This Idempotency-Key was already used with a different request body.'),
  idempotencyInFlight: () =>
    new ProvisioningError('PROV_ERR_IDEMPOTENCY_IN_FLIGHT', 409, 'Request in progress',
      'A request with this Idempotency-Key is still being processed; retry later.', { retryAfter: 1 }),
  payloadTooLarge: (limit: number) =>
    new ProvisioningError('PROV_ERR_PAYLOAD_TOO_LARGE', 413, 'Payload too large', `The request body exceeds ${limit} bytes.`),
  unsupportedMediaType: (type: string) =>
    new ProvisioningError('PROV_ERR_UNSUPPORTED_MEDIA_TYPE', 415, 'Unsupported media type', `Content-Type ${type} is not supported; send application/json.`),
  tooCostly: (message: string) =>
    new ProvisioningError('PROV_ERR_TOO_COSTLY', 422, 'Request too costly', message, { retryable: false }),
  rateLimited: (retryAfter: number) =>
    new ProvisioningError('PROV_ERR_RATE_LIMITED', 429, 'Too many requests', `Rate limit exceeded; retry in ${retryAfter} s.`, { retryAfter }),
  unavailable: (message: string, retryAfter?: number, cause?: unknown) =>
    new ProvisioningError('PROV_ERR_UNAVAILABLE', 503, 'Service unavailable', message, { retryAfter, cause }),
  configuration: (message: string, cause?: unknown) =>
    new ProvisioningError('PROV_ERR_CONFIGURATION', 500, 'Service misconfigured', message, { cause, retryable: false }),
  internal: (message: string, cause?: unknown) =>
    new ProvisioningError('PROV_ERR_INTERNAL', 500, 'Internal error', message, { cause }),
}

export function isProvisioningError (err: unknown): err is ProvisioningError {
  return err instanceof ProvisioningError
}

export function problemType (code: string): string {
  return `urn:genesys-provisioning:problem:${code.replace(/^PROV_ERR_/, '').toLowerCase().replaceAll('_', '-')}`
}

/** The problem+json body of an error, without the per-request id. */
export interface ProblemBody { type: string, title: string, status: number, detail: string, code: string, issues?: Issue[] }

export function problemBody (err: ProvisioningError): ProblemBody {
  return {
    type: problemType(err.code),
    title: err.title,
    status: err.status,
    // Upstream words never reach a caller: they may name objects of other tenants.
    detail: err.code === 'PROV_ERR_INTERNAL'
      ? 'An internal error occurred; quote the requestId when reporting it.'
      : err.upstreamText ? `${err.title}; quote the requestId when reporting it.` : err.message,
    code: err.code,
    ...(err.issues && err.issues.length > 0 ? { issues: err.issues } : {}),
  }
}
