import type { FastifyInstance } from 'fastify'
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox'
import { Type } from 'typebox'
import type { RosterImport } from '../../imports/ports.js'
import { importCsv, IMPORTS_PATH, type ImportService } from '../../imports/service.js'
import { BEARER_SECURITY, requireClient } from '../plugins/auth.js'
import { problemResponses } from '../schemas/problem.js'
import { ImportBodySchema, ImportSchema, type ImportView } from '../schemas/imports.js'
import { readRecords } from './batches.js'

export interface ImportRoutesOptions {
  imports: ImportService
  /** The body limit of an import (the worker batches' limit). */
  bodyLimit: number
}

const ImportIdParams = Type.Object({ id: Type.String({ pattern: '^imp_[0-9A-HJKMNP-TV-Z]{26}$', description: 'The import id.' }) })

const toImportView = (imp: RosterImport): ImportView => ({
  id: imp.id,
  mode: imp.mode,
  status: imp.status,
  createdAt: imp.createdAt,
  updatedAt: imp.updatedAt,
  ...(imp.completedAt !== undefined ? { completedAt: imp.completedAt } : {}),
  ...(imp.error ? { error: imp.error } : {}),
  total: imp.total,
  counts: imp.counts,
  upstreamCalls: imp.upstreamCalls,
  rows: imp.rows,
  unmanaged: imp.unmanaged,
})

/** Whether an Accept header asks for CSV ahead of (or without) JSON. */
function prefersCsv (accept: string | undefined): boolean {
  const types = (accept ?? '').split(',').map((t) => t.split(';')[0]?.trim().toLowerCase())
  const csv = types.indexOf('text/csv')
  const json = types.findIndex((t) => t === 'application/json' || t === 'application/*' || t === '*/*')
  return csv !== -1 && (json === -1 || csv < json)
}

/** Onboarding an org that already has users: roster plans and their application. */
export async function importRoutes (base: FastifyInstance, opts: ImportRoutesOptions): Promise<void> {
  const app = base.withTypeProvider<TypeBoxTypeProvider>()
  const { imports } = opts

  app.post(IMPORTS_PATH, {
    bodyLimit: opts.bodyLimit,
    config: { scope: ['admin', 'provisioning:write'] },
    schema: {
      operationId: 'createImport',
      tags: ['workers'],
      summary: 'Match an HR roster to the Genesys users of your divisions: plan, or apply',
      description: [
        'Scope `admin` or `provisioning:write`; only the users of your client\'s divisions are read. Each record is matched to an existing Genesys user: the registry first, then your `externalId` form of its HR id, then the bare HR id (when the clients file allows it, `matchBareHrIds`), then its email. Every row says `matched` (with the differences: division, active, email, roles to add, groups to join), `create`, `conflict` (the email belongs to a user with another HR id, two candidates, a user outside your divisions, a user managed for someone else) or `invalid`; `unmanaged` lists the users of your divisions that no record matched.',
        '',
        '`plan` writes nothing. `apply` registers the matched users as your workers (no Genesys write for that), then sends every matched or missing record through the lifecycle as `PUT /v1/workers/{hrId}` would, brakes included: differences become updates or moves, missing users hires. Conflicts are left alone. Applying again is harmless: matches are managed by then and unchanged records answer `none`.',
        '',
        'The answer is **202** with the import, status `running`: the matching runs as a durable job in a worker process (the org is read page by page within the rate budget). Poll `GET /v1/imports/{id}` until `completed` (or `failed`, with `error`); with `Accept: text/csv` it downloads the rows as CSV.',
      ].join('\n'),
      security: BEARER_SECURITY,
      body: ImportBodySchema,
      response: { 202: ImportSchema, ...problemResponses(400, 403, 413, 415, 503) },
    },
  }, async (request, reply) => {
    const client = requireClient(request)
    const imp = await imports.start(client, request.body.mode, readRecords(request.body.workers), request.id)
    return reply.code(202).header('location', `${IMPORTS_PATH}/${imp.id}`).send(toImportView(imp))
  })

  app.get(`${IMPORTS_PATH}/:id`, {
    config: { scope: ['admin', 'provisioning:read'] },
    schema: {
      operationId: 'getImport',
      tags: ['workers'],
      summary: 'An import: counts and per-record rows (JSON, or CSV with Accept: text/csv)',
      security: BEARER_SECURITY,
      params: ImportIdParams,
      response: {
        200: {
          description: 'The import (scope `admin` or `provisioning:read`); as CSV (one line per record, then one per unmanaged user) with `Accept: text/csv`.',
          content: {
            'application/json': { schema: ImportSchema },
            'text/csv': { schema: Type.String() },
          },
        },
        ...problemResponses(400, 404),
      },
    },
  }, async (request, reply) => {
    const imp = await imports.get(requireClient(request), request.params.id)
    if (prefersCsv(request.headers.accept)) {
      return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${imp.id}.csv"`).send(importCsv(imp))
    }
    return toImportView(imp)
  })
}
