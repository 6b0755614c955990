import t from 'tap'
import { buildTestApp, captureLogs, KEYS } from '../helpers/app.js'

t.test('a bearer key, a client secret and a password never reach the log output', async (t) => {
  const logs = captureLogs()
  const app = await buildTestApp({ logger: logs.logger })
  // A careless handler that logs everything it was given: redaction must still hold.
  app.post('/v1/echo', { config: { scope: null } }, async (request) => {
    request.log.info({ headers: request.headers, body: request.body }, 'echo received')
    request.log.info({ nested: { deeper: { password: 'pw-canary-3' } }, req: { headers: { Authorization: `Bearer ${KEYS.writer}` } } }, 'deep')
    return { ok: true }
  })
  t.teardown(() => app.close())
  const res = await app.inject({
    method: 'POST',
    url: '/v1/echo',
    headers: { authorization: `Bearer ${KEYS.writer}`, 'x-api-key': 'xkey-canary-4' },
    payload: { clientSecret: 'secret-canary-1', profile: { password: 'pw-canary-2' }, client_secret: 'secret-canary-5', token: 'tok-canary-6' },
  })
  t.equal(res.statusCode, 200)
  const text = logs.text()
  t.match(text, /echo received/, 'the handler did log')
  for (const canary of [KEYS.writer, 'secret-canary-1', 'pw-canary-2', 'pw-canary-3', 'xkey-canary-4', 'secret-canary-5', 'tok-canary-6']) {
    t.notOk(text.includes(canary), `${canary.slice(0, 12)}… is not in the logs`)
  }
  t.match(text, /\[redacted\]/)
})

t.test('an unauthenticated request with a wrong key logs no key', async (t) => {
  const logs = captureLogs()
  const app = await buildTestApp({ logger: logs.logger })
  t.teardown(() => app.close())
  const res = await app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: 'Bearer gpk_wrong_canary_key' } })
  t.equal(res.statusCode, 401)
  t.notOk(logs.text().includes('gpk_wrong_canary_key'))
  t.notOk(res.body.includes('gpk_wrong_canary_key'))
})
