import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { ApiEvent } from './genesys/http.js'
import type { TokenEvent } from './genesys/ports.js'
import type { RateBudgetEvent } from './genesys/budget/memory.js'
import type { ProvisioningRecord } from './provisioning/ports.js'
import type { Delivery, DeliveryAttempt } from './webhooks/ports.js'

/**
 * The service's Prometheus metrics, one registry per process. Label values are
 * bounded sets (route patterns, operation names, status codes, issue and error
 * codes); never an email, an id or a URL.
 */

const SECONDS_FAST = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
const SECONDS_SLOW = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600]

export interface QueueCounts {
  name: string
  counts (): Promise<{ waiting: number, active: number, delayed: number, failed: number }>
}

export function createMetrics (opts: { defaultMetrics?: boolean } = {}) {
  const registry = new Registry()
  if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: registry })
  const registers = [registry]
  const queues: QueueCounts[] = []

  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP requests served, by route pattern, method and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: SECONDS_FAST,
    registers,
  })
  const driftFound = new Counter({
    name: 'drift_findings_total',
    help: 'Drift found by reconciliation (a managed worker changed in Genesys outside the service), by kind.',
    labelNames: ['kind'] as const,
    registers,
  })
  const reconcileDuration = new Histogram({
    name: 'reconciliation_duration_seconds',
    help: 'Reconciliation runs, by final status.',
    labelNames: ['status'] as const,
    buckets: SECONDS_SLOW,
    registers,
  })
  const reconcileCalls = new Counter({
    name: 'reconciliation_upstream_calls_total',
    help: 'Genesys calls made by reconciliation runs.',
    registers,
  })
  const requestOutcomes = new Counter({
    name: 'provisioning_requests_total',
    help: 'Provisioning requests that reached a terminal state, by outcome.',
    labelNames: ['outcome'] as const,
    registers,
  })
  const rejectionIssues = new Counter({
    name: 'provisioning_rejection_issues_total',
    help: 'Issues of rejected provisioning requests, by issue code.',
    labelNames: ['code'] as const,
    registers,
  })
  const failures = new Counter({
    name: 'provisioning_failures_total',
    help: 'Failed provisioning requests, by error code.',
    labelNames: ['code'] as const,
    registers,
  })
  const endToEnd = new Histogram({
    name: 'provisioning_duration_seconds',
    help: 'Time from acceptance to the terminal state, by outcome.',
    labelNames: ['outcome'] as const,
    buckets: SECONDS_SLOW,
    registers,
  })
  const upstreamCalls = new Counter({
    name: 'genesys_requests_total',
    help: 'Genesys Cloud API calls, by operation, HTTP status (transport = no response) and OAuth client (_default or the API client id that names it).',
    labelNames: ['operation', 'status', 'oauth_client'] as const,
    registers,
  })
  const upstreamDuration = new Histogram({
    name: 'genesys_request_duration_seconds',
    help: 'Genesys Cloud API call duration, by operation.',
    labelNames: ['operation'] as const,
    buckets: SECONDS_FAST,
    registers,
  })
  const upstreamEvents = new Counter({
    name: 'genesys_call_events_total',
    help: 'Genesys call events: rate-limited (a 429 paused the budget), unauthorized-retry (a 401 refreshed the token), error; by OAuth client.',
    labelNames: ['event', 'oauth_client'] as const,
    registers,
  })
  const tokenFetches = new Counter({
    name: 'genesys_token_fetches_total',
    help: 'OAuth token requests sent to the Genesys login host, by OAuth client.',
    labelNames: ['oauth_client'] as const,
    registers,
  })
  const tokenCache = new Counter({
    name: 'genesys_token_cache_total',
    help: 'Token lookups: hit (served locally), miss (went to Redis or the login host), wait (waited for another replica), fallback (Redis unavailable), invalidate (a 401 dropped the token).',
    labelNames: ['result', 'oauth_client'] as const,
    registers,
  })
  const budgetWait = new Histogram({
    name: 'genesys_rate_budget_wait_seconds',
    help: 'Time calls waited for a slot in their OAuth client\'s rate budget (shared by the fleet).',
    labelNames: ['oauth_client'] as const,
    buckets: [0, 0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10, 30, 60],
    registers,
  })
  const budgetEvents = new Counter({
    name: 'genesys_rate_budget_events_total',
    help: 'Rate budget events: wait (a call had to wait), paused (a call met a 429 pause), exceeded (a call gave up waiting); by OAuth client.',
    labelNames: ['event', 'oauth_client'] as const,
    registers,
  })
  const webhookAttempts = new Counter({
    name: 'webhook_delivery_attempts_total',
    help: 'Webhook POST attempts, by result (2xx, 3xx, 4xx, 5xx, error) and attempt number (8 = eighth or later).',
    labelNames: ['result', 'attempt'] as const,
    registers,
  })
  const webhookDuration = new Histogram({
    name: 'webhook_delivery_duration_seconds',
    help: 'Duration of webhook POST attempts.',
    buckets: SECONDS_FAST,
    registers,
  })
  const webhookOutcomes = new Counter({
    name: 'webhook_deliveries_total',
    help: 'Webhook deliveries that ended: delivered, dead (retries exhausted), disabled (endpoint answered 410).',
    labelNames: ['outcome'] as const,
    registers,
  })
  const held = new Counter({
    name: 'provisioning_held_total',
    help: 'Terminations and moves held by the mass-change brake until an admin confirms them, by kind.',
    labelNames: ['kind'] as const,
    registers,
  })
  // Read from the queues at scrape time.
  new Gauge({
    name: 'queue_jobs',
    help: 'Jobs per queue and state (waiting, active, delayed, failed).',
    labelNames: ['queue', 'state'] as const,
    registers,
    async collect () {
      this.reset()
      for (const q of queues) {
        try {
          const c = await q.counts()
          for (const [state, n] of Object.entries(c)) this.set({ queue: q.name, state }, n)
        } catch {
          // A queue that cannot answer (Redis down) is left out of this scrape.
        }
      }
    },
  })

  return {
    registry,
    watchQueue (q: QueueCounts): void {
      queues.push(q)
    },
    http (method: string, route: string, statusCode: number, seconds: number): void {
      httpDuration.observe({ method, route, status_code: String(statusCode) }, seconds)
    },
    provisioningOutcome (record: ProvisioningRecord): void {
      requestOutcomes.inc({ outcome: record.status })
      endToEnd.observe({ outcome: record.status }, Math.max(0, (Date.parse(record.updatedAt) - Date.parse(record.createdAt)) / 1000))
      if (record.status === 'rejected') {
        for (const code of new Set((record.issues ?? []).map((i) => i.code))) rejectionIssues.inc({ code })
      }
      if (record.status === 'failed') failures.inc({ code: record.error?.code ?? 'PROV_ERR_INTERNAL' })
    },
    lifecycleHeld (kind: string): void {
      held.inc({ kind })
    },
    /** A reconciliation run ended: drift found by kind, its duration and its Genesys calls. */
    reconciliation (run: { status: string, upstreamCalls: number, found: Partial<Record<string, number>> }, seconds: number): void {
      for (const [kind, n] of Object.entries(run.found)) driftFound.inc({ kind }, n ?? 0)
      reconcileDuration.observe({ status: run.status }, seconds)
      reconcileCalls.inc(run.upstreamCalls)
    },
    /**
     * The listeners of one Genesys OAuth client's connection. `name` is
     * `_default` or an API client id: bounded, and never a Genesys client id.
     */
    oauthClient (name: string) {
      const oauth_client = name
      return {
        genesysCall (operation: string, status: string, seconds: number): void {
          upstreamCalls.inc({ operation, status, oauth_client })
          upstreamDuration.observe({ operation }, seconds)
        },
        genesysEvent (event: ApiEvent | 'token-fetch'): void {
          if (event === 'token-fetch') tokenFetches.inc({ oauth_client })
          else if (event !== 'request') upstreamEvents.inc({ event, oauth_client })
        },
        tokenEvent (event: TokenEvent): void {
          if (event !== 'fetch') tokenCache.inc({ result: event, oauth_client })
        },
        budgetWait (seconds: number): void {
          budgetWait.observe({ oauth_client }, seconds)
        },
        budgetEvent (event: RateBudgetEvent): void {
          budgetEvents.inc({ event, oauth_client })
        },
      }
    },
    webhookAttempt (_delivery: Delivery, attempt: DeliveryAttempt): void {
      const result = attempt.statusCode === undefined ? 'error' : `${Math.floor(attempt.statusCode / 100)}xx`
      webhookAttempts.inc({ result, attempt: String(Math.min(attempt.attempt, 8)) })
      webhookDuration.observe(attempt.durationMs / 1000)
    },
    webhookOutcome (outcome: 'delivered' | 'dead' | 'disabled'): void {
      webhookOutcomes.inc({ outcome })
    },
  }
}

export type Metrics = ReturnType<typeof createMetrics>
