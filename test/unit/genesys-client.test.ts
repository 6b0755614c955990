import t from 'tap'
import { isUniquenessConflict, isVersionConflict } from '../../src/genesys/errors.js'
import { createMemoryRateBudget } from '../../src/genesys/budget/memory.js'
import { captureLogs } from '../helpers/app.js'
import { rejection, simAndClient } from '../helpers/genesys.js'

t.test('every operation the flows use, against the simulator over HTTP', async (t) => {
  const { sim, genesys, close } = await simAndClient()
  t.teardown(close)
  const c = genesys.client

  const home = await c.divisions.home()
  t.equal(home.name, 'Home')
  const alpha = await c.divisions.byName('BPO Alpha')
  t.ok(alpha?.id)
  t.equal(await c.divisions.byName('Nowhere'), undefined)

  const agent = await c.roles.byName('Agent')
  t.equal(agent?.permissionPolicies, undefined, 'a listed role may come without its permission policies')
  const agentById = await c.roles.byId(agent?.id ?? '')
  t.equal(agentById.name, 'Agent')
  t.ok(agentById.permissionPolicies?.length, 'the role read by id has them')
  t.equal(await c.roles.byName('No Such Role'), undefined)

  t.ok(await c.routing.skillByName('Billing'))
  t.equal(await c.routing.skillByName('Bill'), undefined, 'a prefix is not a name')
  t.ok(await c.routing.languageByName('Spanish'))

  const created = await c.users.create({
    userName: 'grace.hopper@example.com',
    displayName: 'Grace Hopper',
    externalId: 'HR-42',
    emails: [{ value: 'grace.hopper@example.com', type: 'work', primary: true }],
    enterprise: { division: 'BPO Alpha', employeeNumber: 'E-42' },
    genesys: { routingSkills: [{ name: 'Billing', proficiency: 3 }] },
  })
  t.ok(created.resource.id)
  t.ok(created.version, 'the ETag version comes back')
  t.equal(created.resource['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User']?.division, 'BPO Alpha')
  t.same(created.resource['urn:ietf:params:scim:schemas:extension:genesys:purecloud:2.0:User']?.externalIds, [{ authority: 'x-pc:scimv2:v1', value: 'HR-42' }])
  const uid = created.resource.id

  t.equal((await c.users.findByUserName('Grace.Hopper@example.com'))?.id, uid, 'userName lookup ignores case')
  t.same((await c.users.findByExternalId('HR-42')).map((u) => u.id), [uid])
  t.same(await c.users.findByExternalId('HR-nobody'), [])
  const got = await c.users.get(uid)
  t.equal(got.version, created.version)

  const dup = await rejection(c.users.create({ userName: 'grace.hopper@example.com', displayName: 'Again' }))
  t.ok(isUniquenessConflict(dup), '409 uniqueness is recognised')
  t.equal(dup.upstreamStatus, 409)
  t.ok(dup.correlationId, 'the ININ-Correlation-Id is kept')

  const patched = await c.users.patch(uid, [{ op: 'replace', path: 'title', value: 'Rear Admiral' }], got.version)
  t.equal(patched.resource.title, 'Rear Admiral')
  t.not(patched.version, got.version, 'each write bumps the version')
  const stale = await rejection(c.users.patch(uid, [{ op: 'replace', path: 'title', value: 'x' }], got.version))
  t.ok(isVersionConflict(stale), 'a stale If-Match is a version conflict')

  await c.grants.bulkAdd(uid, [{ roleId: agent?.id ?? '', divisionId: alpha?.id ?? '' }])
  const subject = await c.grants.ofSubject(uid)
  t.ok(subject.grants?.some((g) => g.role.id === agent?.id && g.division.id === alpha?.id))

  const support = await c.groups.findByDisplayName('Support')
  t.ok(support)
  const before = await c.groups.get(support?.id ?? '')
  const joined = await c.groups.patchMembers(support?.id ?? '', { add: [uid] }, before.version)
  t.ok(joined.resource.members?.some((m) => m.value === uid))
  const conflict = await rejection(c.groups.patchMembers(support?.id ?? '', { remove: [uid] }, before.version))
  t.ok(isVersionConflict(conflict), 'group PATCH honours If-Match')
  const left = await c.groups.patchMembers(support?.id ?? '', { remove: [uid] }, joined.version)
  t.notOk(left.resource.members?.some((m) => m.value === uid))

  const group = await c.platformGroups.create({ name: 'Care Tier 1' })
  t.equal((await c.platformGroups.get(group.id)).name, 'Care Tier 1')
  t.equal((await c.groups.findByDisplayName('Care Tier 1'))?.id, group.id, 'a platform group is visible through SCIM')

  const queue = await c.queues.byName('Sales')
  t.ok(queue)
  const updated = await c.queues.updateMemberGroups(queue?.id ?? '', (groups) => [...groups, { id: group.id, type: 'GROUP' }])
  t.ok(updated.memberGroups?.some((g) => g.id === group.id))
  t.same((await c.queues.get(queue?.id ?? '')).memberGroups?.map((g) => g.id), updated.memberGroups?.map((g) => g.id))

  await c.users.remove(uid)
  t.equal(await c.users.findByUserName('grace.hopper@example.com'), undefined, 'deleted users are gone from lookups')
  const missing = await rejection(c.users.get(uid))
  t.equal(missing.upstreamStatus, 404)
  t.equal(missing.retryable, false)
  const noRole = await rejection(c.roles.byId('00000000-0000-4000-8000-000000000000'))
  t.equal(noRole.upstreamStatus, 404)
  t.equal(noRole.genesysCode, 'not.found', 'platform 404s carry the ErrorBody code')

  t.equal(sim.counters().tokenRequests, 1, 'one token for all of it')
})

