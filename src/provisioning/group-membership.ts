import type { GenesysClient } from '../genesys/client.js'
import { isNotFound, isVersionConflict } from '../genesys/errors.js'
import { RetryLater } from '../jobs/queue.js'

export type GroupWriter = Pick<GenesysClient['groups'], 'get' | 'patchMembers'>
/** A group whose version keeps moving under a removal is re-read this many times per batch. */
const VERSION_RETRIES = 5

/** Genesys takes at most 50 member ids per membership change. */
const MAX_BATCH = 50

interface Waiter { userId: string, resolve: () => void, reject: (err: unknown) => void }
type Change = 'add' | 'remove'

/**
 * Adds users to and removes them from Genesys groups, one change of each kind
 * in flight per group per process. Many hires join (and mass leavers leave)
 * the same few groups at once: changes that arrive while a group's change is
 * in flight are coalesced into the next one, one PATCH for up to 50 users.
 *
 * A SCIM PATCH that only adds members is commutative (adding a member twice
 * changes nothing), so adds are sent without reading the group and without
 * If-Match: no other writer's change can be lost by them. Removals are read
 * first (a user no longer in the group is already out) and carry If-Match; a
 * version conflict is read again after a jittered pause.
 */
export function createGroupMembership (groups: GroupWriter, opts: { random?: () => number } = {}) {
  const random = opts.random ?? Math.random
  const queues = new Map<string, Waiter[]>()
  const running = new Set<string>()

  async function flush (key: string, change: Change, groupId: string): Promise<void> {
    running.add(key)
    try {
      for (;;) {
        const queue = queues.get(key) ?? []
        const batch = queue.splice(0, MAX_BATCH)
        if (batch.length === 0) break
        const userIds = [...new Set(batch.map((w) => w.userId))]
        try {
          if (change === 'add') await groups.patchMembers(groupId, { add: userIds })
          else await removeBatch(groupId, userIds)
          for (const w of batch) w.resolve()
        } catch (err) {
          for (const w of batch) w.reject(err)
        }
      }
    } finally {
      running.delete(key)
      queues.delete(key)
    }
  }

  async function removeBatch (groupId: string, userIds: string[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const current = await groups.get(groupId).catch((err: unknown) => {
        if (isNotFound(err)) return undefined
        throw err
      })
      // A deleted group holds nobody; users no longer in it are already out.
      const members = new Set((current?.resource.members ?? []).map((m) => m.value))
      const present = userIds.filter((id) => members.has(id))
      if (!current || present.length === 0) return
      try {
        await groups.patchMembers(groupId, { remove: present }, current.version)
        return
      } catch (err) {
        if (!isVersionConflict(err)) throw err
        // Hand the job back to the queue rather than fail it: contention passes.
        if (attempt >= VERSION_RETRIES) throw new RetryLater(`group ${groupId} kept changing under concurrent updates`, 1000, { cause: err })
        await new Promise((resolve) => setTimeout(resolve, random() * 25 * 2 ** attempt))
      }
    }
  }

  function enqueue (change: Change, groupId: string, userId: string): Promise<void> {
    const key = `${change}\u0000${groupId}`
    return new Promise<void>((resolve, reject) => {
      const queue = queues.get(key) ?? []
      queue.push({ userId, resolve, reject })
      queues.set(key, queue)
      if (!running.has(key)) void flush(key, change, groupId)
    })
  }

  return {
    /** Resolves once the user is a member (already, or by this change). */
    add: (groupId: string, userId: string) => enqueue('add', groupId, userId),
    /** Resolves once the user is out of the group (already, or by this change). */
    remove: (groupId: string, userId: string) => enqueue('remove', groupId, userId),
  }
}

export type GroupMembership = ReturnType<typeof createGroupMembership>
