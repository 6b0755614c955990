import type { IntakeAnswers, ProvisioningRecord, StoredResponse } from '../../provisioning/ports.js'
import { REQUESTS_PATH } from '../../provisioning/service.js'
import type { RequestStatus } from '../../provisioning/model.js'
import { TERMINAL_STATUSES } from '../../provisioning/model.js'
import type { WorkerEntry } from '../../provisioning/registry.js'
import type { WebhookSummary } from '../../webhooks/service.js'
import type { ProvisioningRequestView, WorkerView } from '../schemas/provisioning.js'

/** The public view of a record: the fields clients see, nothing internal. */
export function toRequestView (r: ProvisioningRecord, webhook?: WebhookSummary): ProvisioningRequestView {
  return {
    id: r.id,
    kind: r.kind ?? 'hire',
    status: r.status,
    ...(r.effectiveAt !== undefined ? { effectiveAt: r.effectiveAt } : {}),
    ...(r.hardDelete === true ? { hardDelete: true as const } : {}),
    ...(r.batchId !== undefined ? { batchId: r.batchId } : {}),
    hrId: r.hrId,
    email: r.email,
    ...(r.division !== undefined ? { division: r.division } : {}),
    ...(r.genesysUserId !== undefined ? { genesysUserId: r.genesysUserId } : {}),
    createdAt: r.createdAt,
    updatedAt: r.updatedAt,
    transitions: r.transitions,
    steps: r.steps,
    ...(r.issues ? { issues: r.issues } : {}),
    ...(r.error ? { error: r.error } : {}),
    ...(r.notes ? { notes: r.notes } : {}),
    attempts: r.attempts,
    ...(webhook ? { webhook } : {}),
    hire: r.hire,
  }
}

export function statusCodeForTerminal (status: RequestStatus): number {
  return status === 'completed' ? 201 : TERMINAL_STATUSES.has(status) ? 200 : 202
}

/** The public view of a managed worker: what the service knows of it, what it granted, and its scheduled changes. */
export function toWorkerView (e: WorkerEntry, scheduled?: ProvisioningRecord[]): WorkerView {
  return {
    hrId: e.hrId,
    status: e.active ? 'active' as const : 'terminated' as const,
    genesysUserId: e.genesysUserId,
    division: { id: e.divisionId, name: e.divisionName },
    roles: e.grants.map((g) => ({ roleId: g.roleId, divisionId: g.divisionId })),
    groups: e.groups.map((id) => ({ groupId: id })),
    origin: e.origin,
    ...(e.deactivatedAt !== undefined ? { deactivatedAt: e.deactivatedAt } : {}),
    ...(e.desired ? { desired: e.desired } : {}),
    lastRequestId: e.lastRequestId,
    ...(e.deletedAt !== undefined ? { deletedAt: e.deletedAt } : {}),
    ...(scheduled ? { scheduled: scheduled.map((r) => ({ id: r.id, kind: r.kind ?? 'hire', effectiveAt: r.effectiveAt ?? r.createdAt, ...(r.hardDelete === true ? { hardDelete: true as const } : {}) })) } : {}),
    updatedAt: e.updatedAt,
  }
}

/**
 * How the provisioning service's intakes are answered over HTTP (and kept
 * under their Idempotency-Key): 202 with `Location` and the request, 200 with
 * the worker when nothing changes, 200 with the change of a preview, and a
 * refusal as its problem.
 */
export const INTAKE_ANSWERS: IntakeAnswers = {
  answer (result): StoredResponse {
    const none: Record<string, string> = {}
    switch (result.kind) {
      case 'accepted': return { status: 202, headers: { location: `${REQUESTS_PATH}/${result.record.id}` }, body: toRequestView(result.record) }
      case 'unchanged': return { status: 200, headers: none, body: toWorkerView(result.worker, result.scheduled) }
      case 'preview': return { status: 200, headers: none, body: { change: result.change } }
      case 'refused': return { status: result.problem.status, headers: none, body: result.problem }
    }
  },
}
