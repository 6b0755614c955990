import type { AuthenticatedClient } from '../config/clients.js'
import { externalIdFor } from '../config/clients.js'
import { errors, isProvisioningError, problemBody } from '../errors.js'
import { withCallLimit } from '../genesys/call-limit.js'
import type { GenesysClient } from '../genesys/client.js'
import { usersOfDivisions } from '../genesys/client.js'
import { SCIM_ENTERPRISE_USER, type ScimUser } from '../genesys/types.js'
import { newId } from '../lib/ids.js'
import type { Clock } from '../lib/timers.js'
import type { Desire } from '../batches/service.js'
import { divisionByName, type Directory, type GroupResolver, type ReferenceCache } from '../provisioning/facts.js'
import { desireOfPut } from '../provisioning/lifecycle.js'
import type { NewHireBody } from '../provisioning/model.js'
import { OwnedElsewhere, type WorkerEntry, type WorkerOwner, type WorkerRegistry } from '../provisioning/registry.js'
import { differencesOf, matchRoster } from './match.js'
import type { ImportCounts, ImportEntry, ImportMode, ImportRow, ImportStore, RosterImport, RosterRecord } from './ports.js'

export const IMPORTS_PATH = '/v1/imports'

/** Genesys as one client's OAuth client sees it, for reading the org. */
export interface ImportGenesys {
  client: Directory & { users: Pick<GenesysClient['users'], 'page' | 'findByUserName'>, divisions: Pick<GenesysClient['divisions'], 'list' | 'byName' | 'home'> }
  groups: GroupResolver
  cache: ReferenceCache
}

const LOOKUP_CONCURRENCY = 8
/** Calls one import may make (a guard against a runaway listing, far above any roster's need). */
const MAX_IMPORT_CALLS = 20_000

export interface ImportServiceDeps {
  store: ImportStore
  /** Queues an import's job (durable with Redis): the matching runs in a worker process. */
  queue: { enqueue (importId: string): Promise<void> }
  registry: Pick<WorkerRegistry, 'get' | 'ownerOf' | 'put'>
  genesysFor: (apiClientId: string) => ImportGenesys
  desire: Desire
  clock: Clock
  /** Whether a client's roster may match users carrying its bare HR ids (clients file `matchBareHrIds`). */
  matchBareHrIds: (apiClientId: string) => boolean
}

/**
 * Onboarding an org that already has users: the roster is matched to the
 * Genesys users of the client's divisions; `plan` writes nothing, `apply`
 * registers the matches as owned (no Genesys write) and sends every matched
 * or missing record through the lifecycle, as `PUT /v1/workers/{hrId}`
 * would (brakes included). Conflicts are left alone.
 */
