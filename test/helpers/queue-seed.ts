import { defaultSeed, type SimSeed } from '../../src/simulator/index.js'

/** Fixed ids of the busy queue: what a real contact-centre queue holds besides plain groups. */
export const BUSY = {
  queue: '4b000000-0000-4000-8000-0000000000b1',
  team: '8c000000-0000-4000-8000-000000000001',
  skillGroup: '8d000000-0000-4000-8000-000000000001',
  /** Official group routed to by the queue's conditional group routing rule. */
  cgrGroup: '3a000000-0000-4000-8000-0000000000c1',
  /** Official group in the queue's bullseye ring. */
  ringGroup: '3a000000-0000-4000-8000-0000000000c2',
  support: '3a000000-0000-4000-8000-000000000002',
  sales: '3a000000-0000-4000-8000-000000000001',
  supportQueue: '4b000000-0000-4000-8000-000000000002',
}

/**
 * The bundled seed plus a queue "Care Busy" (BPO Alpha) holding a GROUP, a TEAM,
 * a SKILLGROUP, a conditional group routing rule and a bullseye ring.
 */
export function busyQueueSeed (): SimSeed {
  const seed = defaultSeed()
  seed.teams = [{ id: BUSY.team, name: 'Care Team East' }]
  seed.skillGroups = [{ id: BUSY.skillGroup, name: 'Spanish Speakers' }]
  seed.groups.push(
    { id: BUSY.cgrGroup, name: 'Overflow Care', memberIds: [] },
    { id: BUSY.ringGroup, name: 'Ring Two Care', memberIds: [] },
  )
  seed.queues.push({
    id: BUSY.queue,
    name: 'Care Busy',
    division: 'BPO Alpha',
    memberGroups: [
      { id: BUSY.support, type: 'GROUP' },
      { id: BUSY.team, type: 'TEAM' },
      { id: BUSY.skillGroup, type: 'SKILLGROUP' },
      { id: BUSY.cgrGroup, type: 'GROUP' },
      { id: BUSY.ringGroup, type: 'GROUP' },
    ],
    conditionalGroupRouting: { rules: [{ metric: 'EstimatedWaitTime', operator: 'GreaterThan', conditionValue: 30, waitSeconds: 20, groups: [{ id: BUSY.cgrGroup, type: 'GROUP' }] }] },
    bullseye: { rings: [{ expansionTimeoutSeconds: 15, memberGroups: [{ id: BUSY.ringGroup, type: 'GROUP' }] }] },
  })
  return seed
}
