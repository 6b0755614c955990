import t from 'tap'
import { createMemoryIdempotencyStore, createMemoryRequestStore } from '../../src/provisioning/store/memory.js'
import { STORED_ISSUES } from '../../src/provisioning/service.js'
import { CLIENT, pipeline } from '../helpers/pipeline.js'
import { requestRecord } from '../helpers/records.js'

/**
 * What a client can make the service keep is bounded: the embedded stores
 * forget terminal requests past their retention or their cap and expire
 * Idempotency-Key outcomes, and a refusal kept for its replays is a summary.
 */

t.test('the embedded request store keeps at most maxTerminal terminal requests, each at most the retention period; requests in progress are never forgotten', async (t) => {
  let now = 1_000_000
  const requests = createMemoryRequestStore({ clock: { now: () => now }, maxTerminal: 3, retentionMs: 60_000 })
  const active = requestRecord({ hrId: 'ACTIVE' })
  await requests.insert(active)
  const done = []
  for (let i = 0; i < 5; i++) {
    const r = requestRecord({ hrId: `T${i}` })
    await requests.insert(r)
    await requests.save({ ...r, status: 'rejected' })
    done.push(r.id)
  }
  t.same(await Promise.all(done.map(async (id) => (await requests.get(id)) !== undefined)), [false, false, true, true, true], 'the oldest terminal ones went first')
  t.ok(await requests.get(active.id), 'the one in progress is kept')
  now += 60_001
  const late = requestRecord({ hrId: 'LATE' })
  await requests.insert(late)
  await requests.save({ ...late, status: 'completed' })
  t.same(await Promise.all([...done.slice(2), late.id].map(async (id) => (await requests.get(id)) !== undefined)), [false, false, false, true], 'past the retention period they go too')
  t.ok(await requests.get(active.id))
})

t.test('the embedded idempotency store stays under its cap, expired entries first', async (t) => {
  let now = 0
  const store = createMemoryIdempotencyStore({ now: () => now }, { maxEntries: 10 })
  for (let i = 0; i < 10; i++) {
    await store.begin('c', `old-${i}`, 'fp', 15)
    await store.complete('c', `old-${i}`, 'fp', { status: 202, headers: {}, body: {} }, 60)
  }
  now = 61_000
  for (let i = 0; i < 10; i++) await store.begin('c', `new-${i}`, 'fp', 15)
  t.equal((await store.begin('c', 'old-0', 'fp', 15)).state, 'new', 'an expired key is free again')
  t.equal((await store.begin('c', 'new-9', 'fp', 15)).state, 'in-flight', 'live entries are kept while under the cap')
  for (let i = 0; i < 30; i++) await store.begin('c', `more-${i}`, 'fp', 15 + i)
  t.equal((await store.begin('c', 'more-29', 'fp', 15)).state, 'in-flight', 'the newest are kept')
  t.equal((await store.begin('c', 'new-0', 'fp', 15)).state, 'new', 'past the cap, the soonest to expire went')
})

t.test('a refusal kept under an Idempotency-Key is a summary: its replay lists the first issues and how many more there were', async (t) => {
  const p = await pipeline()
  t.teardown(p.close)
  const deep = Array.from({ length: 25 }, (_, i) => `A/B/C/D/E/F/G${i}`)
  const body = { hrId: 'SUM-1', email: 'summary@example.com', givenName: 'Sum', groups: deep }
  const first = await p.service.accept(CLIENT, body, 'refused-key').catch((err: { status: number, issues: unknown[] }) => err)
  t.match(first, { status: 422 })
  t.equal((first as { issues: unknown[] }).issues.length, 25, 'the first answer lists every issue')
  const replay = await p.service.accept(CLIENT, body, 'refused-key')
  t.equal(replay.replayed, true)
  t.equal(replay.response.status, 422)
  const stored = replay.response.body as { issues: unknown[], issuesTruncated: number }
  t.equal(stored.issues.length, STORED_ISSUES)
  t.equal(stored.issuesTruncated, 25 - STORED_ISSUES)
  t.ok(JSON.stringify(stored).length < 4096, `small (${JSON.stringify(stored).length} bytes)`)
})