export function createImportService (deps: ImportServiceDeps) {
  const iso = () => new Date(deps.clock.now()).toISOString()

  /** Every user of the client's divisions, active or not. */
  async function usersOf (g: ImportGenesys, client: AuthenticatedClient): Promise<ScimUser[]> {
    const names = client.divisions === '*' ? (await g.client.divisions.list()).map((d) => d.name) : client.divisions
    return usersOfDivisions(g.client.users, names)
  }

  async function each<T> (items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
    for (let i = 0; i < items.length; i += LOOKUP_CONCURRENCY) await Promise.all(items.slice(i, i + LOOKUP_CONCURRENCY).map(fn))
  }

  /** The roster matched and compared: every row with its outcome and differences, and the unmanaged users. */
  async function match (client: AuthenticatedClient, g: ImportGenesys, records: RosterRecord[]) {
    const users = await usersOf(g, client)
    const registered = new Map<string, string>()
    const owners = new Map<string, WorkerOwner>()
    await each(records, async (r) => { const e = await deps.registry.get(client.id, r.hrId); if (e) registered.set(r.hrId, e.genesysUserId) })
    await each(users, async (u) => { const o = await deps.registry.ownerOf(u.id); if (o) owners.set(u.id, o) })
    const matched = matchRoster({ clientId: client.id, records, users, externalIdOf: (h) => externalIdFor(client, h), matchBareHrIds: deps.matchBareHrIds(client.id), registered, owners })
    const byIndex = new Map(records.map((r) => [r.index, r]))
    await each(matched.rows, async (row) => {
      const r = byIndex.get(row.index)
      if (!r) return
      if (row.outcome === 'create') {
        // Not in the client's divisions: a holder of the email elsewhere blocks the record (named to nobody).
        const holder = await g.client.users.findByUserName(r.desired.email)
        if (holder) Object.assign(row, { outcome: 'conflict', conflict: { code: 'email.outsideDivisions', message: `${r.desired.email} belongs to a Genesys user outside this client's divisions` } })
        return
      }
      const user = matched.matchedUsers.get(row.index)
      if (row.outcome !== 'matched' || !user) return
      const groupIds = await groupIdsOf(g, r, client)
      const differences = differencesOf(user, r.desired, groupIds)
      if (Object.keys(differences).length > 0) row.differences = differences
    })
    return { ...matched, byIndex }
  }

  /** The Genesys group each of the record's HR paths feeds in its division (undefined: none). */
  async function groupIdsOf (g: ImportGenesys, r: RosterRecord, client: AuthenticatedClient): Promise<Map<string, string | undefined>> {
    const ids = new Map<string, string | undefined>()
    const division = r.desired.division === undefined ? undefined : await divisionByName({ directory: g.client, cache: g.cache }, r.desired.division)
    if (!division) return ids
    for (const path of r.desired.groups ?? []) {
      const resolved = await g.groups.resolve(path, division, { fallback: client.groupFallback ?? true, allDivisions: client.divisions === '*' })
      ids.set(path, resolved.found?.id)
    }
    return ids
  }

  /** Registers a matched user as this client's worker, its recorded state what Genesys holds of the roster's. */
  async function register (client: AuthenticatedClient, g: ImportGenesys, imp: RosterImport, row: ImportRow, r: RosterRecord, user: ScimUser): Promise<void> {
    const divisionName = user[SCIM_ENTERPRISE_USER]?.division
    const division = divisionName === undefined ? undefined : await divisionByName({ directory: g.client, cache: g.cache }, divisionName)
    if (!division) {
      Object.assign(row, { outcome: 'conflict', conflict: { code: 'division.unknown', message: 'the matching Genesys user\'s division could not be resolved' } })
      return
    }
    const desired: NewHireBody = desireOfPut(r.hrId, r.desired).hire
    const missingRoles = new Set(row.differences?.rolesToAdd ?? [])
    const missingGroups = new Set(row.differences?.groupsToJoin ?? [])
    const held: NewHireBody = {
      ...desired,
      email: user.userName,
      division: division.name,
      ...(desired.roles ? { roles: desired.roles.filter((x) => !missingRoles.has(x)) } : {}),
      ...(desired.groups ? { groups: desired.groups.filter((x) => !missingGroups.has(x)) } : {}),
    }
    const entry: WorkerEntry = {
      clientId: client.id,
      hrId: r.hrId,
      externalId: externalIdFor(client, r.hrId),
      genesysUserId: user.id,
      divisionId: division.id,
      divisionName: division.name,
      grants: [],
      groups: [],
      active: user.active !== false,
      origin: 'adopted',
      desired: held,
      lastRequestId: imp.id,
      updatedAt: iso(),
    }
    try {
      await deps.registry.put(entry)
      row.registered = true
    } catch (err) {
      if (!(err instanceof OwnedElsewhere)) throw err
      Object.assign(row, { outcome: 'conflict', conflict: { code: 'owned.elsewhere', message: 'the matching Genesys user is already managed for another HR id or client' } })
    }
  }

  /** Apply: register the matches, then each matched or missing record through the lifecycle. */
  async function apply (client: AuthenticatedClient, g: ImportGenesys, imp: RosterImport, found: Awaited<ReturnType<typeof match>>, originRequestId: string | undefined): Promise<void> {
    for (const row of imp.rows) {
      const r = found.byIndex.get(row.index)
      const user = found.matchedUsers.get(row.index)
      if (row.outcome === 'matched' && r && user && row.matchedBy !== 'registry') await register(client, g, imp, row, r, user)
    }
    await each(imp.rows, async (row) => {
      const r = found.byIndex.get(row.index)
      if (!r || (row.outcome !== 'matched' && row.outcome !== 'create')) return
      try {
        const res = await deps.desire(client, r.hrId, { method: 'PUT', body: r.desired }, `${imp.id}#${row.index}`, originRequestId, {})
        const o = res.outcome
        if (o.kind === 'accepted') Object.assign(row, { change: o.change, requestId: o.requestId })
        else if (o.kind === 'refused') row.applyIssues = o.issues
        else row.change = 'none'
      } catch (err) {
        if (!isProvisioningError(err) || err.status >= 500) throw err
        row.applyIssues = err.issues ?? [{ code: err.code === 'PROV_ERR_CONFLICT' ? 'worker.busy' : `record.${err.code.replace(/^PROV_ERR_/, '').toLowerCase()}`, path: '', message: err.message }]
      }
    })
  }

  const zeroCounts = (): ImportCounts => ({ matched: 0, create: 0, conflict: 0, invalid: 0, unmanaged: 0 })

  return {
    /** Stores the import with its roster, status `running`, and queues its job. */
    async start (client: AuthenticatedClient, mode: ImportMode, entries: readonly ImportEntry[], originRequestId?: string): Promise<RosterImport> {
      const now = iso()
      const imp: RosterImport = {
        id: newId('imp', deps.clock.now()),
        clientId: client.id,
        client,
        mode,
        status: 'running',
        createdAt: now,
        updatedAt: now,
        attempts: 0,
        total: entries.length,
        counts: zeroCounts(),
        rows: [],
        unmanaged: [],
        upstreamCalls: 0,
        ...(originRequestId !== undefined ? { originRequestId } : {}),
      }
      await deps.store.insert(imp, entries)
      await deps.queue.enqueue(imp.id)
      return imp
    },

    /**
     * The import's job: matches the roster (and for apply registers and sends
     * it), then saves the rows. At-least-once: a re-run after a crash matches
     * again; apply is idempotent (the matches are managed by then, and each
     * record's lifecycle call carries its own Idempotency-Key). On its last
     * attempt an error ends the import `failed`.
     */
    async execute (importId: string, attempt: { last: boolean }): Promise<void> {
      const imp = await deps.store.get(importId)
      const entries = await deps.store.roster(importId)
      if (!imp || imp.status !== 'running') return
      if (!entries) {
        await deps.store.save({ ...imp, status: 'failed', updatedAt: iso(), error: { code: 'PROV_ERR_INTERNAL', message: 'the roster of this import is gone (past its retention)' } })
        return
      }
      const client = imp.client
      const g = deps.genesysFor(client.id)
      const records = entries.filter((e): e is RosterRecord => !('issues' in e))
      const invalid: ImportRow[] = entries.flatMap((e) => ('issues' in e ? [{ index: e.index, ...(e.hrId !== undefined ? { hrId: e.hrId } : {}), outcome: 'invalid' as const, issues: e.issues }] : []))
      try {
        const { value: found, used } = await withCallLimit(MAX_IMPORT_CALLS, () => match(client, g, records))
        const done: RosterImport = { ...imp, attempts: imp.attempts + 1, rows: [...found.rows, ...invalid].sort((a, b) => a.index - b.index), unmanaged: found.unmanaged, upstreamCalls: used }
        if (imp.mode === 'apply') await apply(client, g, done, found, imp.originRequestId)
        const now = iso()
        await deps.store.save({ ...done, status: 'completed', completedAt: now, updatedAt: now, counts: { ...countsOf(done.rows), unmanaged: found.unmanaged.length } })
      } catch (err) {
        if (!attempt.last) {
          await deps.store.save({ ...imp, attempts: imp.attempts + 1, updatedAt: iso() })
          throw err
        }
        // Worded as a problem body would be: upstream words never reach the caller.
        const problem = problemBody(isProvisioningError(err) ? err : errors.internal('internal', err))
        await deps.store.save({ ...imp, attempts: imp.attempts + 1, status: 'failed', updatedAt: iso(), error: { code: problem.code, message: problem.detail } })
      }
    },

    /** One of this client's imports (404 for any other). */
    async get (client: AuthenticatedClient, id: string): Promise<RosterImport> {
      const imp = await deps.store.get(id)
      if (!imp || imp.clientId !== client.id) throw errors.notFound(`No import ${id}.`)
      return imp
    },
  }
}

