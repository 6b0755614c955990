import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { sha256Hex } from '../../src/config/clients.js'
import { createSimulator } from '../../src/simulator/index.js'
import { simulatorEnv } from './genesys.js'
import { startReceiver } from './receiver.js'
import { startRedisSentinel } from './redis-topologies.js'
import { startService, type RunningService } from './service.js'

const KEY = 'gpk_failover_0123456789abcdefghijklmnopqrstuvw'
const SECRET = `whsec_${Buffer.from('failover-test-secret-0123456789ab').toString('base64')}`
const TERMINAL = new Set(['completed', 'rejected', 'failed'])

export interface FailoverFigures {
  hires: number
  /** Whether the master was killed in this run. */
  killed: boolean
  /** Hires answered 202 (each posted until it was, with its own Idempotency-Key). */
  accepted: number
  completed: number
  otherTerminal: number
  notTerminal: number
  /** Hires with exactly one live Genesys user; `duplicated` had more than one. */
  oneUser: number
  duplicated: number
  /** Terminal requests whose webhook arrived, and webhooks arriving under more than one id for one request. */
  webhooked: number
  webhookIdsPerRequestOver1: number
  webhookPosts: number
  /** POSTs answered 503 while no master was reachable (each retried). */
  refused503: number
  /**
   * Retries answered 409 idempotency-in-flight: the key's lock was written just
   * before the kill and could not be released; it expires after IDEMPOTENCY_LOCK_SECONDS.
   */
  inFlight409: number
  /** SIGKILL of the master → the first 202 to a POST sent after it. */
  withoutMasterMs: number
  /** SIGKILL → the sentinels name the new master. */
  promotionMs: number
  /** First POST → every accepted request terminal. */
  durationMs: number
}

/**
 * The failover promise under load: `hires` new hires posted across two api
 * replicas with one worker, all on a Sentinel setup (one master, one replica,
 * three sentinels); the master is SIGKILLed once `killAfter` hires were
 * accepted (never without it, for a baseline). Each hire is posted, like an HR system would, with its own
 * Idempotency-Key until it is answered 202.
 */
