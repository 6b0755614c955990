import type { Queue } from 'bullmq'
import type { FastifyInstance } from 'fastify'
import { errors } from '../../errors.js'
import type { Metrics } from '../../metrics.js'

export interface OperationsRoutesOptions {
  metrics?: Metrics
  /** BullMQ queues to show in the dashboard (absent in embedded mode). */
  queues?: Queue[]
  /** Live text shown as a queue's description, by queue name; read on every dashboard refresh. */
  notes?: Record<string, () => string>
}

export const QUEUE_DASHBOARD_PATH = '/admin/queues'

/**
 * What operators use: `/metrics` for Prometheus and the queue dashboard, both
 * behind the `admin` scope. The dashboard also takes the key as the password of
 * HTTP Basic credentials, so a browser can open it from its own login prompt.
 */
export async function operationsRoutes (app: FastifyInstance, opts: OperationsRoutesOptions): Promise<void> {
  const { metrics } = opts
  if (metrics) {
    app.get('/metrics', {
      config: { scope: 'admin' },
      schema: { hide: true },
    }, async (_request, reply) => {
      const body = await metrics.registry.metrics()
      return reply.type(metrics.registry.contentType).send(body)
    })
  }

  const queues = opts.queues ?? []
  if (queues.length === 0) {
    // Embedded mode: say why there is no dashboard instead of a bare 404.
    const explain = async (): Promise<never> => {
      throw errors.notFound('The queue dashboard needs Redis: set REDIS_URL. In embedded mode jobs run in this process; see GET /v1/provisioning-requests and /metrics.')
    }
    app.get(QUEUE_DASHBOARD_PATH, { config: { scope: 'admin' }, schema: { hide: true } }, explain)
    app.get(`${QUEUE_DASHBOARD_PATH}/*`, { config: { scope: 'admin' }, schema: { hide: true } }, explain)
    return
  }
  // bull-board is loaded only where there are queues to show (with Redis).
  const { queueDashboard } = await import('./queue-dashboard.js')
  await app.register(queueDashboard, { queues, notes: opts.notes, path: QUEUE_DASHBOARD_PATH })
}
