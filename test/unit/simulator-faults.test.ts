import t from 'tap'
import { fetchRes, filterQuery, newUser, SCIM, startSim } from '../helpers/simulator.js'

type Obj = Record<string, unknown>
interface ListBody { totalResults: number, Resources: Obj[] }

t.test('rate limit: 60/min per token, the 61st gets 429 + Retry-After, then recovers', async (t) => {
  let now = Date.parse('2030-01-01T00:00:00Z')
  const h = await startSim(t, { rateLimitPerMinute: 60, clock: () => now })
  const token = await h.token()
  for (let i = 0; i < 30; i++) t.equal((await h.call('GET', '/api/v2/authorization/divisions', { token })).status, 200)
  now += 10_000
  for (let i = 0; i < 30; i++) t.equal((await h.call('GET', '/api/v2/authorization/divisions', { token })).status, 200)
  const limited = await h.call<Obj>('GET', '/api/v2/authorization/divisions', { token })
  t.equal(limited.status, 429)
  const retryAfter = Number(limited.headers.get('retry-after'))
  t.equal(retryAfter, 50, 'seconds until the oldest request leaves the 60 s window')
  t.match(limited.body, {
    message: 'Rate limit exceeded the maximum. Retry the request in [50] seconds',
    code: 'too.many.requests.retry.after',
    status: 429,
    details: [],
    errors: [],
  })
  t.type(limited.body.contextId, 'string')
  t.equal((await h.call('GET', '/api/v2/authorization/divisions', { token: await h.token() })).status, 200, 'the budget is per token')
  now += (retryAfter - 1) * 1000
  t.equal((await h.call('GET', '/api/v2/authorization/divisions', { token })).status, 429, 'still limited a second early')
  now += 1000
  t.equal((await h.call('GET', '/api/v2/authorization/divisions', { token })).status, 200, 'succeeds once Retry-After has passed')
  t.equal(h.sim.counters().rateLimited, 2)
  t.equal((await h.call('GET', '/api/v2/authorization/divisions', { token: null })).status, 401, 'unauthenticated calls are not counted against anyone')
})

t.test('dropAfterWrite: the create is applied, the client sees a socket error', async (t) => {
  const h = await startSim(t, { faults: { dropAfterWrite: 1, match: '^POST /api/v2/scim/v2/users$' } })
  const token = await h.token()
  await t.rejects(fetch(`${h.sim.url}${SCIM}/users`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/scim+json' },
    body: JSON.stringify(newUser('lost@example.com')),
  }), 'no response')
  const found = await h.call<ListBody>('GET', `${SCIM}/users?${filterQuery('userName eq "lost@example.com"')}`, { token })
  t.equal(found.status, 200, 'reads are not affected (match)')
  t.equal(found.body.totalResults, 1, 'the user exists')
  t.ok([...h.sim.state.users.values()].some((u) => u.userName === 'lost@example.com'))
  t.match(h.sim.requests().find((r) => r.method === 'POST' && r.path === `${SCIM}/users`), { status: 201, fault: 'drop' })
  const retry = await h.call<Obj>('POST', `${SCIM}/users`, { token, body: newUser('other@example.com'), headers: {} }).catch((err: unknown) => err)
  t.type(retry, Error, 'every matching write is dropped at fraction 1')
  h.sim.setFaults({ dropAfterWrite: 0 })
  const dup = await h.call<Obj>('POST', `${SCIM}/users`, { token, body: newUser('lost@example.com') })
  t.equal(dup.status, 409, 'a retried create meets its own earlier write')
})

t.test('consistencyDelayMs: a new user is hidden from filters, not from GET by id', async (t) => {
  let now = Date.parse('2030-01-01T00:00:00Z')
  const h = await startSim(t, { clock: () => now, faults: { consistencyDelayMs: 5000 } })
  const created = await h.call<Obj>('POST', `${SCIM}/users`, { body: newUser('slow@example.com', { externalId: 'HR-77' }) })
  t.equal(created.status, 201)
  const id = created.body.id as string
  const byFilter = async () => (await h.call<ListBody>('GET', `${SCIM}/users?${filterQuery('externalId eq "HR-77"')}`)).body.totalResults
  t.equal(await byFilter(), 0, 'invisible to filter')
  t.equal((await h.call<ListBody>('GET', `${SCIM}/users`)).body.totalResults, 2, 'invisible to the plain list')
  t.equal((await h.call('GET', `${SCIM}/users/${id}`)).status, 200, 'visible by id')
  t.equal((await h.call('POST', `${SCIM}/users`, { body: newUser('slow@example.com') })).status, 409, 'uniqueness is immediate')
  now += 4999
  t.equal(await byFilter(), 0)
  now += 1
  t.equal(await byFilter(), 1, 'visible once the delay has passed')
})

