import { scimError } from './errors.js'
import { matches, parsePatchPath, type PatchPath } from './filters.js'

/**
 * SCIM PATCH (RFC 7644 §3.5.2) applied to a resource's JSON form. Handlers
 * render the resource, apply the operations here, then validate and store the
 * result exactly as a PUT would, so PATCH and PUT cannot disagree.
 */

export const SCIM_PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp'

export type Obj = Record<string, unknown>
export interface PatchOperation { op: 'add' | 'replace' | 'remove', path?: string, value?: unknown }

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v)
const syntax = (detail: string) => scimError(400, 'invalidSyntax', detail)

/** Validates `{schemas:[PatchOp], Operations:[…]}` (capital O, as Genesys and the RFC spell it). */
export function parsePatchBody (body: unknown): PatchOperation[] {
  if (!isObj(body)) throw syntax('PATCH body must be a JSON object')
  const schemas = body.schemas
  if (!Array.isArray(schemas) || !schemas.includes(SCIM_PATCH_OP)) throw syntax(`PATCH body must list the schema ${SCIM_PATCH_OP}`)
  const ops = body.Operations
  if (!Array.isArray(ops) || ops.length === 0) throw syntax('PATCH body must have a non-empty Operations array')
  return ops.map((o, i): PatchOperation => {
    if (!isObj(o) || typeof o.op !== 'string') throw syntax(`Operations[${i}].op is required`)
    // Azure AD and others send "Add"/"Replace": accepted.
    const op = o.op.toLowerCase()
    if (op !== 'add' && op !== 'replace' && op !== 'remove') throw syntax(`Operations[${i}].op '${o.op}' is not add, replace or remove`)
    if (o.path !== undefined && typeof o.path !== 'string') throw syntax(`Operations[${i}].path must be a string`)
    if (op === 'remove' && o.path === undefined) throw scimError(400, 'noTarget', `Operations[${i}]: remove requires a path`)
    if (op !== 'remove' && o.value === undefined) throw syntax(`Operations[${i}].value is required for ${op}`)
    return { op, path: o.path as string | undefined, value: o.value }
  })
}

export interface PatchNames {
  /** Canonical attribute name for a lower-cased one (`username` → `userName`). */
  attribute (lower: string): string
  /** Canonical URN key for a lower-cased URN. */
  urn (lower: string): string
}

function keyOf (obj: Obj, lower: string, names: PatchNames): string {
  for (const k of Object.keys(obj)) if (k.toLowerCase() === lower) return k
  return names.attribute(lower)
}

function elementMatches (el: unknown, path: PatchPath): boolean {
  if (!isObj(el) || path.filter === undefined) return false
  const k = Object.keys(el).find((key) => key.toLowerCase() === path.filter?.attribute)
  const v = k === undefined ? undefined : el[k]
  return matches(typeof v === 'string' || typeof v === 'boolean' ? v : v === undefined ? undefined : String(v), path.filter.value)
}

function sameItem (a: unknown, b: unknown): boolean {
  if (isObj(a) && isObj(b) && 'value' in a && 'value' in b) return a.value === b.value && a.type === b.type
  return JSON.stringify(a) === JSON.stringify(b)
}

function applyPathed (resource: Obj, op: PatchOperation, path: PatchPath, names: PatchNames): void {
  let container: Obj = resource
  if (path.urn !== undefined) {
    const urnKey = keyOf(resource, path.urn, { attribute: names.urn, urn: names.urn })
    if (path.attribute === undefined) {
      if (op.op === 'remove') delete resource[urnKey]
      else if (!isObj(op.value)) throw syntax(`value for ${op.path ?? ''} must be an object`)
      else resource[urnKey] = op.op === 'add' && isObj(resource[urnKey]) ? { ...(resource[urnKey] as Obj), ...structuredClone(op.value) } : structuredClone(op.value)
      return
    }
    const ext = resource[urnKey]
    if (!isObj(ext)) {
      if (op.op === 'remove') return
      resource[urnKey] = {}
    }
    container = resource[urnKey] as Obj
  }
  const attr = keyOf(container, path.attribute ?? '', names)
  const current = container[attr]
  const value = structuredClone(op.value)

  if (path.filter !== undefined) {
    const list = Array.isArray(current) ? current : []
    container[attr] = list
    const hits = list.filter((el) => elementMatches(el, path))
    if (op.op === 'remove') {
      if (path.sub === undefined) container[attr] = list.filter((el) => !hits.includes(el))
      else for (const el of hits) delete (el as Obj)[keyOf(el as Obj, path.sub, names)]
      return
    }
    if (hits.length === 0) {
      // `emails[type eq "work"].value` on a user without a work email creates one.
      const created: Obj = { [path.filter.attribute]: path.filter.value }
      if (path.sub !== undefined) created[names.attribute(path.sub)] = value
      else if (isObj(value)) Object.assign(created, value)
      list.push(created)
      return
    }
    for (const el of hits) {
      if (path.sub !== undefined) (el as Obj)[keyOf(el as Obj, path.sub, names)] = value
      else if (isObj(value)) Object.assign(el as Obj, value)
      else throw syntax(`value for ${op.path ?? ''} must be an object`)
    }
    return
  }

  if (path.sub !== undefined) {
    if (Array.isArray(current)) throw scimError(400, 'invalidPath', `Path ${op.path ?? ''} targets a multi-valued attribute; use a [filter]`)
    if (op.op === 'remove') {
      if (isObj(current)) delete current[keyOf(current, path.sub, names)]
      return
    }
    const target = isObj(current) ? current : {}
    target[keyOf(target, path.sub, names)] = value
    container[attr] = target
    return
  }

  if (op.op === 'remove') {
    if (Array.isArray(current) && Array.isArray(value)) {
      container[attr] = current.filter((el) => !value.some((v) => isObj(v) && isObj(el) ? v.value === el.value : sameItem(v, el)))
    } else {
      delete container[attr]
    }
    return
  }
  if (op.op === 'add' && Array.isArray(current)) {
    const items = Array.isArray(value) ? value : [value]
    for (const item of items) if (!current.some((el) => sameItem(el, item))) current.push(item)
    return
  }
  container[attr] = value
}

function applyOne (resource: Obj, op: PatchOperation, names: PatchNames): void {
  if (op.path !== undefined && op.path.trim() !== '') {
    applyPathed(resource, op, parsePatchPath(op.path), names)
    return
  }
  // Path-less add/replace: the value is a partial resource; each key acts as a path.
  if (!isObj(op.value)) throw syntax('a PATCH operation without a path needs an object value')
  for (const [key, v] of Object.entries(op.value)) {
    const path = parsePatchPath(key)
    if (path.urn !== undefined && path.attribute === undefined && isObj(v)) {
      for (const [k2, v2] of Object.entries(v)) applyPathed(resource, { op: op.op, value: v2 }, { ...path, ...parsePatchPath(k2), urn: path.urn }, names)
    } else {
      applyPathed(resource, { op: op.op, path: key, value: v }, path, names)
    }
  }
}

/** Applies the operations in order to `resource` (mutated). */
export function applyPatch (resource: Obj, ops: PatchOperation[], names: PatchNames): void {
  for (const op of ops) applyOne(resource, op, names)
}
