import fc from 'fast-check'
import { pino } from 'pino'
import t from 'tap'
import type { ApiClient, AuthenticatedClient } from '../../src/config/clients.js'
import type { GenesysClient } from '../../src/genesys/client.js'
import { createMappingService } from '../../src/groups/mappings.js'
import type { GroupSyncJob } from '../../src/groups/ports.js'
import { createGroupSyncService, createGroupSyncWorker } from '../../src/groups/sync.js'
import { createMemoryQueue } from '../../src/jobs/memory-queue.js'
import { staticChecks } from '../../src/provisioning/checks/static-checks.js'
import { createMappedGroupResolver, createNameGroupResolver, createReferenceCache } from '../../src/provisioning/facts.js'
import { createProvisioningService, jobIdFor } from '../../src/provisioning/service.js'
import { createProvisioningWorker, type ProvisioningJob } from '../../src/provisioning/worker.js'
import { createMemoryGroupSyncStore, createMemoryMappingStore } from '../../src/groups/store/memory.js'
import { createMemoryEmailReservations, createMemoryIdempotencyStore, createMemoryRequestStore, createMemoryWorkerRegistry } from '../../src/provisioning/store/memory.js'
import { createMemoryQueueLock } from '../../src/groups/lock/memory.js'
import { simAndClient } from '../helpers/genesys.js'
import { DENIED } from '../helpers/pipeline.js'
import { INTAKE_ANSWERS } from '../../src/http/views/provisioning.js'

/**
 * Two tenants working one org at once, each through its own stack (as two
 * replicas would) over shared stores: random interleavings of hires, mappings
 * and membership syncs over overlapping HR ids, emails and group names. Every
 * Genesys write is recorded with the tenant that made it; none may touch a user
 * or group outside that tenant's division, and no two users may share an
 * externalId. Both tenants use bare HR ids, the namespace where they collide.
 */
t.setTimeout(300_000)

const TENANTS: ApiClient[] = [
  { id: 'bpo-a', name: 'A', keySha256: 'a'.repeat(64), scopes: ['provisioning:write', 'provisioning:read', 'groups:write'], divisions: ['BPO Alpha'], externalIdPrefix: '' },
  { id: 'bpo-b', name: 'B', keySha256: 'b'.repeat(64), scopes: ['provisioning:write', 'provisioning:read', 'groups:write'], divisions: ['BPO Beta'], externalIdPrefix: '' },
]

/** A Genesys write and, for a group, the division that owned the group when it was written. */
type Write = { tenant: string, kind: 'user' | 'group', target: string, users: string[], groupOwner?: string }

type Op =
  | { kind: 'hire', tenant: 0 | 1, hrId: string, email: string, group?: string }
  | { kind: 'map', tenant: 0 | 1, path: string, group: string }
  | { kind: 'sync', tenant: 0 | 1, path: string, members: string[] }

const hrIds = ['1', '2', '3']
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('hire' as const), tenant: fc.constantFrom(0 as const, 1 as const), hrId: fc.constantFrom(...hrIds), email: fc.constantFrom('p1@example.com', 'p2@example.com', 'p3@example.com'), group: fc.option(fc.constantFrom('Team/Sales', 'Any/Billing', 'Team/Desk'), { nil: undefined }) }),
  fc.record({ kind: fc.constant('map' as const), tenant: fc.constantFrom(0 as const, 1 as const), path: fc.constantFrom('Team/Sales', 'Team/Desk', 'Alt/Sales'), group: fc.constantFrom('Sales', 'Billing', 'Support') }),
  fc.record({ kind: fc.constant('sync' as const), tenant: fc.constantFrom(0 as const, 1 as const), path: fc.constantFrom('Team/Sales', 'Team/Desk', 'Alt/Sales'), members: fc.subarray(hrIds) }),
)

