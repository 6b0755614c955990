import type { GenesysClient } from '../genesys/client.js'
import { isNotFound, isVersionConflict } from '../genesys/errors.js'
import { RetryLater } from '../jobs/queue.js'

export type GroupWriter = Pick<GenesysClient['groups'], 'get' | 'patchMembers'>
/** A group whose version keeps moving under a removal is re-read this many times. */
const VERSION_RETRIES = 5

/** Genesys takes at most 50 member ids per membership change. */
const MAX_BATCH = 50

interface Waiter { userId: string, resolve: () => void, reject: (err: unknown) => void }

/**
 * Adds users to Genesys groups, one change in flight per group per process.
 * Many hires join the same few groups at once: adds that arrive while a
 * group's change is in flight are coalesced into the next one, one PATCH for
 * up to 50 users. A SCIM PATCH that only adds members is commutative (adding
 * a member twice changes nothing), so it is sent without reading the group and
 * without If-Match: other replicas' changes cannot be lost by it. Removals,
 * which are not, read first and carry If-Match (see the group sync).
 */
export function createGroupMembership (groups: Pick<GroupWriter, 'patchMembers'>) {
  const queues = new Map<string, Waiter[]>()
  const running = new Set<string>()

  async function flush (groupId: string): Promise<void> {
    running.add(groupId)
    try {
      for (;;) {
        const queue = queues.get(groupId) ?? []
        const batch = queue.splice(0, MAX_BATCH)
        if (batch.length === 0) break
        try {
          await groups.patchMembers(groupId, { add: [...new Set(batch.map((w) => w.userId))] })
          for (const w of batch) w.resolve()
        } catch (err) {
          for (const w of batch) w.reject(err)
        }
      }
    } finally {
      running.delete(groupId)
      queues.delete(groupId)
    }
  }

  return {
    /** Resolves once the user is a member (already, or by this change). */
    add (groupId: string, userId: string): Promise<void> {
      return new Promise<void>((resolve, reject) => {
        const queue = queues.get(groupId) ?? []
        queue.push({ userId, resolve, reject })
        queues.set(groupId, queue)
        if (!running.has(groupId)) void flush(groupId)
      })
    },
  }
}

export type GroupMembership = ReturnType<typeof createGroupMembership>

/**
 * Removes one user from a group: read first, sent with If-Match, read again
 * after a jittered pause when another change got in between. A deleted group
 * holds nobody, and a user no longer in it is already out.
 */
export async function removeMember (groups: GroupWriter, groupId: string, userId: string, random: () => number = Math.random): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const current = await groups.get(groupId).catch((err: unknown) => {
      if (isNotFound(err)) return undefined
      throw err
    })
    if (!current || !(current.resource.members ?? []).some((m) => m.value === userId)) return
    try {
      await groups.patchMembers(groupId, { remove: [userId] }, current.version)
      return
    } catch (err) {
      if (!isVersionConflict(err)) throw err
      // Hand the job back to the queue rather than fail it: contention passes.
      if (attempt >= VERSION_RETRIES) throw new RetryLater(`group ${groupId} kept changing under concurrent updates`, 1000, { cause: err })
      await new Promise((resolve) => setTimeout(resolve, random() * 25 * 2 ** attempt))
    }
  }
}
