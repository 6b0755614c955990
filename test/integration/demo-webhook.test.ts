import t from 'tap'
import { startService } from '../helpers/service.js'

/** The embedded demo shows a signed webhook with no receiver of one's own: DEMO_WEBHOOK_RECEIVER=true. */
t.setTimeout(60_000)

t.test('the demo client posts its outcome to the bundled receiver, which verifies and logs it', async (t) => {
  const svc = await startService({ DEMO_WEBHOOK_RECEIVER: 'true', LOG_LEVEL: 'info' })
  t.teardown(() => svc.stop())
  const res = await fetch(`${svc.url}/v1/provisioning-requests`, {
    method: 'POST',
    headers: { authorization: `Bearer ${svc.demoApiKey ?? ''}`, 'content-type': 'application/json', prefer: 'wait=10' },
    body: JSON.stringify({ hrId: 'DEMO-1', email: 'demo.hook@example.com', givenName: 'Demo', familyName: 'Hook', division: 'BPO Alpha', roles: ['Agent'] }),
  })
  t.equal(res.status, 201)
  const deadline = Date.now() + 15_000
  while (!/verified webhook received/.test(svc.output()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100))
  const line = svc.output().split('\n').find((l) => l.includes('verified webhook received'))
  t.ok(line, 'the receiver verified the signature and logged the event')
  t.match(JSON.parse(line ?? '{}'), { webhook: { type: 'provisioning.completed', data: { hrId: 'DEMO-1' } } })
  t.notMatch(svc.output(), /whsec_/, 'the secret is never printed')
})
