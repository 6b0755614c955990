import { timingSafeEqual } from 'node:crypto'
import { realpathSync } from 'node:fs'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { secretKey, sign } from '../webhooks/signing.js'

/**
 * A tiny HRIS webhook receiver for demos and the compose stack:
 * `node dist/src/dev/webhook-receiver.js` (or `npx tsx src/dev/webhook-receiver.ts`)
 * with `WEBHOOK_SECRETS=whsec_…[,whsec_…]`, optional `PORT` (8080), `HOST`
 * (0.0.0.0) and `WEBHOOK_TOLERANCE_SECONDS` (300).
 *
 * Every `POST` is verified as a Standard Webhook; a verified one is answered 204
 * and printed to stdout as one JSON line `{"at","webhookId","type","data"}`, so
 * stdout stays machine-readable. Refusals (400) and status messages go to stderr.
 * `GET /health` answers 200.
 * Production dependencies only: it runs from the service image.
 */

export type VerifyResult = { ok: true } | { ok: false, reason: string }

export type HeaderBag = Readonly<Record<string, string | string[] | undefined>>

export interface ReceiverOptions {
  port: number
  host: string
  secrets: readonly string[]
  toleranceSeconds: number
}

export interface StartReceiverOptions extends ReceiverOptions {
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number
  /** One JSON line per accepted webhook. */
  out?: (line: string) => void
  /** One JSON line per refused request (never a secret). */
  err?: (line: string) => void
}

export interface Receiver {
  url: string
  close (): Promise<void>
}

const MAX_BODY_BYTES = 1024 * 1024
// Ids remembered for duplicate detection; the oldest is forgotten first, so a
// long-running demo does not grow without bound.
const MAX_SEEN_IDS = 10_000

function header (headers: HeaderBag, name: string): string | undefined {
  const value = headers[name]
  return typeof value === 'string' && value !== '' ? value : undefined
}

/** Equal-length byte comparison in constant time; strings of other lengths never match. */
function sameText (a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8')
  const y = Buffer.from(b, 'utf8')
  return x.length === y.length && timingSafeEqual(x, y)
}

/**
 * Standard Webhooks verification: the timestamp within `toleranceSeconds` of
 * `nowSeconds` (either way), and any one `v1,` signature in the space-separated
 * `webhook-signature` header made by any one of `secrets` over `id.timestamp.body`.
 * Header names are lower-case, as Node delivers them.
 */
export function verifyWebhook (
  secrets: readonly string[],
  headers: HeaderBag,
  body: string,
  nowSeconds: number,
  toleranceSeconds = 300,
): VerifyResult {
  const id = header(headers, 'webhook-id')
  const timestamp = header(headers, 'webhook-timestamp')
  const signatures = header(headers, 'webhook-signature')
  if (id === undefined) return { ok: false, reason: 'missing webhook-id header' }
  if (timestamp === undefined) return { ok: false, reason: 'missing webhook-timestamp header' }
  if (signatures === undefined) return { ok: false, reason: 'missing webhook-signature header' }
  if (!/^\d{1,15}$/.test(timestamp)) return { ok: false, reason: 'webhook-timestamp is not a number of seconds' }
  const ts = Number(timestamp)
  if (Math.abs(nowSeconds - ts) > toleranceSeconds) return { ok: false, reason: 'webhook-timestamp outside the tolerance' }

  // Other versions (v1a, …) are skipped, as the specification asks.
  const presented = signatures.split(' ').filter((s) => s.startsWith('v1,'))
  if (presented.length === 0) return { ok: false, reason: 'no v1 signature' }
  for (const secret of secrets) {
    const expected = sign(secret, id, ts, body)
    if (presented.some((candidate) => sameText(candidate, expected))) return { ok: true }
  }
  return { ok: false, reason: 'no signature matches' }
}

/** Reads the receiver's settings from an environment; every problem in one message. */
export function loadReceiverOptions (env: Readonly<Record<string, string | undefined>>): ReceiverOptions {
  const problems: string[] = []
  const integer = (name: string, def: number, min: number, max: number): number => {
    const raw = env[name]
    if (raw === undefined || raw === '') return def
    const n = /^\d+$/.test(raw) ? Number(raw) : Number.NaN
    if (!(n >= min && n <= max)) problems.push(`${name} must be an integer from ${min} to ${max}`)
    return n
  }
  const port = integer('PORT', 8080, 0, 65535)
  const toleranceSeconds = integer('WEBHOOK_TOLERANCE_SECONDS', 300, 1, 86_400)
  const secrets = (env.WEBHOOK_SECRETS ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')
  if (secrets.length === 0) problems.push('WEBHOOK_SECRETS must hold at least one whsec_ secret (comma-separated)')
  secrets.forEach((secret, i) => {
    // Named by position only: a malformed secret is still a secret.
    let key: Buffer | undefined
    try {
      key = secretKey(secret)
    } catch {
      problems.push(`WEBHOOK_SECRETS entry ${i + 1} does not start with whsec_`)
    }
    if (key !== undefined && key.length < 16) problems.push(`WEBHOOK_SECRETS entry ${i + 1} has a key shorter than 16 bytes`)
  })
  if (problems.length > 0) throw new Error(problems.join('\n'))
  return { port, host: env.HOST || '0.0.0.0', secrets, toleranceSeconds }
}

/** The raw body, or undefined as soon as it grows past `limit` bytes (the rest is not read). */
async function readBody (req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  if (Number(req.headers['content-length'] ?? 0) > limit) return undefined
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const onData = (chunk: Buffer): void => {
      size += chunk.length
      if (size <= limit) {
        chunks.push(chunk)
        return
      }
      req.off('data', onData)
      req.pause()
      resolve(undefined)
    }
    req.on('data', onData)
    req.once('end', () => resolve(Buffer.concat(chunks)))
    req.once('error', reject)
  })
}

