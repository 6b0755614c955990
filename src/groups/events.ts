import type { ApiClient } from '../config/clients.js'
import { eventId, outboxEntry, type WebhookEvent } from '../webhooks/events.js'
import type { Delivery } from '../webhooks/ports.js'
import type { GroupSync } from './ports.js'

/** The outbox entry for a group sync that ended, or undefined when its client does not take it. */
export function deliveryForGroupSync (sync: GroupSync, client: Pick<ApiClient, 'webhook'> | undefined): Delivery | undefined {
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
  return outboxEntry({ id: eventId(`group-sync:${sync.id}`), clientId: sync.clientId, subjectId: sync.id, event, lists: ['added', 'removed', 'removedUnmapped', 'unknownHrIds'], within: 'result' }, client)
}
