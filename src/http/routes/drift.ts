import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { AuthenticatedClient } from '../../config/clients.js'
import { errors } from '../../errors.js'
import { DRIFT_PATH, RECONCILIATIONS_PATH, type DriftService } from '../../drift/service.js'
import { BEARER_SECURITY, requireClient } from '../plugins/auth.js'
import { problemResponses } from '../schemas/problem.js'
import { DriftKindSchema, DriftListSchema, ReconciliationSchema } from '../schemas/drift.js'

export interface DriftRoutesOptions {
  drift: DriftService
}

const CLIENT_ID = Type.String({ pattern: '^[a-z0-9][a-z0-9._-]{0,63}$' })

/** The client a caller may act for: itself, or (admin) the one it names; '*' for an admin naming none. */
function scopeOf (caller: AuthenticatedClient, named: string | undefined, what: string): string {
  const admin = caller.scopes.includes('admin')
  if (named !== undefined && named !== caller.id && !admin) throw errors.forbidden(`Only scope admin may ${what} another client.`)
  if (named !== undefined) return named
  return admin ? '*' : caller.id
}

/** Drift reconciliation: runs on demand, and each client's current drift. */
export async function driftRoutes (base: FastifyInstance, opts: DriftRoutesOptions): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>()
  const { drift } = opts

  app.post(RECONCILIATIONS_PATH, {
    config: { scope: ['admin', 'provisioning:write'] },
    schema: {
      operationId: 'createReconciliation',
      tags: ['workers'],
      summary: 'Compare every managed worker with Genesys now (drift reconciliation)',
      description: 'Scope `admin` (every client, or the `clientId` named) or `provisioning:write` (your own workers). The run is a job: **202** with the run, then `GET /v1/reconciliations/{id}`. It reads the users of the client\'s divisions page by page at `RECONCILE_BUDGET_PERCENT` of the budget and reports drift: a division changed by hand, a role the service granted removed, a group membership it made removed, the user deactivated, reactivated or deleted outside the service, the email edited. With `RECONCILE_MODE=repair` it also queues the change that restores the desired state (braked like any move).',
      security: BEARER_SECURITY,
      body: Type.Optional(Type.Object({ clientId: Type.Optional(CLIENT_ID) }, { additionalProperties: false })),
      response: { 202: ReconciliationSchema, ...problemResponses(400, 403, 415) },
    },
  }, async (request, reply) => {
    const caller = requireClient(request)
    const run = await drift.start(scopeOf(caller, request.body?.clientId, 'reconcile'))
    return reply.code(202).header('location', `${RECONCILIATIONS_PATH}/${run.id}`).send(run)
  })

  app.get(`${RECONCILIATIONS_PATH}/:id`, {
    config: { scope: null },
    schema: {
      operationId: 'getReconciliation',
      tags: ['workers'],
      summary: 'A reconciliation run: workers compared, drift found by kind, repairs queued, calls used',
      security: BEARER_SECURITY,
      params: Type.Object({ id: Type.String({ pattern: '^rcn_[A-Za-z0-9_]{1,64}$' }) }),
      response: { 200: ReconciliationSchema, ...problemResponses(400, 404) },
    },
  }, async (request) => drift.run(requireClient(request), request.params.id))

  app.get(DRIFT_PATH, {
    config: { scope: ['admin', 'provisioning:read'] },
    schema: {
      operationId: 'listDrift',
      tags: ['workers'],
      summary: 'The current drift of a client\'s managed workers (from its latest reconciliation)',
      security: BEARER_SECURITY,
      querystring: Type.Object({ clientId: Type.Optional(CLIENT_ID), kind: Type.Optional(DriftKindSchema) }, { additionalProperties: false }),
      response: { 200: DriftListSchema, ...problemResponses(400, 403) },
    },
  }, async (request) => {
    const caller = requireClient(request)
    const clientId = scopeOf(caller, request.query.clientId, 'read the drift of')
    return { items: await drift.current(clientId, request.query.kind) }
  })
}
