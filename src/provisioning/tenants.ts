import type { FastifyBaseLogger } from 'fastify'
import type { ApiClient } from '../config/clients.js'
import type { GenesysConnection } from '../genesys/connection.js'
import { isGenesysError } from '../genesys/errors.js'
import { DEFAULT_OAUTH_CLIENT, type OAuthClientPlan, type OAuthClientRef } from '../genesys/oauth-clients.js'
import { createReachCheck, describeGap, type ReachCheck } from '../genesys/reach.js'
import { DEFAULT_TENANT_CHECK, TenantImpaired, type ReadinessCheck } from '../lib/readiness.js'
import type { MappingStore } from '../groups/ports.js'
import { createCredentialsCheck, type CredentialsCheck } from './credentials-check.js'
import { createMappedGroupResolver, createNameGroupResolver, createReferenceCache } from './facts.js'
import type { Clock } from '../lib/timers.js'
import type { TenantGenesys } from './worker.js'
import type { SharedDirectoryCache } from './ports.js'

/**
 * One Genesys OAuth client and what is kept per OAuth client: its connection
 * (token, rate budget), the names it found (what one OAuth client sees, another
 * may not), whether Genesys accepts its credentials, and whether it holds the
 * permissions its API clients need in their divisions.
 */
export interface Tenant extends TenantGenesys {
  /** `_default` or the API client id that names it (never the Genesys client id). */
  name: string
  apiClients: readonly string[]
  connection: GenesysConnection
  credentials: CredentialsCheck
  reach: ReachCheck
}

export interface Tenants {
  /** The OAuth client an API client's work goes out with (the default one for ids not in the clients file). */
  for (apiClientId: string): Tenant
  /** The default OAuth client (GENESYS_CLIENT_ID). */
  fallback: Tenant
  all (): readonly Tenant[]
  /** Intake's guard: 503 while Genesys refuses the API client's OAuth client. */
  assertAccepted (apiClientId: string): void
  /** One readiness check per OAuth client (`genesys`, `genesys:<name>`). */
  readiness (): ReadinessCheck[]
  start (): void
  close (): Promise<void>
}

export interface TenantsOptions {
  plan: OAuthClientPlan
  clients: readonly Pick<ApiClient, 'id' | 'divisions' | 'genesys'>[]
  /** Builds the connection (token provider and budget twins) of one OAuth client. */
  connect: (ref: OAuthClientRef) => GenesysConnection
  mappings: MappingStore
  clock: Clock
  cacheTtlMs: number
  /** The directory cache an OAuth client's replicas share (Redis); none in the embedded mode. */
  sharedCache?: (ref: OAuthClientRef) => SharedDirectoryCache | undefined
  logger: FastifyBaseLogger
  /** The login origin, for log lines. */
  loginOrigin: string
  credentialsIntervalMs: number
  reachRetryMs: number
}

export async function createTenants (opts: TenantsOptions): Promise<Tenants> {
  const byName = new Map<string, Tenant>()
  let closed = false
  const log = opts.logger.child({ module: 'genesys' })
  try {
    for (const ref of opts.plan.refs) {
      const connection = opts.connect(ref)
      const describe = ref.name === DEFAULT_OAUTH_CLIENT ? `the default OAuth client at ${opts.loginOrigin}` : `the OAuth client of API client "${ref.name}" at ${opts.loginOrigin}`
      byName.set(ref.name, {
        name: ref.name,
        apiClients: ref.apiClients,
        connection,
        genesys: connection.client,
        cache: createReferenceCache(opts.clock, opts.cacheTtlMs, opts.sharedCache?.(ref)),
        groups: createMappedGroupResolver(opts.mappings, createNameGroupResolver(connection.client, opts.mappings)),
        credentials: createCredentialsCheck({
          probe: () => connection.tokens.getToken(),
          isRefusal: (err) => isGenesysError(err) && err.failure === 'credentials',
          logger: log,
          intervalMs: opts.credentialsIntervalMs,
          describe,
          variables: ref.variables,
        }),
        reach: createReachCheck({
          directory: connection.client,
          needs: opts.clients.filter((c) => ref.apiClients.includes(c.id)).map((c) => ({ apiClient: c.id, divisions: c.divisions })),
          logger: log,
          oauthClient: ref.name,
          retryMs: opts.reachRetryMs,
        }),
      })
    }
  } catch (err) {
    await Promise.all([...byName.values()].map((t) => t.connection.close().catch(() => {})))
    throw err
  }
  const fallback = byName.get(DEFAULT_OAUTH_CLIENT)
  if (!fallback) throw new Error('the default Genesys OAuth client is missing')
  const tenantOf = (apiClientId: string): Tenant => byName.get(opts.plan.nameOf(apiClientId)) ?? fallback

  return {
    for: tenantOf,
    fallback,
    all: () => [...byName.values()],
    assertAccepted: (apiClientId) => { tenantOf(apiClientId).credentials.assertAccepted() },
    readiness: () => [...byName.values()].map((t) => ({
      name: t.name === DEFAULT_OAUTH_CLIENT ? DEFAULT_TENANT_CHECK : `genesys:${t.name}`,
      impact: 'tenant' as const,
      async check () {
        // The answer of the last check; a refused OAuth client is not asked again here.
        if (t.credentials.state() === 'refused') {
          throw new Error(`Genesys Cloud refuses ${t.name === DEFAULT_OAUTH_CLIENT ? 'the default OAuth client' : `the OAuth client of API client "${t.name}"`}; fix its credentials`)
        }
        await t.connection.tokens.getToken()
        const reach = t.reach.state()
        if (reach.status === 'gaps') throw new TenantImpaired(`${reach.gaps.length} permission gap${reach.gaps.length === 1 ? '' : 's'}: ${reach.gaps.slice(0, 10).map(describeGap).join('; ')}`)
        if (reach.status === 'error') throw new TenantImpaired(reach.message)
        return reach.status === 'ok' ? 'token available; holds every permission its API clients need in their divisions' : 'token available; permissions not checked yet'
      },
    })),
    start () {
      for (const t of byName.values()) {
        t.credentials.start()
        // The reach is read with the OAuth client's own token, once it is accepted.
        void t.credentials.check().then(() => { if (!closed) t.reach.start() })
      }
    },
    async close () {
      closed = true
      for (const t of byName.values()) {
        t.credentials.stop()
        t.reach.stop()
      }
      await Promise.all([...byName.values()].map((t) => t.connection.close()))
    },
  }
}
