import type { FastifyBaseLogger } from 'fastify'
import type { ApiClient } from '../config/clients.js'
import type { Config } from '../config/load-config.js'
import { createBudgetUse, type BudgetUse } from '../genesys/budget/use.js'
import { createGenesysConnection } from '../genesys/connection.js'
import { planOAuthClients } from '../genesys/oauth-clients.js'
import type { ReadinessCheck } from '../lib/readiness.js'
import type { Clock } from '../lib/timers.js'
import type { Metrics } from '../metrics.js'
import { createTenants, type Tenants } from '../provisioning/tenants.js'
import { createSimulator } from '../simulator/index.js'
import type { Adapters } from './adapters.js'
import type { Closers } from './closers.js'

/** How often the Genesys OAuth client credentials are checked again (and the Retry-After while refused). */
const CREDENTIALS_CHECK_INTERVAL_MS = 30_000

/** How often an OAuth client lacking permissions (or whose permissions could not be read) is checked again. */
const REACH_RETRY_MS = 60_000

export interface GenesysSide {
  tenants: Tenants
  budgetUse: BudgetUse
  apiOrigin: string
  /** The built-in simulator's URL in simulator mode. */
  simulatorUrl?: string
  /** The provisioning queue's live note on the dashboard: this replica's Genesys calls per OAuth client. */
  queueNotes: Record<string, () => string>
}

export interface GenesysContext {
  logger: FastifyBaseLogger
  clock: Clock
  metrics: Metrics
  closers: Closers
  readiness: ReadinessCheck[]
  /** Where the clients file's credential variables are read. */
  env: Readonly<Record<string, string | undefined>>
}

/**
 * The real org or the built-in simulator over real HTTP, and one connection
 * (token cache, rate budget) per Genesys OAuth client: each API client's work,
 * reads included, goes out with its own OAuth client.
 */
export async function createGenesysSide (config: Readonly<Config>, clients: readonly ApiClient[], adapters: Adapters, ctx: GenesysContext): Promise<GenesysSide> {
  let target: { apiUrl: string, loginUrl: string, clientId: string, clientSecret: string }
  let simulatorUrl: string | undefined
  if (config.genesys.mode === 'simulator') {
    const sim = await createSimulator({ rateLimitPerMinute: config.genesys.rateLimitPerMinute })
    ctx.closers.push(() => sim.close())
    simulatorUrl = sim.url
    target = { apiUrl: sim.url, loginUrl: sim.url, ...sim.credentials }
  } else {
    target = { apiUrl: config.genesys.apiUrl ?? '', loginUrl: config.genesys.loginUrl ?? '', clientId: config.genesys.clientId ?? '', clientSecret: config.genesys.clientSecret ?? '' }
  }
  const genesysLog = ctx.logger.child({ module: 'genesys' })
  const plan = planOAuthClients(clients, ctx.env, target)
  const budgetUse = createBudgetUse(plan.refs.map((r) => r.name))
  const tenants = await createTenants({
    plan,
    clients,
    connect: (ref) => {
      const listen = ctx.metrics.oauthClient(ref.name)
      const log = genesysLog.child({ oauthClient: ref.name })
      const state = adapters.genesysState(ref, log, listen)
      return createGenesysConnection({
        apiUrl: target.apiUrl,
        loginUrl: target.loginUrl,
        clientId: ref.clientId,
        clientSecret: ref.clientSecret,
        credentialsVariables: ref.variables,
        timeouts: config.genesys.timeouts,
        maxConnections: config.genesys.maxConnections,
        logger: log,
        tokenProvider: state.tokenProvider,
        budget: state.budget,
        onEvent: listen.genesysEvent,
        onCall: (operation, status, seconds) => {
          listen.genesysCall(operation, status, seconds)
          budgetUse.record(ref.name)
        },
        onBudgetWait: listen.budgetWait,
      })
    },
    mappings: adapters.stores.mappings,
    clock: ctx.clock,
    cacheTtlMs: config.directoryCacheTtlMs,
    sharedCache: (ref) => adapters.directoryCache?.(ref.clientId),
    logger: ctx.logger,
    loginOrigin: new URL(target.loginUrl).origin,
    credentialsIntervalMs: CREDENTIALS_CHECK_INTERVAL_MS,
    reachRetryMs: REACH_RETRY_MS,
  })
  ctx.closers.push(() => tenants.close())
  // Wrong credentials and missing permissions are found at startup, not when the first hire fails on them.
  tenants.start()
  ctx.readiness.push(...tenants.readiness())
  const queueNotes = {
    provisioning: () => `Genesys calls in the last 60 s from this replica, per OAuth client (each may send ${config.genesys.rateLimitPerMinute}/min, shared by the fleet): ${budgetUse.snapshot().map((u) => `${u.oauthClient} ${u.lastMinute}`).join(', ')}`,
  }
  return { tenants, budgetUse, queueNotes, apiOrigin: new URL(target.apiUrl).origin, ...(simulatorUrl !== undefined ? { simulatorUrl } : {}) }
}
