import t from 'tap'
import type { FastifyBaseLogger } from 'fastify'
import { Type } from 'typebox'
import { buildTestApp, captureLogs, KEYS } from '../helpers/app.js'

// Conventions hold for every route: a strict body route is registered here the
// same way the product's routes are, so the checks do not depend on one feature.
async function appWithProbeRoute (logger?: FastifyBaseLogger) {
  const app = await buildTestApp({ logger })
  app.post('/v1/probe', {
    config: { scope: 'provisioning:write' },
    schema: {
      body: Type.Object({ name: Type.String({ maxLength: 10 }), count: Type.Optional(Type.Integer()) }, { additionalProperties: false }),
      querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 5 })) }),
    },
  }, async (request) => ({ ok: true, body: request.body, query: request.query }))
  app.get('/v1/boom', { config: { scope: null } }, async () => {
    throw new Error('database password=hunter2 leaked in a message')
  })
  await app.ready()
  return app
}

const auth = { authorization: `Bearer ${KEYS.writer}` }

t.test('unknown body property is rejected with 400 problem+json and a path', async (t) => {
  const app = await appWithProbeRoute()
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'POST', url: '/v1/probe', headers: auth, payload: { name: 'x', nickname: 'y' } })
  t.equal(res.statusCode, 400)
  t.match(res.headers['content-type'], /^application\/problem\+json/)
  const body = res.json()
  t.equal(body.code, 'PROV_ERR_VALIDATION')
  t.equal(body.status, 400)
  t.equal(body.issues[0].path, '/nickname')
  t.equal(body.issues[0].code, 'schema.additionalProperties')
  t.equal(body.requestId, res.headers['x-request-id'])
  t.ok(body.type && body.title && body.detail)
})

t.test('body types are not coerced; query strings are', async (t) => {
  const app = await appWithProbeRoute()
  t.teardown(() => app.close())
  const bad = await app.inject({ method: 'POST', url: '/v1/probe', headers: auth, payload: { name: 'x', count: '42' } })
  t.equal(bad.statusCode, 400)
  t.equal(bad.json().issues[0].path, '/count')
  const ok = await app.inject({ method: 'POST', url: '/v1/probe?limit=3', headers: auth, payload: { name: 'x', count: 42 } })
  t.equal(ok.statusCode, 200)
  t.same(ok.json().query, { limit: 3 })
  const badQuery = await app.inject({ method: 'POST', url: '/v1/probe?limit=9', headers: auth, payload: { name: 'x' } })
  t.equal(badQuery.statusCode, 400)
  t.equal(badQuery.json().issues[0].path, '/query/limit')
})

t.test('missing required property and over-long string name their paths', async (t) => {
  const app = await appWithProbeRoute()
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'POST', url: '/v1/probe', headers: auth, payload: { count: 1 } })
  t.equal(res.json().issues[0].path, '/name')
  const long = await app.inject({ method: 'POST', url: '/v1/probe', headers: auth, payload: { name: 'x'.repeat(11) } })
  t.equal(long.json().issues[0].code, 'schema.maxLength')
})

t.test('malformed JSON, empty body and text/plain are refused as problems', async (t) => {
  const app = await appWithProbeRoute()
  t.teardown(() => app.close())
  const malformed = await app.inject({ method: 'POST', url: '/v1/probe', headers: { ...auth, 'content-type': 'application/json' }, payload: '{"name":' })
  t.equal(malformed.statusCode, 400)
  t.equal(malformed.json().issues[0].code, 'body.malformed')
  const text = await app.inject({ method: 'POST', url: '/v1/probe', headers: { ...auth, 'content-type': 'text/plain' }, payload: 'hello' })
  t.equal(text.statusCode, 415)
  t.equal(text.json().code, 'PROV_ERR_UNSUPPORTED_MEDIA_TYPE')
})

t.test('a 65 KiB body is refused with 413', async (t) => {
  const app = await appWithProbeRoute()
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'POST', url: '/v1/probe', headers: { ...auth, 'content-type': 'application/json' }, payload: JSON.stringify({ name: 'x'.repeat(65 * 1024) }) })
  t.equal(res.statusCode, 413)
  t.equal(res.json().code, 'PROV_ERR_PAYLOAD_TOO_LARGE')
  t.ok(res.json().requestId)
})

