import { canonicalJson } from '../lib/canonical-json.js'
import type { NewHireBody, RequestKind, WorkerDesired, WorkerPatch, WorkerStatus } from './model.js'
import type { WorkerEntry } from './registry.js'

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
}

export type Derived = { change: 'none' } | { change: RequestKind }

/** The desired state a PUT states, for the path's HR id. */
export function desireOfPut (hrId: string, body: WorkerDesired): Desire {
  const { status = 'active', effectiveAt, ...fields } = body
  return { hire: { ...fields, hrId }, status, ...(effectiveAt !== undefined ? { effectiveAt } : {}) }
}

/**
 * A merge patch (RFC 7396) applied to the worker's desired state: present
 * fields replace, absent ones are kept.
 */
export function desireOfPatch (entry: WorkerEntry, base: NewHireBody, patch: WorkerPatch): Desire {
  const { status, effectiveAt, ...fields } = patch
  return { hire: { ...base, ...fields, hrId: entry.hrId }, status: status ?? (entry.active ? 'active' : 'terminated'), ...(effectiveAt !== undefined ? { effectiveAt } : {}) }
}

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
 * desired state the registry last accepted.
 */
export function deriveChange (entry: WorkerEntry | undefined, normalized: NewHireBody, status: WorkerStatus, recorded: NewHireBody | undefined): Derived {
  if (!entry) return status === 'active' ? { change: 'hire' } : { change: 'none' }
  if (!entry.active) return status === 'active' ? { change: 'rehire' } : { change: 'none' }
  if (status === 'terminated') return { change: 'terminate' }
  // Without a recorded state (an entry older than desired states) the change is
  // made against Genesys itself, and counted as a move unless no division is named.
  if (recorded && differingFields(recorded, normalized).length === 0) return { change: 'none' }
  const sameDivision = (normalized.division ?? '').toLowerCase() === (recorded?.division ?? '').toLowerCase()
  return { change: sameDivision ? 'update' : 'move' }
}
