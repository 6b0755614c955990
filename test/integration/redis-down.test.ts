import { randomUUID } from 'node:crypto'
import t from 'tap'
import { freePort } from '../helpers/redis.js'
import { startService } from '../helpers/service.js'

/**
 * Redis configured but unreachable (nothing listens on its port): the operator
 * is told plainly what is unreachable, intake answers 503 with Retry-After
 * (the client should come back, nothing was accepted), and the reconnect storm
 * is one log line per distinct failure with the real error, not one per attempt.
 */
t.setTimeout(120_000)

t.test('an unreachable Redis: 503 with Retry-After, said once, with the real error', async (t) => {
  const port = await freePort()
  const service = await startService({ REDIS_URL: `redis://127.0.0.1:${port}`, LOG_LEVEL: 'info', LOG_PRETTY: 'false', LOG_LEVL: 'debug' })
  t.teardown(() => service.stop('SIGKILL'))

  const res = await fetch(`${service.url}/v1/provisioning-requests`, {
    method: 'POST',
    headers: { authorization: `Bearer ${service.demoApiKey ?? ''}`, 'content-type': 'application/json', 'idempotency-key': randomUUID() },
    body: JSON.stringify({ hrId: 'RD-1', email: 'rd.1@example.com', givenName: 'Redis', familyName: 'Down', division: 'BPO Alpha', roles: ['Agent'] }),
  })
  const body = await res.json() as { code: string }
  t.equal(res.status, 503, 'intake answers 503, not 500')
  t.equal(body.code, 'PROV_ERR_UNAVAILABLE')
  t.ok(Number(res.headers.get('retry-after')) >= 1, 'with a Retry-After')

  const ready = await fetch(`${service.url}/health/ready`)
  t.equal(ready.status, 503, 'not ready')

  const lines = service.output().split('\n').filter((l) => l.startsWith('{'))
  const parsed = lines.map((l) => JSON.parse(l) as { msg: string, redis?: string, err?: { type: string, message: string, stack: string } })
  const startup = parsed.find((l) => l.msg.startsWith('listening on'))
  t.match(startup?.redis, /^unreachable \(127\.0\.0\.1:\d+/, 'the startup line says Redis is unreachable, and where')
  t.notOk(service.output().includes('"type":"Object"'), 'no error is logged as a bare object')
  const refused = parsed.filter((l) => l.err?.message.includes('ECONNREFUSED'))
  t.ok(refused.length >= 1, 'the real error is logged')
  t.match(refused[0], { msg: `Redis at 127.0.0.1:${port} is unreachable`, err: { type: 'Error', message: `connect ECONNREFUSED 127.0.0.1:${port}` } })
  t.ok(refused[0]?.err?.stack.length, 'with its stack')
  t.match(parsed.find((l) => l.msg.startsWith('LOG_LEVL')), { msg: 'LOG_LEVL is not a variable this service reads and is ignored; did you mean LOG_LEVEL?' }, 'a misspelt variable is named with the closest known one')
  const distinct = new Set(refused.map((l) => `${l.msg} ${l.err?.message ?? ''}`))
  t.equal(refused.length, distinct.size, 'each distinct failure is logged once per interval, not once per reconnect')
})