t.test('401: one refresh, one retry, never a loop', async (t) => {
  const { sim, genesys, events, close } = await simAndClient()
  t.teardown(close)
  await genesys.client.divisions.home()
  sim.revokeTokens()
  await genesys.client.divisions.home()
  t.equal(sim.counters().tokenRequests, 2, 'the revoked token was replaced once')
  t.equal(events.filter((e) => e.startsWith('unauthorized-retry')).length, 1)

  // A token that is refused even when fresh: fail, do not loop.
  sim.setFaults({ tokenOutage: 0 })
  const original = sim.revokeTokens.bind(sim)
  const logBefore = sim.requests().length
  const revoking = setInterval(original, 1)
  t.teardown(() => clearInterval(revoking))
  const calls: Array<Promise<unknown>> = []
  for (let i = 0; i < 3; i++) calls.push(genesys.client.divisions.home().catch((e: unknown) => e))
  await Promise.all(calls)
  clearInterval(revoking)
  const apiCalls = sim.requests().slice(logBefore).filter((r) => r.path.startsWith('/api/')).length
  t.ok(apiCalls <= 6, `at most two API calls per operation (saw ${apiCalls})`)
})

t.test('invalid_client is a configuration error naming the variables, never the secret', async (t) => {
  const { genesys, close } = await simAndClient({ credentials: { clientId: 'nope', clientSecret: 'secret-canary-77' } })
  t.teardown(close)
  const err = await rejection(genesys.client.divisions.home())
  t.equal(err.code, 'PROV_ERR_CONFIGURATION')
  t.equal(err.retryable, false)
  t.match(err.message, /GENESYS_CLIENT_ID and GENESYS_CLIENT_SECRET/)
  t.notMatch(err.message, /secret-canary-77/)
  t.notMatch(JSON.stringify(err), /secret-canary-77/)
})

t.test('token endpoint outage and 5xx are retryable', async (t) => {
  const { sim, genesys, close } = await simAndClient()
  t.teardown(close)
  sim.setFaults({ tokenOutage: 503 })
  const err = await rejection(genesys.client.divisions.home())
  t.equal(err.upstreamStatus, 503)
  t.equal(err.retryable, true)
  sim.setFaults({ tokenOutage: 0, rate5xx: 1, match: 'divisions' })
  const e5 = await rejection(genesys.client.divisions.home())
  t.equal(e5.upstreamStatus, 503)
  t.equal(e5.retryable, true)
})

