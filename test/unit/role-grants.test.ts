import t from 'tap'
import { GenesysError } from '../../src/genesys/errors.js'
import { createRoleGrants, type GrantWriter } from '../../src/provisioning/role-grants.js'

/** A grant API that records its calls, slow enough that grants pile up behind one in flight. */
function fakeGrants (opts: { refuse?: (userIds: string[]) => GenesysError | undefined } = {}) {
  const calls: string[] = []
  const held = new Set<string>()
  const writer: GrantWriter = {
    async bulkAdd (userId, list) {
      calls.push(`bulkAdd:${userId}:${list.length}`)
      await new Promise((resolve) => setTimeout(resolve, 5))
      const refused = opts.refuse?.([userId])
      if (refused) throw refused
      for (const g of list) held.add(`${userId}/${g.roleId}/${g.divisionId}`)
    },
    async roleToUsers (roleId, userIds, divisionIds) {
      calls.push(`role:${roleId}:${userIds.length}:${divisionIds.join('+')}`)
      await new Promise((resolve) => setTimeout(resolve, 5))
      const refused = opts.refuse?.(userIds)
      if (refused) throw refused
      for (const u of userIds) for (const d of divisionIds) held.add(`${u}/${roleId}/${d}`)
    },
  }
  return { writer, calls, held }
}

const AGENT = [{ roleId: 'agent', divisionId: 'alpha' }]

t.test('hires wanting the same role share one call per role: the first alone, the ones that waited behind it together', async (t) => {
  const g = fakeGrants()
  const grants = createRoleGrants(g.writer)
  await Promise.all(Array.from({ length: 30 }, (_, i) => grants.grant(`u${i}`, AGENT)))
  t.same(g.calls, ['role:agent:1:alpha', 'role:agent:29:alpha'])
  t.equal(g.held.size, 30, 'every hire holds its grant')
})

t.test('batches hold at most 50 users; different grant sets never share a call', async (t) => {
  const g = fakeGrants()
  const grants = createRoleGrants(g.writer)
  await Promise.all([
    ...Array.from({ length: 120 }, (_, i) => grants.grant(`a${i}`, AGENT)),
    grants.grant('b0', [{ roleId: 'agent', divisionId: 'beta' }]),
  ])
  t.same(g.calls.filter((c) => c.endsWith(':alpha')), ['role:agent:1:alpha', 'role:agent:50:alpha', 'role:agent:50:alpha', 'role:agent:19:alpha'])
  t.same(g.calls.filter((c) => c.endsWith(':beta')), ['role:agent:1:beta'])
})

t.test('a lone hire with several roles is one bulkadd; several hires with the same two roles are one call per role', async (t) => {
  const g = fakeGrants()
  const grants = createRoleGrants(g.writer)
  const two = [{ roleId: 'agent', divisionId: 'alpha' }, { roleId: 'lead', divisionId: 'alpha' }, { roleId: 'lead', divisionId: 'beta' }]
  await grants.grant('solo', two)
  t.same(g.calls, ['bulkAdd:solo:3'], 'fewer users than roles: per user')
  g.calls.length = 0
  const fresh = createRoleGrants(g.writer)
  await Promise.all(Array.from({ length: 5 }, (_, i) => fresh.grant(`u${i}`, two)))
  t.same(g.calls, ['bulkAdd:u0:3', 'role:agent:4:alpha', 'role:lead:4:alpha+beta'], 'the four that waited: one call per role, each role in all its divisions')
})

t.test('a batch refused because of one user is granted user by user; a refusal for all reaches all', async (t) => {
  const fresh = new GenesysError('not found', { operation: 'grants.roleToUsers', failure: 'http', upstreamStatus: 404 })
  const g = fakeGrants({ refuse: (ids) => (ids.includes('fresh') ? fresh : undefined) })
  const grants = createRoleGrants(g.writer)
  const first = grants.grant('u0', AGENT)
  const rest = Promise.allSettled(['u1', 'fresh', 'u2'].map((u) => grants.grant(u, AGENT)))
  await first
  const outcomes = await rest
  t.same(outcomes.map((o) => o.status), ['fulfilled', 'rejected', 'fulfilled'], 'only the user Genesys cannot see yet fails (its job retries)')
  t.same(g.calls.slice(1, 2), ['role:agent:3:alpha'])
  t.same(g.calls.slice(2).sort(), ['bulkAdd:fresh:1', 'bulkAdd:u1:1', 'bulkAdd:u2:1'])

  const denied = new GenesysError('forbidden', { operation: 'grants.roleToUsers', failure: 'http', upstreamStatus: 403 })
  const d = fakeGrants({ refuse: () => denied })
  const deniedGrants = createRoleGrants(d.writer)
  const all = await Promise.allSettled([deniedGrants.grant('x0', AGENT), deniedGrants.grant('x1', AGENT), deniedGrants.grant('x2', AGENT)])
  t.same(all.map((o) => o.status), ['rejected', 'rejected', 'rejected'])
  t.notOk(d.calls.some((c) => c.startsWith('bulkAdd')), 'a permission refusal is not tried again per user')
})
