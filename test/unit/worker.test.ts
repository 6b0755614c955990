import { pino } from 'pino'
import t from 'tap'
import { GenesysError } from '../../src/genesys/errors.js'
import { SCIM_ENTERPRISE_USER, type ScimGroup, type ScimUser, type ScimUserInput, type Versioned } from '../../src/genesys/types.js'
import { JobDeferred, JobFailed, RetryLater } from '../../src/jobs/queue.js'
import { createMemoryQueue } from '../../src/jobs/memory-queue.js'
import { createFakeTimers } from '../helpers/fake-timers.js'
import { createReferenceCache } from '../../src/provisioning/facts.js'
import type { ProvisioningRecord } from '../../src/provisioning/ports.js'
import { clientSlotLimits, CREDENTIALS_RETRY_MS, createProvisioningWorker, type Provisioner } from '../../src/provisioning/worker.js'
import { createMemoryEmailReservations, createMemoryRequestStore, createMemoryWorkerRegistry } from '../../src/provisioning/store/memory.js'
import { DEFAULT_DENIED_PERMISSIONS, parsePermission, type PermissionPattern } from '../../src/provisioning/checks/permissions.js'

const DENIED = DEFAULT_DENIED_PERMISSIONS.map((p) => parsePermission(p) as PermissionPattern)

/** A scripted Genesys: enough behaviour for the worker's decisions, with call counts. */
function fakeGenesys (over: { users?: Partial<Provisioner['users']>, groups?: Partial<Provisioner['groups']> } = {}) {
  const calls: string[] = []
  const group: ScimGroup = { id: 'g-1', displayName: 'Support', members: [] }
  let version = 1
  let grantError: unknown
  const genesys: Provisioner = {
    users: {
      findByUserName: async () => { calls.push('findByUserName'); return undefined },
      findByExternalId: async () => { calls.push('findByExternalId'); return [] },
      create: async (input: ScimUserInput): Promise<Versioned<ScimUser>> => { calls.push('create'); return { resource: { id: 'u-new', userName: input.userName }, version: '1' } },
      get: async (id: string): Promise<Versioned<ScimUser>> => { calls.push('users.get'); return { resource: { id, userName: 'a@example.com' }, version: '1' } },
      patch: async (id: string): Promise<Versioned<ScimUser>> => { calls.push('users.patch'); return { resource: { id, userName: 'a@example.com', active: true }, version: '2' } },
      remove: async () => { calls.push('users.remove') },
      ...over.users,
    },
    groups: {
      findByDisplayName: async (name) => (name === 'Support' ? group : undefined),
      get: async () => { calls.push('groups.get'); return { resource: { ...group, members: [...(group.members ?? [])] }, version: String(version) } },
      patchMembers: async (_id, change, v) => {
        calls.push('groups.patch')
        // An add needs no If-Match; one that is sent must be current.
        if (v !== undefined && v !== String(version)) throw new GenesysError('stale', { operation: 'scim.groups.patchMembers', failure: 'http', upstreamStatus: 400, scimType: 'invalidVers' })
        version++
        group.members = [...(group.members ?? []), ...(change.add ?? []).map((value) => ({ value }))]
        return { resource: group, version: String(version) }
      },
      ...over.groups,
    },
    roles: {
      byName: async (name) => (name === 'Agent' ? { id: 'r-agent', name, permissionPolicies: [] } : undefined),
      byId: async (id) => ({ id, name: 'Agent', permissionPolicies: [] }),
    },
    divisions: { byName: async (name) => ({ id: 'd-1', name }), home: async () => ({ id: 'd-home', name: 'Home' }) },
    routing: { skillByName: async () => undefined, languageByName: async () => undefined },
    grants: {
      bulkAdd: async () => { calls.push('bulkAdd'); if (grantError) throw grantError },
      roleToUsers: async () => { calls.push('roleToUsers'); if (grantError) throw grantError },
      remove: async () => { calls.push('removeGrant') },
    },
  }
  return { genesys, calls, bumpGroup: () => { version++ }, failGrants: (err: unknown) => { grantError = err } }
}

