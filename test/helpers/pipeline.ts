import { pino } from 'pino'
import type { AuthenticatedClient } from '../../src/config/clients.js'
import type { NewHireBody } from '../../src/provisioning/model.js'
import { createMemoryQueue } from '../../src/jobs/memory-queue.js'
import { DEFAULT_DENIED_PERMISSIONS, parsePermission, type PermissionPattern } from '../../src/provisioning/checks/permissions.js'
import { staticChecks } from '../../src/provisioning/checks/static-checks.js'
import { dryRun } from '../../src/provisioning/dry-run.js'
import type { MappingStore } from '../../src/groups/ports.js'
import { createMappedGroupResolver, createNameGroupResolver, createReferenceCache } from '../../src/provisioning/facts.js'
import type { ProvisioningRecord } from '../../src/provisioning/ports.js'
import { createProvisioningService, jobIdFor } from '../../src/provisioning/service.js'
import { INTAKE_ANSWERS } from '../../src/http/views/provisioning.js'
import { createProvisioningWorker, type ProvisioningJob } from '../../src/provisioning/worker.js'
import type { SimulatorOptions } from '../../src/simulator/index.js'
import { createMemoryMappingStore } from '../../src/groups/store/memory.js'
import { createMemoryChangeWindow, createMemoryEmailReservations, createMemoryIdempotencyStore, createMemoryRequestStore, createMemoryWorkerRegistry } from '../../src/provisioning/store/memory.js'
import { simAndClient } from './genesys.js'

/** An all-division client with bare HR ids (the simulator's seeded users carry bare externalIds). */
export const CLIENT: AuthenticatedClient = { id: 'hris-a', name: 'HRIS A', scopes: ['provisioning:write', 'provisioning:read'], divisions: '*', externalIdPrefix: '' }
export const DENIED = DEFAULT_DENIED_PERMISSIONS.map((p) => parsePermission(p) as PermissionPattern)

/** Service + worker on memory adapters, talking to a simulator over HTTP. */
export async function pipeline (opts: { sim?: SimulatorOptions, maxAttempts?: number, mappings?: MappingStore, brake?: { percent: number, count: number }, client?: AuthenticatedClient, now?: () => number, hrTimeZone?: string, deleteAfterDays?: number, dryRunMaxCalls?: number } = {}) {
  const client = opts.client ?? CLIENT
  const { sim, genesys, close } = await simAndClient({ sim: opts.sim })
  const clock = { now: opts.now ?? Date.now }
  const registry = createMemoryWorkerRegistry()
  const requests = createMemoryRequestStore({ registry })
  const reservations = createMemoryEmailReservations(clock)
  const externalIds = createMemoryEmailReservations(clock)
  const mappingStore = opts.mappings ?? createMemoryMappingStore()
  // Fast retries: the tests wait for outcomes, not for production backoff.
  const queue = createMemoryQueue<ProvisioningJob>({ maxAttempts: opts.maxAttempts ?? 6, backoff: { baseMs: 50, capMs: 500 } })
  const terminal: ProvisioningRecord[] = []
  const held: ProvisioningRecord[] = []
  const cache = createReferenceCache(clock, 60_000)
  const byName = createNameGroupResolver(genesys.client, mappingStore)
  const groups = createMappedGroupResolver(mappingStore, byName)
  const idempotency = createMemoryIdempotencyStore(clock)
  const service = createProvisioningService({
    requests,
    answers: INTAKE_ANSWERS,
    registry,
    idempotency,
    queue: { enqueue: (r) => queue.add(jobIdFor(r), { requestId: r.id }) },
    clock,
    staticChecks,
    config: { maxGroupDepth: 5, idempotencyTtlHours: 24, ...(opts.hrTimeZone !== undefined ? { hrTimeZone: opts.hrTimeZone } : {}), ...(opts.deleteAfterDays !== undefined ? { deleteAfterDays: opts.deleteAfterDays } : {}) },
    ...(opts.brake ? { brake: { changes: createMemoryChangeWindow(), ...opts.brake } } : {}),
    onHeld: (r) => { held.push(r) },
  })
  queue.process(createProvisioningWorker({
    requests,
    reservations,
    externalIds,
    registry,
    clients: { get: (id) => (id === client.id ? client : undefined) },
    genesysFor: () => ({ genesys: genesys.client, groups, cache }),
    clock,
    logger: pino({ enabled: false }),
    policy: { denied: DENIED },
    emailReservationSeconds: 3600,
    onTerminal: (r) => { terminal.push(r) },
  }), { concurrency: 8 })

  return {
    sim,
    genesys,
    service,
    requests,
    registry,
    idempotency,
    mappings: mappingStore,
    terminal,
    held,
    async submit (hire: NewHireBody): Promise<string> {
      const res = await service.accept(client, hire)
      return (res.response.body as { id: string }).id
    },
    async outcome (id: string, seconds = 20): Promise<ProvisioningRecord> {
      const r = await service.waitForTerminal(id, seconds)
      if (!r) throw new Error(`request ${id} vanished`)
      return r
    },
    dryRun: (hire: NewHireBody) => dryRun({ directory: genesys.client, groups, cache: createReferenceCache(clock, 0), reservations, externalIds, registry, policy: { denied: DENIED }, maxGroupDepth: 5, maxUpstreamCalls: opts.dryRunMaxCalls ?? 50 }, client, hire),
    /** Upstream writes seen by the simulator (anything but GET and the token). */
    writes: () => sim.requests().filter((r) => r.method !== 'GET' && r.path !== '/oauth/token'),
    async close () {
      await queue.close()
      await close()
    },
  }
}
