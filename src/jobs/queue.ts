/**
 * The durable job port. Jobs are at-least-once: a handler may run again after a
 * crash, so every handler is idempotent. Retries live here and nowhere else:
 * full-jitter exponential backoff with an upstream `Retry-After` as a floor.
 */

export interface Job<T> {
  id: string
  data: T
  /** 1-based number of this attempt. */
  attempt: number
  maxAttempts: number
}

export type JobHandler<T> = (job: Job<T>) => Promise<void>

export interface AddOptions {
  delayMs?: number
  urgent?: boolean
}

export interface JobQueue<T> {
  /**
   * Adds a job; adding an id that is still queued, running or kept as failed is
   * a no-op. An `urgent` job goes ahead of the jobs waiting (a leaver's access
   * must not wait behind a bulk load of hires).
   */
  add (id: string, data: T, opts?: AddOptions): Promise<void>
  /** Starts consuming in this process. */
  process (handler: JobHandler<T>, opts: { concurrency: number }): void
  /** Jobs waiting, running, delayed and failed (for metrics and readiness). */
  counts (): Promise<{ waiting: number, active: number, delayed: number, failed: number }>
  /** True once `process` was called and the worker is running. */
  isProcessing (): boolean
  /** Stops taking jobs, lets running ones finish (bounded by the caller's grace), releases connections. */
  close (): Promise<void>
}

/** Thrown by a handler: try again later, never sooner than `delayMs`. Burns an attempt. */
export class RetryLater extends Error {
  readonly delayMs: number
  constructor (message: string, delayMs: number, opts?: { cause?: unknown }) {
    super(message, opts)
    this.name = 'RetryLater'
    this.delayMs = delayMs
  }
}

/**
 * Thrown by a handler: run this job again in `delayMs`, without spending an
 * attempt (its upstream asked it to wait: a 429). Other jobs carry on; a job of
 * another tenant goes out with another OAuth client and its own budget.
 */
export class JobDeferred extends Error {
  readonly delayMs: number
  constructor (message: string, delayMs: number) {
    super(message)
    this.name = 'JobDeferred'
    this.delayMs = delayMs
  }
}

/** Thrown by a handler: do not retry; keep the job as failed for inspection. */
export class JobFailed extends Error {
  constructor (message: string, opts?: { cause?: unknown }) {
    super(message, opts)
    this.name = 'JobFailed'
  }
}

export interface BackoffPolicy {
  baseMs: number
  capMs: number
}

export const DEFAULT_BACKOFF: BackoffPolicy = { baseMs: 1000, capMs: 5 * 60_000 }

/**
 * Full jitter (AWS architecture blog): uniform in [0, min(cap, base·2^(n-1))],
 * then raised to the floor an upstream asked for.
 */
export function backoffDelay (attemptsMade: number, policy: BackoffPolicy, random: () => number, floorMs = 0): number {
  const ceiling = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, attemptsMade - 1))
  return Math.max(Math.floor(random() * ceiling), floorMs)
}
