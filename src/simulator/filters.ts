import { scimError } from './errors.js'

/**
 * SCIM filter and PATCH path parsing, limited to what Genesys supports: a single
 * `eq` comparison (`userName eq "a@b.c"`, `active eq false`, `manager eq <id>`).
 * Anything else is refused with 400 `invalidFilter` rather than guessed at.
 */

export interface EqFilter {
  /** The attribute as written, lower-cased, with any schema URN prefix removed. */
  attribute: string
  value: string | boolean | number | null
}

const invalid = (detail: string) => scimError(400, 'invalidFilter', detail)

/** Strips a known schema URN prefix: `urn:…:enterprise:2.0:User:employeeNumber` → `employeenumber`. */
export function bareAttribute (attr: string): string {
  const lower = attr.toLowerCase()
  if (!lower.startsWith('urn:')) return lower
  const i = lower.lastIndexOf(':')
  return lower.slice(i + 1)
}

function parseValue (raw: string, filter: string): EqFilter['value'] {
  if (raw.startsWith('"')) {
    try {
      const v: unknown = JSON.parse(raw)
      if (typeof v === 'string') return v
    } catch {
      // fall through to the error below
    }
    throw invalid(`Invalid filter value in: ${filter}`)
  }
  if (/\s/.test(raw) || raw.length === 0) throw invalid(`Invalid filter: ${filter}`)
  const lower = raw.toLowerCase()
  if (lower === 'true') return true
  if (lower === 'false') return false
  if (lower === 'null') return null
  if (/^-?\d+(\.\d+)?$/.test(raw)) return Number(raw)
  // Genesys accepts unquoted ids (`manager eq 7e00…`).
  return raw
}

/** Parses `<attr> eq <value>`; throws 400 invalidFilter for anything else. */
export function parseEqFilter (filter: string, allowed: ReadonlySet<string>): EqFilter {
  const m = /^\s*([A-Za-z][\w.:-]*)\s+([A-Za-z]+)\s+(.+?)\s*$/.exec(filter)
  if (!m) throw invalid(`Invalid filter: ${filter}`)
  const [, attrRaw = '', op = '', valueRaw = ''] = m
  if (op.toLowerCase() !== 'eq') throw invalid(`Unsupported filter operator '${op}'; only 'eq' is supported`)
  const attribute = bareAttribute(attrRaw)
  if (!allowed.has(attribute)) throw invalid(`Unsupported filter attribute '${attrRaw}'`)
  return { attribute, value: parseValue(valueRaw, filter) }
}

/** Compares a filter value with an attribute value; strings case-insensitively unless `caseExact`. */
export function matches (actual: string | boolean | undefined, expected: EqFilter['value'], caseExact = false): boolean {
  if (actual === undefined) return expected === null
  if (typeof actual === 'boolean') return typeof expected === 'boolean' ? actual === expected : String(actual) === String(expected).toLowerCase()
  if (expected === null) return false
  const e = String(expected)
  return caseExact ? actual === e : actual.toLowerCase() === e.toLowerCase()
}

/**
 * A PATCH path: `attr`, `attr.sub`, `attr[sub eq "v"]`, `attr[sub eq "v"].sub`,
 * each optionally prefixed by a schema URN (`urn:…:enterprise:2.0:User:division`).
 */
export interface PatchPath {
  /** The schema URN when the path named one (lower-cased), else undefined (core schema). */
  urn?: string
  /** Undefined when the path is the URN alone: the whole extension. */
  attribute?: string
  filter?: EqFilter
  sub?: string
}

const KNOWN_URN = /^(urn:ietf:params:scim:schemas:(?:core:2\.0:(?:user|group)|extension:enterprise:2\.0:user|extension:genesys:purecloud:2\.0:user))(?::(.*))?$/i

export function parsePatchPath (path: string): PatchPath {
  const noTarget = () => scimError(400, 'invalidPath', `Invalid path: ${path}`)
  let rest = path.trim()
  let urn: string | undefined
  if (rest.toLowerCase().startsWith('urn:')) {
    const m = KNOWN_URN.exec(rest)
    if (!m) throw noTarget()
    urn = (m[1] ?? '').toLowerCase()
    rest = m[2] ?? ''
    // The core schema URN adds nothing: its attributes live at the top level.
    if (urn.includes(':core:')) urn = undefined
    if (rest === '') {
      if (urn === undefined) throw noTarget()
      return { urn }
    }
  }
  const m = /^([A-Za-z][\w$-]*)(?:\[(.+)\])?(?:\.([A-Za-z][\w$-]*))?$/.exec(rest)
  if (!m) throw noTarget()
  const [, attribute = '', filterRaw, sub] = m
  const out: PatchPath = { urn, attribute: attribute.toLowerCase() }
  if (filterRaw !== undefined) {
    const f = /^\s*([A-Za-z][\w.]*)\s+eq\s+(.+?)\s*$/i.exec(filterRaw)
    if (!f) throw scimError(400, 'invalidFilter', `Invalid filter in path: ${path}`)
    out.filter = { attribute: (f[1] ?? '').toLowerCase(), value: parseValue(f[2] ?? '', filterRaw) }
  }
  if (sub !== undefined) out.sub = sub.toLowerCase()
  return out
}
