import fc from 'fast-check'

/**
 * fast-check arbitraries from the JSON Schemas of `openapi/openapi.json`
 * (OpenAPI 3.0 flavour): the types, bounds, patterns, enums, formats, required
 * and optional properties, `$ref`s and unions the routes use. Lengths are capped
 * so cases stay small and fast.
 */

export type Schema = {
  $ref?: string
  type?: string
  enum?: unknown[]
  const?: unknown
  pattern?: string
  format?: string
  minLength?: number
  maxLength?: number
  minimum?: number
  maximum?: number
  minItems?: number
  maxItems?: number
  uniqueItems?: boolean
  items?: Schema
  properties?: Record<string, Schema>
  required?: string[]
  additionalProperties?: boolean | Schema
  anyOf?: Schema[]
  oneOf?: Schema[]
  default?: unknown
}

export type Components = Record<string, Schema>

const CAP = 6

export function resolve (schema: Schema, components: Components): Schema {
  let s = schema
  for (let i = 0; s.$ref !== undefined && i < 10; i++) {
    const name = s.$ref.replace('#/components/schemas/', '')
    s = components[name] ?? {}
  }
  return s
}

function stringOf (s: Schema): fc.Arbitrary<string> {
  const min = s.minLength ?? 0
  const max = Math.min(s.maxLength ?? 40, Math.max(min, 40))
  if (s.format === 'date-time') return fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString())
  if (s.format === 'date') return fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2099-12-31T00:00:00Z'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10))
  if (s.pattern !== undefined) {
    const re = new RegExp(s.pattern)
    return fc.stringMatching(re).filter((v) => v.length >= min && v.length <= (s.maxLength ?? Number.POSITIVE_INFINITY))
  }
  return fc.string({ minLength: min, maxLength: max, unit: 'grapheme-ascii' })
}

export function arbitraryOf (schema: Schema, components: Components, depth = 0): fc.Arbitrary<unknown> {
  const s = resolve(schema, components)
  if (s.const !== undefined) return fc.constant(s.const)
  if (s.enum) return fc.constantFrom(...s.enum)
  const union = s.anyOf ?? s.oneOf
  if (union) return fc.oneof(...union.map((u) => arbitraryOf(u, components, depth + 1)))
  switch (s.type) {
    case 'string': return stringOf(s)
    case 'integer': return fc.integer({ min: s.minimum ?? -1000, max: s.maximum ?? 100_000 })
    case 'number': return fc.double({ min: s.minimum ?? -1000, max: s.maximum ?? 100_000, noNaN: true, noDefaultInfinity: true })
    case 'boolean': return fc.boolean()
    case 'null': return fc.constant(null)
    case 'array': {
      const item = arbitraryOf(s.items ?? {}, components, depth + 1)
      const minLength = s.minItems ?? 0
      const maxLength = Math.min(s.maxItems ?? CAP, Math.max(minLength, CAP))
      return s.uniqueItems
        ? fc.uniqueArray(item, { minLength, maxLength, selector: (v) => JSON.stringify(v) })
        : fc.array(item, { minLength, maxLength })
    }
    case 'object':
    default: {
      if (depth > 6) return fc.constant({})
      const props = s.properties ?? {}
      const required = new Set(s.required ?? [])
      const model: Record<string, fc.Arbitrary<unknown>> = {}
      for (const [k, v] of Object.entries(props)) model[k] = arbitraryOf(v, components, depth + 1)
      if (Object.keys(model).length === 0 && typeof s.additionalProperties === 'object') {
        return fc.dictionary(fc.string({ minLength: 1, maxLength: 8, unit: 'grapheme-ascii' }), arbitraryOf(s.additionalProperties, components, depth + 1), { maxKeys: 3 })
      }
      return fc.record(model, { requiredKeys: [...required].filter((k) => k in model) })
    }
  }
}

/** Ways to break a valid body, each of which must be refused with a 4xx. */
export function mutations (schema: Schema, components: Components, valid: Record<string, unknown>): Array<[string, unknown]> {
  const s = resolve(schema, components)
  const out: Array<[string, unknown]> = [['null body', null], ['an array instead of an object', [valid]]]
  if (s.additionalProperties === false) out.push(['an extra property', { ...valid, unexpectedProperty: 'x' }])
  for (const key of s.required ?? []) {
    const { [key]: _gone, ...rest } = valid
    out.push([`missing required "${key}"`, rest])
  }
  for (const [key, prop] of Object.entries(s.properties ?? {})) {
    const p = resolve(prop, components)
    if (p.type === 'string') {
      out.push([`"${key}" as a number`, { ...valid, [key]: 42 }])
      if (p.maxLength !== undefined) out.push([`"${key}" over ${p.maxLength} characters`, { ...valid, [key]: 'x'.repeat(p.maxLength + 1) }])
    } else if (p.type === 'array') {
      out.push([`"${key}" as a string`, { ...valid, [key]: 'not an array' }])
      if (p.maxItems !== undefined) out.push([`"${key}" over ${p.maxItems} items`, { ...valid, [key]: Array.from({ length: p.maxItems + 1 }, (_, i) => `item-${i}`) }])
    } else if (p.type === 'boolean' || p.type === 'integer' || p.type === 'number') {
      out.push([`"${key}" as a string`, { ...valid, [key]: 'true' }])
    }
    out.push([`"${key}" as null`, { ...valid, [key]: null }])
  }
  return out
}