async function setup (_t: unknown, fake = fakeGenesys(), feeds = true) {
  const clock = { now: Date.now }
  const registry = createMemoryWorkerRegistry()
  const requests = createMemoryRequestStore({ registry })
  const reservations = createMemoryEmailReservations(clock)
  const handle = createProvisioningWorker({
    requests, reservations, externalIds: createMemoryEmailReservations(clock), registry,
    clients: { get: (id) => ({ id, name: id, keySha256: '0'.repeat(64), scopes: ['provisioning:write'], divisions: ['Ops'], externalIdPrefix: '' }) },
    genesysFor: () => ({
      genesys: fake.genesys,
      groups: { resolve: async (p: string) => ({ groupName: p, ...(p === 'Support' ? { found: { id: 'g-1', name: 'Support' } } : {}) }), stillFeeds: async (p: string, _d: unknown, id: string) => feeds && p === 'Support' && id === 'g-1' },
      cache: createReferenceCache(clock, 0),
    }),
    clock, logger: pino({ enabled: false }), policy: { denied: DENIED }, emailReservationSeconds: 60,
  })
  const at = new Date().toISOString()
  const record: ProvisioningRecord = {
    id: 'prq_01TEST0000000000000000000A', clientId: 'c', hrId: 'HR-1', email: 'a@example.com', status: 'accepted',
    hire: { hrId: 'HR-1', email: 'a@example.com', displayName: 'A', division: 'Ops', roles: ['Agent'], groups: ['Support'] },
    createdAt: at, updatedAt: at, transitions: [{ status: 'accepted', at }], steps: [], attempts: 0, retries: 0,
  }
  await requests.insert(record)
  const run = (attempt = 1, maxAttempts = 5) => handle({ id: record.id, data: { requestId: record.id }, attempt, maxAttempts })
  return { requests, reservations, registry, run, record, calls: fake.calls, get: async () => (await requests.get(record.id)) as ProvisioningRecord }
}

t.test('a full run writes the ledger in order and releases the email', async (t) => {
  const s = await setup(t)
  await s.run()
  const r = await s.get()
  t.equal(r.status, 'completed')
  t.same(r.steps.map((x) => x.name), ['createUser', 'grantRoles', 'joinGroups'])
  t.same(s.calls, ['create', 'roleToUsers', 'groups.patch'], 'a first attempt creates at once (no lookup: a taken email or HR id would be its 409) and joins without reading the group')
  t.equal(await s.reservations.holder('a@example.com'), undefined)
  await s.run()
  t.equal(s.calls.filter((c) => c === 'create').length, 1, 'a terminal request is not run again')
})

t.test('a re-run after a crash skips the finished steps', async (t) => {
  const s = await setup(t)
  const r = await s.get()
  await s.requests.save({
    ...r, status: 'provisioning',
    plan: { scimUser: { userName: 'a@example.com', displayName: 'A', externalId: 'HR-1' }, grants: [{ roleId: 'r-agent', roleName: 'Agent', divisionId: 'd-1', divisionName: 'Ops' }], groups: [] },
    steps: [{ name: 'createUser', status: 'done', at: r.createdAt, durationMs: 1, detail: { userId: 'u-old', adopted: false } }],
  })
  await s.run()
  const done = await s.get()
  t.equal(done.status, 'completed')
  t.equal(done.genesysUserId, 'u-old')
  t.notOk(s.calls.includes('create'), 'no second create')
  t.notOk(s.calls.includes('findByUserName'), 'no second validation')
})

