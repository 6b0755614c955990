import type { FastifyBaseLogger } from 'fastify'
import { sha256Hex, type ClientRegistry } from '../config/clients.js'
import { RetryLater, type Job } from '../jobs/queue.js'
import { periodic } from '../lib/periodic.js'
import type { Timers } from '../lib/timers.js'
import type { Clock } from '../lib/timers.js'
import type { Delivery, DeliveryAttempt, DeliveryJob, DeliveryQueue, DeliveryStore, EndpointState } from './ports.js'
import { nextDelay } from './schedule.js'
import type { Sender } from './sender.js'

/** A `Retry-After` longer than this is read as this (a week); shorter ones are always honoured. */
const MAX_RETRY_AFTER_MS = 7 * 24 * 3600 * 1000
/** Attempts kept per delivery (the newest); older ones are summarised by the count. */
const MAX_ATTEMPTS_KEPT = 50

/** The endpoint's disabled state, when it is this URL that answered 410 (a new URL is a new endpoint). */
export async function disabledState (store: Pick<DeliveryStore, 'endpointState'>, clientId: string, url: string): Promise<EndpointState | undefined> {
  const state = await store.endpointState(clientId)
  return state && state.urlSha256 === sha256Hex(url) ? state : undefined
}

export interface DeliveryHandlerDeps {
  store: DeliveryStore
  clients: Pick<ClientRegistry, 'get'>
  sender: Sender
  clock: Clock
  /** Gaps between attempts, ms; one more attempt than gaps. */
  schedule: readonly number[]
  logger: FastifyBaseLogger
  random?: () => number
  /** Called with each attempt's outcome (metrics listen here). */
  onAttempt?: (delivery: Delivery, attempt: DeliveryAttempt) => void
  /** Called when a delivery ends: delivered, dead-lettered or held by a disabled endpoint. */
  onOutcome?: (outcome: 'delivered' | 'dead' | 'disabled') => void
}

/**
 * One delivery attempt per job run. At-least-once: a worker killed after the
 * receiver got the request but before the outcome was saved sends it again with
 * the same `webhook-id`, which receivers use to drop the duplicate.
 */
export function createDeliveryHandler (deps: DeliveryHandlerDeps) {
  const { store, clock, logger } = deps
  const random = deps.random ?? Math.random
  const iso = (ms = clock.now()) => new Date(ms).toISOString()

  return async function handle (job: Job<DeliveryJob>): Promise<void> {
    try {
      await attempt(job)
    } catch (err) {
      if (err instanceof RetryLater) throw err
      // The job's own trouble (a store blip), not the receiver's: try again soon
      // without touching the delivery's schedule.
      throw new RetryLater(`webhook job error: ${err instanceof Error ? err.message : String(err)}`, 5000, { cause: err })
    }
  }

  /** Ends a delivery (delivered, dead-lettered or held), unless a replay superseded this generation. */
  async function settle (delivery: Delivery, status: 'delivered' | 'dead' | 'disabled', patch: Partial<Delivery> = {}): Promise<void> {
    if (await store.save({ ...delivery, ...patch, status, nextAttemptAt: undefined }, delivery.generation)) deps.onOutcome?.(status)
  }

  async function attempt (job: Job<DeliveryJob>): Promise<void> {
    const delivery = await store.get(job.data.deliveryId)
    if (!delivery || delivery.generation !== job.data.generation || delivery.status !== 'pending') return
    const log = logger.child({ deliveryId: delivery.id, clientId: delivery.clientId, eventType: delivery.type })
    const endpoint = deps.clients.get(delivery.clientId)?.webhook

    if (!endpoint) {
      log.error({ alert: 'webhook_dead_letter' }, 'webhook dead-lettered: the client has no webhook endpoint any more')
      await settle(delivery, 'dead')
      return
    }
    if (await disabledState(store, delivery.clientId, endpoint.url)) {
      log.warn('webhook held: the endpoint is disabled (it answered 410 Gone)')
      await settle(delivery, 'disabled')
      return
    }

    const attemptNo = delivery.attempts.filter((a) => a.generation === delivery.generation).length + 1
    const timestamp = Math.floor(clock.now() / 1000)
    const at = iso()
    const result = await deps.sender.send(endpoint.url, endpoint.secrets, delivery.id, timestamp, delivery.body)
    const record: DeliveryAttempt = {
      generation: delivery.generation,
      attempt: attemptNo,
      at,
      durationMs: result.durationMs,
      timestamp,
      ...(result.statusCode !== undefined ? { statusCode: result.statusCode } : {}),
      ...(result.error !== undefined ? { error: result.error } : {}),
    }
    const attempts = [...delivery.attempts, record].slice(-MAX_ATTEMPTS_KEPT)
    deps.onAttempt?.(delivery, record)
    const fields = { attempt: attemptNo, statusCode: result.statusCode, durationMs: result.durationMs }

    if (result.ok) {
      log.info(fields, 'webhook delivered')
      await settle(delivery, 'delivered', { attempts, deliveredAt: at })
      return
    }
    if (result.statusCode === 410) {
      log.error({ ...fields, alert: 'webhook_endpoint_disabled' }, 'webhook endpoint answered 410 Gone: disabled; later events are held until it is enabled')
      await store.disableEndpoint(delivery.clientId, { urlSha256: sha256Hex(endpoint.url), disabledAt: at, deliveryId: delivery.id, statusCode: 410 })
      await settle(delivery, 'disabled', { attempts })
      return
    }
    const floor = Math.min(result.retryAfterMs ?? 0, MAX_RETRY_AFTER_MS)
    const delay = nextDelay(deps.schedule, attemptNo, random, floor)
    if (delay === undefined) {
      log.error({ ...fields, error: result.error, alert: 'webhook_dead_letter' }, 'webhook dead-lettered after its last scheduled attempt')
      await settle(delivery, 'dead', { attempts })
      return
    }
    log.warn({ ...fields, error: result.error, retryInMs: delay }, 'webhook attempt failed; will retry')
    const saved = await store.save({ ...delivery, attempts, nextAttemptAt: iso(clock.now() + delay) }, delivery.generation)
    if (saved) throw new RetryLater(`webhook attempt ${attemptNo} failed: ${result.error ?? 'unknown'}`, delay)
  }
}

/**
 * Hands outbox entries to the delivery queue: right after the state change that
 * wrote them (the fast path), and on a timer for any a crash left behind. Adding
 * a job is idempotent per delivery generation, so both paths may race.
 */
export function createRelay (deps: {
  store: DeliveryStore
  queue: DeliveryQueue
  clock: Clock
  logger: FastifyBaseLogger
  intervalMs: number
  /** Entries younger than this are left to the fast path. */
  graceMs: number
  /** Paces the sweep; default real time. */
  timers?: Timers
}) {
  /**
   * Outbox entries are always generation 0: a replay enqueues its own job, and
   * a generation-0 job for a replayed delivery finds nothing to do.
   */
  async function dispatch (id: string): Promise<void> {
    await deps.queue.enqueue({ id, generation: 0 })
    await deps.store.dispatched(id)
  }

  async function sweep (): Promise<number> {
    const ids = await deps.store.outbox(new Date(deps.clock.now() - deps.graceMs).toISOString(), 500)
    for (const id of ids) await dispatch(id)
    if (ids.length > 0) deps.logger.info({ count: ids.length }, 'webhook outbox entries handed to the delivery queue')
    return ids.length
  }

  return { dispatch, sweep, ...periodic(sweep, { intervalMs: deps.intervalMs, logger: deps.logger, what: 'webhook outbox sweep', timers: deps.timers }) }
}
