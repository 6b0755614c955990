import type { GroupSyncChange } from './ports.js'

/**
 * The smallest change that takes a group from `current` to what the sync asks
 * for: adds only for absent members, removes only for present ones, so no
 * operation is a no-op and nothing outside the group is touched.
 */
export function membershipDiff (current: ReadonlySet<string>, change: { mode: 'replace', desired: ReadonlySet<string> } | { mode: 'delta', add: ReadonlySet<string>, remove: ReadonlySet<string> }): { add: string[], remove: string[] } {
  if (change.mode === 'replace') {
    return {
      add: [...change.desired].filter((id) => !current.has(id)).sort(),
      remove: [...current].filter((id) => !change.desired.has(id)).sort(),
    }
  }
  return {
    // An id both added and removed in one request is left as it is.
    add: [...change.add].filter((id) => !current.has(id) && !change.remove.has(id)).sort(),
    remove: [...change.remove].filter((id) => current.has(id) && !change.add.has(id)).sort(),
  }
}

/** Whether removing `removals` of `members` trips the brake (more than `percent` %). */
export function exceedsRemovalBrake (removals: number, members: number, percent: number): boolean {
  return members > 0 && removals * 100 > members * percent
}

/** The HR ids a change mentions. */
export function hrIdsOf (change: GroupSyncChange): string[] {
  return change.mode === 'replace' ? change.members : [...change.add, ...change.remove]
}

export function chunks<T> (items: readonly T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}
