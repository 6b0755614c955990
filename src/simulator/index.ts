import { buildApp } from './app.js'
import { registerAdmin } from './admin.js'
import type { SimContext } from './context.js'
import { createFaultController, type Faults } from './faults.js'
import { registerOAuth } from './oauth.js'
import { createTokenStore } from './tokens.js'
import { registerPlatform } from './platform.js'
import { createRateLimiter } from './rate-limit.js'
import { createRequestLog, type SimCounters, type SimRequestLog } from './request-log.js'
import { registerScimDiscovery } from './scim-discovery.js'
import { registerScimGroups } from './scim-groups.js'
import { registerScimUsers } from './scim-users.js'
import { defaultSeed, validateSeed, type SimSeed } from './seed.js'
import { createState, type SimState } from './state.js'

export type { Faults } from './faults.js'
export { DEFAULT_FAULTS, FaultsSchema, validateFaults } from './faults.js'
export type { SimCounters, SimRequestLog } from './request-log.js'
export type { SimSeed, SeedClient, PermissionPolicy } from './seed.js'
export { defaultSeed, loadSeedFile, SimSeedSchema, validateSeed } from './seed.js'
export type { SimDivision, SimGrant, SimGroup, SimNamed, SimQueue, SimRole, SimState, SimUser } from './state.js'
export { snapshotState } from './state.js'
export { SCIM_CORE_USER, SCIM_ENTERPRISE_USER, SCIM_GENESYS_USER, EXTERNAL_ID_AUTHORITY } from './scim-users.js'

export interface SimulatorOptions {
  /** Default: the bundled `seed.json`. */
  seed?: SimSeed
  faults?: Partial<Faults>
  /** Epoch ms; drives token expiry, rate windows, consistency delay and timestamps. Default `Date.now`. */
  clock?: () => number
  /** Drives fault fractions and jitter. Default `Math.random`. */
  random?: () => number
  /** Default 0 (any free port). */
  port?: number
  /** Default 127.0.0.1. */
  host?: string
  /** Per access token, sliding 60 s window. Default 300. */
  rateLimitPerMinute?: number
  /** Default 86400; a seed client's `tokenLifetimeSeconds` wins. */
  tokenLifetimeSeconds?: number
  /** A SCIM list `count` above this answers 429; null (default) = no limit. */
  scimMaxCount?: number | null
  /** Request-log entries kept (newest first to go); counters are unaffected. Default 100 000. */
  requestLogLimit?: number
  /** Makes access tokens (tests plant a marker in them to prove tokens never leak). Default: 48 random bytes. */
  mintToken?: () => string
}

export interface Simulator {
  /** `http://127.0.0.1:<port>`: both the login host (`/oauth/token`) and the API host (`/api/v2/...`). */
  url: string
  /** The first seeded OAuth client. */
  credentials: { clientId: string, clientSecret: string }
  /** Live state, for assertions. */
  state: SimState
  setFaults (f: Partial<Faults>): void
  /** Every issued token becomes invalid (401 bad.credentials). */
  revokeTokens (): void
  requests (): SimRequestLog[]
  counters (): SimCounters
  resetLog (): void
  close (): Promise<void>
}

/** Starts a simulator listening on `host:port` (127.0.0.1 and a free port by default). */
export async function createSimulator (opts: SimulatorOptions = {}): Promise<Simulator> {
  const seed = opts.seed === undefined ? defaultSeed() : validateSeed(opts.seed)
  const clock = opts.clock ?? Date.now
  const random = opts.random ?? Math.random
  const rateLimit = opts.rateLimitPerMinute ?? 300
  if (!Number.isInteger(rateLimit) || rateLimit < 1) throw new Error('rateLimitPerMinute must be a positive integer')
  let url = ''
  const ctx: SimContext = {
    state: createState(seed, new Date(clock()).toISOString()),
    clock,
    nowIso: () => new Date(clock()).toISOString(),
    faults: createFaultController(opts.faults ?? {}, random),
    tokens: createTokenStore(clock, opts.mintToken),
    baseUrl: () => url,
    scimMaxCount: opts.scimMaxCount ?? null,
    tokenLifetimeSeconds: opts.tokenLifetimeSeconds ?? 86400,
  }
  const limiter = createRateLimiter(rateLimit, 60_000, clock)
  const log = createRequestLog(opts.requestLogLimit ?? 100_000)
  const app = buildApp({ ctx, limiter, log, random })
  registerOAuth(app, ctx)
  registerScimUsers(app, ctx)
  registerScimGroups(app, ctx)
  registerScimDiscovery(app, ctx)
  registerPlatform(app, ctx)
  registerAdmin(app, ctx, log, limiter)

  const host = opts.host ?? '127.0.0.1'
  await app.listen({ port: opts.port ?? 0, host })
  const address = app.server.address()
  if (address === null || typeof address === 'string') throw new Error('simulator: no TCP address')
  url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`

  const first = seed.clients[0]
  if (first === undefined) throw new Error('simulator: the seed has no OAuth client')
  return {
    url,
    credentials: { clientId: first.clientId, clientSecret: first.clientSecret },
    state: ctx.state,
    setFaults: (f) => { ctx.faults.set(f) },
    revokeTokens: () => {
      ctx.tokens.revokeAll()
      limiter.reset()
    },
    requests: () => log.list(),
    counters: () => log.counters(),
    resetLog: () => log.reset(),
    close: () => app.close(),
  }
}
