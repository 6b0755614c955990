import { randomUUID } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { setTimeout as sleep } from 'node:timers/promises'
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify'
import type { RequestContext, SimContext } from './context.js'
import { errorBody, rateLimitError, scimErrorBody, SimError } from './errors.js'
import { authKind } from './oauth.js'
import { holdsSomewhere, missingPermission } from './tokens.js'
import type { RateLimiter } from './rate-limit.js'
import type { RequestLog } from './request-log.js'

export const SCIM_JSON = 'application/scim+json; charset=utf-8'
const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

function classify (path: string): RequestContext['kind'] {
  if (path.startsWith('/__sim')) return 'admin'
  if (path === '/oauth/token' || path === '/oauth/token/') return 'token'
  return path.toLowerCase().startsWith('/api/') ? 'api' : 'other'
}

const isScimPath = (path: string): boolean => path.toLowerCase().startsWith('/api/v2/scim')
const pathOf = (url: string): string => {
  const q = url.indexOf('?')
  return q < 0 ? url : url.slice(0, q)
}

/** `/api/v2/scim/v2/users/:userId` → `/api/v2/scim/v2/users/:id` (counters group calls by route, not by id). */
const routeKey = (req: FastifyRequest, path: string): string =>
  `${req.method} ${(req.routeOptions.url ?? path).replace(/:[A-Za-z]+/g, ':id')}`

export interface AppDeps {
  ctx: SimContext
  limiter: RateLimiter
  log: RequestLog
  random: () => number
}

/**
 * The Fastify app serving both Genesys hosts on one port. Cross-cutting
 * behaviour lives in three hooks: onRequest (correlation id, bearer auth, the
 * per-token budget, injected 429/503, the route's permission), onSend (latency,
 * the request log, the lost-response fault) and the error handler (ErrorBody or
 * SCIM Error). Route modules only translate.
 */
export function buildApp (deps: AppDeps): FastifyInstance {
  const { ctx, limiter, log } = deps
  const app = Fastify({
    logger: false,
    routerOptions: { caseSensitive: false, ignoreTrailingSlash: true },
    bodyLimit: 1024 * 1024,
    forceCloseConnections: true,
  })

  app.decorateRequest('genesysSim', null as unknown as RequestContext)

  // SCIM clients send application/scim+json; the login host gets a form.
  app.addContentTypeParser('application/scim+json', { parseAs: 'string' }, app.getDefaultJsonParser('error', 'ignore'))
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(String(body))))
  })

  app.addHook('onRequest', async (req, reply) => {
    const path = pathOf(req.url)
    const kind = classify(path)
    const sim: RequestContext = {
      correlationId: randomUUID(),
      start: performance.now(),
      kind,
      auth: authKind(req.headers.authorization),
      faulted: false,
    }
    req.genesysSim = sim
    reply.header('ININ-Correlation-Id', sim.correlationId)
    if (kind === 'admin') return
    sim.faulted = ctx.faults.applies(req.method, path)
    if (kind !== 'api') return

    const header = req.headers.authorization
    if (sim.auth !== 'bearer' || header === undefined) {
      throw new SimError(401, 'authentication.required', 'No authentication bearer token specified in authorization header.')
    }
    const token = header.slice(header.indexOf(' ') + 1).trim()
    const issued = ctx.tokens.verify(token)
    const client = issued === undefined ? undefined : ctx.state.clients.find((c) => c.clientId === issued.clientId)
    if (issued === undefined || client === undefined) {
      throw new SimError(401, 'bad.credentials', 'Invalid login credentials.')
    }
    sim.clientId = client.clientId
    sim.permissions = client.permissions
    sim.client = client

    const budget = limiter.hit(token)
    if (!budget.ok) throw rateLimitError(budget.retryAfterSeconds)

    if (sim.faulted) {
      const f = ctx.faults.current
      if (ctx.faults.roll(f.rate429)) {
        sim.fault = 'rate429'
        throw rateLimitError(f.retryAfterSeconds)
      }
      if (ctx.faults.roll(f.rate5xx)) {
        sim.fault = 'rate5xx'
        throw new SimError(503, 'service.unavailable', 'The service is currently unavailable (simulated fault).')
      }
    }

    const needed = req.routeOptions.config.permission
    // Division-scoped writes check the division in their handler (requireInDivision).
    if (needed !== undefined && !holdsSomewhere(client, needed)) throw missingPermission(needed)
  })

  app.addHook('onSend', async (req, reply, payload) => {
    const sim = req.genesysSim
    // A request rejected before onRequest ran (malformed URL) has no context.
    if (sim === null || sim.kind === 'admin') return payload
    if (sim.faulted && sim.kind !== 'other') {
      const delay = ctx.faults.delayMs()
      if (delay > 0) await sleep(delay)
    }
    const path = pathOf(req.url)
    const status = reply.statusCode
    const drop = sim.kind === 'api' && sim.faulted && WRITES.has(req.method) && status < 300 && ctx.faults.roll(ctx.faults.current.dropAfterWrite)
    if (drop) sim.fault = 'drop'
    const q = req.url.indexOf('?')
    log.add({
      at: new Date(ctx.clock()).toISOString(),
      method: req.method,
      path,
      ...(q >= 0 ? { query: req.url.slice(q + 1) } : {}),
      status,
      auth: sim.auth,
      ...(sim.clientId === undefined ? {} : { clientId: sim.clientId }),
      correlationId: sim.correlationId,
      durationMs: Math.round((performance.now() - sim.start) * 1000) / 1000,
      ...(sim.fault === undefined ? {} : { fault: sim.fault }),
    }, sim.kind, routeKey(req, path))
    // The lost-response case: the write is applied, the client never hears back.
    if (drop) req.raw.socket.destroy()
    return payload
  })

  app.setErrorHandler((err: FastifyError | SimError, req, reply) => sendError(err, req, reply))
  app.setNotFoundHandler((req, reply) => sendError(new SimError(404, 'not.found', `No resource at ${req.method} ${pathOf(req.url)}`), req, reply))
  return app
}

function sendError (err: FastifyError | SimError, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const contextId = req.genesysSim?.correlationId ?? randomUUID()
  if (err instanceof SimError) {
    reply.code(err.status).headers(err.headers)
    if (err.scim) return reply.type(SCIM_JSON).send(scimErrorBody(err.status, err.message, err.scimType))
    return reply.type('application/json; charset=utf-8').send(errorBody(err.status, err.code, err.message, contextId, {
      messageWithParams: err.messageWithParams,
      messageParams: err.messageParams,
    }))
  }
  // Fastify's own errors: malformed JSON, unsupported media type, body too large.
  const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500
  const code = status === 413 ? 'request.entity.too.large' : status === 415 ? 'unsupported.media.type' : status === 500 ? 'internal.server.error' : 'bad.request'
  const message = status === 500 ? 'The simulator failed to handle the request.' : err.message
  if (status === 500) console.error('simulator: unexpected error', err)
  if (status < 500 && isScimPath(pathOf(req.url))) {
    return reply.code(status).type(SCIM_JSON).send(scimErrorBody(status, message, 'invalidSyntax'))
  }
  return reply.code(status).type('application/json; charset=utf-8').send(errorBody(status, code, message, contextId))
}
