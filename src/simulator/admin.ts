import type { FastifyInstance } from 'fastify'
import type { SimContext } from './context.js'
import { validateFaults } from './faults.js'
import type { RateLimiter } from './rate-limit.js'
import type { RequestLog } from './request-log.js'
import { snapshotState } from './state.js'

/**
 * `/__sim`: the simulator's own admin API (no auth, never faulted, never
 * logged). Lets an out-of-process test or benchmark inspect state and the
 * request log and change faults at runtime.
 */
export function registerAdmin (app: FastifyInstance, ctx: SimContext, log: RequestLog, limiter: RateLimiter): void {
  app.get('/__sim/state', async () => snapshotState(ctx.state))
  app.get('/__sim/requests', async () => log.list())
  app.get('/__sim/counters', async () => log.counters())
  app.get('/__sim/faults', async () => ctx.faults.current)
  app.put('/__sim/faults', async (req, reply) => {
    try {
      return ctx.faults.set(validateFaults(req.body ?? {}))
    } catch (err) {
      return reply.code(400).send({ message: (err as Error).message, code: 'bad.request', status: 400 })
    }
  })
  app.post('/__sim/revoke-tokens', async (_req, reply) => {
    ctx.tokens.revokeAll()
    limiter.reset()
    return reply.code(204).send()
  })
  app.post('/__sim/reset-log', async (_req, reply) => {
    log.reset()
    return reply.code(204).send()
  })
}
