import type { ProvisioningRecord } from '../../src/provisioning/ports.js'
import type { Delivery } from '../../src/webhooks/ports.js'

let seq = 0

/** A fresh accepted request record; each call a second later than the last (creation order is list order). */
export function requestRecord (over: Partial<ProvisioningRecord> = {}): ProvisioningRecord {
  seq++
  const at = new Date(Date.UTC(2026, 10, 22, 9, 0, 0) + seq * 1000).toISOString()
  return {
    id: `prq_${String(seq).padStart(26, '0')}`,
    clientId: 'hris-a',
    hrId: `hr-${seq}`,
    email: `p${seq}@example.com`,
    status: 'accepted',
    hire: { hrId: `hr-${seq}`, email: `p${seq}@example.com` },
    createdAt: at,
    updatedAt: at,
    transitions: [{ status: 'accepted', at }],
    steps: [],
    attempts: 0,
    retries: 0,
    ...over,
  }
}

let deliverySeq = 0

/** A fresh pending webhook delivery; each call a second later than the last. */
export function delivery (over: Partial<Delivery> = {}): Delivery {
  deliverySeq++
  return {
    id: `msg_${String(deliverySeq).padStart(26, '0')}`,
    clientId: 'hris-a',
    type: 'provisioning.completed',
    subjectId: `prq_${String(deliverySeq).padStart(26, '0')}`,
    body: JSON.stringify({ type: 'provisioning.completed', timestamp: '2026-11-22T09:00:00.000Z', data: { n: deliverySeq } }),
    createdAt: new Date(Date.UTC(2026, 10, 22, 9, 0, deliverySeq)).toISOString(),
    status: 'pending',
    generation: 0,
    attempts: [],
    ...over,
  }
}
