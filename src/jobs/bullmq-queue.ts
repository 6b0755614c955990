import { DelayedError, Queue, UnrecoverableError, Worker, type ConnectionOptions } from 'bullmq'
import { backoffDelay, DEFAULT_BACKOFF, JobFailed, JobDeferred, RetryLater, type BackoffPolicy, type JobHandler, type JobQueue } from './queue.js'

/**
 * BullMQ adapter of the job port (durable, shared by every replica).
 * Redis must run with `maxmemory-policy noeviction` and AOF (readiness checks it).
 * Failed jobs are kept for inspection; completed ones expire.
 */
export function createBullQueue<T> (opts: {
  name: string
  connection: ConnectionOptions
  /** Key prefix; hash-tagged (`{bull}`) so that each queue's keys share a cluster slot. */
  prefix?: string
  maxAttempts: number
  backoff?: BackoffPolicy
  random?: () => number
  /** How long a worker's lock lives without renewal: a killed worker's job is re-run after this. */
  lockDurationMs?: number
  onError?: (err: unknown, jobId: string) => void
}): JobQueue<T> & { readonly bullQueue: Queue } {
  const backoff = opts.backoff ?? DEFAULT_BACKOFF
  const random = opts.random ?? Math.random
  const prefix = opts.prefix !== undefined ? { prefix: opts.prefix } : {}
  const queue = new Queue(opts.name, { connection: opts.connection, ...prefix })
  queue.on('error', (err) => opts.onError?.(err, ''))
  let worker: Worker | undefined

  return {
    /** For the operators' queue dashboard. */
    bullQueue: queue,
    async add (id, data, addOpts) {
      await queue.add(opts.name, data, {
        jobId: id,
        delay: addOpts?.delayMs,
        // The head of the wait list: taken before every job already waiting.
        ...(addOpts?.urgent === true ? { lifo: true } : {}),
        attempts: opts.maxAttempts,
        backoff: { type: 'full-jitter' },
        removeOnComplete: { age: 24 * 3600, count: 10_000 },
        removeOnFail: false,
      })
    },
    process (handler: JobHandler<T>, processOpts) {
      worker = new Worker(opts.name, async (job, token) => {
        const id = job.id ?? ''
        try {
          await handler({ id, data: job.data as T, attempt: job.attemptsMade + 1, maxAttempts: opts.maxAttempts })
        } catch (err) {
          if (err instanceof JobDeferred) {
            // Only this job waits (delayed, no attempt spent); the others carry on.
            await job.moveToDelayed(Date.now() + err.delayMs, token)
            throw new DelayedError()
          }
          opts.onError?.(err, id)
          if (err instanceof JobFailed) throw new UnrecoverableError(err.message)
          throw err
        }
      }, {
        connection: opts.connection,
        ...prefix,
        concurrency: processOpts.concurrency,
        lockDuration: opts.lockDurationMs ?? 30_000,
        // Stalled jobs (their worker died) are looked for as often as a lock lives.
        stalledInterval: opts.lockDurationMs ?? 30_000,
        // A job stalls when its worker dies (deploys, OOM kills); that is no reason
        // to fail it. Steps are idempotent, so it simply runs again.
        maxStalledCount: 1000,
        settings: {
          backoffStrategy: (attemptsMade, _type, err) =>
            backoffDelay(attemptsMade, backoff, random, err instanceof RetryLater ? err.delayMs : 0),
        },
      })
      worker.on('error', (err) => opts.onError?.(err, ''))
    },
    async counts () {
      const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'prioritized', 'paused')
      return { waiting: (c.waiting ?? 0) + (c.prioritized ?? 0) + (c.paused ?? 0), active: c.active ?? 0, delayed: c.delayed ?? 0, failed: c.failed ?? 0 }
    },
    isProcessing: () => worker !== undefined && worker.isRunning(),
    async close () {
      await worker?.close()
      await queue.close()
    },
  }
}
