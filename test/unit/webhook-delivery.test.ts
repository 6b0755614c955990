import t, { type Test as Tap } from 'tap'
import { createClientRegistry, sha256Hex, type ApiClient } from '../../src/config/clients.js'
import { createMemoryQueue } from '../../src/jobs/memory-queue.js'
import { createMemoryDeliveryStore } from '../../src/webhooks/store/memory.js'
import { createDeliveryHandler, createRelay } from '../../src/webhooks/delivery.js'
import { eventId } from '../../src/webhooks/events.js'
import { deliveryJobId, type Delivery, type DeliveryJob } from '../../src/webhooks/ports.js'
import { DEFAULT_RETRY_SCHEDULE, nextDelay, parseSchedule } from '../../src/webhooks/schedule.js'
import { createSender, USER_AGENT } from '../../src/webhooks/sender.js'
import { createWebhookService } from '../../src/webhooks/service.js'
import { parseAllowedNetworks } from '../../src/webhooks/ssrf.js'
import { captureLogs } from '../helpers/app.js'
import { createFakeTimers } from '../helpers/fake-timers.js'
import { startReceiver, verifyAt, verifyWith, type Reply, type Received } from '../helpers/receiver.js'

const SECRET = 'whsec_' + Buffer.from('hris-a webhook secret, 32 bytes!').toString('base64')
const NEXT_SECRET = 'whsec_' + Buffer.from('hris-a next secret, also 32 byte').toString('base64')
/** The production schedule: 5 s … 10 h, a little over 32 hours in all, played on virtual time. */
const PRODUCTION = parseSchedule(DEFAULT_RETRY_SCHEDULE)

/** The HTTP status of the error a call fails with (0 when it succeeds). */
async function statusOf (p: Promise<unknown>): Promise<number> {
  return p.then(() => 0, (err: { status?: number }) => err.status ?? -1)
}

let seq = 0
function event (clientId = 'hris-a'): Delivery {
  seq++
  const subjectId = `prq_${String(seq).padStart(26, '0')}`
  const timestamp = new Date().toISOString()
  return {
    id: eventId(`test:${subjectId}:${Date.now()}`),
    clientId,
    type: 'provisioning.completed',
    subjectId,
    body: JSON.stringify({ type: 'provisioning.completed', timestamp, data: { requestId: subjectId, hrId: `E${seq}`, genesysUserId: 'u-1' } }),
    createdAt: timestamp,
    status: 'pending',
    generation: 0,
    attempts: [],
  }
}

async function harness (t: Tap, opts: { script?: (n: number, r: Received) => Reply, schedule?: number[], secrets?: string[], timeoutMs?: number }) {
  const receiver = await startReceiver(opts.script)
  const client: ApiClient = {
    id: 'hris-a', name: 'HRIS A', keySha256: sha256Hex('k'), scopes: ['provisioning:read'], divisions: '*',
    webhook: { url: receiver.url, secrets: opts.secrets ?? [SECRET] },
  }
  const clients = createClientRegistry([client, { ...client, id: 'hris-b', keySha256: sha256Hex('k2'), webhook: undefined }])
  const store = createMemoryDeliveryStore()
  const schedule = opts.schedule ?? PRODUCTION
  const logs = captureLogs()
  // Virtual time from the real now, so signatures also pass the ±5 min check of
  // the Standard Webhooks library; the sender's own timeout stays on real time.
  const timers = createFakeTimers()
  const sender = createSender({ allowed: parseAllowedNetworks(['127.0.0.1/32']), timeoutMs: opts.timeoutMs ?? 5000 })
  const queue = createMemoryQueue<DeliveryJob>({ maxAttempts: schedule.length + 5, backoff: { baseMs: 0, capMs: 0 }, timers })
  const clock = timers
  const deliveryQueue = { enqueue: (d: Pick<Delivery, 'id' | 'generation'>) => queue.add(deliveryJobId(d), { deliveryId: d.id, generation: d.generation }) }
  queue.process(createDeliveryHandler({ store, clients, sender, clock, schedule, logger: logs.logger }), { concurrency: 4 })
  const relay = createRelay({ store, queue: deliveryQueue, clock, logger: logs.logger, intervalMs: 50, graceMs: 0, timers })
  const service = createWebhookService({ store, queue: deliveryQueue, clients, clock, schedule })
  t.teardown(async () => {
    await relay.stop()
    await queue.close()
    await sender.close()
    await receiver.close()
  })
  return {
    receiver, store, relay, logs, service, client, timers,
    async emit (d: Delivery = event()): Promise<Delivery> {
      await store.insert(d)
      await relay.dispatch(d.id)
      return d
    },
    /**
     * Plays time forward until the delivery is no longer pending: while an
     * attempt is on the wire (real I/O) it waits for it, otherwise it jumps to
     * the next timer (a retry, a sweep). The deadline only guards against a hang.
     */
    async settled (id: string): Promise<Delivery> {
      const deadline = Date.now() + 30_000
      for (;;) {
        const d = await store.get(id)
        if (d && d.status !== 'pending') return d
        if (Date.now() > deadline) throw new Error(`delivery ${id} still pending: ${JSON.stringify(d?.attempts)}`)
        if ((await queue.counts()).active > 0 || !(await timers.next())) await new Promise((resolve) => setTimeout(resolve, 2))
      }
    },
  }
}

