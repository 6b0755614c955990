import type { FastifyBaseLogger } from 'fastify'
import { errors as undiciErrors, Pool } from 'undici'
import { retryAfterMs } from '../lib/retry-after.js'
import { chargeCall } from './call-limit.js'
import { GenesysError, type GenesysFailure } from './errors.js'
import { RateBudgetExceeded, type RateBudget, type TokenProvider } from './ports.js'

export interface GenesysTimeouts {
  connectMs: number
  headersMs: number
  bodyMs: number
}

export interface PoolOptions {
  timeouts: GenesysTimeouts
  maxConnections: number
}

/**
 * One keep-alive undici Pool per origin with explicit timeouts (undici's own
 * defaults wait 300 s) and a connection cap. The login and API hosts get their
 * own pools; when both are one origin (the simulator) they share it.
 */
export function createPools (urls: string[], opts: PoolOptions) {
  const pools = new Map<string, Pool>()
  for (const url of urls) {
    const origin = new URL(url).origin
    if (!pools.has(origin)) {
      pools.set(origin, new Pool(origin, {
        connections: opts.maxConnections,
        connectTimeout: opts.timeouts.connectMs,
        headersTimeout: opts.timeouts.headersMs,
        bodyTimeout: opts.timeouts.bodyMs,
        keepAliveTimeout: 30_000,
      }))
    }
  }
  return {
    /** The pool and path prefix for a base URL given to createPools. */
    for (url: string): { pool: Pool, prefix: string } {
      const u = new URL(url)
      const pool = pools.get(u.origin)
      if (!pool) throw new Error(`no pool for origin ${u.origin}`)
      return { pool, prefix: u.pathname.replace(/\/+$/, '') }
    },
    async close (): Promise<void> {
      await Promise.all([...pools.values()].map((p) => p.close()))
    },
  }
}

export type Pools = ReturnType<typeof createPools>

export interface RawResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  /** Parsed JSON, or undefined for an empty or non-JSON body. */
  body: unknown
  correlationId?: string
}

/** Sends one request and reads the whole body; transport failures become GenesysErrors. */
export async function send (pool: Pool, operation: string, req: { method: string, path: string, headers: Record<string, string>, body?: string }): Promise<RawResponse> {
  let res
  try {
    res = await pool.request({ method: req.method as 'GET', path: req.path, headers: req.headers, body: req.body })
  } catch (err) {
    throw transportError(operation, err)
  }
  const correlationId = header(res.headers, 'inin-correlation-id')
  let text: string
  try {
    text = await res.body.text()
  } catch (err) {
    throw transportError(operation, err, correlationId)
  }
  let body: unknown
  if (text.length > 0) {
    try {
      body = JSON.parse(text)
    } catch {
      body = undefined
    }
  }
  return { status: res.statusCode, headers: res.headers, body, correlationId }
}

function transportError (operation: string, err: unknown, correlationId?: string): GenesysError {
  const timeout = err instanceof undiciErrors.HeadersTimeoutError ||
    err instanceof undiciErrors.BodyTimeoutError ||
    err instanceof undiciErrors.ConnectTimeoutError
  const failure: GenesysFailure = timeout ? 'timeout' : 'network'
  const what = err instanceof Error ? (err as Error & { code?: string }).code ?? err.name : 'unknown error'
  return new GenesysError(
    timeout
      ? `Genesys Cloud did not answer ${operation} in time (${what})`
      : `Genesys Cloud connection failed during ${operation} (${what}); the request may or may not have been applied`,
    { operation, failure, correlationId, cause: err },
  )
}

export function header (headers: RawResponse['headers'], name: string): string | undefined {
  const v = headers[name]
  return Array.isArray(v) ? v[0] : v
}

/** `Retry-After` as milliseconds: integer seconds or an HTTP date; undefined when absent or unreadable. */
export { retryAfterMs }

interface ErrorFields { message?: string, genesysCode?: string, scimType?: string, contextId?: string }

/** Reads a platform ErrorBody, a SCIM Error or an OAuth error, whichever came back. */
export function errorFields (body: unknown): ErrorFields {
  if (typeof body !== 'object' || body === null) return {}
  const b = body as Record<string, unknown>
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined)
  return {
    message: str(b.message) ?? str(b.detail) ?? str(b.description),
    genesysCode: str(b.code) ?? str(b.error),
    scimType: str(b.scimType),
    contextId: str(b.contextId),
  }
}

export interface ApiRequest<T> {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
  /** Path below the API base, e.g. `/api/v2/scim/v2/users`. */
  path: string
  query?: Record<string, string | number | undefined>
  body?: unknown
  headers?: Record<string, string>
  /** Statuses that count as success; others become GenesysErrors. */
  ok: number[]
  /** Checks the success body; a mismatch is an `invalid-response` error. */
  validator?: { Check (value: unknown): value is T }
  contentType?: string
}

export interface ApiResponse<T> {
  status: number
  body: T
  etag?: string
  correlationId?: string
}

export type ApiEvent = 'request' | 'rate-limited' | 'unauthorized-retry' | 'error'

export interface ApiCallerOptions {
  pools: Pools
  apiUrl: string
  tokens: TokenProvider
  budget: RateBudget
  logger: FastifyBaseLogger
  /** How long a call may wait for a rate-budget slot before failing (retryable). */
  budgetWaitMs?: number
  onEvent?: (e: ApiEvent, operation: string) => void
  /** Each upstream exchange: its HTTP status (or `transport` when none came back) and duration. */
  onCall?: (operation: string, status: string, seconds: number) => void
  /** Time spent waiting for a rate-budget slot before a call. */
  onBudgetWait?: (seconds: number) => void
  now?: () => number
}

