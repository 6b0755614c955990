import fc from 'fast-check'
import { pino } from 'pino'
import t, { type Test } from 'tap'
import type { AuthenticatedClient } from '../../src/config/clients.js'
import { membershipDiff, exceedsRemovalBrake } from '../../src/groups/diff.js'
import { createMappingService } from '../../src/groups/mappings.js'
import { createMemoryQueueLock } from '../../src/groups/lock/memory.js'
import type { GroupSync, GroupSyncJob } from '../../src/groups/ports.js'
import { createGroupSyncService, createGroupSyncWorker, type SyncDirectory } from '../../src/groups/sync.js'
import { createMemoryQueue } from '../../src/jobs/memory-queue.js'
import { createMemoryGroupSyncStore, createMemoryMappingStore } from '../../src/groups/store/memory.js'
import { createMemoryWorkerRegistry } from '../../src/provisioning/store/memory.js'
import { simAndClient } from '../helpers/genesys.js'
import { pipeline } from '../helpers/pipeline.js'

const ALL: AuthenticatedClient = { id: 'hris', name: 'HRIS', scopes: ['groups:write', 'provisioning:read'], divisions: '*' }
const SUPPORT_QUEUE = '4b000000-0000-4000-8000-000000000002'
const TIER2_GROUP = '3a000000-0000-4000-8000-000000000003'
const ESCALATIONS_QUEUE = '4b000000-0000-4000-8000-0000000000e1'