function reply (res: ServerResponse, status: number, text?: string, headers: Record<string, string> = {}): void {
  if (text === undefined) {
    res.writeHead(status, headers).end()
    return
  }
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers }).end(`${text}\n`)
}

/** Starts the receiver; `url` uses the bound address (port 0 picks a free port). */
export async function startReceiver (opts: StartReceiverOptions): Promise<Receiver> {
  const now = opts.now ?? Date.now
  const out = opts.out ?? ((line: string) => { process.stdout.write(`${line}\n`) })
  const err = opts.err ?? ((line: string) => { process.stderr.write(`${line}\n`) })
  const seen = new Set<string>()
  const secrets = [...opts.secrets]

  const refuse = (res: ServerResponse, status: number, reason: string, webhookId?: string): void => {
    err(JSON.stringify({ at: new Date(now()).toISOString(), status, webhookId, reason }))
    reply(res, status, reason)
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://receiver').pathname
    // /health/live too, so the image's own HEALTHCHECK works for the receiver.
    if (req.method === 'GET' && (path === '/health' || path === '/health/live')) return reply(res, 200, 'ok')
    if (req.method !== 'POST') return reply(res, 405, 'POST webhooks here; GET /health', { allow: 'POST' })

    const raw = await readBody(req, MAX_BODY_BYTES)
    if (raw === undefined) {
      // The unread rest of the body makes the connection unusable: close it after the answer.
      res.setHeader('connection', 'close')
      return refuse(res, 413, `body larger than ${MAX_BODY_BYTES} bytes`, header(req.headers, 'webhook-id'))
    }
    const body = raw.toString('utf8')
    const verdict = verifyWebhook(secrets, req.headers, body, Math.floor(now() / 1000), opts.toleranceSeconds)
    const webhookId = header(req.headers, 'webhook-id')
    if (!verdict.ok) return refuse(res, 400, verdict.reason, webhookId)

    let parsed: unknown
    try {
      parsed = JSON.parse(body)
    } catch {
      return refuse(res, 400, 'body is not JSON', webhookId)
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return refuse(res, 400, 'body is not a JSON object', webhookId)
    const event = parsed as { type?: unknown, data?: unknown }

    // Verification guarantees the id is present.
    const id = webhookId as string
    const at = new Date(now()).toISOString()
    if (seen.has(id)) {
      out(JSON.stringify({ at, webhookId: id, type: event.type, duplicate: true }))
    } else {
      seen.add(id)
      if (seen.size > MAX_SEEN_IDS) seen.delete(seen.values().next().value as string)
      out(JSON.stringify({ at, webhookId: id, type: event.type, data: event.data }))
    }
    reply(res, 204)
  }

  const server = createServer({ requestTimeout: 30_000, headersTimeout: 10_000 }, (req, res) => {
    handle(req, res).catch((e: unknown) => {
      err(JSON.stringify({ at: new Date(now()).toISOString(), status: 500, reason: e instanceof Error ? e.message : 'error' }))
      if (!res.headersSent) reply(res, 500, 'internal error')
      else res.destroy()
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(opts.port, opts.host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { address, port } = server.address() as AddressInfo
  const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}`
  return {
    url,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve, reject) => server.close((e) => (e ? reject(e) : resolve())))
    },
  }
}

/** True when this module is the process entry point (not when imported by tests). */
function isEntryPoint (): boolean {
  const entry = process.argv[1]
  if (entry === undefined) return false
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url))
  } catch {
    return false
  }
}

async function main (): Promise<void> {
  const opts = loadReceiverOptions(process.env)
  const receiver = await startReceiver(opts)
  console.error(`HRIS webhook receiver listening on ${receiver.url} (${opts.secrets.length} secret${opts.secrets.length === 1 ? '' : 's'}, tolerance ${opts.toleranceSeconds} s)`)
  let closing = false
  const stop = (signal: string): void => {
    if (closing) return
    closing = true
    console.error(`${signal}: closing the receiver`)
    receiver.close().then(() => process.exit(0), (e: unknown) => {
      console.error('error while closing the receiver', e)
      process.exit(1)
    })
  }
  process.once('SIGINT', () => stop('SIGINT'))
  process.once('SIGTERM', () => stop('SIGTERM'))
}

if (isEntryPoint()) {
  main().catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e)
    process.exit(1)
  })
}