t.test('the schedule: gaps ±20 %, Retry-After as a floor, then exhausted', async (t) => {
  const s = parseSchedule('5s,5m,30m,2h,5h,10h,10h')
  t.same(s, [5000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000])
  t.ok(s.reduce((a, b) => a + b, 0) >= 24 * 3600 * 1000, 'spans at least a day')
  t.equal(nextDelay(s, 1, () => 0), 4000)
  t.equal(nextDelay(s, 1, () => 1), 6000)
  t.equal(nextDelay(s, 2, () => 0.5), 300_000)
  t.equal(nextDelay(s, 1, () => 0.5, 60_000), 60_000, 'a longer Retry-After wins')
  t.equal(nextDelay(s, 2, () => 0.5, 60_000), 300_000, 'a shorter one never shortens the gap')
  t.equal(nextDelay(s, 8, () => 0.5), undefined, 'after the eighth attempt: dead letter')
  t.same(parseSchedule('250ms, 1.5s ,2m'), [250, 1500, 120_000])
  t.throws(() => parseSchedule('5 minutes'), /not a duration/)
  t.throws(() => parseSchedule(''), /1 to 20/)
})

t.test('a receiver failing N times gets N+1 attempts on schedule, one webhook-id, every one verifiable', async (t) => {
  const failures = PRODUCTION.length // 7 failures, the 8th attempt succeeds
  const h = await harness(t, { script: (n) => (n <= failures ? { status: 503 } : { status: 204 }) })
  const d = await h.emit()
  const done = await h.settled(d.id)
  t.equal(done.status, 'delivered')
  t.equal(h.receiver.received.length, failures + 1, `${failures + 1} attempts`)
  t.equal(done.attempts.length, failures + 1)
  t.same(new Set(h.receiver.received.map((r) => r.headers['webhook-id'])), new Set([d.id]), 'the same webhook-id on every attempt')
  t.same(verifyWith(SECRET, h.receiver.received[0] as Received), JSON.parse(d.body), 'the first attempt passes the library, clock tolerance included')
  for (const r of h.receiver.received) {
    t.equal(r.body, d.body, 'the exact stored bytes')
    t.same(verifyAt(SECRET, r), JSON.parse(d.body), 'signed for its own timestamp')
    t.equal(r.headers['user-agent'], USER_AGENT)
    t.equal(r.headers['content-type'], 'application/json')
  }
  const stamps = h.receiver.received.map((r) => Number(r.headers['webhook-timestamp']))
  t.same(stamps, done.attempts.map((a) => Math.floor(Date.parse(a.at) / 1000)), 'each attempt is stamped when it is made')
  t.equal(new Set(h.receiver.received.map((r) => String(r.headers['webhook-signature']))).size, failures + 1, 'a new timestamp, a new signature')
  // Virtual time does not move while an attempt is on the wire, so each gap is
  // exactly the delay the schedule drew: its gap ±20 %.
  const at = done.attempts.map((a) => Date.parse(a.at))
  for (let i = 1; i < at.length; i++) {
    const gap = (at[i] ?? 0) - (at[i - 1] ?? 0)
    const want = PRODUCTION[i - 1] ?? 0
    t.ok(gap >= want * 0.8 && gap <= want * 1.2, `gap ${i}: ${gap} ms for a scheduled ${want} ms ±20 %`)
  }
  const span = (at.at(-1) ?? 0) - (at[0] ?? 0)
  const planned = PRODUCTION.reduce((sum, gap) => sum + gap, 0)
  t.ok(span >= planned * 0.8 && span <= planned * 1.2, `the retries span ${(span / 3_600_000).toFixed(1)} h, the schedule's ${(planned / 3_600_000).toFixed(1)} h ±20 %`)
})

