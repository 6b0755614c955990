import rateLimit from '@fastify/rate-limit'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { RedisClient } from '../../redis/connection.js'
import type { ClientRegistry } from '../../config/clients.js'
import { errors } from '../../errors.js'

export interface RateLimitSettings {
  perClientPerMinute: number
  unauthenticatedPerMinute: number
  /** Shared by every replica; without it each process counts alone. */
  redis?: RedisClient
}

export type Limiter = (request: FastifyRequest, reply: FastifyReply) => Promise<void>

const HEALTH = /^\/health\//

/**
 * Request rate limits: per API client once authenticated (its `rateLimit` from
 * the clients file, else the default), per IP address for everything that is
 * not (failed authentication, docs, unknown paths). Health probes are exempt.
 * Counters live in Redis when there is one, so the limit is the fleet's, not a
 * replica's. Over the limit: 429 problem+json with `Retry-After`.
 */
export async function registerRateLimits (app: FastifyInstance, opts: RateLimitSettings & { clients: Pick<ClientRegistry, 'get'> }): Promise<{ perIp: Limiter, install (): void }> {
  await app.register(rateLimit, {
    global: false,
    ...(opts.redis ? { redis: opts.redis } : {}),
    nameSpace: 'rl:',
    // A Redis outage must not take the API down with it: requests pass uncounted.
    skipOnError: true,
    errorResponseBuilder: (_request, ctx) => errors.rateLimited(Math.max(1, Math.ceil(ctx.ttl / 1000))),
  })
  const limitOf = (request: FastifyRequest) => {
    const own = request.client ? opts.clients.get(request.client.id)?.rateLimit : undefined
    return own ? { max: own.max, windowMs: own.timeWindowSeconds * 1000 } : { max: opts.perClientPerMinute, windowMs: 60_000 }
  }
  const perClient = app.rateLimit({
    keyGenerator: (request) => `client:${request.client?.id ?? ''}`,
    max: (request) => limitOf(request).max,
    timeWindow: (request) => limitOf(request).windowMs,
  }) as unknown as Limiter
  const perIp = app.rateLimit({
    keyGenerator: (request) => `ip:${request.ip}`,
    max: opts.unauthenticatedPerMinute,
    timeWindow: 60_000,
  }) as unknown as Limiter

  return {
    /** For the authentication hook: a refused key counts against its IP. */
    perIp,
    /** Adds the limiting hook; call after authentication's (hooks run in the order they were added). */
    install () {
      app.addHook('onRequest', async (request, reply) => {
        if (HEALTH.test(request.url)) return
        await (request.client ? perClient(request, reply) : perIp(request, reply))
      })
    },
  }
}