t.test('409 uniqueness: adopt our own user, refuse somebody else\'s', async (t) => {
  const uniqueness = new GenesysError('dup', { operation: 'scim.users.create', failure: 'http', upstreamStatus: 409, scimType: 'uniqueness' })
  let lookups = 0
  const ours = fakeGenesys({
    users: {
      create: async () => { throw uniqueness },
      // Looked up only once the create answered 409.
      findByUserName: async () => { lookups++; return { id: 'u-ours', userName: 'a@example.com', externalId: 'HR-1', active: true, [SCIM_ENTERPRISE_USER]: { division: 'Ops' } } },
    },
  })
  const s1 = await setup(t, ours)
  await s1.run()
  const r1 = await s1.get()
  t.equal(r1.status, 'completed')
  t.equal(lookups, 1, 'one lookup, after the 409')
  t.same(r1.steps[0]?.detail, { userId: 'u-ours', adopted: true })
  t.match(await s1.registry.get('c', 'HR-1'), { genesysUserId: 'u-ours', origin: 'adopted', grants: [{ roleId: 'r-agent', divisionId: 'd-1' }], groups: ['g-1'] }, 'the registry records the adopted user with what the service granted')

  lookups = 0
  const theirs = fakeGenesys({
    users: {
      create: async () => { throw uniqueness },
      findByUserName: async () => ({ id: 'u-theirs', userName: 'a@example.com', externalId: 'HR-OTHER' }),
    },
  })
  const s2 = await setup(t, theirs)
  await s2.run()
  const r2 = await s2.get()
  t.equal(r2.status, 'rejected', "somebody else's account is refused, not adopted")
  t.same(r2.issues?.map((i) => i.code), ['email.taken'])
  t.notMatch(JSON.stringify(r2.issues), /u-theirs/, 'the refusal names no Genesys id')
  t.equal(await s2.reservations.holder('a@example.com'), undefined, 'the reservation is released')
  t.equal(await s2.registry.get('c', 'HR-1'), undefined)

  // A 409 without scimType is a uniqueness conflict all the same (POST has no If-Match).
  lookups = 0
  const bare = new GenesysError('dup', { operation: 'scim.users.create', failure: 'http', upstreamStatus: 409 })
  const noType = fakeGenesys({
    users: {
      create: async () => { throw bare },
      findByUserName: async () => ({ id: 'u-ours', userName: 'a@example.com', externalId: 'HR-1', active: true, [SCIM_ENTERPRISE_USER]: { division: 'Ops' } }),
    },
  })
  const s4 = await setup(t, noType)
  await s4.run()
  t.equal((await s4.get()).status, 'completed')

  const hidden = fakeGenesys({ users: { create: async () => { throw uniqueness } } })
  const s3 = await setup(t, hidden)
  await t.rejects(s3.run(), RetryLater, 'a 409 whose owner is not visible yet is retried later')
  t.equal((await s3.get()).status, 'provisioning')
  t.same(s3.calls.filter((c) => c.startsWith('find')), ['findByUserName', 'findByExternalId'], 'after the 409, the email and the externalId are looked up before retrying')
  await s3.run(4, 10)
  const r3 = await s3.get()
  t.equal(r3.status, 'rejected', 'the "not visible yet" retries are bounded')
  t.same(r3.issues?.map((i) => i.code), ['hrId.taken'])
})

t.test('an inactive user of this client with its HR id and email is reactivated (a rehire)', async (t) => {
  const inactive = { id: 'u-gone', userName: 'a@example.com', externalId: 'HR-1', active: false, [SCIM_ENTERPRISE_USER]: { division: 'Ops' } }
  const uniqueness = new GenesysError('dup', { operation: 'scim.users.create', failure: 'http', upstreamStatus: 409, scimType: 'uniqueness' })
  // The HR id and email are taken by it, so Genesys refuses the create; the holder is then found.
  const s = await setup(t, fakeGenesys({ users: { create: async () => { throw uniqueness }, findByUserName: async () => inactive, findByExternalId: async () => [inactive] } }))
  await s.run()
  const r = await s.get()
  t.equal(r.status, 'completed')
  t.same(r.steps[0]?.detail, { userId: 'u-gone', adopted: true, reactivated: true })
  t.ok(s.calls.includes('users.patch'), 'PATCH active: true')

  // A later attempt (a create may have reached Genesys unanswered) looks first and creates nothing.
  const again = await setup(t, fakeGenesys({ users: { findByUserName: async () => inactive, findByExternalId: async () => [inactive] } }))
  await again.requests.save({ ...(await again.get()), attempts: 1 })
  await again.run(2)
  t.same((await again.get()).steps[0]?.detail, { userId: 'u-gone', adopted: true, reactivated: true })
  t.notOk(again.calls.includes('create'), 'no create')
})

t.test('two users with our HR id: a person must look', async (t) => {
  let n = 0
  const s = await setup(t, fakeGenesys({ users: { findByExternalId: async () => (n++ === 0 ? [] : [{ id: 'u1', userName: 'x' }, { id: 'u2', userName: 'y' }]) } }))
  // A later attempt: it looks the externalId up before creating.
  await s.requests.save({ ...(await s.get()), attempts: 1 })
  await t.rejects(s.run(2), JobFailed)
  t.match((await s.get()).error?.message, /2 users/)
})

