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
      const removed = new Set(change.remove ?? [])
      const kept = (group.members ?? []).filter((m) => !removed.has(m.value))
      group.members = [...kept, ...(change.add ?? []).filter((value) => !kept.some((m) => m.value === value)).map((value) => ({ value }))]
      return { resource: group, version: String(version) }
    },
  }
  return { group, writer, calls, version: () => version }
}

t.test('concurrent adds to one group are coalesced into few writes, none read first, none with If-Match', async (t) => {
  const g = fakeGroup()
  const m = createGroupMembership(g.writer)
  const versions: Array<string | undefined> = []
  const patch = g.writer.patchMembers.bind(g.writer)
  g.writer.patchMembers = async (id, change, v) => { versions.push(v); return patch(id, change, String(g.version())) }
  await Promise.all(Array.from({ length: 30 }, (_, i) => m.add('g', `u${i}`)))
  t.equal(g.group.members?.length, 31, 'everyone joined')
  t.same(g.calls, ['patch:1', 'patch:29'], 'the first add, then one batch of the 29 that waited')
  t.same(versions, [undefined, undefined], 'an add is commutative: no If-Match')
  await m.add('g', 'already')
  t.same(g.calls.slice(-1), ['patch:1'], 'an existing member costs one write that changes nothing, and no read')
  t.equal(g.group.members?.filter((x) => x.value === 'already').length, 1)
})

t.test('a removal reads first and sends If-Match; a version conflict is read again; a group that never settles hands the job back', async (t) => {
  const g = fakeGroup({ conflicts: 2 })
  await createGroupMembership(g.writer, { random: () => 0 }).remove('g', 'already')
  t.same(g.calls, ['get', 'patch:0', 'get', 'patch:0', 'get', 'patch:0'])
  t.same(g.group.members, [], 'removed')
  await createGroupMembership(g.writer, { random: () => 0 }).remove('g', 'already')
  t.same(g.calls.slice(6), ['get'], 'a user already out costs one read')
  const busy = fakeGroup({ conflicts: 100 })
  await t.rejects(createGroupMembership(busy.writer, { random: () => 0 }).remove('g', 'already'), RetryLater)
})

t.test('concurrent removals from one group are coalesced: one read and one PATCH with If-Match for those that waited', async (t) => {
  const g = fakeGroup()
  g.group.members = Array.from({ length: 31 }, (_, i) => ({ value: `u${i}` }))
  const m = createGroupMembership(g.writer)
  await Promise.all(Array.from({ length: 30 }, (_, i) => m.remove('g', `u${i}`)))
  t.same(g.group.members, [{ value: 'u30' }], 'everyone else is kept')
  t.same(g.calls, ['get', 'patch:0', 'get', 'patch:0'], 'the first removal, then one batch of the 29 that waited')
})

t.test('other errors reach every waiter of the batch', async (t) => {
  const g = fakeGroup()
  g.writer.patchMembers = async () => { throw new GenesysError('gone', { operation: 'scim.groups.patchMembers', failure: 'http', upstreamStatus: 404 }) }
  const m = createGroupMembership(g.writer)
  const results = await Promise.allSettled([m.add('g', 'a'), m.add('g', 'b')])
  t.same(results.map((r) => r.status), ['rejected', 'rejected'])
})
