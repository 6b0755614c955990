import type { AuthenticatedClient } from '../config/clients.js'
import { errors, isProvisioningError, problemBody } from '../errors.js'
import { withCallLimit } from '../genesys/call-limit.js'
import { usersOfDivisions, type GenesysClient } from '../genesys/client.js'
import { isNotFound } from '../genesys/errors.js'
import type { ScimUser } from '../genesys/types.js'
import { newId } from '../lib/ids.js'
import type { Clock } from '../lib/timers.js'
import type { ReferenceCache } from '../provisioning/facts.js'
import type { WorkerEntry, WorkerRegistry } from '../provisioning/registry.js'
import type { Delivery } from '../webhooks/ports.js'
import { driftOf } from './compare.js'
import type { DriftFinding, DriftKind, DriftStore, ReconcileMode, ReconciliationRun } from './ports.js'

export const RECONCILIATIONS_PATH = '/v1/reconciliations'
export const DRIFT_PATH = '/v1/drift'

/** Kinds a repair restores through the lifecycle (a deleted or (de)activated user needs a person's decision). */
const REPAIRABLE: ReadonlySet<DriftKind> = new Set(['division.changed', 'role.removed', 'group.removed', 'attribute.changed'])
/** Calls one run may make (a guard against a runaway listing). */
const MAX_RUN_CALLS = 50_000

export interface DriftGenesys {
  client: { users: Pick<GenesysClient['users'], 'page' | 'get'>, roles: Pick<GenesysClient['roles'], 'byId'>, divisions: Pick<GenesysClient['divisions'], 'list'> }
  cache: ReferenceCache
}

export interface DriftServiceDeps {
  store: DriftStore
  registry: Pick<WorkerRegistry, 'list' | 'put'>
  genesysFor: (apiClientId: string) => DriftGenesys
  /** The clients a run over every client ('*') reconciles. */
  clients: () => readonly AuthenticatedClient[]
  client: (id: string) => AuthenticatedClient | undefined
  queue: { enqueue (runId: string): Promise<void> }
  clock: Clock
  mode: ReconcileMode
  /** Waits between Genesys calls, so reconciliation keeps to its share of the budget. */
  pace: () => Promise<void>
  /** Repair: queues the change that brings the worker back to its recorded state; its request id (undefined: none queued). */
  restore: (client: AuthenticatedClient, hrId: string, kind: 'update' | 'move') => Promise<string | undefined>
  /** The webhook a client's findings owe (or undefined), and its hand-off to the queue. */
  outbox?: (clientId: string, run: ReconciliationRun, findings: readonly DriftFinding[]) => Delivery | undefined
  deliver?: (delivery: Delivery) => Promise<void>
  onRun?: (run: ReconciliationRun, seconds: number) => void
}

/**
 * Drift reconciliation: each managed worker's recorded state compared with
 * Genesys (the users of the client's divisions read page by page, a user not
 * among them read by id), the findings kept as the client's current drift and
 * sent as a `worker.drift.detected` webhook; in repair mode the change that
 * restores the desired state is queued, braked like any other.
 */
