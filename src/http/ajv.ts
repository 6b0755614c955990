import { Ajv, type Options as AjvOptions } from 'ajv'
import addFormatsModule from 'ajv-formats'
import { IssueSchema, ProblemSchema } from './schemas/problem.js'

// ajv-formats ships CommonJS with a default export under ESM interop.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv

function makeAjv (opts: AjvOptions): Ajv {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, ...opts })
  addFormats(ajv)
  for (const schema of [IssueSchema, ProblemSchema]) ajv.addSchema(schema)
  return ajv
}

// Bodies are validated strictly: unknown properties are errors, not silently
// dropped, and "42" is not a number. Query strings and params are strings on
// the wire, so they alone are coerced. The route schemas are module constants
// and Ajv caches what it compiled by schema, so one pair per process serves
// every app built in it.
export const bodyAjv = makeAjv({ removeAdditional: false, coerceTypes: false })
export const otherAjv = makeAjv({ removeAdditional: false, coerceTypes: 'array' })
