import type { FastifyBaseLogger } from 'fastify'
import { Writable } from 'node:stream'
import { pino } from 'pino'
import { buildApp, type AppDeps } from '../../src/http/app.js'
import { createClientRegistry, sha256Hex, type ApiClient } from '../../src/config/clients.js'
import { loadConfig } from '../../src/config/load-config.js'
import { loggerOptions } from '../../src/lib/logger.js'

export const KEYS = {
  writer: 'gpk_test_writer_key_0123456789abcdefghijklmnop',
  reader: 'gpk_test_reader_key_0123456789abcdefghijklmnop',
}

export const TEST_CLIENTS: ApiClient[] = [
  { id: 'hris-a', name: 'HRIS A', keySha256: sha256Hex(KEYS.writer), scopes: ['provisioning:write', 'provisioning:read'], divisions: ['BPO-A'] },
  { id: 'hris-b', name: 'HRIS B', keySha256: sha256Hex(KEYS.reader), scopes: ['provisioning:read'], divisions: '*' },
]

/** Collects every log line the app writes, as parsed JSON and as raw text. */
export function captureLogs () {
  const lines: string[] = []
  const stream = new Writable({
    write (chunk, _enc, cb) {
      lines.push(...String(chunk).split('\n').filter(Boolean))
      cb()
    },
  })
  const logger = pino(loggerOptions({ level: 'trace' }), stream)
  return { logger, lines, text: () => lines.join('\n'), parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) }
}

export async function buildTestApp (opts: { deps?: Partial<AppDeps>, env?: Record<string, string>, logger?: FastifyBaseLogger } = {}) {
  // Request rate limits are tested on their own; elsewhere they would only pace the tests.
  const config = loadConfig({ RECONCILE_INTERVAL_MINUTES: '0', RATE_LIMIT_PER_MINUTE: '1000000', RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: '1000000', ...opts.env })
  return buildApp({
    config,
    deps: { clients: createClientRegistry(TEST_CLIENTS), readiness: [], ...opts.deps },
    logger: opts.logger,
  })
}