t.test('two secrets during a rotation: either verifies', async (t) => {
  const h = await harness(t, { secrets: [SECRET, NEXT_SECRET] })
  const d = await h.emit()
  await h.settled(d.id)
  const r = h.receiver.received[0] as Received
  t.same(verifyWith(SECRET, r), JSON.parse(d.body))
  t.same(verifyWith(NEXT_SECRET, r), JSON.parse(d.body))
  t.equal(String(r.headers['webhook-signature']).split(' ').length, 2)
})

t.test('a 302 is a failure and is not followed', async (t) => {
  const h = await harness(t, { schedule: [20], script: (n) => (n === 1 ? { status: 302, headers: { location: '/elsewhere' } } : { status: 200 }) })
  const d = await h.emit()
  const done = await h.settled(d.id)
  t.equal(done.status, 'delivered')
  t.same(h.receiver.received.map((r) => r.headers['webhook-id']), [d.id, d.id], 'two POSTs to the endpoint, none to the redirect target')
  t.match(done.attempts[0], { statusCode: 302, error: 'redirect 302 not followed' })
})

t.test('429 with Retry-After: the next attempt waits at least that long', async (t) => {
  const h = await harness(t, { schedule: [10, 10], script: (n) => (n === 1 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 204 }) })
  const d = await h.emit()
  const done = await h.settled(d.id)
  t.equal(h.receiver.received.length, 2)
  const [a, b] = done.attempts.map((x) => Date.parse(x.at))
  t.equal((b ?? 0) - (a ?? 0), 1000, 'the second attempt came after Retry-After: 1 s (the schedule said 10 ms)')
})

t.test('a receiver that never answers: the attempt times out and is retried', async (t) => {
  const h = await harness(t, { schedule: [10], timeoutMs: 300, script: (n) => (n === 1 ? 'hang' : { status: 204 }) })
  const d = await h.emit()
  const done = await h.settled(d.id)
  t.equal(done.status, 'delivered')
  t.match(done.attempts[0], { error: 'no response within 300 ms' })
  t.notOk(done.attempts[0]?.statusCode)
})

