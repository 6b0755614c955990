import t from 'tap'
import { defaultSeed } from '../../src/simulator/index.js'
import { ENTERPRISE, fetchRes, newUser, SCIM, SEED, startSim } from '../helpers/simulator.js'

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/

t.test('token endpoint: client credentials via Basic', async (t) => {
  const h = await startSim(t)
  const url = `${h.sim.url}/oauth/token`
  const form = { 'content-type': 'application/x-www-form-urlencoded' }

  t.test('200 with an opaque bearer token and the client lifetime', async (t) => {
    const res = await fetchRes<Record<string, unknown>>(url, { method: 'POST', headers: { ...form, authorization: h.basic() }, body: 'grant_type=client_credentials' })
    t.equal(res.status, 200)
    t.match(res.headers.get('inin-correlation-id'), UUID)
    t.same(Object.keys(res.body).sort(), ['access_token', 'expires_in', 'token_type'])
    t.equal(res.body.token_type, 'bearer')
    t.equal(res.body.expires_in, 86400)
    t.type(res.body.access_token, 'string')
    const limited = await fetchRes<Record<string, unknown>>(url, { method: 'POST', headers: { ...form, authorization: h.basic(SEED.limited.clientId, SEED.limited.clientSecret) }, body: 'grant_type=client_credentials' })
    t.equal(limited.body.expires_in, 3600, 'a seed client may set its own lifetime')
    t.not(limited.body.access_token, res.body.access_token)
  })

  t.test('refused without Basic auth', async (t) => {
    const res = await fetchRes<Record<string, unknown>>(url, { method: 'POST', headers: form, body: 'grant_type=client_credentials' })
    t.equal(res.status, 400)
    t.equal(res.body.error, 'invalid_client')
    t.match(res.headers.get('inin-correlation-id'), UUID)
    const inBody = await fetchRes<Record<string, unknown>>(url, {
      method: 'POST', headers: form, body: `grant_type=client_credentials&client_id=${h.sim.credentials.clientId}&client_secret=${h.sim.credentials.clientSecret}`,
    })
    t.equal(inBody.status, 400, 'credentials in the form are not accepted')
  })

  t.test('unknown client and wrong secret: 400 invalid_client bodies as documented', async (t) => {
    const unknown = await fetchRes(url, { method: 'POST', headers: { ...form, authorization: h.basic('nobody', 'x') }, body: 'grant_type=client_credentials' })
    t.equal(unknown.status, 400)
    t.same(unknown.body, { error: 'invalid_client', description: 'client not found' })
    const wrong = await fetchRes(url, { method: 'POST', headers: { ...form, authorization: h.basic(h.sim.credentials.clientId, 'wrong') }, body: 'grant_type=client_credentials' })
    t.equal(wrong.status, 400)
    t.same(wrong.body, { error: 'invalid_client', description: 'authentication failed' })
  })

  t.test('grant types', async (t) => {
    const pw = await fetchRes<Record<string, unknown>>(url, { method: 'POST', headers: { ...form, authorization: h.basic() }, body: 'grant_type=password' })
    t.equal(pw.status, 400)
    t.equal(pw.body.error, 'unsupported_grant_type')
    const none = await fetchRes<Record<string, unknown>>(url, { method: 'POST', headers: { ...form, authorization: h.basic() }, body: '' })
    t.equal(none.status, 400)
    t.equal(none.body.error, 'invalid_request')
  })

  t.test('the log records the auth kind and client, never a secret or token', async (t) => {
    const token = await h.token()
    await h.call('GET', `${SCIM}/users`, { token })
    const text = JSON.stringify(h.sim.requests())
    t.notMatch(text, h.sim.credentials.clientSecret)
    t.notMatch(text, token)
    t.notMatch(text, h.basic().slice(6))
    const last = h.sim.requests().at(-1)
    t.match(last, { method: 'GET', path: `${SCIM}/users`, status: 200, auth: 'bearer', clientId: h.sim.credentials.clientId })
    t.ok(h.sim.requests().some((r) => r.path === '/oauth/token' && r.auth === 'basic'))
    t.ok(h.sim.requests().some((r) => r.path === '/oauth/token' && r.auth === 'none'))
    t.ok(h.sim.counters().tokenRequests >= 7)
  })
})

