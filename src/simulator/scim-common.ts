import type { FastifyReply, FastifyRequest } from 'fastify'
import { SCIM_JSON } from './app.js'
import { rateLimitError, scimError, SimError } from './errors.js'
import type { SimContext } from './context.js'
import { parsePatchPath } from './filters.js'

/** Shared SCIM plumbing: both base paths, ETags and preconditions, list paging, attribute projection. */

export const SCIM_PREFIXES = ['/api/v2/scim/v2', '/api/v2/scim'] as const
export const LIST_RESPONSE = 'urn:ietf:params:scim:api:messages:2.0:ListResponse'

export const etagOf = (version: number): string => `"${version}"`

/** The version an `If-Match`/`If-None-Match` value names: `"3"`, `W/"3"` or `3`; `*` matches anything. */
function versionsIn (header: string): string[] {
  return header.split(',').map((v) => v.trim().replace(/^W\//i, '').replace(/^"(.*)"$/, '$1'))
}

/** A stale `If-Match` answers in the shape the `versionConflict` fault knob chooses (400 invalidVers by default). */
export function checkIfMatch (ctx: SimContext, req: FastifyRequest, version: number): void {
  const h = req.headers['if-match']
  if (typeof h !== 'string' || h.trim() === '') return
  const wanted = versionsIn(h)
  if (wanted.includes('*') || wanted.includes(String(version))) return
  switch (ctx.faults.current.versionConflict) {
    case 'scim409':
      throw scimError(409, undefined, 'Version does not match current version.')
    case 'errorBody400':
      throw new SimError(400, 'bad.request', `The version supplied (${wanted.join(', ')}) does not match the current version ${version}.`)
    default:
      throw scimError(400, 'invalidVers', `The resource version does not match If-Match (current version ${version}).`)
  }
}

/** True when `If-None-Match` names the current version: the caller answers 304. */
export function notModified (req: FastifyRequest, version: number): boolean {
  const h = req.headers['if-none-match']
  if (typeof h !== 'string') return false
  const wanted = versionsIn(h)
  return wanted.includes('*') || wanted.includes(String(version))
}

export function sendScim (reply: FastifyReply, status: number, body: unknown, version?: number): FastifyReply {
  reply.code(status).type(SCIM_JSON)
  if (version !== undefined) reply.header('ETag', etagOf(version))
  return reply.send(body)
}

export interface ListQuery {
  startIndex?: string
  count?: string
  filter?: string
  attributes?: string
  excludedAttributes?: string
}

/** `startIndex` (1-based) and `count` (default 25), with the optional oversized-page 429. */
export function paging (ctx: SimContext, q: ListQuery): { startIndex: number, count: number } {
  const int = (raw: string | undefined, name: string, fallback: number): number => {
    if (raw === undefined || raw === '') return fallback
    const n = Number(raw)
    if (!Number.isInteger(n)) throw scimError(400, 'invalidValue', `${name} must be an integer`)
    return n
  }
  const startIndex = Math.max(1, int(q.startIndex, 'startIndex', 1))
  const count = Math.max(0, int(q.count, 'count', 25))
  if (ctx.scimMaxCount !== null && count > ctx.scimMaxCount) throw rateLimitError(ctx.faults.current.retryAfterSeconds)
  return { startIndex, count }
}

/** The ListResponse envelope (capital R in `Resources`); only the page's items are rendered. */
export function listResponse<T> (all: T[], startIndex: number, count: number, render: (item: T) => Record<string, unknown>): Record<string, unknown> {
  const page = all.slice(startIndex - 1, startIndex - 1 + count).map(render)
  return { schemas: [LIST_RESPONSE], totalResults: all.length, startIndex, itemsPerPage: page.length, Resources: page }
}

type Obj = Record<string, unknown>
const ALWAYS = new Set(['schemas', 'id', 'meta'])

/** RFC 7644 `attributes` / `excludedAttributes`, at top-level and extension-attribute granularity. */
export function project (resource: Obj, attributes: string | undefined, excluded: string | undefined): Obj {
  const names = (list: string | undefined) => (list ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '')
  const include = names(attributes)
  const exclude = names(excluded)
  if (include.length === 0 && exclude.length === 0) return resource
  const keyOf = (obj: Obj, lower: string) => Object.keys(obj).find((k) => k.toLowerCase() === lower)
  const locate = (name: string): { top?: string, sub?: string } => {
    try {
      const p = parsePatchPath(name)
      if (p.urn !== undefined) return { top: keyOf(resource, p.urn), sub: p.attribute }
      return { top: keyOf(resource, p.attribute ?? '') }
    } catch {
      return {}
    }
  }
  if (include.length > 0) {
    const out: Obj = {}
    for (const k of Object.keys(resource)) if (ALWAYS.has(k)) out[k] = resource[k]
    for (const name of include) {
      const { top, sub } = locate(name)
      if (top === undefined) continue
      const ext = resource[top]
      if (sub === undefined || typeof ext !== 'object' || ext === null) {
        out[top] = ext
      } else {
        const k = keyOf(ext as Obj, sub)
        if (k !== undefined) out[top] = { ...(out[top] as Obj | undefined), [k]: (ext as Obj)[k] }
      }
    }
    return out
  }
  const out: Obj = { ...resource }
  for (const name of exclude) {
    const { top, sub } = locate(name)
    if (top === undefined || ALWAYS.has(top)) continue
    if (sub === undefined) {
      delete out[top]
    } else if (typeof out[top] === 'object' && out[top] !== null) {
      const copy = { ...(out[top] as Obj) }
      const k = keyOf(copy, sub)
      if (k !== undefined) delete copy[k]
      out[top] = copy
    }
  }
  return out
}
