import type { IntakeViews, ProvisioningRecord } from '../../provisioning/ports.js'
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

/** The views the provisioning service answers an intake with (and stores under its Idempotency-Key). */
export const INTAKE_VIEWS: IntakeViews = {
  request: (record) => toRequestView(record),
  worker: (entry, scheduled) => toWorkerView(entry, scheduled),
}
