import { readFile } from 'node:fs/promises'
import SwaggerParser from '@apidevtools/swagger-parser'
import t from 'tap'
import { OPENAPI_PATH, renderOpenApi } from '../../scripts/openapi-document.js'

interface Operation {
  operationId?: string
  tags?: string[]
  summary?: string
  security?: unknown[]
  responses?: Record<string, { content?: Record<string, { schema?: Record<string, unknown>, example?: unknown, examples?: unknown }> }>
}

t.test('openapi/openapi.json is current (run `npm run openapi` after changing routes)', async (t) => {
  const committed = await readFile(OPENAPI_PATH, 'utf8')
  const fresh = await renderOpenApi()
  t.equal(committed, fresh, 'committed OpenAPI document matches the routes')
})

t.test('the document is valid OpenAPI 3', async (t) => {
  const doc = JSON.parse(await renderOpenApi()) as Parameters<typeof SwaggerParser.validate>[0]
  const api = await SwaggerParser.validate(structuredClone(doc))
  t.match((api as { openapi?: string }).openapi, /^3\./)
})

t.test('every operation is documented: operationId, tags, summary, success schema with an example', async (t) => {
  const doc = JSON.parse(await renderOpenApi()) as { paths: Record<string, Record<string, Operation>>, components: { securitySchemes: Record<string, unknown> } }
  t.ok(doc.components.securitySchemes.bearerAuth, 'bearer security scheme')
  const ids = new Set<string>()
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const where = `${method.toUpperCase()} ${path}`
      t.ok(op.operationId, `${where} has an operationId`)
      t.notOk(ids.has(op.operationId ?? ''), `${where} operationId is unique`)
      ids.add(op.operationId ?? '')
      t.ok(op.tags && op.tags.length > 0, `${where} has tags`)
      t.ok(op.summary, `${where} has a summary`)
      const success = Object.entries(op.responses ?? {}).filter(([code]) => code.startsWith('2'))
      t.ok(success.length > 0, `${where} documents a success response`)
      for (const [code, response] of success) {
        if (code === '204') {
          t.notOk(response.content, `${where} 204 has no body`)
          continue
        }
        const media = Object.values(response.content ?? {})[0]
        t.ok(media?.schema, `${where} ${code} has a schema`)
        t.ok(media?.example !== undefined || media?.examples !== undefined || media?.schema?.example !== undefined, `${where} ${code} has an example`)
      }
      if (path.startsWith('/v1/')) {
        t.same(op.security, [{ bearerAuth: [] }], `${where} declares bearer auth`)
        t.ok(op.responses?.['401'], `${where} documents 401`)
      }
    }
  }
})

type Json = Record<string, unknown>

/** Every example in the document with the schema it illustrates and, for responses, the status code it is shown under. */
function examplesOf (doc: Json): Array<{ where: string, schema: Json, example: unknown, status?: number, mediaType?: string }> {
  const found: Array<{ where: string, schema: Json, example: unknown, status?: number, mediaType?: string }> = []
  const visit = (node: unknown, where: string, status?: number, mediaType?: string): void => {
    if (node === null || typeof node !== 'object') return
    if (Array.isArray(node)) { node.forEach((n, i) => visit(n, `${where}/${i}`, status, mediaType)); return }
    const obj = node as Json
    const schema = obj.schema as Json | undefined
    if (schema !== undefined && typeof schema === 'object') {
      // A media type or parameter object: example / examples{name: {value}}.
      if ('example' in obj) found.push({ where, schema, example: obj.example, status, mediaType })
      for (const [name, ex] of Object.entries((obj.examples ?? {}) as Record<string, { value?: unknown }>)) {
        found.push({ where: `${where} (${name})`, schema, example: ex.value, status, mediaType })
      }
    }
    // A schema with its own example (components, nested properties).
    if (('type' in obj || 'properties' in obj || '$ref' in obj || 'anyOf' in obj) && 'example' in obj && !('schema' in obj)) {
      const { example, ...rest } = obj
      found.push({ where: `${where} (schema example)`, schema: rest, example })
    }
    for (const [key, value] of Object.entries(obj)) {
      if (key === 'example' || key === 'examples') continue
      const code = where.endsWith('/responses') && /^\d{3}$/.test(key) ? Number(key) : status
      const media = where.endsWith('/content') ? key : mediaType
      visit(value, `${where}/${key}`, code, media)
    }
  }
  visit(doc.paths, '#/paths')
  visit(doc.components, '#/components')
  return found
}

t.test('every example in the document validates against its schema, under the status it is shown for', async (t) => {
  const { Ajv } = await import('ajv')
  const addFormats = (await import('ajv-formats')).default as unknown as (ajv: InstanceType<typeof Ajv>) => void
  const doc = JSON.parse(await renderOpenApi()) as Json
  const ajv = new Ajv({ strict: false, allErrors: true })
  addFormats(ajv)
  // Local references (#/components/schemas/X) resolve against the document itself.
  ajv.addSchema({ components: doc.components }, 'doc')
  const examples = examplesOf(doc)
  t.ok(examples.length >= 40, `examples found (${examples.length})`)
  const rewrite = (s: unknown): unknown => JSON.parse(JSON.stringify(s).replaceAll('"#/components/', '"doc#/components/')) as unknown
  for (const { where, schema, example, status, mediaType } of examples) {
    const validate = ajv.compile(rewrite(schema) as Json)
    t.ok(validate(example), `${where}: the example matches its schema`, { errors: validate.errors })
    const body = example as { status?: unknown } | undefined
    if (status !== undefined && mediaType === 'application/problem+json') {
      t.equal(body?.status, status, `${where}: a problem example shows the status it is documented under`)
    }
    if (status !== undefined && mediaType === 'application/json' && typeof body?.status === 'string' && where.includes('/provisioning-requests')) {
      const terminal = body.status === 'completed' ? 201 : ['rejected', 'failed', 'cancelled'].includes(body.status) ? 200 : 202
      t.ok(status === terminal || (status === 200 && where.includes('/get/')) || (status === 200 && where.includes('/retry')), `${where}: a request in status ${body.status} is shown under ${status}`)
    }
  }
})

t.test('POST /v1/provisioning-requests documents each answer with its own example', async (t) => {
  const doc = JSON.parse(await renderOpenApi()) as { paths: Record<string, Record<string, Operation & { parameters?: Array<{ name: string, required?: boolean }> }>> }
  const op = doc.paths['/v1/provisioning-requests']?.post
  const codes = Object.keys(op?.responses ?? {})
  for (const code of ['200', '201', '202', '400', '401', '403', '409', '413', '415', '422', '429', '500', '503']) t.ok(codes.includes(code), `${code} is documented`)
  const problems = codes.filter((c) => Number(c) >= 400).map((c) => JSON.stringify(op?.responses?.[c]?.content?.['application/problem+json']?.example))
  t.equal(new Set(problems).size, problems.length, 'no two problem statuses share an example')
  for (const code of ['201', '202']) t.not((op?.responses?.[code] as { description?: string } | undefined)?.description, 'Default Response', `${code} has a real caption`)
  t.equal(op?.parameters?.find((p) => p.name === 'dryRun')?.required, false, 'dryRun is optional')
})