t.test('exhausted: dead-lettered with an alert; a replay keeps the webhook-id with a fresh signature', async (t) => {
  let fail = true
  const h = await harness(t, { schedule: [10, 10, 10], script: () => (fail ? { status: 500 } : { status: 204 }) })
  const d = await h.emit()
  const dead = await h.settled(d.id)
  t.equal(dead.status, 'dead')
  t.equal(h.receiver.received.length, 4, 'one attempt per gap, plus the first')
  const alert = h.logs.parsed().find((l) => l.alert === 'webhook_dead_letter')
  t.ok(alert, 'an alert line is logged')
  t.equal(alert?.level, 50, 'at error level')
  t.same((await h.service.list({ ...h.client, webhook: undefined }, { status: 'dead', limit: 10 })).items.map((x) => x.id), [d.id], 'listed as dead')

  fail = false
  await h.timers.advance(1000) // a new second, so a new timestamp
  const replay = await h.service.redeliver(h.client, d.id)
  t.equal(replay.generation, 1)
  const done = await h.settled(d.id)
  t.equal(done.status, 'delivered')
  const last = h.receiver.received.at(-1) as Received
  t.equal(last.headers['webhook-id'], d.id, 'the same webhook-id')
  t.not(last.headers['webhook-timestamp'], h.receiver.received[0]?.headers['webhook-timestamp'], 'a new timestamp')
  t.same(verifyWith(SECRET, last), JSON.parse(d.body), 'and a valid new signature')
  t.same(done.attempts.map((a) => [a.generation, a.attempt]), [[0, 1], [0, 2], [0, 3], [0, 4], [1, 1]])
  t.equal(await statusOf(h.service.redeliver({ ...h.client, id: 'hris-b' }, d.id)), 404, 'another client cannot replay it')
})

t.test('410 Gone disables the endpoint: later events are held until it is enabled', async (t) => {
  let gone = true
  const h = await harness(t, { schedule: [10], script: () => (gone ? { status: 410 } : { status: 204 }) })
  const first = await h.emit()
  t.equal((await h.settled(first.id)).status, 'disabled')
  t.equal(h.receiver.received.length, 1, 'no retry after 410')
  t.ok(h.logs.parsed().some((l) => l.alert === 'webhook_endpoint_disabled'))
  const view = await h.service.endpoint(h.client)
  t.equal(view.status, 'disabled')
  t.equal(view.disabled?.deliveryId, first.id)

  const second = await h.emit()
  t.equal((await h.settled(second.id)).status, 'disabled', 'held')
  t.equal(h.receiver.received.length, 1, 'nothing sent to a disabled endpoint')
  t.equal(await statusOf(h.service.redeliver(h.client, second.id)), 409, 'no replay while disabled')

  gone = false
  t.equal((await h.service.enable(h.client)).status, 'enabled')
  await h.service.redeliver(h.client, first.id)
  await h.service.redeliver(h.client, second.id)
  t.equal((await h.settled(first.id)).status, 'delivered')
  t.equal((await h.settled(second.id)).status, 'delivered')
  t.equal(h.receiver.received.length, 3)
})

t.test('a private destination is refused and recorded, not connected to', async (t) => {
  const h = await harness(t, { schedule: [10] })
  const sender = createSender({ allowed: parseAllowedNetworks([]), timeoutMs: 1000 })
  t.teardown(() => sender.close())
  const result = await sender.send(h.receiver.url, [SECRET], 'msg_x', 1, '{}')
  t.equal(result.ok, false)
  t.match(result.error, /^destination refused: .*loopback/)
  t.equal(h.receiver.received.length, 0)
})

t.test('the relay hands on what a crash left in the outbox; a pending delivery is not replayed', async (t) => {
  const h = await harness(t, {})
  const d = event()
  await h.store.insert(d) // written with its state change; the process died before dispatching it
  h.relay.start()
  t.equal((await h.settled(d.id)).status, 'delivered')
  t.same(await h.store.outbox('2100-01-01T00:00:00.000Z', 10), [])
  const pending = await h.emit({ ...event(), id: eventId('held') })
  await h.store.save({ ...pending, status: 'pending', nextAttemptAt: new Date(Date.now() + 60_000).toISOString() }, 0)
  t.equal(await statusOf(h.service.redeliver(h.client, pending.id)), 409)
})

t.test('an endpoint removed from the clients file: the delivery is dead-lettered', async (t) => {
  const h = await harness(t, {})
  const d = await h.emit(event('hris-b'))
  t.equal((await h.settled(d.id)).status, 'dead')
  t.equal(h.receiver.received.length, 0)
  t.equal(await statusOf(h.service.endpoint({ ...h.client, id: 'hris-b' })), 404)
})
