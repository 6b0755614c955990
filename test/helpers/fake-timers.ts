import type { Timer, Timers } from '../../src/lib/timers.js'

/**
 * Virtual time for code that takes a `Timers`: nothing fires until the test
 * moves time on, and then every due timer fires in order (ties in the order
 * they were set), with pending promise callbacks run after each, so a retry
 * schedule of days plays out in a few event-loop turns.
 */
export interface FakeTimers extends Timers {
  /** Timers set and neither fired nor cleared. */
  pending (): number
  /** Moves virtual time forward by `ms`, firing every timer due on the way. */
  advance (ms: number): Promise<void>
  /** Jumps to the earliest pending timer and fires it (and any due at the same instant); false when none is pending. */
  next (): Promise<boolean>
}

interface Entry {
  at: number
  seq: number
  fn: () => void
}

/** Lets callbacks queued by a fired timer (promise chains, immediates) run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve))

export function createFakeTimers (start = Date.now()): FakeTimers {
  let now = start
  let seq = 0
  const entries = new Map<Timer, Entry>()

  function earliest (): [Timer, Entry] | undefined {
    let best: [Timer, Entry] | undefined
    for (const pair of entries) {
      if (!best || pair[1].at < best[1].at || (pair[1].at === best[1].at && pair[1].seq < best[1].seq)) best = pair
    }
    return best
  }

  async function fireDue (until: number): Promise<void> {
    for (let due = earliest(); due && due[1].at <= until; due = earliest()) {
      entries.delete(due[0])
      now = Math.max(now, due[1].at)
      due[1].fn()
      await settle()
    }
  }

  return {
    now: () => now,
    setTimeout (fn, ms) {
      const timer: Timer = { unref: () => timer }
      entries.set(timer, { at: now + Math.max(0, ms), seq: seq++, fn })
      return timer
    },
    clearTimeout (timer) {
      if (timer) entries.delete(timer)
    },
    pending: () => entries.size,
    async advance (ms) {
      const target = now + ms
      await fireDue(target)
      now = Math.max(now, target)
    },
    async next () {
      const due = earliest()
      if (!due) return false
      await fireDue(due[1].at)
      return true
    },
  }
}
