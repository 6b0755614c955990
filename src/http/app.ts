import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { pino } from 'pino'
import type { Config } from '../config/load-config.js'
import type { ClientRegistry } from '../config/clients.js'
import { registerAuth } from './plugins/auth.js'
import { registerErrorHandling } from './plugins/errors.js'
import { registerOpenApi } from './plugins/openapi.js'
import { genReqId, registerRequestId } from './plugins/request-id.js'
import { registerAccessLog } from './plugins/access-log.js'
import { healthRoutes } from './routes/health.js'
import type { ReadinessCheck } from '../lib/readiness.js'
import { groupRoutes, type GroupRoutesOptions } from './routes/groups.js'
import { meRoutes } from './routes/me.js'
import { operationsRoutes } from './routes/operations.js'
import type { Metrics } from '../metrics.js'
import type { Queue } from 'bullmq'
import type { RedisClient } from '../redis/connection.js'
import { registerRateLimits } from './plugins/rate-limit.js'
import { registerSecurityHeaders } from './plugins/security.js'
import { provisioningRoutes, type ProvisioningRoutesOptions } from './routes/provisioning.js'
import { workerRoutes } from './routes/workers.js'
import { batchRoutes, type BatchRoutesOptions } from './routes/batches.js'
import { importRoutes, type ImportRoutesOptions } from './routes/imports.js'
import { driftRoutes, type DriftRoutesOptions } from './routes/drift.js'
import { webhookRoutes, type WebhookRoutesOptions } from './routes/webhooks.js'
import { bodyAjv, otherAjv } from './ajv.js'
import { buildCachedSerializer } from './serializers.js'
import { IssueSchema, ProblemSchema } from './schemas/problem.js'

/** What the HTTP layer needs from the composition root; tests pass fakes. */
export interface AppDeps {
  clients: ClientRegistry
  readiness: readonly ReadinessCheck[]
  /** The provisioning API; absent in tests that exercise only the conventions. */
  provisioning?: ProvisioningRoutesOptions
  /** The webhook API; absent in tests that exercise only the conventions. */
  webhooks?: WebhookRoutesOptions
  /** HR group mappings and membership syncs. */
  groups?: GroupRoutesOptions
  /** Worker batches (`POST /v1/worker-batches`). */
  batches?: Omit<BatchRoutesOptions, 'bodyLimit'>
  /** Roster imports (`POST /v1/imports`). */
  imports?: Omit<ImportRoutesOptions, 'bodyLimit'>
  /** Drift reconciliation (`/v1/reconciliations`, `/v1/drift`). */
  drift?: DriftRoutesOptions
  /** Prometheus metrics (`/metrics`, admin scope) and HTTP request timings. */
  metrics?: Metrics
  /** BullMQ queues for the operators' dashboard at /admin/queues (Redis mode). */
  queues?: Queue[]
  /** Live notes shown with a queue on the dashboard, by queue name (e.g. the Genesys budget use per OAuth client). */
  queueNotes?: Record<string, () => string>
  /** Shares rate-limit counters across replicas; without it each process counts alone. */
  redis?: RedisClient
}

export interface BuildAppOptions {
  config: Pick<Config, 'http' | 'auth'>
  deps: AppDeps
  /** `health`: only the probes (a worker-only process). Default `all`. */
  surface?: 'all' | 'health'
  /** Root logger; defaults to a disabled one. */
  logger?: FastifyBaseLogger
}

/**
 * Builds the HTTP application. No environment reads and no client construction:
 * everything arrives through `config` and `deps`.
 */
export async function buildApp ({ config, deps, logger, surface = 'all' }: BuildAppOptions): Promise<FastifyInstance> {
  const app: FastifyInstance = Fastify({
    loggerInstance: logger ?? pino({ enabled: false }),
    genReqId,
    // One access line per request instead of Fastify's two (plugins/access-log.ts).
    logController: new LogController({ requestIdLogLabel: 'requestId', disableRequestLogging: true }),
    bodyLimit: config.http.bodyLimit,
    trustProxy: config.http.trustProxy as FastifyServerOptions['trustProxy'],
    requestTimeout: config.http.requestTimeoutMs,
    connectionTimeout: config.http.connectionTimeoutMs,
    keepAliveTimeout: config.http.keepAliveTimeoutMs,
    return503OnClosing: true,
    schemaController: { compilersFactory: { buildSerializer: buildCachedSerializer } },
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 500 },
  })

  // Headers must arrive well before the whole-request deadline (slow-header clients).
  app.server.headersTimeout = Math.min(config.http.requestTimeoutMs, 10_000)
  // Node checks those deadlines every 30 s by default, so a slow client could
  // hold its socket 30 s past them; check every second instead.
  Object.assign(app.server, { connectionsCheckingInterval: 1000 })

  for (const schema of [IssueSchema, ProblemSchema]) app.addSchema(schema)
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? bodyAjv : otherAjv).compile(schema))

  // JSON only; text/plain bodies are refused with 415 rather than parsed.
  app.removeContentTypeParser('text/plain')

  registerRequestId(app)
  registerAccessLog(app)
  registerErrorHandling(app, { bodyLimit: config.http.bodyLimit })
  await registerSecurityHeaders(app)
  const limits = await registerRateLimits(app, { ...config.http.rateLimit, clients: deps.clients, ...(deps.redis ? { redis: deps.redis } : {}) })
  registerAuth(app, {
    clients: deps.clients,
    // jose is loaded only when JWTs are accepted.
    ...(config.auth.jwt ? { jwt: (await import('./plugins/jwt.js')).createJwtVerifier(config.auth.jwt) } : {}),
    onRefused: limits.perIp,
  })
  limits.install()
  if (surface === 'all') await registerOpenApi(app)
  const metrics = deps.metrics
  if (metrics) {
    app.addHook('onResponse', async (request, reply) => {
      metrics.http(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000)
    })
  }
  await app.register(healthRoutes, { checks: deps.readiness })
  await app.register(operationsRoutes, { metrics, queues: deps.queues, notes: deps.queueNotes })
  if (surface === 'health') return app

  await app.register(meRoutes)
  if (deps.provisioning) {
    await app.register(provisioningRoutes, deps.provisioning)
    await app.register(workerRoutes, deps.provisioning)
  }
  if (deps.webhooks) await app.register(webhookRoutes, deps.webhooks)
  if (deps.groups) await app.register(groupRoutes, deps.groups)
  if (deps.batches) await app.register(batchRoutes, { ...deps.batches, bodyLimit: config.http.batchBodyLimit })
  if (deps.imports) await app.register(importRoutes, { ...deps.imports, bodyLimit: config.http.batchBodyLimit })
  if (deps.drift) await app.register(driftRoutes, deps.drift)
  return app
}
