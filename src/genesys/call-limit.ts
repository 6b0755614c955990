import { AsyncLocalStorage } from 'node:async_hooks'

/** The Genesys calls one piece of work may still make. */
interface CallMeter { readonly limit: number, used: number }

const current = new AsyncLocalStorage<CallMeter>()

/** A call the work in progress may not make: it has spent its allowance. */
export class CallLimitExceeded extends Error {
  readonly limit: number
  readonly meter: CallMeter
  constructor (meter: CallMeter, operation: string) {
    super(`${operation} not sent: this work has made its ${meter.limit} Genesys calls`)
    this.name = 'CallLimitExceeded'
    this.limit = meter.limit
    this.meter = meter
  }
}

/**
 * Runs `work` allowing it at most `limit` Genesys calls (cache hits are free);
 * the call past it is never sent and throws `CallLimitExceeded`. Nested calls
 * started by the work, however deep, are counted (async context).
 */
export async function withCallLimit<T> (limit: number, work: () => Promise<T>): Promise<{ value: T, used: number }> {
  const meter: CallMeter = { limit, used: 0 }
  const value = await current.run(meter, work)
  return { value, used: meter.used }
}

/** Books one Genesys call against the work in progress (no-op outside `withCallLimit`). */
export function chargeCall (operation: string): void {
  const meter = current.getStore()
  if (!meter) return
  if (meter.used >= meter.limit) throw new CallLimitExceeded(meter, operation)
  meter.used++
}

/**
 * Whether `err` is another work's limit: a lookup shared through a cache was
 * started by work that ran out of calls. The caller may then load it itself.
 */
export function isOthersCallLimit (err: unknown): boolean {
  return err instanceof CallLimitExceeded && err.meter !== current.getStore()
}