t.test('API authentication: 401 ErrorBody codes', async (t) => {
  let now = Date.parse('2030-01-01T00:00:00Z')
  const h = await startSim(t, { clock: () => now, tokenLifetimeSeconds: 600 })

  t.test('missing token: authentication.required with the full ErrorBody shape', async (t) => {
    const res = await h.call<Record<string, unknown>>('GET', `${SCIM}/users`, { token: null })
    t.equal(res.status, 401)
    t.same(Object.keys(res.body).sort(), ['code', 'contextId', 'details', 'errors', 'message', 'messageParams', 'messageWithParams', 'status'])
    t.match(res.body, { code: 'authentication.required', status: 401, details: [], errors: [], messageParams: {} })
    t.equal(res.body.contextId, res.headers.get('inin-correlation-id'))
    const basic = await h.call<Record<string, unknown>>('GET', `${SCIM}/users`, { token: null, headers: { authorization: h.basic() } })
    t.equal(basic.body.code, 'authentication.required', 'Basic is not accepted on the API')
  })

  t.test('unknown token: bad.credentials', async (t) => {
    const res = await h.call<Record<string, unknown>>('GET', `${SCIM}/users`, { token: 'not-a-token' })
    t.equal(res.status, 401)
    t.equal(res.body.code, 'bad.credentials')
  })

  t.test('revoked tokens: bad.credentials; a new token works', async (t) => {
    const token = await h.token()
    t.equal((await h.call('GET', `${SCIM}/users`, { token })).status, 200)
    h.sim.revokeTokens()
    const res = await h.call<Record<string, unknown>>('GET', `${SCIM}/users`, { token })
    t.equal(res.status, 401)
    t.equal(res.body.code, 'bad.credentials')
    t.equal((await h.call('GET', `${SCIM}/users`, { token: await h.token() })).status, 200)
  })

  t.test('expired tokens (fake clock): bad.credentials', async (t) => {
    const token = await h.token()
    now += 599_000
    t.equal((await h.call('GET', `${SCIM}/users`, { token })).status, 200)
    now += 1_000
    const res = await h.call<Record<string, unknown>>('GET', `${SCIM}/users`, { token })
    t.equal(res.status, 401)
    t.equal(res.body.code, 'bad.credentials')
  })

  t.test('revocation through the admin API', async (t) => {
    const token = await h.token()
    const r = await fetch(`${h.sim.url}/__sim/revoke-tokens`, { method: 'POST' })
    t.equal(r.status, 204)
    t.equal((await h.call('GET', `${SCIM}/users`, { token })).status, 401)
  })
})

t.test('permissions: the limited client gets 403 missing.permissions', async (t) => {
  const h = await startSim(t)
  const token = await h.token(SEED.limited.clientId, SEED.limited.clientSecret)
  t.equal((await h.call('GET', `${SCIM}/users`, { token })).status, 200, 'it may read users')
  const cases: Array<[string, string, string, unknown?]> = [
    ['POST', `${SCIM}/users`, 'directory:user:add', { userName: 'x@example.com', displayName: 'x' }],
    ['PATCH', `${SCIM}/users/${SEED.users.agent}`, 'directory:user:edit', { schemas: [], Operations: [] }],
    ['PUT', `${SCIM}/users/${SEED.users.agent}`, 'directory:user:edit', {}],
    ['DELETE', `${SCIM}/users/${SEED.users.agent}`, 'directory:user:delete'],
    ['GET', `${SCIM}/groups`, 'directory:group:edit'],
    ['POST', `/api/v2/authorization/subjects/${SEED.users.agent}/bulkadd`, 'authorization:grant:add', { grants: [] }],
    ['POST', `/api/v2/authorization/roles/${SEED.roles.agent}?subjectType=PC_USER`, 'authorization:grant:add', { subjectIds: [SEED.users.agent], divisionIds: [SEED.home] }],
    ['POST', '/api/v2/groups', 'directory:group:add', { name: 'x' }],
    ['PUT', `/api/v2/routing/queues/${SEED.queues.sales}`, 'routing:queue:edit', { name: 'Sales' }],
  ]
  for (const [method, path, permission, body] of cases) {
    const res = await h.call<Record<string, unknown>>(method, path, { token, body, contentType: 'application/json' })
    t.equal(res.status, 403, `${method} ${path}`)
    t.match(res.body, { code: 'missing.permissions', status: 403 })
    t.match(res.body.message, permission)
  }
  t.equal(h.sim.state.users.get(SEED.users.agent)?.state, 'active', 'nothing was applied')
})

