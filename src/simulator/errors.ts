/**
 * The two error shapes Genesys Cloud answers with: the platform ErrorBody
 * (every `/api/v2` route, and most SCIM failures that are not SCIM-specific)
 * and the SCIM 2.0 Error message, whose `status` is a string.
 */

export const SCIM_ERROR_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:Error'

export interface ErrorBody {
  message: string
  code: string
  status: number
  contextId: string
  messageWithParams: string
  messageParams: Record<string, string>
  details: Array<Record<string, string>>
  errors: unknown[]
}

export interface ScimErrorBody {
  schemas: [typeof SCIM_ERROR_SCHEMA]
  status: string
  scimType?: string
  detail: string
}

/**
 * Thrown by handlers and state operations; the app's error handler renders it.
 * `scim` set ⇒ rendered as a SCIM Error, otherwise as an ErrorBody.
 */
export class SimError extends Error {
  readonly status: number
  readonly code: string
  readonly scim: boolean
  readonly scimType?: string
  readonly headers: Record<string, string>
  readonly messageWithParams?: string
  readonly messageParams?: Record<string, string>

  constructor (status: number, code: string, message: string, extra: {
    scim?: boolean
    scimType?: string
    headers?: Record<string, string>
    messageWithParams?: string
    messageParams?: Record<string, string>
  } = {}) {
    super(message)
    this.name = 'SimError'
    this.status = status
    this.code = code
    this.scim = extra.scim ?? false
    this.scimType = extra.scimType
    this.headers = extra.headers ?? {}
    this.messageWithParams = extra.messageWithParams
    this.messageParams = extra.messageParams
  }
}

export function errorBody (status: number, code: string, message: string, contextId: string, params?: { messageWithParams?: string, messageParams?: Record<string, string> }): ErrorBody {
  return {
    message,
    code,
    status,
    contextId,
    messageWithParams: params?.messageWithParams ?? message,
    messageParams: params?.messageParams ?? {},
    details: [],
    errors: [],
  }
}

export function scimErrorBody (status: number, detail: string, scimType?: string): ScimErrorBody {
  const body: ScimErrorBody = { schemas: [SCIM_ERROR_SCHEMA], status: String(status), detail }
  if (scimType !== undefined) body.scimType = scimType
  return body
}

// Shorthands for the errors the simulator raises most.
export const notFound = (what: string): SimError => new SimError(404, 'not.found', `${what} not found`)
export const badRequest = (message: string): SimError => new SimError(400, 'bad.request', message)
export const conflict = (message: string): SimError => new SimError(409, 'general.conflict', message)
export const scimError = (status: number, scimType: string | undefined, detail: string): SimError =>
  new SimError(status, scimType ?? 'scim.error', detail, { scim: true, scimType })

/** The 429 Genesys answers when a token exceeds its per-minute budget. */
export function rateLimitError (retryAfterSeconds: number): SimError {
  const n = Math.max(1, Math.ceil(retryAfterSeconds))
  return new SimError(429, 'too.many.requests.retry.after', `Rate limit exceeded the maximum. Retry the request in [${n}] seconds`, {
    headers: { 'retry-after': String(n) },
    messageWithParams: 'Rate limit exceeded the maximum. Retry the request in [{0}] seconds',
    messageParams: { 0: String(n) },
  })
}
