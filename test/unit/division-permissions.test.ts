import t from 'tap'
import { defaultSeed } from '../../src/simulator/index.js'
import { pipeline } from '../helpers/pipeline.js'

t.test('user created, grant refused in the division: failed, naming the permission and the division', async (t) => {
  const seed = defaultSeed()
  const service = seed.clients[0]
  if (!service) throw new Error('seed without clients')
  // May create users anywhere, but grant roles only in the home division.
  service.permissions = ['directory:*:*', 'authorization:role:view', 'authorization:division:view', 'authorization:grant:view', 'routing:*:view']
  service.divisionPermissions = [{ division: 'Home', permissions: ['authorization:grant:add'] }]
  const p = await pipeline({ sim: { seed } })
  t.teardown(p.close)

  const r = await p.outcome(await p.submit({ hrId: 'HR-DIV-1', email: 'div.one@example.com', displayName: 'Div One', division: 'BPO Alpha', roles: ['Agent'] }))
  t.equal(r.status, 'failed')
  t.same(r.steps.map((s) => `${s.name}:${s.status}`), ['createUser:done'], 'the user was created, the grant was not')
  t.ok(r.genesysUserId && p.sim.state.users.get(r.genesysUserId), 'the created user is kept')
  t.same(r.issues?.map((i) => i.code), ['genesys.permissionDenied'])
  t.match(r.issues?.[0]?.message, /lacks permission authorization:grant:add in division "BPO Alpha"/)
  t.match(r.error?.message, /authorization:grant:add.*BPO Alpha/)
  t.equal(p.sim.state.grants.get(r.genesysUserId ?? '')?.length ?? 0, 0, 'no grant upstream')
  t.equal(p.sim.requests().filter((x) => x.method === 'POST' && x.path.startsWith('/api/v2/authorization/')).length, 1, 'a refusal is not retried')

  // The operator grants the OAuth client what it lacked and submits the hire again.
  p.sim.state.clients[0]?.divisionPermissions?.push({ division: 'BPO Alpha', permissions: ['authorization:grant:add'] })
  const again = await p.outcome(await p.submit({ hrId: 'HR-DIV-1', email: 'div.one@example.com', displayName: 'Div One', division: 'BPO Alpha', roles: ['Agent'] }))
  t.equal(again.status, 'completed', JSON.stringify(again.error ?? again.issues))
  t.equal(again.genesysUserId, r.genesysUserId, 'the user created before is adopted, not created twice')
  t.match(again.steps.find((s) => s.name === 'createUser')?.detail, { adopted: true })
})
