import { connect } from 'node:net'
import t from 'tap'
import { createClientRegistry } from '../../src/config/clients.js'
import { buildTestApp, KEYS, TEST_CLIENTS } from '../helpers/app.js'

/** Each protection here has a test that fails when the protection is switched off. */

const writer = { authorization: `Bearer ${KEYS.writer}` }

t.test('security headers on every response: success, errors, 404, 413, 500, health', async (t) => {
  const app = await buildTestApp({ env: { BODY_LIMIT_BYTES: '1024' } })
  t.teardown(() => app.close())
  app.get('/v1/broken', async () => { throw new Error('an unexpected failure') })
  app.post('/v1/echo', async (request) => request.body)
  const cases: Array<[string, Record<string, string>, number, string?]> = [
    ['/v1/me', writer, 200],
    ['/v1/me', {}, 401],
    ['/v1/nowhere', writer, 404],
    ['/v1/echo', { ...writer, 'content-type': 'application/json' }, 413, JSON.stringify({ big: 'x'.repeat(2048) })],
    ['/v1/broken', writer, 500],
    ['/health/live', {}, 200],
  ]
  for (const [url, headers, status, payload] of cases) {
    const res = await app.inject({ url, headers, ...(payload !== undefined ? { method: 'POST', payload } : {}) })
    t.equal(res.statusCode, status, url)
    t.equal(res.headers['x-content-type-options'], 'nosniff', `${url} ${status}: nosniff`)
    t.equal(res.headers['x-frame-options'], 'DENY', `${url} ${status}: frames refused`)
    t.match(res.headers['content-security-policy'], /frame-ancestors 'none'/, `${url} ${status}: CSP frame-ancestors`)
    t.match(res.headers['content-security-policy'], /default-src 'none'/, `${url} ${status}: a JSON answer loads nothing`)
    t.equal(res.headers['cache-control'], 'no-store', `${url} ${status}: not cached`)
    t.notOk(res.headers['x-powered-by'], `${url} ${status}: no X-Powered-By`)
    t.notOk(res.headers['strict-transport-security'], `${url} ${status}: no HSTS over plain HTTP`)
  }
  const docs = await app.inject({ url: '/docs/' })
  t.equal(docs.statusCode, 200)
  t.match(docs.headers['content-security-policy'], /script-src 'self'/, 'the docs page may run its own scripts')
  t.match(docs.headers['content-security-policy'], /frame-ancestors 'none'/)
  const spoofed = await app.inject({ url: '/health/live', headers: { 'x-forwarded-proto': 'https' } })
  t.notOk(spoofed.headers['strict-transport-security'], 'X-Forwarded-Proto is ignored without TRUST_PROXY')
})

t.test('HSTS behind a trusted TLS proxy', async (t) => {
  const app = await buildTestApp({ env: { TRUST_PROXY: 'true' } })
  t.teardown(() => app.close())
  const res = await app.inject({ url: '/health/live', headers: { 'x-forwarded-proto': 'https' } })
  t.match(res.headers['strict-transport-security'], /^max-age=\d+/)
})

t.test('per-client limits, per-IP limits before authentication, health exempt', async (t) => {
  const clients = createClientRegistry([
    { ...(TEST_CLIENTS[0] ?? { id: 'x', name: 'x', keySha256: '', scopes: [], divisions: '*' }), rateLimit: { max: 3, timeWindowSeconds: 60 } },
    ...TEST_CLIENTS.slice(1),
  ])
  const app = await buildTestApp({ deps: { clients }, env: { RATE_LIMIT_PER_MINUTE: '1000', RATE_LIMIT_UNAUTHENTICATED_PER_MINUTE: '5' } })
  t.teardown(() => app.close())
  const codes = []
  for (let i = 0; i < 4; i++) codes.push((await app.inject({ url: '/v1/me', headers: writer })).statusCode)
  t.same(codes, [200, 200, 200, 429], "the client's own limit (3/min) holds")
  const limited = await app.inject({ url: '/v1/me', headers: writer })
  t.equal(limited.headers['content-type'], 'application/problem+json; charset=utf-8')
  t.match(limited.json(), { status: 429, code: 'PROV_ERR_RATE_LIMITED' })
  t.ok(Number(limited.headers['retry-after']) >= 1, 'with Retry-After')
  t.equal((await app.inject({ url: '/v1/me', headers: { authorization: `Bearer ${KEYS.reader}` } })).statusCode, 200, 'another client is unaffected')

  const guesses = []
  for (let i = 0; i < 6; i++) guesses.push((await app.inject({ url: '/v1/me', headers: { authorization: `Bearer gpk_guess_${i}` } })).statusCode)
  t.same(guesses, [401, 401, 401, 401, 401, 429], 'key guessing from one IP is cut off after 5 a minute')
  const probes = []
  for (let i = 0; i < 20; i++) probes.push((await app.inject({ url: '/health/live' })).statusCode)
  t.ok(probes.every((c) => c === 200), 'health probes are never limited')
})

t.test('slow clients are cut off while the service keeps answering', async (t) => {
  // The idle-socket deadline past the test's 15 s cap: only the 1.5 s request deadline can cut these clients off in time.
  const app = await buildTestApp({ env: { REQUEST_TIMEOUT_MS: '1500', CONNECTION_TIMEOUT_MS: '60000' } })
  t.teardown(() => app.close())
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as { port: number }).port
  const slow = (payload: string) => new Promise<number>((resolve) => {
    const started = Date.now()
    const socket = connect(port, '127.0.0.1', () => socket.write(payload))
    socket.on('data', () => {})
    socket.on('error', () => {})
    socket.on('close', () => resolve(Date.now() - started))
    const cap = setTimeout(() => { socket.destroy(); resolve(Number.POSITIVE_INFINITY) }, 15_000)
    socket.on('close', () => clearTimeout(cap))
  })
  const headers = slow('GET /health/live HTTP/1.1\r\nHost: x\r\nX-Slow: ') // never finishes its headers
  const body = slow('POST /v1/provisioning-requests HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"hr') // never finishes its body
  // Meanwhile the service answers others.
  for (let i = 0; i < 5; i++) {
    const res = await fetch(`http://127.0.0.1:${port}/health/live`)
    t.equal(res.status, 200, 'a health probe answers while slow clients hold sockets')
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  const [h, b] = await Promise.all([headers, body])
  // Infinity: still open when this test gave up on it at 15 s.
  t.ok(Number.isFinite(h), `a slow-headers client was cut off by the service (after ${h} ms)`)
  t.ok(Number.isFinite(b), `a slow-body client was cut off by the service (after ${b} ms)`)
})
