/**
 * Time as a port: the clock and the one-shot timers that go with it. Code that
 * waits (retry delays, queue pauses, periodic sweeps) takes a `Timers` so tests
 * can hand it virtual time; production passes nothing and gets `realTimers`.
 * Structurally a `Clock` too (`now()`), so one object serves both.
 */

/** What time it is (epoch ms): all that code which only reads the time needs. */
export interface Clock {
  now (): number
}

/** A pending timer; `unref()` lets the process exit while it is pending. */
export interface Timer {
  unref (): unknown
}

export interface Timers extends Clock {
  setTimeout (fn: () => void, ms: number): Timer
  /** Cancels a pending timer; undefined or an already fired one is a no-op. */
  clearTimeout (timer: Timer | undefined): void
}

export const realTimers: Timers = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
  clearTimeout: (timer) => { globalThis.clearTimeout(timer as NodeJS.Timeout | undefined) },
}
