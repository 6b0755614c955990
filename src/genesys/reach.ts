import type { FastifyBaseLogger } from 'fastify'
import type { Division } from './types.js'
import { asError } from '../lib/failure-log.js'

/**
 * Whether an OAuth client can do what its API clients ask of it: for each
 * permission the writes need, Genesys must grant it in every division those
 * API clients may provision into. Checked once at startup; while a gap (or an
 * error) remains it is checked again every interval, so fixing the role grants
 * in Genesys clears it without a restart. Readiness reports the last answer and
 * never calls Genesys itself.
 */

/** What the provisioning writes need, per division. */
export const REQUIRED_PERMISSIONS = ['directory:user:add', 'directory:user:edit', 'authorization:grant:add', 'directory:group:edit', 'routing:queue:edit'] as const

export interface ReachGap {
  apiClient: string
  permission: string
  division: string
}

export type ReachState =
  | { status: 'unknown' }
  | { status: 'ok' }
  | { status: 'gaps', gaps: ReachGap[] }
  | { status: 'error', message: string }

export interface ReachDirectory {
  divisions: {
    list (): Promise<Division[]>
    permitted (permission: string): Promise<{ divisions: Division[], all: boolean }>
  }
}

export interface ReachCheck {
  check (): Promise<void>
  state (): ReachState
  start (): void
  stop (): void
}

export interface ReachCheckOptions {
  directory: ReachDirectory
  /** Each API client of this OAuth client and the divisions it may provision into. */
  needs: ReadonlyArray<{ apiClient: string, divisions: readonly string[] | '*' }>
  logger: Pick<FastifyBaseLogger, 'info' | 'warn'>
  /** The OAuth client's name (never its Genesys id) for log lines. */
  oauthClient: string
  retryMs: number
}

/** The gaps between what `needs` asks and what Genesys permits (pure). */
export function reachGaps (needs: ReachCheckOptions['needs'], permitted: ReadonlyMap<string, { names: ReadonlySet<string>, all: boolean }>, orgDivisions: readonly string[]): ReachGap[] {
  const gaps: ReachGap[] = []
  for (const need of needs) {
    const wanted = need.divisions === '*' ? orgDivisions : need.divisions
    for (const permission of REQUIRED_PERMISSIONS) {
      const p = permitted.get(permission)
      if (p?.all === true) continue
      for (const division of wanted) {
        if (!p?.names.has(division.toLowerCase())) gaps.push({ apiClient: need.apiClient, permission, division })
      }
    }
  }
  return gaps
}

export function describeGap (g: ReachGap): string {
  return `API client "${g.apiClient}": the Genesys OAuth client lacks ${g.permission} in division "${g.division}"`
}

export function createReachCheck (opts: ReachCheckOptions): ReachCheck {
  let state: ReachState = { status: 'unknown' }
  let timer: NodeJS.Timeout | undefined
  let running: Promise<void> | undefined
  let stopped = false

  async function once (): Promise<void> {
    if (opts.needs.length === 0) {
      state = { status: 'ok' }
      return
    }
    const before = state
    try {
      const permitted = new Map<string, { names: Set<string>, all: boolean }>()
      await Promise.all(REQUIRED_PERMISSIONS.map(async (permission) => {
        const p = await opts.directory.divisions.permitted(permission)
        permitted.set(permission, { names: new Set(p.divisions.map((d) => d.name.toLowerCase())), all: p.all })
      }))
      const everyDivision = opts.needs.some((n) => n.divisions === '*') ? (await opts.directory.divisions.list()).map((d) => d.name) : []
      const gaps = reachGaps(opts.needs, permitted, everyDivision)
      state = gaps.length === 0 ? { status: 'ok' } : { status: 'gaps', gaps }
      if (gaps.length > 0 && JSON.stringify(before) !== JSON.stringify(state)) {
        opts.logger.warn({ oauthClient: opts.oauthClient, gaps }, `Genesys OAuth client ${opts.oauthClient} lacks permissions its API clients need: ${gaps.slice(0, 5).map(describeGap).join('; ')}${gaps.length > 5 ? ` (and ${gaps.length - 5} more)` : ''}; hires there fail with genesys.permissionDenied`)
      } else if (gaps.length === 0 && before.status === 'gaps') {
        opts.logger.info({ oauthClient: opts.oauthClient }, `Genesys OAuth client ${opts.oauthClient} now holds every permission its API clients need`)
      }
    } catch (err) {
      state = { status: 'error', message: `the divisions this OAuth client may write in could not be read (${(err as Error).message.slice(0, 200)})` }
      if (before.status !== 'error') opts.logger.warn({ oauthClient: opts.oauthClient, err: asError(err) }, `the reach of Genesys OAuth client ${opts.oauthClient} could not be checked; checked again every ${Math.round(opts.retryMs / 1000)} s`)
    }
  }

  function schedule (): void {
    if (stopped || state.status === 'ok') return
    timer = setTimeout(() => { void check().then(schedule) }, opts.retryMs)
    timer.unref()
  }

  function check (): Promise<void> {
    running ??= once().finally(() => { running = undefined })
    return running
  }

  return {
    check,
    state: () => state,
    start () {
      if (stopped) return
      void check().then(schedule)
    },
    stop () {
      stopped = true
      clearTimeout(timer)
    },
  }
}
