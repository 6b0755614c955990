import t from 'tap'
import { createGroupMembership, type GroupWriter } from '../../src/provisioning/group-membership.js'
import type { Faults } from '../../src/simulator/index.js'
import { simAndClient } from '../helpers/genesys.js'

const SALES = '3a000000-0000-4000-8000-000000000001'
const AGENT = '7e000000-0000-4000-8000-000000000002'

// Each shape Genesys answers a stale If-Match with leads to one re-read and a successful retry (removals carry If-Match).
for (const shape of ['invalidVers', 'scim409', 'errorBody400'] as Array<Faults['versionConflict']>) {
  t.test(`version conflict as ${shape}: one re-read, then the change lands`, async (t) => {
    const { sim, genesys, close } = await simAndClient({ sim: { faults: { versionConflict: shape } } })
    t.teardown(close)
    await genesys.client.groups.patchMembers(SALES, { add: [AGENT] })
    let gets = 0
    let patches = 0
    const writer: GroupWriter = {
      get: (id) => { gets++; return genesys.client.groups.get(id) },
      async patchMembers (id, change, version) {
        patches++
        // Somebody else changes the group between our read and our write, once.
        const g = sim.state.groups.get(id)
        if (patches === 1 && g) g.version++
        return genesys.client.groups.patchMembers(id, change, version)
      },
    }
    await createGroupMembership(writer, { random: () => 0 }).remove(SALES, AGENT)
    t.equal(gets, 2, 'read, conflict, read again')
    t.equal(patches, 2, 'the retry is the only other write')
    t.notOk(sim.state.groups.get(SALES)?.memberIds.includes(AGENT), 'the member was removed')
    const refused = sim.requests().filter((r) => r.method === 'PATCH' && r.status >= 400).map((r) => r.status)
    t.same(refused, [shape === 'scim409' ? 409 : 400], 'the simulator answered the chosen shape once')
  })
}
