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