async function world () {
  const { sim, genesys, close } = await simAndClient({ sim: { rateLimitPerMinute: 1_000_000 } })
  const clock = { now: Date.now }
  const registry = createMemoryWorkerRegistry()
  const requests = createMemoryRequestStore({ registry })
  const reservations = createMemoryEmailReservations(clock)
  const externalIds = createMemoryEmailReservations(clock)
  const mappingStore = createMemoryMappingStore()
  const syncs = createMemoryGroupSyncStore()
  const queueLock = createMemoryQueueLock()
  const writes: Write[] = []
  const closers: Array<() => Promise<void>> = [close]

  /** The tenant's view of the Genesys client: every write recorded with who made it. */
  const recorded = (tenant: string): GenesysClient => {
    const c = genesys.client
    return {
      ...c,
      users: {
        ...c.users,
        create: async (input) => {
          const created = await c.users.create(input)
          writes.push({ tenant, kind: 'user', target: created.resource.id, users: [created.resource.id] })
          return created
        },
        patch: async (id, ops, version) => { writes.push({ tenant, kind: 'user', target: id, users: [id] }); return c.users.patch(id, ops, version) },
      },
      grants: {
        ...c.grants,
        bulkAdd: async (id, list) => { writes.push({ tenant, kind: 'user', target: id, users: [id] }); return c.grants.bulkAdd(id, list) },
        roleToUsers: async (roleId, ids, divisionIds) => {
          for (const id of ids) writes.push({ tenant, kind: 'user', target: id, users: [id] })
          return c.grants.roleToUsers(roleId, ids, divisionIds)
        },
      },
      groups: {
        ...c.groups,
        patchMembers: async (id, change, version) => {
          const groupOwner = await mappingStore.ownerOf(id)
          writes.push({ tenant, kind: 'group', target: id, users: [...(change.add ?? []), ...(change.remove ?? [])], ...(groupOwner !== undefined ? { groupOwner } : {}) })
          return c.groups.patchMembers(id, change, version)
        },
      },
    }
  }

  const stacks = TENANTS.map((client) => {
    const g = recorded(client.id)
    const queue = createMemoryQueue<ProvisioningJob>({ maxAttempts: 4, backoff: { baseMs: 10, capMs: 50 } })
    const syncQueue = createMemoryQueue<GroupSyncJob>({ maxAttempts: 3, backoff: { baseMs: 10, capMs: 50 } })
    closers.push(() => queue.close(), () => syncQueue.close())
    const cache = createReferenceCache(clock, 60_000)
    const groups = createMappedGroupResolver(mappingStore, createNameGroupResolver(g, mappingStore))
    const service = createProvisioningService({
      answers: INTAKE_ANSWERS,
      requests, registry, idempotency: createMemoryIdempotencyStore(clock), queue: { enqueue: (r) => queue.add(jobIdFor(r), { requestId: r.id }) },
      clock, staticChecks, config: { maxGroupDepth: 5, idempotencyTtlHours: 24 },
    })
    queue.process(createProvisioningWorker({
      requests, reservations, externalIds, registry, clients: { get: (id) => TENANTS.find((c) => c.id === id) },
      genesysFor: () => ({ genesys: g, groups, cache }), clock, logger: pino({ enabled: false }), policy: { denied: DENIED }, emailReservationSeconds: 60,
    }), { concurrency: 4 })
    const mappings = createMappingService({ store: mappingStore, directoryFor: () => g, queueLock, clock, maxGroupDepth: 5 })
    const syncService = createGroupSyncService({ syncs, mappings: mappingStore, queue: { enqueue: (s) => syncQueue.add(s.id, { syncId: s.id }) }, clock, maxGroupDepth: 5 })
    syncQueue.process(createGroupSyncWorker({ syncs, directoryFor: () => g, mappings: mappingStore, registry, clock, logger: pino({ enabled: false }), maxRemovalsPercent: 100 }), { concurrency: 2 })
    const auth: AuthenticatedClient = { id: client.id, name: client.name, scopes: client.scopes, divisions: client.divisions, externalIdPrefix: '' }
    return { auth, service, mappings, syncService }
  })

  async function run (o: Op): Promise<void> {
    const s = stacks[o.tenant]
    if (!s) return
    const ignore = () => undefined
    if (o.kind === 'hire') {
      const division = o.tenant === 0 ? 'BPO Alpha' : 'BPO Beta'
      const accepted = await s.service.accept(s.auth, { hrId: o.hrId, email: o.email, displayName: `P ${o.hrId}`, division, roles: ['Agent'], ...(o.group ? { groups: [o.group] } : {}) }).catch(ignore)
      const id = (accepted?.response.body as { id?: string } | undefined)?.id
      if (id) await s.service.waitForTerminal(id, 30)
    } else if (o.kind === 'map') {
      await s.mappings.put(s.auth, o.path, { genesysGroup: o.group, queues: [], create: false }).catch(ignore)
    } else {
      const sync = await s.syncService.accept(s.auth, o.path, { mode: 'replace', members: o.members }, true).catch(ignore)
      if (sync) for (let i = 0; i < 300 && !['completed', 'failed', 'needs-confirmation'].includes((await syncs.get(sync.id))?.status ?? ''); i++) await new Promise((resolve) => setTimeout(resolve, 10))
    }
  }

  return {
    sim, writes, run,
    async close () { for (const c of closers.reverse()) await c() },
  }
}

