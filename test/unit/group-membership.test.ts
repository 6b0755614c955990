import t from 'tap'
import { GenesysError } from '../../src/genesys/errors.js'
import type { ScimGroup } from '../../src/genesys/types.js'
import { RetryLater } from '../../src/jobs/queue.js'
import { createGroupMembership, type GroupWriter } from '../../src/provisioning/group-membership.js'

/** One group with a version, slow enough that adds pile up behind an in-flight change. */
function fakeGroup (opts: { conflicts?: number } = {}) {
  const group: ScimGroup = { id: 'g', displayName: 'Support', members: [{ value: 'already' }] }
  let version = 1
  let conflicts = opts.conflicts ?? 0
  const calls: string[] = []
  const writer: GroupWriter = {
    async get () {
      calls.push('get')
      await new Promise((resolve) => setTimeout(resolve, 5))
      return { resource: { ...group, members: [...(group.members ?? [])] }, version: String(version) }
    },
    async patchMembers (_id, change, v) {
      calls.push(`patch:${change.add?.length ?? 0}`)
      await new Promise((resolve) => setTimeout(resolve, 5))
      if (conflicts > 0 || v !== String(version)) {
        conflicts--
        version++
        throw new GenesysError('stale', { operation: 'scim.groups.patchMembers', failure: 'http', upstreamStatus: 400, scimType: 'invalidVers' })
      }
      version++
      group.members = [...(group.members ?? []), ...(change.add ?? []).map((value) => ({ value }))]
      return { resource: group, version: String(version) }
    },
  }
  return { group, writer, calls }
}

t.test('concurrent adds to one group are coalesced into few reads and writes', async (t) => {
  const g = fakeGroup()
  const m = createGroupMembership(g.writer)
  await Promise.all(Array.from({ length: 30 }, (_, i) => m.add('g', `u${i}`)))
  t.equal(g.group.members?.length, 31, 'everyone joined')
  t.same(g.calls, ['get', 'patch:1', 'get', 'patch:29'], 'the first add, then one batch of the 29 that waited')
  await m.add('g', 'already')
  t.same(g.calls.slice(-1), ['get'], 'an existing member costs one read and no write')
})

t.test('a version conflict is read again; a group that never settles hands the job back', async (t) => {
  const g = fakeGroup({ conflicts: 2 })
  const m = createGroupMembership(g.writer, { random: () => 0 })
  await m.add('g', 'u1')
  t.same(g.calls, ['get', 'patch:1', 'get', 'patch:1', 'get', 'patch:1'])
  const busy = fakeGroup({ conflicts: 100 })
  const m2 = createGroupMembership(busy.writer, { random: () => 0 })
  await t.rejects(m2.add('g', 'u1'), RetryLater)
})

t.test('other errors reach every waiter of the batch', async (t) => {
  const g = fakeGroup()
  g.writer.patchMembers = async () => { throw new GenesysError('gone', { operation: 'scim.groups.patchMembers', failure: 'http', upstreamStatus: 404 }) }
  const m = createGroupMembership(g.writer)
  const results = await Promise.allSettled([m.add('g', 'a'), m.add('g', 'b')])
  t.same(results.map((r) => r.status), ['rejected', 'rejected'])
})
