import type { Test } from 'tap'
import { buildApp } from '../../src/http/app.js'
import { loadConfig } from '../../src/config/load-config.js'
import { createDeps } from '../../src/deps.js'
import { captureLogs } from './app.js'

export interface Answer { status: number, headers: Headers, body: Record<string, unknown> }

/**
 * The real service in this process (embedded memory stores, the composition
 * root as production wires it) listening on a loopback port, with its log
 * lines captured; torn down with the test. Request rate limits are off and
 * webhooks may reach loopback receivers unless `env` says otherwise.
 */
export async function serveEmbedded (t: Test, env: Record<string, string>) {
  const logs = captureLogs()
  const config = loadConfig({ RECONCILE_INTERVAL_MINUTES: '0', WEBHOOK_ALLOWED_NETWORKS: '127.0.0.1/32', RATE_LIMIT_PER_MINUTE: '1000000', RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: '1000000', ...env })
  const deps = await createDeps(config, logs.logger)
  const app = await buildApp({ config, deps, logger: logs.logger })
  await app.listen({ port: 0, host: '127.0.0.1' })
  t.teardown(async () => { await app.close(); await deps.close() })
  const address = app.server.address()
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`
  /** One call with an API key; an object body is sent as JSON, a string as it is. */
  const call = async (key: string, method: string, path: string, body?: unknown, extra: Record<string, string> = {}): Promise<Answer> => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...extra },
      ...(body !== undefined ? { body: typeof body === 'string' ? body : JSON.stringify(body) } : {}),
    })
    const text = await res.text()
    return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> }
  }
  return { url, call, logs }
}