t.test('authentication: 401 without or with a wrong key, 403 without the scope', async (t) => {
  const app = await appWithProbeRoute()
  t.teardown(() => app.close())
  const none = await app.inject({ method: 'POST', url: '/v1/probe', payload: { name: 'x' } })
  t.equal(none.statusCode, 401)
  t.equal(none.json().code, 'PROV_ERR_UNAUTHENTICATED')
  t.equal(none.headers['www-authenticate'], 'Bearer')
  t.ok(none.json().requestId)
  const wrong = await app.inject({ method: 'POST', url: '/v1/probe', headers: { authorization: 'Bearer gpk_not_a_real_key' }, payload: { name: 'x' } })
  t.equal(wrong.statusCode, 401)
  const basic = await app.inject({ method: 'POST', url: '/v1/probe', headers: { authorization: `Basic ${KEYS.writer}` }, payload: { name: 'x' } })
  t.equal(basic.statusCode, 401)
  const reader = await app.inject({ method: 'POST', url: '/v1/probe', headers: { authorization: `Bearer ${KEYS.reader}` }, payload: { name: 'x' } })
  t.equal(reader.statusCode, 403)
  t.equal(reader.json().code, 'PROV_ERR_FORBIDDEN')
  t.ok(reader.json().requestId)
  // Authentication runs before validation: an anonymous caller learns nothing about the schema.
  const anonymousBad = await app.inject({ method: 'POST', url: '/v1/probe', payload: { nope: 1 } })
  t.equal(anonymousBad.statusCode, 401)
})

t.test('GET /v1/me describes the calling client and nothing secret', async (t) => {
  const app = await appWithProbeRoute()
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'GET', url: '/v1/me', headers: auth })
  t.equal(res.statusCode, 200)
  t.same(res.json(), { id: 'hris-a', name: 'HRIS A', scopes: ['provisioning:write', 'provisioning:read'], divisions: ['BPO-A'] })
  t.notMatch(res.body, /keySha256/)
})

t.test('x-request-id: a valid one is echoed, an invalid one replaced, one is always present', async (t) => {
  const app = await appWithProbeRoute()
  t.teardown(() => app.close())
  const given = await app.inject({ method: 'GET', url: '/health/live', headers: { 'x-request-id': 'hris-7f3a.1' } })
  t.equal(given.headers['x-request-id'], 'hris-7f3a.1')
  const invalid = await app.inject({ method: 'GET', url: '/health/live', headers: { 'x-request-id': 'bad id with spaces\u0000' } })
  t.match(invalid.headers['x-request-id'], /^[0-9a-f-]{36}$/)
  const notFound = await app.inject({ method: 'GET', url: '/nowhere' })
  t.equal(notFound.statusCode, 404)
  t.equal(notFound.json().requestId, notFound.headers['x-request-id'])
})

t.test('a 5xx reveals nothing internal, and the log line carries the request id', async (t) => {
  const logs = captureLogs()
  const app = await appWithProbeRoute(logs.logger)
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'GET', url: '/v1/boom', headers: { ...auth, 'x-request-id': 'req-boom-1' } })
  t.equal(res.statusCode, 500)
  t.equal(res.json().code, 'PROV_ERR_INTERNAL')
  t.notMatch(res.body, /hunter2|database|stack/)
  const errorLine = logs.parsed().find((l) => l.msg === 'request failed')
  t.equal(errorLine?.requestId, 'req-boom-1')
  for (const line of logs.parsed()) t.ok('requestId' in line, `every request log line has requestId: ${String(line.msg)}`)
})

t.test('health probes are public', async (t) => {
  const app = await buildTestApp({ deps: { readiness: [{ name: 'dep', check: async () => 'fine' }] } })
  t.teardown(() => app.close())
  const live = await app.inject({ method: 'GET', url: '/health/live' })
  t.same(live.json(), { status: 'ok' })
  const ready = await app.inject({ method: 'GET', url: '/health/ready' })
  t.equal(ready.statusCode, 200)
  t.equal(ready.json().checks.dep.status, 'ok')
})

t.test('readiness fails with 503 and names the failing dependency', async (t) => {
  const app = await buildTestApp({ deps: { readiness: [{ name: 'redis', check: async () => { throw new Error('connection refused') } }] } })
  t.teardown(() => app.close())
  const ready = await app.inject({ method: 'GET', url: '/health/ready' })
  t.equal(ready.statusCode, 503)
  t.same(ready.json().checks.redis, { status: 'fail', detail: 'connection refused', durationMs: ready.json().checks.redis.durationMs })
})