t.test('latency, jitter and slow headers delay responses (token and API)', async (t) => {
  const h = await startSim(t)
  const timed = async (fn: () => Promise<unknown>) => {
    const start = performance.now()
    await fn()
    return performance.now() - start
  }
  const token = await h.token()
  h.sim.setFaults({ latencyMs: 120 })
  t.ok(await timed(() => h.call('GET', '/api/v2/routing/skills', { token })) >= 110, 'latency on the API')
  t.ok(await timed(() => h.token()) >= 110, 'latency on the token endpoint')
  h.sim.setFaults({ latencyMs: 0, slowHeadersMs: 150 })
  t.ok(await timed(() => h.call('GET', '/api/v2/routing/skills', { token })) >= 140, 'slow headers')
  h.sim.setFaults({ slowHeadersMs: 0, latencyMs: 50, jitterMs: 50 })
  const took = await timed(() => h.call('GET', '/api/v2/routing/skills', { token }))
  t.ok(took < 1000, 'jitter stays within latency ± jitter')
  // A delay there would be 20 s; half of it is room enough for a busy machine.
  h.sim.setFaults({ latencyMs: 20_000, jitterMs: 0 })
  t.ok(await timed(() => fetch(`${h.sim.url}/__sim/counters`)) < 10_000, '/__sim is never delayed')
})

t.test('tokenOutage: the login host answers the configured status', async (t) => {
  const h = await startSim(t, { faults: { tokenOutage: 503 } })
  const form = { 'content-type': 'application/x-www-form-urlencoded', authorization: h.basic() }
  const down = await fetchRes<Obj>(`${h.sim.url}/oauth/token`, { method: 'POST', headers: form, body: 'grant_type=client_credentials' })
  t.equal(down.status, 503)
  t.ok(down.headers.get('inin-correlation-id'))
  h.sim.setFaults({ tokenOutage: 429, retryAfterSeconds: 7 })
  const limited = await fetchRes<Obj>(`${h.sim.url}/oauth/token`, { method: 'POST', headers: form, body: 'grant_type=client_credentials' })
  t.equal(limited.status, 429)
  t.equal(limited.headers.get('retry-after'), '7')
  t.match(h.sim.requests().at(-1), { path: '/oauth/token', status: 429, fault: 'tokenOutage', auth: 'basic' })
  h.sim.setFaults({ tokenOutage: 0 })
  t.type(await h.token(), 'string')
})

t.test('rate429 and rate5xx, limited by match', async (t) => {
  const h = await startSim(t, { faults: { rate429: 1, retryAfterSeconds: 3, match: '^GET /api/v2/routing/' } })
  const token = await h.token()
  const limited = await h.call<Obj>('GET', '/api/v2/routing/queues', { token })
  t.equal(limited.status, 429)
  t.equal(limited.headers.get('retry-after'), '3')
  t.match(limited.body, { code: 'too.many.requests.retry.after', message: 'Rate limit exceeded the maximum. Retry the request in [3] seconds' })
  t.equal((await h.call('GET', '/api/v2/authorization/divisions', { token })).status, 200, 'unmatched requests are untouched')
  h.sim.setFaults({ rate429: 0, rate5xx: 1 })
  const down = await h.call<Obj>('GET', '/api/v2/routing/skills', { token })
  t.equal(down.status, 503)
  t.match(down.body, { code: 'service.unavailable', status: 503 })
  h.sim.setFaults({ rate5xx: 0.5, match: null })
  let seq = 0
  const h2 = await startSim(t, { random: () => (seq++ % 2 === 0 ? 0.1 : 0.9), faults: { rate5xx: 0.5 } })
  const tok2 = await h2.token()
  const statuses = []
  for (let i = 0; i < 4; i++) statuses.push((await h2.call('GET', '/api/v2/routing/skills', { token: tok2 })).status)
  t.same(statuses, [503, 200, 503, 200], 'fractions follow the injected random source')
  t.same(h2.sim.counters().byRoute['GET /api/v2/routing/skills'], 4)
})

