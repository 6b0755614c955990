import { createHash } from 'node:crypto'
import type { ApiClient } from '../config/clients.js'
import type { GroupSync } from '../groups/ports.js'
import type { ProvisioningRecord } from '../provisioning/ports.js'
import type { Delivery, WebhookEventType } from './ports.js'

/**
 * Event payloads. Thin on purpose: ids, statuses and what the HRIS needs to
 * store against the employee; never a password, token or secret (the intake API
 * takes none, and Genesys errors are reduced to code, message and correlation id).
 */

/** Bodies stay under this size; long issue lists are cut and marked as such. */
export const MAX_BODY_BYTES = 20_000

export interface WebhookEvent {
  type: WebhookEventType
  timestamp: string
  data: Record<string, unknown>
}

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

/** `msg_` and 26 characters derived from what the event is about. */
export function eventId (subject: string): string {
  return `msg_${createHash('sha256').update(subject).digest('base64url').slice(0, 26)}`
}

/**
 * Serialises an event under `MAX_BODY_BYTES`: while it is too long, the lists
 * named in `lists` (inside `data`, or inside `data[within]`) are halved, and
 * `<list>Truncated` says how many entries each lost.
 */
export function serializeEvent (event: WebhookEvent, lists: readonly string[] = ['issues'], within?: string): string {
  let body = JSON.stringify(event)
  const holder = (within === undefined ? event.data : event.data[within]) as Record<string, unknown> | undefined
  if (Buffer.byteLength(body) <= MAX_BODY_BYTES || !holder) return body
  let keep = Math.max(0, ...lists.map((k) => (Array.isArray(holder[k]) ? (holder[k] as unknown[]).length : 0)))
  while (keep > 0 && Buffer.byteLength(body) > MAX_BODY_BYTES) {
    keep = Math.floor(keep / 2)
    const cut: Record<string, unknown> = { ...holder }
    for (const k of lists) {
      const list = holder[k]
      if (Array.isArray(list) && list.length > keep) {
        cut[k] = list.slice(0, keep)
        cut[`${k}Truncated`] = list.length - keep
      }
    }
    body = JSON.stringify({ ...event, data: within === undefined ? { ...event.data, ...cut } : { ...event.data, [within]: cut } })
  }
  return body
}

/** Whether a client's endpoint takes this event type (no list = every type). */
export function wants (client: Pick<ApiClient, 'webhook'> | undefined, type: WebhookEventType): boolean {
  const endpoint = client?.webhook
  if (!endpoint) return false
  return endpoint.events === undefined || endpoint.events.includes(type)
}

/**
 * The outbox entry for a request that reached a terminal state, or undefined
 * when its client has no endpoint or does not take this event type.
 */
export function deliveryFor (record: ProvisioningRecord, client: Pick<ApiClient, 'webhook'> | undefined): Delivery | undefined {
  const made = provisioningEvent(record)
  if (!made || !wants(client, made.event.type)) return undefined
  return {
    id: made.id,
    clientId: record.clientId,
    type: made.event.type,
    subjectId: record.id,
    body: serializeEvent(made.event),
    createdAt: record.updatedAt,
    status: 'pending',
    generation: 0,
    attempts: [],
  }
}

/** The outbox entry for a group sync that ended, or undefined when its client does not take it. */
export function deliveryForGroupSync (sync: GroupSync, client: Pick<ApiClient, 'webhook'> | undefined): Delivery | undefined {
  if (!wants(client, 'group.sync.completed')) return undefined
  const event: WebhookEvent = {
    type: 'group.sync.completed',
    timestamp: sync.updatedAt,
    data: {
      syncId: sync.id,
      hrGroupPath: sync.hrPath,
      division: sync.division,
      genesysGroupId: sync.groupId,
      status: sync.status,
      ...(sync.result ? { result: sync.result } : {}),
      ...(sync.error ? { error: sync.error } : {}),
      acceptedAt: sync.createdAt,
      finishedAt: sync.updatedAt,
    },
  }
  return {
    id: eventId(`group-sync:${sync.id}`),
    clientId: sync.clientId,
    type: event.type,
    subjectId: sync.id,
    body: serializeEvent(event, ['added', 'removed', 'removedUnmapped', 'unknownHrIds'], 'result'),
    createdAt: sync.updatedAt,
    status: 'pending',
    generation: 0,
    attempts: [],
  }
}