t.test('every response carries ININ-Correlation-Id, errors included', async (t) => {
  const h = await startSim(t)
  const paths = [`${SCIM}/users`, `${SCIM}/users/nope`, '/api/v2/nothing-here', '/api/v2/authorization/roles/nope']
  const ids = new Set<string>()
  for (const p of paths) {
    const res = await h.call('GET', p)
    const id = res.headers.get('inin-correlation-id') ?? ''
    t.match(id, UUID, p)
    ids.add(id)
  }
  t.equal(ids.size, paths.length, 'one id per response')
  const unknownRoute = await h.call<Record<string, unknown>>('GET', '/api/v2/nothing-here')
  t.equal(unknownRoute.status, 404)
  t.equal(unknownRoute.body.code, 'not.found')
})

t.test('permissions per division: a create or grant in a division the OAuth client lacks answers 403 naming both', async (t) => {
  const seed = defaultSeed()
  seed.clients.push({
    clientId: 'c0ffee00-0000-4000-8000-0000000000d1',
    clientSecret: 'sim-secret-division-scoped',
    name: 'Scoped to BPO Alpha',
    permissions: ['directory:user:view', 'authorization:role:view', 'authorization:division:view', 'routing:queue:view'],
    divisionPermissions: [{ division: 'BPO Alpha', permissions: ['directory:user:add', 'directory:user:edit', 'directory:user:delete', 'authorization:grant:add', 'routing:queue:edit'] }],
  })
  const h = await startSim(t, { seed })
  const token = await h.token('c0ffee00-0000-4000-8000-0000000000d1', 'sim-secret-division-scoped')
  const inAlpha = await h.call<Record<string, unknown>>('POST', `${SCIM}/users`, { token, body: newUser('alpha@example.com', { [ENTERPRISE]: { division: 'BPO Alpha' } }) })
  t.equal(inAlpha.status, 201, 'allowed where the client holds directory:user:add')
  const inBeta = await h.call<Record<string, unknown>>('POST', `${SCIM}/users`, { token, body: newUser('beta@example.com', { [ENTERPRISE]: { division: 'BPO Beta' } }) })
  t.equal(inBeta.status, 403)
  t.match(inBeta.body, { code: 'missing.permissions', message: /\[directory:user:add\] in division BPO Beta/ })
  t.notOk([...h.sim.state.users.values()].some((u) => u.userName === 'beta@example.com'), 'nothing created')
  const inHome = await h.call('POST', `${SCIM}/users`, { token, body: newUser('home@example.com') })
  t.equal(inHome.status, 403, 'no division named means the home division, which it lacks too')

  const userId = inAlpha.body.id as string
  const grant = (divisionId: string) => h.call<Record<string, unknown>>('POST', `/api/v2/authorization/subjects/${userId}/bulkadd`, { token, body: { grants: [{ roleId: SEED.roles.agent, divisionId }] }, contentType: 'application/json' })
  t.equal((await grant(SEED.bpoAlpha)).status, 204)
  const refused = await grant(SEED.bpoBeta)
  t.equal(refused.status, 403)
  t.match(refused.body.message, /\[authorization:grant:add\] in division BPO Beta/)
  t.same(h.sim.state.grants.get(userId)?.map((g) => g.divisionId), [SEED.bpoAlpha], 'the refused grant was not made')
  const single = await h.call('POST', `/api/v2/authorization/subjects/${userId}/divisions/${SEED.bpoBeta}/roles/${SEED.roles.agent}`, { token })
  t.equal(single.status, 403, 'the one-grant route checks the division too')

  const patch = { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'title', value: 'Lead' }] }
  t.equal((await h.call('PATCH', `${SCIM}/users/${userId}`, { token, body: patch })).status, 200, 'an edit in its division')
  const betaUser = await h.call<Record<string, unknown>>('POST', `${SCIM}/users`, { body: newUser('beta.user@example.com', { [ENTERPRISE]: { division: 'BPO Beta' } }) })
  const editBeta = await h.call<Record<string, unknown>>('PATCH', `${SCIM}/users/${String(betaUser.body.id)}`, { token, body: patch })
  t.equal(editBeta.status, 403)
  t.match(editBeta.body.message, /\[directory:user:edit\] in division BPO Beta/)
  const move = { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: `${ENTERPRISE}:division`, value: 'BPO Beta' }] }
  t.equal((await h.call('PATCH', `${SCIM}/users/${userId}`, { token, body: move })).status, 403, 'moving a user into a division it lacks')
  t.equal((await h.call('DELETE', `${SCIM}/users/${String(betaUser.body.id)}`, { token })).status, 403, 'a delete in a division it lacks')
  t.equal(h.sim.state.users.get(String(betaUser.body.id))?.state, 'active', 'not deleted')

  const queueBody = async (id: string) => {
    const { division: _d, ...rest } = (await h.call<Record<string, unknown>>('GET', `/api/v2/routing/queues/${id}`, { token })).body
    return rest
  }
  t.equal((await h.call('PUT', `/api/v2/routing/queues/${SEED.queues.support}`, { token, body: await queueBody(SEED.queues.support), contentType: 'application/json' })).status, 200, 'a queue in its division')
  const betaQueue = await h.call<Record<string, unknown>>('PUT', `/api/v2/routing/queues/${SEED.queues.billing}`, { token, body: await queueBody(SEED.queues.billing), contentType: 'application/json' })
  t.equal(betaQueue.status, 403)
  t.match(betaQueue.body.message, /\[routing:queue:edit\] in division BPO Beta/)
})

