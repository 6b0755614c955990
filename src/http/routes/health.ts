import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'

export interface ReadinessCheck {
  name: string
  /** Resolves with a short detail when healthy; throws (with a safe message) when not. */
  check (): Promise<string | undefined>
}

const CheckResult = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('fail')]),
  detail: Type.Optional(Type.String()),
  durationMs: Type.Number(),
}, { additionalProperties: false })

const ReadyResponse = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('fail')]),
  checks: Type.Record(Type.String(), CheckResult),
}, { additionalProperties: false, examples: [{ status: 'ok', checks: { genesys: { status: 'ok', detail: 'token obtainable', durationMs: 3.2 } } }] })

const CHECK_TIMEOUT_MS = 3000

export async function healthRoutes (app: FastifyInstance, opts: { checks: readonly ReadinessCheck[] }): Promise<void> {
  app.get('/health/live', {
    config: { scope: false },
    schema: {
      operationId: 'getLiveness',
      tags: ['health'],
      summary: 'Liveness: the process is up',
      response: { 200: Type.Object({ status: Type.Literal('ok') }, { additionalProperties: false, examples: [{ status: 'ok' }] }) },
    },
  }, async () => ({ status: 'ok' as const }))

  app.get('/health/ready', {
    config: { scope: false },
    schema: {
      operationId: 'getReadiness',
      tags: ['health'],
      summary: 'Readiness: dependencies reachable; 503 when the service cannot accept work',
      response: { 200: ReadyResponse, 503: ReadyResponse },
    },
  }, async (request, reply) => {
    const results = await Promise.all(opts.checks.map(async (c) => {
      const started = performance.now()
      try {
        const detail = await withTimeout(c.check(), CHECK_TIMEOUT_MS)
        return [c.name, { status: 'ok' as const, ...(detail ? { detail } : {}), durationMs: round(performance.now() - started) }] as const
      } catch (err) {
        request.log.warn({ check: c.name, err }, 'readiness check failed')
        return [c.name, { status: 'fail' as const, detail: (err as Error).message.slice(0, 300), durationMs: round(performance.now() - started) }] as const
      }
    }))
    const failed = results.some(([, r]) => r.status === 'fail')
    reply.code(failed ? 503 : 200)
    return { status: failed ? 'fail' as const : 'ok' as const, checks: Object.fromEntries(results) }
  })
}

function round (ms: number): number {
  return Math.round(ms * 10) / 10
}

async function withTimeout<T> (p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms)
    })])
  } finally {
    clearTimeout(timer)
  }
}
