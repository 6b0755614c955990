import { realTimers, type Timer, type Timers } from '../lib/timers.js'
import { backoffDelay, DEFAULT_BACKOFF, JobFailed, JobDeferred, RetryLater, type BackoffPolicy, type Job, type JobHandler, type JobQueue } from './queue.js'

interface Entry<T> {
  id: string
  data: T
  attemptsMade: number
  state: 'waiting' | 'delayed' | 'active' | 'failed'
  /** Taken before the jobs already waiting (`add`'s `urgent`). */
  urgent: boolean
  timer?: Timer
}

/**
 * The in-process twin of the BullMQ queue for embedded mode: same retry,
 * rate-limit and de-duplication semantics, nothing survives the process.
 */
export function createMemoryQueue<T> (opts: {
  maxAttempts: number
  backoff?: BackoffPolicy
  random?: () => number
  onError?: (err: unknown, job: Job<T>) => void
  /** Delays, retries and deferrals run on these; default real time. */
  timers?: Timers
}): JobQueue<T> {
  const entries = new Map<string, Entry<T>>()
  const ready: string[] = []
  const backoff = opts.backoff ?? DEFAULT_BACKOFF
  const random = opts.random ?? Math.random
  const timers = opts.timers ?? realTimers
  let handler: JobHandler<T> | undefined
  let concurrency = 1
  let running = 0
  let closed = false
  const idle: Array<() => void> = []

  function schedule (entry: Entry<T>, delayMs: number): void {
    if (delayMs <= 0) {
      entry.state = 'waiting'
      if (entry.urgent) ready.unshift(entry.id)
      else ready.push(entry.id)
      pump()
      return
    }
    entry.state = 'delayed'
    entry.timer = timers.setTimeout(() => {
      entry.timer = undefined
      schedule(entry, 0)
    }, delayMs)
  }

  function pump (): void {
    if (!handler || closed) return
    while (running < concurrency && ready.length > 0) {
      const entry = entries.get(ready.shift() as string)
      if (entry && entry.state === 'waiting') void run(entry, handler)
    }
  }

  async function run (entry: Entry<T>, fn: JobHandler<T>): Promise<void> {
    running++
    entry.state = 'active'
    const job: Job<T> = { id: entry.id, data: entry.data, attempt: entry.attemptsMade + 1, maxAttempts: opts.maxAttempts }
    try {
      await fn(job)
      entries.delete(entry.id)
    } catch (err) {
      if (err instanceof JobDeferred) {
        schedule(entry, err.delayMs)
      } else {
        entry.attemptsMade++
        opts.onError?.(err, job)
        if (err instanceof JobFailed || entry.attemptsMade >= opts.maxAttempts) {
          entry.state = 'failed'
        } else {
          schedule(entry, backoffDelay(entry.attemptsMade, backoff, random, err instanceof RetryLater ? err.delayMs : 0))
        }
      }
    } finally {
      running--
      if (running === 0) idle.splice(0).forEach((resolve) => resolve())
      pump()
    }
  }

  return {
    async add (id, data, addOpts) {
      if (closed || entries.has(id)) return
      const entry: Entry<T> = { id, data, attemptsMade: 0, state: 'waiting', urgent: addOpts?.urgent === true }
      entries.set(id, entry)
      schedule(entry, addOpts?.delayMs ?? 0)
    },
    process (fn, processOpts) {
      handler = fn
      concurrency = processOpts.concurrency
      pump()
    },
    async counts () {
      const c = { waiting: 0, active: 0, delayed: 0, failed: 0 }
      for (const e of entries.values()) c[e.state]++
      return c
    },
    isProcessing: () => handler !== undefined && !closed,
    async close () {
      closed = true
      for (const e of entries.values()) timers.clearTimeout(e.timer)
      if (running > 0) await new Promise<void>((resolve) => idle.push(resolve))
    },
  }
}