t.test('divisionspermitted/paged/me answers from the calling OAuth client\'s per-division permissions, paged', async (t) => {
  const seed = defaultSeed()
  seed.clients.push({
    clientId: 'c0ffee00-0000-4000-8000-0000000000d2',
    clientSecret: 'sim-secret-division-scoped-2',
    name: 'Scoped to BPO Alpha and Beta',
    permissions: ['directory:user:view'],
    divisionPermissions: [
      { division: 'BPO Alpha', permissions: ['directory:user:add', 'authorization:grant:add'] },
      { division: 'BPO Beta', permissions: ['directory:user:add'] },
    ],
  })
  const h = await startSim(t, { seed })
  const token = await h.token('c0ffee00-0000-4000-8000-0000000000d2', 'sim-secret-division-scoped-2')
  const path = '/api/v2/authorization/divisionspermitted/paged/me'
  const names = (body: Record<string, unknown>) => (body.entities as Array<{ name: string }>).map((d) => d.name)
  const add = await h.call<Record<string, unknown>>('GET', `${path}?permission=directory:user:add`, { token })
  t.equal(add.status, 200)
  t.same(names(add.body), ['BPO Alpha', 'BPO Beta'])
  t.match(add.body, { allDivsPermitted: false, total: 2, pageNumber: 1, pageCount: 1 })
  const grant = await h.call<Record<string, unknown>>('GET', `${path}?permission=authorization:grant:add`, { token })
  t.same(names(grant.body), ['BPO Alpha'], 'only where the client holds the permission')
  const paged = await h.call<Record<string, unknown>>('GET', `${path}?permission=directory:user:add&pageSize=1&pageNumber=2`, { token })
  t.same(names(paged.body), ['BPO Beta'])
  t.match(paged.body, { pageSize: 1, pageNumber: 2, total: 2, pageCount: 2 })
  const orgWide = await h.call<Record<string, unknown>>('GET', `${path}?permission=directory:user:add`)
  t.match(orgWide.body, { allDivsPermitted: true }, 'the org-wide default client holds it everywhere')
  t.equal((await h.call('GET', `${path}?permission=nonsense`, { token })).status, 400)
  t.equal((await h.call('GET', `${path}?permission=directory:user:add`, { token: null })).status, 401)
})
