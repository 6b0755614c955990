import { request, type Agent } from 'undici'
import { checkDestination, createGuardedAgent, WebhookDestinationRefused, type AllowedNetworks, type Lookup } from './ssrf.js'
import { retryAfterMs } from '../lib/retry-after.js'
import { webhookHeaders } from './signing.js'

export const USER_AGENT = 'genesys-provisioning-webhooks/1.0'

/** How one POST ended; `statusCode` is absent when no response arrived. */
export interface SendResult {
  ok: boolean
  statusCode?: number
  retryAfterMs?: number
  error?: string
  durationMs: number
}

export interface Sender {
  send (url: string, secrets: readonly string[], id: string, timestamp: number, body: string): Promise<SendResult>
  close (): Promise<void>
}

/** Response bodies are read (to free the connection) but never kept. */
const MAX_RESPONSE_BYTES = 64 * 1024

/**
 * Posts signed webhooks: one total deadline per attempt, no redirects (a 3xx is
 * a failure), every connection checked against the private-address block.
 */
export function createSender (opts: {
  allowed: AllowedNetworks
  timeoutMs: number
  lookup?: Lookup
  now?: () => number
}): Sender {
  const now = opts.now ?? Date.now
  const agent: Agent = createGuardedAgent({ allowed: opts.allowed, lookup: opts.lookup, connectTimeoutMs: Math.min(opts.timeoutMs, 10_000), connections: 16 })

  return {
    async send (url, secrets, id, timestamp, body) {
      const started = performance.now()
      const elapsed = () => Math.round(performance.now() - started)
      try {
        await checkDestination(new URL(url), opts.allowed, opts.lookup)
        const res = await request(url, {
          method: 'POST',
          dispatcher: agent,
          headers: {
            'content-type': 'application/json',
            'user-agent': USER_AGENT,
            ...webhookHeaders(secrets, id, timestamp, body),
          },
          body,
          signal: AbortSignal.timeout(opts.timeoutMs),
          headersTimeout: opts.timeoutMs,
          bodyTimeout: opts.timeoutMs,
        })
        await drain(res.body)
        const statusCode = res.statusCode
        const ok = statusCode >= 200 && statusCode < 300
        const result: SendResult = { ok, statusCode, durationMs: elapsed() }
        if (!ok) {
          result.error = statusCode >= 300 && statusCode < 400 ? `redirect ${statusCode} not followed` : `HTTP ${statusCode}`
          const after = retryAfterMs(res.headers['retry-after'], now())
          if (after !== undefined) result.retryAfterMs = after
        }
        return result
      } catch (err) {
        return { ok: false, error: describe(err, opts.timeoutMs), durationMs: elapsed() }
      }
    },
    close: () => agent.close(),
  }
}

async function drain (body: AsyncIterable<Buffer> & { destroy?: () => void }): Promise<void> {
  let read = 0
  for await (const chunk of body) {
    read += chunk.length
    if (read > MAX_RESPONSE_BYTES) {
      body.destroy?.()
      return
    }
  }
}

/** An attempt's error in words: the cause class, never a body or a header value. */
function describe (err: unknown, timeoutMs: number): string {
  const refused = findRefusal(err)
  if (refused) return `destination refused: ${refused.reason}`
  if (err instanceof Error) {
    if (err.name === 'TimeoutError' || err.name === 'AbortError' || /timeout/i.test(err.name)) return `no response within ${timeoutMs} ms`
    const code = (err as { code?: unknown }).code ?? ((err as { cause?: { code?: unknown } }).cause?.code)
    return typeof code === 'string' ? `${code}: ${err.message}` : err.message
  }
  return String(err)
}

function findRefusal (err: unknown): WebhookDestinationRefused | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if (e instanceof WebhookDestinationRefused) return e
  }
  return undefined
}