t.test('admin API: /__sim state, requests, counters, faults, reset-log', async (t) => {
  const h = await startSim(t, { faults: { rate5xx: 1 } })
  const sim = h.sim.url
  const state = await fetchRes<Obj>(`${sim}/__sim/state`, {})
  t.equal(state.status, 200, 'faults never apply to /__sim')
  t.same(Object.keys(state.body).sort(), ['clients', 'divisions', 'grants', 'groups', 'languages', 'queues', 'roles', 'skillGroups', 'skills', 'teams', 'users'])
  t.notMatch(state.text, h.sim.credentials.clientSecret, 'no client secrets')
  t.equal((state.body.users as Obj[]).length, 4)

  const bad = await fetchRes<Obj>(`${sim}/__sim/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rate429: 2, bogus: true }) })
  t.equal(bad.status, 400)
  t.match(bad.body.message, /rate429/)
  const badRegex = await fetchRes<Obj>(`${sim}/__sim/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ match: '(' }) })
  t.equal(badRegex.status, 400)
  const ok = await fetchRes<Obj>(`${sim}/__sim/faults`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ rate5xx: 0, latencyMs: 1 }) })
  t.equal(ok.status, 200)
  t.match(ok.body, { rate5xx: 0, latencyMs: 1, rate429: 0, match: null })

  const token = await h.token()
  await h.call('POST', `${SCIM}/users`, { token, body: newUser('logged@example.com') })
  await h.call('GET', `${SCIM}/users/${'7e000000-0000-4000-8000-000000000002'}`, { token })
  const requests = await fetchRes<Obj[]>(`${sim}/__sim/requests`, {})
  t.same(requests.body.map((r) => `${String(r.method)} ${String(r.status)}`), ['POST 200', 'POST 201', 'GET 200'])
  t.ok(requests.body.every((r) => typeof r.correlationId === 'string' && typeof r.durationMs === 'number' && typeof r.at === 'string'))
  const counters = await fetchRes<Obj>(`${sim}/__sim/counters`, {})
  t.same(counters.body, {
    tokenRequests: 1,
    apiRequests: 2,
    rateLimited: 0,
    byRoute: { 'POST /oauth/token': 1, 'POST /api/v2/scim/v2/users': 1, 'GET /api/v2/scim/v2/users/:id': 1 },
  })
  t.equal((await fetch(`${sim}/__sim/reset-log`, { method: 'POST' })).status, 204)
  t.same(h.sim.requests(), [])
  t.equal(h.sim.counters().apiRequests, 0)
})

t.test('versionConflict: a stale If-Match in each of the three shapes Genesys uses', async (t) => {
  const h = await startSim(t)
  const created = await h.call<Obj>('POST', `${SCIM}/users`, { body: newUser('stale@example.com') })
  const id = created.body.id as string
  const stale = { 'if-match': '"999"' }
  const patch = { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'title', value: 'x' }] }

  const invalidVers = await h.call<Obj>('PATCH', `${SCIM}/users/${id}`, { body: patch, headers: stale })
  t.equal(invalidVers.status, 400)
  t.equal(invalidVers.body.scimType, 'invalidVers', 'default: 400 invalidVers')

  h.sim.setFaults({ versionConflict: 'scim409' })
  const scim409 = await h.call<Obj>('PATCH', `${SCIM}/users/${id}`, { body: patch, headers: stale })
  t.equal(scim409.status, 409)
  t.same(scim409.body, { schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '409', detail: 'Version does not match current version.' }, '409 SCIM error without scimType')

  h.sim.setFaults({ versionConflict: 'errorBody400' })
  const errorBody = await h.call<Obj>('PATCH', `${SCIM}/groups/3a000000-0000-4000-8000-000000000002`, { body: patch, headers: stale })
  t.equal(errorBody.status, 400)
  t.equal(errorBody.body.code, 'bad.request')
  t.match(errorBody.body.message, /does not match the current version/, '400 ErrorBody naming the version')
  t.notOk('scimType' in errorBody.body)
})

t.test('createConflictScimType: the 409 on a taken userName with or without scimType', async (t) => {
  const h = await startSim(t)
  t.equal((await h.call('POST', `${SCIM}/users`, { body: newUser('twice@example.com') })).status, 201)
  const typed = await h.call<Obj>('POST', `${SCIM}/users`, { body: newUser('twice@example.com') })
  t.equal(typed.status, 409)
  t.equal(typed.body.scimType, 'uniqueness')
  h.sim.setFaults({ createConflictScimType: false })
  const bare = await h.call<Obj>('POST', `${SCIM}/users`, { body: newUser('twice@example.com') })
  t.equal(bare.status, 409)
  t.notOk('scimType' in bare.body, 'no scimType')
  t.equal(bare.body.detail, 'User name already in use by non-deleted user.')
})
