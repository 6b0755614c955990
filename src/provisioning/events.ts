import type { ApiClient } from '../config/clients.js'
import { eventId, outboxEntry, type WebhookEvent } from '../webhooks/events.js'
import type { Delivery } from '../webhooks/ports.js'
import type { ProvisioningRecord } from './ports.js'

/**
 * A provisioning request's outcome event. The id is derived from the request and
 * its run generation, so a job that runs again after a crash produces the same
 * `webhook-id` rather than a second event.
 */
export function provisioningEvent (record: ProvisioningRecord): { id: string, event: WebhookEvent } | undefined {
  const base = { requestId: record.id, hrId: record.hrId, email: record.email }
  const at = record.updatedAt
  let event: WebhookEvent
  switch (record.status) {
    case 'completed': {
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

/**
 * The outbox entry for a request that reached a terminal state, or undefined
 * when its client has no endpoint or does not take this event type.
 */
export function deliveryFor (record: ProvisioningRecord, client: Pick<ApiClient, 'webhook'> | undefined): Delivery | undefined {
  const made = provisioningEvent(record)
  if (!made) return undefined
  return outboxEntry({ ...made, clientId: record.clientId, subjectId: record.id }, client)
}
