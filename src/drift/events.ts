import type { ApiClient } from '../config/clients.js'
import { eventId, outboxEntry, type WebhookEvent } from '../webhooks/events.js'
import type { Delivery } from '../webhooks/ports.js'
import type { DriftFinding, ReconciliationRun } from './ports.js'

/** The outbox entry for one client's drift found by a run, or undefined when the client does not take it. */
export function deliveryForDrift (clientId: string, run: ReconciliationRun, findings: readonly DriftFinding[], client: Pick<ApiClient, 'webhook'> | undefined): Delivery | undefined {
  const counts: Record<string, number> = {}
  for (const f of findings) counts[f.kind] = (counts[f.kind] ?? 0) + 1
  const event: WebhookEvent = {
    type: 'worker.drift.detected',
    timestamp: findings[0]?.detectedAt ?? run.startedAt,
    data: {
      runId: run.id,
      mode: run.mode,
      counts,
      findings: findings.map((f) => ({ hrId: f.hrId, genesysUserId: f.genesysUserId, kind: f.kind, detail: f.detail, ...(f.repairRequestId !== undefined ? { repairRequestId: f.repairRequestId } : {}) })),
    },
  }
  return outboxEntry({ id: eventId(`drift:${run.id}:${clientId}`), clientId, subjectId: run.id, event, lists: ['findings'] }, client)
}
