import type { ApiClient } from '../config/clients.js'
import { eventId, outboxEntry, type WebhookEvent } from '../webhooks/events.js'
import type { Delivery } from '../webhooks/ports.js'
import type { ProvisioningRecord, StepRecord } from './ports.js'

/**
 * A provisioning request's outcome event. The id is derived from the request and
 * its run generation, so a job that runs again after a crash produces the same
 * `webhook-id` rather than a second event.
 */
export function provisioningEvent (record: ProvisioningRecord): { id: string, event: WebhookEvent } | undefined {
  const kind = record.kind ?? 'hire'
  const base = { requestId: record.id, kind, hrId: record.hrId, email: record.email }
  const at = record.updatedAt
  let event: WebhookEvent
  switch (record.status) {
    case 'completed': {
      const timing = { acceptedAt: record.createdAt, completedAt: at, durationMs: Date.parse(at) - Date.parse(record.createdAt) }
      if (kind === 'terminate') {
        event = { type: 'provisioning.completed', timestamp: at, data: { ...base, ...terminationOutcome(record), ...timing } }
        break
      }
      if (kind === 'update' || kind === 'move') {
        event = { type: 'provisioning.completed', timestamp: at, data: { ...base, genesysUserId: record.genesysUserId, division: record.division, changes: changeOutcome(record), ...timing } }
        break
      }
      const account = record.steps.find((s) => s.name === 'createUser')?.detail
      event = {
        type: 'provisioning.completed',
        timestamp: at,
        data: {
          ...base,
          genesysUserId: record.genesysUserId,
          // How the service came to this account: a new user, one adopted with proof of ownership, or a rehire's reactivated one.
          account: account?.reactivated === true ? 'reactivated' : account?.adopted === true ? 'adopted' : 'created',
          division: record.division ?? record.plan?.grants[0]?.divisionName,
          roles: (record.plan?.grants ?? []).map((g) => ({ name: g.roleName, roleId: g.roleId, divisionId: g.divisionId })),
          groups: (record.plan?.groups ?? []).map((g) => ({ hrPath: g.hrPath, genesysGroup: g.groupName, groupId: g.groupId })),
          ...(kind === 'rehire' ? { changes: rehireChanges(record) } : {}),
          ...(record.notes ? { notes: record.notes } : {}),
          acceptedAt: record.createdAt,
          completedAt: at,
          durationMs: Date.parse(at) - Date.parse(record.createdAt),
        },
      }
      break
    }
    case 'rejected':
      event = { type: 'provisioning.rejected', timestamp: at, data: { ...base, rejectedAt: at, issues: record.issues ?? [] } }
      break
    case 'failed':
      event = {
        type: 'provisioning.failed',
        timestamp: at,
        data: {
          ...base,
          failedAt: at,
          error: {
            code: record.error?.code ?? 'PROV_ERR_INTERNAL',
            message: record.error?.message ?? 'provisioning failed',
            ...(record.error?.genesysCode !== undefined ? { genesysCode: record.error.genesysCode } : {}),
            ...(record.error?.correlationId !== undefined ? { correlationId: record.error.correlationId } : {}),
          },
          attempts: record.attempts,
        },
      }
      break
    default:
      return undefined
  }
  return { id: eventId(`provisioning:${record.id}:${record.retries}`), event }
}

/** What a completed termination changed, and when Genesys confirmed the deactivation (or, for a hard delete, the deletion). */
function terminationOutcome (record: ProvisioningRecord): Record<string, unknown> {
  const deleted = record.steps.find((s) => s.name === 'deleteUser')
  if (record.hardDelete === true) {
    return {
      genesysUserId: record.genesysUserId,
      division: record.division,
      hardDelete: true,
      userDeleted: true,
      deletedAt: deleted?.detail.deletedAt ?? deleted?.at,
      changes: { active: { before: false, after: false }, rolesAdded: [], rolesRemoved: [], groupsAdded: [], groupsRemoved: [] },
    }
  }
  const deactivate = record.steps.find((s) => s.name === 'deactivate')
  const left = record.steps.find((s) => s.name === 'leaveGroups')?.detail.groupIds
  return {
    genesysUserId: record.genesysUserId,
    division: record.division,
    ...(deactivate?.detail.deleted === true ? { userDeleted: true } : {}),
    deactivatedAt: deactivate?.detail.deactivatedAt ?? deactivate?.at,
    changes: {
      active: { before: deactivate?.status === 'done', after: false },
      rolesAdded: [],
      rolesRemoved: [],
      groupsAdded: [],
      groupsRemoved: Array.isArray(left) ? left : [],
    },
  }
}

/** An update or a move: the attributes changed, the division before and after, grants and groups added and removed. */
function changeOutcome (record: ProvisioningRecord): Record<string, unknown> {
  const detail = (name: StepRecord['name']) => record.steps.find((s) => s.name === name)?.detail ?? {}
  const list = (value: unknown) => (Array.isArray(value) ? value : [])
  const user = detail('updateUser')
  const division = record.plan?.division?.name ?? record.division
  return {
    attributes: list(user.changed).filter((name) => name !== 'division'),
    division: { before: user.divisionBefore ?? division, after: user.divisionAfter ?? division },
    active: { before: true, after: true },
    rolesAdded: list(detail('grantRoles').grants),
    rolesRemoved: list(detail('revokeRoles').grants),
    groupsAdded: list(detail('joinGroups').groupIds),
    groupsRemoved: list(detail('leaveGroups').groupIds),
  }
}

/** A rehire: the account is active again with the planned grants and groups. */
function rehireChanges (record: ProvisioningRecord): Record<string, unknown> {
  const account = record.steps.find((s) => s.name === 'createUser')?.detail
  return {
    active: { before: account?.reactivated === true ? false : true, after: true },
    rolesAdded: (record.plan?.grants ?? []).map((g) => ({ name: g.roleName, roleId: g.roleId, divisionId: g.divisionId })),
    rolesRemoved: [],
    groupsAdded: (record.plan?.groups ?? []).map((g) => ({ hrPath: g.hrPath, genesysGroup: g.groupName, groupId: g.groupId })),
    groupsRemoved: [],
  }
}

/**
 * The outbox entry for a request that reached a terminal state, or undefined
 * when its client has no endpoint or does not take this event type.
 */
export function deliveryFor (record: ProvisioningRecord, client: Pick<ApiClient, 'webhook'> | undefined): Delivery | undefined {
  const made = provisioningEvent(record)
  if (!made) return undefined
  return outboxEntry({ ...made, clientId: record.clientId, subjectId: record.id }, client)
}