t.test('a group another writer just changed is joined all the same: an add carries no If-Match', async (t) => {
  const fake = fakeGenesys()
  fake.bumpGroup()
  const s = await setup(t, fake)
  await s.run()
  t.equal((await s.get()).status, 'completed')
  t.equal(s.calls.filter((c) => c === 'groups.patch').length, 1, 'one PATCH')
  t.notOk(s.calls.includes('groups.get'), 'no read')
})

t.test('retryable errors: RetryLater with Retry-After as the floor, a 429 defers only this job, last attempt fails', async (t) => {
  const unavailable = new GenesysError('503', { operation: 'grants.bulkAdd', failure: 'http', upstreamStatus: 503, genesysCode: 'service.unavailable', correlationId: 'corr-1', retryAfterMs: 4000 })
  const fake = fakeGenesys()
  fake.failGrants(unavailable)
  const s = await setup(t, fake)
  const err = await s.run(1, 3).catch((e: unknown) => e)
  t.ok(err instanceof RetryLater)
  t.equal((err as RetryLater).delayMs, 4000)
  t.equal((await s.get()).attempts, 1)

  fake.failGrants(new GenesysError('429', { operation: 'grants.bulkAdd', failure: 'http', upstreamStatus: 429, retryAfterMs: 3000 }))
  const limited = await s.run(2, 3).catch((e: unknown) => e)
  t.ok(limited instanceof JobDeferred)
  t.ok((limited as JobDeferred).delayMs >= 3000 && (limited as JobDeferred).delayMs < 3250, 'Retry-After, with a little jitter')
  t.equal((await s.get()).attempts, 1, 'a deferral spends no attempt')

  fake.failGrants(unavailable)
  await t.rejects(s.run(3, 3), JobFailed)
  const r = await s.get()
  t.equal(r.status, 'failed')
  t.equal(r.error?.genesysCode, 'service.unavailable')
  t.equal(r.error?.correlationId, 'corr-1')
  t.equal(r.attempts, 2, 'two attempts ran; the deferral in between was none')
})

t.test('a 429 or a paused budget on the last attempt defers the job instead of failing it', async (t) => {
  const fake = fakeGenesys()
  fake.failGrants(new GenesysError('429', { operation: 'grants.bulkAdd', failure: 'http', upstreamStatus: 429, retryAfterMs: 5000 }))
  const s = await setup(t, fake)
  const err = await s.run(3, 3).catch((e: unknown) => e)
  t.ok(err instanceof JobDeferred, 'deferred, not failed')
  t.not((await s.get()).status, 'failed')
  fake.failGrants(new GenesysError('the Genesys rate budget is exhausted; grants.bulkAdd not sent', { operation: 'grants.bulkAdd', failure: 'rate-budget', retryAfterMs: 40_000 }))
  const paused = await s.run(3, 3).catch((e: unknown) => e)
  t.ok(paused instanceof JobDeferred, 'a budget paused past the wait bound defers too')
  t.ok((paused as JobDeferred).delayMs >= 40_000)
  t.equal((await s.get()).attempts, 0, 'no attempt spent by either')
})

t.test('refused Genesys credentials: the request waits with backoff instead of failing at once', async (t) => {
  const refused = new GenesysError('Genesys Cloud refused the OAuth client credentials; check GENESYS_CLIENT_ID and GENESYS_CLIENT_SECRET', { operation: 'oauth.token', failure: 'credentials', upstreamStatus: 401, genesysCode: 'invalid_client' })
  const fake = fakeGenesys()
  fake.genesys.divisions.byName = async () => { throw refused }
  const s = await setup(t, fake)
  const err = await s.run(1, 3).catch((e: unknown) => e)
  t.ok(err instanceof RetryLater, 'retried later')
  t.equal((err as RetryLater).delayMs, CREDENTIALS_RETRY_MS, 'not before the operator can have fixed them')
  t.not((await s.get()).status, 'failed')
  await t.rejects(s.run(3, 3), JobFailed, 'the last attempt still fails')
  t.match((await s.get()).error, { code: 'PROV_ERR_CONFIGURATION' })
})