/**
 * Every API call goes through here: rate budget, bearer token, one refresh and
 * one retry on 401 (never a loop), a 429 pauses the shared budget for at least
 * `Retry-After`, and failures become GenesysErrors. No other retries: those
 * belong to the job layer, which can wait durably and with jitter.
 */
export function createApiCaller (opts: ApiCallerOptions) {
  const { pool, prefix } = opts.pools.for(opts.apiUrl)
  const log = opts.logger
  const now = opts.now ?? Date.now
  const budgetWaitMs = opts.budgetWaitMs ?? 30_000
  const event = opts.onEvent ?? (() => {})

  async function once<T> (operation: string, req: ApiRequest<T>, path: string, body: string | undefined): Promise<{ res: RawResponse, token: string }> {
    chargeCall(operation)
    const waitStarted = performance.now()
    try {
      await opts.budget.acquire({ maxWaitMs: budgetWaitMs })
      opts.onBudgetWait?.((performance.now() - waitStarted) / 1000)
    } catch (err) {
      if (err instanceof RateBudgetExceeded) {
        throw new GenesysError(`the Genesys rate budget is exhausted; ${operation} not sent`, { operation, failure: 'rate-budget', retryAfterMs: err.retryAfterMs, cause: err })
      }
      throw err
    }
    const token = await opts.tokens.getToken()
    const headers: Record<string, string> = {
      authorization: `Bearer ${token}`,
      accept: 'application/json',
      ...req.headers,
    }
    if (body !== undefined) headers['content-type'] = req.contentType ?? 'application/json'
    const started = now()
    const t0 = performance.now()
    event('request', operation)
    let res: RawResponse
    try {
      res = await send(pool, operation, { method: req.method, path, headers, body })
    } catch (err) {
      opts.onCall?.(operation, 'transport', (performance.now() - t0) / 1000)
      throw err
    }
    opts.onCall?.(operation, String(res.status), (performance.now() - t0) / 1000)
    log.debug({ operation, status: res.status, durationMs: now() - started, correlationId: res.correlationId }, 'genesys call')
    return { res, token }
  }

  return async function call<T> (operation: string, req: ApiRequest<T>): Promise<ApiResponse<T>> {
    const path = prefix + req.path + queryString(req.query)
    const body = req.body === undefined ? undefined : JSON.stringify(req.body)

    let { res, token } = await once(operation, req, path, body)
    if (res.status === 401) {
      // The token was revoked or expired early: drop exactly it, fetch once, retry once.
      event('unauthorized-retry', operation)
      await opts.tokens.invalidate(token)
      ;({ res, token } = await once(operation, req, path, body))
      if (res.status === 401) {
        const f = errorFields(res.body)
        event('error', operation)
        throw new GenesysError(
          `Genesys Cloud refused a freshly issued token for ${operation} (${f.genesysCode ?? '401'}); check the OAuth client's roles and that it is active`,
          { operation, failure: 'credentials', upstreamStatus: 401, genesysCode: f.genesysCode, correlationId: res.correlationId, contextId: f.contextId },
        )
      }
    }

    if (!req.ok.includes(res.status)) {
      const f = errorFields(res.body)
      let wait: number | undefined
      if (res.status === 429) {
        // Retry-After is a floor: pause everyone sharing this budget at least that long.
        wait = retryAfterMs(header(res.headers, 'retry-after'), now()) ?? retryAfterInMessage(f.message) ?? 1000
        event('rate-limited', operation)
        await opts.budget.pause(wait)
      } else if (res.status === 503) {
        wait = retryAfterMs(header(res.headers, 'retry-after'), now())
      }
      event('error', operation)
      throw new GenesysError(
        `Genesys Cloud answered ${res.status}${f.genesysCode ? ` ${f.genesysCode}` : ''}${f.scimType ? ` (${f.scimType})` : ''} to ${operation}${f.message ? `: ${truncate(f.message)}` : ''}`,
        { operation, failure: 'http', upstreamStatus: res.status, genesysCode: f.genesysCode, scimType: f.scimType, upstreamMessage: f.message, correlationId: res.correlationId, contextId: f.contextId, retryAfterMs: wait },
      )
    }

    if (req.validator && res.status !== 204 && res.status !== 304 && !req.validator.Check(res.body)) {
      event('error', operation)
      throw new GenesysError(`Genesys Cloud answered ${operation} with a body of an unexpected shape`, {
        operation, failure: 'invalid-response', upstreamStatus: res.status, correlationId: res.correlationId,
      })
    }
    return { status: res.status, body: res.body as T, etag: header(res.headers, 'etag'), correlationId: res.correlationId }
  }
}

export type ApiCaller = ReturnType<typeof createApiCaller>

function queryString (query: ApiRequest<unknown>['query']): string {
  if (!query) return ''
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined) params.set(k, String(v))
  }
  const s = params.toString()
  return s ? `?${s}` : ''
}

/**
 * A 429 without `Retry-After` still names the wait in its ErrorBody message:
 * "Rate limit exceeded the maximum. Retry the request in [42] seconds".
 */
export function retryAfterInMessage (message: string | undefined): number | undefined {
  const m = message === undefined ? null : /retry the request in \[?(\d+)\]? seconds?/i.exec(message)
  return m?.[1] === undefined ? undefined : Number(m[1]) * 1000
}

/** Upstream messages can echo input; keep them short in our own messages. */
function truncate (s: string): string {
  return s.length > 200 ? `${s.slice(0, 200)}…` : s
}
