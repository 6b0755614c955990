import { randomUUID } from 'node:crypto'
import t from 'tap'
import { startService } from '../helpers/service.js'

/**
 * Log lines an operator reads: one access line per request (health probes at
 * debug), worker lines that name the provisioning request and the x-request-id
 * that submitted it, and a startup line naming Genesys, Redis and the role.
 */
t.setTimeout(120_000)

t.test('access lines, worker lines and the startup line carry what an operator needs', async (t) => {
  const service = await startService({ LOG_LEVEL: 'info', LOG_PRETTY: 'false' })
  t.teardown(() => service.stop('SIGKILL'))
  for (let i = 0; i < 3; i++) await fetch(`${service.url}/health/ready`)
  const res = await fetch(`${service.url}/v1/provisioning-requests`, {
    method: 'POST',
    headers: { authorization: `Bearer ${service.demoApiKey ?? ''}`, 'content-type': 'application/json', 'idempotency-key': randomUUID(), 'x-request-id': 'trace-logs-1', prefer: 'wait=10' },
    body: JSON.stringify({ hrId: 'LOG-1', email: 'log.1@example.com', givenName: 'Log', familyName: 'Lines', division: 'BPO Alpha', roles: ['Agent'] }),
  })
  t.equal(res.status, 201)
  const id = (await res.json() as { id: string }).id
  // Access lines are written once the response is sent, worker lines once the job returns.
  const deadline = Date.now() + 10_000
  while (!(service.output().includes('"msg":"provisioning request finished"') && service.output().includes('"statusCode":201')) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50))
  const lines = service.output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>)

  const ofRequest = lines.filter((l) => l.requestId === 'trace-logs-1' && l.provisioningId === undefined)
  t.equal(ofRequest.length, 1, 'one access line for the request')
  t.match(ofRequest[0], { msg: 'request', method: 'POST', path: '/v1/provisioning-requests', statusCode: 201, clientId: 'demo' })
  t.notOk(lines.some((l) => typeof l.path === 'string' && l.path.startsWith('/health/')), 'health probes are not logged at info')
  t.notOk(lines.some((l) => l.msg === 'incoming request' || l.msg === 'request completed'), 'no second line per request')

  const worker = lines.find((l) => l.provisioningId === id)
  t.match(worker, { msg: 'provisioning request finished', status: 'completed', requestId: 'trace-logs-1' }, 'worker lines lead back to the submitting request')

  t.match(lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('listening on')), { role: 'all', genesys: 'simulator', genesysOrigin: /^http:\/\/127\.0\.0\.1:\d+$/, redis: 'off (embedded, not durable)' })
})
