import { createBullBoard } from '@bull-board/api'
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter'
import { FastifyAdapter } from '@bull-board/fastify'
import type { Queue } from 'bullmq'
import type { FastifyInstance } from 'fastify'

/** A queue on the dashboard whose description is read when the page asks, not fixed at startup. */
class NotedAdapter extends BullMQAdapter {
  constructor (queue: Queue, private readonly note?: () => string) {
    super(queue)
  }

  override getDescription (): string {
    return this.note?.() ?? super.getDescription()
  }
}

/** The BullMQ dashboard (bull-board) at `path`, behind the `admin` scope and out of the API document. */
export async function queueDashboard (scope: FastifyInstance, opts: { queues: Queue[], notes?: Record<string, () => string>, path: string }): Promise<void> {
  scope.addHook('onRoute', (route) => {
    route.schema = { ...(route.schema ?? {}), hide: true }
    route.config = { ...(route.config ?? {}), scope: 'admin' }
  })
  const serverAdapter = new FastifyAdapter()
  serverAdapter.setBasePath(opts.path)
  createBullBoard({ queues: opts.queues.map((q) => new NotedAdapter(q, opts.notes?.[q.name])), serverAdapter })
  await scope.register(serverAdapter.registerPlugin(), { prefix: opts.path })
}
