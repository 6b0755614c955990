import t, { type Test } from 'tap'
import { createClientRegistry } from '../../src/config/clients.js'
import { createMemoryDeliveryStore } from '../../src/webhooks/store/memory.js'
import { eventId } from '../../src/webhooks/events.js'
import type { Delivery } from '../../src/webhooks/ports.js'
import { createWebhookService, redactUrl } from '../../src/webhooks/service.js'
import { buildTestApp, KEYS, TEST_CLIENTS } from '../helpers/app.js'

const SECRET = 'whsec_' + Buffer.from('route test secret of 32 bytes!!!').toString('base64')

async function app (t: Test) {
  const clients = createClientRegistry(TEST_CLIENTS.map((c) => (c.id === 'hris-a'
    ? { ...c, webhook: { url: 'https://hris.example.com/hooks?token=abc123&x=1', secrets: [SECRET] } }
    : c)))
  const store = createMemoryDeliveryStore()
  const queued: string[] = []
  const service = createWebhookService({ store, queue: { enqueue: async (d) => { queued.push(`${d.id}/${d.generation}`) } }, clients, clock: { now: Date.now }, schedule: [5000, 300_000] })
  const a = await buildTestApp({ deps: { clients, webhooks: { service } } })
  t.teardown(() => a.close())
  const d: Delivery = {
    id: eventId('route-test'),
    clientId: 'hris-a',
    type: 'provisioning.rejected',
    subjectId: 'prq_01JD3W6Q4Z7Y8X9V0T1S2R3Q4P',
    body: JSON.stringify({ type: 'provisioning.rejected', timestamp: '2026-11-22T09:00:00.000Z', data: { requestId: 'prq_01JD3W6Q4Z7Y8X9V0T1S2R3Q4P', issues: [] } }),
    createdAt: '2026-11-22T09:00:00.000Z',
    status: 'dead',
    generation: 0,
    attempts: [{ generation: 0, attempt: 1, at: '2026-11-22T09:00:00.100Z', durationMs: 12, timestamp: 1795338000, statusCode: 500, error: 'HTTP 500' }],
  }
  await store.insert(d)
  return { app: a, d, queued }
}

const writer = { authorization: `Bearer ${KEYS.writer}` }
const reader = { authorization: `Bearer ${KEYS.reader}` }

t.test('the endpoint view masks secrets and query values', async (t) => {
  const { app: a } = await app(t)
  const res = await a.inject({ method: 'GET', url: '/v1/webhook-endpoint', headers: writer })
  t.equal(res.statusCode, 200)
  const body = res.json()
  t.equal(body.url, 'https://hris.example.com/hooks?token=***&x=***')
  t.notOk(res.body.includes('abc123'))
  t.notOk(res.body.includes(SECRET.slice(6)))
  t.same(body.retryScheduleSeconds, [5, 300])
  t.equal((await a.inject({ method: 'GET', url: '/v1/webhook-endpoint', headers: reader })).statusCode, 404, 'a client without an endpoint')
  t.equal(redactUrl('https://user:pass@h.example/x'), 'https://h.example/x')
  t.equal(redactUrl('not a url'), '(invalid URL)')
})

t.test('deliveries: own only, validated queries, replay needs the write scope', async (t) => {
  const { app: a, d, queued } = await app(t)
  const list = await a.inject({ method: 'GET', url: '/v1/webhook-deliveries?status=dead', headers: writer })
  t.equal(list.statusCode, 200)
  t.same(list.json().items.map((x: { id: string }) => x.id), [d.id])
  t.notOk('timestamp' in (list.json().items[0].attempts[0] as object), 'the signing timestamp is internal')
  t.same((await a.inject({ method: 'GET', url: '/v1/webhook-deliveries', headers: reader })).json().items, [], 'another client sees none')
  t.equal((await a.inject({ method: 'GET', url: `/v1/webhook-deliveries/${d.id}`, headers: reader })).statusCode, 404)
  t.equal((await a.inject({ method: 'GET', url: '/v1/webhook-deliveries/msg_short', headers: writer })).statusCode, 400)
  t.equal((await a.inject({ method: 'GET', url: '/v1/webhook-deliveries?status=lost', headers: writer })).statusCode, 400)
  t.equal((await a.inject({ method: 'GET', url: '/v1/webhook-deliveries?cursor=bm9wZQ', headers: writer })).statusCode, 400)
  t.equal((await a.inject({ method: 'GET', url: '/v1/webhook-deliveries?extra=1', headers: writer })).statusCode, 400)
  t.equal((await a.inject({ method: 'POST', url: `/v1/webhook-deliveries/${d.id}/redeliver`, headers: reader })).statusCode, 403)
  const replay = await a.inject({ method: 'POST', url: `/v1/webhook-deliveries/${d.id}/redeliver`, headers: writer })
  t.equal(replay.statusCode, 202)
  t.equal(replay.headers.location, `/v1/webhook-deliveries/${d.id}`)
  t.match(replay.json(), { id: d.id, status: 'pending', generation: 1 })
  t.same(queued, [`${d.id}/1`])
  t.equal((await a.inject({ method: 'POST', url: `/v1/webhook-deliveries/${d.id}/redeliver`, headers: writer })).statusCode, 409, 'already scheduled')
  t.equal((await a.inject({ method: 'GET', url: '/v1/webhook-deliveries', headers: {} })).statusCode, 401)
  t.equal((await a.inject({ method: 'POST', url: '/v1/webhook-endpoint/enable', headers: writer })).statusCode, 200)
})
