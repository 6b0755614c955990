import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { DEFAULT_TENANT_CHECK, TenantImpaired, type ReadinessCheck } from '../../lib/readiness.js'

const Status = Type.Union([Type.Literal('ok'), Type.Literal('degraded'), Type.Literal('fail')])

const CheckResult = Type.Object({
  status: Status,
  detail: Type.Optional(Type.String()),
  durationMs: Type.Number(),
}, { additionalProperties: false })

const ReadyResponse = Type.Object({
  status: Status,
  checks: Type.Record(Type.String(), CheckResult),
}, {
  additionalProperties: false,
  description: '`degraded`: ready, but some API clients\' Genesys OAuth client is refused or lacks permissions (an admin API key shows which).',
  examples: [{ status: 'ok', checks: { genesys: { status: 'ok', detail: 'token available', durationMs: 3.2 } } }],
})

const CHECK_TIMEOUT_MS = 3000

type Result = { status: 'ok' | 'degraded' | 'fail', detail?: string, durationMs: number }

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
    config: { scope: false, identifyIfPresent: true },
    schema: {
      operationId: 'getReadiness',
      tags: ['health'],
      summary: 'Readiness: dependencies reachable; 503 when the service cannot accept work',
      description: 'Public. With an admin API key the answer also names each API client whose Genesys OAuth client is refused or lacks a permission in one of its divisions.',
      response: { 200: ReadyResponse, 503: ReadyResponse },
    },
  }, async (request, reply) => {
    const results = await Promise.all(opts.checks.map((c) => runCheck(c, request.log)))
    const service = results.filter((r) => r.check.impact !== 'tenant')
    const tenants = results.filter((r) => r.check.impact === 'tenant')
    const unready = service.some((r) => r.result.status === 'fail') || (tenants.length > 0 && tenants.every((r) => r.result.status === 'fail'))
    const status = unready ? 'fail' : results.some((r) => r.result.status !== 'ok') ? 'degraded' : 'ok'
    const admin = request.client?.scopes.includes('admin') === true
    const checks: Record<string, Result> = { ...Object.fromEntries(service.map((r) => [r.check.name, r.result])), ...tenantChecksSeenBy(admin, tenants) }
    reply.code(unready ? 503 : 200)
    return { status, checks }
  })
}

type Ran = { check: ReadinessCheck, result: Result }

/** One check, bounded in time; a failure is logged (a tenant's only at debug: it was logged when found). */
async function runCheck (c: ReadinessCheck, log: FastifyBaseLogger): Promise<Ran> {
  const started = performance.now()
  const durationMs = () => round(performance.now() - started)
  try {
    const detail = await withTimeout(c.check(), CHECK_TIMEOUT_MS)
    return { check: c, result: { status: 'ok', ...(detail ? { detail } : {}), durationMs: durationMs() } }
  } catch (err) {
    const impaired = c.impact === 'tenant' && err instanceof TenantImpaired
    if (c.impact === 'tenant') log.debug({ check: c.name, err }, 'readiness: a tenant check failed')
    else log.warn({ check: c.name, err }, 'readiness check failed')
    return { check: c, result: { status: impaired ? 'degraded' : 'fail', detail: (err as Error).message.slice(0, 1000), durationMs: durationMs() } }
  }
}

/**
 * The tenant checks as a caller sees them: an admin, each by name; anyone else,
 * the default OAuth client under its public name (without what it lacks) and
 * every named OAuth client (named after its API client) only as a count.
 */
function tenantChecksSeenBy (admin: boolean, tenants: readonly Ran[]): Record<string, Result> {
  if (admin) return Object.fromEntries(tenants.map((r) => [r.check.name, r.result]))
  const checks: Record<string, Result> = {}
  const fallback = tenants.find((r) => r.check.name === DEFAULT_TENANT_CHECK)
  if (fallback) checks[DEFAULT_TENANT_CHECK] = fallback.result.status === 'degraded' ? { ...fallback.result, detail: 'token available; lacks permissions some API clients need (an admin API key shows which)' } : fallback.result
  const named = tenants.filter((r) => r !== fallback)
  if (named.length > 0) checks.tenants = tenantSummary(named.map((r) => r.result))
  return checks
}

/** What a caller without an admin key learns of the tenant checks: how many are impaired, not which. */
function tenantSummary (results: readonly Result[]): Result {
  const impaired = results.filter((r) => r.status !== 'ok').length
  const status = results.some((r) => r.status === 'fail') ? (impaired === results.length ? 'fail' : 'degraded') : impaired > 0 ? 'degraded' : 'ok'
  return {
    status,
    detail: impaired === 0
      ? `${results.length} Genesys OAuth client${results.length === 1 ? '' : 's'} usable`
      : `${impaired} of ${results.length} Genesys OAuth clients refused or lacking permissions (an admin API key shows which)`,
    durationMs: Math.max(0, ...results.map((r) => r.durationMs)),
  }
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
