/** What changed in Genesys behind the service's back, for one managed worker. */
export const DRIFT_KINDS = ['division.changed', 'role.removed', 'group.removed', 'user.deactivated', 'user.reactivated', 'user.deleted', 'attribute.changed'] as const
export type DriftKind = typeof DRIFT_KINDS[number]

export interface DriftFinding {
  clientId: string
  hrId: string
  genesysUserId: string
  kind: DriftKind
  /** What the service recorded and what Genesys holds (ids and names of the worker's own objects only). */
  detail: Record<string, string>
  detectedAt: string
  runId: string
  /** In repair mode: the request queued to restore the desired state. */
  repairRequestId?: string
}

export const RECONCILE_MODES = ['report', 'repair'] as const
export type ReconcileMode = typeof RECONCILE_MODES[number]

export interface ReconciliationRun {
  id: string
  /** The client reconciled, or '*' for every client. */
  scope: string
  mode: ReconcileMode
  status: 'running' | 'completed' | 'failed'
  startedAt: string
  finishedAt?: string
  workers: number
  found: Partial<Record<DriftKind, number>>
  repairs: number
  /** Genesys calls the run made. */
  upstreamCalls: number
  error?: { code: string, message: string }
}

export interface DriftStore {
  /** Stores a run; false when one with this id exists (a periodic run another replica started). */
  insertRun (run: ReconciliationRun): Promise<boolean>
  saveRun (run: ReconciliationRun): Promise<void>
  getRun (id: string): Promise<ReconciliationRun | undefined>
  /** The client's current drift: replaced by each run that reconciled it. */
  replace (clientId: string, findings: readonly DriftFinding[]): Promise<void>
  current (clientId: string): Promise<DriftFinding[]>
}

export interface ReconcileJob { runId: string }

export const DRIFT_RETENTION_SECONDS = 30 * 24 * 3600