t.test('one OAuth client\'s jobs hold at most their share of the slots; another tenant\'s job still runs', async (t) => {
  const clock = { now: Date.now }
  const registry = createMemoryWorkerRegistry()
  const requests = createMemoryRequestStore({ registry })
  let release: () => void = () => {}
  const blocked = new Promise<void>((resolve) => { release = resolve })
  const slow = fakeGenesys({ users: { create: async (input: ScimUserInput) => { slow.calls.push('create'); await blocked; return { resource: { id: `u-${input.userName}`, userName: input.userName }, version: '1' } } } })
  const fast = fakeGenesys()
  const tenantOf = {
    a: { genesys: slow.genesys, groups: { resolve: async (p: string) => ({ groupName: p }), stillFeeds: async () => true }, cache: createReferenceCache(clock, 0) },
    b: { genesys: fast.genesys, groups: { resolve: async (p: string) => ({ groupName: p }), stillFeeds: async () => true }, cache: createReferenceCache(clock, 0) },
  }
  const handle = createProvisioningWorker({
    requests, reservations: createMemoryEmailReservations(clock), externalIds: createMemoryEmailReservations(clock), registry,
    clients: { get: (id) => ({ id, name: id, keySha256: '0'.repeat(64), scopes: ['provisioning:write'], divisions: ['Ops'], externalIdPrefix: '' }) },
    genesysFor: (id) => (id === 'a' ? tenantOf.a : tenantOf.b),
    slotsPerTenant: 1,
    clock, logger: pino({ enabled: false }), policy: { denied: DENIED }, emailReservationSeconds: 60,
  })
  const at = new Date().toISOString()
  const record = (id: string, clientId: string, n: number): ProvisioningRecord => ({
    id, clientId, hrId: `HR-${n}`, email: `p${n}@example.com`, status: 'accepted',
    hire: { hrId: `HR-${n}`, email: `p${n}@example.com`, displayName: 'P', division: 'Ops', roles: ['Agent'] },
    createdAt: at, updatedAt: at, transitions: [{ status: 'accepted', at }], steps: [], attempts: 0, retries: 0,
  })
  const ids = ['prq_01TEST0000000000000000001A', 'prq_01TEST0000000000000000002A', 'prq_01TEST0000000000000000003B']
  await requests.insert(record(ids[0] ?? '', 'a', 1))
  await requests.insert(record(ids[1] ?? '', 'a', 2))
  await requests.insert(record(ids[2] ?? '', 'b', 3))
  const run = (id: string) => handle({ id, data: { requestId: id }, attempt: 1, maxAttempts: 5 })
  const first = run(ids[0] ?? '')
  while (!slow.calls.includes('create')) await new Promise((resolve) => setImmediate(resolve))
  const second = await run(ids[1] ?? '').catch((e: unknown) => e)
  t.ok(second instanceof JobDeferred, 'A\'s second job is deferred while A\'s first holds A\'s share')
  t.equal((await requests.get(ids[1] ?? ''))?.attempts, 0, 'untouched, no attempt spent')
  await run(ids[2] ?? '')
  t.equal((await requests.get(ids[2] ?? ''))?.status, 'completed', 'B\'s job ran meanwhile')
  release()
  await first
  await run(ids[1] ?? '')
  t.equal((await requests.get(ids[1] ?? ''))?.status, 'completed', 'A\'s slot is free again once its job ended')
})

t.test('a group whose mapping moved after validation is not joined; the request fails saying so', async (t) => {
  const fake = fakeGenesys()
  const s = await setup(t, fake, false)
  await t.rejects(s.run(1, 3), JobFailed)
  const r = await s.get()
  t.equal(r.status, 'failed')
  t.match(r.error?.message, /HR group "Support" no longer feeds Genesys group "Support"/)
  t.notOk(fake.calls.includes('groups.patch'), 'no group was written')
})