export async function failoverRun (opts: { hires: number, /** Omitted: no kill (the baseline). */ killAfter?: number, concurrency?: number, deadlineMs?: number, log?: (line: string) => void }): Promise<FailoverFigures> {
  const log = opts.log ?? (() => {})
  const sim = await createSimulator({ rateLimitPerMinute: 100_000, faults: { latencyMs: 15, jitterMs: 5 } })
  const receiver = await startReceiver()
  const redis = await startRedisSentinel()
  const dir = await mkdtemp(join(tmpdir(), 'prov-failover-'))
  const services: RunningService[] = []
  try {
    const clientsFile = join(dir, 'clients.json')
    await writeFile(clientsFile, JSON.stringify({ clients: [{ id: 'hris', name: 'HRIS', keySha256: sha256Hex(KEY), scopes: ['provisioning:write', 'provisioning:read'], divisions: '*', webhook: { url: receiver.url, secrets: [SECRET] } }] }))
    const env = { ...redis.env, CLIENTS_FILE: clientsFile, ...simulatorEnv(sim), WEBHOOK_ALLOWED_NETWORKS: '127.0.0.1/32', JOB_LOCK_MS: '2000', SHUTDOWN_GRACE_MS: '2000', WORKER_CONCURRENCY: '8' }
    const apis = await Promise.all([startService({ ...env, ROLE: 'api' }), startService({ ...env, ROLE: 'api' })])
    services.push(...apis, await startService({ ...env, ROLE: 'worker' }))
    const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' }

    const began = Date.now()
    const deadline = began + (opts.deadlineMs ?? 180_000)
    const ids = new Map<number, string>()
    let refused503 = 0
    let inFlight409 = 0
    let killedAt = 0
    let firstAfterKill = 0
    let promotionMs = 0
    let killing: Promise<void> | undefined
    let next = 0
    const post = async (n: number): Promise<void> => {
      const body = { hrId: `FO-${n}`, email: `failover.${n}@example.com`, givenName: 'Fail', familyName: `Over ${n}`, division: 'BPO Alpha', roles: ['Agent'], groups: ['Ops/Support'] }
      for (let attempt = 0; Date.now() < deadline; attempt++) {
        const sentAt = Date.now()
        const api = apis[(n + attempt) % apis.length] as RunningService
        const res = await fetch(`${api.url}/v1/provisioning-requests`, { method: 'POST', headers: { ...headers, 'idempotency-key': `failover-${n}` }, body: JSON.stringify(body) }).catch(() => undefined)
        if (res?.status === 202) {
          ids.set(n, ((await res.json()) as { id: string }).id)
          // The first answer to a POST sent once the master was dead.
          if (killedAt > 0 && sentAt > killedAt && firstAfterKill === 0) firstAfterKill = Date.now()
          return
        }
        if (res?.status === 503) refused503++
        else if (res?.status === 409) inFlight409++
        else if (res) log(`hire ${n}: ${res.status} ${await res.text()}`)
        await res?.body?.cancel().catch(() => {})
        await sleep(200)
      }
    }
    await Promise.all(Array.from({ length: opts.concurrency ?? 8 }, async () => {
      while (next < opts.hires) {
        const n = next++
        await post(n)
        if (opts.killAfter !== undefined && ids.size >= opts.killAfter && killing === undefined) {
          killing = (async () => {
            const old = await redis.killMaster()
            killedAt = Date.now()
            log(`master on ${old} killed after ${ids.size} accepted`)
            const now = await redis.waitForNewMaster(old)
            promotionMs = Date.now() - killedAt
            log(`new master on ${now} after ${promotionMs} ms`)
          })()
        }
      }
    }))
    await killing

    // Every accepted request reaches a terminal state.
    const states = new Map<string, string>()
    while (Date.now() < deadline) {
      for (const id of ids.values()) {
        if (TERMINAL.has(states.get(id) ?? '')) continue
        const res = await fetch(`${apis[0]?.url ?? ''}/v1/provisioning-requests/${id}`, { headers }).catch(() => undefined)
        if (res?.ok) states.set(id, ((await res.json()) as { status: string }).status)
      }
      if ([...ids.values()].every((id) => TERMINAL.has(states.get(id) ?? ''))) break
      await sleep(250)
    }
    const durationMs = Date.now() - began
    // Webhooks: let the last deliveries land.
    const terminal = [...states.values()].filter((s) => TERMINAL.has(s)).length
    const idsByRequest = new Map<string, Set<string>>()
    const countHooks = () => {
      idsByRequest.clear()
      for (const r of receiver.received) {
        const requestId = String((JSON.parse(r.body) as { data?: { requestId?: string } }).data?.requestId ?? '')
        const seen = idsByRequest.get(requestId) ?? new Set<string>()
        seen.add(String(r.headers['webhook-id']))
        idsByRequest.set(requestId, seen)
      }
    }
    const hookDeadline = Math.min(deadline, Date.now() + 30_000)
    do {
      countHooks()
      if ([...ids.values()].every((id) => idsByRequest.has(id))) break
      await sleep(250)
    } while (Date.now() < hookDeadline)

    const users = new Map<string, number>()
    for (const u of sim.state.users.values()) {
      if (u.state === 'deleted' || !(u.externalId ?? '').startsWith('hris:FO-')) continue
      users.set(u.externalId ?? '', (users.get(u.externalId ?? '') ?? 0) + 1)
    }
    return {
      hires: opts.hires,
      killed: killedAt > 0,
      accepted: ids.size,
      completed: [...states.values()].filter((s) => s === 'completed').length,
      otherTerminal: terminal - [...states.values()].filter((s) => s === 'completed').length,
      notTerminal: ids.size - terminal,
      oneUser: [...users.values()].filter((c) => c === 1).length,
      duplicated: [...users.values()].filter((c) => c > 1).length,
      webhooked: [...ids.values()].filter((id) => idsByRequest.has(id)).length,
      webhookIdsPerRequestOver1: [...idsByRequest.values()].filter((s) => s.size > 1).length,
      webhookPosts: receiver.received.length,
      refused503,
      inFlight409,
      withoutMasterMs: firstAfterKill > 0 ? firstAfterKill - killedAt : -1,
      promotionMs,
      durationMs,
    }
  } finally {
    await Promise.all(services.map((s) => s.stop('SIGKILL')))
    await redis.stop()
    await receiver.close()
    await sim.close()
    await rm(dir, { recursive: true, force: true })
  }
}
