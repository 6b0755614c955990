import { errors } from '../../errors.js'
import type { QueueLock } from '../ports.js'

/** Default bound on waiting for a busy queue lock (both twins). */
export const QUEUE_LOCK_WAIT_MS = 10_000

export const queueBusy = (queueId: string) =>
  errors.unavailable(`queue ${queueId} is being changed by another request; try again`, 1)

/** In-process twin of the queue lock: one FIFO of waiters per queue id. */
export function createMemoryQueueLock (opts: { waitMs?: number } = {}): QueueLock {
  const waitMs = opts.waitMs ?? QUEUE_LOCK_WAIT_MS
  const held = new Set<string>()
  const waiters = new Map<string, Array<() => void>>()

  function release (queueId: string): void {
    const next = waiters.get(queueId)?.shift()
    if (next) next() // hand over without releasing: nobody can slip in between
    else held.delete(queueId)
    if (waiters.get(queueId)?.length === 0) waiters.delete(queueId)
  }

  async function acquire (queueId: string): Promise<void> {
    if (!held.has(queueId)) {
      held.add(queueId)
      return
    }
    await new Promise<void>((resolve, reject) => {
      const list = waiters.get(queueId) ?? []
      const timer = setTimeout(() => {
        const i = list.indexOf(grant)
        if (i >= 0) list.splice(i, 1)
        reject(queueBusy(queueId))
      }, waitMs)
      const grant = () => {
        clearTimeout(timer)
        resolve()
      }
      list.push(grant)
      waiters.set(queueId, list)
    })
  }

  return {
    async withLock (queueId, fn) {
      await acquire(queueId)
      try {
        return await fn()
      } finally {
        release(queueId)
      }
    },
  }
}
