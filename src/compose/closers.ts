import type { FastifyBaseLogger } from 'fastify'

/**
 * What the composition root must release, in the order it was opened; `close()`
 * runs it backwards, so whatever a part depends on is closed after it.
 */
export interface Closers {
  push (close: () => Promise<unknown>): void
  close (): Promise<void>
}

export function createClosers (logger: FastifyBaseLogger): Closers {
  const stack: Array<() => Promise<unknown>> = []
  return {
    push: (close) => { stack.push(close) },
    async close () {
      for (const c of stack.splice(0).reverse()) {
        await c().catch((err: unknown) => logger.warn({ err }, 'error while closing a dependency'))
      }
    },
  }
}
