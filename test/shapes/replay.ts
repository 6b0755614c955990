import { readFileSync } from 'node:fs'
import { createServer, type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import { pino } from 'pino'
import type { Test } from 'tap'
import { createGenesysConnection, type GenesysConnection } from '../../src/genesys/connection.js'
import { createMemoryRateBudget } from '../../src/genesys/budget/memory.js'
import { createMemoryTokenProvider } from '../../src/genesys/token/memory.js'

/** One recorded Genesys answer: status, headers and body, with where its shape comes from. */
export interface Fixture {
  source: string
  status: number
  headers?: Record<string, string>
  body?: unknown
}

export function fixture (name: string): Fixture {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}.json`, import.meta.url), 'utf8')) as Fixture
}

/** A fixture with its body replaced (the same shape in another state). */
export const withBody = (f: Fixture, body: unknown): Fixture => ({ ...f, body })

export interface Recorded { method: string, path: string, query: string, headers: IncomingMessage['headers'], body: unknown }

/**
 * Serves fixtures over real HTTP to the real client: `METHOD /path` → the
 * fixtures to answer with, in order (the last one repeats). Unlisted routes
 * answer 404 ErrorBody; the token endpoint always works. Every API request is
 * recorded with its headers and parsed body.
 */
export async function replay (t: Test, routes: Record<string, Fixture | Fixture[]>): Promise<{ genesys: GenesysConnection, requests: Recorded[], pauses: number[] }> {
  const requests: Recorded[] = []
  const served = new Map<string, number>()
  const server = createServer((req, res) => {
    let raw = ''
    req.on('data', (c: Buffer) => { raw += c.toString('utf8') })
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://replay')
      if (url.pathname === '/oauth/token') {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ access_token: 'replay-token', token_type: 'bearer', expires_in: 86400 }))
        return
      }
      const key = `${req.method ?? 'GET'} ${url.pathname}`
      requests.push({ method: req.method ?? 'GET', path: url.pathname, query: url.search, headers: req.headers, body: raw === '' ? undefined : JSON.parse(raw) as unknown })
      const list = routes[key]
      const all = list === undefined ? [] : Array.isArray(list) ? list : [list]
      const n = served.get(key) ?? 0
      served.set(key, n + 1)
      const f = all[Math.min(n, all.length - 1)]
      if (f === undefined) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ message: `no fixture for ${key}`, code: 'not.found', status: 404 }))
        return
      }
      res.writeHead(f.status, f.headers ?? {}).end(f.body === undefined ? '' : JSON.stringify(f.body))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const budget = createMemoryRateBudget({ perMinute: 100_000 })
  const pauses: number[] = []
  const genesys = createGenesysConnection({
    apiUrl: url,
    loginUrl: url,
    clientId: 'replay-client',
    clientSecret: 'replay-secret',
    timeouts: { connectMs: 2000, headersMs: 5000, bodyMs: 5000 },
    maxConnections: 4,
    logger: pino({ enabled: false }),
    tokenProvider: (fetchToken) => createMemoryTokenProvider({ fetchToken }),
    // Records the pauses a 429 asks for, without making the test wait them out.
    budget: { acquire: (o) => budget.acquire(o), pause: async (ms) => { pauses.push(ms) }, close: () => budget.close() },
  })
  t.teardown(async () => {
    await genesys.close()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  })
  return { genesys, requests, pauses }
}
