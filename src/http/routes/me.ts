import type { FastifyInstance } from 'fastify'
import { Type } from 'typebox'
import { SCOPES } from '../../config/clients.js'
import { BEARER_SECURITY, requireClient } from '../plugins/auth.js'
import { problemResponses } from '../schemas/problem.js'

const MeResponse = Type.Object({
  id: Type.String(),
  name: Type.String(),
  scopes: Type.Array(Type.Unsafe<string>({ type: 'string', enum: [...SCOPES] })),
  divisions: Type.Union([Type.Literal('*'), Type.Array(Type.String())]),
  roles: Type.Optional(Type.Array(Type.String())),
}, {
  additionalProperties: false,
  examples: [{ id: 'workday', name: 'Workday production tenant', scopes: ['provisioning:write', 'provisioning:read'], divisions: ['BPO-A'] }],
})

export async function meRoutes (app: FastifyInstance): Promise<void> {
  app.get('/v1/me', {
    config: { scope: null },
    schema: {
      operationId: 'getCurrentClient',
      tags: ['clients'],
      summary: 'The API client this key belongs to, with its scopes and divisions',
      description: 'A cheap way for an integration to check its key and what it may do.',
      security: BEARER_SECURITY,
      response: { 200: MeResponse, ...problemResponses() },
    },
  }, async (request) => {
    const { id, name, scopes, divisions, roles } = requireClient(request)
    return { id, name, scopes, divisions, ...(roles ? { roles } : {}) }
  })
}
