import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Webhook } from 'standardwebhooks'

export interface Received {
  headers: IncomingHttpHeaders
  body: string
  /** ms since the receiver started (performance clock). */
  at: number
}

export type Reply = { status: number, headers?: Record<string, string> } | 'hang'

/**
 * A loopback HRIS endpoint for webhook tests: records every request with its
 * exact body and answers as the script says (status codes, Retry-After, or
 * never). Each hung response is released on close.
 */
export async function startReceiver (script: (n: number, r: Received) => Reply = () => ({ status: 204 })) {
  const received: Received[] = []
  const hung: ServerResponse[] = []
  const waiters: Array<{ count: number, resolve: () => void }> = []
  const t0 = performance.now()
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const r: Received = { headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: performance.now() - t0 }
      received.push(r)
      for (const w of waiters.filter((w) => received.length >= w.count)) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve()
      }
      const reply = script(received.length, r)
      if (reply === 'hang') {
        hung.push(res)
        return
      }
      res.writeHead(reply.status, reply.headers ?? {})
      res.end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}/hooks/genesys`,
    received,
    /** Resolves once `count` requests arrived, rejects after `timeoutMs`. */
    async waitFor (count: number, timeoutMs = 20_000): Promise<void> {
      if (received.length >= count) return
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`receiver got ${received.length} of ${count} requests within ${timeoutMs} ms`)), timeoutMs)
        waiters.push({ count, resolve: () => { clearTimeout(timer); resolve() } })
      })
    },
    async close (): Promise<void> {
      for (const res of hung) res.destroy()
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
  }
}

/** Verifies a captured delivery with the independent Standard Webhooks library; returns the parsed body. */
export function verifyWith (secret: string, r: Received): unknown {
  return new Webhook(secret).verify(r.body, {
    'webhook-id': String(r.headers['webhook-id']),
    'webhook-timestamp': String(r.headers['webhook-timestamp']),
    'webhook-signature': String(r.headers['webhook-signature']),
  })
}

/**
 * The same check for a delivery signed on virtual time: the signature is
 * recomputed by the library for the request's own timestamp, without the
 * library's ±5 min tolerance against the wall clock.
 */
export function verifyAt (secret: string, r: Received): unknown {
  const expected = new Webhook(secret).sign(String(r.headers['webhook-id']), new Date(Number(r.headers['webhook-timestamp']) * 1000), r.body)
  if (!String(r.headers['webhook-signature']).split(' ').includes(expected)) throw new Error('no signature matches')
  return JSON.parse(r.body)
}
