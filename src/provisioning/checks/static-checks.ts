import type { Issue } from '../../errors.js'
import type { NewHireBody } from '../model.js'

/**
 * Intake policy: what can be decided from the request and the caller alone, with
 * no upstream call. Pure: the same input always gives the same issues, so a
 * refusal can be remembered under an Idempotency-Key.
 */

export interface StaticCheckContext {
  client: { divisions: string[] | '*', roles?: string[] }
  maxGroupDepth: number
}

export interface StaticCheckResult {
  normalized: NewHireBody
  issues: Issue[]
}

// Pragmatic address syntax (what mail systems accept), not the full RFC 5322 grammar.
const EMAIL = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/
const E164 = /^\+[1-9]\d{1,14}$/

/**
 * Characters no name or path may hold: controls, format characters (zero-width
 * spaces and joiners, bidi overrides), private-use and unassigned code points,
 * line and paragraph separators, and the blank "filler" letters. Two names that
 * look the same must be the same.
 */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Co}\p{Cn}\p{Zl}\p{Zp}\u115F\u1160\u3164\uFFA0\u2800]/u

/** The first invisible or control character in a text, as `U+XXXX`, if any. */
export function invisibleCharacter (text: string): string | undefined {
  const m = INVISIBLE.exec(text)
  return m ? `U+${(m[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}` : undefined
}

/** An issue for each text holding an invisible character. */
export function invisibleIssues (texts: Array<[path: string, text: string | undefined]>): Issue[] {
  return texts.flatMap(([path, text]) => {
    const found = text === undefined ? undefined : invisibleCharacter(text)
    return found ? [{ code: 'text.invisibleCharacter', path, message: `contains the control or invisible character ${found}` }] : []
  })
}

const nfc = (text: string) => text.normalize('NFC')

/** Trims and lower-cases the domain; the local part keeps its case (it is the mailbox's business). */
export function normalizeEmail (email: string): string {
  const trimmed = email.trim()
  const at = trimmed.lastIndexOf('@')
  return at < 0 ? trimmed : trimmed.slice(0, at) + trimmed.slice(at).toLowerCase()
}

/** `A / B/C` → segments `['A','B','C']`; empty segments are kept so they can be refused. */
export function groupPathSegments (path: string): string[] {
  return path.split('/').map((s) => s.trim())
}

/** The canonical form of an HR group path: Unicode NFC, segments trimmed, joined by `/`. */
export function normalizeGroupPath (path: string): string {
  return groupPathSegments(nfc(path)).join('/')
}

export function isCalendarDate (text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text)
  if (!m) return false
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])]
  const date = new Date(Date.UTC(y, mo - 1, d))
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d
}

function duplicates (values: string[], path: string, what: string): Issue[] {
  const seen = new Map<string, number>()
  const issues: Issue[] = []
  values.forEach((v, i) => {
    const key = v.toLowerCase()
    const first = seen.get(key)
    if (first === undefined) seen.set(key, i)
    else issues.push({ code: 'list.duplicate', path: `${path}/${i}`, message: `${what} "${v}" is listed twice (also at index ${first})` })
  })
  return issues
}

/** Every free-text field in Unicode NFC, so that comparisons see one spelling per name. */
function nfcHire (hire: NewHireBody): NewHireBody {
  const opt = (v: string | undefined) => (v === undefined ? undefined : nfc(v))
  const out: NewHireBody = { ...hire, email: nfc(hire.email) }
  for (const k of ['givenName', 'familyName', 'displayName', 'title', 'department', 'employeeNumber', 'division'] as const) {
    const v = opt(hire[k])
    if (v !== undefined) out[k] = v
  }
  if (hire.roles) out.roles = hire.roles.map(nfc)
  if (hire.groups) out.groups = hire.groups.map(nfc)
  if (hire.skills) out.skills = hire.skills.map((s) => ({ ...s, name: nfc(s.name) }))
  if (hire.languages) out.languages = hire.languages.map((s) => ({ ...s, name: nfc(s.name) }))
  return out
}

