import type { GenesysClient } from '../genesys/client.js'
import { isGenesysError } from '../genesys/errors.js'

export type GrantWriter = Pick<GenesysClient['grants'], 'bulkAdd' | 'roleToUsers'>
type Grant = { roleId: string, divisionId: string }

/** Users per bulk role grant (Genesys documents no limit; this keeps one refusal's blast radius small). */
const MAX_USERS = 50
/** How long the first grant of a set waits for others to join it (hires created together are granted together). */
export const GRANT_WINDOW_MS = 10

interface Waiter { userId: string, resolve: () => void, reject: (err: unknown) => void }

/**
 * Grants roles to new hires, coalesced across hires: the hires that want the
 * same grants (the same roles in the same divisions, the usual case in a bulk
 * load) within `GRANT_WINDOW_MS` of each other, or while a grant of that set
 * is in flight, share one call, one
 * `POST /api/v2/authorization/roles/{roleId}?subjectType=PC_USER` per role for
 * up to 50 users. A lone hire costs what it always did: one call per role,
 * or one `bulkadd` when it wants more roles than there are users to share them.
 *
 * A batch Genesys refuses for something one user could cause (400, 404: a
 * fresh user id not visible to the grant API yet, 409) is granted again user by
 * user, so each hire gets its own outcome; a refusal that applies to all (403,
 * 429, 5xx) reaches every waiter.
 */
export function createRoleGrants (grants: GrantWriter) {
  const queues = new Map<string, { list: Grant[], waiters: Waiter[] }>()
  const running = new Set<string>()

  async function flush (key: string): Promise<void> {
    try {
      for (;;) {
        const queue = queues.get(key)
        const batch = queue?.waiters.splice(0, MAX_USERS) ?? []
        if (!queue || batch.length === 0) break
        await grantBatch(queue.list, batch)
      }
    } finally {
      running.delete(key)
      queues.delete(key)
    }
  }

  async function grantBatch (list: Grant[], batch: Waiter[]): Promise<void> {
    const userIds = [...new Set(batch.map((w) => w.userId))]
    const byRole = new Map<string, string[]>()
    for (const g of list) byRole.set(g.roleId, [...(byRole.get(g.roleId) ?? []), g.divisionId])
    if (userIds.length < byRole.size) {
      await oneByOne(list, batch)
      return
    }
    try {
      for (const [roleId, divisionIds] of byRole) await grants.roleToUsers(roleId, userIds, divisionIds)
      for (const w of batch) w.resolve()
    } catch (err) {
      if (batch.length > 1 && isGenesysError(err) && [400, 404, 409].includes(err.upstreamStatus ?? 0)) await oneByOne(list, batch)
      else for (const w of batch) w.reject(err)
    }
  }

  async function oneByOne (list: Grant[], batch: Waiter[]): Promise<void> {
    await Promise.all(batch.map((w) => grants.bulkAdd(w.userId, list).then(w.resolve, w.reject)))
  }

  return {
    /** Resolves once the user holds these grants (granting what is held already is harmless). */
    grant (userId: string, list: Grant[]): Promise<void> {
      if (list.length === 0) return Promise.resolve()
      const key = [...new Set(list.map((g) => `${g.roleId}/${g.divisionId}`))].sort().join(',')
      return new Promise<void>((resolve, reject) => {
        const queue = queues.get(key) ?? { list, waiters: [] }
        queue.waiters.push({ userId, resolve, reject })
        queues.set(key, queue)
        if (!running.has(key)) {
          running.add(key)
          setTimeout(() => { void flush(key) }, GRANT_WINDOW_MS)
        }
      })
    },
  }
}

export type RoleGrants = ReturnType<typeof createRoleGrants>
