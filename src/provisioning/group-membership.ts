import { RetryLater } from '../jobs/queue.js'
import type { GenesysClient } from '../genesys/client.js'
import { isVersionConflict } from '../genesys/errors.js'

export type GroupWriter = Pick<GenesysClient['groups'], 'get' | 'patchMembers'>

/** Genesys takes at most 50 member ids per membership change. */
const MAX_BATCH = 50
/** A group whose version keeps moving under us is re-read this many times per batch. */
const VERSION_RETRIES = 5

interface Waiter { userId: string, resolve: () => void, reject: (err: unknown) => void }

/**
 * Adds users to Genesys groups, one change in flight per group per process.
 * Many hires join the same few groups at once; each writing on its own would
 * collide on the group's version (`If-Match`) and spend the rate budget on
 * re-reads. Instead, adds that arrive while a group's change is in flight are
 * coalesced into the next one: one read and one PATCH for up to 50 users.
 * Other replicas may still change the group between our read and our write;
 * a version conflict is answered by reading again after a jittered pause.
 */
export function createGroupMembership (groups: GroupWriter, opts: { random?: () => number } = {}) {
  const random = opts.random ?? Math.random
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
          await addBatch(groupId, [...new Set(batch.map((w) => w.userId))])
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

  async function addBatch (groupId: string, userIds: string[]): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const current = await groups.get(groupId)
      const members = new Set((current.resource.members ?? []).map((m) => m.value))
      const missing = userIds.filter((id) => !members.has(id))
      if (missing.length === 0) return
      try {
        await groups.patchMembers(groupId, { add: missing }, current.version)
        return
      } catch (err) {
        if (!isVersionConflict(err)) throw err
        if (attempt >= VERSION_RETRIES) {
          // Hand the job back to the queue rather than fail it: contention passes.
          throw new RetryLater(`group ${groupId} kept changing under concurrent updates`, 1000, { cause: err })
        }
        await new Promise((resolve) => setTimeout(resolve, random() * 25 * 2 ** attempt))
      }
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