t.test('429 pauses the shared budget for at least Retry-After', async (t) => {
  const budget = createMemoryRateBudget({ perMinute: 100_000 })
  const { sim, genesys, close } = await simAndClient({ connection: { budget } })
  t.teardown(close)
  await genesys.client.divisions.home()
  sim.setFaults({ rate429: 1, retryAfterSeconds: 2, match: 'divisions/home' })
  const err = await rejection(genesys.client.divisions.home())
  t.equal(err.upstreamStatus, 429)
  t.equal(err.genesysCode, 'too.many.requests.retry.after')
  t.ok((err.retryAfterMs ?? 0) >= 2000, 'Retry-After carried as a floor')
  sim.setFaults({ rate429: 0 })
  const started = Date.now()
  await genesys.client.roles.byName('Agent')
  t.ok(Date.now() - started >= 1900, `the next call waited for the pause (${Date.now() - started} ms)`)
})

t.test('slow headers: a timeout error after the configured time, not 300 s', async (t) => {
  const { sim, genesys, close } = await simAndClient({ connection: { timeouts: { connectMs: 1000, headersMs: 300, bodyMs: 300 } } })
  t.teardown(close)
  await genesys.tokens.getToken()
  // The answer would come after 2 s, and successfully: a timeout error can only be headersTimeout cutting it off.
  sim.setFaults({ slowHeadersMs: 2000, match: 'divisions' })
  const err = await rejection(genesys.client.divisions.home())
  t.equal(err.failure, 'timeout', 'cut off by headersTimeout')
  t.equal(err.code, 'PROV_ERR_UPSTREAM_TIMEOUT')
  t.equal(err.retryable, true)
})

t.test('lost response on create: a network error that says the write may have happened', async (t) => {
  const { sim, genesys, close } = await simAndClient()
  t.teardown(close)
  sim.setFaults({ dropAfterWrite: 1, match: 'POST .*/users' })
  const err = await rejection(genesys.client.users.create({ userName: 'lost@example.com', displayName: 'Lost', externalId: 'HR-LOST' }))
  t.equal(err.failure, 'network')
  t.equal(err.retryable, true)
  sim.setFaults({ dropAfterWrite: 0 })
  t.equal((await genesys.client.users.get((await genesys.client.users.findByExternalId('HR-LOST'))[0]?.id ?? '')).resource.userName, 'lost@example.com')
})

t.test('a 403 from a client without the permission is a non-retryable upstream error', async (t) => {
  const limited = (await import('../../src/simulator/index.js')).defaultSeed().clients[1]
  const { genesys, close } = await simAndClient({ credentials: { clientId: limited?.clientId ?? '', clientSecret: limited?.clientSecret ?? '' } })
  t.teardown(close)
  const err = await rejection(genesys.client.users.create({ userName: 'x@example.com', displayName: 'X' }))
  t.equal(err.upstreamStatus, 403)
  t.equal(err.retryable, false)
})

t.test('tokens and secrets never reach the logs or error messages', async (t) => {
  const logs = captureLogs()
  const { sim, genesys, close } = await simAndClient({ logger: logs.logger })
  t.teardown(close)
  await genesys.client.divisions.home()
  sim.revokeTokens()
  await genesys.client.roles.byName('Agent')
  await genesys.client.users.get('no-such-user').catch(() => {})
  const token = await genesys.tokens.getToken()
  t.ok(logs.lines.some((l) => l.includes('genesys call')), 'calls are logged at debug')
  t.notOk(logs.text().includes(token), 'no token in logs')
  t.notOk(logs.text().includes(sim.credentials.clientSecret), 'no client secret in logs')
  t.ok(logs.parsed().every((l) => l.correlationId === undefined || typeof l.correlationId === 'string'))
})
