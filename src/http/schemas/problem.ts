import { Type, type Static } from 'typebox'
import { errors, problemBody, type ProvisioningError } from '../../errors.js'

export const IssueSchema = Type.Object({
  code: Type.String({ description: 'Stable machine-readable code, e.g. `schema.additionalProperties`, `email.taken`.' }),
  path: Type.String({ description: 'JSON pointer to the offending input; body paths start at the body (`/email`), others name their part (`/query/limit`, `/headers/idempotency-key`).' }),
  message: Type.String(),
}, { $id: 'Issue', additionalProperties: false })

export const ProblemSchema = Type.Object({
  type: Type.String({ description: 'URI identifying the problem type.' }),
  title: Type.String(),
  status: Type.Integer(),
  detail: Type.String(),
  code: Type.String({ description: 'PROV_ERR_* code.' }),
  requestId: Type.String({ description: 'Echoes the x-request-id response header; quote it in support requests.' }),
  issues: Type.Optional(Type.Array(Type.Ref('Issue'))),
  issuesTruncated: Type.Optional(Type.Integer({ minimum: 1, description: 'On an Idempotency-Key replay of a refusal: how many more issues the first answer listed (a replay keeps the first 10).' })),
}, {
  $id: 'Problem',
  additionalProperties: false,
  description: 'RFC 9457 problem details (application/problem+json).',
  examples: [{
    type: 'urn:genesys-provisioning:problem:validation',
    title: 'Invalid request',
    status: 400,
    detail: 'The request body is invalid.',
    code: 'PROV_ERR_VALIDATION',
    requestId: '2f0e7f5e-55b8-4c55-b8a5-8f0f1d1b6f40',
    issues: [{ code: 'schema.additionalProperties', path: '/nickname', message: 'is not an allowed property' }],
  }],
})

export type Problem = Static<typeof ProblemSchema>

const DESCRIPTIONS: Record<number, string> = {
  400: 'Invalid request (schema); `issues[]` names each offending input.',
  401: 'Missing or unknown API key.',
  403: 'The API key lacks the scope, or the division is not the client\'s.',
  404: 'No such resource for this client.',
  409: 'Conflict with the current state.',
  413: 'Body larger than the limit.',
  415: 'Body is not application/json.',
  422: 'Valid JSON that violates policy; `issues[]` lists every reason.',
  429: 'Rate limited; see `Retry-After`.',
  500: 'Internal error; quote the requestId.',
  503: 'Temporarily unavailable; see `Retry-After`.',
}

export interface ProblemResponse {
  description: string
  content: { 'application/problem+json': { schema: ReturnType<typeof Type.Ref>, example: Problem } }
}

const EXAMPLE_REQUEST_ID = '2f0e7f5e-55b8-4c55-b8a5-8f0f1d1b6f40'

/** A documented problem, built by the same error constructors the service answers with. */
export function problemExample (err: ProvisioningError): Problem {
  return { ...problemBody(err), requestId: EXAMPLE_REQUEST_ID }
}

/** One true example per status (routes may name a more precise one). */
const EXAMPLES: Record<number, Problem> = {
  400: problemExample(errors.validation('The request body is invalid (1 schema issue); nothing was stored.', [{ code: 'schema.additionalProperties', path: '/nickname', message: 'is not an allowed property' }])),
  401: problemExample(errors.unauthenticated()),
  403: problemExample(errors.forbidden('This API key lacks the "provisioning:write" scope.')),
  404: problemExample(errors.notFound('No provisioning request prq_01JD3W6Q4Z7Y8X9V0T1S2R3Q4P.')),
  409: problemExample(errors.conflict('The resource changed or is in use; read it again and retry.')),
  413: problemExample(errors.payloadTooLarge(65_536)),
  415: problemExample(errors.unsupportedMediaType('of this request')),
  422: problemExample(errors.policy('The request violates 1 policy; nothing was stored.', [{ code: 'division.notAllowed', path: '/division', message: 'this client may not provision into division "BPO Beta"' }])),
  429: problemExample(errors.rateLimited(12)),
  500: problemExample(errors.internal('An internal error occurred; quote the requestId when reporting it.')),
  503: problemExample(errors.unavailable('The shared state store (Redis) is unreachable; retry later.', 5)),
}

/** Error responses a route documents, as application/problem+json, each with its own example. */
export function problemResponses (...statuses: number[]): Record<number, ProblemResponse> {
  return problemResponsesWith({}, ...statuses)
}

/** As `problemResponses`, with route-specific examples for some statuses. */
export function problemResponsesWith (examples: Partial<Record<number, Problem>>, ...statuses: number[]): Record<number, ProblemResponse> {
  const out: Record<number, ProblemResponse> = {}
  for (const s of [...new Set([401, 403, 429, 500, ...statuses])].sort()) {
    const example = examples[s] ?? EXAMPLES[s] ?? problemExample(errors.internal('Problem'))
    out[s] = { description: DESCRIPTIONS[s] ?? 'Problem', content: { 'application/problem+json': { schema: Type.Ref('Problem'), example } } }
  }
  return out
}