export function staticChecks (raw: NewHireBody, ctx: StaticCheckContext): StaticCheckResult {
  const hire = nfcHire(raw)
  const issues: Issue[] = invisibleIssues([
    ['/email', hire.email], ['/givenName', hire.givenName], ['/familyName', hire.familyName], ['/displayName', hire.displayName],
    ['/title', hire.title], ['/department', hire.department], ['/employeeNumber', hire.employeeNumber], ['/division', hire.division],
    ...(hire.roles ?? []).map((r, i): [string, string] => [`/roles/${i}`, r]),
    ...(hire.groups ?? []).map((g, i): [string, string] => [`/groups/${i}`, g]),
    ...(hire.skills ?? []).map((s, i): [string, string] => [`/skills/${i}/name`, s.name]),
    ...(hire.languages ?? []).map((s, i): [string, string] => [`/languages/${i}/name`, s.name]),
  ])
  const email = normalizeEmail(hire.email)
  if (!EMAIL.test(email) || email.length > 254) {
    issues.push({ code: 'email.invalid', path: '/email', message: `"${email}" is not a valid email address` })
  }

  const division = hire.division?.trim()
  if (ctx.client.divisions !== '*') {
    const allowed = ctx.client.divisions
    if (division === undefined) {
      issues.push({ code: 'division.notAllowed', path: '/division', message: `this client may provision only into ${allowed.join(', ')}; name one of them` })
    } else if (!allowed.some((d) => d.toLowerCase() === division.toLowerCase())) {
      issues.push({ code: 'division.notAllowed', path: '/division', message: `this client may not provision into division "${division}"` })
    }
  }
  // The client's own spelling of an allowed division (validation then resolves it to its Genesys id).
  const canonicalDivision = division === undefined || ctx.client.divisions === '*'
    ? division
    : ctx.client.divisions.find((d) => d.toLowerCase() === division.toLowerCase()) ?? division

  const roles = (hire.roles ?? []).map((r) => r.trim())
  const allowedRoles = ctx.client.roles
  if (allowedRoles) {
    roles.forEach((role, i) => {
      if (!allowedRoles.some((r) => r.toLowerCase() === role.toLowerCase())) {
        issues.push({ code: 'role.notAllowed', path: `/roles/${i}`, message: `this client may not grant role "${role}"` })
      }
    })
  }
  issues.push(...duplicates(roles, '/roles', 'role'))

  const groups = (hire.groups ?? []).map(normalizeGroupPath)
  groups.forEach((path, i) => {
    const segments = groupPathSegments(path)
    if (segments.some((s) => s.length === 0)) {
      issues.push({ code: 'group.pathInvalid', path: `/groups/${i}`, message: `group path "${hire.groups?.[i] ?? ''}" has an empty segment` })
    } else if (segments.length > ctx.maxGroupDepth) {
      issues.push({ code: 'group.tooDeep', path: `/groups/${i}`, message: `group path "${path}" is ${segments.length} levels deep; at most ${ctx.maxGroupDepth} are allowed` })
    }
  })
  issues.push(...duplicates(groups, '/groups', 'group'))

  hire.phoneNumbers?.forEach((p, i) => {
    if (!E164.test(p.value)) {
      issues.push({ code: 'phone.invalid', path: `/phoneNumbers/${i}/value`, message: `"${p.value}" is not an E.164 number (e.g. +353871234567)` })
    }
  })
  issues.push(...duplicates((hire.phoneNumbers ?? []).map((p) => p.type), '/phoneNumbers', 'phone type'))
  issues.push(...duplicates((hire.skills ?? []).map((s) => s.name), '/skills', 'skill'))
  issues.push(...duplicates((hire.languages ?? []).map((s) => s.name), '/languages', 'language'))

  if (hire.startDate !== undefined && !isCalendarDate(hire.startDate)) {
    issues.push({ code: 'date.invalid', path: '/startDate', message: `"${hire.startDate}" is not a calendar date` })
  }
  if (hire.managerHrId !== undefined && hire.managerHrId === hire.hrId) {
    issues.push({ code: 'manager.self', path: '/managerHrId', message: 'a new hire cannot be their own manager' })
  }
  if (hire.givenName === undefined && hire.familyName === undefined && hire.displayName === undefined) {
    issues.push({ code: 'name.missing', path: '/displayName', message: 'give displayName, or givenName and/or familyName' })
  }

  const normalized: NewHireBody = {
    ...hire,
    email,
    ...(canonicalDivision !== undefined ? { division: canonicalDivision } : {}),
    ...(hire.roles ? { roles } : {}),
    ...(hire.groups ? { groups } : {}),
  }
  return { normalized, issues }
}

/** Display name as Genesys will show it. */
export function displayNameOf (hire: NewHireBody): string {
  return hire.displayName ?? [hire.givenName, hire.familyName].filter(Boolean).join(' ')
}
