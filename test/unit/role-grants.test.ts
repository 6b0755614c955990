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

t.test('20 concurrent hires wanting one role in one division share one grant call; hires arriving while it is in flight share the next', async (t) => {
  const g = fakeGrants()
  const grants = createRoleGrants(g.writer)
  const first = Promise.all(Array.from({ length: 20 }, (_, i) => grants.grant(`u${i}`, AGENT)))
  while (g.calls.length === 0) await new Promise((resolve) => setImmediate(resolve))
  const later = Promise.all(Array.from({ length: 5 }, (_, i) => grants.grant(`v${i}`, AGENT)))
  await Promise.all([first, later])
  t.same(g.calls, ['role:agent:20:alpha', 'role:agent:5:alpha'])
  t.equal(g.held.size, 25, 'every hire holds its grant')
})

t.test('batches hold at most 50 users; different grant sets never share a call', async (t) => {
  const g = fakeGrants()
  const grants = createRoleGrants(g.writer)
  await Promise.all([
    ...Array.from({ length: 120 }, (_, i) => grants.grant(`a${i}`, AGENT)),
    grants.grant('b0', [{ roleId: 'agent', divisionId: 'beta' }]),
  ])
  t.same(g.calls.filter((c) => c.endsWith(':alpha')), ['role:agent:50:alpha', 'role:agent:50:alpha', 'role:agent:20:alpha'])
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
  t.same(g.calls, ['role:agent:5:alpha', 'role:lead:5:alpha+beta'], 'five together: one call per role, each role in all its divisions')
})

t.test('a batch refused because of one user is granted user by user; a refusal for all reaches all', async (t) => {
  const fresh = new GenesysError('not found', { operation: 'grants.roleToUsers', failure: 'http', upstreamStatus: 404 })
  const g = fakeGrants({ refuse: (ids) => (ids.includes('fresh') ? fresh : undefined) })
  const grants = createRoleGrants(g.writer)
  const outcomes = await Promise.allSettled(['u0', 'u1', 'fresh', 'u2'].map((u) => grants.grant(u, AGENT)))
  t.same(outcomes.map((o) => o.status), ['fulfilled', 'fulfilled', 'rejected', 'fulfilled'], 'only the user Genesys cannot see yet fails (its job retries)')
  t.same(g.calls.slice(0, 1), ['role:agent:4:alpha'])
  t.same(g.calls.slice(1).sort(), ['bulkAdd:fresh:1', 'bulkAdd:u0:1', 'bulkAdd:u1:1', 'bulkAdd:u2:1'])

  const denied = new GenesysError('forbidden', { operation: 'grants.roleToUsers', failure: 'http', upstreamStatus: 403 })
  const d = fakeGrants({ refuse: () => denied })
  const deniedGrants = createRoleGrants(d.writer)
  const all = await Promise.allSettled([deniedGrants.grant('x0', AGENT), deniedGrants.grant('x1', AGENT), deniedGrants.grant('x2', AGENT)])
  t.same(all.map((o) => o.status), ['rejected', 'rejected', 'rejected'])
  t.notOk(d.calls.some((c) => c.startsWith('bulkAdd')), 'a permission refusal is not tried again per user')
})
