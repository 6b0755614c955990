import { createBullBoard } from '@bull-board/api'
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter'
import { FastifyAdapter } from '@bull-board/fastify'
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

/** A queue on the dashboard whose description is read when the page asks, not fixed at startup. */
class NotedAdapter extends BullMQAdapter {
  constructor (queue: Queue, private readonly note?: () => string) {
    super(queue)
  }

  override getDescription (): string {
    return this.note?.() ?? super.getDescription()
  }
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
  await app.register(async (scope) => {
    // The dashboard's own routes are not part of the API document.
    scope.addHook('onRoute', (route) => {
      route.schema = { ...(route.schema ?? {}), hide: true }
      route.config = { ...(route.config ?? {}), scope: 'admin' }
    })
    const serverAdapter = new FastifyAdapter()
    serverAdapter.setBasePath(QUEUE_DASHBOARD_PATH)
    createBullBoard({ queues: queues.map((q) => new NotedAdapter(q, opts.notes?.[q.name])), serverAdapter })
    await scope.register(serverAdapter.registerPlugin(), { prefix: QUEUE_DASHBOARD_PATH })
  })
}