export function createDriftService (deps: DriftServiceDeps) {
  const iso = () => new Date(deps.clock.now()).toISOString()

  async function entriesOf (clientId: string): Promise<WorkerEntry[]> {
    const all: WorkerEntry[] = []
    let cursor: string | undefined
    for (let page = 0; page < 1000; page++) {
      const got = await deps.registry.list(clientId, { limit: 100, ...(cursor !== undefined ? { cursor } : {}) })
      all.push(...got.items)
      cursor = got.nextCursor
      if (cursor === undefined) break
    }
    return all
  }

  const paced = async <T>(call: () => Promise<T>): Promise<T> => {
    await deps.pace()
    return call()
  }

  /** One client's workers against Genesys: its findings, and the repairs queued. */
  async function reconcileClient (client: AuthenticatedClient, run: ReconciliationRun): Promise<{ findings: DriftFinding[], workers: number, repairs: number }> {
    const g = deps.genesysFor(client.id)
    const entries = await entriesOf(client.id)
    if (entries.length === 0) return { findings: [], workers: 0, repairs: 0 }
    const names = client.divisions === '*' ? (await paced(() => g.client.divisions.list())).map((d) => d.name) : client.divisions
    const paging = { page: (filter: string, start: number) => paced(() => g.client.users.page(filter, start)) }
    const byId = new Map((await usersOfDivisions(paging, names)).map((u) => [u.id, u]))
    const roleNames = new Map<string, string>()
    for (const id of new Set(entries.flatMap((e) => e.grants.map((x) => x.roleId)))) {
      const role = await g.cache(`roleById:${id}`, () => paced(() => g.client.roles.byId(id))).catch(() => undefined)
      if (role) roleNames.set(id, role.name)
    }
    const findings: DriftFinding[] = []
    let repairs = 0
    for (const entry of entries) {
      let user: ScimUser | 'deleted' | undefined = byId.get(entry.genesysUserId)
      if (!user && entry.deletedAt !== undefined) continue
      if (!user) {
        // Not in the client's divisions: moved out of them by hand, or deleted.
        user = await paced(() => g.client.users.get(entry.genesysUserId)).then((v) => v.resource, (err: unknown) => {
          if (isNotFound(err)) return 'deleted' as const
          throw err
        })
      }
      const found = driftOf(entry, user, roleNames).map((f): DriftFinding => ({ ...f, clientId: client.id, hrId: entry.hrId, genesysUserId: entry.genesysUserId, detectedAt: iso(), runId: run.id }))
      if (run.mode === 'repair' && found.some((f) => REPAIRABLE.has(f.kind))) {
        const requestId = await repair(client, entry, found)
        if (requestId !== undefined) {
          repairs++
          for (const f of found) if (REPAIRABLE.has(f.kind)) f.repairRequestId = requestId
        }
      }
      findings.push(...found)
    }
    return { findings, workers: entries.length, repairs }
  }

  /**
   * The registry forgets the grants and memberships Genesys lost (they are no
   * longer the service's doing), then the lifecycle restores the recorded
   * state: the user patched back, the roles granted and the groups joined again.
   */
  async function repair (client: AuthenticatedClient, entry: WorkerEntry, found: readonly DriftFinding[]): Promise<string | undefined> {
    const lostRoles = new Set(found.filter((f) => f.kind === 'role.removed').map((f) => `${f.detail.roleId ?? ''}/${f.detail.divisionId ?? ''}`))
    const lostGroups = new Set(found.filter((f) => f.kind === 'group.removed').map((f) => f.detail.groupId ?? ''))
    if (lostRoles.size > 0 || lostGroups.size > 0) {
      await deps.registry.put({ ...entry, grants: entry.grants.filter((x) => !lostRoles.has(`${x.roleId}/${x.divisionId}`)), groups: entry.groups.filter((id) => !lostGroups.has(id)), updatedAt: iso() })
    }
    const kind = found.some((f) => f.kind === 'division.changed') ? 'move' : 'update'
    try {
      return await deps.restore(client, entry.hrId, kind)
    } catch (err) {
      // A worker with a change in progress is repaired by the next run.
      if (isProvisioningError(err) && err.status === 409) return undefined
      throw err
    }
  }

  return {
    /** Starts a run (queued as a job): one client, or every client ('*'). */
    async start (scope: string, opts: { id?: string } = {}): Promise<ReconciliationRun> {
      const run: ReconciliationRun = { id: opts.id ?? newId('rcn', deps.clock.now()), scope, mode: deps.mode, status: 'running', startedAt: iso(), workers: 0, found: {}, repairs: 0, upstreamCalls: 0 }
      if (await deps.store.insertRun(run)) await deps.queue.enqueue(run.id)
      return (await deps.store.getRun(run.id)) ?? run
    },

    /** The run's job. At-least-once: a re-run finds the same drift, and a repair already queued is a request in progress. */
    async execute (runId: string): Promise<void> {
      const run = await deps.store.getRun(runId)
      if (!run || run.status !== 'running') return
      const started = performance.now()
      const targets = run.scope === '*' ? deps.clients() : [deps.client(run.scope)].flatMap((c) => (c ? [c] : []))
      let done: ReconciliationRun = { ...run }
      try {
        const { used } = await withCallLimit(MAX_RUN_CALLS, async () => {
          for (const client of targets) {
            const r = await reconcileClient(client, run)
            await deps.store.replace(client.id, r.findings)
            const found = { ...done.found }
            for (const f of r.findings) found[f.kind] = (found[f.kind] ?? 0) + 1
            done = { ...done, workers: done.workers + r.workers, repairs: done.repairs + r.repairs, found }
            const delivery = r.findings.length > 0 ? deps.outbox?.(client.id, run, r.findings) : undefined
            if (delivery) await deps.deliver?.(delivery)
          }
        })
        done = { ...done, status: 'completed', finishedAt: iso(), upstreamCalls: used }
      } catch (err) {
        const problem = problemBody(isProvisioningError(err) ? err : errors.internal('internal', err))
        done = { ...done, status: 'failed', finishedAt: iso(), error: { code: problem.code, message: problem.detail } }
      }
      await deps.store.saveRun(done)
      deps.onRun?.(done, (performance.now() - started) / 1000)
    },

    /** A run, for its client (or an admin, for a run over every client); 404 otherwise. */
    async run (caller: AuthenticatedClient, id: string): Promise<ReconciliationRun> {
      const run = await deps.store.getRun(id)
      const admin = caller.scopes.includes('admin')
      if (!run || (run.scope !== caller.id && !(admin && run.scope === '*'))) throw errors.notFound(`No reconciliation ${id}.`)
      return run
    },

    /** A client's current drift (every client's, for '*'), optionally of one kind. */
    async current (scope: string, kind?: DriftKind): Promise<DriftFinding[]> {
      const ids = scope === '*' ? deps.clients().map((c) => c.id) : [scope]
      const all = (await Promise.all(ids.map((id) => deps.store.current(id)))).flat()
      return kind === undefined ? all : all.filter((f) => f.kind === kind)
    },
  }
}

export type DriftService = ReturnType<typeof createDriftService>
