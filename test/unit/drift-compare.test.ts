import t from 'tap'
import { driftOf } from '../../src/drift/compare.js'
import { SCIM_ENTERPRISE_USER, type ScimUser } from '../../src/genesys/types.js'
import type { WorkerEntry } from '../../src/provisioning/registry.js'

const entry = (over: Partial<WorkerEntry> = {}): WorkerEntry => ({
  clientId: 'hris', hrId: 'E1', externalId: 'hris:E1', genesysUserId: 'u-1', divisionId: 'd-a', divisionName: 'BPO Alpha',
  grants: [{ roleId: 'r-agent', divisionId: 'd-a' }], groups: ['g-1'], active: true, origin: 'created',
  desired: { hrId: 'E1', email: 'e1@example.com', givenName: 'E', familyName: 'One' }, lastRequestId: 'prq_1', updatedAt: '2026-12-07T10:00:00.000Z', ...over,
})
const user = (over: Partial<ScimUser> = {}): ScimUser => ({ id: 'u-1', userName: 'e1@example.com', active: true, roles: [{ value: 'Agent' }, { value: 'Other' }], groups: [{ value: 'g-1' }, { value: 'g-else' }], [SCIM_ENTERPRISE_USER]: { division: 'BPO Alpha' }, ...over })
const roles = new Map([['r-agent', 'Agent']])

t.test('drift of one worker: only what the service recorded is compared', async (t) => {
  t.same(driftOf(entry(), user(), roles), [], 'as recorded (others\' roles and groups are not compared)')
  t.same(driftOf(entry(), 'deleted', roles), [{ kind: 'user.deleted', detail: {} }])
  t.same(driftOf(entry({ deletedAt: '2026-12-01T00:00:00.000Z', active: false }), 'deleted', roles), [], 'a user the service deleted is not drift')
  t.same(driftOf(entry(), user({ active: false }), roles).map((f) => f.kind), ['user.deactivated'])
  t.same(driftOf(entry({ active: false }), user(), roles).map((f) => f.kind), ['user.reactivated'])
  t.same(driftOf(entry({ active: false }), user({ active: false, roles: [] }), roles), [], 'a terminated worker keeps no memberships to compare')
  t.same(driftOf(entry(), user({ userName: 'edited@example.com' }), roles), [{ kind: 'attribute.changed', detail: { attribute: 'email', recorded: 'e1@example.com', genesys: 'edited@example.com' } }])
  t.same(driftOf(entry(), user({ roles: [{ value: 'agent' }], groups: [{ value: 'g-1' }], [SCIM_ENTERPRISE_USER]: { division: 'bpo alpha' } }), roles), [], 'names compared regardless of case')
  t.same(driftOf(entry({ grants: [{ roleId: 'r-unknown', divisionId: 'd-a' }] }), user({ roles: [] }), roles), [], 'a role whose name could not be read is not reported')
})