export type ImportService = ReturnType<typeof createImportService>

function countsOf (rows: readonly ImportRow[]): Omit<ImportCounts, 'unmanaged'> {
  const counts = { matched: 0, create: 0, conflict: 0, invalid: 0 }
  for (const r of rows) counts[r.outcome]++
  return counts
}

/** The plan as CSV for the HR team's spreadsheet: one line per record, then one per unmanaged user. */
export function importCsv (imp: RosterImport): string {
  const header = ['index', 'hrId', 'email', 'outcome', 'matchedBy', 'genesysUserId', 'differences', 'conflict', 'issues', 'change', 'requestId']
  const cell = (v: unknown): string => {
    const s = v === undefined ? '' : typeof v === 'string' ? v : JSON.stringify(v)
    // Quoted always; a leading formula character is neutralised for spreadsheets.
    const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s
    return `"${safe.replaceAll('"', '""')}"`
  }
  const lines = [header.map(cell).join(',')]
  for (const r of imp.rows) {
    lines.push([r.index, r.hrId, r.email, r.outcome, r.matchedBy, r.genesysUserId, r.differences, r.conflict?.code, (r.issues ?? r.applyIssues)?.map((i) => i.code).join(' '), r.change, r.requestId].map((v) => cell(typeof v === 'number' ? String(v) : v)).join(','))
  }
  for (const u of imp.unmanaged) lines.push(['', u.externalId, u.userName, 'unmanaged', '', u.genesysUserId, '', '', '', '', ''].map(cell).join(','))
  return lines.join('\r\n') + '\r\n'
}