/** A worker over one shared OAuth client whose API clients each hold at most one slot. */
function oneSlotPerClientWorker (deps: Pick<Parameters<typeof createProvisioningWorker>[0], 'requests' | 'registry' | 'clock' | 'onTerminal'> & { tenant: ReturnType<Parameters<typeof createProvisioningWorker>[0]['genesysFor']> }) {
  return createProvisioningWorker({
    requests: deps.requests, registry: deps.registry, reservations: createMemoryEmailReservations(deps.clock), externalIds: createMemoryEmailReservations(deps.clock),
    clients: { get: (id) => ({ id, name: id, keySha256: '0'.repeat(64), scopes: ['provisioning:write'], divisions: ['Ops'], externalIdPrefix: '' }) },
    genesysFor: () => deps.tenant,
    slotsPerClient: () => 1,
    clock: deps.clock, logger: pino({ enabled: false }), policy: { denied: DENIED }, emailReservationSeconds: 60,
    ...(deps.onTerminal ? { onTerminal: deps.onTerminal } : {}),
  })
}

/** An accepted hire (or termination) of one client, its HR id its email. */
function acceptedRecord (r: { id: string, clientId: string, email: string, at: string, kind?: 'terminate' }): ProvisioningRecord {
  return {
    id: r.id, clientId: r.clientId, hrId: r.email, email: r.email, status: 'accepted', ...(r.kind ? { kind: r.kind } : {}),
    hire: { hrId: r.email, email: r.email, displayName: 'P', division: 'Ops', roles: ['Agent'] },
    createdAt: r.at, updatedAt: r.at, transitions: [{ status: 'accepted', at: r.at }], steps: [], attempts: 0, retries: 0,
  }
}

t.test('one API client\'s jobs hold at most their share of the slots; another API client\'s job, and the first one\'s termination, still run', async (t) => {
  const clock = { now: Date.now }
  const registry = createMemoryWorkerRegistry()
  const requests = createMemoryRequestStore({ registry })
  let release: () => void = () => {}
  const blocked = new Promise<void>((resolve) => { release = resolve })
  // One OAuth client for both API clients: only the per-client share can keep them apart.
  const shared = fakeGenesys({ users: { create: async (input: ScimUserInput) => { shared.calls.push('create'); if (input.userName.startsWith('a1')) await blocked; return { resource: { id: `u-${input.userName}`, userName: input.userName }, version: '1' } } } })
  const tenant = { genesys: shared.genesys, groups: { resolve: async (p: string) => ({ groupName: p }), stillFeeds: async () => true }, cache: createReferenceCache(clock, 0) }
  const handle = oneSlotPerClientWorker({ requests, registry, clock, tenant })
  const at = new Date().toISOString()
  const record = (id: string, clientId: string, email: string, kind?: 'terminate') => acceptedRecord({ id, clientId, email, at, ...(kind ? { kind } : {}) })
  const ids = ['prq_01TEST0000000000000000011A', 'prq_01TEST0000000000000000012A', 'prq_01TEST0000000000000000013B', 'prq_01TEST0000000000000000014A']
  await requests.insert(record(ids[0] ?? '', 'a', 'a1@example.com'))
  await requests.insert(record(ids[1] ?? '', 'a', 'a2@example.com'))
  await requests.insert(record(ids[2] ?? '', 'b', 'b1@example.com'))
  await requests.insert(record(ids[3] ?? '', 'a', 'a3@example.com', 'terminate'))
  const run = (id: string) => handle({ id, data: { requestId: id }, attempt: 1, maxAttempts: 5 })
  const first = run(ids[0] ?? '')
  while (!shared.calls.includes('create')) await new Promise((resolve) => setImmediate(resolve))
  const second = await run(ids[1] ?? '').catch((e: unknown) => e)
  t.ok(second instanceof JobDeferred, 'A\'s second hire is deferred while A\'s first holds A\'s share')
  t.equal((await requests.get(ids[1] ?? ''))?.attempts, 0, 'untouched, no attempt spent')
  await run(ids[2] ?? '')
  t.equal((await requests.get(ids[2] ?? ''))?.status, 'completed', 'B\'s hire ran meanwhile, on the same OAuth client')
  const leaver = await run(ids[3] ?? '').catch((e: unknown) => e)
  t.notOk(leaver instanceof JobDeferred, 'A\'s termination is not held back by A\'s share')
  release()
  await first
  await run(ids[1] ?? '')
  t.equal((await requests.get(ids[1] ?? ''))?.status, 'completed', 'A\'s slot is free again once its job ended')
})

