import { canonicalJson } from '../lib/canonical-json.js'
import type { NewHireBody, RequestKind, WorkerDesired, WorkerPatch, WorkerStatus } from './model.js'
import type { WorkerEntry } from './registry.js'
import type { ProvisioningRecord } from './ports.js'

/**
 * The worker lifecycle's pure half: from a desired state (PUT) or a merge
 * patch (PATCH) and what the registry records, which change a request makes.
 * Declarative: the caller says what the worker should be, never which call to
 * make; the same desired state twice is no change at all.
 */

export interface Desire {
  /** The desired new-hire fields, HR id included. */
  hire: NewHireBody
  status: WorkerStatus
  effectiveAt?: string
  /** Cancel the worker's scheduled changes effective at or after this one. */
  supersede?: boolean
}

export type Derived = { change: 'none' } | { change: RequestKind }

/** The desired state a PUT states, for the path's HR id. */
export function desireOfPut (hrId: string, body: WorkerDesired): Desire {
  const { status = 'active', effectiveAt, supersede, ...fields } = body
  return { hire: { ...fields, hrId }, status, ...when(effectiveAt, supersede) }
}

/**
 * A merge patch (RFC 7396) applied to the worker's desired state: present
 * fields replace, absent ones are kept.
 */
export function desireOfPatch (base: { hire: NewHireBody, active: boolean }, patch: WorkerPatch): Desire {
  const { status, effectiveAt, supersede, ...fields } = patch
  return { hire: { ...base.hire, ...fields, hrId: base.hire.hrId }, status: status ?? (base.active ? 'active' : 'terminated'), ...when(effectiveAt, supersede) }
}

const when = (effectiveAt: string | undefined, supersede: boolean | undefined) => ({
  ...(effectiveAt !== undefined ? { effectiveAt } : {}),
  ...(supersede === true ? { supersede } : {}),
})

/** The fields of the desired state that differ between two (normalised) new hires. */
export function differingFields (a: NewHireBody, b: NewHireBody): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)])
  const out: string[] = []
  for (const key of [...keys].sort()) {
    const x = (a as Record<string, unknown>)[key]
    const y = (b as Record<string, unknown>)[key]
    if (canonicalJson(x ?? null) !== canonicalJson(y ?? null)) out.push(key)
  }
  return out
}

/**
 * The change a desired state asks of a worker the registry records (or not).
 * `normalized` is the desired state after the static checks; `recorded` the
 * desired state the registry last accepted (or, for a scheduled change, the
 * state the worker's earlier scheduled changes lead to).
 */
export function deriveChange (entry: Pick<WorkerEntry, 'active'> | undefined, normalized: NewHireBody, status: WorkerStatus, recorded: NewHireBody | undefined): Derived {
  if (!entry) return status === 'active' ? { change: 'hire' } : { change: 'none' }
  if (!entry.active) return status === 'active' ? { change: 'rehire' } : { change: 'none' }
  if (status === 'terminated') return { change: 'terminate' }
  // Without a recorded state (an entry older than desired states) the change is
  // made against Genesys itself, and counted as a move unless no division is named.
  if (recorded && differingFields(recorded, normalized).length === 0) return { change: 'none' }
  const sameDivision = (normalized.division ?? '').toLowerCase() === (recorded?.division ?? '').toLowerCase()
  return { change: sameDivision ? 'update' : 'move' }
}

/** Effective order; requests effective at the same time run in the order they were made. */
export function byEffectiveTime (a: Pick<ProvisioningRecord, 'id' | 'createdAt' | 'effectiveAt'>, b: Pick<ProvisioningRecord, 'id' | 'createdAt' | 'effectiveAt'>): number {
  return Date.parse(a.effectiveAt ?? a.createdAt) - Date.parse(b.effectiveAt ?? b.createdAt) || a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id)
}