async function harness (t: Test, opts: { wrap?: (d: SyncDirectory) => SyncDirectory, users?: number } = {}) {
  const { sim, genesys, close } = await simAndClient()
  t.teardown(close)
  const clock = { now: Date.now }
  const mappingStore = createMemoryMappingStore()
  const syncs = createMemoryGroupSyncStore()
  const queue = createMemoryQueue<GroupSyncJob>({ maxAttempts: 3, backoff: { baseMs: 10, capMs: 50 } })
  t.teardown(() => queue.close())
  const mappings = createMappingService({ store: mappingStore, directoryFor: () => genesys.client, queueLock: createMemoryQueueLock(), clock, maxGroupDepth: 5 })
  const service = createGroupSyncService({ syncs, mappings: mappingStore, queue: { enqueue: (s) => queue.add(s.id, { syncId: s.id }) }, clock, maxGroupDepth: 5 })
  const directory = opts.wrap ? opts.wrap(genesys.client) : genesys.client
  const registry = createMemoryWorkerRegistry()
  queue.process(createGroupSyncWorker({ syncs, directoryFor: () => directory, mappings: mappingStore, registry, clock, logger: pino({ enabled: false }), maxRemovalsPercent: 20 }), { concurrency: 2 })
  // Users carrying HR ids H1…Hn, managed for the client `hris` (the registry is the proof).
  const userOf = new Map<string, string>()
  for (let i = 1; i <= (opts.users ?? 0); i++) {
    const u = await genesys.client.users.create({ userName: `member.${i}@example.com`, displayName: `Member ${i}`, externalId: `hris:H${i}` })
    userOf.set(`H${i}`, u.resource.id)
    await registry.put({
      clientId: ALL.id, hrId: `H${i}`, externalId: `hris:H${i}`, genesysUserId: u.resource.id, divisionId: '', divisionName: '',
      grants: [], groups: [], active: true, origin: 'created', lastRequestId: 'prq_seed', updatedAt: new Date().toISOString(),
    })
  }
  return {
    sim, genesys, mappings, service, syncs, userOf, registry,
    async outcome (id: string): Promise<GroupSync> {
      for (let i = 0; i < 400; i++) {
        const s = await syncs.get(id)
        if (s && ['completed', 'failed', 'needs-confirmation'].includes(s.status)) return s
        await new Promise((resolve) => setTimeout(resolve, 10))
      }
      throw new Error(`sync ${id} did not finish`)
    },
    members: (groupId: string) => new Set(sim.state.groups.get(groupId)?.memberIds ?? []),
    patches: () => sim.requests().filter((r) => r.method === 'PATCH' && /\/scim\/v2\/groups\//i.test(r.path)),
  }
}

t.test('the minimal difference: property over random start and desired sets', async (t) => {
  const ids = fc.uniqueArray(fc.constantFrom(...Array.from({ length: 30 }, (_, i) => `u${i}`)), { maxLength: 30 })
  fc.assert(fc.property(ids, ids, (start, desired) => {
    const current = new Set(start)
    const diff = membershipDiff(current, { mode: 'replace', desired: new Set(desired) })
    const after = new Set([...current].filter((id) => !diff.remove.includes(id)).concat(diff.add))
    return diff.add.every((id) => !current.has(id)) && diff.remove.every((id) => current.has(id)) &&
      after.size === new Set(desired).size && [...after].every((id) => desired.includes(id))
  }), { numRuns: 500 })
  fc.assert(fc.property(ids, ids, ids, (start, add, remove) => {
    const current = new Set(start)
    const diff = membershipDiff(current, { mode: 'delta', add: new Set(add), remove: new Set(remove) })
    return diff.add.every((id) => !current.has(id) && add.includes(id)) && diff.remove.every((id) => current.has(id) && remove.includes(id))
  }), { numRuns: 500 })
  t.equal(exceedsRemovalBrake(2, 10, 20), false, 'exactly 20 % is allowed')
  t.equal(exceedsRemovalBrake(3, 10, 20), true)
  t.equal(exceedsRemovalBrake(1, 0, 20), false, 'an empty group has nothing to protect')
})

t.test('a mapping with two queues keeps their other member groups; a new hire lands in the group', async (t) => {
  const h = await harness(t)
  // A second queue in BPO Alpha, with a member group of its own.
  const now = new Date().toISOString()
  const alphaId = [...h.sim.state.divisions.values()].find((d) => d.name === 'BPO Alpha')?.id ?? ''
  h.sim.state.queues.set(ESCALATIONS_QUEUE, { id: ESCALATIONS_QUEUE, name: 'Support Escalations', divisionId: alphaId, memberGroups: [{ id: TIER2_GROUP, type: 'GROUP' }], extra: {}, version: 1, dateCreated: now, dateModified: now })
  const before = [...(h.sim.state.queues.get(SUPPORT_QUEUE)?.memberGroups.map((g) => g.id) ?? [])]
  t.ok(before.length >= 2, 'the Support queue already has member groups')
  const { mapping, created } = await h.mappings.put(ALL, 'Operations / Customer Care/Tier 1', { genesysGroup: 'Tier 1 Agents', queues: ['Support', 'Support Escalations'], create: true, division: 'BPO Alpha' })
  t.equal(created, true)
  t.equal(mapping.hrPath, 'Operations/Customer Care/Tier 1', 'the path is stored canonically')
  const group = [...h.sim.state.groups.values()].find((g) => g.name === 'Tier 1 Agents')
  t.ok(group, 'the Genesys group was created')
  t.same(mapping.genesysGroup.id, group?.id)
  const support = h.sim.state.queues.get(SUPPORT_QUEUE)?.memberGroups.map((g) => g.id) ?? []
  t.same(support, [...before, group?.id], 'Support keeps its groups and gains the new one')
  t.same(h.sim.state.queues.get(ESCALATIONS_QUEUE)?.memberGroups.map((g) => g.id), [TIER2_GROUP, group?.id], 'Support Escalations too, keeping its group')

  // Applying again changes nothing upstream.
  const writes = h.sim.requests().filter((r) => r.method === 'PUT').length
  const again = await h.mappings.put(ALL, 'Operations/Customer Care/Tier 1', { genesysGroup: 'Tier 1 Agents', queues: ['Support', 'Support Escalations'], create: true, division: 'BPO Alpha' })
  t.equal(again.created, false)
  t.equal(h.sim.requests().filter((r) => r.method === 'PUT').length, writes, 'no queue PUT when nothing changes')

  // Dropping a queue takes the group out of it (and only it).
  await h.mappings.put(ALL, 'Operations/Customer Care/Tier 1', { genesysGroup: 'Tier 1 Agents', queues: ['Support'], create: false, division: 'BPO Alpha' })
  t.same(h.sim.state.queues.get(ESCALATIONS_QUEUE)?.memberGroups.map((g) => g.id), [TIER2_GROUP], 'the dropped queue loses only this group')
  t.same(h.sim.state.queues.get(SUPPORT_QUEUE)?.memberGroups.map((g) => g.id), [...before, group?.id])

  const bad = await h.mappings.put(ALL, 'A/B', { genesysGroup: 'Nope', queues: ['Nowhere', 'Billing'], create: false, division: 'BPO Alpha' }).then(() => undefined, (e: { issues?: Array<{ code: string }> }) => e.issues?.map((i) => i.code))
  t.same(bad, ['group.notFound', 'queue.notFound', 'queue.otherDivision'], 'every problem at once, nothing written')
  t.equal(await h.mappings.get(ALL, 'A/B').catch((e: { status: number }) => e.status), 404)
  t.equal(await h.mappings.put(ALL, 'A//B', { genesysGroup: 'x', queues: [], create: false }).catch((e: { status: number }) => e.status), 422)
  t.equal(await h.mappings.put(ALL, 'a/b/c/d/e/f', { genesysGroup: 'x', queues: [], create: false }).catch((e: { status: number }) => e.status), 422, 'deeper than MAX_GROUP_DEPTH')
})

t.test('full-state sync from arbitrary memberships converges in one job, with no no-op operations', async (t) => {
  const h = await harness(t, { users: 12 })
  await h.mappings.put(ALL, 'Ops/Tier 2', { genesysGroup: 'Support Tier 2', queues: [], create: false, division: 'BPO Alpha' })
  const hrIds = [...h.userOf.keys()]
  await fc.assert(fc.asyncProperty(fc.subarray(hrIds), fc.subarray(hrIds), async (start, desired) => {
    const group = h.sim.state.groups.get(TIER2_GROUP)
    if (!group) throw new Error('no group')
    group.memberIds = start.map((hr) => h.userOf.get(hr) ?? '')
    group.version++
    const patchesBefore = h.patches().length
    const s = await h.service.accept(ALL, 'Ops/Tier 2', { mode: 'replace', members: desired }, true)
    const done = await h.outcome(s.id)
    const want = new Set(desired.map((hr) => h.userOf.get(hr)))
    const now = h.members(TIER2_GROUP)
    const added = desired.filter((hr) => !start.includes(hr))
    const removed = start.filter((hr) => !desired.includes(hr))
    return done.status === 'completed' && now.size === want.size && [...now].every((id) => want.has(id)) &&
      done.result?.patches === (added.length + removed.length === 0 ? 0 : 1) && h.patches().length - patchesBefore === done.result.patches &&
      [...(done.result?.added ?? [])].sort().join() === [...added].sort().join() && [...(done.result?.removed ?? [])].sort().join() === [...removed].sort().join()
  }), { numRuns: 25 })
  t.pass('converged for every generated case')

  const unknown = await h.outcome((await h.service.accept(ALL, 'Ops/Tier 2', { mode: 'delta', add: ['H1', 'NOBODY'], remove: [] }, false)).id)
  t.equal(unknown.status, 'completed')
  t.same(unknown.result?.unknownHrIds, ['NOBODY'], 'unknown HR ids are reported, not fatal')
})

t.test('a concurrent change between read and write is re-read, recomputed and converges', async (t) => {
  let interfere = true
  const hook: { other?: (groupId: string) => Promise<void> } = {}
  const h = await harness(t, {
    users: 6,
    wrap: (d) => ({
      groups: {
        get: d.groups.get,
        async patchMembers (id, change, version) {
          if (interfere) {
            interfere = false
            await hook.other?.(id) // someone else changes the group after our read
          }
          return d.groups.patchMembers(id, change, version)
        },
      },
    }),
  })
  hook.other = async (id) => { await h.genesys.client.groups.patchMembers(id, { add: [h.userOf.get('H6') ?? ''] }) }
  await h.mappings.put(ALL, 'Ops/Tier 2', { genesysGroup: 'Support Tier 2', queues: [], create: false, division: 'BPO Alpha' })
  const done = await h.outcome((await h.service.accept(ALL, 'Ops/Tier 2', { mode: 'replace', members: ['H1', 'H2', 'H3'] }, true)).id)
  t.equal(done.status, 'completed')
  t.equal(done.result?.conflicts, 1, 'one version conflict met')
  const mine = [...h.members(TIER2_GROUP)].filter((id) => [...h.userOf.values()].includes(id))
  t.same(mine.sort(), ['H1', 'H2', 'H3'].map((hr) => h.userOf.get(hr)).sort(), "the concurrent addition is removed too: this client's members are exactly the desired ones (the seed's unmanaged member stays)")
})

t.test("a full-state sync removes only members this client manages; others stay and are counted, never named", async (t) => {
  const h = await harness(t, { users: 3 })
  await h.mappings.put(ALL, 'Ops/Tier 2', { genesysGroup: 'Support Tier 2', queues: [], create: false, division: 'BPO Alpha' })
  const stranger = await h.genesys.client.users.create({ userName: 'stranger@example.com', displayName: 'Stranger', externalId: 'other:S1' })
  const group = h.sim.state.groups.get(TIER2_GROUP)
  if (!group) throw new Error('no group')
  group.memberIds = [h.userOf.get('H1') ?? '', h.userOf.get('H2') ?? '', stranger.resource.id]
  group.version++
  const done = await h.outcome((await h.service.accept(ALL, 'Ops/Tier 2', { mode: 'replace', members: ['H1'] }, true)).id)
  t.equal(done.status, 'completed')
  t.same(done.result?.removed, ['H2'], "this client's own member leaves")
  t.equal(done.result?.keptUnowned, 1, 'the member it does not manage is kept and counted')
  t.notMatch(JSON.stringify(done), new RegExp(stranger.resource.id), 'and never named')
  t.ok(h.members(TIER2_GROUP).has(stranger.resource.id))
  t.same((await h.registry.get(ALL.id, 'H2'))?.groups, [], "the registry forgets the membership it undid")
  const other: AuthenticatedClient = { ...ALL, id: 'other' }
  const unknown = await h.outcome((await h.service.accept(other, 'Ops/Tier 2', { mode: 'delta', add: ['H3'], remove: ['H1'] }, true)).id)
  t.same(unknown.result?.unknownHrIds, ['H1', 'H3'], "another client's HR ids are not its workers")
  t.ok(h.members(TIER2_GROUP).has(h.userOf.get('H1') ?? ''), 'and nothing of them changed')
})

t.test('the removal brake stops a 50 % removal until confirmed', async (t) => {
  const h = await harness(t, { users: 10 })
  await h.mappings.put(ALL, 'Ops/Tier 2', { genesysGroup: 'Support Tier 2', queues: [], create: false, division: 'BPO Alpha' })
  const everyone = [...h.userOf.keys()]
  // Start from exactly the ten (the seed's own members are not this client's and would stay).
  const group = h.sim.state.groups.get(TIER2_GROUP)
  if (group) { group.memberIds = everyone.map((hr) => h.userOf.get(hr) ?? ''); group.version++ }
  const patches = h.patches().length
  const held = await h.outcome((await h.service.accept(ALL, 'Ops/Tier 2', { mode: 'replace', members: everyone.slice(0, 5) }, false)).id)
  t.equal(held.status, 'needs-confirmation')
  t.match(held.error, { code: 'GROUP_SYNC_REMOVAL_BRAKE', message: /remove 5 of 10 members/ })
  t.equal(h.patches().length, patches, 'nothing was written')
  t.equal(h.members(TIER2_GROUP).size, 10)
  const confirmed = await h.outcome((await h.service.accept(ALL, 'Ops/Tier 2', { mode: 'replace', members: everyone.slice(0, 5) }, true)).id)
  t.equal(confirmed.status, 'completed')
  t.equal(h.members(TIER2_GROUP).size, 5)
  t.equal(confirmed.result?.membersBefore, 10)
  t.equal(confirmed.result?.membersAfter, 5)
})

t.test('divisions are tenant boundaries for mappings and syncs', async (t) => {
  const h = await harness(t, { users: 2 })
  const a: AuthenticatedClient = { id: 'bpo-a', name: 'A', scopes: ['groups:write', 'provisioning:read'], divisions: ['BPO Alpha'] }
  const b: AuthenticatedClient = { id: 'bpo-b', name: 'B', scopes: ['groups:write', 'provisioning:read'], divisions: ['BPO Beta'] }
  const { mapping } = await h.mappings.put(a, 'Ops/Tier 2', { genesysGroup: 'Support Tier 2', queues: ['Support'], create: false })
  t.equal(mapping.division, 'BPO Alpha', "a single-division client's mappings default to its division")
  const writesBefore = h.sim.requests().filter((r) => r.method !== 'GET' && r.path !== '/oauth/token').length
  const status = (p: Promise<unknown>) => p.then(() => 200, (e: { status: number }) => e.status)
  t.equal(await status(h.mappings.get(b, 'Ops/Tier 2')), 404, 'read of another division: 404')
  t.same(await h.mappings.list(b), [], 'list shows none of it')
  t.equal(await status(h.mappings.put(b, 'Ops/Tier 2', { genesysGroup: 'Billing', queues: [], create: false })), 403, 'overwrite: 403')
  t.equal(await status(h.mappings.delete(b, 'Ops/Tier 2')), 403, 'delete: 403')
  t.equal(await status(h.service.accept(b, 'Ops/Tier 2', { mode: 'replace', members: [] }, true)), 403, 'sync: 403')
  t.equal(await status(h.mappings.put(b, 'Ops/Other', { genesysGroup: 'Billing', queues: [], create: false, division: 'BPO Alpha' })), 403, 'a mapping in a division not its own: 403')
  t.equal(await status(h.mappings.put(b, 'Ops/Billing', { genesysGroup: 'Billing', queues: ['Support'], create: false })), 422, "a queue of another division: refused")
  t.equal(h.sim.requests().filter((r) => r.method !== 'GET' && r.path !== '/oauth/token').length, writesBefore, 'no write reached Genesys')
  const mine = await h.service.accept(a, 'Ops/Tier 2', { mode: 'delta', add: ['H1'], remove: [] }, false)
  t.equal(await status(h.service.get(b, mine.id)), 404, "another client's sync: 404")
})

t.test('a new hire with a mapped HR group joins the mapped group, and so its queues; another division cannot use it', async (t) => {
  const store = createMemoryMappingStore()
  const p = await pipeline({ mappings: store })
  t.teardown(p.close)
  const mappings = createMappingService({ store, directoryFor: () => p.genesys.client, queueLock: createMemoryQueueLock(), clock: { now: Date.now }, maxGroupDepth: 5 })
  const now = new Date().toISOString()
  const alphaId = [...p.sim.state.divisions.values()].find((d) => d.name === 'BPO Alpha')?.id ?? ''
  p.sim.state.queues.set(ESCALATIONS_QUEUE, { id: ESCALATIONS_QUEUE, name: 'Support Escalations', divisionId: alphaId, memberGroups: [], extra: {}, version: 1, dateCreated: now, dateModified: now })
  const { mapping } = await mappings.put(ALL, 'Operations/Customer Care/Tier 1', { genesysGroup: 'Tier 1 Agents', queues: ['Support', 'Support Escalations'], create: true, division: 'BPO Alpha' })
  const r = await p.outcome(await p.submit({ hrId: 'MAP-1', email: 'mapped.hire@example.com', givenName: 'Mapped', familyName: 'Hire', division: 'BPO Alpha', roles: ['Agent'], groups: ['Operations/Customer Care/Tier 1'] }))
  t.equal(r.status, 'completed', JSON.stringify(r.issues ?? r.error))
  const group = p.sim.state.groups.get(mapping.genesysGroup.id)
  t.ok(group?.memberIds.includes(r.genesysUserId ?? ''), 'the user is a member of the mapped group')
  t.ok(p.sim.state.queues.get(SUPPORT_QUEUE)?.memberGroups.some((g) => g.id === mapping.genesysGroup.id), 'which is a member of the Support queue')
  t.ok(p.sim.state.queues.get(ESCALATIONS_QUEUE)?.memberGroups.some((g) => g.id === mapping.genesysGroup.id), 'and of the Support Escalations queue')

  const other = await p.outcome(await p.submit({ hrId: 'MAP-2', email: 'other.division@example.com', givenName: 'Other', familyName: 'Division', division: 'BPO Beta', roles: ['Agent'], groups: ['Operations/Customer Care/Tier 1'] }))
  t.equal(other.status, 'rejected', "a hire in another division does not join this division's group")
  t.same(other.issues?.map((i) => i.code), ['group.notFound'])
})

t.test('upstream economy: 100 hires with one role, division and group read each of them once', async (t) => {
  const p = await pipeline({ sim: { rateLimitPerMinute: 100_000 } })
  t.teardown(p.close)
  // The unmapped path falls back to the group named like its last segment, which BPO Alpha owns.
  const alpha = [...p.sim.state.divisions.values()].find((d) => d.name === 'BPO Alpha')?.id ?? ''
  const support = [...p.sim.state.groups.values()].find((g) => g.name === 'Support')?.id ?? ''
  await p.mappings.claimGroup(support, alpha)
  const ids = await Promise.all(Array.from({ length: 100 }, (_, n) => p.submit({ hrId: `ECO-${n}`, email: `eco.${n}@example.com`, givenName: 'Eco', familyName: `Hire ${n}`, division: 'BPO Alpha', roles: ['Agent'], groups: ['Operations/Support'] })))
  for (const id of ids) t.equal((await p.outcome(id, 60)).status, 'completed')
  const reads = (re: RegExp) => p.sim.requests().filter((r) => r.method === 'GET' && re.test(r.path)).length
  t.equal(reads(/^\/api\/v2\/authorization\/roles$/), 1, 'one role read')
  t.equal(reads(/^\/api\/v2\/authorization\/divisions$/), 1, 'one division read')
  t.equal(reads(/^\/api\/v2\/scim\/v2\/groups$/i), 1, 'one group lookup by name')
})