t.test('slot shares: a client\'s upstream.share of the slots, else a quarter while several clients provision; a lone client is not capped', async (t) => {
  const w = ['provisioning:write' as const]
  const limits = clientSlotLimits([
    { id: 'bulk', scopes: w, upstream: { share: 0.5 } },
    { id: 'portal', scopes: w },
    { id: 'tiny', scopes: w, upstream: { share: 0.01 } },
    { id: 'reader', scopes: ['provisioning:read'] },
  ], 16)
  t.equal(limits('bulk'), 8, 'its configured share')
  t.equal(limits('portal'), 4, 'the default quarter')
  t.equal(limits('tiny'), 1, 'never less than one slot')
  t.equal(limits('jwt-caller'), 4, 'a caller not in the file: the default')
  t.equal(clientSlotLimits([{ id: 'hris', scopes: w }, { id: 'reader', scopes: ['provisioning:read'] }], 16)('hris'), undefined, 'the only client that provisions is not capped')
  t.equal(clientSlotLimits([{ id: 'hris', scopes: w, upstream: { share: 0.25 } }], 16)('hris'), 4, 'unless its share says so')
  const withImporter = clientSlotLimits([{ id: 'hris', scopes: w }, { id: 'migrating', scopes: ['admin'] }], 16)
  t.same([withImporter('hris'), withImporter('migrating')], [4, 4], 'an admin client makes requests too (imports): both are held to a quarter')
})

t.test('under contention two API clients are served alternately: A\'s backlog, queued first, never holds both slots while B waits', async (t) => {
  const timers = createFakeTimers()
  const clock = { now: () => timers.now() }
  const registry = createMemoryWorkerRegistry()
  const requests = createMemoryRequestStore({ registry })
  const started: string[] = []
  let running = { a: 0, b: 0 }
  let most = { a: 0, b: 0 }
  let done = 0
  // Each create takes a second of (virtual) time: the two slots stay busy.
  const fake = fakeGenesys({
    users: {
      create: async (input: ScimUserInput) => {
        const who = input.userName.startsWith('a') ? 'a' : 'b'
        started.push(who)
        running = { ...running, [who]: running[who] + 1 }
        most = { a: Math.max(most.a, running.a), b: Math.max(most.b, running.b) }
        await new Promise((resolve) => timers.setTimeout(() => resolve(undefined), 1000))
        running = { ...running, [who]: running[who] - 1 }
        return { resource: { id: `u-${input.userName}`, userName: input.userName }, version: '1' }
      },
    },
  })
  const tenant = { genesys: fake.genesys, groups: { resolve: async (p: string) => ({ groupName: p }), stillFeeds: async () => true }, cache: createReferenceCache(clock, 0) }
  const queue = createMemoryQueue<{ requestId: string }>({ maxAttempts: 5, timers })
  t.teardown(() => queue.close())
  const at = new Date(timers.now()).toISOString()
  const ids: string[] = []
  for (const [clientId, n] of [['a', 6], ['b', 3]] as const) {
    for (let i = 0; i < n; i++) {
      const email = `${clientId}${i}@example.com`
      const id = `prq_01TEST00000000000000000${clientId.toUpperCase()}${i}`
      ids.push(id)
      await requests.insert(acceptedRecord({ id, clientId, email, at }))
    }
  }
  const handle = oneSlotPerClientWorker({ requests, registry, clock, tenant, onTerminal: () => { done++ } })
  // A's six hires are queued before B's three.
  for (const id of ids) await queue.add(id, { requestId: id })
  queue.process(handle, { concurrency: 2 })
  for (let turns = 0; done < ids.length && turns < 10_000; turns++) {
    if (!(await timers.next())) await new Promise((resolve) => setImmediate(resolve))
  }
  t.equal(done, 9, 'every hire finished')
  t.same(most, { a: 1, b: 1 }, 'neither client ever held both slots')
  t.same(started.slice(0, 6).filter((w) => w === 'b').length, 3, 'B\'s three hires ran among the first six, not after A\'s backlog')
  for (let i = 0; i < 6; i += 2) t.same([...started.slice(i, i + 2)].sort(), ['a', 'b'], `slot round ${i / 2 + 1}: one of each`)
})