/**
 * Interleavings that once broke the property: a mapping moved away from a group
 * (ending its division's claim) while a sync of that path (1) or a hire planned
 * with it (2) was about to write the group.
 */
const RACES: Op[][][] = [
  [
    [{ kind: 'map', tenant: 1, path: 'Team/Desk', group: 'Sales' }, { kind: 'sync', tenant: 0, path: 'Team/Sales', members: [] }],
    [{ kind: 'hire', tenant: 1, hrId: '1', email: 'p1@example.com', group: 'Team/Sales' }, { kind: 'sync', tenant: 0, path: 'Team/Sales', members: [] }],
    [{ kind: 'map', tenant: 1, path: 'Team/Desk', group: 'Billing' }, { kind: 'sync', tenant: 1, path: 'Team/Desk', members: [] }],
    [{ kind: 'map', tenant: 0, path: 'Team/Sales', group: 'Sales' }],
  ],
  [
    [{ kind: 'hire', tenant: 0, hrId: '1', email: 'p1@example.com' }, { kind: 'sync', tenant: 0, path: 'Team/Sales', members: [] }],
    [{ kind: 'map', tenant: 0, path: 'Team/Desk', group: 'Sales' }],
    [{ kind: 'map', tenant: 0, path: 'Team/Desk', group: 'Support' }, { kind: 'hire', tenant: 0, hrId: '1', email: 'p1@example.com', group: 'Team/Desk' }],
  ],
]

t.test('random interleavings of two tenants never write outside the writer\'s division, nor duplicate an externalId', async (t) => {
  let runs = 0
  await fc.assert(fc.asyncProperty(fc.array(fc.array(op, { minLength: 1, maxLength: 3 }), { minLength: 2, maxLength: 5 }), async (rounds) => {
    const w = await world()
    try {
      // The operations of a round run at once: their upstream calls interleave.
      for (const round of rounds) await Promise.all(round.map((o) => w.run(o)))
      const divisionId = (name: string) => [...w.sim.state.divisions.values()].find((d) => d.name === name)?.id
      const home = new Map(TENANTS.map((c) => [c.id, divisionId(c.divisions === '*' ? '' : c.divisions[0] ?? '')]))
      const live = [...w.sim.state.users.values()].filter((u) => u.state !== 'deleted')
      const externalIds = live.map((u) => u.externalId).filter((e): e is string => e !== undefined)
      if (new Set(externalIds).size !== externalIds.length) throw new Error(`two users share an externalId: ${externalIds.join(',')}`)
      for (const write of w.writes) {
        const mine = home.get(write.tenant)
        for (const userId of write.users) {
          const d = w.sim.state.users.get(userId)?.divisionId
          if (d !== mine) throw new Error(`${write.tenant} wrote ${write.kind} ${write.target} touching user ${userId} of division ${String(d)}`)
        }
        if (write.kind === 'group' && write.groupOwner !== mine) {
          throw new Error(`${write.tenant} changed group ${write.target}, which its division does not own`)
        }
      }
      runs++
      return true
    } finally {
      await w.close()
    }
  }), { numRuns: 20, examples: RACES.map((r) => [r]) })
  t.ok(runs >= 20, `every interleaving held (${runs}, the races found before included)`)
})
