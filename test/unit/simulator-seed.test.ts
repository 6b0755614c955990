import t from 'tap'
import { createSimulator, defaultSeed, validateSeed } from '../../src/simulator/index.js'
import { startSim } from '../helpers/simulator.js'

t.test('the bundled seed: names the service and the demo rely on', async (t) => {
  const seed = defaultSeed()
  t.same(seed.divisions.map((d) => d.name), ['Home', 'BPO Alpha', 'BPO Beta'])
  t.same(seed.clients[0]?.permissions, ['*:*:*'])
  t.notOk(seed.clients[1]?.permissions.includes('directory:user:add'))
  for (const name of ['Agent', 'Supervisor', 'Team Lead', 'Master Admin']) t.ok(seed.roles.some((r) => r.name === name), name)
  const admin = seed.roles.find((r) => r.name === 'Master Admin')
  t.ok(admin?.permissionPolicies.some((p) => p.domain === 'authorization' && p.entityName === '*'), 'an admin-grade role')
  t.not(defaultSeed(), seed, 'a fresh copy each call')
})

t.test('seed validation reports every problem', async (t) => {
  const seed = defaultSeed()
  seed.divisions.push({ id: 'x', name: 'home', homeDivision: true })
  seed.users.push({ id: 'u', userName: 'EXISTING.AGENT@example.com', displayName: 'dup', state: 'active', roles: ['Pilot'], division: 'Mars' })
  seed.queues.push({ id: 'q', name: 'Q', memberGroupIds: ['nope'] })
  const err = t.throws(() => validateSeed(seed)) as Error
  for (const part of ['duplicate division name', 'exactly one division', 'unknown role Pilot', 'unknown division Mars', 'duplicate userName', 'unknown group nope']) t.match(err.message, part)
  t.throws(() => validateSeed({ clients: [] }), /invalid simulator seed/)
  await t.rejects(createSimulator({ seed: { ...defaultSeed(), clients: [] } }), /invalid simulator seed/)
  await t.rejects(createSimulator({ faults: { rate429: 3 } }), /invalid faults/)
  await t.rejects(createSimulator({ rateLimitPerMinute: 0 }), /rateLimitPerMinute/)
})

t.test('a custom seed and token lifetime', async (t) => {
  const seed = defaultSeed()
  seed.clients = [{ clientId: 'custom', clientSecret: 's3cret', name: 'Custom', permissions: ['routing:*:view'] }]
  const h = await startSim(t, { seed, tokenLifetimeSeconds: 300 })
  t.same(h.sim.credentials, { clientId: 'custom', clientSecret: 's3cret' })
  t.equal((await h.call('GET', '/api/v2/routing/queues')).status, 200, 'wildcard entity')
  t.equal((await h.call('GET', '/api/v2/authorization/roles')).status, 403)
  const r = await fetch(`${h.sim.url}/oauth/token`, { method: 'POST', headers: { authorization: h.basic(), 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' })
  t.equal(((await r.json()) as { expires_in: number }).expires_in, 300)
})
